#pragma once
// Runs notebooks (SPEC §3; docs/notebooks.md): one Jupyter or VS Code server
// per notebook, as a workload labelled kind=notebook, owner=ID and the
// notebook's generation, reached through the gateway at
// /notebook/$project/$name/ behind Quader's login.
//
// Reconciliation, once a second or when notified, by one thread:
// - a notebook its owner wants running has one workload of its current
//   generation; one of an older generation (a reset or a changed spec) is
//   stopped first, then the new one started;
// - it is `running` once its server answers (Jupyter: GET BASE/api/status
//   with the server's token; code-server: GET /healthz), `pending` until
//   then; a server that exits is `failed` with the reason, and stays so
//   until a reset (a notebook is an interactive thing: a crash loop helps
//   nobody);
// - the gateway's route set "notebooks" has one route per notebook, on any
//   host, under its path: the access hook lets only its owner through (the
//   `quader_session` cookie or a bearer token; anonymous browsers are sent
//   to the login page, other users get 404), the server's token is added
//   and the session cookie removed on the way in; code-server, which cannot
//   be given a base URL, sees the path with the prefix stripped;
// - activity is the newest of the last request through the gateway and what
//   the server reports (Jupyter's last_activity counts running kernels,
//   code-server's heartbeat its open editors); with an idle timeout, a
//   notebook idle that long is stopped.
//
// Public methods are thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "auth/session_cache.h"
#include "core/clock.h"
#include "core/wake_loop.h"
#include "auth/expand.h"
#include "gateway/gateway.h"
#include "notebook/notebook_spec.h"
#include "registry/blob_store.h"
#include "notebook/states.h"
#include "runtime/runtime.h"
#include "store/notebooks.h"
#include "store/store.h"
#include "workload/replica_set.h"

namespace quader::notebook {

struct NotebookControllerOptions {
  std::string data_dir;
  std::string instance;  // the runtime instance label
  std::chrono::milliseconds tick{1000};
  std::chrono::seconds stop_grace{5};
  std::chrono::milliseconds probe_timeout{1000};
  // Stop notebooks idle this long; 0 = never.
  std::chrono::milliseconds idle_timeout{0};
  // code-server for the process runtime (containers run `code-server` from
  // their image); empty: /opt/quader/code-server/code-server when it
  // exists, else `code-server` on PATH.
  std::string code_server;
  // The port of the web UI, where anonymous browsers are sent to sign in
  // (on the host they asked for); 0 = the API listener's, set by SetLoginPort.
  int login_port = 0;
  // Where the data sets notebooks name are kept; null: naming one fails it.
  registry::BlobStore* blobs = nullptr;
};

// Where a notebook is reached through the gateway: "/notebook/P/N/".
std::string NotebookPath(const std::string& project, const std::string& name);

// Where notebook servers run.
struct NotebookSite {
  std::string data_dir;     // the server's data directory (users' directories, volumes)
  std::string instance;     // the runtime instance label
  bool local = false;       // the process runtime: a free loopback port, bound to 127.0.0.1
  std::string code_server;  // the code-server command
};

// The workload of a notebook's server (its current generation): the Jupyter
// or code-server command under NotebookPath, env, resources, mounts
// (/mnt/$user, /archives/$user, the project's and the notebook's volumes),
// the project's node selector, one port, labels. Used by the controller and
// by `quader render`.
runtime::WorkloadSpec NotebookWorkload(const store::NotebookRecord& n, const NotebookSpec& spec,
                                       const auth::ProjectSettings& project, const NotebookSite& site);

// The notebook's server as the controller last saw it.
struct NotebookView {
  std::string workload;     // name
  std::string workload_id;  // the runtime's id
  int64_t generation = 0;
  int host_port = 0;
  bool ready = false;
};

class NotebookController {
 public:
  // `gateway` may be null (no routes; tests of the controller alone).
  NotebookController(store::Store& store, const Clock& clock, runtime::Runtime& runtime, gateway::Gateway* gateway,
                     NotebookControllerOptions options);
  ~NotebookController();  // Stop()s

  void Start();
  // Stops the thread; servers keep running (the next server adopts them).
  void Stop();
  // Wakes the controller: a notebook was created, changed, reset, stopped or deleted.
  void Notify();
  void SetLoginPort(int port) { login_port_->store(port); }

  // True when `w` (labelled kind=notebook) belongs to a notebook that exists.
  bool OwnsWorkload(const runtime::WorkloadStatus& w);
  std::optional<NotebookView> View(int64_t notebook_id) const;
  // How many notebooks are in each state (pending, running, failed,
  // stopped) at the last reconciliation; for /metrics.
  std::map<std::string, int> StateCounts() const;
  // Streams the output of the notebook's server; with `follow`, until it
  // ends or `write` returns false. When no server runs, the kept log of the
  // last one that ended; kNotFound when there is none.
  Status Logs(int64_t notebook_id, bool follow, const std::function<bool(std::string_view)>& write);
  // A terminal in the notebook's running server (runtime::OpenTerminal);
  // kNotFound when none runs.
  Result<std::unique_ptr<runtime::Terminal>> OpenTerminal(int64_t notebook_id, const runtime::TerminalOptions& options);

 private:
  struct Activity {
    std::atomic<int64_t> last_request_ms{0};
  };

  struct Update {
    NotebookState state = NotebookState::kPending;
    std::string reason;
    std::optional<int64_t> started_at;
  };
  struct Pass;
  struct One;

  // One pass over every notebook: load, reconcile each (its server started,
  // watched or stopped, its route), publish routes and stop what goes, record.
  void Reconcile();
  bool LoadPass(Pass* pass);
  void ReconcileOne(Pass& pass, const store::NotebookRecord& n);
  void Serve(Pass& pass, const store::NotebookRecord& n, const NotebookSpec& spec, const workload::Census& census,
             Activity& activity, One* one);
  void StartServer(Pass& pass, const store::NotebookRecord& n, const NotebookSpec& spec, One* one);
  // Probes a running server: ready, and its last activity.
  void Watch(Pass& pass, const store::NotebookRecord& n, const NotebookSpec& spec, const runtime::WorkloadStatus& w,
             Activity& activity, One* one);
  void StopWhenIdle(Pass& pass, const store::NotebookRecord& n, One* one);
  gateway::Route RouteOf(const store::NotebookRecord& n, const NotebookSpec& spec, std::shared_ptr<Activity> activity);
  void Publish(Pass& pass);
  void Record(Pass& pass);
  gateway::AccessHook AccessHookFor(const store::NotebookRecord& n, std::shared_ptr<Activity> activity);
  std::string CodeServer() const;

  store::Store& store_;
  const Clock& clock_;
  runtime::Runtime& runtime_;
  gateway::Gateway* gateway_;
  const NotebookControllerOptions options_;
  // Shared with the access hooks, which the gateway may call after this is gone.
  std::shared_ptr<auth::SessionCache> sessions_;
  std::shared_ptr<std::atomic<int>> login_port_;

  WakeLoop loop_;

  mutable std::mutex view_mu_;
  std::map<int64_t, NotebookView> view_;  // guarded by view_mu_
  std::map<std::string, int> state_counts_;  // guarded by view_mu_

  // Owned by the controller thread.
  std::map<int64_t, std::shared_ptr<Activity>> activity_;
  std::set<std::string> starting_;  // workloads started and not yet ready
  // Each notebook's server, by notebook id; an ended server's log is kept under DATA/logs/notebooks.
  workload::ReplicaSet replicas_{runtime_, clock_,
                                 options_.data_dir.empty() ? "" : options_.data_dir + "/logs/notebooks"};
};

}  // namespace quader::notebook
