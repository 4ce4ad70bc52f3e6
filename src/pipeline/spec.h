#pragma once
// The `JobTemplate` and `Pipeline` documents (SPEC §1, §5), typed and
// validated. Parsing checks fields and types; ValidatePipeline checks the
// DAG and the variables; ResolveTemplates checks every task against its
// template. Every error is kInvalidArgument naming the field, so a refused
// document changes nothing and tells the user what to fix.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/expand.h"
#include "core/documents.h"
#include "core/status.h"
#include "pipeline/template_args.h"
#include "workload/dataset_ref.h"

namespace quader::pipeline {

// cpu (cores), memory (bytes), gpu (count or fraction). 0 = unset.
struct ResourceSpec {
  double cpu = 0;
  int64_t memory_bytes = 0;
  double gpu = 0;
};

// kind: JobTemplate
struct TemplateSpec {
  std::string project = "public";
  std::string name;                  // ValidateObjectName
  // Another name tasks may use for it: cube-studio's name when that is not a
  // Quader name ("自定义镜像"). Any text of at most 100 characters, no control
  // characters or '/'; never used in paths, labels or hosts.
  std::string alias;
  std::string image;                 // "quader/python:3.11"
  std::string version = "Release";   // Release or Alpha
  std::string description;
  std::vector<std::string> command;  // entrypoint: a list, or a string split like shell words (command_words.h)
  std::string working_dir;
  std::map<std::string, std::string> env;       // an object, or "K=V" lines
  std::string volume_mount;                     // the project grammar, raw
  std::vector<auth::VolumeMount> mounts;        // parsed from volume_mount
  ResourceSpec resources;                       // defaults for tasks
  std::map<std::string, std::string> files;     // name -> content, mounted read-only at /template
  ArgSchema args;
  // cube-studio's fields that mean nothing here (its category `project_name`,
  // gitpath, image_describe, job_template_expand, job_template_account,
  // job_template_old_names), kept as given (docs/cube-studio.md).
  Json cube_studio = Json::object();

  // The normalised document as stored and shown (kind, name, project included).
  Json ToJson() const;
};

// Parses a JobTemplate document (`kind` may be present and is ignored).
// Fields: name, alias, project, image (required), version, description,
// command, working_dir, env, volume_mount, resources {cpu, memory, gpu},
// files, args, cube_studio. cube-studio's names are accepted as aliases:
// image_name, job_template_describe, job_template_command,
// job_template_workdir, job_template_env, job_template_volume,
// job_template_args, job_template_version, and job_template_name (the alias
// when it differs from name); its meaningless fields go to `cube_studio`.
// Unknown fields are refused. File names must be plain names (no '/').
// A command may use `{{args.NAME}}`: the task's value of that parameter,
// which is then not passed as an argument (pipeline/run_controller.cpp).
Result<TemplateSpec> ParseTemplateSpec(const Json& doc);

// The built-in template cube-studio users know as `自定义镜像` or `customize`:
// args `images`, `workdir`, `command`; runs `bash -c COMMAND` in IMAGE at
// WORKDIR. It always resolves (LookupTemplate) unless a stored template of
// the same name shadows it.
inline constexpr const char* kCustomizeTemplate = "customize";
inline constexpr const char* kCustomizeTemplateAlias = "自定义镜像";
const TemplateSpec& CustomizeTemplate();

// cube-studio's `model-register` template, built in (builtin_templates.cpp):
// its arguments (--model_name, --model_path, --framework, --model_metric,
// ...) declare the model in the task's outputs.json, so the task registers
// a version in Quader's registry when it succeeds (docs/models.md).
inline constexpr const char* kModelRegisterTemplate = "model-register";
const TemplateSpec& ModelRegisterTemplate();

// cube-studio's `deploy-service`, built in: --model_name and --model_version
// (vN or N; else the newest) declare deploy_model in the task's
// outputs.json, so the task serves that registry version when it succeeds.
inline constexpr const char* kDeployServiceTemplate = "deploy-service";
const TemplateSpec& DeployServiceTemplate();

// The built-in template `text` names ("customize", "自定义镜像",
// "model-register", "deploy-service", or those with "public/"), or null. A stored template of
// the same name shadows it.
const TemplateSpec* BuiltinTemplate(const std::string& text);

// cube-studio's flat `resource_cpu`, `resource_memory` and `resource_gpu`
// fields of `doc`, moved into `sub["resources"]` (the JobTemplate form) for
// kinds that accept them (services, notebooks). kInvalidArgument naming the
// alias when both it and resources.X are given.
Status MergeResourceAliases(const Json& doc, Json* sub);

struct TaskSpec {
  std::string name;                       // ValidateObjectName, unique in the pipeline
  std::string label;                      // display name
  std::string template_name;              // "name" (own project, then public) or "project/name"
  Json args = Json::object();             // values for the template's schema (rendered per run)
  std::vector<std::string> depends_on;    // upstream task names
  std::optional<double> cpu;              // resources: override the template's
  std::optional<int64_t> memory_bytes;
  std::optional<double> gpu;
  int64_t timeout_seconds = 0;            // 0: none. "600", 600, "10m", "2h"
  int retries = 0;                        // extra attempts after a failure
  int64_t retry_backoff_seconds = 10;     // before attempt 2; doubled for each later attempt
  std::map<std::string, std::string> node_selector;  // "k=v,k2=v2" or an object
  std::string volume_mount;               // extra mounts, project grammar
  std::vector<auth::VolumeMount> mounts;
  // Data set versions the task reads, mounted read-only at /datasets/NAME
  // (docs/datasets.md): `[iris@2, digits]`, or "iris@2,digits".
  std::vector<workload::DatasetRef> datasets;
  std::map<std::string, std::string> env;
  std::string working_dir;                // overrides the template's
  std::vector<std::string> command;       // overrides the template's entrypoint
  bool skip = false;                      // not run; downstream tasks proceed
  // `extra_args: ignore`: arguments the template does not declare are kept in
  // `args` but not passed (cube-studio's behaviour; its imports set it).
  // Default `refuse`: such an argument is an error naming it.
  bool ignore_extra_args = false;
  // cube-studio's task fields that mean nothing here (resource_rdma, outputs,
  // monitoring, expand, overwrite_entrypoint, namespace), kept as given.
  Json cube_studio = Json::object();
};

struct ScheduleSpec {
  std::string cron;                  // 5 fields or @hourly/@daily/… (cron/cron_expr.h)
  std::string timezone = "UTC";      // IANA name
  std::optional<int64_t> start_time; // unix seconds; no fire before it. RFC 3339 or "YYYY-MM-DD HH:MM:SS" (in timezone)
  std::string catchup = "latest";    // none, latest, all (docs/pipelines.md "Catch-up")
  bool enabled = true;
};

struct WebhookSpec {
  std::string url;                                 // http:// or https://
  std::vector<std::string> on = {"failed"};        // run states that call it: failed, succeeded, stopped
};

// kind: Pipeline
struct PipelineSpec {
  std::string project = "public";
  std::string name;
  std::string description;
  std::map<std::string, std::string> global_env;  // an object, or "K=V" lines
  int parallelism = 4;                            // tasks running at once in one run (1..1000)
  int max_active_runs = 1;                        // runs at once (scheduled launches beyond are skipped)
  bool depends_on_past = false;                   // a scheduled run waits for the previous one to succeed
  int64_t expired_limit_seconds = 0;              // a schedule record older than this is not launched; 0: never
  std::optional<ScheduleSpec> schedule;
  std::optional<WebhookSpec> webhook;
  std::vector<TaskSpec> tasks;                    // in document order
  // cube-studio's pipeline fields that mean nothing here (parameter, expand,
  // namespace, alert_*, node_selector, image_pull_policy, priority, type,
  // schedule_type, cron_time, cronjob_start_time), kept as given.
  Json cube_studio = Json::object();

  const TaskSpec* Find(const std::string& task) const;
  Json ToJson() const;
};

// Parses a Pipeline document: fields and types only. Unknown fields are
// refused. Durations accept seconds or "30s", "10m", "2h", "1d".
// cube-studio's names are accepted: `describe`, `dag_json` (each task's
// upstream list becomes its depends_on unless it has one), a task's
// `job_templete`; the fields meaning nothing here go to `cube_studio`.
Result<PipelineSpec> ParsePipelineSpec(const Json& doc);

// The structure: at least one task; duplicate task names; depends_on naming
// an unknown task or itself; a cycle, named along its path
// (`tasks: cycle train -> evaluate -> train`); every {{variable}} in
// global_env, args, env, working_dir and command is known (execution_date,
// run_id, pipeline_name, pipeline_id, creator, runner, a global_env key, or
// tasks.T.outputs.K where T is an ancestor of the task using it; global_env
// values themselves may use only the six built-in names, since globals are
// rendered once and do not chain); a bad cron expression or time zone
// (through cron/cron_expr.h).
Status ValidatePipeline(const PipelineSpec& spec);

// kInvalidArgument naming `field` unless `key` is a variable name: letters,
// digits, '_', '.', '-', not starting with a digit.
Status CheckEnvKey(const std::string& field, const std::string& key);

// Every task's template, resolved. `lookup` finds a template by the task's
// `template` text (returning kNotFound when there is none). Each task's args
// are checked against its template's schema (templates allowed) and stored
// normalised back into `spec`. Errors name the task:
// `tasks[2] (evaluate).template: job template "evl" not found`; a lookup
// error other than kNotFound is returned as it is. A task with
// `extra_args: ignore` has the arguments its template does not declare left
// out (not refused). The result maps each task
// name to its template; on error `spec` is left unchanged.
using TemplateLookup = std::function<Result<TemplateSpec>(const std::string& template_name)>;
Result<std::map<std::string, TemplateSpec>> ResolveTemplates(PipelineSpec* spec, const TemplateLookup& lookup);

// Task names in an order where every task comes after its upstreams.
std::vector<std::string> TopologicalOrder(const PipelineSpec& spec);

// "600" / 600 / "10m" / "2h" / "1d" -> seconds (errors name `field`).
Result<int64_t> ParseDuration(const std::string& field, const Json& value);

}  // namespace quader::pipeline
