// `quader logs RUN [TASK] [-f] [--attempt N]`: prints a task's log, or
// every task's log in the run's task order, each under a header line.
// With -f, follows the log while the task runs (and, without TASK, each
// task in turn until the run ends). The logs of other workloads:
// `--experiment NAME SEQ` (a trial), `--service NAME` and
// `--inference-service NAME` (a replica: --replica N, --previous),
// `--notebook NAME` (its server). `--timestamps` prints each line with the
// time it was captured.

#include <memory>
#include <string>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/runs.h"

namespace quader::cli {
namespace {

struct LogsOptions {
  std::string run_id;  // with --experiment: the trial's sequence
  std::string task;    // empty: every task
  bool follow = false;
  int attempt = 0;  // 0: the latest
  // Another kind of workload instead of a run's task.
  std::string experiment, service, inference_service, notebook;
  std::string project;
  int replica = -1;  // -1: the lowest
  bool previous = false;
  bool timestamps = false;  // each line with its capture time
};

// `path` asking for timestamps when `opts` does.
std::string Stamped(const LogsOptions& opts, std::string path) {
  if (opts.timestamps) path += std::string(path.find('?') == std::string::npos ? "?" : "&") + "timestamps=1";
  return path;
}

// `?project=P&follow=1...` from what is set; "" when nothing is.
std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (!v.empty()) q += (q.empty() ? "?" : "&") + k + "=" + EscapeComponent(v);
  }
  return q;
}

// The path of the log `opts` names other than a run's task; "" when it names a run's task.
Result<std::string> OtherLogPath(const LogsOptions& opts) {
  int kinds = !opts.experiment.empty() + !opts.service.empty() + !opts.inference_service.empty() +
              !opts.notebook.empty();
  if (kinds > 1) return errors::Invalid("logs", "give one of --experiment, --service, --inference-service, --notebook");
  if (kinds == 0) {
    if (opts.run_id.empty()) return errors::Invalid("logs", "give a run id (or --experiment, --service, --notebook)");
    if (opts.replica >= 0 || opts.previous) return errors::Invalid("logs", "--replica and --previous are for services");
    return std::string();
  }
  const std::string follow = opts.follow ? "1" : "";
  if (!opts.experiment.empty()) {
    if (opts.run_id.empty() || !opts.task.empty()) {
      return errors::Invalid("logs", "--experiment NAME takes one trial sequence: quader logs --experiment NAME SEQ");
    }
    return "/experiments/" + EscapeComponent(opts.experiment) + "/trials/" + EscapeComponent(opts.run_id) + "/logs" +
           Query({{"project", opts.project}, {"follow", follow}});
  }
  if (!opts.run_id.empty()) return errors::Invalid("logs", "a run id goes with no --service or --notebook");
  if (!opts.notebook.empty()) {
    return "/notebooks/" + EscapeComponent(opts.notebook) + "/logs" +
           Query({{"project", opts.project}, {"follow", follow}});
  }
  const bool inference = !opts.inference_service.empty();
  return std::string(inference ? "/inference-services/" : "/services/") +
         EscapeComponent(inference ? opts.inference_service : opts.service) + "/logs" +
         Query({{"project", opts.project},
                {"replica", opts.replica >= 0 ? std::to_string(opts.replica) : ""},
                {"previous", opts.previous ? "1" : ""},
                {"follow", follow}});
}

std::string LogPath(const std::string& run_id, const std::string& task, int attempt,
                    bool follow) {
  std::string query;
  if (attempt > 0) query += "attempt=" + std::to_string(attempt);
  if (follow) query += std::string(query.empty() ? "" : "&") + "follow=1";
  return RunPath(run_id) + "/tasks/" + EscapeComponent(task) + "/logs" +
         (query.empty() ? "" : "?" + query);
}

// Writes logs to `out` as their bytes arrive, and the header lines between
// them, keeping each header on a line of its own.
class LogWriter {
 public:
  explicit LogWriter(std::ostream& out) : out_(out) {}

  BodySink Sink() {
    return [this](std::string_view piece) {
      out_.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      out_.flush();
      if (!piece.empty()) at_line_start_ = piece.back() == '\n';
      return true;
    };
  }

  // "==> train (attempt 2, running) <==", after a blank line unless first.
  void Header(const std::string& task, int attempt, const std::string& state) {
    if (!first_) out_ << (at_line_start_ ? "\n" : "\n\n");
    first_ = false;
    at_line_start_ = true;
    out_ << "==> " << task << " ("
         << (attempt > 0 ? "attempt " + std::to_string(attempt) + ", " : "") << state
         << ") <==\n";
    out_.flush();
  }

 private:
  std::ostream& out_;
  bool first_ = true;
  bool at_line_start_ = true;
};

// The state of one attempt of `task`: the task's own for its latest.
std::string AttemptState(const Json& task, int attempt) {
  if (attempt == IntOf(task, "attempt") || !task.contains("attempts")) {
    return TextOf(task, "state");
  }
  for (const Json& record : task["attempts"]) {
    if (IntOf(record, "attempt") == attempt) return TextOf(record, "state");
  }
  return TextOf(task, "state");
}

// Every task's log as it is now, in the run's order. A task that never
// started (or has fewer attempts than --attempt) has no log to print.
Status PrintAll(const Client& client, const LogsOptions& opts, LogWriter& writer) {
  QUADER_ASSIGN_OR_RETURN(Json run, FetchRun(client, opts.run_id));
  if (!run.contains("tasks") || !run["tasks"].is_array()) return Status::Ok();
  for (const Json& task : run["tasks"]) {
    const std::string name = TextOf(task, "name");
    int latest = IntOf(task, "attempt");
    if (opts.attempt > latest) continue;
    int attempt = opts.attempt > 0 ? opts.attempt : latest;
    writer.Header(name, attempt, AttemptState(task, attempt));
    if (attempt == 0) continue;
    QUADER_RETURN_IF_ERROR(
        client.GetStream(Stamped(opts, LogPath(opts.run_id, name, attempt, false)), writer.Sink()));
  }
  return Status::Ok();
}

// Follows task `name` of `*run` through each of its attempts (or only
// --attempt's) until it is done or the run ends, polling the run while the
// task waits. `*run` is kept current for the tasks after it.
Status FollowTask(const Client& client, const LogsOptions& opts, const std::string& name,
                  Json* run, LogWriter& writer, const Io& io) {
  int shown = 0;  // the last attempt followed
  for (;;) {
    const Json* task = FindTask(*run, name);
    if (task == nullptr) return Status::Ok();
    int latest = IntOf(*task, "attempt");
    int next = opts.attempt > 0 ? opts.attempt : latest;
    bool done = TaskFinished(*task) || RunFinished(*run);
    if (next > shown && latest >= next) {
      writer.Header(name, next, AttemptState(*task, next));
      QUADER_RETURN_IF_ERROR(
          client.GetStream(Stamped(opts, LogPath(opts.run_id, name, next, true)), writer.Sink()));
      shown = next;
      if (opts.attempt > 0) return Status::Ok();
    } else if (done) {
      // Never started (skipped, upstream_failed, stopped): a header alone.
      if (shown == 0 && opts.attempt == 0) writer.Header(name, 0, TextOf(*task, "state"));
      return Status::Ok();
    } else {
      Pause(io, kPollInterval);
    }
    QUADER_ASSIGN_OR_RETURN(*run, FetchRun(client, opts.run_id));
  }
}

Status FollowAll(const Client& client, const LogsOptions& opts, LogWriter& writer,
                 const Io& io) {
  QUADER_ASSIGN_OR_RETURN(Json run, FetchRun(client, opts.run_id));
  std::vector<std::string> names;
  if (run.contains("tasks") && run["tasks"].is_array()) {
    for (const Json& task : run["tasks"]) names.push_back(TextOf(task, "name"));
  }
  for (const std::string& name : names) {
    QUADER_RETURN_IF_ERROR(FollowTask(client, opts, name, &run, writer, io));
  }
  return Status::Ok();
}

Outcome Logs(const LogsOptions& opts, Io& io) {
  auto path = OtherLogPath(opts);
  if (!path.ok()) return Outcome::Usage(path.status().message());
  const std::string other_path = *path;
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  LogWriter writer(io.out);
  Status status;
  if (!other_path.empty()) {
    status = client->GetStream(Stamped(opts, other_path), writer.Sink());
  } else if (!opts.task.empty()) {
    status = client->GetStream(Stamped(opts, LogPath(opts.run_id, opts.task, opts.attempt, opts.follow)),
                               writer.Sink());
  } else if (opts.follow) {
    status = FollowAll(client.value(), opts, writer, io);
  } else {
    status = PrintAll(client.value(), opts, writer);
  }
  return Outcome::FromStatus(status);
}

}  // namespace

void AddLogsCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<LogsOptions>();
  CLI::App* sub = app.add_subcommand(
      "logs", "Print the log of a run's task (or of every task), a trial, a service replica or a notebook");
  CLI::Validator is_number(
      [](std::string& text) {
        return AllDigits(text) ? std::string()
                   : "\"" + text + "\" is not a run id or trial sequence (a number)";
      },
      "RUN");
  sub->add_option("run", opts->run_id, "Run id (with --experiment: the trial's sequence)")->check(is_number);
  sub->add_option("task", opts->task, "Task name (default: every task, in order)");
  sub->add_flag("-f,--follow", opts->follow,
                "Keep printing while it runs (a run without TASK: each task in turn, until the run ends)");
  sub->add_option("--attempt", opts->attempt, "Attempt number (default: the latest)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--experiment,-e", opts->experiment, "A trial's log: quader logs --experiment NAME SEQ");
  sub->add_option("--service", opts->service, "A service replica's log");
  sub->add_option("--inference-service", opts->inference_service, "An inference service replica's log");
  sub->add_option("--notebook", opts->notebook, "A notebook server's log");
  sub->add_option("--project,-p", opts->project, "Project of the experiment, service or notebook (default: public)");
  sub->add_option("--replica", opts->replica, "Which replica (default: the lowest index)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--previous", opts->previous,
                "The replica's last instance that ended (its log is kept after a restart)");
  sub->add_flag("-t,--timestamps", opts->timestamps,
                "Start each line with the time it was captured (UTC, e.g. 2026-12-07T17:01:13.214Z)");
  commands.push_back({sub, [opts, &io] { return Logs(*opts, io); }});
}

}  // namespace quader::cli
