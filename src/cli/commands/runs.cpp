#include "cli/commands/runs.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace quader::cli {
namespace {

bool IsOneOf(const std::string& word, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// Reads `count` digits at `pos`, advancing it; -1 when they are not there.
int Digits(std::string_view text, size_t& pos, size_t count) {
  if (pos + count > text.size() || !AllDigits(text.substr(pos, count))) return -1;
  int value = 0;
  for (size_t i = 0; i < count; ++i) value = value * 10 + (text[pos + i] - '0');
  pos += count;
  return value;
}

bool Expect(std::string_view text, size_t& pos, std::string_view chars) {
  if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

}  // namespace

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isdigit(c) != 0;
  });
}

void AddRunIdArg(CLI::App& sub, std::string& run_id) {
  CLI::Validator is_id(
      [](std::string& text) {
        return AllDigits(text) ? std::string() : "\"" + text + "\" is not a run id (a number)";
      },
      "RUN");
  sub.add_option("run", run_id, "Run id (the number `quader run` and `quader get runs` show)")
      ->required()
      ->check(is_id);
}

std::string RunPath(const std::string& run_id) { return "/runs/" + EscapeComponent(run_id); }

Result<Json> FetchRunPage(const Client& client, const std::string& run_id) {
  QUADER_ASSIGN_OR_RETURN(Json run, client.Get(RunPath(run_id)));
  if (!run.is_object()) return errors::Internal("the run reply is not an object");
  return run;
}

bool IsPaged(const Json& run) {
  auto next = run.find("tasks_next_offset");
  return next != run.end() && next->is_number_integer();
}

Result<Json> FetchRun(const Client& client, const std::string& run_id) {
  QUADER_ASSIGN_OR_RETURN(Json run, FetchRunPage(client, run_id));
  if (!IsPaged(run) || !run["tasks"].is_array()) return run;
  // Pages of 1,000 (the server's most) after the first, until the last says none follow.
  for (int64_t offset = run["tasks_next_offset"].get<int64_t>(); offset >= 0;) {
    QUADER_ASSIGN_OR_RETURN(
        Json page, client.Get(RunPath(run_id) + "?tasks_limit=1000&tasks_offset=" + std::to_string(offset)));
    if (!page.is_object() || !page["tasks"].is_array()) return errors::Internal("a page of the run is not a run");
    for (Json& task : page["tasks"]) run["tasks"].push_back(std::move(task));
    offset = page["tasks_next_offset"].is_number_integer() ? page["tasks_next_offset"].get<int64_t>() : -1;
  }
  run.erase("tasks_offset");
  run.erase("tasks_next_offset");
  return run;
}

std::string TextOf(const Json& object, std::string_view field) {
  if (!object.is_object()) return "";
  auto it = object.find(std::string(field));
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return "";
}

int IntOf(const Json& object, std::string_view field) {
  if (!object.is_object()) return 0;
  auto it = object.find(std::string(field));
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

bool RunFinished(const Json& run) {
  return IsOneOf(TextOf(run, "state"), {"succeeded", "failed", "stopped"});
}

bool TaskFinished(const Json& task) {
  std::string state = TextOf(task, "state");
  if (state == "failed") return IntOf(task, "attempt") >= IntOf(task, "max_attempts");
  return IsOneOf(state, {"succeeded", "stopped", "skipped", "upstream_failed"});
}

const Json* FindTask(const Json& run, const std::string& name) {
  auto tasks = run.find("tasks");
  if (tasks == run.end() || !tasks->is_array()) return nullptr;
  for (const Json& task : *tasks) {
    if (TextOf(task, "name") == name) return &task;
  }
  return nullptr;
}

std::string FailureReason(const Json& task) {
  std::string reason = TextOf(task, "reason");
  if (!reason.empty()) return reason;
  auto oom = task.find("oom_killed");
  if (oom != task.end() && oom->is_boolean() && oom->get<bool>()) return "out of memory";
  std::string exit_code = TextOf(task, "exit_code");
  return exit_code.empty() ? "" : "exit code " + exit_code;
}

std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view text) {
  size_t pos = 0;
  struct tm tm {};
  tm.tm_year = Digits(text, pos, 4) - 1900;
  bool ok = Expect(text, pos, "-");
  tm.tm_mon = Digits(text, pos, 2) - 1;
  ok = ok && Expect(text, pos, "-");
  tm.tm_mday = Digits(text, pos, 2);
  ok = ok && Expect(text, pos, "Tt ");
  tm.tm_hour = Digits(text, pos, 2);
  ok = ok && Expect(text, pos, ":");
  tm.tm_min = Digits(text, pos, 2);
  ok = ok && Expect(text, pos, ":");
  tm.tm_sec = Digits(text, pos, 2);
  if (!ok || tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 ||
      tm.tm_min < 0 || tm.tm_sec < 0) {
    return std::nullopt;
  }
  std::chrono::microseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 1'000'000;
    for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])); ++pos) {
      scale /= 10;
      fraction += std::chrono::microseconds((text[pos] - '0') * scale);
    }
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos++] == '-' ? -1 : 1;
    int hours = Digits(text, pos, 2);
    if (!Expect(text, pos, ":")) return std::nullopt;
    int minutes = Digits(text, pos, 2);
    if (hours < 0 || minutes < 0) return std::nullopt;
    offset_minutes = sign * (hours * 60 + minutes);
  } else if (!Expect(text, pos, "Zz")) {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  auto seconds = std::chrono::seconds(timegm(&tm)) - std::chrono::minutes(offset_minutes);
  return std::chrono::system_clock::time_point(seconds + fraction);
}

std::optional<double> ElapsedSeconds(const Json& object) {
  std::string start = TextOf(object, "started_at");
  if (start.empty()) start = TextOf(object, "created_at");
  auto from = ParseTime(start);
  auto to = ParseTime(TextOf(object, "finished_at"));
  if (!from || !to) return std::nullopt;
  return std::chrono::duration<double>(*to - *from).count();
}

std::string FormatSeconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1fs", std::max(seconds, 0.0));
  return text;
}

}  // namespace quader::cli
