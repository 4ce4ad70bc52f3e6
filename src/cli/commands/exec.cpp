// A terminal in a running workload (docs/cli.md "exec"):
//   quader exec notebook NAME [-p PROJECT] [-- COMMAND...]
//   quader exec task RUN/TASK [-- COMMAND...]
//   quader exec service|inference-service NAME [--replica N] [-p PROJECT] [-- COMMAND...]
// Without COMMAND, a shell. On a terminal, keys go through as typed until
// the command ends; piped input is sent and then ended with ^D. The exit
// status is the command's.
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/terminal_client.h"
#include "core/documents.h"

namespace quader::cli {
namespace {

struct ExecOptions {
  std::string kind;
  std::string name;
  std::string project = "public";
  int replica = -1;
  std::vector<std::string> command;
};

// The terminal's path below /api/v1, query included.
Result<std::string> TerminalPath(const ExecOptions& o) {
  std::string query = "?project=" + EscapeComponent(o.project);
  if (!o.command.empty()) query += "&command=" + EscapeComponent(Json(o.command).dump());
  if (o.kind == "notebook") return "/notebooks/" + EscapeComponent(o.name) + "/terminal" + query;
  if (o.kind == "service" || o.kind == "inference-service") {
    if (o.replica >= 0) query += "&replica=" + std::to_string(o.replica);
    return "/" + o.kind + "s/" + EscapeComponent(o.name) + "/terminal" + query;
  }
  if (o.kind == "task") {
    size_t slash = o.name.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == o.name.size()) {
      return errors::Invalid("name", "a task is RUN/TASK (e.g. 12/train), got \"" + o.name + "\"");
    }
    return "/runs/" + EscapeComponent(o.name.substr(0, slash)) + "/tasks/" +
           EscapeComponent(o.name.substr(slash + 1)) + "/terminal" + query;
  }
  return errors::Invalid("kind", "\"" + o.kind + "\" has no terminal: notebook, task, service or inference-service");
}

Outcome Exec(const ExecOptions& o, Io& io) {
  auto path = TerminalPath(o);
  if (!path.ok()) return Outcome::Usage(path.status().message());
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto session = TerminalSession::Open(client->server() + "/api/v1" + *path, client->token());
  if (!session.ok()) return Outcome::FromStatus(session.status());
  io.out.flush();
  return Outcome::ExitWith((*session)->Interact());
}

}  // namespace

void AddExecCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<ExecOptions>();
  CLI::App* sub = app.add_subcommand(
      "exec", "Open a terminal (a shell, or COMMAND after --) in a running notebook, task, service or inference "
              "service replica; exits with the command's status");
  sub->add_option("kind", opts->kind, "notebook, task, service or inference-service")
      ->required()
      ->check(CLI::IsMember({"notebook", "task", "service", "inference-service"}));
  sub->add_option("name", opts->name, "Its name (a task: RUN/TASK, e.g. 12/train)")->required();
  sub->add_option("-p,--project", opts->project, "Project of the notebook or service (default: public)");
  sub->add_option("--replica", opts->replica, "Which replica of a service (default: the lowest running)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("command", opts->command, "The command and its arguments, after --")->expected(-1);
  commands.push_back({sub, [opts, &io] { return Exec(*opts, io); }});
}

}  // namespace quader::cli
