#include "notebook/notebook_spec.h"

#include <algorithm>

#include "core/ignored_fields.h"
#include "core/names.h"

namespace quader::notebook {
namespace {

// {name, cube-studio alias}
const std::vector<std::pair<std::string, std::string>>& Fields() {
  static const std::vector<std::pair<std::string, std::string>> kFields = {
      {"kind", ""},          {"project", ""},      {"name", ""},          {"description", "describe"},
      {"type", "ide_type"},  {"image", "images"},  {"working_dir", ""},   {"env", ""},
      {"volume_mount", ""},  {"resources", ""},    {"resource_cpu", ""},  {"resource_memory", ""},
      {"resource_gpu", ""},  {"cube_studio", ""},     {"datasets", ""},
  };
  return kFields;
}

Result<std::string> Str(const std::string& field, const Json* v) {
  if (!v) return std::string();
  if (!v->is_string()) return errors::Invalid(field, "must be a string");
  return TrimSpace(v->get<std::string>());
}

}  // namespace

Json NotebookSpec::ToJson() const {
  pipeline::TemplateSpec t;
  t.project = project;
  t.name = name;
  t.image = image;
  t.working_dir = working_dir;
  t.env = env;
  t.volume_mount = volume_mount;
  t.resources = resources;
  Json c = t.ToJson();
  Json j = {{"kind", "Notebook"}, {"project", project}, {"name", name}, {"description", description}, {"type", type}};
  for (const char* key : {"image", "working_dir", "env", "volume_mount", "resources"}) j[key] = c[key];
  if (!cube_studio.empty()) j["cube_studio"] = cube_studio;
  if (!datasets.empty()) j["datasets"] = workload::DatasetRefsJson(datasets);
  return j;
}

Result<NotebookSpec> ParseNotebookSpec(const Json& original) {
  if (!original.is_object()) return errors::Invalid("body", "must be an object");
  // cube-studio's notebook fields that mean nothing here, kept.
  Json doc = original;
  QUADER_RETURN_IF_ERROR(KeepIgnoredFields(&doc, {"namespace", "node_selector", "image_pull_policy", "expand",
                                                  "project_name", "created_by", "changed_by"}));
  for (const auto& [key, value] : doc.items()) {
    bool known = false;
    for (const auto& [k, alias] : Fields()) known = known || key == k || (!alias.empty() && key == alias);
    if (!known) return errors::Invalid(key, "unknown field of a Notebook");
  }
  NotebookSpec s;
  FieldReader r(doc, "");
  QUADER_ASSIGN_OR_RETURN(s.project, r.String("project", false, "public"));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("project", s.project));
  QUADER_ASSIGN_OR_RETURN(s.name, r.String("name", true));
  if (!ValidateObjectName("name", s.name).ok() || s.name.size() > kMaxNotebookNameLength ||
      !std::isalpha(static_cast<unsigned char>(s.name[0]))) {
    return errors::Invalid("name", "\"" + s.name + "\" must be lower-case letters, digits and '-', start with a letter "
                                   "and have at most " + std::to_string(kMaxNotebookNameLength) + " characters");
  }
  QUADER_ASSIGN_OR_RETURN(const Json* description, FieldOrAlias(doc, "description", "describe"));
  QUADER_ASSIGN_OR_RETURN(s.description, Str("description", description));
  QUADER_ASSIGN_OR_RETURN(const Json* type, FieldOrAlias(doc, "type", "ide_type"));
  QUADER_ASSIGN_OR_RETURN(std::string type_text, Str("type", type));
  if (type_text == "theia" || type_text == "code-server") type_text = kTypeVscode;  // cube-studio's names
  if (!type_text.empty()) s.type = type_text;
  if (s.type != kTypeJupyter && s.type != kTypeVscode) {
    return errors::Invalid("type", "\"" + s.type + "\" is not one of jupyter, vscode");
  }

  // The container fields, by the JobTemplate rules.
  Json sub = {{"name", s.name}, {"project", s.project}};
  for (const char* key : {"working_dir", "env", "volume_mount", "resources"}) {
    if (const Json* v = FieldOrNull(doc, key)) sub[key] = *v;
  }
  QUADER_ASSIGN_OR_RETURN(const Json* image, FieldOrAlias(doc, "image", "images"));
  QUADER_ASSIGN_OR_RETURN(std::string image_text, Str("image", image));
  sub["image"] = image_text.empty() ? (s.type == kTypeVscode ? kVscodeImage : kJupyterImage) : image_text;
  QUADER_RETURN_IF_ERROR(pipeline::MergeResourceAliases(doc, &sub));
  QUADER_ASSIGN_OR_RETURN(pipeline::TemplateSpec t, pipeline::ParseTemplateSpec(sub));
  s.image = std::move(t.image);
  s.working_dir = std::move(t.working_dir);
  s.env = std::move(t.env);
  s.volume_mount = std::move(t.volume_mount);
  s.mounts = std::move(t.mounts);
  s.resources = t.resources;
  if (const Json* cs = FieldOrNull(doc, "cube_studio")) s.cube_studio = *cs;
  QUADER_ASSIGN_OR_RETURN(s.datasets, workload::ParseDatasetRefs("datasets", FieldOrNull(doc, "datasets")));
  return s;
}

}  // namespace quader::notebook
