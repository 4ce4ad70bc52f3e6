#include "render/render.h"

#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "notebook/notebook_controller.h"
#include "notebook/notebook_spec.h"
#include "runtime/kubernetes/mapping.h"
#include "serving/cluster_objects.h"

namespace quader::render {
namespace k8s = runtime::kubernetes;

Result<std::vector<Json>> RenderService(const store::ServiceRecord& s, const auth::ProjectSettings& project,
                                        const RenderOptions& options) {
  QUADER_ASSIGN_OR_RETURN(serving::Plan p, serving::PlanOf(s, options.service_domain, options.kubeflow_area));
  return serving::ServiceObjects(s, p, project,
                                 {options.ns, options.instance, options.data_dir, options.istio, options.istio_gateway});
}

Result<std::vector<Json>> RenderNotebook(const store::NotebookRecord& n, const auth::ProjectSettings& project,
                                         const RenderOptions& options) {
  QUADER_ASSIGN_OR_RETURN(notebook::NotebookSpec spec, notebook::ParseNotebookSpec(Json::parse(n.spec, nullptr, false)));
  runtime::WorkloadSpec w =
      notebook::NotebookWorkload(n, spec, project, {options.data_dir, options.instance, false, "code-server"});
  // The names the kubernetes runtime gives the server of this generation.
  const std::string name = w.name;
  // The server's token stays out of printed manifests.
  if (w.env.count("JUPYTER_TOKEN")) w.env["JUPYTER_TOKEN"] = "<set by Quader>";
  std::vector<Json> out;
  out.push_back(k8s::DeploymentManifest(w, options.ns));
  Json svc = k8s::ServiceManifest(w, options.ns, name);
  if (!svc.is_null()) out.push_back(svc);
  return out;
}

namespace {

// A plain scalar YAML would read as something other than this string
// ("true", "8080", "null", "1e3", ""): such strings are quoted.
bool Ambiguous(const std::string& s) {
  static const std::regex kSpecial(
      R"(^$|^[-+]?(\.?[0-9].*|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)$|^(true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|null|Null|NULL|~)$|^[\s'"&*!|>%@`#,\[\]{}?:-])");
  return std::regex_search(s, kSpecial);
}

void Emit(YAML::Emitter& e, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      e << YAML::BeginMap;
      for (const auto& [k, v] : j.items()) {
        e << YAML::Key << k << YAML::Value;
        Emit(e, v);
      }
      e << YAML::EndMap;
      break;
    case Json::value_t::array:
      e << YAML::BeginSeq;
      for (const auto& v : j) Emit(e, v);
      e << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      if (Ambiguous(s)) {
        e << YAML::DoubleQuoted << s;
      } else {
        e << s;
      }
      break;
    }
    case Json::value_t::boolean:
      e << j.get<bool>();
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      e << j.get<int64_t>();
      break;
    case Json::value_t::number_float:
      e << j.get<double>();
      break;
    default:
      e << YAML::Null;
  }
}

}  // namespace

std::string ToYaml(const std::vector<Json>& manifests) {
  std::ostringstream out;
  for (size_t i = 0; i < manifests.size(); ++i) {
    if (i) out << "---\n";
    YAML::Emitter e;
    Emit(e, manifests[i]);
    out << e.c_str() << "\n";
  }
  return out.str();
}

}  // namespace quader::render
