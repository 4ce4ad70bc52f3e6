#include "serving/service_spec.h"

#include <algorithm>
#include <charconv>

#include "core/ignored_fields.h"
#include "core/names.h"
#include "workload/dataset_ref.h"

// The container fields go through pipeline::ParseTemplateSpec on a
// sub-document (as experiment_spec.cpp does for trials), so a service's image,
// env, mounts and resources follow exactly the JobTemplate rules; this file
// adds only what services have on top.

namespace quader::serving {
namespace {

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// Fields both kinds have, as {name, cube-studio alias}.
const std::vector<std::pair<std::string, std::string>>& CommonFields() {
  static const std::vector<std::pair<std::string, std::string>> kFields = {
      {"kind", ""},         {"project", ""},     {"name", ""},        {"description", "label"},
      {"image", "images"},  {"command", ""},     {"working_dir", ""}, {"env", ""},
      {"volume_mount", ""}, {"resources", ""},   {"resource_cpu", ""}, {"resource_memory", ""},
      {"resource_gpu", ""}, {"node_selector", ""}, {"ports", ""},     {"host", ""},
      {"health", ""},       {"expand", ""},        {"cube_studio", ""},
  };
  return kFields;
}

// cube-studio's names for the fields (service_name only for a Service: an
// inference service's name is derived), and its fields that mean nothing
// here, moved into `cube_studio`. A `host` that is a path ("/v1/models/m")
// or a port and path (":8081/models") is cube-studio's home link, not a
// host: kept there too.
Result<Json> NormaliseServiceAliases(const Json& original, bool inference) {
  if (!original.is_object()) return original;
  Json doc = original;
  std::vector<std::pair<const char*, const char*>> renames = {
      {"image", "image_name"}, {"description", "service_describe"}, {"working_dir", "workdir"},
      {"project", "project_name"}};
  if (!inference) renames.push_back({"name", "service_name"});
  for (const auto& [key, alias] : renames) {
    QUADER_ASSIGN_OR_RETURN(const Json* v, FieldOrAlias(original, key, alias));
    doc.erase(alias);
    if (v) doc[key] = *v;
  }
  std::string host_text = FieldOrNull(doc, "host") && doc["host"].is_string() ? TrimSpace(doc["host"].get<std::string>()) : "";
  if (!host_text.empty() && (host_text[0] == '/' || host_text[0] == ':')) {
    const Json* host = FieldOrNull(doc, "host");
    Json path = *host;
    doc.erase("host");
    QUADER_RETURN_IF_ERROR(KeepIgnoredFields(&doc, {}));
    doc["cube_studio"]["host"] = path;
  }
  QUADER_RETURN_IF_ERROR(KeepIgnoredFields(&doc, {"namespace", "service_name", "inference_config", "deploy_time",
                                                  "model_type", "model_input", "model_output", "transformer",
                                                  "args", "created_by", "changed_by"}));
  return doc;
}

// `what` names the kind with its article ("a Service").
Status CheckKnownFields(const Json& doc, const std::string& what, const std::vector<std::string>& own) {
  if (!doc.is_object()) return errors::Invalid("body", "must be an object");
  for (const auto& [key, value] : doc.items()) {
    bool known = std::find(own.begin(), own.end(), key) != own.end();
    for (const auto& [k, alias] : CommonFields()) known = known || key == k || (!alias.empty() && key == alias);
    if (!known) return errors::Invalid(key, "unknown field of " + what);
  }
  return Status::Ok();
}

Result<int64_t> Int(const std::string& field, const Json* v, int64_t def, int64_t lo, int64_t hi) {
  if (!v) return def;
  int64_t n = 0;
  if (v->is_number_integer()) {
    n = v->get<int64_t>();
  } else if (v->is_string()) {  // cube-studio forms send numbers as text
    std::string s = TrimSpace(v->get<std::string>());
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return errors::Invalid(field, "must be a whole number");
  } else {
    return errors::Invalid(field, "must be a whole number");
  }
  if (n < lo || n > hi) return errors::Invalid(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return n;
}

Result<std::string> Str(const std::string& field, const Json* v) {
  if (!v) return std::string();
  if (!v->is_string()) return errors::Invalid(field, "must be a string");
  return TrimSpace(v->get<std::string>());
}

// A service name ends up in Kubernetes Service names (DNS-1035: starts with
// a letter) and gets "-external" appended.
Status CheckServiceName(const std::string& field, const std::string& name) {
  QUADER_RETURN_IF_ERROR(ValidateObjectName(field, name));
  if (name[0] < 'a' || name[0] > 'z') return errors::Invalid(field, Quoted(name) + " must start with a letter");
  if (name.size() > kMaxServiceNameLength) {
    return errors::Invalid(field, Quoted(name) + " is longer than " + std::to_string(kMaxServiceNameLength) +
                                      " characters ($name-external must stay within 63)");
  }
  return Status::Ok();
}

// A list of numbers, one number, or "80,8080"; null or missing: `defaults`.
Result<std::vector<int>> ParsePorts(const Json* v, const std::vector<int>& defaults) {
  if (!v) return defaults;
  std::vector<std::string> items;
  if (v->is_number_integer()) {
    items.push_back(std::to_string(v->get<int64_t>()));
  } else if (v->is_string()) {
    std::string cur;
    for (char c : v->get<std::string>() + ",") {
      if (c == ',' || c == ';') {
        if (!TrimSpace(cur).empty()) items.push_back(TrimSpace(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
  } else if (v->is_array()) {
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& p = (*v)[i];
      if (!p.is_number_integer() && !p.is_string()) {
        return errors::Invalid("ports[" + std::to_string(i) + "]", "must be a port number");
      }
      items.push_back(p.is_string() ? TrimSpace(p.get<std::string>()) : std::to_string(p.get<int64_t>()));
    }
  } else {
    return errors::Invalid("ports", "must be a list of port numbers, or \"80,8080\"");
  }
  if (items.empty()) return errors::Invalid("ports", "needs at least one port");
  if (items.size() > kMaxPorts) return errors::Invalid("ports", "at most " + std::to_string(kMaxPorts) + " ports");
  std::vector<int> out;
  for (const auto& item : items) {
    int port = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), port);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size()) {
      return errors::Invalid("ports", Quoted(item) + " is not a port number");
    }
    if (port < 1 || port > 65535) return errors::Invalid("ports", "port " + item + " is outside 1-65535");
    if (std::find(out.begin(), out.end(), port) != out.end()) {
      return errors::Invalid("ports", "port " + std::to_string(port) + " is listed twice");
    }
    out.push_back(port);
  }
  return out;
}

// "k=v,k2=v2", "k=v;k2=v2" or an object of labels.
Result<std::map<std::string, std::string>> ParseSelector(const Json* v) {
  if (!v) return std::map<std::string, std::string>{};
  if (v->is_string()) return auth::ParseNodeSelector("node_selector", v->get<std::string>());
  if (!v->is_object()) return errors::Invalid("node_selector", "must be \"key=value,...\" or an object of labels");
  std::string text;
  for (const auto& [key, value] : v->items()) {
    if (value.is_structured()) return errors::Invalid("node_selector." + key, "must be a string");
    text += (text.empty() ? "" : ",") + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return auth::ParseNodeSelector("node_selector", text);
}

// An object, or JSON text (cube-studio stores `expand` as text).
Result<Json> ParseExpandObject(const Json* v) {
  if (!v) return Json::object();
  Json out = *v;
  if (v->is_string()) {
    std::string text = TrimSpace(v->get<std::string>());
    out = Json::parse(text.empty() ? "{}" : text, nullptr, /*allow_exceptions=*/false);
  }
  if (!out.is_object()) return errors::Invalid("expand", "must be an object (or JSON text of one)");
  return out;
}

// The container fields through pipeline::ParseTemplateSpec. `name` and
// `project` are the service's (already checked by the caller's rules).
Result<ContainerSpec> ParseContainer(const Json& doc, const std::string& project, const std::string& name,
                                     const std::vector<int>& default_ports) {
  Json sub = {{"name", name}, {"project", project}};
  for (const char* key : {"working_dir", "env", "volume_mount", "resources"}) {
    if (const Json* v = FieldOrNull(doc, key)) sub[key] = *v;
  }
  QUADER_ASSIGN_OR_RETURN(const Json* image, FieldOrAlias(doc, "image", "images"));
  if (image) sub["image"] = *image;
  if (const Json* command = FieldOrNull(doc, "command")) {
    sub["command"] = *command;
    if (command->is_string()) {
      std::string text = TrimSpace(command->get<std::string>());
      sub["command"] = text.empty() ? Json::array() : Json::array({"sh", "-c", text});
    }
  }
  QUADER_RETURN_IF_ERROR(pipeline::MergeResourceAliases(doc, &sub));
  QUADER_ASSIGN_OR_RETURN(pipeline::TemplateSpec t, pipeline::ParseTemplateSpec(sub));
  ContainerSpec c;
  c.image = std::move(t.image);
  c.command = std::move(t.command);
  c.working_dir = std::move(t.working_dir);
  c.env = std::move(t.env);
  c.volume_mount = std::move(t.volume_mount);
  c.mounts = std::move(t.mounts);
  c.resources = t.resources;
  QUADER_ASSIGN_OR_RETURN(c.node_selector, ParseSelector(FieldOrNull(doc, "node_selector")));
  QUADER_ASSIGN_OR_RETURN(c.ports, ParsePorts(FieldOrNull(doc, "ports"), default_ports));
  return c;
}

// The container fields in their stored form (the JobTemplate's normalisation).
void ContainerToJson(const ContainerSpec& c, Json* out) {
  pipeline::TemplateSpec t;
  t.image = c.image;
  t.command = c.command;
  t.working_dir = c.working_dir;
  t.env = c.env;
  t.volume_mount = c.volume_mount;
  t.resources = c.resources;
  Json j = t.ToJson();
  for (const char* key : {"image", "command", "working_dir", "env", "volume_mount", "resources"}) (*out)[key] = j[key];
  (*out)["node_selector"] = c.node_selector;
  (*out)["ports"] = c.ports;
}

// `health` / `metrics`: missing gives `fallback`; "" gives none.
Result<std::string> GrammarText(const std::string& field, const Json* v, const std::string& fallback) {
  if (!v) return fallback;
  if (!v->is_string()) return errors::Invalid(field, "must be a string");
  return TrimSpace(v->get<std::string>());
}

Result<std::optional<gateway::HealthSpec>> ParseHealthField(const Json* v, const std::string& fallback) {
  QUADER_ASSIGN_OR_RETURN(std::string text, GrammarText("health", v, fallback));
  if (text.empty()) return std::optional<gateway::HealthSpec>();
  QUADER_ASSIGN_OR_RETURN(gateway::HealthSpec h, gateway::ParseHealth(text));
  return std::optional<gateway::HealthSpec>(std::move(h));
}

std::string HealthText(const std::optional<gateway::HealthSpec>& h) {
  if (!h) return "";
  if (h->kind == gateway::HealthSpec::Kind::kShell) return "shell:" + h->command;
  return std::to_string(h->port) + ":" + h->path;
}

std::string HpaText(const gateway::HpaSpec& hpa) {
  std::string out;
  auto add = [&](std::string_view key, const std::optional<int>& v) {
    if (!v) return;
    if (!out.empty()) out += ',';
    out.append(key).append(":").append(std::to_string(*v)).append("%");
  };
  add("cpu", hpa.cpu);
  add("mem", hpa.mem);
  add("gpu", hpa.gpu);
  return out;
}

std::string TargetsText(const std::map<std::string, int>& targets) {
  std::string out;
  for (const auto& [name, percent] : targets) {
    if (!out.empty()) out += ',';
    out.append(name).append(":").append(std::to_string(percent)).append("%");
  }
  return out;
}

// cube-studio's per-type defaults (reference 2.15): ports, metrics, health.
struct TypeDefaults {
  std::vector<int> ports;
  std::string metrics;
  std::string health;
  bool needs_model_path = false;
};

TypeDefaults DefaultsFor(const std::string& type) {
  if (type == "tfserving") {
    return {{8501}, "8501:/metrics", "8501:/v1/models/$model_name/versions/$model_version/metadata", true};
  }
  if (type == "torch-server") return {{8080, 8081}, "8082:/metrics", "8080:/ping", true};
  if (type == "triton-server") return {{8000, 8002}, "8002:/metrics", "8000:/v2/health/ready", true};
  return {{80}, "", "", false};
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

Status CheckServiceType(const std::string& type) {
  for (const char* t : kServiceTypes) {
    if (type == t) return Status::Ok();
  }
  std::string list;
  for (const char* t : kServiceTypes) list += (list.empty() ? "" : ", ") + std::string(t);
  return errors::Invalid("service_type", Quoted(type) + " is not one of " + list);
}

Status CheckModelName(const std::string& name) {
  if (name.empty()) return errors::Invalid("model_name", "is required");
  bool ok = name.size() >= 2 && name.size() <= 54 && name.front() >= 'a' && name.front() <= 'z' &&
            ((name.back() >= 'a' && name.back() <= 'z') || (name.back() >= '0' && name.back() <= '9'));
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == ':' || c == '-');
  }
  if (!ok) {
    return errors::Invalid("model_name", Quoted(name) + " must match ^[a-z][a-z0-9./:-]*[a-z0-9]$ "
                                                        "(at most 54 characters)");
  }
  return Status::Ok();
}

Status CheckModelVersion(const std::string& version) {
  if (version.empty()) return errors::Invalid("model_version", "is required, e.g. v2024.01.1");
  for (char c : version) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
      return errors::Invalid("model_version", Quoted(version) + " must match ^[a-z0-9_.-]+$");
    }
  }
  return Status::Ok();
}

Status CheckModelPath(const std::string& type, const std::string& path) {
  std::string p = path;
  if (type == "triton-server") {
    for (const char* prefix : {"onnx:", "tf:", "pytorch:", "tensorrt:"}) {
      if (p.rfind(prefix, 0) == 0) p = p.substr(std::string(prefix).size());
    }
  }
  if (p.find_first_of(" \t\r\n") != std::string::npos) {
    return errors::Invalid("model_path", Quoted(path) + " contains spaces");
  }
  bool url = (p.rfind("http://", 0) == 0 && p.size() > 7) || (p.rfind("https://", 0) == 0 && p.size() > 8);
  if (p.empty() || (p[0] != '/' && !url)) {
    return errors::Invalid("model_path", Quoted(path) + " must be a container path (/mnt/...) or an http(s) URL");
  }
  return Status::Ok();
}

// canary / shadow must not name the service itself.
Status CheckNotSelf(const std::string& field, const std::map<std::string, int>& targets, const std::string& name) {
  if (targets.count(name)) return errors::Invalid(field, "names this service itself (" + name + ")");
  return Status::Ok();
}

Status CheckAutoscaling(const InferenceServiceSpec& s) {
  if (s.min_replicas == s.max_replicas && !s.hpa.empty()) {
    return errors::Invalid("hpa", "has no effect when min_replicas equals max_replicas (" +
                                      std::to_string(s.min_replicas) + "); raise max_replicas or drop hpa");
  }
  if (s.min_replicas < s.max_replicas && s.hpa.empty()) {
    return errors::Invalid("hpa", "is required when min_replicas < max_replicas, e.g. \"cpu:50%,mem:50%\"");
  }
  if (s.hpa.gpu && s.container.resources.gpu < 1) {
    return errors::Invalid("hpa", "a gpu target needs resources.gpu of at least 1");
  }
  return Status::Ok();
}

Result<ServiceHosts> Hosts(const std::string& name, const std::string& host, std::string_view domain, bool stages) {
  ServiceHosts h;
  if (host.empty()) {
    // The default host passes the same check, which also rejects an empty domain.
    std::string d = TrimSpace(domain);
    if (d.rfind("*.", 0) == 0) d = d.substr(2);
    QUADER_ASSIGN_OR_RETURN(h.production, gateway::ValidateCustomHost(name + "." + d, domain));
  } else {
    QUADER_ASSIGN_OR_RETURN(h.production, gateway::ValidateCustomHost(host, domain));
  }
  if (stages) {
    h.test = "test." + h.production;
    h.debug = "debug." + h.production;
  }
  return h;
}

}  // namespace

Json ServiceSpec::ToJson() const {
  Json j = {{"kind", "Service"}, {"project", project}, {"name", name}, {"description", description}};
  ContainerToJson(container, &j);
  j["replicas"] = replicas;
  j["host"] = host;
  j["health"] = HealthText(health);
  j["expand"] = expand;
  if (!cube_studio.empty()) j["cube_studio"] = cube_studio;
  return j;
}

Result<ServiceSpec> ParseServiceSpec(const Json& original) {
  QUADER_ASSIGN_OR_RETURN(Json doc, NormaliseServiceAliases(original, false));
  QUADER_RETURN_IF_ERROR(CheckKnownFields(doc, "a Service", {"replicas"}));
  ServiceSpec s;
  FieldReader r(doc, "");
  QUADER_ASSIGN_OR_RETURN(s.project, r.String("project", false, "public"));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("project", s.project));
  QUADER_ASSIGN_OR_RETURN(s.name, r.String("name", true));
  QUADER_RETURN_IF_ERROR(CheckServiceName("name", s.name));
  QUADER_ASSIGN_OR_RETURN(const Json* description, FieldOrAlias(doc, "description", "label"));
  QUADER_ASSIGN_OR_RETURN(s.description, Str("description", description));
  QUADER_ASSIGN_OR_RETURN(s.container, ParseContainer(doc, s.project, s.name, {80}));
  QUADER_ASSIGN_OR_RETURN(int64_t replicas, Int("replicas", FieldOrNull(doc, "replicas"), 1, 0, 100));
  s.replicas = static_cast<int>(replicas);
  QUADER_ASSIGN_OR_RETURN(s.host, Str("host", FieldOrNull(doc, "host")));
  QUADER_ASSIGN_OR_RETURN(s.health, ParseHealthField(FieldOrNull(doc, "health"), ""));
  QUADER_ASSIGN_OR_RETURN(s.expand, ParseExpandObject(FieldOrNull(doc, "expand")));
  if (const Json* cs = FieldOrNull(doc, "cube_studio")) s.cube_studio = *cs;
  return s;
}

Result<ModelRef> ParseModelRef(const std::string& text) {
  // The registry's NAME@VERSION, as data sets are named, the version required.
  auto ref = workload::ParseDatasetRef("model_ref", text);
  if (!ref.ok() || ref->version == 0) {
    return errors::Invalid("model_ref", Quoted(text) + " is not NAME@VERSION of the model registry "
                                        "(e.g. iris-classifier@2)");
  }
  return ModelRef{ref->name, ref->version};
}

std::string InferenceServiceSpec::ModelRefTarget() const {
  return model_ref.empty() ? "" : "/models/" + model_ref_name + "/" + std::to_string(model_ref_version);
}

int InferenceServiceSpec::KeptPercent() const {
  int sum = 0;
  for (const auto& [target, percent] : canary) sum += percent;
  return 100 - sum;
}

Json InferenceServiceSpec::ToJson() const {
  Json j = {{"kind", "InferenceService"}, {"project", project},           {"name", name},
            {"description", description}, {"service_type", service_type}, {"model_name", model_name},
            {"model_version", model_version}, {"model_path", model_path}};
  if (!model_ref.empty()) j["model_ref"] = model_ref;
  ContainerToJson(container, &j);
  j["min_replicas"] = min_replicas;
  j["max_replicas"] = max_replicas;
  j["hpa"] = HpaText(hpa);
  j["metrics"] = metrics ? std::to_string(metrics->port) + ":" + metrics->path : "";
  j["host"] = host;
  j["canary"] = TargetsText(canary);
  j["shadow"] = TargetsText(shadow);
  j["health"] = HealthText(health);
  j["expand"] = expand;
  if (!cube_studio.empty()) j["cube_studio"] = cube_studio;
  return j;
}

namespace {

// service_type, the model fields and the name they give.
Status ParseModel(const Json& doc, InferenceServiceSpec* s) {
  FieldReader r(doc, "");
  QUADER_ASSIGN_OR_RETURN(s->service_type, r.String("service_type", false, "serving"));
  s->service_type = TrimSpace(s->service_type);
  QUADER_RETURN_IF_ERROR(CheckServiceType(s->service_type));
  QUADER_ASSIGN_OR_RETURN(s->model_name, Str("model_name", FieldOrNull(doc, "model_name")));
  QUADER_RETURN_IF_ERROR(CheckModelName(s->model_name));
  QUADER_ASSIGN_OR_RETURN(s->model_version, Str("model_version", FieldOrNull(doc, "model_version")));
  QUADER_RETURN_IF_ERROR(CheckModelVersion(s->model_version));
  std::string label_name = s->model_name;
  std::replace_if(label_name.begin(), label_name.end(), [](char c) { return c == '/' || c == ':' || c == '.'; }, '-');
  QUADER_ASSIGN_OR_RETURN(s->name, gateway::InferenceServiceName(s->service_type, label_name, s->model_version));
  QUADER_RETURN_IF_ERROR(CheckServiceName("model_name", s->name));
  QUADER_ASSIGN_OR_RETURN(std::string given, Str("name", FieldOrNull(doc, "name")));
  if (!given.empty() && given != s->name) {
    return errors::Invalid("name", Quoted(given) + " differs from " + Quoted(s->name) +
                                       ", the name $service_type-$model_name-$version_digits gives; "
                                       "omit name or write " + Quoted(s->name));
  }
  QUADER_ASSIGN_OR_RETURN(s->model_ref, Str("model_ref", FieldOrNull(doc, "model_ref")));
  s->model_ref = TrimSpace(s->model_ref);
  if (!s->model_ref.empty()) {
    QUADER_ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(s->model_ref));
    s->model_ref_name = ref.name;
    s->model_ref_version = ref.version;
  }
  QUADER_ASSIGN_OR_RETURN(s->model_path, Str("model_path", FieldOrNull(doc, "model_path")));
  if (s->model_path.empty() && !s->model_ref.empty()) s->model_path = s->ModelRefTarget();
  if (s->model_path.empty() && DefaultsFor(s->service_type).needs_model_path) {
    return errors::Invalid("model_path", "is required for service_type " + s->service_type);
  }
  if (!s->model_path.empty()) QUADER_RETURN_IF_ERROR(CheckModelPath(s->service_type, s->model_path));
  return Status::Ok();
}

// min/max replicas, hpa; then metrics and health with the type's defaults.
Status ParseScaling(const Json& doc, InferenceServiceSpec* s) {
  QUADER_ASSIGN_OR_RETURN(int64_t min, Int("min_replicas", FieldOrNull(doc, "min_replicas"), 1, 1, 100));
  QUADER_ASSIGN_OR_RETURN(int64_t max, Int("max_replicas", FieldOrNull(doc, "max_replicas"), min, 1, 100));
  if (min > max) {
    return errors::Invalid("max_replicas", std::to_string(max) + " is below min_replicas " + std::to_string(min));
  }
  s->min_replicas = static_cast<int>(min);
  s->max_replicas = static_cast<int>(max);
  QUADER_ASSIGN_OR_RETURN(std::string hpa, GrammarText("hpa", FieldOrNull(doc, "hpa"), ""));
  QUADER_ASSIGN_OR_RETURN(s->hpa, gateway::ParseHpa(hpa));
  QUADER_RETURN_IF_ERROR(CheckAutoscaling(*s));

  TypeDefaults defaults = DefaultsFor(s->service_type);
  QUADER_ASSIGN_OR_RETURN(std::string metrics, GrammarText("metrics", FieldOrNull(doc, "metrics"), defaults.metrics));
  if (!metrics.empty()) {
    QUADER_ASSIGN_OR_RETURN(s->metrics, gateway::ParseMetrics(metrics));
  }
  std::string digits;
  for (char c : s->model_version) {
    if (c >= '0' && c <= '9') digits += c;
  }
  std::string health_default =
      ReplaceAll(ReplaceAll(defaults.health, "$model_name", s->model_name), "$model_version", digits);
  QUADER_ASSIGN_OR_RETURN(s->health, ParseHealthField(FieldOrNull(doc, "health"), health_default));
  return Status::Ok();
}

// host, canary (split) and shadow (mirror).
Status ParseTraffic(const Json& doc, InferenceServiceSpec* s) {
  QUADER_ASSIGN_OR_RETURN(s->host, Str("host", FieldOrNull(doc, "host")));
  QUADER_ASSIGN_OR_RETURN(std::string canary, GrammarText("canary", FieldOrNull(doc, "canary"), ""));
  QUADER_ASSIGN_OR_RETURN(s->canary, gateway::ParseCanary(canary));
  QUADER_RETURN_IF_ERROR(CheckNotSelf("canary", s->canary, s->name));
  QUADER_ASSIGN_OR_RETURN(std::string shadow, GrammarText("shadow", FieldOrNull(doc, "shadow"), ""));
  QUADER_ASSIGN_OR_RETURN(s->shadow, gateway::ParseShadow(shadow));
  QUADER_RETURN_IF_ERROR(CheckNotSelf("shadow", s->shadow, s->name));
  return Status::Ok();
}

}  // namespace

Result<InferenceServiceSpec> ParseInferenceServiceSpec(const Json& original) {
  QUADER_ASSIGN_OR_RETURN(Json doc, NormaliseServiceAliases(original, true));
  if (doc.is_object()) {
    for (const char* state : {"model_status", "deploy_history"}) {
      if (doc.contains(state)) {
        return errors::Invalid(state, "is set by the deploy actions (debug, test, prod), not by the document");
      }
    }
  }
  QUADER_RETURN_IF_ERROR(CheckKnownFields(doc, "an InferenceService",
                                          {"service_type", "model_name", "model_version", "model_path", "model_ref",
                                           "min_replicas", "max_replicas", "hpa", "metrics", "canary", "shadow"}));
  InferenceServiceSpec s;
  FieldReader r(doc, "");
  QUADER_ASSIGN_OR_RETURN(s.project, r.String("project", false, "public"));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("project", s.project));
  QUADER_RETURN_IF_ERROR(ParseModel(doc, &s));
  QUADER_ASSIGN_OR_RETURN(const Json* description, FieldOrAlias(doc, "description", "label"));
  QUADER_ASSIGN_OR_RETURN(s.description, Str("description", description));
  QUADER_ASSIGN_OR_RETURN(s.container, ParseContainer(doc, s.project, s.name, DefaultsFor(s.service_type).ports));
  QUADER_RETURN_IF_ERROR(ParseScaling(doc, &s));
  QUADER_RETURN_IF_ERROR(ParseTraffic(doc, &s));
  QUADER_ASSIGN_OR_RETURN(s.expand, ParseExpandObject(FieldOrNull(doc, "expand")));
  if (const Json* cs = FieldOrNull(doc, "cube_studio")) s.cube_studio = *cs;
  return s;
}

std::vector<std::string> AllHosts(const ServiceHosts& hosts) {
  std::vector<std::string> out;
  for (const std::string* h : {&hosts.production, &hosts.test, &hosts.debug}) {
    if (!h->empty()) out.push_back(*h);
  }
  return out;
}

std::map<std::string, std::string> HostOwners(const std::vector<HostClaim>& claims_oldest_first) {
  std::map<std::string, std::string> owners;
  for (const auto& c : claims_oldest_first) {
    for (const auto& h : AllHosts(c.hosts)) owners.emplace(h, c.project);  // the first claim stays
  }
  return owners;
}

std::string TakenHost(const ServiceHosts& hosts, const std::string& project,
                      const std::map<std::string, std::string>& owners) {
  for (const auto& h : AllHosts(hosts)) {
    auto it = owners.find(h);
    if (it != owners.end() && it->second != project) return h;
  }
  return "";
}

Result<ServiceHosts> ResolveHosts(const ServiceSpec& spec, std::string_view service_domain) {
  return Hosts(spec.name, spec.host, service_domain, /*stages=*/false);
}

Result<ServiceHosts> ResolveHosts(const InferenceServiceSpec& spec, std::string_view service_domain) {
  return Hosts(spec.name, spec.host, service_domain, /*stages=*/true);
}

}  // namespace quader::serving
