// `quader import cube-studio FILE... [--project P]`: sends each cube-studio
// export file to POST /api/v1/projects/P/import/cube-studio and prints one
// line per object: created, updated, unchanged, or refused with the reason
// (docs/cube-studio.md).

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

struct ImportOptions {
  std::vector<std::string> files;
  std::string project = "public";
};

// "pipeline/ml created", "service/neo4j refused: volume_mount[1]: ...",
// "jobtemplate/自定义镜像 unchanged (built in ...)".
std::string ResultLine(const Json& r) {
  std::string kind = r.value("kind", "");
  for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (kind.empty()) kind = "object";
  std::string name = r.value("name", "?");
  std::string quader = r.value("quader_name", "");
  std::string line = kind + "/" + name;
  if (!quader.empty() && quader != name) line += " (as " + quader + ")";
  std::string result = r.value("result", "?");
  std::string reason = r.value("reason", "");
  if (result == "refused") return line + " refused: " + reason;
  line += " " + result;
  if (!reason.empty()) line += " (" + reason + ")";
  return line;
}

// The text of `file`, or of stdin for "-"; kInvalidArgument "cannot read: REASON".
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

// Prints the file's results; counts the refused objects into `*refused`.
Status ImportFile(const Client& client, const ImportOptions& opts, const std::string& file, Io& io, int* refused) {
  QUADER_ASSIGN_OR_RETURN(std::string text, ReadInput(file, io));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return errors::Invalid("", "the file is empty");
  std::string path = "/projects/" + EscapeComponent(opts.project) + "/import/cube-studio";
  QUADER_ASSIGN_OR_RETURN(Json reply, client.PostText(path, text, "application/json"));
  auto results = reply.find("results");
  if (results == reply.end() || !results->is_array()) return errors::Internal("the import reply has no results list");
  for (const Json& r : *results) {
    io.out << ResultLine(r) << "\n";
    if (r.value("result", "") == "refused") ++*refused;
  }
  return Status::Ok();
}

// Files are imported in order (templates before the pipelines that use
// them); an unreadable file stops the rest. Exit 1 when any object was refused.
Outcome Import(const ImportOptions& opts, Io& io) {
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  int refused = 0;
  for (const std::string& file : opts.files) {
    Status st = ImportFile(client.value(), opts, file, io, &refused);
    if (!st.ok()) {
      std::string label = file == "-" ? "<stdin>" : file;
      return Outcome::FromStatus(Status(st.code(), label + ": " + st.message()));
    }
  }
  if (refused > 0) {
    return Outcome::FromStatus(errors::Invalid("import", std::to_string(refused) + " object" +
                                                             (refused == 1 ? " was" : "s were") +
                                                             " refused (reasons above); the rest were imported"));
  }
  return Outcome::Ok();
}

}  // namespace

void AddImportCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<ImportOptions>();
  CLI::App* sub = app.add_subcommand("import", "Import objects exported by another platform");
  sub->require_subcommand(1);
  CLI::App* cs = sub->add_subcommand(
      "cube-studio",
      "Import cube-studio export files (job templates, pipelines, services, inference services, automl)");
  cs->add_option("files", opts->files, "cube-studio JSON files, or - for stdin, imported in order")->required();
  cs->add_option("-p,--project", opts->project, "The project the objects go to (default public)");
  commands.push_back({cs, [opts, &io] { return Import(*opts, io); }});
}

}  // namespace quader::cli
