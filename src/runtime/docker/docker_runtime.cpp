#include "core/log_stamp.h"
#include "runtime/docker/docker_runtime.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/url.h"
#include "runtime/docker/cgroup_memory.h"
#include "runtime/docker/container_mapping.h"
#include "runtime/docker/engine_client.h"
#include "runtime/docker/podman_service.h"

namespace quader::runtime::docker {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kSecondSampleDelay{250};
constexpr const char* kDockerSocket = "/var/run/docker.sock";

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string JsonString(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const Json& JsonChild(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string ContainerPath(const std::string& id) { return "/containers/" + PercentEncode(id); }

bool Matches(const WorkloadStatus& status, const std::map<std::string, std::string>& selector) {
  for (const auto& [key, value] : selector) {
    auto it = status.labels.find(key);
    if (it == status.labels.end() || it->second != value) return false;
  }
  return true;
}

// Keeps the engine's code but says which workload it was about.
Status About(const std::string& id, const Status& status) {
  if (status.code() == Code::kNotFound) return errors::NotFound("workload", id);
  return {status.code(), "workload \"" + id + "\": " + status.message()};
}

}  // namespace

DockerRuntime::DockerRuntime(std::unique_ptr<EngineClient> engine,
                             std::unique_ptr<PodmanService> service)
    : service_(std::move(service)), engine_(std::move(engine)), node_(HostName()) {}

DockerRuntime::~DockerRuntime() = default;

const std::string& DockerRuntime::socket_path() const { return engine_->socket_path(); }

Result<WorkloadStatus> DockerRuntime::Start(const WorkloadSpec& spec) {
  QUADER_ASSIGN_OR_RETURN(Json body, MakeCreateBody(spec));
  auto created = engine_->Call("POST", "/containers/create?name=" + PercentEncode(spec.name), body);
  if (!created.ok()) {
    // A lost reply may hide a container that was created: the name was free
    // (else kAlreadyExists), so a container by that name now is ours.
    if (created.status().code() == Code::kUnavailable) RemoveQuietly(spec.name);
    return StartError(spec, created.status());
  }
  std::string id = JsonString(*created, "Id");
  if (id.empty()) {
    RemoveQuietly(spec.name);
    return errors::Internal("docker engine: create returned no Id: " + created->dump());
  }
  auto started = engine_->Call("POST", ContainerPath(id) + "/start");
  if (!started.ok()) {
    RemoveQuietly(id);
    return StartError(spec, started.status());
  }
  auto status = Inspect(id);
  if (!status.ok()) RemoveQuietly(id);
  return status;
}

namespace {

// Whether `image` names its registry ("registry.example.com/x:1",
// "localhost:5000/x"): then nothing but that registry can make it appear.
bool NamesRegistry(const std::string& image) {
  size_t slash = image.find('/');
  if (slash == std::string::npos) return false;
  std::string first = image.substr(0, slash);
  return first == "localhost" || first.find('.') != std::string::npos || first.find(':') != std::string::npos;
}

// POST /images/create for `image`: Ok when the engine pulled it; otherwise
// the engine's or the registry's error (a stream of JSON progress lines may
// carry it with a 200).
Status PullImage(const EngineClient& engine, const std::string& image) {
  std::string repo = image, tag;
  size_t at = image.find('@'), colon = image.rfind(':'), slash = image.rfind('/');
  if (at == std::string::npos && colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    repo = image.substr(0, colon);
    tag = image.substr(colon + 1);
  }
  std::string error, pending;
  Status st = engine.Send("POST",
                          std::string("/") + EngineClient::kApiVersion + "/images/create?fromImage=" +
                              PercentEncode(repo) + (tag.empty() ? "" : "&tag=" + PercentEncode(tag)),
                          "", "", [&](std::string_view data) {
                            pending.append(data);
                            size_t nl;
                            while ((nl = pending.find('\n')) != std::string::npos) {
                              Json line = Json::parse(pending.substr(0, nl), nullptr, false);
                              pending.erase(0, nl + 1);
                              if (line.is_object() && line.contains("error") && line["error"].is_string()) {
                                error = line["error"].get<std::string>();
                              }
                            }
                            return pending.size() < (1 << 20);
                          });
  if (!st.ok()) return st;
  Json last = Json::parse(pending, nullptr, false);
  if (error.empty() && last.is_object() && last.contains("error") && last["error"].is_string()) {
    error = last["error"].get<std::string>();
  }
  return error.empty() ? Status::Ok() : errors::Unavailable(error);
}

// An exec as the engine reports it (GET /exec/{id}/json).
struct ExecState {
  bool running = false;
  int pid = 0;                   // its host pid while it runs
  std::optional<int> exit_code;  // once it has ended
};

Result<ExecState> InspectExec(const EngineClient& engine, const std::string& exec_id) {
  QUADER_ASSIGN_OR_RETURN(Json state, engine.Call("GET", "/exec/" + PercentEncode(exec_id) + "/json"));
  ExecState e;
  const Json& running = JsonChild(state, "Running");
  e.running = !running.is_boolean() || running.get<bool>();
  const Json& pid = JsonChild(state, "Pid");
  if (pid.is_number_integer()) e.pid = pid.get<int>();
  const Json& code = JsonChild(state, "ExitCode");
  if (!e.running) e.exit_code = code.is_number_integer() ? code.get<int>() : -1;
  return e;
}

}  // namespace

Status DockerRuntime::PullMissing(const std::string& image) {
  using std::chrono::steady_clock;
  std::lock_guard<std::mutex> lock(*pulls_mu_);
  PullState& pull = (*pulls_)[image];
  if (pull.running) return MissingImage(image, "not on this machine: pulling it");
  if (!pull.error.empty() && steady_clock::now() - pull.finished < std::chrono::minutes(1)) {
    if (NamesRegistry(image)) {
      return errors::Unavailable("image \"" + image + "\" cannot be pulled: " + pull.error);
    }
    return MissingImage(image, "not on this machine, and pulling it failed: " + pull.error);
  }
  pull.running = true;
  std::thread([engine = EngineClient(engine_->socket_path()), image, pulls = pulls_, mu = pulls_mu_] {
    Status st = PullImage(engine, image);
    if (!st.ok()) spdlog::warn("[runtime] pulling image {} failed: {}", image, st.message());
    else spdlog::info("[runtime] pulled image {}", image);
    std::lock_guard<std::mutex> lock(*mu);
    PullState& p = (*pulls)[image];
    p.running = false;
    p.error = st.ok() ? "" : st.message();
    p.finished = steady_clock::now();
  }).detach();
  return MissingImage(image, "not on this machine: pulling it");
}

Status DockerRuntime::StartError(const WorkloadSpec& spec, const Status& engine_status) {
  const std::string& message = engine_status.message();
  switch (engine_status.code()) {
    case Code::kAlreadyExists:
      return errors::AlreadyExists("workload", spec.name);
    case Code::kNotFound:
      if (message.find("image") != std::string::npos) return PullMissing(spec.image);
      break;
    default:
      // The engine cannot run the command (Docker: 400; Podman: 500 "... not found").
      if (message.find("executable file not found") != std::string::npos ||
          message.find("command that was not found") != std::string::npos) {
        return errors::Invalid("command",
                               "cannot be run in image \"" + spec.image + "\": " + message);
      }
      break;
  }
  return {engine_status.code(), "workload \"" + spec.name + "\" could not start: " + message};
}

void DockerRuntime::RemoveQuietly(const std::string& id) const {
  (void)engine_->Call("DELETE", ContainerPath(id) + "?force=true&v=true");
}

Status DockerRuntime::Stop(const std::string& id, std::chrono::seconds grace) {
  auto inspect = InspectJson(id);
  if (!inspect.ok()) {
    return inspect.status().code() == Code::kNotFound ? Status::Ok() : inspect.status();
  }
  std::string full_id = JsonString(*inspect, "Id");
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_.insert(full_id);
  }
  auto timeout = std::chrono::duration_cast<milliseconds>(grace) + EngineClient::kDefaultTimeout;
  auto stopped =
      engine_->Call("POST", ContainerPath(full_id) + "/stop?t=" + std::to_string(grace.count()),
                    std::nullopt, timeout);
  // Not running (304) or gone (404) is fine; anything but an unreachable engine
  // still goes on to the forced remove, which kills what is left.
  Status result = Status::Ok();
  if (!stopped.ok() && stopped.status().code() == Code::kUnavailable) {
    result = stopped.status();
  } else {
    auto removed = engine_->Call("DELETE", ContainerPath(full_id) + "?force=true&v=true");
    if (!removed.ok() && removed.status().code() != Code::kNotFound) {
      result = About(id, removed.status());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  stop_requested_.erase(full_id);
  oom_seen_.erase(full_id);
  return result;
}

Result<Json> DockerRuntime::InspectJson(const std::string& id) const {
  if (id.empty()) return errors::Invalid("id", "must not be empty");
  auto inspect = engine_->Call("GET", ContainerPath(id) + "/json");
  if (!inspect.ok()) return About(id, inspect.status());
  return inspect;
}

InspectFacts DockerRuntime::FactsFor(const Json& inspect) {
  std::string full_id = JsonString(inspect, "Id");
  const Json& state = JsonChild(inspect, "State");
  const Json& pid = JsonChild(state, "Pid");
  if (pid.is_number_integer() && pid.get<int64_t>() > 0) {
    auto count = ReadOomKillCount(static_cast<int>(pid.get<int64_t>()));
    if (count && *count > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      oom_seen_.insert(full_id);
    }
  }
  InspectFacts facts;
  facts.node = node_;
  std::lock_guard<std::mutex> lock(mu_);
  facts.stop_requested = stop_requested_.count(full_id) > 0;
  facts.oom_seen = oom_seen_.count(full_id) > 0;
  return facts;
}

Result<WorkloadStatus> DockerRuntime::Inspect(const std::string& id) {
  QUADER_ASSIGN_OR_RETURN(Json inspect, InspectJson(id));
  return StatusFromInspect(inspect, FactsFor(inspect));
}

Result<std::vector<WorkloadStatus>> DockerRuntime::List(
    const std::map<std::string, std::string>& selector) {
  std::string path = "/containers/json?all=true";
  if (!selector.empty()) {
    Json labels = Json::array();
    for (const auto& [key, value] : selector) labels.push_back(key + "=" + value);
    Json filters = {{"label", labels}};
    path += "&filters=" + PercentEncode(filters.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  // Podman 4.3 answers the listing with 500 "no such container" when a
  // container goes away while it lists: that is a race, not an error.
  auto listed = engine_->Call("GET", path);
  for (int attempt = 1; attempt < 5 && !listed.ok() &&
                        listed.status().message().find("no such container") != std::string::npos;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
    listed = engine_->Call("GET", path);
  }
  QUADER_ASSIGN_OR_RETURN(Json containers, std::move(listed));
  std::vector<WorkloadStatus> out;
  if (!containers.is_array()) return out;
  for (const Json& entry : containers) {
    std::string id = JsonString(entry, "Id");
    if (id.empty()) continue;
    auto status = Inspect(id);
    if (!status.ok()) {
      if (status.status().code() == Code::kNotFound) continue;  // removed meanwhile
      return status.status();
    }
    // The engine filtered already; checking again costs nothing and guards
    // against engines that ignore a filter they do not know.
    if (Matches(*status, selector)) out.push_back(std::move(status).value());
  }
  return out;
}

Status DockerRuntime::Logs(const std::string& id, bool follow, const LogSink& sink) {
  QUADER_ASSIGN_OR_RETURN(Json inspect, InspectJson(id));
  bool tty = JsonChild(JsonChild(inspect, "Config"), "Tty") == Json(true);
  // The engine's own capture times (timestamps=true), in Quader's form
  // (core/log_stamp.h).
  std::string path = ContainerPath(JsonString(inspect, "Id")) + "/logs?stdout=true&stderr=true&timestamps=true";
  if (follow) path += "&follow=true";
  LogDemuxer demuxer;
  LogStampFilter stamps(LogStampFilter::Mode::kNormalize);
  std::string chunk;
  bool open = true;
  Status status = engine_->Stream(path, [&](std::string_view data) {
    chunk.clear();
    if (tty) {
      chunk.assign(data);
    } else {
      demuxer.Feed(data, &chunk);
    }
    chunk = stamps.Feed(chunk);
    return open = chunk.empty() || sink(chunk);
  });
  if (const std::string rest = stamps.Finish(); open && !rest.empty()) (void)sink(rest);
  return status.ok() ? status : About(id, status);
}

Result<Json> DockerRuntime::StatsSample(const std::string& id) const {
  auto sample = engine_->Call("GET", ContainerPath(id) + "/stats?stream=false");
  if (!sample.ok()) return About(id, sample.status());
  return sample;
}

Result<WorkloadStats> DockerRuntime::Stats(const std::string& id) {
  QUADER_ASSIGN_OR_RETURN(Json inspect, InspectJson(id));
  (void)FactsFor(inspect);  // notes an OOM kill inside a running container
  if (JsonString(JsonChild(inspect, "State"), "Status") != "running") {
    return Status(Code::kNotFound, "workload \"" + id + "\" is not running");
  }
  std::string full_id = JsonString(inspect, "Id");
  auto first_at = std::chrono::steady_clock::now();
  QUADER_ASSIGN_OR_RETURN(Json sample, StatsSample(full_id));
  CpuCounters before = ReadCpuCounters(JsonChild(sample, "precpu_stats"));
  CpuCounters after = ReadCpuCounters(JsonChild(sample, "cpu_stats"));
  WorkloadStats stats;
  if (before.system_ns > 0 && before.container_ns > 0) {
    stats.cpu_cores = CpuCores(before, after, std::chrono::nanoseconds(0));  // Docker
  } else {
    // Podman leaves precpu_stats empty in one-shot stats: sample again ourselves.
    // Its system_cpu_usage is not Docker's (all host CPU time, idle included): on
    // Podman 4.3 it tracks busy time only, so Docker's formula reports up to
    // (CPU count) × the truth on a quiet host. Divide by wall time instead.
    std::this_thread::sleep_for(kSecondSampleDelay);
    auto second_at = std::chrono::steady_clock::now();
    QUADER_ASSIGN_OR_RETURN(Json second, StatsSample(full_id));
    std::chrono::nanoseconds wall = second_at - first_at;
    auto read_first = ParseEngineTime(JsonString(sample, "read"));
    auto read_second = ParseEngineTime(JsonString(second, "read"));
    if (read_first && read_second && *read_second > *read_first) wall = *read_second - *read_first;
    CpuCounters later = ReadCpuCounters(JsonChild(second, "cpu_stats"));
    stats.cpu_cores = CpuCores({after.container_ns, 0, 0}, {later.container_ns, 0, 0}, wall);
    sample = std::move(second);
  }
  stats.memory_bytes = MemoryInUse(JsonChild(sample, "memory_stats"));
  const Json& limit = JsonChild(JsonChild(inspect, "HostConfig"), "Memory");
  stats.memory_limit_bytes = limit.is_number_integer() ? limit.get<int64_t>() : 0;
  return stats;
}

Result<int> DockerRuntime::Exec(const std::string& id, const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout) {
  if (argv.empty()) return errors::Invalid("argv", "empty");
  QUADER_ASSIGN_OR_RETURN(Json inspect, InspectJson(id));
  if (JsonString(JsonChild(inspect, "State"), "Status") != "running") {
    return Status(Code::kNotFound, "workload \"" + id + "\" is not running");
  }
  // Attached, not detached: Podman 4.3 keeps reporting a detached exec as
  // running after it ended; an attached start returns when the command ends.
  Json create = {{"Cmd", argv}, {"AttachStdout", true}, {"AttachStderr", true}, {"AttachStdin", false}};
  auto created = engine_->Call("POST", ContainerPath(JsonString(inspect, "Id")) + "/exec", create);
  if (!created.ok()) return About(id, created.status());
  std::string exec_id = JsonString(*created, "Id");
  if (exec_id.empty()) return errors::Internal("the engine gave no exec id");
  Status started = engine_->CallDroppingBody("POST", "/exec/" + PercentEncode(exec_id) + "/start",
                                             Json{{"Detach", false}, {"Tty", false}}, timeout);
  if (!started.ok()) {
    if (started.code() == Code::kUnavailable) {
      return errors::Unavailable("the command in \"" + id + "\" did not finish within " +
                                 std::to_string(timeout.count()) + " ms");
    }
    return About(id, started);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(10);
  for (;;) {
    auto state = InspectExec(*engine_, exec_id);
    if (!state.ok()) return About(id, state.status());
    if (!state->running) return *state->exit_code;
    if (std::chrono::steady_clock::now() >= deadline) {
      return errors::Unavailable("the command in \"" + id + "\" did not finish within " +
                                 std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

namespace {

// An exec with a terminal: the hijacked connection of its start is the
// terminal's stream. The engine keeps the exec's terminal open when that
// connection closes (Podman 4.3 does), so ending the terminal hangs up the
// exec's session itself: SIGHUP to it (it leads its session and process
// group on its terminal), SIGKILL after a grace. Its pid is the host's, from
// the engine, which runs on this machine.
class EngineTerminal final : public Terminal {
 public:
  EngineTerminal(const EngineClient& engine, std::string exec_id, int fd)
      : engine_(engine), exec_id_(std::move(exec_id)), fd_(fd) {}
  ~EngineTerminal() override {
    ::close(fd_);
    for (int sig : {SIGHUP, SIGKILL}) {
      int pid = RunningPid();
      if (pid <= 1) return;
      ::kill(-pid, sig);
      ::kill(pid, sig);
      for (int i = 0; i < 20 && RunningPid() > 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  int fd() const override { return fd_; }
  Status Resize(int rows, int cols) override {
    return engine_
        .Call("POST", "/exec/" + PercentEncode(exec_id_) + "/resize?h=" + std::to_string(ClampTerminalSize(rows)) +
                          "&w=" + std::to_string(ClampTerminalSize(cols)))
        .status();
  }
  // The exec's host pid while it runs; 0 once it has ended (or is unknown).
  int RunningPid() const {
    auto state = InspectExec(engine_, exec_id_);
    return state.ok() && state->running ? state->pid : 0;
  }
  std::optional<int> Finish() override {
    // The stream ends a moment before the engine records the exit.
    for (int i = 0; i < 40; ++i) {
      auto state = InspectExec(engine_, exec_id_);
      if (!state.ok()) return std::nullopt;
      if (!state->running) return state->exit_code;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }

 private:
  const EngineClient& engine_;
  const std::string exec_id_;
  const int fd_;
};

}  // namespace

Result<std::unique_ptr<Terminal>> DockerRuntime::OpenTerminal(const std::string& id, const TerminalOptions& options) {
  QUADER_ASSIGN_OR_RETURN(Json inspect, InspectJson(id));
  if (JsonString(JsonChild(inspect, "State"), "Status") != "running") {
    return Status(Code::kNotFound, "workload \"" + id + "\" is not running");
  }
  Json create = {{"Cmd", options.CommandOrShell()},           {"AttachStdin", true}, {"AttachStdout", true},
                 {"AttachStderr", true},  {"Tty", true},         {"Env", Json::array({"TERM=xterm-256color"})}};
  auto created = engine_->Call("POST", ContainerPath(JsonString(inspect, "Id")) + "/exec", create);
  if (!created.ok()) return About(id, created.status());
  std::string exec_id = JsonString(*created, "Id");
  if (exec_id.empty()) return errors::Internal("the engine gave no exec id");
  QUADER_ASSIGN_OR_RETURN(int fd, engine_->Hijack("/exec/" + PercentEncode(exec_id) + "/start",
                                                  Json{{"Detach", false}, {"Tty", true}}));
  auto terminal = std::make_unique<EngineTerminal>(*engine_, exec_id, fd);
  (void)terminal->Resize(options.rows, options.cols);
  return std::unique_ptr<Terminal>(std::move(terminal));
}

Result<std::unique_ptr<Runtime>> OpenDockerRuntime(const DockerRuntimeOptions& options) {
  std::string docker_host;
  if (options.docker_host) {
    docker_host = *options.docker_host;
  } else if (const char* env = std::getenv("DOCKER_HOST")) {
    docker_host = env;
  }
  if (!docker_host.empty()) {
    const std::string scheme = "unix://";
    if (docker_host.rfind(scheme, 0) != 0 || docker_host.size() == scheme.size()) {
      return errors::Invalid("DOCKER_HOST",
                             "\"" + docker_host + "\" is not supported: only unix:///path sockets");
    }
    auto engine = std::make_unique<EngineClient>(docker_host.substr(scheme.size()));
    Status ping = engine->Ping(milliseconds(5000));
    if (!ping.ok()) {
      return errors::Unavailable("DOCKER_HOST=" + docker_host +
                                 " does not answer: " + ping.message());
    }
    return std::unique_ptr<Runtime>(new DockerRuntime(std::move(engine), nullptr));
  }
  std::string podman_failure = "podman is not installed";
  if (!PodmanService::FindPodman().empty()) {
    auto service = PodmanService::Start(options.data_dir, options.start_deadline);
    if (service.ok()) {
      auto engine = std::make_unique<EngineClient>((*service)->socket_path());
      return std::unique_ptr<Runtime>(new DockerRuntime(std::move(engine), std::move(*service)));
    }
    podman_failure = service.status().message();
  }
  auto engine = std::make_unique<EngineClient>(kDockerSocket);
  Status docker = engine->Ping(milliseconds(2000));
  if (docker.ok()) return std::unique_ptr<Runtime>(new DockerRuntime(std::move(engine), nullptr));
  return errors::Unavailable("no container engine: DOCKER_HOST is not set; " + podman_failure +
                             "; " + docker.message());
}

Result<std::unique_ptr<Runtime>> OpenDockerRuntime(const std::string& data_dir) {
  DockerRuntimeOptions options;
  options.data_dir = data_dir;
  return OpenDockerRuntime(options);
}

}  // namespace quader::runtime::docker
