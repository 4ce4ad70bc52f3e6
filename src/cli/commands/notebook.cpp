// `quader notebook reset|stop|start|url NOTEBOOK`: a notebook's actions
// (SPEC §3). `quader get notebooks` lists them; `quader apply` creates them.
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

struct NotebookOptions {
  std::string action;  // reset, stop, start, url
  std::string name;
  std::string project;
};

Outcome Notebook(const NotebookOptions& opts, Io& io) {
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  std::string path = "/notebooks/" + EscapeComponent(opts.name);
  std::string query = opts.project.empty() ? "" : "?project=" + EscapeComponent(opts.project);
  Result<Json> nb = opts.action == "url" ? client->Get(path + query) : client->Post(path + "/" + opts.action + query,
                                                                                      Json::object());
  if (!nb.ok()) return Outcome::FromStatus(nb.status());
  std::string url = nb->value("url", Json()).is_string() ? nb->value("url", "") : nb->value("path", "");
  if (opts.action == "url") {
    io.out << url << "\n";
    return Outcome::Ok();
  }
  io.out << "notebook " << nb->value("name", opts.name) << ": " << nb->value("state", "") << " ("
         << nb->value("reason", "") << ")\n";
  if (opts.action != "stop") io.out << "opens at " << url << " once running (signed in as its owner)\n";
  return Outcome::Ok();
}

}  // namespace

void AddNotebookCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<NotebookOptions>();
  CLI::App* sub = app.add_subcommand("notebook", "Reset, stop or start a notebook, or print its URL");
  sub->add_option("action", opts->action, "reset (a fresh server; files stay), stop, start or url")
      ->required()
      ->check(CLI::IsMember({"reset", "stop", "start", "url"}));
  sub->add_option("notebook", opts->name, "Notebook name (or id)")->required();
  sub->add_option("--project,-p", opts->project, "Project of the notebook (default: public)");
  commands.push_back({sub, [opts, &io] { return Notebook(*opts, io); }});
}

}  // namespace quader::cli
