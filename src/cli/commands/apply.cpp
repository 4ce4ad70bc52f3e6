// `quader apply -f FILE|DIR|- [-f ...] [-R]`: applies documents through
// POST /api/v1/apply, all in one request (one transaction: all or nothing),
// and prints one line per document the server applied.
//
// One file is sent as its text, unchanged, documents in the file's order.
// Several files (a directory, several -f) are read and checked here, then
// sent together as one JSON list ordered by kind (document_files.h), so a
// pipeline applies after the templates of another file, and one bad file
// applies nothing. Errors name the file and the document.

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/document_files.h"

namespace quader::cli {
namespace {

struct ApplyOptions {
  std::vector<std::string> files;
  bool recursive = false;
};

// JSON when the text starts like a JSON value; YAML otherwise (YAML is a
// superset of JSON, so the server accepts either way).
std::string ContentTypeOf(const std::string& text) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{' || c == '[' ? "application/json" : "application/yaml";
  }
  return "application/yaml";
}

// "project/team-a created", "pipeline/train updated (project team-a)".
std::string ResultLine(const Json& result) {
  std::string kind = result.value("kind", "object");
  for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string line = kind + "/" + result.value("name", "?") + " " + result.value("action", "?");
  auto project = result.find("project");
  if (kind != "project" && project != result.end() && project->is_string()) {
    line += " (project " + project->get<std::string>() + ")";
  }
  return line;
}

Outcome Apply(const ApplyOptions& opts, Io& io) {
  auto loaded = LoadDocuments(opts.files, opts.recursive, io.in);
  if (!loaded.ok()) return Outcome::FromStatus(loaded.status());
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  const std::vector<SourceText>* sources = &loaded->sources;
  std::vector<SourceDocument>* docs = &loaded->docs;

  // One source: its text as it is. Several: one JSON list in apply order.
  bool single = sources->size() == 1;
  std::string body, content_type;
  if (single) {
    body = sources->front().text;
    content_type = ContentTypeOf(body);
  } else {
    SortForApply(*docs);
    Json list = Json::array();
    for (const SourceDocument& d : *docs) list.push_back(d.doc);
    body = list.dump();
    content_type = "application/json";
  }
  auto reply = client->PostText("/apply", body, content_type);
  if (!reply.ok()) {
    const Status& e = reply.status();
    std::string message = single ? sources->front().source + ": " + e.message() : NameSource(e.message(), *docs);
    return Outcome::FromStatus(Status(e.code(), message));
  }
  auto results = reply->find("results");
  if (results == reply->end() || !results->is_array()) {
    return Outcome::FromStatus(errors::Internal("the apply reply has no results list"));
  }
  for (const Json& result : *results) io.out << ResultLine(result) << "\n";
  return Outcome::Ok();
}

}  // namespace

void AddApplyCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<ApplyOptions>();
  CLI::App* sub = app.add_subcommand(
      "apply", "Create or update objects from YAML/JSON documents (several per file, ---)");
  sub->add_option("-f,--filename", opts->files,
                  "File or directory to apply (its .yaml, .yml and .json files), or - for stdin (repeatable)")
      ->required()
      ->allow_extra_args(false);
  sub->add_flag("-R,--recursive", opts->recursive, "With a directory: also the files of its subdirectories");
  commands.push_back({sub, [opts, &io] { return Apply(*opts, io); }});
}

}  // namespace quader::cli
