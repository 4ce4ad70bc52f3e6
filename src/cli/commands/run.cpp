// `quader run PIPELINE [--project P] [--task TASK] [--wait]`: starts a run
// of a pipeline (or, with --task, a debug run of one task) and, with
// --wait, follows it to the end. `quader stop RUN` stops one.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/runs.h"

namespace quader::cli {
namespace {

// Consecutive polls that may find the server unreachable (a restart) before
// --wait gives up: 30 s at kPollInterval.
constexpr int kMaxUnreachablePolls = 60;
// The state column is as wide as the longest common state, "succeeded".
constexpr size_t kStateWidth = 9;

struct RunOptions {
  std::string pipeline;  // or, for rerun and retry, the run's id
  std::string project;
  std::string task;
  bool wait = false;
  bool idle = false;  // with --task: the task waits for a terminal instead of working
  // Overrides of this run's parameters (docs/pipelines.md "Overrides").
  std::vector<std::string> env;       // K=V: global_env
  std::vector<std::string> set;       // TASK.ARG=VALUE: a task's argument
  std::vector<std::string> task_env;  // TASK.K=V: a task's env
};

// A value given on the command line: JSON when it reads as a number or a
// boolean ("0.1", "3", "true"), else the text itself.
Json ArgValue(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_discarded() && (j.is_number() || j.is_boolean())) return j;
  return text;
}

// The request body of a run with the options' overrides ({} when none).
Result<Json> OverridesBody(const RunOptions& opts) {
  Json body = Json::object();
  for (const std::string& kv : opts.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return errors::Invalid("--env", "\"" + kv + "\" is not NAME=VALUE");
    body["global_env"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto per_task = [&](const std::vector<std::string>& items, const char* flag, const char* field) -> Status {
    for (const std::string& kv : items) {
      size_t dot = kv.find('.'), eq = kv.find('=');
      if (dot == std::string::npos || dot == 0 || eq == std::string::npos || eq < dot + 2) {
        return errors::Invalid(flag, "\"" + kv + "\" is not TASK.NAME=VALUE");
      }
      Json value = std::string(field) == "args" ? ArgValue(kv.substr(eq + 1)) : Json(kv.substr(eq + 1));
      body["tasks"][kv.substr(0, dot)][field][kv.substr(dot + 1, eq - dot - 1)] = value;
    }
    return Status::Ok();
  };
  QUADER_RETURN_IF_ERROR(per_task(opts.set, "--set", "args"));
  QUADER_RETURN_IF_ERROR(per_task(opts.task_env, "--task-env", "env"));
  if (opts.idle) body["idle"] = true;
  return body;
}

void AddOverrideOptions(CLI::App& sub, RunOptions& opts) {
  sub.add_option("--env", opts.env, "NAME=VALUE: a global_env value for this run only (repeat it)");
  sub.add_option("--set", opts.set, "TASK.ARG=VALUE: a task's argument for this run only (--set train.--lr=0.1)");
  sub.add_option("--task-env", opts.task_env, "TASK.NAME=VALUE: a task's env value for this run only");
}

std::string StartPath(const RunOptions& opts) {
  std::string path = "/pipelines/" + EscapeComponent(opts.pipeline);
  if (!opts.task.empty()) path += "/tasks/" + EscapeComponent(opts.task);
  path += "/run";
  if (!opts.project.empty()) path += "?project=" + EscapeComponent(opts.project);
  return path;
}

size_t TaskCount(const Json& run) {
  if (auto count = run.find("task_count"); count != run.end() && count->is_number_unsigned()) {
    return count->get<size_t>();
  }
  auto tasks = run.find("tasks");
  return tasks != run.end() && tasks->is_array() ? tasks->size() : 0;
}

// "  tasks: 1234 succeeded, 8 running, 8758 pending": a big run's progress,
// from its counts (its tasks are too many for a line each).
std::string CountsLine(const Json& run) {
  std::string line;
  auto states = run.find("task_states");
  if (states == run.end() || !states->is_object()) return line;
  const std::vector<std::string> order = {"succeeded", "running", "pending", "failed",
                                          "upstream_failed", "skipped", "stopped"};
  std::vector<std::string> shown = order;
  for (const auto& [state, n] : states->items()) {
    if (std::find(order.begin(), order.end(), state) == order.end()) shown.push_back(state);
  }
  for (const std::string& state : shown) {
    auto n = states->find(state);
    if (n == states->end() || !n->is_number_integer() || n->get<int64_t>() == 0) continue;
    line += (line.empty() ? "  tasks: " : ", ") + std::to_string(n->get<int64_t>()) + " " + state;
  }
  return line;
}

std::string Padded(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

// "(attempt 2/3)" when the task may be tried more than once, else "".
std::string AttemptText(const Json& task) {
  int max_attempts = IntOf(task, "max_attempts");
  if (max_attempts <= 1) return "";
  return "(attempt " + std::to_string(IntOf(task, "attempt")) + "/" +
         std::to_string(max_attempts) + ")";
}

// What follows the state in a progress line: the attempt while it runs,
// the time taken once done, and why it failed.
std::string Detail(const Json& task) {
  const std::string state = TextOf(task, "state");
  if (state == "pending" || state == "running") return AttemptText(task);
  std::string detail;
  if (state == "succeeded" || state == "failed" || state == "stopped") {
    if (auto seconds = ElapsedSeconds(task)) detail = FormatSeconds(*seconds);
  }
  if (state == "failed") {
    std::string attempt = AttemptText(task);
    if (!attempt.empty()) detail += (detail.empty() ? "" : " ") + attempt;
    std::string reason = FailureReason(task);
    if (!reason.empty()) detail += (detail.empty() ? "" : ": ") + reason;
  }
  return detail;
}

// Prints one line per change of a task's state or attempt, in the run's
// task order: "  train       running   (attempt 1/3)". Tasks first seen
// pending are not announced.
class Progress {
 public:
  explicit Progress(const Json& run) {
    if (!run.contains("tasks") || !run["tasks"].is_array()) return;
    for (const Json& task : run["tasks"]) width_ = std::max(width_, TextOf(task, "name").size());
  }

  void Update(const Json& run, std::ostream& out) {
    if (!run.contains("tasks") || !run["tasks"].is_array()) return;
    for (const Json& task : run["tasks"]) Show(task, out);
    out.flush();
  }

 private:
  void Show(const Json& task, std::ostream& out) {
    const std::string name = TextOf(task, "name");
    std::pair<std::string, int> now = {TextOf(task, "state"), IntOf(task, "attempt")};
    auto seen = seen_.find(name);
    if (seen == seen_.end()) {
      seen_[name] = now;
      if (now.first == "pending") return;
    } else if (seen->second == now) {
      return;
    } else {
      if (now.second > seen->second.second && seen->second.second > 0) {
        Retried(task, seen->second.second, out);
      }
      seen->second = now;
    }
    Line(name, now.first, Detail(task), out);
  }

  // A new attempt began: say how the previous one ended, which the polls
  // may have missed.
  void Retried(const Json& task, int previous, std::ostream& out) {
    std::string detail = "(attempt " + std::to_string(previous) + "/" +
                         std::to_string(IntOf(task, "max_attempts")) + ")";
    if (task.contains("attempts") && task["attempts"].is_array()) {
      for (const Json& attempt : task["attempts"]) {
        if (IntOf(attempt, "attempt") != previous) continue;
        std::string reason = FailureReason(attempt);
        if (!reason.empty()) detail += ": " + reason;
      }
    }
    Line(TextOf(task, "name"), "retrying", detail, out);
  }

  void Line(const std::string& name, const std::string& state, const std::string& detail,
            std::ostream& out) const {
    std::string line = "  " + Padded(name, width_) + "   " + Padded(state, kStateWidth);
    if (!detail.empty()) line += " " + detail;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }

  size_t width_ = 0;
  std::map<std::string, std::pair<std::string, int>> seen_;  // name -> state, attempt
};

// "task train failed: exit code 1; task b failed", or the run's own reason.
std::string WhyRunFailed(const Json& run) {
  std::string why;
  if (run.contains("tasks") && run["tasks"].is_array()) {
    for (const Json& task : run["tasks"]) {
      if (TextOf(task, "state") != "failed") continue;
      std::string reason = FailureReason(task);
      why += (why.empty() ? "" : "; ") + std::string("task ") + TextOf(task, "name") + " failed" +
             (reason.empty() ? "" : ": " + reason);
    }
  }
  return why.empty() ? TextOf(run, "reason") : why;
}

// The last line, and the exit status: 0 only when the run succeeded.
Outcome Finished(const Json& run, Io& io) {
  const std::string id = TextOf(run, "id");
  const std::string state = TextOf(run, "state");
  std::string line = "run " + id + " " + state;
  if (auto seconds = ElapsedSeconds(run)) line += " in " + FormatSeconds(*seconds);
  io.out << line << "\n";
  io.out.flush();
  if (state == "succeeded") return Outcome::Ok();
  std::string why = WhyRunFailed(run);
  return Outcome::FromStatus(
      Status(Code::kConflict, "run " + id + " " + state + (why.empty() ? "" : ": " + why)));
}

// Polls the run until it ends, printing each task's changes; of a big run
// (answered a page at a time), its counts when they change.
Outcome Wait(const Client& client, Json run, Io& io) {
  const std::string id = TextOf(run, "id");
  Progress progress(run);
  std::string counts;
  auto show = [&] {
    if (!IsPaged(run)) return progress.Update(run, io.out);
    std::string now = CountsLine(run);
    if (now != counts && !now.empty()) io.out << now << "\n" << std::flush;
    counts = now;
  };
  show();
  int unreachable = 0;
  while (!RunFinished(run)) {
    Pause(io, kPollInterval);
    auto next = FetchRunPage(client, id);
    if (!next.ok()) {
      bool retry = next.status().code() == Code::kUnavailable &&
                   ++unreachable < kMaxUnreachablePolls;
      if (retry) continue;
      return Outcome::FromStatus(next.status());
    }
    unreachable = 0;
    run = std::move(next).value();
    show();
  }
  if (IsPaged(run) && TextOf(run, "state") != "succeeded") {
    // Why it failed needs every failed task: read the whole run once.
    if (auto whole = FetchRun(client, id); whole.ok()) run = std::move(whole).value();
  }
  return Finished(run, io);
}

// Starts a run by POSTing to `path` (a pipeline's run, or a run's rerun or retry).
Outcome StartRunAt(const std::string& path, const RunOptions& opts, Io& io) {
  auto body = OverridesBody(opts);
  if (!body.ok()) return Outcome::Usage(body.status().message());
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto run = client->Post(path, *body);
  if (!run.ok()) return Outcome::FromStatus(run.status());
  if (TextOf(*run, "id").empty()) {
    return Outcome::FromStatus(errors::Internal("the run reply has no id"));
  }
  size_t tasks = TaskCount(*run);
  std::string pipeline = TextOf(*run, "pipeline");
  io.out << "run " << TextOf(*run, "id") << " started (pipeline "
         << (pipeline.empty() ? opts.pipeline : pipeline) << ", " << tasks
         << (tasks == 1 ? " task" : " tasks") << ")\n";
  io.out.flush();
  if (!opts.wait) return Outcome::Ok();
  return Wait(client.value(), std::move(run).value(), io);
}

Outcome StopRun(const std::string& run_id, Io& io) {
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto run = client->Post(RunPath(run_id) + "/stop", Json::object());
  if (!run.ok()) return Outcome::FromStatus(run.status());
  std::string state = TextOf(*run, "state");
  io.out << "run " << run_id << " " << (RunFinished(*run) ? state : "stopping") << "\n";
  return Outcome::Ok();
}

}  // namespace

void AddRunCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("run", "Start a run of a pipeline");
  sub->add_option("pipeline", opts->pipeline, "Pipeline name (or id)")->required();
  sub->add_option("--project", opts->project, "Project of the pipeline (default: public)");
  sub->add_option("--task", opts->task,
                  "Run only this task, with the pipeline's settings (a debug run)");
  sub->add_flag("--wait,-w", opts->wait,
                "Follow the run to its end, one line per task change; exit 1 unless it "
                "succeeds");
  sub->add_flag("--idle", opts->idle,
                "With --task: the task waits (an hour) in its image, env and mounts instead of running its "
                "command, for a shell: quader exec task RUN/TASK")
      ->needs(sub->get_option("--task"));
  sub->footer(
      "With --wait, Ctrl-C stops waiting, not the run: stop it with `quader stop RUN`.\n"
      "Read the tasks' output with `quader logs RUN [TASK] [-f]`.");
  AddOverrideOptions(*sub, *opts);
  commands.push_back({sub, [opts, &io] { return StartRunAt(StartPath(*opts), *opts, io); }});
}

void AddRerunCommands(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto rerun = std::make_shared<RunOptions>();
  CLI::App* sub = app.add_subcommand("rerun", "Run again what a run ran (its pipeline and templates as then)");
  AddRunIdArg(*sub, rerun->pipeline);
  sub->add_flag("--wait,-w", rerun->wait, "Follow the new run to its end; exit 1 unless it succeeds");
  AddOverrideOptions(*sub, *rerun);
  commands.push_back({sub, [rerun, &io] { return StartRunAt(RunPath(rerun->pipeline) + "/rerun", *rerun, io); }});

  auto retry = std::make_shared<RunOptions>();
  CLI::App* again = app.add_subcommand(
      "retry", "Retry a failed or stopped run from its failed tasks (the ones that succeeded are not run again)");
  AddRunIdArg(*again, retry->pipeline);
  again->add_flag("--wait,-w", retry->wait, "Follow the new run to its end; exit 1 unless it succeeds");
  commands.push_back({again, [retry, &io] { return StartRunAt(RunPath(retry->pipeline) + "/retry", *retry, io); }});
}

void AddStopCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  struct StopOptions {
    std::string run_id, experiment, project;
  };
  auto opts = std::make_shared<StopOptions>();
  CLI::App* sub = app.add_subcommand("stop", "Stop a run (kill its running tasks) or, with --experiment, an experiment");
  AddRunIdArg(*sub, opts->run_id);
  sub->get_option("run")->required(false);
  sub->add_option("--experiment,-e", opts->experiment, "Stop this experiment and its running trials instead");
  sub->add_option("--project,-p", opts->project, "Project of the experiment (default: public)");
  commands.push_back({sub, [opts, &io] {
                        if (!opts->experiment.empty() && !opts->run_id.empty())
                          return Outcome::Usage("give a run id or --experiment, not both");
                        if (!opts->experiment.empty()) return StopExperiment(opts->experiment, opts->project, io);
                        if (opts->run_id.empty()) return Outcome::Usage("stop: give a run id, or --experiment NAME");
                        return StopRun(opts->run_id, io);
                      }});
}

}  // namespace quader::cli
