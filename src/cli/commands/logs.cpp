// `quader logs RUN [TASK] [-f] [--attempt N]`: prints a task's log, or
// every task's log in the run's task order, each under a header line.
// With -f, follows the log while the task runs (and, without TASK, each
// task in turn until the run ends).

#include <memory>
#include <string>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/runs.h"

namespace quader::cli {
namespace {

struct LogsOptions {
  std::string run_id;
  std::string task;  // empty: every task
  bool follow = false;
  int attempt = 0;  // 0: the latest
};

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
        client.GetStream(LogPath(opts.run_id, name, attempt, false), writer.Sink()));
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
          client.GetStream(LogPath(opts.run_id, name, next, true), writer.Sink()));
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
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  LogWriter writer(io.out);
  Status status;
  if (!opts.task.empty()) {
    status = client->GetStream(LogPath(opts.run_id, opts.task, opts.attempt, opts.follow),
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
  CLI::App* sub = app.add_subcommand("logs", "Print the log of a run's task, or of every task");
  AddRunIdArg(*sub, opts->run_id);
  sub->add_option("task", opts->task, "Task name (default: every task, in order)");
  sub->add_flag("-f,--follow", opts->follow,
                "Keep printing while the task runs (without TASK: each task in turn, until "
                "the run ends)");
  sub->add_option("--attempt", opts->attempt, "Attempt number (default: the latest)")
      ->check(CLI::PositiveNumber);
  commands.push_back({sub, [opts, &io] { return Logs(*opts, io); }});
}

}  // namespace quader::cli
