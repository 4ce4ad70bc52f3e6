#include "cubestudio/convert.h"

#include <cstdio>

#include "core/names.h"
#include "pipeline/spec.h"
#include "serving/service_spec.h"

namespace quader::cubestudio {
namespace {

constexpr size_t kMaxName = 54;  // cube-studio's limit, and a service's

bool HasAny(const Json& item, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (item.contains(k)) return true;
  }
  return false;
}

// The Quader kind of one cube-studio object, by the fields only it has.
std::string KindOf(const Json& item) {
  if (!item.is_object()) return "";
  if (item.contains("pipeline") && item.contains("tasks")) return "Pipeline";
  if (HasAny(item, {"job_template_name", "job_template_args", "job_template_command", "job_template_describe"})) {
    return "JobTemplate";
  }
  if (HasAny(item, {"model_name", "model_version", "service_type", "model_path"})) return "InferenceService";
  if (HasAny(item, {"service_name", "service_describe"}) || (item.contains("image_name") && item.contains("ports"))) {
    return "Service";
  }
  if (HasAny(item, {"job_worker_image", "job_worker_command", "max_trial_count", "parallel_trial_count",
                    "objective_type", "algorithm_name"})) {
    return "Experiment";
  }
  return "";
}

ImportItem Item(std::string kind, std::string name) {
  ImportItem out;
  out.kind = std::move(kind);
  out.name = std::move(name);
  return out;
}

std::string StringField(const Json& item, const char* key) {
  auto it = item.find(key);
  return it != item.end() && it->is_string() ? it->get<std::string>() : "";
}

// Places `doc` in `project`: the file's own project fields (`project`,
// `project_name`) go, kept in cube_studio when they name another project.
void SetProject(Json* doc, const std::string& project) {
  for (const char* key : {"project", "project_name"}) {
    auto it = doc->find(key);
    if (it == doc->end()) continue;
    if (!(it->is_string() && it->get<std::string>() == project)) {
      if (!doc->contains("cube_studio") || !(*doc)["cube_studio"].is_object()) (*doc)["cube_studio"] = Json::object();
      (*doc)["cube_studio"][key] = *it;
    }
    doc->erase(it);
  }
  (*doc)["project"] = project;
}

// The item for `source` and its document of `kind`, placed in `project`;
// its name is the first of `name_fields` it has, else `key`.
ImportItem Begin(const char* kind, const Json& source, std::initializer_list<const char*> name_fields,
                 const std::string& key, const std::string& project) {
  ImportItem out = Item(kind, "");
  for (const char* field : name_fields) {
    if (out.name.empty()) out.name = StringField(source, field);
  }
  if (out.name.empty()) out.name = key;
  out.document = source;
  out.document["kind"] = kind;
  SetProject(&out.document, project);
  return out;
}

ImportItem Refuse(ImportItem out, std::string reason) {
  out.document = Json();
  out.refused = std::move(reason);
  return out;
}

ImportItem Template(const Json& item, const std::string& key, const std::string& project) {
  // A template's project_name is its category in cube-studio, not a
  // project: the parser keeps it in cube_studio.
  Json source = item;
  source.erase("project_name");
  ImportItem out = Begin("JobTemplate", source, {"job_template_name"}, key, project);
  if (pipeline::BuiltinTemplate(out.name) != nullptr) {
    out.builtin = true;
    out.document = Json();
    return out;
  }
  if (out.name.empty()) return Refuse(std::move(out), "job_template_name: is required");
  if (item.contains("project_name")) out.document["project_name"] = item["project_name"];
  out.document["name"] = QuaderName(out.name, "t");
  if (!out.document.contains("job_template_name")) out.document["job_template_name"] = out.name;
  return out;
}

ImportItem PipelineItem(const Json& item, const std::string& key, const std::string& project) {
  const Json& p = item["pipeline"];
  if (!p.is_object()) return Refuse(Item("Pipeline", key), "pipeline: must be an object");
  ImportItem out = Begin("Pipeline", p, {"name"}, key, project);
  if (out.name.empty()) return Refuse(std::move(out), "pipeline.name: is required");
  out.document["tasks"] = item["tasks"];
  // cube-studio passes only the parameters a task's template declares: the
  // others are kept, not passed (its published pipelines have such).
  if (out.document["tasks"].is_array()) {
    for (auto& task : out.document["tasks"]) {
      if (task.is_object() && !task.contains("extra_args")) task["extra_args"] = "ignore";
    }
  }
  out.document["name"] = QuaderName(out.name, "p");
  return out;
}

ImportItem ServiceItem(const Json& item, const std::string& key, const std::string& project) {
  ImportItem out = Begin("Service", item, {"service_name", "name"}, key, project);
  out.document.erase("service_name");
  out.document["name"] = QuaderName(out.name, "s");
  return out;
}

ImportItem InferenceItem(const Json& item, const std::string& key, const std::string& project) {
  ImportItem out = Begin("InferenceService", item, {"service_name"}, key, project);
  out.document.erase("name");
  // The name is derived ($service_type-$model_name-$version_digits); the
  // parser gives it, or the reason the document would be refused.
  auto spec = serving::ParseInferenceServiceSpec(out.document);
  if (!spec.ok()) return Refuse(std::move(out), spec.status().message());
  out.document["name"] = spec->name;
  return out;
}

ImportItem ExperimentItem(const Json& item, const std::string& key, const std::string& project) {
  ImportItem out = Begin("Experiment", item, {"name"}, key, project);
  out.document["name"] = QuaderName(out.name, "e");
  return out;
}

ImportItem Convert(const Json& item, const std::string& key, const std::string& project) {
  std::string kind = KindOf(item);
  if (kind == "JobTemplate") return Template(item, key, project);
  if (kind == "Pipeline") return PipelineItem(item, key, project);
  if (kind == "Service") return ServiceItem(item, key, project);
  if (kind == "InferenceService") return InferenceItem(item, key, project);
  if (kind == "Experiment") return ExperimentItem(item, key, project);
  ImportItem out = Item("", key);
  out.refused = item.is_object() ? "not a cube-studio job template, pipeline, service, inference service or "
                                   "automl experiment (none of their fields)"
                                 : "must be an object";
  return out;
}

}  // namespace

std::string QuaderName(const std::string& name, const std::string& prefix) {
  if (ValidateObjectName("name", name).ok() && name.size() <= kMaxName && name[0] >= 'a' && name[0] <= 'z') {
    return name;
  }
  std::string out;
  for (unsigned char c : name) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (alnum) {
      out += static_cast<char>(c);
    } else if (c < 0x80 && !out.empty() && out.back() != '-') {
      out += '-';
    } else if (c >= 0x80) {
      out.clear();  // a name in another script: the hash names it
      break;
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > kMaxName) out.resize(kMaxName);
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') return out;
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", h);
  return prefix + "-" + hex;
}

Result<std::vector<ImportItem>> ConvertFile(const Json& file, const std::string& project) {
  std::vector<ImportItem> items;
  if (file.is_array()) {
    for (size_t i = 0; i < file.size(); ++i) items.push_back(Convert(file[i], "[" + std::to_string(i) + "]", project));
    return items;
  }
  if (!file.is_object()) return errors::Invalid("file", "must be a JSON object or list of cube-studio objects");
  if (!KindOf(file).empty()) {
    items.push_back(Convert(file, "", project));
    return items;
  }
  for (const auto& [key, item] : file.items()) items.push_back(Convert(item, key, project));
  return items;
}

}  // namespace quader::cubestudio
