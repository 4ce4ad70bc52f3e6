// `quader render KIND NAME`: the Kubernetes manifests Quader would apply for
// a service, an inference service or a notebook (docs/kubernetes.md), as
// YAML (or `-o json`). Feed them to `kubectl apply -f -`.
#include <map>
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

struct RenderOptions {
  std::string kind;
  std::string name;
  std::string project;
  std::string ns;
  bool istio = false;
  std::string output = "yaml";
};

const std::map<std::string, std::string>& Collections() {
  static const std::map<std::string, std::string> c = {{"service", "services"},
                                                        {"services", "services"},
                                                        {"inference-service", "inference-services"},
                                                        {"inference-services", "inference-services"},
                                                        {"inferenceservice", "inference-services"},
                                                        {"notebook", "notebooks"},
                                                        {"notebooks", "notebooks"}};
  return c;
}

Outcome Render(const RenderOptions& opts, Io& io) {
  auto collection = Collections().find(opts.kind);
  if (collection == Collections().end()) {
    return Outcome::FromStatus(errors::Invalid("kind", "\"" + opts.kind +
                                                           "\" cannot be rendered: use service, inference-service or notebook"));
  }
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  std::string query;
  auto add = [&](const std::string& k, const std::string& v) { query += (query.empty() ? "?" : "&") + k + "=" + EscapeComponent(v); };
  if (!opts.project.empty()) add("project", opts.project);
  if (!opts.ns.empty()) add("namespace", opts.ns);
  if (opts.istio) add("istio", "1");
  auto reply = client->Get("/" + collection->second + "/" + EscapeComponent(opts.name) + "/manifests" + query);
  if (!reply.ok()) return Outcome::FromStatus(reply.status());
  if (opts.output == "json") {
    io.out << reply->value("manifests", Json::array()).dump(2) << "\n";
  } else {
    io.out << reply->value("yaml", "");
  }
  return Outcome::Ok();
}

}  // namespace

void AddRenderCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<RenderOptions>();
  CLI::App* sub = app.add_subcommand("render", "Print the Kubernetes manifests of a service, inference service or notebook");
  sub->add_option("kind", opts->kind, "service, inference-service or notebook")->required();
  sub->add_option("name", opts->name, "Its name (or id)")->required();
  sub->add_option("--project,-p", opts->project, "Its project (default: public)");
  sub->add_option("--namespace,-n", opts->ns, "Namespace of the objects (default: the server's)");
  sub->add_flag("--istio", opts->istio, "Add an Istio VirtualService (hosts, canary split, mirror)");
  sub->add_option("--output,-o", opts->output, "yaml or json")->check(CLI::IsMember({"yaml", "json"}));
  commands.push_back({sub, [opts, &io] { return Render(*opts, io); }});
}

}  // namespace quader::cli
