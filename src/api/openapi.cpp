#include "api/openapi.h"

#include <regex>

namespace quader::api {
namespace {

Json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

Json StringProp(const std::string& description) {
  return {{"type", "string"}, {"description", description}};
}

Json Schemas() {
  Json time = {{"type", "string"}, {"format", "date-time"}};
  Json s;
  s["Error"] = {{"type", "object"},
                {"required", {"error"}},
                {"properties",
                 {{"error",
                   {{"type", "object"},
                    {"required", {"code", "message"}},
                    {"properties",
                     {{"code", {{"type", "string"},
                                {"enum", {"invalid_argument", "unauthenticated", "permission_denied",
                                          "not_found", "method_not_allowed", "already_exists",
                                          "conflict", "payload_too_large", "unavailable", "internal"}}}},
                      {"message", StringProp("What went wrong, naming the field or value at fault")}}}}}}}};
  s["Empty"] = {{"type", "object"}};
  s["Object"] = {{"type", "object"}};
  s["Text"] = {{"type", "string"}};
  s["Health"] = {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}};
  s["Login"] = {{"type", "object"},
                {"required", {"username", "password"}},
                {"properties", {{"username", {{"type", "string"}}}, {"password", {{"type", "string"}}}}}};
  s["User"] = {{"type", "object"},
               {"properties",
                {{"username", {{"type", "string"}}},
                 {"email", {{"type", "string"}}},
                 {"admin", {{"type", "boolean"}}},
                 {"active", {{"type", "boolean"}}},
                 {"created_at", time},
                 {"updated_at", time}}}};
  s["Session"] = {{"type", "object"},
                  {"properties", {{"token", {{"type", "string"}}}, {"expires_at", time}, {"user", Ref("User")}}}};
  Json membership = {{"type", "object"},
                     {"properties", {{"name", {{"type", "string"}}}, {"role", {{"type", "string"}}}}}};
  s["Me"] = {{"type", "object"},
             {"properties", {{"user", Ref("User")},
                             {"projects", {{"type", "array"}, {"items", membership}}}}}};
  s["NewUser"] = {{"type", "object"},
                  {"required", {"username", "password"}},
                  {"additionalProperties", false},
                  {"properties",
                   {{"username", StringProp("^[a-z][a-z0-9-]*[a-z0-9]$, 2-63 characters")},
                    {"password", StringProp("8 to 1024 characters")},
                    {"email", {{"type", "string"}}},
                    {"admin", {{"type", "boolean"}}}}}};
  s["UserUpdate"] = {{"type", "object"},
                     {"additionalProperties", false},
                     {"properties",
                      {{"email", {{"type", "string"}}},
                       {"password", {{"type", "string"}}},
                       {"admin", {{"type", "boolean"}}},
                       {"active", {{"type", "boolean"}}}}}};
  Json expand = {{"type", "object"},
                 {"additionalProperties", false},
                 {"description", "Settings admins give a project (docs/projects.md)"},
                 {"properties",
                  {{"cluster", StringProp("runtime instance for the project's work")},
                   {"node_selector", StringProp("k=v[,k=v]")},
                   {"volume_mount", StringProp("SOURCE(pvc|hostpath|memory):PATH joined by ; or ,")},
                   {"SERVICE_EXTERNAL_IP", StringProp("IP address(es) services are exposed on")}}}};
  s["Expand"] = expand;
  s["Project"] = {{"type", "object"},
                  {"properties",
                   {{"name", {{"type", "string"}}},
                    {"description", {{"type", "string"}}},
                    {"expand", Ref("Expand")},
                    {"created_by", {{"type", "string"}}},
                    {"created_at", time},
                    {"updated_at", time},
                    {"role", {{"type", "string"}, {"nullable", true},
                              {"description", "the caller's role: creator, dev or ops"}}}}}};
  s["NewProject"] = {{"type", "object"},
                     {"required", {"name"}},
                     {"additionalProperties", false},
                     {"properties",
                      {{"name", StringProp("a DNS label: ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")},
                       {"description", {{"type", "string"}}},
                       {"expand", Ref("Expand")}}}};
  s["ProjectUpdate"] = {{"type", "object"},
                        {"additionalProperties", false},
                        {"properties", {{"description", {{"type", "string"}}}, {"expand", Ref("Expand")}}}};
  Json role = {{"type", "string"}, {"enum", {"creator", "dev", "ops"}}};
  s["Member"] = {{"type", "object"},
                 {"properties", {{"username", {{"type", "string"}}}, {"role", role}, {"created_at", time}}}};
  s["NewMember"] = {{"type", "object"},
                    {"required", {"username"}},
                    {"additionalProperties", false},
                    {"properties", {{"username", {{"type", "string"}}}, {"role", role}}}};
  s["MemberUpdate"] = {{"type", "object"},
                       {"required", {"role"}},
                       {"additionalProperties", false},
                       {"properties", {{"role", role}}}};
  s["Documents"] = {{"type", "string"},
                    {"description", "YAML or JSON documents separated by ---, each with kind and name"}};
  Json action = {{"type", "string"}, {"enum", {"created", "updated", "unchanged"}}};
  Json result = {{"type", "object"},
                 {"properties", {{"kind", {{"type", "string"}}},
                                 {"name", {{"type", "string"}}},
                                 {"project", {{"type", "string"}}},
                                 {"action", action}}}};
  s["ApplyResults"] = {{"type", "object"},
                       {"properties", {{"results", {{"type", "array"}, {"items", result}}}}}};
  s["CubeStudioFile"] = {{"type", "object"},
                         {"description", "a cube-studio export file (JSON): one object, a list, or an object of "
                                         "objects by name (docs/cube-studio.md)"}};
  Json import_result = {
      {"type", "object"},
      {"properties",
       {{"kind", {{"type", "string"}}},
        {"name", {{"type", "string"}, {"description", "the object's name in the file"}}},
        {"quader_name", {{"type", "string"}}},
        {"result", {{"type", "string"}, {"enum", {"created", "updated", "unchanged", "refused"}}}},
        {"reason", {{"type", "string"}}}}}};
  s["ImportResults"] = {{"type", "object"},
                        {"properties",
                         {{"results", {{"type", "array"}, {"items", import_result}}},
                          {"counts", {{"type", "object"}, {"additionalProperties", {{"type", "integer"}}}}}}}};
  Json str = {{"type", "string"}};
  Json nullable_str = {{"type", "string"}, {"nullable", true}};
  s["Image"] = {{"type", "object"},
                {"properties", {{"id", {{"type", "integer"}}}, {"project", str}, {"name", str}, {"tag", str},
                                {"ref", str}, {"description", str},
                                {"source", {{"type", "string"}, {"enum", {"base", "registry", "build", "commit"}}}},
                                {"build", nullable_str}, {"created_by", str}, {"created_at", time}, {"updated_at", time}}}};
  s["NewImage"] = {{"type", "object"}, {"required", {"ref"}}, {"additionalProperties", false},
                   {"properties", {{"project", str}, {"ref", StringProp("[registry/]name[:tag]")}, {"description", str}}}};
  s["ImageUpdate"] = {{"type", "object"}, {"required", {"description"}}, {"additionalProperties", false},
                      {"properties", {{"description", str}}}};
  Json build_config = {{"type", "object"}, {"additionalProperties", false},
                       {"properties", {{"resource_memory", StringProp("e.g. 8G")},
                                       {"resource_cpu", StringProp("cores, e.g. 4")},
                                       {"volume_mount", StringProp("SOURCE(pvc|hostpath|memory):PATH joined by ; or ,")}}}};
  Json build_props = {{"project", str}, {"name", str}, {"image", StringProp("the result, name:tag")},
                      {"from", StringProp("base image for a Dockerfile build")},
                      {"dockerfile", StringProp("Dockerfile instructions")},
                      {"commit", StringProp("or: a running workload to commit")},
                      {"config", build_config}, {"description", str}};
  s["NewImageBuild"] = {{"type", "object"}, {"required", {"name", "image"}}, {"additionalProperties", false},
                        {"properties", build_props}};
  // The model registry (docs/models.md).
  Json int_t = {{"type", "integer"}};
  s["Model"] = {{"type", "object"},
                {"properties", {{"id", int_t}, {"project", str}, {"name", str}, {"description", str},
                                {"created_by", str}, {"created_at", time}, {"updated_at", time},
                                {"versions", int_t}, {"latest_version", {{"type", "integer"}, {"nullable", true}}},
                                {"version_list", {{"type", "array"}, {"items", Ref("ModelVersion")}}},
                                {"served_by", {{"type", "array"},
                                               {"items", {{"type", "object"},
                                                          {"properties", {{"service", str}, {"id", int_t},
                                                                          {"version", int_t}, {"stage", str}}}}}}}}}};
  s["NewModel"] = {{"type", "object"}, {"required", {"name"}}, {"additionalProperties", false},
                   {"properties", {{"project", str}, {"name", str}, {"description", str}}}};
  Json stage = {{"type", "string"}, {"enum", {"none", "staging", "production", "archived"}}};
  Json framework = {{"type", "string"}, {"enum", {"sklearn", "pytorch", "onnx", "tensorflow", "xgboost", "custom"}}};
  Json model_file = {{"type", "object"},
                     {"properties", {{"path", str}, {"size", int_t}, {"sha256", str}}}};
  s["ModelVersion"] = {{"type", "object"},
                       {"properties",
                        {{"model", str}, {"project", str}, {"version", int_t}, {"framework", framework},
                         {"files", {{"type", "array"}, {"items", model_file}}}, {"size_bytes", int_t},
                         {"metrics", {{"type", "object"}, {"additionalProperties", {{"type", "number"}}}}},
                         {"params", {{"type", "object"}}},
                         {"source", {{"type", "object"},
                                     {"properties", {{"run", int_t}, {"pipeline", str}, {"task", str},
                                                     {"attempt", int_t}, {"experiment", int_t},
                                                     {"experiment_name", str}, {"trial", int_t}, {"path", str}}}}},
                         {"stage", stage}, {"description", str}, {"registered_by", str}, {"registered_at", time},
                         {"skipped", {{"type", "array"}, {"items", str}}}}}};
  s["NewModelVersion"] = {{"type", "object"}, {"required", {"framework"}}, {"additionalProperties", false},
                          {"properties", {{"run", int_t}, {"task", str}, {"experiment", int_t},
                                          {"trial", StringProp("with experiment: the trial's sequence number")},
                                          {"path", StringProp("a file or directory of the task's /outputs; default all")},
                                          {"framework", framework},
                                          {"metrics", {{"type", "object"}, {"additionalProperties", {{"type", "number"}}}}},
                                          {"params", {{"type", "object"}}}, {"description", str}}}};
  s["ModelVersionUpdate"] = {{"type", "object"}, {"required", {"stage"}}, {"additionalProperties", false},
                             {"properties", {{"stage", stage}}}};
  s["Binary"] = {{"type", "string"}, {"format", "binary"}};
  s["ModelDeploy"] = {{"type", "object"}, {"additionalProperties", false},
                      {"properties", {{"service", StringProp("an inference service of the project to switch")}}}};
  s["ModelDeployResult"] = {{"type", "object"},
                            {"properties", {{"service", str}, {"project", str}, {"model_ref", str},
                                            {"result", {{"type", "string"}, {"enum", {"created", "updated", "unchanged"}}}}}}};
  // Data sets (docs/datasets.md).
  s["Dataset"] = {{"type", "object"},
                  {"properties", {{"id", int_t}, {"project", str}, {"name", str}, {"description", str},
                                  {"created_by", str}, {"created_at", time}, {"updated_at", time},
                                  {"versions", int_t}, {"latest_version", {{"type", "integer"}, {"nullable", true}}},
                                  {"version_list", {{"type", "array"}, {"items", Ref("DatasetVersion")}}},
                                  {"uploads", {{"type", "array"}, {"items", Ref("DatasetUpload")}}}}}};
  s["NewDataset"] = s["NewModel"];
  s["DatasetUpload"] = {{"type", "object"},
                        {"properties", {{"id", int_t}, {"path", str}, {"size", int_t}, {"sha256", str},
                                        {"uploaded_by", str}, {"uploaded_at", time}}}};
  s["DatasetVersion"] = {{"type", "object"},
                         {"properties",
                          {{"dataset", str}, {"project", str}, {"version", int_t}, {"ref", str},
                           {"files", {{"type", "array"}, {"items", model_file}}}, {"file_count", int_t},
                           {"size_bytes", int_t},
                           {"source", {{"type", "object"},
                                       {"properties", {{"kind", {{"type", "string"}, {"enum", {"upload", "task", "volume"}}}},
                                                       {"run", int_t}, {"pipeline", str}, {"task", str},
                                                       {"attempt", int_t}, {"path", str}}}}},
                           {"description", str}, {"created_by", str}, {"created_at", time},
                           {"read_by", {{"type", "array"},
                                        {"items", {{"type", "object"},
                                                   {"properties", {{"kind", str}, {"id", int_t}, {"detail", str},
                                                                   {"read_at", time}}}}}}},
                           {"skipped", {{"type", "array"}, {"items", str}}}}}};
  s["NewDatasetVersion"] = {{"type", "object"}, {"additionalProperties", false},
                            {"properties", {{"uploads", {{"oneOf", {{{"type", "array"}, {"items", int_t}},
                                                                     {{"type", "string"}, {"enum", {"all"}}}}}}},
                                            {"run", int_t}, {"task", str},
                                            {"path", StringProp("with run: a file or directory of the task's /outputs")},
                                            {"volume_path", StringProp("a file or directory under your /mnt/USER")},
                                            {"description", str}}}};
  s["DatasetPreview"] = {{"type", "object"},
                         {"properties", {{"path", str}, {"size", int_t},
                                         {"kind", {{"type", "string"},
                                                   {"enum", {"table", "json", "jsonl", "text", "image", "binary"}}}},
                                         {"columns", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                                         {"rows", {{"type", "array"}}}, {"row_count", int_t},
                                         {"value", Json::object()}, {"head", str}, {"truncated", {{"type", "boolean"}}}}}};
  Json build = build_props;
  build["id"] = {{"type", "integer"}};
  build["state"] = {{"type", "string"}, {"enum", {"pending", "running", "succeeded", "failed"}}};
  build["reason"] = str;
  build["created_by"] = str;
  build["created_at"] = time;
  build["started_at"] = {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
  build["finished_at"] = {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
  s["ImageBuild"] = {{"type", "object"}, {"properties", build}};

  // Pipelines (docs/pipelines.md): documents are open objects; the key fields are listed.
  Json obj = {{"type", "object"}};
  Json id = {{"type", "integer"}};
  Json nullable_time = {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
  Json run_state = {{"type", "string"}, {"enum", {"pending", "running", "succeeded", "failed", "stopped"}}};
  s["Template"] = {{"type", "object"}, {"required", {"name", "image"}},
                   {"properties", {{"id", id}, {"project", str}, {"name", str}, {"image", str}, {"version", str},
                                   {"description", str}, {"command", {{"type", "array"}, {"items", str}}},
                                   {"working_dir", str}, {"env", obj}, {"volume_mount", str}, {"resources", obj},
                                   {"files", obj},
                                   {"args", {{"type", "object"},
                                             {"description", "cube-studio parameter schema {group: {flag: attrs}}"}}}}}};
  Json task = {{"type", "object"}, {"required", {"name", "template"}},
               {"properties", {{"name", str}, {"template", str}, {"args", obj},
                               {"depends_on", {{"type", "array"}, {"items", str}}}, {"resources", obj},
                               {"timeout", {{"type", "integer"}}}, {"retries", {{"type", "integer"}}},
                               {"retry_backoff", {{"type", "integer"}}}, {"skip", {{"type", "boolean"}}}}}};
  s["Pipeline"] = {{"type", "object"}, {"required", {"name", "tasks"}},
                   {"properties", {{"id", id}, {"project", str}, {"name", str}, {"description", str},
                                   {"global_env", obj}, {"parallelism", {{"type", "integer"}}},
                                   {"max_active_runs", {{"type", "integer"}}}, {"depends_on_past", {{"type", "boolean"}}},
                                   {"expired_limit", {{"type", "integer"}}}, {"schedule", obj}, {"webhook", obj},
                                   {"tasks", {{"type", "array"}, {"items", task}}}, {"next_fire", nullable_time},
                                   {"last_run", obj}}}};
  Json task_state = {{"type", "string"},
                     {"enum", {"pending", "running", "succeeded", "failed", "stopped", "skipped", "upstream_failed"}}};
  Json task_run = {{"type", "object"},
                   {"properties", {{"name", str}, {"state", task_state}, {"attempt", id}, {"max_attempts", id},
                                   {"reason", str}, {"exit_code", {{"type", "integer"}, {"nullable", true}}},
                                   {"oom_killed", {{"type", "boolean"}}}, {"runtime", str}, {"workload", str},
                                   {"node", str}, {"image", str}, {"argv", {{"type", "array"}, {"items", str}}},
                                   {"started_at", nullable_time}, {"finished_at", nullable_time},
                                   {"peak_memory_bytes", id}, {"outputs", obj}, {"attempts", {{"type", "array"}, {"items", obj}}}}}};
  s["Run"] = {{"type", "object"},
              {"properties", {{"id", id}, {"project", str}, {"pipeline", str}, {"state", run_state}, {"reason", str},
                              {"trigger", {{"type", "string"}, {"enum", {"manual", "schedule", "debug"}}}},
                              {"runner", str}, {"execution_date", str}, {"created_at", time},
                              {"started_at", nullable_time}, {"finished_at", nullable_time},
                              {"tasks", {{"type", "array"}, {"items", task_run}}}}}};
  s["ScheduleRecord"] = {{"type", "object"},
                         {"properties", {{"id", id}, {"project", str}, {"pipeline", str}, {"execution_date", time},
                                         {"execution_date_local", str}, {"timezone", str},
                                         {"state", StringProp("comed, created, or skipped: REASON")},
                                         {"run_id", {{"type", "integer"}, {"nullable", true}}}, {"created_at", time}}}};
  Json num = {{"type", "number"}};
  Json nullable_num = {{"type", "number"}, {"nullable", true}};
  s["ExperimentDocument"] = {
      {"type", "object"},
      {"required", {"name", "image", "command", "search_space"}},
      {"description", "kind: Experiment (docs/hpo.md); cube-studio names accepted as aliases"},
      {"properties", {{"project", str}, {"name", str}, {"description", str}, {"image", str},
                      {"command", {{"type", "array"}, {"items", str}}}, {"working_dir", str}, {"env", obj},
                      {"volume_mount", str}, {"resources", obj}, {"files", obj},
                      {"search_space", {{"type", "object"}, {"description", "NNI search space"}}},
                      {"tuner", str}, {"tuner_args", obj}, {"assessor", str}, {"assessor_args", obj},
                      {"objective", {{"type", "string"}, {"enum", {"maximize", "minimize"}}}},
                      {"max_trials", id}, {"parallelism", id}, {"max_duration", id}, {"max_failed_trials", id},
                      {"trial_timeout", id}, {"seed", id}}}};
  Json trial_state = {{"type", "string"},
                      {"enum", {"pending", "running", "succeeded", "failed", "stopped", "early_stopped"}}};
  s["Trial"] = {{"type", "object"},
                {"properties", {{"id", id}, {"sequence", id}, {"trial_id", str}, {"state", trial_state},
                                {"reason", str}, {"parameters", obj}, {"value", nullable_num},
                                {"intermediate_count", id}, {"latest", nullable_num},
                                {"argv", {{"type", "array"}, {"items", str}}},
                                {"exit_code", {{"type", "integer"}, {"nullable", true}}}, {"workload", str},
                                {"created_at", time}, {"started_at", nullable_time}, {"finished_at", nullable_time},
                                {"intermediate", {{"type", "array"}, {"items", obj}}}}}};
  s["Experiment"] = {{"type", "object"},
                     {"properties", {{"id", id}, {"key", str}, {"name", str}, {"project", str}, {"state", run_state},
                                     {"reason", str}, {"tuner", str}, {"assessor", str}, {"objective", str},
                                     {"max_trials", id}, {"parallelism", id}, {"max_duration", id}, {"spec", obj},
                                     {"trials", obj}, {"best", {{"type", "object"}, {"nullable", true}}},
                                     {"created_by", str}, {"created_at", time}, {"started_at", nullable_time},
                                     {"finished_at", nullable_time}}}};
  s["TrialParameters"] = {{"type", "object"},
                          {"properties", {{"parameter_id", id}, {"parameters", obj}, {"experiment_id", str},
                                          {"trial_id", str}, {"sequence_id", id}}}};
  s["TrialMetric"] = {{"type", "object"},
                      {"required", {"type", "value"}},
                      {"properties", {{"type", {{"type", "string"}, {"enum", {"PERIODICAL", "FINAL"}}}}, {"value", num}}}};
  s["Service"] = {{"type", "object"},
                  {"description", "kind: Service or InferenceService (docs/services.md); read adds id, state, "
                                  "generation, url, hosts, replica_states, events"},
                  {"properties", {{"id", id}, {"kind", str}, {"project", str}, {"name", str}, {"image", str},
                                  {"command", {{"type", "array"}, {"items", str}}}, {"env", obj},
                                  {"ports", {{"type", "array"}, {"items", id}}}, {"resources", obj},
                                  {"replicas", id}, {"replica_states", {{"type", "array"}, {"items", obj}}}, {"host", str}, {"health", str},
                                  {"state", str}, {"reason", str}, {"generation", id}, {"url", str},
                                  {"hosts", {{"type", "array"}, {"items", str}}},
                                  {"events", {{"type", "array"}, {"items", obj}}}}}};
  s["Notebook"] = {{"type", "object"},
                   {"description", "kind: Notebook (docs/notebooks.md); read adds id, desired, state, reason, "
                                   "generation, path, url, started_at, last_activity, server"},
                   {"properties", {{"id", id}, {"kind", str}, {"project", str}, {"name", str}, {"description", str},
                                   {"type", {{"type", "string"}, {"enum", {"jupyter", "vscode"}}}}, {"image", str},
                                   {"working_dir", str}, {"env", obj}, {"volume_mount", str}, {"resources", obj},
                                   {"desired", str}, {"state", str}, {"reason", str}, {"generation", id},
                                   {"path", str}, {"url", str}, {"started_at", nullable_time},
                                   {"last_activity", nullable_time}, {"server", obj}}}};
  s["TrialMetricReply"] = {{"type", "object"}, {"properties", {{"ok", {{"type", "boolean"}}}, {"step", id}}}};
  return s;
}

Json ResponseSchema(const std::string& ref) {
  if (ref.rfind("List:", 0) == 0) {
    return {{"type", "object"},
            {"properties", {{"items", {{"type", "array"}, {"items", Ref(ref.substr(5))}}}}}};
  }
  return Ref(ref.empty() ? "Empty" : ref);
}

}  // namespace

Json BuildOpenApi(const Router& router) {
  Json paths = Json::object();
  static const std::regex kParam(R"(\{([a-z_]+)\})");
  for (const Route& r : router.routes()) {
    Json op = {{"summary", r.doc.summary}, {"tags", {r.doc.tag}}};
    op["operationId"] = r.method + " " + r.pattern;
    Json params = Json::array();
    for (std::sregex_iterator it(r.pattern.begin(), r.pattern.end(), kParam), end; it != end; ++it) {
      params.push_back({{"name", (*it)[1].str()}, {"in", "path"}, {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.doc.request_ref.empty()) {
      Json content = {{"application/json", {{"schema", Ref(r.doc.request_ref)}}}};
      if (r.doc.request_ref == "Binary") content = {{"application/octet-stream", {{"schema", Ref("Binary")}}}};
      if (r.doc.request_ref == "Documents") {
        content = {{"application/yaml", {{"schema", Ref("Documents")}}},
                   {"application/json", {{"schema", Ref("Documents")}}}};
      }
      op["requestBody"] = {{"required", true}, {"content", content}};
    }
    std::string ok = std::to_string(r.doc.success_status);
    std::string type = r.doc.response_ref == "Text"     ? "text/plain"
                       : r.doc.response_ref == "Binary" ? "application/octet-stream"
                                                        : "application/json";
    op["responses"][ok] = {{"description", "success"},
                           {"content", {{type, {{"schema", ResponseSchema(r.doc.response_ref)}}}}}};
    op["responses"]["default"] = {{"description", "an error"},
                                  {"content", {{"application/json", {{"schema", Ref("Error")}}}}}};
    if (r.access == Access::kPublic) {
      op["security"] = Json::array();
    }
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[r.pattern][method] = std::move(op);
  }
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "Quader API"}, {"version", "0.1.0"},
                    {"description", "The REST API of Quader, a self-hosted machine-learning platform."}}},
          {"servers", {{{"url", "/"}}}},
          {"security", {{{"bearerAuth", Json::array()}}, {{"sessionCookie", Json::array()}}}},
          {"paths", paths},
          {"components",
           {{"schemas", Schemas()},
            {"securitySchemes",
             {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}}},
              {"sessionCookie", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "quader_session"}}}}}}}};
}

}  // namespace quader::api
