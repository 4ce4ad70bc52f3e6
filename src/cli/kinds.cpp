#include "cli/kinds.h"

#include <algorithm>
#include <cctype>

#include "cli/client.h"

namespace quader::cli {
namespace {

constexpr Column kProjectColumns[] = {
    {"NAME", "name"},
    {"ROLE", "role"},
    {"CREATED-BY", "created_by"},
    {"CREATED", "created_at"},
    {"DESCRIPTION", "description"},
};
constexpr Column kUserColumns[] = {
    {"USERNAME", "username"}, {"ADMIN", "admin"},        {"ACTIVE", "active"},
    {"EMAIL", "email"},       {"CREATED", "created_at"},
};
constexpr Column kMemberColumns[] = {
    {"USERNAME", "username"}, {"ROLE", "role"}, {"CREATED", "created_at"}};
constexpr Column kTemplateColumns[] = {
    {"NAME", "name"},       {"PROJECT", "project"},    {"IMAGE", "image"},
    {"VERSION", "version"}, {"CREATED", "created_at"},
};
constexpr Column kPipelineColumns[] = {
    {"NAME", "name"},
    {"PROJECT", "project"},
    {"SCHEDULE", "schedule.cron"},
    {"ZONE", "schedule.timezone"},
    {"LAST-RUN", "last_run.state"},
};
constexpr Column kRunColumns[] = {
    {"ID", "id"},           {"PIPELINE", "pipeline"},     {"STATE", "state"},
    {"TRIGGER", "trigger"}, {"RUNNER", "runner"},         {"STARTED", "started_at"},
    {"FINISHED", "finished_at"},
};
constexpr Column kScheduleColumns[] = {
    {"ID", "id"},       {"PIPELINE", "pipeline"}, {"EXECUTION", "execution_date_local"},
    {"STATE", "state"}, {"RUN", "run_id"},
};
constexpr Column kExperimentColumns[] = {
    {"NAME", "name"},           {"PROJECT", "project"},        {"STATE", "state"},
    {"TUNER", "tuner"},         {"TRIALS", "trials.total"},    {"SUCCEEDED", "trials.succeeded"},
    {"BEST", "best.value"},     {"CREATED", "created_at"},
};
constexpr Column kServiceColumns[] = {
    {"NAME", "name"},   {"PROJECT", "project"},   {"STATE", "state"},
    {"REPLICAS", "replicas", "min_replicas"},     {"GEN", "generation"},
    {"URL", "url"},     {"REASON", "reason"},
};
constexpr Column kInferenceColumns[] = {
    {"NAME", "name"},   {"PROJECT", "project"},   {"STATUS", "model_status"}, {"STATE", "state"},
    {"REPLICAS", "autoscaled_replicas", "min_replicas"}, {"GEN", "generation"},
    {"URL", "url"},     {"REASON", "reason"},
};
constexpr Column kNotebookColumns[] = {
    {"NAME", "name"},   {"PROJECT", "project"}, {"TYPE", "type"},  {"STATE", "state"},
    {"OWNER", "created_by"}, {"URL", "url", "path"}, {"REASON", "reason"},
};
constexpr Column kModelColumns[] = {
    {"NAME", "name"},        {"PROJECT", "project"},     {"VERSIONS", "versions"},
    {"LATEST", "latest_version"}, {"CREATED-BY", "created_by"}, {"UPDATED", "updated_at"},
};
constexpr Column kDatasetColumns[] = {
    {"NAME", "name"},        {"PROJECT", "project"},     {"VERSIONS", "versions"},
    {"LATEST", "latest_version"}, {"CREATED-BY", "created_by"}, {"UPDATED", "updated_at"},
};
constexpr Column kGlobalGeneric[] = {{"NAME", "name", "id"}, {"CREATED", "created_at"}};
constexpr Column kProjectGeneric[] = {
    {"NAME", "name", "id"}, {"PROJECT", "project"}, {"CREATED", "created_at"}};

constexpr std::string_view kProjectAliases[] = {"proj"};
constexpr std::string_view kTemplateAliases[] = {"jobtemplate", "jobtemplates", "tmpl"};
constexpr std::string_view kScheduleAliases[] = {"sched"};
constexpr std::string_view kNotebookAliases[] = {"nb"};
constexpr std::string_view kExperimentAliases[] = {"exp"};
constexpr std::string_view kServiceAliases[] = {"svc"};
constexpr std::string_view kInferenceAliases[] = {"inferenceservice", "inferenceservices", "isvc"};
constexpr std::string_view kImageAliases[] = {"img"};
constexpr std::string_view kDatasetAliases[] = {"ds"};
constexpr std::string_view kImageBuildAliases[] = {"imagebuild", "imagebuilds"};

// Collections as CONTRACT.md "REST API" names them. Kinds whose routes the
// server does not serve yet answer 404, which the CLI reports as the error.
// clang-format off
constexpr KindSpec kKinds[] = {
    // name, plural, aliases, collection, scope, columns ({}: generic)
    {"project", "projects", kProjectAliases, "projects", Scope::kGlobal, kProjectColumns},
    {"user", "users", {}, "users", Scope::kGlobal, kUserColumns},
    {"member", "members", {}, "members", Scope::kProjectSub, kMemberColumns},
    {"template", "templates", kTemplateAliases, "templates", Scope::kProject, kTemplateColumns},
    {"pipeline", "pipelines", {}, "pipelines", Scope::kProject, kPipelineColumns},
    {"run", "runs", {}, "runs", Scope::kProject, kRunColumns},
    {"schedule", "schedules", kScheduleAliases, "schedules", Scope::kProject, kScheduleColumns},
    {"notebook", "notebooks", kNotebookAliases, "notebooks", Scope::kProject, kNotebookColumns},
    {"experiment", "experiments", kExperimentAliases, "experiments", Scope::kProject, kExperimentColumns},
    {"service", "services", kServiceAliases, "services", Scope::kProject, kServiceColumns},
    {"inference-service", "inference-services", kInferenceAliases, "inference-services",
     Scope::kProject, kInferenceColumns},
    {"image", "images", kImageAliases, "images", Scope::kProject, {}},
    {"image-build", "image-builds", kImageBuildAliases, "image-builds", Scope::kProject, {}},
    {"model", "models", {}, "models", Scope::kProject, kModelColumns},
    {"dataset", "datasets", kDatasetAliases, "datasets", Scope::kProject, kDatasetColumns},
};
// clang-format on

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool Matches(const KindSpec& kind, std::string_view word) {
  if (word == kind.name || word == kind.plural) return true;
  return std::find(kind.aliases.begin(), kind.aliases.end(), word) != kind.aliases.end();
}

std::string CollectionPath(const KindSpec& kind, const std::string& project) {
  if (kind.scope == Scope::kProjectSub) {
    return "/projects/" + EscapeComponent(project) + "/" + std::string(kind.collection);
  }
  return "/" + std::string(kind.collection);
}

std::string ProjectQuery(const KindSpec& kind, const std::string& project) {
  if (kind.scope != Scope::kProject || project.empty()) return "";
  return "?project=" + EscapeComponent(project);
}

}  // namespace

std::span<const KindSpec> Kinds() { return kKinds; }

Result<const KindSpec*> ResolveKind(std::string_view word) {
  std::string lower = Lower(word);
  for (const KindSpec& kind : kKinds) {
    if (Matches(kind, lower)) return &kind;
  }
  return errors::Invalid(
      "", "unknown kind \"" + std::string(word) + "\" (known kinds: " + KnownKindsText() + ")");
}

std::span<const Column> ColumnsFor(const KindSpec& kind) {
  if (!kind.columns.empty()) return kind.columns;
  if (kind.scope == Scope::kProject) return kProjectGeneric;
  return kGlobalGeneric;
}

std::string ListPath(const KindSpec& kind, const std::string& project) {
  return CollectionPath(kind, project) + ProjectQuery(kind, project);
}

std::string ItemPath(const KindSpec& kind, const std::string& name, const std::string& project) {
  return CollectionPath(kind, project) + "/" + EscapeComponent(name) + ProjectQuery(kind, project);
}

std::string KnownKindsText() {
  std::string out;
  for (const KindSpec& kind : kKinds) {
    if (!out.empty()) out += ", ";
    out += kind.plural;
  }
  return out;
}

}  // namespace quader::cli
