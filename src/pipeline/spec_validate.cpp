// The structural checks of a Pipeline (spec.h): the DAG, the variables, the
// templates; and the order tasks can run in.

#include <functional>
#include <regex>
#include <set>

#include "core/names.h"
#include "cron/cron_expr.h"
#include "pipeline/render.h"
#include "pipeline/spec.h"

namespace quader::pipeline {
namespace {

constexpr const char* kBuiltins[] = {"execution_date", "run_id", "pipeline_name", "pipeline_id", "creator", "runner"};
constexpr const char* kKnownHint =
    "use execution_date, run_id, pipeline_name, pipeline_id, creator, runner, a global_env key, or "
    "tasks.TASK.outputs.KEY";

std::string TaskPath(const PipelineSpec& spec, size_t i) {
  return "tasks[" + std::to_string(i) + "] (" + spec.tasks[i].name + ")";
}

bool IsBuiltin(const std::string& name) {
  for (const char* b : kBuiltins) {
    if (name == b) return true;
  }
  return false;
}

// The task graph by index: `up[i]` are i's upstreams, `down[i]` its
// downstreams in document order. Requires unique names and known upstreams.
struct Graph {
  std::vector<std::vector<size_t>> up;
  std::vector<std::vector<size_t>> down;
};

Graph BuildGraph(const PipelineSpec& spec) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < spec.tasks.size(); ++i) index.emplace(spec.tasks[i].name, i);
  Graph g;
  g.up.resize(spec.tasks.size());
  g.down.resize(spec.tasks.size());
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    std::set<size_t> seen;
    for (const auto& dep : spec.tasks[i].depends_on) {
      auto it = index.find(dep);
      if (it == index.end() || !seen.insert(it->second).second) continue;
      g.up[i].push_back(it->second);
      g.down[it->second].push_back(i);
    }
  }
  return g;
}

// Kahn's algorithm, taking the first ready task in document order each step.
// Tasks on or below a cycle are left out.
std::vector<size_t> Order(const Graph& g) {
  std::vector<size_t> pending(g.up.size());
  std::set<size_t> ready;
  for (size_t i = 0; i < g.up.size(); ++i) {
    pending[i] = g.up[i].size();
    if (pending[i] == 0) ready.insert(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (size_t d : g.down[i]) {
      if (--pending[d] == 0) ready.insert(d);
    }
  }
  return order;
}

// A path start -> ... -> start along downstream edges, or empty.
std::vector<size_t> CycleThrough(const Graph& g, size_t start) {
  std::vector<bool> visited(g.down.size(), false);
  std::vector<size_t> path;
  std::function<bool(size_t)> walk = [&](size_t node) {
    path.push_back(node);
    for (size_t next : g.down[node]) {
      if (next == start) return true;
      if (visited[next]) continue;
      visited[next] = true;
      if (walk(next)) return true;
    }
    path.pop_back();
    return false;
  };
  visited[start] = true;
  return walk(start) ? path : std::vector<size_t>{};
}

Status CheckNamesAndEdges(const PipelineSpec& spec) {
  if (spec.tasks.empty()) return errors::Invalid("tasks", "a pipeline needs at least one task");
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    std::string field = "tasks[" + std::to_string(i) + "].name";
    QUADER_RETURN_IF_ERROR(ValidateObjectName(field, spec.tasks[i].name));
    auto [it, fresh] = seen.emplace(spec.tasks[i].name, i);
    if (!fresh) {
      return errors::Invalid(field, "duplicate task name \"" + spec.tasks[i].name + "\" (also tasks[" +
                                        std::to_string(it->second) + "])");
    }
  }
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    for (const auto& dep : spec.tasks[i].depends_on) {
      std::string field = TaskPath(spec, i) + ".depends_on";
      if (dep == spec.tasks[i].name) return errors::Invalid(field, "a task cannot depend on itself");
      if (!seen.count(dep)) return errors::Invalid(field, "unknown task \"" + dep + "\"");
    }
  }
  return Status::Ok();
}

Status CheckAcyclic(const PipelineSpec& spec, const Graph& g, const std::vector<size_t>& order) {
  if (order.size() == spec.tasks.size()) return Status::Ok();
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    std::vector<size_t> cycle = CycleThrough(g, i);
    if (cycle.empty()) continue;
    std::string text;
    for (size_t n : cycle) text += spec.tasks[n].name + " -> ";
    return errors::Invalid("tasks", "cycle " + text + spec.tasks[i].name);
  }
  return errors::Internal("tasks: unordered tasks but no cycle found");
}

// Checks every {{variable}} of the task with index `task` (none for global_env).
class VariableChecker {
 public:
  VariableChecker(const PipelineSpec& spec, const Graph& g, const std::vector<size_t>& order) : spec_(spec) {
    for (size_t i = 0; i < spec.tasks.size(); ++i) index_.emplace(spec.tasks[i].name, i);
    ancestors_.assign(spec.tasks.size(), std::vector<bool>(spec.tasks.size(), false));
    for (size_t i : order) {
      for (size_t u : g.up[i]) {
        ancestors_[i][u] = true;
        for (size_t a = 0; a < spec.tasks.size(); ++a) {
          if (ancestors_[u][a]) ancestors_[i][a] = true;
        }
      }
    }
  }

  Status CheckGlobal(const std::string& key, const std::string& text) const {
    std::string field = "global_env." + key;
    QUADER_ASSIGN_OR_RETURN(std::vector<std::string> names, VariablesIn(field, text));
    for (const auto& name : names) {
      if (IsBuiltin(name)) continue;
      // The run renders global_env once from the built-in values, so a
      // global_env value cannot use task outputs or other global_env keys.
      return errors::Invalid(field, "{{" + name + "}}: global_env values may use only execution_date, run_id, "
                                        "pipeline_name, pipeline_id, creator and runner");
    }
    return Status::Ok();
  }

  Status CheckText(size_t task, const std::string& field, const std::string& text) const {
    QUADER_ASSIGN_OR_RETURN(std::vector<std::string> names, VariablesIn(field, text));
    for (const auto& name : names) QUADER_RETURN_IF_ERROR(CheckName(task, field, name));
    return Status::Ok();
  }

  // Every string inside a JSON value (object keys are not rendered).
  Status CheckJson(size_t task, const std::string& field, const Json& v) const {
    if (v.is_string()) return CheckText(task, field, v.get_ref<const std::string&>());
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        QUADER_RETURN_IF_ERROR(CheckJson(task, field + "[" + std::to_string(i) + "]", v[i]));
      }
    } else if (v.is_object()) {
      for (const auto& [key, item] : v.items()) QUADER_RETURN_IF_ERROR(CheckJson(task, field + "." + key, item));
    }
    return Status::Ok();
  }

 private:
  Status CheckName(size_t task, const std::string& field, const std::string& name) const {
    if (name.rfind("tasks.", 0) == 0) {
      static const std::regex kOutput(R"(^tasks\.([^.]+)\.outputs\.([A-Za-z0-9_-]+)$)");
      std::smatch m;
      if (!std::regex_match(name, m, kOutput)) {
        return errors::Invalid(field, "{{" + name + "}} is not an output reference (use {{tasks.TASK.outputs.KEY}})");
      }
      std::string upstream = m[1];
      auto it = index_.find(upstream);
      if (it == index_.end()) {
        return errors::Invalid(field, "{{" + name + "}} refers to unknown task \"" + upstream + "\"");
      }
      if (!ancestors_[task][it->second]) {
        return errors::Invalid(field, "{{" + name + "}} refers to task \"" + upstream + "\", which is not upstream of \"" +
                                          spec_.tasks[task].name + "\"");
      }
      return Status::Ok();
    }
    if (IsBuiltin(name) || spec_.global_env.count(name)) return Status::Ok();
    return errors::Invalid(field, "unknown variable {{" + name + "}} (" + kKnownHint + ")");
  }

  const PipelineSpec& spec_;
  std::map<std::string, size_t> index_;
  std::vector<std::vector<bool>> ancestors_;  // ancestors_[i][a]: a is upstream of i, transitively
};

Status CheckVariables(const PipelineSpec& spec, const Graph& g, const std::vector<size_t>& order) {
  VariableChecker checker(spec, g, order);
  for (const auto& [key, value] : spec.global_env) QUADER_RETURN_IF_ERROR(checker.CheckGlobal(key, value));
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    const TaskSpec& t = spec.tasks[i];
    std::string path = TaskPath(spec, i);
    QUADER_RETURN_IF_ERROR(checker.CheckJson(i, path + ".args", t.args));
    for (const auto& [key, value] : t.env) QUADER_RETURN_IF_ERROR(checker.CheckText(i, path + ".env." + key, value));
    QUADER_RETURN_IF_ERROR(checker.CheckText(i, path + ".working_dir", t.working_dir));
    for (size_t j = 0; j < t.command.size(); ++j) {
      QUADER_RETURN_IF_ERROR(checker.CheckText(i, path + ".command[" + std::to_string(j) + "]", t.command[j]));
    }
  }
  return Status::Ok();
}

Status CheckSchedule(const ScheduleSpec& s) {
  QUADER_RETURN_IF_ERROR(cron::CronExpr::Parse("schedule.cron", s.cron).status());
  QUADER_RETURN_IF_ERROR(cron::LoadZone("schedule.timezone", s.timezone).status());
  if (s.catchup != "none" && s.catchup != "latest" && s.catchup != "all") {
    return errors::Invalid("schedule.catchup", "\"" + s.catchup + "\" is not none, latest or all");
  }
  return Status::Ok();
}

}  // namespace

Status ValidatePipeline(const PipelineSpec& spec) {
  QUADER_RETURN_IF_ERROR(CheckNamesAndEdges(spec));
  Graph g = BuildGraph(spec);
  std::vector<size_t> order = Order(g);
  QUADER_RETURN_IF_ERROR(CheckAcyclic(spec, g, order));
  QUADER_RETURN_IF_ERROR(CheckVariables(spec, g, order));
  if (spec.schedule) QUADER_RETURN_IF_ERROR(CheckSchedule(*spec.schedule));
  return Status::Ok();
}

Result<std::map<std::string, TemplateSpec>> ResolveTemplates(PipelineSpec* spec, const TemplateLookup& lookup) {
  std::map<std::string, TemplateSpec> by_text;  // one lookup per distinct `template` text
  std::map<std::string, TemplateSpec> out;
  std::vector<Json> args(spec->tasks.size());
  for (size_t i = 0; i < spec->tasks.size(); ++i) {
    const TaskSpec& t = spec->tasks[i];
    std::string path = TaskPath(*spec, i);
    auto it = by_text.find(t.template_name);
    if (it == by_text.end()) {
      Result<TemplateSpec> found = lookup(t.template_name);
      if (!found.ok()) {
        if (found.status().code() == Code::kNotFound) {
          return errors::Invalid(path + ".template", "job template \"" + t.template_name + "\" not found");
        }
        return found.status();
      }
      it = by_text.emplace(t.template_name, std::move(found).value()).first;
    }
    Json given = t.args;
    if (t.ignore_extra_args) {
      // Kept in the stored task, not passed: as cube-studio does.
      for (auto a = given.begin(); a != given.end();) a = it->second.args.Find(a.key()) ? std::next(a) : given.erase(a);
    }
    QUADER_ASSIGN_OR_RETURN(args[i], ValidateTaskArgs(it->second.args, given, path + ".args",
                                                      /*allow_templates=*/true));
    out[t.name] = it->second;
  }
  for (size_t i = 0; i < spec->tasks.size(); ++i) spec->tasks[i].args = std::move(args[i]);
  return out;
}

std::vector<std::string> TopologicalOrder(const PipelineSpec& spec) {
  Graph g = BuildGraph(spec);
  std::vector<size_t> order = Order(g);
  std::vector<bool> placed(spec.tasks.size(), false);
  std::vector<std::string> names;
  for (size_t i : order) {
    placed[i] = true;
    names.push_back(spec.tasks[i].name);
  }
  // Only for an invalid (cyclic) spec: the rest in document order.
  for (size_t i = 0; i < spec.tasks.size(); ++i) {
    if (!placed[i]) names.push_back(spec.tasks[i].name);
  }
  return names;
}

}  // namespace quader::pipeline
