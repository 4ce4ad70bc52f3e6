// `quader deploy INFERENCE-SERVICE --stage debug|test|prod` and
// `quader deploy INFERENCE-SERVICE --clear`: the deploy stages of SPEC §8;
// `--stage debug --shell`: cube-studio's debug stage, the replica idle for a
// terminal (`quader exec inference-service NAME`).
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

struct DeployOptions {
  std::string service;
  std::string project;
  std::string stage;
  bool clear = false;
  bool shell = false;
};

Outcome Deploy(const DeployOptions& opts, Io& io) {
  if (opts.clear == !opts.stage.empty()) return Outcome::Usage("give exactly one of --stage STAGE and --clear");
  if (opts.shell && opts.stage != "debug") return Outcome::Usage("--shell goes with --stage debug");
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  std::string path = "/inference-services/" + EscapeComponent(opts.service) +
                     (opts.clear ? std::string("/clear") : "/deploy/" + EscapeComponent(opts.stage));
  if (!opts.project.empty()) path += "?project=" + EscapeComponent(opts.project);
  Json body = Json::object();
  if (opts.shell) body["idle"] = true;
  auto svc = client->Post(path, body);
  if (!svc.ok()) return Outcome::FromStatus(svc.status());
  io.out << "inference service " << svc->value("name", opts.service) << ": model status "
         << svc->value("model_status", "") << "\n";
  std::string stage = svc->value("model_status", "");
  const Json& hosts = svc->value("hosts", Json::array());
  // hosts: production, test., debug.
  size_t at = stage == "online" ? 0 : stage == "test" ? 1 : stage == "debug" ? 2 : hosts.size();
  if (svc->value("debug_idle", false)) {
    io.out << "its replica waits idle (its command is not run): open a shell in it with\n  quader exec "
           << "inference-service " << svc->value("name", opts.service)
           << (opts.project.empty() ? "" : " -p " + opts.project) << "\nand start the server there";
    if (at < hosts.size()) io.out << "; it answers on http://" << hosts[at].get<std::string>() << "/ once ready";
    io.out << "\n";
  } else if (at < hosts.size()) {
    io.out << "answers on http://" << hosts[at].get<std::string>() << "/ once a replica is ready\n";
  }
  return Outcome::Ok();
}

}  // namespace

void AddDeployCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<DeployOptions>();
  CLI::App* sub = app.add_subcommand("deploy", "Deploy an inference service to a stage, or take it offline");
  sub->add_option("service", opts->service, "Inference service name (or id)")->required();
  sub->add_option("--stage,-s", opts->stage,
                  "debug (one replica on debug.HOST), test (test.HOST) or prod (the production host, autoscaled)")
      ->check(CLI::IsMember({"debug", "test", "prod"}));
  sub->add_flag("--clear", opts->clear, "Take it offline: replicas stop, hosts stop answering");
  sub->add_flag("--shell", opts->shell,
                "With --stage debug: the replica waits idle (its command is not run) for a shell "
                "(quader exec inference-service NAME)");
  sub->add_option("--project,-p", opts->project, "Project of the service (default: public)");
  sub->footer("A service that is online must be cleared before a debug or test deploy.");
  commands.push_back({sub, [opts, &io] { return Deploy(*opts, io); }});
}

}  // namespace quader::cli
