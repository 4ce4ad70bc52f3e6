#include "pipeline/spec.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

#include <date/date.h>
#include <date/tz.h>

#include "core/ignored_fields.h"
#include "core/names.h"
#include "cron/cron_expr.h"
#include "pipeline/command_words.h"

// Parsing and the stored form of JobTemplate and Pipeline documents. The
// structural checks (DAG, variables, templates) are in spec_validate.cpp.

namespace quader::pipeline {
namespace {

constexpr int64_t kMiB = 1LL << 20;
constexpr int64_t kGiB = 1LL << 30;
constexpr int64_t kMaxFilesBytes = kMiB;
constexpr int64_t kMaxDurationSeconds = 100LL * 365 * 86400;

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string ScalarText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "";
  return v.dump();
}

// A whole string as a finite double ("2", "0.5"); nullopt otherwise.
std::optional<double> StrictDouble(const std::string& text) {
  std::string s = TrimSpace(text);
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

// Whole numbers are written as integers ("cpu": 2, not 2.0).
Json NumberJson(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return Json(static_cast<int64_t>(d));
  return Json(d);
}

Json MemoryJson(int64_t bytes) {
  if (bytes > 0 && bytes % kGiB == 0) return Json(std::to_string(bytes / kGiB) + "G");
  if (bytes > 0 && bytes % kMiB == 0) return Json(std::to_string(bytes / kMiB) + "M");
  return Json(bytes);
}

Result<double> ParseCpu(const std::string& field, const Json& v) {
  std::optional<double> cpu;
  if (v.is_number()) {
    cpu = v.get<double>();
  } else if (v.is_string()) {
    std::string s = TrimSpace(v.get<std::string>());
    if (!s.empty() && s.back() == 'm') {
      if (auto milli = StrictDouble(s.substr(0, s.size() - 1))) cpu = *milli / 1000;
    } else {
      cpu = StrictDouble(s);
    }
  }
  if (!cpu) return errors::Invalid(field, "must be a number of cores such as 2, 0.5 or \"500m\"");
  if (!(*cpu >= 0 && *cpu <= 1024)) return errors::Invalid(field, "must be between 0 and 1024 cores");
  return *cpu;
}

Result<int64_t> ParseMemory(const std::string& field, const Json& v) {
  if (v.is_number_integer()) {
    if (v.get<int64_t>() < 0) return errors::Invalid(field, "must not be negative");
    return v.get<int64_t>();
  }
  if (v.is_string()) {
    std::string s = TrimSpace(v.get<std::string>());
    if (s == "0") return int64_t{0};
    return auth::ParseMemorySize(field, s);
  }
  return errors::Invalid(field, "must be a size such as \"4G\" or \"512M\", or a number of bytes");
}

Result<double> ParseGpu(const std::string& field, const Json& v) {
  std::optional<double> gpu;
  if (v.is_number()) gpu = v.get<double>();
  else if (v.is_string()) gpu = StrictDouble(v.get<std::string>());
  if (!gpu) return errors::Invalid(field, "must be a number of GPUs such as 1 or 0.5");
  if (!(*gpu >= 0 && *gpu <= 256)) return errors::Invalid(field, "must be between 0 and 256");
  return *gpu;
}

Status CheckEnvKeyImpl(const std::string& field, const std::string& key) {
  static const std::regex kKey(R"(^[A-Za-z_][A-Za-z0-9_.-]*$)");
  if (!std::regex_match(key, kKey)) {
    return errors::Invalid(field, Quoted(key) + " is not a valid variable name (letters, digits, '_', '.', '-'; "
                                                "not starting with a digit)");
  }
  return Status::Ok();
}

// An object of scalars, or "KEY=VALUE" lines (blank lines and # comments skipped).
Result<std::map<std::string, std::string>> ParseEnv(const std::string& field, const Json* v) {
  std::map<std::string, std::string> out;
  if (!v) return out;
  if (v->is_object()) {
    for (const auto& [key, value] : v->items()) {
      QUADER_RETURN_IF_ERROR(CheckEnvKeyImpl(field, key));
      if (value.is_structured()) return errors::Invalid(field + "." + key, "must be a string");
      out[key] = ScalarText(value);
    }
    return out;
  }
  if (!v->is_string()) return errors::Invalid(field, "must be an object, or KEY=VALUE lines");
  const std::string& text = v->get_ref<const std::string&>();
  size_t start = 0;
  for (int line_no = 1; start <= text.size(); ++line_no) {
    size_t nl = text.find('\n', start);
    std::string line = TrimSpace(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    start = nl == std::string::npos ? text.size() + 1 : nl + 1;
    if (line.empty() || line[0] == '#') continue;
    std::string where = field + " (line " + std::to_string(line_no) + ")";
    size_t eq = line.find('=');
    if (eq == std::string::npos) return errors::Invalid(where, Quoted(line) + " is not KEY=VALUE");
    std::string key = TrimSpace(line.substr(0, eq));
    QUADER_RETURN_IF_ERROR(CheckEnvKeyImpl(where, key));
    if (out.count(key)) return errors::Invalid(where, key + " is set twice");
    out[key] = TrimSpace(line.substr(eq + 1));
  }
  return out;
}

// A list of strings, or one string split into words like a shell does
// (command_words.h).
Result<std::vector<std::string>> ParseCommand(const std::string& field, const Json* v) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) return SplitCommandWords(field, v->get_ref<const std::string&>());
  if (!v->is_array()) return errors::Invalid(field, "must be a list of strings, or a string of words as a shell splits them");
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    if (!item.is_string() && !item.is_number()) {
      return errors::Invalid(field + "[" + std::to_string(i) + "]", "must be a string");
    }
    out.push_back(ScalarText(item));
  }
  return out;
}

Result<std::string> ParseWorkingDir(const std::string& field, const Json* v) {
  if (!v) return std::string();
  if (!v->is_string()) return errors::Invalid(field, "must be a string");
  std::string dir = TrimSpace(v->get<std::string>());
  if (!dir.empty() && dir[0] != '/' && dir.find("{{") == std::string::npos) {
    return errors::Invalid(field, Quoted(dir) + " must be an absolute path");
  }
  return dir;
}

Result<std::map<std::string, std::string>> ParseFiles(const std::string& field, const Json* v) {
  std::map<std::string, std::string> out;
  if (!v) return out;
  if (!v->is_object()) return errors::Invalid(field, "must be an object of {file name: content}");
  int64_t total = 0;
  for (const auto& [name, content] : v->items()) {
    std::string f = field + "." + name;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      return errors::Invalid(f, "a file name must be a plain name (no '/', not \".\" or \"..\")");
    }
    if (!content.is_string()) return errors::Invalid(f, "must be the file's text");
    total += static_cast<int64_t>(content.get_ref<const std::string&>().size());
    out[name] = content.get<std::string>();
  }
  if (total > kMaxFilesBytes) {
    return errors::Invalid(field, "total size " + std::to_string(total) + " bytes exceeds 1 MiB");
  }
  return out;
}

Result<std::string> ParseString(const std::string& field, const Json* v) {
  if (!v) return std::string();
  if (!v->is_string()) return errors::Invalid(field, "must be a string");
  return v->get<std::string>();
}

Result<std::vector<auth::VolumeMount>> ParseMounts(const std::string& field, const std::string& text) {
  if (TrimSpace(text).empty()) return std::vector<auth::VolumeMount>{};
  return auth::ParseVolumeMounts(field, text);
}

Result<std::map<std::string, std::string>> ParseSelector(const std::string& field, const Json* v) {
  if (!v) return std::map<std::string, std::string>{};
  if (v->is_string()) return auth::ParseNodeSelector(field, v->get<std::string>());
  if (!v->is_object()) return errors::Invalid(field, "must be \"key=value,...\" or an object of labels");
  std::string text;
  for (const auto& [key, value] : v->items()) {
    if (value.is_structured()) return errors::Invalid(field + "." + key, "must be a string");
    text += (text.empty() ? "" : ",") + key + "=" + ScalarText(value);
  }
  return auth::ParseNodeSelector(field, text);
}

Result<int64_t> IntInRange(const FieldReader& r, const std::string& key, int64_t fallback, int64_t lo, int64_t hi) {
  QUADER_ASSIGN_OR_RETURN(int64_t n, r.Int(key, fallback));
  if (n < lo || n > hi) {
    return errors::Invalid(r.PathOf(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return n;
}

Result<ResourceSpec> ParseTemplateResources(const std::string& field, const Json* v) {
  ResourceSpec res;
  if (!v) return res;
  FieldReader r(*v, field);
  QUADER_RETURN_IF_ERROR(r.CheckObject());
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"cpu", "memory", "gpu"}));
  if (const Json* cpu = FieldOrNull(*v, "cpu")) {
    QUADER_ASSIGN_OR_RETURN(res.cpu, ParseCpu(r.PathOf("cpu"), *cpu));
  }
  if (const Json* mem = FieldOrNull(*v, "memory")) {
    QUADER_ASSIGN_OR_RETURN(res.memory_bytes, ParseMemory(r.PathOf("memory"), *mem));
  }
  if (const Json* gpu = FieldOrNull(*v, "gpu")) {
    QUADER_ASSIGN_OR_RETURN(res.gpu, ParseGpu(r.PathOf("gpu"), *gpu));
  }
  return res;
}

// "2026-11-29T00:00:00Z", "...+08:00", or "2026-11-29 00:00:00" in `timezone`.
Result<int64_t> ParseStartTime(const std::string& field, const Json& v, const std::string& timezone) {
  if (v.is_number_integer()) return v.get<int64_t>();
  static const std::regex kTime(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([Zz]|[+-]\d{2}:?\d{2})?$)");
  std::smatch m;
  std::string text = v.is_string() ? TrimSpace(v.get<std::string>()) : "";
  if (!v.is_string() || !std::regex_match(text, m, kTime)) {
    return errors::Invalid(field, "must be a time such as \"2026-11-29T00:00:00Z\" or \"2026-11-29 00:00:00\"");
  }
  date::year_month_day ymd{date::year{std::stoi(m[1])}, date::month{static_cast<unsigned>(std::stoi(m[2]))},
                           date::day{static_cast<unsigned>(std::stoi(m[3]))}};
  int hh = std::stoi(m[4]), mm = std::stoi(m[5]), ss = m[6].matched ? std::stoi(m[6]) : 0;
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 59) return errors::Invalid(field, Quoted(text) + " is not a valid time");
  auto local = std::chrono::seconds(date::sys_days(ymd).time_since_epoch()) + std::chrono::hours(hh) +
               std::chrono::minutes(mm) + std::chrono::seconds(ss);
  std::string offset = m[8];
  if (offset.empty()) {
    QUADER_ASSIGN_OR_RETURN(const date::time_zone* zone, cron::LoadZone("schedule.timezone", timezone));
    // A time skipped by a daylight-saving gap maps to the end of the gap;
    // a repeated one to its first occurrence.
    auto sys = zone->to_sys(date::local_seconds(local), date::choose::earliest);
    return static_cast<int64_t>(sys.time_since_epoch().count());
  }
  int64_t t = local.count();
  if (offset != "Z" && offset != "z") {
    std::string digits = offset.substr(1);
    digits.erase(std::remove(digits.begin(), digits.end(), ':'), digits.end());
    int oh = std::stoi(digits.substr(0, 2)), om = std::stoi(digits.substr(2, 2));
    if (oh > 23 || om > 59) return errors::Invalid(field, Quoted(text) + " has a bad UTC offset");
    int64_t off = oh * 3600 + om * 60;
    t += offset[0] == '+' ? -off : off;
  }
  return t;
}

std::string FormatRfc3339(int64_t unix_seconds) {
  return date::format("%FT%TZ", date::sys_seconds(std::chrono::seconds(unix_seconds)));
}

Result<std::optional<ScheduleSpec>> ParseSchedule(const Json* v) {
  if (!v) return std::optional<ScheduleSpec>();
  FieldReader r(*v, "schedule");
  QUADER_RETURN_IF_ERROR(r.CheckObject());
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"cron", "timezone", "start_time", "catchup", "enabled"}));
  ScheduleSpec s;
  QUADER_ASSIGN_OR_RETURN(s.cron, r.String("cron", true));
  s.cron = TrimSpace(s.cron);
  if (s.cron.empty()) return errors::Invalid("schedule.cron", "is required");
  QUADER_ASSIGN_OR_RETURN(s.timezone, r.String("timezone", false, "UTC"));
  s.timezone = TrimSpace(s.timezone);
  if (s.timezone.empty()) s.timezone = "UTC";
  if (const Json* start = FieldOrNull(*v, "start_time")) {
    QUADER_ASSIGN_OR_RETURN(s.start_time, ParseStartTime("schedule.start_time", *start, s.timezone));
  }
  QUADER_ASSIGN_OR_RETURN(s.catchup, r.String("catchup", false, "latest"));
  if (s.catchup != "none" && s.catchup != "latest" && s.catchup != "all") {
    return errors::Invalid("schedule.catchup", Quoted(s.catchup) + " is not none, latest or all");
  }
  QUADER_ASSIGN_OR_RETURN(s.enabled, r.Bool("enabled", true));
  return std::optional<ScheduleSpec>(std::move(s));
}

Result<std::optional<WebhookSpec>> ParseWebhook(const Json* v) {
  if (!v) return std::optional<WebhookSpec>();
  FieldReader r(*v, "webhook");
  QUADER_RETURN_IF_ERROR(r.CheckObject());
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"url", "on"}));
  WebhookSpec w;
  QUADER_ASSIGN_OR_RETURN(w.url, r.String("url", true));
  w.url = TrimSpace(w.url);
  bool http = w.url.rfind("http://", 0) == 0 && w.url.size() > 7;
  bool https = w.url.rfind("https://", 0) == 0 && w.url.size() > 8;
  if (!http && !https) return errors::Invalid("webhook.url", Quoted(w.url) + " must start with http:// or https://");
  if (const Json* on = FieldOrNull(*v, "on")) {
    Json items = on->is_string() ? Json::array({*on}) : *on;
    if (!items.is_array()) return errors::Invalid("webhook.on", "must be a list of run states");
    w.on.clear();
    for (size_t i = 0; i < items.size(); ++i) {
      std::string f = "webhook.on[" + std::to_string(i) + "]";
      if (!items[i].is_string()) return errors::Invalid(f, "must be a string");
      std::string state = items[i].get<std::string>();
      if (state != "failed" && state != "succeeded" && state != "stopped") {
        return errors::Invalid(f, Quoted(state) + " is not failed, succeeded or stopped");
      }
      if (std::find(w.on.begin(), w.on.end(), state) == w.on.end()) w.on.push_back(state);
    }
    if (w.on.empty()) return errors::Invalid("webhook.on", "must name at least one of failed, succeeded, stopped");
  }
  return std::optional<WebhookSpec>(std::move(w));
}

Result<std::vector<std::string>> ParseDependsOn(const std::string& field, const Json* v) {
  std::vector<std::string> out;
  if (!v) return out;
  Json items = Json::array();
  if (v->is_string()) {
    std::string cur;
    for (char c : v->get<std::string>() + ",") {
      if (c == ',') {
        if (!TrimSpace(cur).empty()) items.push_back(TrimSpace(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
  } else if (v->is_array()) {
    items = *v;
  } else {
    return errors::Invalid(field, "must be a list of task names");
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) return errors::Invalid(field + "[" + std::to_string(i) + "]", "must be a task name");
    std::string name = TrimSpace(items[i].get<std::string>());
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

// A template's alias: any text of at most 100 characters, no control
// characters or '/' (it is never used in paths, labels or hosts).
Status CheckAliasText(const std::string& field, const std::string& alias) {
  if (alias.size() > 100) return errors::Invalid(field, "is longer than 100 characters");
  for (unsigned char c : alias) {
    if (c < 0x20 || c == 0x7f || c == '/') {
      return errors::Invalid(field, Quoted(alias) + " holds a control character or '/'");
    }
  }
  return Status::Ok();
}

// A task's `template`: "name" or "project/name", the name being a
// template's name or its alias.
Status CheckTemplateRef(const std::string& field, const std::string& ref) {
  if (ref.empty()) return errors::Invalid(field, "is required");
  size_t slash = ref.find('/');
  std::string name = slash == std::string::npos ? ref : ref.substr(slash + 1);
  if (slash != std::string::npos) QUADER_RETURN_IF_ERROR(ValidateObjectName(field, ref.substr(0, slash)));
  if (ValidateObjectName(field, name).ok()) return Status::Ok();
  if (name.empty() || !CheckAliasText(field, name).ok()) return ValidateObjectName(field, name);
  return Status::Ok();
}

// resources {cpu, memory, gpu} and cube-studio's flat resource_* aliases.
Status ParseTaskResources(const Json& v, const FieldReader& r, TaskSpec* t) {
  const Json* res = FieldOrNull(v, "resources");
  Json obj = res ? *res : Json::object();
  FieldReader rr(obj, r.PathOf("resources"));
  QUADER_RETURN_IF_ERROR(rr.CheckObject());
  QUADER_RETURN_IF_ERROR(rr.CheckKnownKeys({"cpu", "memory", "gpu"}));
  // The value of one resource, nested or flat (never both); nullptr when unset.
  auto pick = [&](const std::string& key, std::string* field) -> Result<const Json*> {
    std::string alias = "resource_" + key;
    const Json* nested = FieldOrNull(obj, key);
    const Json* flat = FieldOrNull(v, alias);
    if (nested && flat) return errors::Invalid(r.PathOf(alias), "give resources." + key + " or " + alias + ", not both");
    *field = nested ? rr.PathOf(key) : r.PathOf(alias);
    return nested ? nested : flat;
  };
  std::string field;
  QUADER_ASSIGN_OR_RETURN(const Json* cpu, pick("cpu", &field));
  if (cpu) {
    QUADER_ASSIGN_OR_RETURN(t->cpu, ParseCpu(field, *cpu));
  }
  QUADER_ASSIGN_OR_RETURN(const Json* memory, pick("memory", &field));
  if (memory) {
    QUADER_ASSIGN_OR_RETURN(t->memory_bytes, ParseMemory(field, *memory));
  }
  QUADER_ASSIGN_OR_RETURN(const Json* gpu, pick("gpu", &field));
  if (gpu) {
    QUADER_ASSIGN_OR_RETURN(t->gpu, ParseGpu(field, *gpu));
  }
  return Status::Ok();
}

Result<TaskSpec> ParseTask(const Json& original, size_t index) {
  std::string base = "tasks[" + std::to_string(index) + "]";
  FieldReader first(original, base);
  QUADER_RETURN_IF_ERROR(first.CheckObject());
  TaskSpec t;
  QUADER_ASSIGN_OR_RETURN(t.name, first.String("name", true));
  QUADER_RETURN_IF_ERROR(ValidateObjectName(base + ".name", t.name));
  // cube-studio's spelling of `template` in its exports, and its task fields
  // that mean nothing here.
  Json v = original;
  QUADER_ASSIGN_OR_RETURN(const Json* tmpl, FieldOrAlias(original, "template", "job_templete"));
  v.erase("job_templete");
  if (tmpl) v["template"] = *tmpl;
  Status kept = KeepIgnoredFields(&v, {"resource_rdma", "outputs", "monitoring", "expand", "overwrite_entrypoint",
                                       "namespace", "job_template"});
  if (!kept.ok()) return errors::Invalid(base + ".cube_studio", "must be an object");
  FieldReader r(v, base + " (" + t.name + ")");
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"name", "label", "template", "args", "depends_on", "resources", "timeout",
                                           "retries", "retry", "retry_backoff", "node_selector", "volume_mount", "env",
                                           "working_dir", "command", "skip", "resource_cpu", "resource_memory",
                                           "resource_gpu", "cube_studio", "extra_args", "datasets"}));
  QUADER_ASSIGN_OR_RETURN(t.cube_studio, r.Object("cube_studio"));
  QUADER_ASSIGN_OR_RETURN(t.label, r.String("label", false));
  QUADER_ASSIGN_OR_RETURN(t.template_name, r.String("template", true));
  t.template_name = TrimSpace(t.template_name);
  QUADER_RETURN_IF_ERROR(CheckTemplateRef(r.PathOf("template"), t.template_name));
  if (const Json* args = FieldOrNull(v, "args")) {
    t.args = *args;
    if (args->is_string()) {
      std::string text = TrimSpace(args->get<std::string>());
      t.args = Json::parse(text.empty() ? "{}" : text, nullptr, /*allow_exceptions=*/false);
    }
    if (!t.args.is_object()) return errors::Invalid(r.PathOf("args"), "must be an object of {name: value}");
  }
  QUADER_ASSIGN_OR_RETURN(t.depends_on, ParseDependsOn(r.PathOf("depends_on"), FieldOrNull(v, "depends_on")));
  QUADER_RETURN_IF_ERROR(ParseTaskResources(v, r, &t));
  if (const Json* timeout = FieldOrNull(v, "timeout")) {
    QUADER_ASSIGN_OR_RETURN(t.timeout_seconds, ParseDuration(r.PathOf("timeout"), *timeout));
  }
  if (FieldOrNull(v, "retries") && FieldOrNull(v, "retry")) return errors::Invalid(r.PathOf("retry"), "give retries or retry, not both");
  std::string retries_key = FieldOrNull(v, "retry") ? "retry" : "retries";
  QUADER_ASSIGN_OR_RETURN(int64_t retries, IntInRange(r, retries_key, 0, 0, 20));
  t.retries = static_cast<int>(retries);
  if (const Json* backoff = FieldOrNull(v, "retry_backoff")) {
    QUADER_ASSIGN_OR_RETURN(t.retry_backoff_seconds, ParseDuration(r.PathOf("retry_backoff"), *backoff));
  }
  QUADER_ASSIGN_OR_RETURN(t.node_selector, ParseSelector(r.PathOf("node_selector"), FieldOrNull(v, "node_selector")));
  QUADER_ASSIGN_OR_RETURN(t.volume_mount, ParseString(r.PathOf("volume_mount"), FieldOrNull(v, "volume_mount")));
  t.volume_mount = TrimSpace(t.volume_mount);
  QUADER_ASSIGN_OR_RETURN(t.mounts, ParseMounts(r.PathOf("volume_mount"), t.volume_mount));
  QUADER_ASSIGN_OR_RETURN(t.datasets, workload::ParseDatasetRefs(r.PathOf("datasets"), FieldOrNull(v, "datasets")));
  QUADER_ASSIGN_OR_RETURN(t.env, ParseEnv(r.PathOf("env"), FieldOrNull(v, "env")));
  QUADER_ASSIGN_OR_RETURN(t.working_dir, ParseWorkingDir(r.PathOf("working_dir"), FieldOrNull(v, "working_dir")));
  QUADER_ASSIGN_OR_RETURN(t.command, ParseCommand(r.PathOf("command"), FieldOrNull(v, "command")));
  QUADER_ASSIGN_OR_RETURN(t.skip, r.Bool("skip", false));
  QUADER_ASSIGN_OR_RETURN(std::string extra, r.String("extra_args", false, "refuse"));
  if (extra != "refuse" && extra != "ignore") {
    return errors::Invalid(r.PathOf("extra_args"), Quoted(extra) + " is not refuse or ignore");
  }
  t.ignore_extra_args = extra == "ignore";
  return t;
}

Json TaskToJson(const TaskSpec& t) {
  Json resources = Json::object();
  if (t.cpu) resources["cpu"] = NumberJson(*t.cpu);
  if (t.memory_bytes) resources["memory"] = MemoryJson(*t.memory_bytes);
  if (t.gpu) resources["gpu"] = NumberJson(*t.gpu);
  Json out = {{"name", t.name},
          {"label", t.label},
          {"template", t.template_name},
          {"args", t.args},
          {"depends_on", t.depends_on},
          {"resources", resources},
          {"timeout", t.timeout_seconds},
          {"retries", t.retries},
          {"retry_backoff", t.retry_backoff_seconds},
          {"node_selector", t.node_selector},
          {"volume_mount", t.volume_mount},
          {"env", t.env},
          {"working_dir", t.working_dir},
          {"command", t.command},
          {"skip", t.skip}};
  if (!t.cube_studio.empty()) out["cube_studio"] = t.cube_studio;
  if (t.ignore_extra_args) out["extra_args"] = "ignore";
  if (!t.datasets.empty()) out["datasets"] = workload::DatasetRefsJson(t.datasets);
  return out;
}

}  // namespace

Result<int64_t> ParseDuration(const std::string& field, const Json& value) {
  auto bad = [&] {
    return errors::Invalid(field, value.dump(-1, ' ', false, Json::error_handler_t::replace) +
                                      " is not a duration (seconds, or such as 30s, 10m, 2h, 1d)");
  };
  int64_t total = 0;
  if (value.is_number_integer()) {
    total = value.get<int64_t>();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    if (!(std::floor(d) == d && std::fabs(d) <= static_cast<double>(kMaxDurationSeconds))) return bad();
    total = static_cast<int64_t>(d);
  } else if (value.is_string()) {
    std::string s = TrimSpace(value.get<std::string>());
    if (s.empty()) return bad();
    bool all_digits = s.find_first_not_of("0123456789") == std::string::npos;
    size_t i = 0;
    while (i < s.size()) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      if (j == i || j - i > 12) return bad();
      int64_t n = std::stoll(s.substr(i, j - i));
      int64_t unit = 1;
      if (j < s.size()) {
        switch (s[j]) {
          case 's': unit = 1; break;
          case 'm': unit = 60; break;
          case 'h': unit = 3600; break;
          case 'd': unit = 86400; break;
          default: return bad();
        }
        ++j;
      } else if (!all_digits) {
        return bad();  // "1h30": the last part needs its unit
      }
      total += n * unit;
      if (total > kMaxDurationSeconds) break;
      i = j;
    }
  } else {
    return bad();
  }
  if (total < 0) return errors::Invalid(field, "must not be negative");
  if (total > kMaxDurationSeconds) return errors::Invalid(field, "is longer than 100 years");
  return total;
}

Json TemplateSpec::ToJson() const {
  Json files_json = Json::object();
  for (const auto& [k, v] : files) files_json[k] = v;
  Json out = {{"kind", "JobTemplate"},
          {"project", project},
          {"name", name},
          {"image", image},
          {"version", version},
          {"description", description},
          {"command", command},
          {"working_dir", working_dir},
          {"env", env},
          {"volume_mount", volume_mount},
          {"resources",
           {{"cpu", NumberJson(resources.cpu)}, {"memory", MemoryJson(resources.memory_bytes)},
            {"gpu", NumberJson(resources.gpu)}}},
          {"files", files_json},
          {"args", args.ToJson()}};
  // Only when set, so that documents stored before these fields compare equal.
  if (!alias.empty()) out["alias"] = alias;
  if (!cube_studio.empty()) out["cube_studio"] = cube_studio;
  return out;
}

Status MergeResourceAliases(const Json& doc, Json* sub) {
  for (const char* what : {"cpu", "memory", "gpu"}) {
    std::string alias = std::string("resource_") + what;
    const Json* flat = FieldOrNull(doc, alias);
    if (!flat) continue;
    if (!sub->contains("resources")) (*sub)["resources"] = Json::object();
    if (!(*sub)["resources"].is_object()) break;  // ParseTemplateSpec names the error
    if ((*sub)["resources"].contains(what) && !(*sub)["resources"][what].is_null()) {
      return errors::Invalid(alias, std::string("is an alias of resources.") + what + "; give only one of them");
    }
    (*sub)["resources"][what] = *flat;
  }
  return Status::Ok();
}

namespace {

// A JobTemplate's fields and their cube-studio names.
const std::pair<const char*, const char*> kTemplateAliases[] = {
    {"image", "image_name"},           {"description", "job_template_describe"},
    {"command", "job_template_command"}, {"working_dir", "job_template_workdir"},
    {"env", "job_template_env"},       {"volume_mount", "job_template_volume"},
    {"args", "job_template_args"},     {"version", "job_template_version"},
};

// `doc` with cube-studio's names replaced by ours and its meaningless fields
// moved into `cube_studio`.
Result<Json> NormaliseTemplateAliases(const Json& doc) {
  if (!doc.is_object()) return doc;
  Json out = doc;
  for (const auto& [key, alias] : kTemplateAliases) {
    QUADER_ASSIGN_OR_RETURN(const Json* v, FieldOrAlias(doc, key, alias));
    out.erase(alias);
    if (v) out[key] = *v;
  }
  QUADER_RETURN_IF_ERROR(KeepIgnoredFields(&out, {"project_name", "gitpath", "image_describe", "job_template_expand",
                                                  "job_template_account", "job_template_old_names"}));
  if (const Json* cs_name = FieldOrNull(doc, "job_template_name")) {
    if (!cs_name->is_string()) return errors::Invalid("job_template_name", "must be a string");
    out.erase("job_template_name");
    if (!out.contains("name")) out["name"] = *cs_name;
    if (out["name"] != *cs_name) {
      if (out.contains("alias") && out["alias"] != *cs_name) {
        return errors::Invalid("job_template_name", "is an alias of alias; give only one of them");
      }
      out["alias"] = *cs_name;
    }
  }
  return out;
}

}  // namespace

Result<TemplateSpec> ParseTemplateSpec(const Json& original) {
  QUADER_ASSIGN_OR_RETURN(Json doc, NormaliseTemplateAliases(original));
  FieldReader r(doc, "");
  QUADER_RETURN_IF_ERROR(r.CheckObject());
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"kind", "name", "alias", "project", "image", "version", "description",
                                           "command", "working_dir", "env", "volume_mount", "resources", "files",
                                           "args", "cube_studio"}));
  TemplateSpec s;
  QUADER_ASSIGN_OR_RETURN(s.project, r.String("project", false, "public"));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("project", s.project));
  QUADER_ASSIGN_OR_RETURN(s.name, r.String("name", true));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("name", s.name));
  QUADER_ASSIGN_OR_RETURN(s.alias, r.String("alias", false));
  QUADER_RETURN_IF_ERROR(CheckAliasText("alias", s.alias));
  if (s.alias == s.name) s.alias.clear();
  QUADER_ASSIGN_OR_RETURN(s.cube_studio, r.Object("cube_studio"));
  QUADER_ASSIGN_OR_RETURN(s.image, r.String("image", true));
  s.image = TrimSpace(s.image);
  if (s.image.empty()) return errors::Invalid("image", "is required");
  if (s.image.find_first_of(" \t\r\n") != std::string::npos || s.image.size() > 512) {
    return errors::Invalid("image", Quoted(s.image) + " is not an image reference");
  }
  QUADER_ASSIGN_OR_RETURN(s.version, r.String("version", false, "Release"));
  if (s.version != "Release" && s.version != "Alpha") {
    return errors::Invalid("version", Quoted(s.version) + " is not Release or Alpha");
  }
  QUADER_ASSIGN_OR_RETURN(s.description, r.String("description", false));
  QUADER_ASSIGN_OR_RETURN(s.command, ParseCommand("command", FieldOrNull(doc, "command")));
  QUADER_ASSIGN_OR_RETURN(s.working_dir, ParseWorkingDir("working_dir", FieldOrNull(doc, "working_dir")));
  QUADER_ASSIGN_OR_RETURN(s.env, ParseEnv("env", FieldOrNull(doc, "env")));
  QUADER_ASSIGN_OR_RETURN(s.volume_mount, ParseString("volume_mount", FieldOrNull(doc, "volume_mount")));
  s.volume_mount = TrimSpace(s.volume_mount);
  QUADER_ASSIGN_OR_RETURN(s.mounts, ParseMounts("volume_mount", s.volume_mount));
  QUADER_ASSIGN_OR_RETURN(s.resources, ParseTemplateResources("resources", FieldOrNull(doc, "resources")));
  QUADER_ASSIGN_OR_RETURN(s.files, ParseFiles("files", FieldOrNull(doc, "files")));
  const Json* args = FieldOrNull(doc, "args");
  QUADER_ASSIGN_OR_RETURN(s.args, ParseArgSchema(args ? *args : Json::object(), "args"));
  return s;
}

const TemplateSpec& CustomizeTemplate() {
  static const TemplateSpec* const kSpec = [] {
    // Defaults as cube-studio's, except a plain public image.
    Json doc = {
        {"name", kCustomizeTemplate},
        {"alias", kCustomizeTemplateAlias},
        {"image", "ubuntu:22.04"},
        {"description", "Runs `bash -c COMMAND` in any image (cube-studio's 自定义镜像 / customize)"},
        {"command", Json::array({"bash", "-c", "{{args.command}}"})},
        {"args",
         {{"Task",
           {{"images",
             {{"type", "str"}, {"label", "Image"}, {"require", 1}, {"default", "ubuntu:22.04"},
              {"describe", "The image to run in (ignored by the process runtime)"}}},
            {"workdir",
             {{"type", "str"}, {"label", "Working directory"}, {"require", 1}, {"default", "/mnt/{{creator}}/"},
              {"describe", "Where the command starts"}}},
            {"command",
             {{"type", "str"}, {"label", "Command"}, {"require", 1}, {"default", "echo 'test'"},
              {"describe", "Run as bash -c COMMAND"}}}}}}}};
    auto parsed = ParseTemplateSpec(doc);
    return new TemplateSpec(parsed.ok() ? std::move(parsed).value() : TemplateSpec{});
  }();
  return *kSpec;
}

const TaskSpec* PipelineSpec::Find(const std::string& task) const {
  for (const auto& t : tasks) {
    if (t.name == task) return &t;
  }
  return nullptr;
}

Json PipelineSpec::ToJson() const {
  Json schedule_json = nullptr;
  if (schedule) {
    schedule_json = {{"cron", schedule->cron},
                     {"timezone", schedule->timezone},
                     {"start_time", schedule->start_time ? Json(FormatRfc3339(*schedule->start_time)) : Json(nullptr)},
                     {"catchup", schedule->catchup},
                     {"enabled", schedule->enabled}};
  }
  Json webhook_json = nullptr;
  if (webhook) webhook_json = {{"url", webhook->url}, {"on", webhook->on}};
  Json tasks_json = Json::array();
  for (const auto& t : tasks) tasks_json.push_back(TaskToJson(t));
  Json out = {{"kind", "Pipeline"},
          {"project", project},
          {"name", name},
          {"description", description},
          {"global_env", global_env},
          {"parallelism", parallelism},
          {"max_active_runs", max_active_runs},
          {"depends_on_past", depends_on_past},
          {"expired_limit", expired_limit_seconds},
          {"schedule", schedule_json},
          {"webhook", webhook_json},
          {"tasks", tasks_json}};
  if (!cube_studio.empty()) out["cube_studio"] = cube_studio;
  return out;
}

namespace {

// cube-studio's `dag_json` ({"task": {"upstream": ["t1"]}}) as the tasks'
// depends_on, for tasks that have none; `describe` as description; its
// fields that mean nothing here into `cube_studio`.
Result<Json> NormalisePipelineAliases(const Json& original) {
  if (!original.is_object()) return original;
  Json doc = original;
  QUADER_ASSIGN_OR_RETURN(const Json* describe, FieldOrAlias(original, "description", "describe"));
  doc.erase("describe");
  if (describe) doc["description"] = *describe;
  QUADER_RETURN_IF_ERROR(KeepIgnoredFields(&doc, {"parameter", "expand", "namespace", "alert_status", "alert_user",
                                                  "node_selector", "image_pull_policy", "priority", "type",
                                                  "schedule_type", "cron_time", "cronjob_start_time", "project_name"}));
  const Json* dag = FieldOrNull(original, "dag_json");
  doc.erase("dag_json");
  if (!dag) return doc;
  Json graph = *dag;
  if (dag->is_string()) graph = Json::parse(TrimSpace(dag->get<std::string>()).empty() ? "{}" : dag->get<std::string>(), nullptr, false);
  if (!graph.is_object()) return errors::Invalid("dag_json", "must be an object {\"task\": {\"upstream\": [...]}}");
  if (!doc.contains("tasks") || !doc["tasks"].is_array()) return doc;
  for (const auto& [task, node] : graph.items()) {
    const Json* up = node.is_object() ? FieldOrNull(node, "upstream") : nullptr;
    if (!up) continue;
    if (!up->is_array()) return errors::Invalid("dag_json." + task + ".upstream", "must be a list of task names");
    // An entry naming no task is dropped, as cube-studio's fix_dag_json does.
    for (auto& t : doc["tasks"]) {
      if (!t.is_object() || t.value("name", Json()) != task) continue;
      if (!FieldOrNull(t, "depends_on")) t["depends_on"] = *up;
    }
  }
  return doc;
}

}  // namespace

Result<PipelineSpec> ParsePipelineSpec(const Json& original) {
  QUADER_ASSIGN_OR_RETURN(Json doc, NormalisePipelineAliases(original));
  FieldReader r(doc, "");
  QUADER_RETURN_IF_ERROR(r.CheckObject());
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"kind", "name", "project", "description", "global_env", "parallelism",
                                           "max_active_runs", "depends_on_past", "expired_limit", "schedule",
                                           "webhook", "tasks", "cube_studio"}));
  PipelineSpec s;
  QUADER_ASSIGN_OR_RETURN(s.cube_studio, r.Object("cube_studio"));
  QUADER_ASSIGN_OR_RETURN(s.project, r.String("project", false, "public"));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("project", s.project));
  QUADER_ASSIGN_OR_RETURN(s.name, r.String("name", true));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("name", s.name));
  QUADER_ASSIGN_OR_RETURN(s.description, r.String("description", false));
  QUADER_ASSIGN_OR_RETURN(s.global_env, ParseEnv("global_env", FieldOrNull(doc, "global_env")));
  QUADER_ASSIGN_OR_RETURN(int64_t parallelism, IntInRange(r, "parallelism", 4, 1, 1000));
  s.parallelism = static_cast<int>(parallelism);
  QUADER_ASSIGN_OR_RETURN(int64_t max_active, IntInRange(r, "max_active_runs", 1, 1, 100));
  s.max_active_runs = static_cast<int>(max_active);
  QUADER_ASSIGN_OR_RETURN(s.depends_on_past, r.Bool("depends_on_past", false));
  if (const Json* expired = FieldOrNull(doc, "expired_limit")) {
    QUADER_ASSIGN_OR_RETURN(s.expired_limit_seconds, ParseDuration("expired_limit", *expired));
  }
  QUADER_ASSIGN_OR_RETURN(s.schedule, ParseSchedule(FieldOrNull(doc, "schedule")));
  QUADER_ASSIGN_OR_RETURN(s.webhook, ParseWebhook(FieldOrNull(doc, "webhook")));
  const Json* tasks = FieldOrNull(doc, "tasks");
  if (!tasks) return errors::Invalid("tasks", "is required (a list of tasks)");
  if (!tasks->is_array()) return errors::Invalid("tasks", "must be a list of tasks");
  if (tasks->empty()) return errors::Invalid("tasks", "a pipeline needs at least one task");
  for (size_t i = 0; i < tasks->size(); ++i) {
    QUADER_ASSIGN_OR_RETURN(TaskSpec t, ParseTask((*tasks)[i], i));
    s.tasks.push_back(std::move(t));
  }
  return s;
}

Status CheckEnvKey(const std::string& field, const std::string& key) { return CheckEnvKeyImpl(field, key); }

}  // namespace quader::pipeline
