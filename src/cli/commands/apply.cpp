// `quader apply -f FILE|-`: sends each file's text, unchanged, to
// POST /api/v1/apply and prints one line per document the server applied.

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/commands/commands.h"

namespace quader::cli {
namespace {

struct ApplyOptions {
  std::vector<std::string> files;
};

}  // namespace

Result<std::string> ReadInput(const std::string& file, Io& io) {
  std::stringstream text;
  if (file == "-") {
    text << io.in.rdbuf();
    return text.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return errors::Invalid("", std::string("cannot read: ") + std::strerror(errno));
  text << in.rdbuf();
  return text.str();
}

namespace {

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

Status ApplyFile(const Client& client, const std::string& file, Io& io) {
  QUADER_ASSIGN_OR_RETURN(std::string text, ReadInput(file, io));
  bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) return errors::Invalid("", "no documents to apply");
  QUADER_ASSIGN_OR_RETURN(Json reply, client.PostText("/apply", text, ContentTypeOf(text)));
  auto results = reply.find("results");
  if (results == reply.end() || !results->is_array()) {
    return errors::Internal("the apply reply has no results list");
  }
  for (const Json& result : *results) io.out << ResultLine(result) << "\n";
  return Status::Ok();
}

// Files are applied one by one, in order; the first failure stops the rest.
Outcome Apply(const ApplyOptions& opts, Io& io) {
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  for (const std::string& file : opts.files) {
    Status st = ApplyFile(client.value(), file, io);
    if (!st.ok()) {
      std::string label = file == "-" ? "<stdin>" : file;
      return Outcome::FromStatus(Status(st.code(), label + ": " + st.message()));
    }
  }
  return Outcome::Ok();
}

}  // namespace

void AddApplyCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<ApplyOptions>();
  CLI::App* sub = app.add_subcommand(
      "apply", "Create or update objects from YAML/JSON documents (several per file, ---)");
  sub->add_option("-f,--filename", opts->files, "File to apply, or - for stdin (repeatable)")
      ->required()
      ->allow_extra_args(false);
  commands.push_back({sub, [opts, &io] { return Apply(*opts, io); }});
}

}  // namespace quader::cli
