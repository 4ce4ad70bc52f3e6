#pragma once
// The `docker-api` runtime: workloads are containers of a Docker Engine API
// server reached over a unix socket — real Docker, or Podman's compat service
// (which this runtime can start for itself, see podman_service.h).
//
// Workloads are identified by container id (Start returns it); names and
// short ids are accepted too. Published ports are bound on 127.0.0.1 only.
// Every container gets the label quader.managed=true in addition to the
// spec's labels. See container_mapping.h for how a spec becomes a container
// and how a container's state becomes a WorkloadStatus, including the OOM
// heuristic needed for Podman.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/documents.h"
#include "runtime/runtime.h"

namespace quader::runtime::docker {

class EngineClient;
class PodmanService;
struct InspectFacts;

// Thread-safe. Calls block on the engine; use worker threads.
class DockerRuntime final : public Runtime {
 public:
  // `service` may be null (an engine we did not start); when set, the runtime
  // owns it and stops it when destroyed — containers keep running.
  DockerRuntime(std::unique_ptr<EngineClient> engine, std::unique_ptr<PodmanService> service);
  ~DockerRuntime() override;
  DockerRuntime(const DockerRuntime&) = delete;
  DockerRuntime& operator=(const DockerRuntime&) = delete;

  // The engine's socket path.
  const std::string& socket_path() const;

  // runtime::Runtime
  std::string kind() const override { return "docker"; }
  // create + start; on any failure after create the container is removed.
  Result<WorkloadStatus> Start(const WorkloadSpec& spec) override;
  // stop with `grace` (SIGTERM, then SIGKILL), then remove with force.
  Status Stop(const std::string& id, std::chrono::seconds grace) override;
  Result<WorkloadStatus> Inspect(const std::string& id) override;
  // One list call filtered by label, then an inspect per container.
  Result<std::vector<WorkloadStatus>> List(
      const std::map<std::string, std::string>& selector) override;
  Status Logs(const std::string& id, bool follow, const LogSink& sink) override;
  // On Podman (no precpu sample in one-shot stats) takes a second sample
  // 250 ms later, so this blocks up to ~0.3 s (Docker: ~1 s).
  Result<WorkloadStats> Stats(const std::string& id) override;
  // POST /containers/{id}/exec, started detached, then polled until it ends.
  Result<int> Exec(const std::string& id, const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout) override;
  // An exec with a terminal (Tty), its start's connection taken over
  // (hijacked) as the terminal's stream; resized through the engine.
  Result<std::unique_ptr<Terminal>> OpenTerminal(const std::string& id, const TerminalOptions& options) override;

 private:
  // GET /containers/{id}/json; kNotFound names the workload.
  Result<Json> InspectJson(const std::string& id) const;
  // What we know beyond the inspect JSON; reads the cgroup OOM counter of a
  // running container and remembers a positive one.
  InspectFacts FactsFor(const Json& inspect);
  // Best-effort forced removal (cleanup after a failed Start).
  void RemoveQuietly(const std::string& id) const;
  Status StartError(const WorkloadSpec& spec, const Status& engine_status);
  // Start found `image` missing: pulls it in the background (once at a time;
  // a failed pull is tried again after a minute). kNotFound MissingImage while
  // it may still come (callers wait, workload/image_wait.h); for an image
  // naming its registry whose pull failed, kUnavailable naming the image and
  // the registry's error, final.
  Status PullMissing(const std::string& image);
  Result<Json> StatsSample(const std::string& id) const;

  struct PullState {
    bool running = false;
    std::string error;  // of the last pull, "" when none failed
    std::chrono::steady_clock::time_point finished;
  };

  // Const after construction. service_ is declared first so it is destroyed last.
  const std::unique_ptr<PodmanService> service_;
  const std::unique_ptr<EngineClient> engine_;
  const std::string node_;

  std::mutex mu_;
  std::set<std::string> stop_requested_;  // guarded by mu_: full ids being stopped by us
  std::set<std::string> oom_seen_;        // guarded by mu_: full ids with oom_kill > 0 seen
  // Pulls by image; shared with the (detached) pull threads, which outlive nothing else.
  std::shared_ptr<std::map<std::string, PullState>> pulls_ = std::make_shared<std::map<std::string, PullState>>();
  std::shared_ptr<std::mutex> pulls_mu_ = std::make_shared<std::mutex>();
};

struct DockerRuntimeOptions {
  std::string data_dir;  // holds podman/ when the runtime starts Podman
  // The engine to use ("unix:///path"); nullopt: the DOCKER_HOST environment variable.
  std::optional<std::string> docker_host;
  std::chrono::milliseconds start_deadline = std::chrono::milliseconds(10000);
};

// Opens the docker-api runtime. In order: DOCKER_HOST when set (only unix://
// URLs; it must answer /_ping — no fallback when it does not); else, when
// `podman` is installed, a private Podman service under <data_dir>/podman;
// else /var/run/docker.sock when it answers. kUnavailable saying what was tried
// and why each failed; kInvalidArgument for a DOCKER_HOST that is not unix://.
[[nodiscard]] Result<std::unique_ptr<Runtime>> OpenDockerRuntime(
    const DockerRuntimeOptions& options);
[[nodiscard]] Result<std::unique_ptr<Runtime>> OpenDockerRuntime(const std::string& data_dir);

}  // namespace quader::runtime::docker
