#pragma once
// The seam between Quader and wherever work runs (ARCHITECTURE.md "The
// Runtime interface"). Tasks, trials, notebooks and services are all
// *workloads*: started from a WorkloadSpec, observed by id or by label.
// Controllers above this line never know whether a workload is a Podman
// container, a local process or a Kubernetes pod.
//
// Implementations are thread-safe. Every call may block (network, engine);
// call them from worker threads, never from an event loop.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::runtime {

enum class MountKind {
  kVolume,    // a named volume's directory (pvc); `source` is a host directory the runtime prepared
  kHostPath,  // bind mount of a host path
  kMemory,    // RAM-backed tmpfs of `size_bytes`
};

struct Mount {
  MountKind kind = MountKind::kHostPath;
  std::string source;      // host path (kVolume, kHostPath); unused for kMemory
  std::string target;      // absolute path inside the workload
  bool read_only = false;
  int64_t size_bytes = 0;  // kMemory
  // Cluster runtimes (kubernetes) mount the named claim, not `source`: for
  // kVolume, the PersistentVolumeClaim and the path inside it (the user's
  // directory). Local runtimes ignore both.
  std::string claim;
  std::string sub_path;
};

struct Resources {
  double cpu = 0;             // cores; 0 = unlimited
  int64_t memory_bytes = 0;   // hard limit; 0 = unlimited
  double gpu = 0;             // whole or fractional GPUs; 0 = none
};

struct PortMapping {
  int container_port = 0;
  int host_port = 0;  // 0: the runtime picks a free one (reported in WorkloadStatus)
  std::string protocol = "tcp";
};

enum class RestartPolicy { kNever, kOnFailure, kAlways };

struct WorkloadSpec {
  std::string name;                         // unique per runtime; DNS-label-ish
  std::string image;                        // ignored by the process runtime
  std::vector<std::string> command;         // entrypoint; empty: the image's
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string working_dir;
  std::vector<Mount> mounts;
  Resources resources;
  std::vector<PortMapping> ports;           // published on 127.0.0.1 only
  std::map<std::string, std::string> node_selector;
  std::map<std::string, std::string> labels;  // see labels.h; always include kLabelManaged
  RestartPolicy restart = RestartPolicy::kNever;
  // Shares the host's network namespace (container runtimes): how a trial
  // reaches the API on the host's loopback. Ports are then not published.
  bool host_network = false;
  // The project's `cluster` (a kubeconfig context); local runtimes ignore it.
  std::string cluster;
};

enum class WorkloadState {
  kPending,    // created, not yet running
  kRunning,
  kSucceeded,  // exited 0
  kFailed,     // exited non-zero, OOM-killed, or could not start
  kUnknown,    // the runtime lost track of it
};
const char* StateName(WorkloadState s);

// Start's error when the workload's image is not on this machine (kNotFound,
// "image \"NAME\" not found (DETAIL)"). Work waits for such an image for a
// while (workload/image_wait.h): a build or a pull may be making it.
Status MissingImage(const std::string& image, const std::string& detail);
bool IsMissingImage(const Status& status);

struct WorkloadStatus {
  std::string id;    // runtime-specific (container id, pid, pod name)
  std::string name;  // WorkloadSpec::name
  WorkloadState state = WorkloadState::kUnknown;
  std::optional<int> exit_code;
  bool oom_killed = false;
  std::string reason;  // human-readable detail for failures
  std::map<std::string, std::string> labels;
  std::vector<PortMapping> ports;  // with the host ports actually bound
  // Where those host ports are reached: empty means 127.0.0.1 (local
  // runtimes); a cluster runtime names its Service or pod address.
  std::string address;
  std::string node;                // machine or node it runs on
  // Cluster runtimes: the pod passed its own readiness probe (Kubernetes'
  // Ready condition). Local runtimes leave it false; controllers probe.
  bool ready = false;
  std::optional<std::chrono::system_clock::time_point> started_at;
  std::optional<std::chrono::system_clock::time_point> finished_at;
};

struct WorkloadStats {
  double cpu_cores = 0;      // average over the last sample interval
  int64_t memory_bytes = 0;  // current resident use
  int64_t memory_limit_bytes = 0;
  // Use of the workload's GPUs in percent (averaged over its devices), when
  // the runtime can measure it. None of the built-in runtimes can yet, so the
  // autoscaler's `gpu` target is not acted on there (serving/autoscaler.h).
  std::optional<double> gpu_percent;
};

// Objects a cluster runtime keeps beside workloads: on Kubernetes a
// service is one Deployment with its Service, `$name-external` Service,
// HorizontalPodAutoscaler and VirtualService (serving/cluster_objects.h),
// rolled out and scaled by the cluster itself.
class ClusterObjects {
 public:
  virtual ~ClusterObjects() = default;
  // The namespace objects of `context` (a project's `cluster`) go to.
  virtual std::string Namespace(const std::string& context) = 0;
  // Creates each object, or replaces it when it exists. kConflict when an
  // object of that name belongs to another owner (its quader.owner label).
  virtual Status Apply(const std::string& context, const std::vector<Json>& objects) = 0;
  // Deletes the objects (of the kinds Apply makes) labelled with all of `selector`.
  virtual Status DeleteLabelled(const std::string& context, const std::map<std::string, std::string>& selector) = 0;
  // The pods labelled with all of `selector`, with `ready` and `address`.
  virtual Result<std::vector<WorkloadStatus>> Pods(const std::string& context,
                                                   const std::map<std::string, std::string>& selector) = 0;
};

// Receives log output as it is produced. Return false to stop following.
using LogSink = std::function<bool(const std::string& chunk)>;

// What OpenTerminal starts: the command (empty: the workload's bash, or sh
// where it has none) and the terminal's size.
struct TerminalOptions {
  std::vector<std::string> argv;
  int rows = 24;
  int cols = 80;
  // `argv`, or the shell: bash where the workload has it, else sh (with
  // TERM=xterm-256color unless the runtime set one).
  std::vector<std::string> CommandOrShell() const;
};

// A terminal's rows or columns as runtimes set them: within 1..1000.
int ClampTerminalSize(int n);

// An interactive command running inside a workload on a terminal: what it
// writes comes out of fd(), and what is written to fd() is its keyboard.
// Destroying it ends the command (if it still runs) and frees the terminal.
// Not thread-safe: one owner (the connection bridging it to a user).
class Terminal {
 public:
  virtual ~Terminal() = default;
  // Readable and writable; a read gives 0 bytes or fails once the command
  // and everything it started on the terminal have gone.
  virtual int fd() const = 0;
  virtual Status Resize(int rows, int cols) = 0;
  // After fd() has ended: the command's exit code (128 + N for signal N);
  // nullopt when the runtime cannot tell.
  virtual std::optional<int> Finish() = 0;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // "docker", "process" or "kubernetes".
  virtual std::string kind() const = 0;

  // Creates and starts a workload. kInvalidArgument for a bad spec (names the
  // field), kNotFound for an unknown image, kAlreadyExists for a taken name,
  // kUnavailable when the engine cannot be reached. Nothing is left behind on error.
  virtual Result<WorkloadStatus> Start(const WorkloadSpec& spec) = 0;

  // Stops (SIGTERM, then SIGKILL after `grace`) and removes the workload and
  // its resources. Stopping an unknown or already removed workload is ok.
  virtual Status Stop(const std::string& id, std::chrono::seconds grace) = 0;

  // Current status. kNotFound when the runtime does not know `id`.
  virtual Result<WorkloadStatus> Inspect(const std::string& id) = 0;

  // Every workload whose labels include all of `selector`.
  virtual Result<std::vector<WorkloadStatus>> List(const std::map<std::string, std::string>& selector) = 0;

  // Log output so far (stdout and stderr interleaved). With `follow`, keeps
  // calling `sink` with new output until the workload ends or sink returns false.
  // A runtime may also call `sink` with an empty chunk while nothing new
  // comes (the process runtime does, about once a second), so a consumer
  // whose reader has gone away can stop following a quiet workload.
  virtual Status Logs(const std::string& id, bool follow, const LogSink& sink) = 0;

  // Resource use now. kNotFound when `id` is unknown or not running.
  virtual Result<WorkloadStats> Stats(const std::string& id) = 0;

  // Runs `argv` inside the running workload (its filesystem, environment and
  // working directory), waits up to `timeout`, and returns its exit code:
  // exec health probes (`health: shell:...`). kNotFound when `id` is unknown
  // or not running, kUnavailable on a timeout (the command is killed) and
  // by default (a runtime that cannot exec).
  virtual Result<int> Exec(const std::string& id, const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout);

  // Starts `options.argv` (a shell by default) inside the running workload
  // on a terminal of its own, as the workload's user, in its sandbox or
  // container: what a user's `quader exec` and the browser terminal talk to.
  // kNotFound when `id` is unknown or not running; kUnavailable by default
  // (a runtime that cannot open one).
  virtual Result<std::unique_ptr<Terminal>> OpenTerminal(const std::string& id, const TerminalOptions& options);

  // Blocks until the workload is no longer pending or running, or until
  // `timeout` passes, and returns its status then (still running on a
  // timeout). kNotFound when `id` is unknown. The default polls Inspect,
  // quickly at first (short tasks end fast), then every 100 ms.
  virtual Result<WorkloadStatus> Wait(const std::string& id, std::chrono::milliseconds timeout);

  // Saves the workload's whole log so far to `path` (atomically: a reader
  // sees the old file or the whole new one), then `trailer` (a closing line
  // such as "== killed: timed out after 60s\n"). The default
  // copies what Logs returns; a runtime whose log is a file may link it.
  virtual void SaveLog(const std::string& id, const std::string& path, const std::string& trailer);

  // Cluster runtimes keep services as cluster objects; null (the default):
  // controllers keep replicas as single workloads.
  virtual ClusterObjects* cluster_objects() { return nullptr; }
};

}  // namespace quader::runtime
