#include "notebook/notebook_controller.h"

#include <cstdio>
#include <ctime>
#include <algorithm>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "auth/projects.h"
#include "core/url.h"
#include "notebook/notebook_spec.h"
#include "notebook/states.h"
#include "registry/datasets.h"
#include "runtime/labels.h"
#include "runtime/probe.h"
#include "workload/mounts.h"
#include "workload/ownership.h"
#include "workload/replica_set.h"

namespace quader::notebook {
namespace {

constexpr int kJupyterPort = 8888;   // inside a container
constexpr int kVscodePort = 8080;
constexpr const char* kDefaultCodeServer = "/opt/quader/code-server/code-server";

// "2026-11-29T16:20:00.123456Z" (Jupyter's last_activity) -> Unix ms; 0 when unreadable.
int64_t ParseIsoMillis(const std::string& text) {
  std::tm tm{};
  int frac_start = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &frac_start) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (frac_start > 0 && static_cast<size_t>(frac_start) < text.size() && text[frac_start] == '.') {
    int digits = 0, value = 0;
    for (size_t i = frac_start + 1; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (digits < 3) value = value * 10 + (text[i] - '0');
      digits++;
    }
    while (digits > 0 && digits < 3) {
      value *= 10;
      digits++;
    }
    ms += value;
  }
  return ms;
}

// What the server says about its last activity (Unix ms), 0 when unknown.
int64_t ReportedActivity(const std::string& type, const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object()) return 0;
  if (type == kTypeJupyter && j.contains("last_activity") && j["last_activity"].is_string()) {
    return ParseIsoMillis(j["last_activity"].get<std::string>());
  }
  if (type == kTypeVscode && j.contains("lastHeartbeat") && j["lastHeartbeat"].is_number()) {
    return j["lastHeartbeat"].get<int64_t>();
  }
  return 0;
}


std::string UpstreamName(const store::NotebookRecord& n) { return "notebook:" + n.project + "/" + n.name; }

}  // namespace

runtime::WorkloadSpec NotebookWorkload(const store::NotebookRecord& n, const NotebookSpec& spec,
                                       const auth::ProjectSettings& project, const NotebookSite& site) {
  runtime::WorkloadSpec w;
  w.name = "q" + site.instance.substr(0, 8) + "-nb" + std::to_string(n.id) + "-g" +
           std::to_string(n.generation);
  w.image = spec.image;
  std::string user = n.created_by;
  std::string path = NotebookPath(n.project, n.name);
  std::string home = "/mnt/" + user;
  std::string dir = spec.working_dir.empty() ? home : spec.working_dir;
  int port = spec.type == kTypeVscode ? kVscodePort : kJupyterPort;
  std::string bind = "0.0.0.0";
  if (site.local) {
    port = runtime::FreeLoopbackPort();
    bind = "127.0.0.1";
  }
  if (spec.type == kTypeJupyter) {
    w.command = {"jupyter-notebook",
                 "--no-browser",
                 "--allow-root",
                 "--ip=" + bind,
                 "--port=" + std::to_string(port),
                 "--port-retries=0",
                 "--notebook-dir=" + dir,
                 "--NotebookApp.base_url=" + path,
                 "--NotebookApp.allow_remote_access=True",
                 "--NotebookApp.quit_button=False",
                 "--NotebookApp.shutdown_no_activity_timeout=0"};
    w.env["JUPYTER_TOKEN"] = n.server_token;  // NotebookApp.token, kept off the command line
    if (dir == home) {
      // Jupyter shows only what is under its directory: a link `archives` in
      // /mnt/USER reaches /archives/USER from its file tree (made once, by the
      // notebook itself, inside its sandbox; never over a file of the user's).
      const std::string link = "'" + home + "/archives'";  // user names are [a-z0-9-]
      w.command.insert(w.command.begin(), {"/bin/sh", "-c",
                                           "[ -e " + link + " ] || [ -L " + link + " ] || ln -s '/archives/" + user +
                                               "' " + link + " 2>/dev/null; exec \"$@\"",
                                           "jupyter"});
    }
  } else {
    // Its settings and state per notebook, extensions shared by the
    // user's notebooks, all under /mnt/$username (they survive a reset).
    std::string data = home + "/.quader/code-server";
    std::string own = data + "/" + n.project + "-" + n.name;
    // Locked like Jupyter: any process of the machine can reach its port, so
    // it takes only requests carrying the notebook's secret, which the
    // gateway adds (as the session cookie code-server compares with
    // HASHED_PASSWORD) after its own access check.
    w.command = {site.code_server,
                 "--auth=password",
                 "--bind-addr=" + bind + ":" + std::to_string(port),
                 "--disable-telemetry",
                 "--disable-update-check",
                 "--user-data-dir=" + own + "/user-data",
                 "--extensions-dir=" + data + "/extensions",
                 dir};
    w.env["HASHED_PASSWORD"] = n.server_token;
    w.env["XDG_CONFIG_HOME"] = own + "/config";  // or it writes ~/.config/code-server
    w.env["XDG_DATA_HOME"] = own + "/data";
  }
  w.working_dir = dir;
  w.env.insert(spec.env.begin(), spec.env.end());
  w.env["USERNAME"] = user;
  w.env["NOTEBOOK_NAME"] = n.name;
  w.env["NOTEBOOK_PROJECT"] = n.project;
  w.env["NOTEBOOK_URL_PATH"] = path;
  w.env["PORT"] = std::to_string(port);
  w.env["SHELL"] = "/bin/bash";
  w.resources = {spec.resources.cpu, spec.resources.memory_bytes, spec.resources.gpu};
  w.node_selector = project.node_selector;
  w.cluster = project.cluster;
  w.mounts = workload::ResolveMounts({site.data_dir, user, true, true, {&project.volume_mounts, &spec.mounts}});
  runtime::PortMapping m;
  m.container_port = port;
  if (site.local) m.host_port = port;
  w.ports.push_back(m);
  w.labels = {{runtime::kLabelManaged, "true"},
              {runtime::kLabelInstance, site.instance},
              {runtime::kLabelProject, n.project},
              {runtime::kLabelUser, user},
              {runtime::kLabelKind, "notebook"},
              {runtime::kLabelOwner, std::to_string(n.id)},
              {runtime::kLabelGeneration, std::to_string(n.generation)}};
  return w;
}

std::string NotebookPath(const std::string& project, const std::string& name) {
  return "/notebook/" + project + "/" + name + "/";
}

NotebookController::NotebookController(store::Store& store, const Clock& clock, runtime::Runtime& runtime,
                                       gateway::Gateway* gateway, NotebookControllerOptions options)
    : store_(store),
      clock_(clock),
      runtime_(runtime),
      gateway_(gateway),
      options_(std::move(options)),
      sessions_(std::make_shared<auth::SessionCache>(store, clock)),
      login_port_(std::make_shared<std::atomic<int>>(options_.login_port)) {}

NotebookController::~NotebookController() {
  Stop();
  if (gateway_) (void)gateway_->SetRouteSet("notebooks", {}, {});
}

void NotebookController::Start() {
  // While a server is starting, look again soon: it is ready the moment it answers.
  loop_.Start([this] { Reconcile(); },
              [this] {
                return starting_.empty() ? options_.tick
                                               : std::min(options_.tick, std::chrono::milliseconds(100));
              });
}

void NotebookController::Stop() { loop_.Stop(); }

void NotebookController::Notify() { loop_.Notify(); }

std::optional<NotebookView> NotebookController::View(int64_t notebook_id) const {
  std::lock_guard<std::mutex> lock(view_mu_);
  auto it = view_.find(notebook_id);
  if (it == view_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, int> NotebookController::StateCounts() const {
  std::lock_guard<std::mutex> lock(view_mu_);
  return state_counts_;
}

Status NotebookController::Logs(int64_t notebook_id, bool follow,
                                const std::function<bool(std::string_view)>& write) {
  auto view = View(notebook_id);
  if (view && !view->workload.empty()) {
    return runtime_.Logs(view->workload_id.empty() ? view->workload : view->workload_id, follow,
                         [&](const std::string& chunk) { return write(chunk); });
  }
  // No server runs: the kept log of the last one that ended (why it failed).
  if (!replicas_.SendPreviousLog(notebook_id, 0, write).ok()) {
    return errors::NotFound("notebook server", std::to_string(notebook_id) + " (it is not running)");
  }
  return Status::Ok();
}

Result<std::unique_ptr<runtime::Terminal>> NotebookController::OpenTerminal(int64_t notebook_id,
                                                                           const runtime::TerminalOptions& options) {
  auto view = View(notebook_id);
  if (!view || view->workload.empty()) {
    return errors::NotFound("notebook server", std::to_string(notebook_id) + " (it is not running)");
  }
  return runtime_.OpenTerminal(view->workload_id.empty() ? view->workload : view->workload_id, options);
}

bool NotebookController::OwnsWorkload(const runtime::WorkloadStatus& w) {
  return workload::Owns(store_, w, [](store::Tx& tx, const workload::Owner& o) -> Result<bool> {
    return store::GetNotebook(tx, o.id).ok();
  });
}

std::string NotebookController::CodeServer() const {
  if (!options_.code_server.empty()) return options_.code_server;
  std::error_code ec;
  return std::filesystem::exists(kDefaultCodeServer, ec) ? kDefaultCodeServer : "code-server";
}

gateway::AccessHook NotebookController::AccessHookFor(const store::NotebookRecord& n,
                                                      std::shared_ptr<Activity> activity) {
  std::string owner = n.created_by;
  return [sessions = sessions_, login_port = login_port_, owner,
          activity](const gateway::AccessRequest& req) -> gateway::AccessDecision {
    std::string token;
    auto authz = req.headers.find(boost::beast::http::field::authorization);
    if (authz != req.headers.end() && authz->value().size() > 7 &&
        strncasecmp(authz->value().data(), "Bearer ", 7) == 0) {
      token = std::string(authz->value().substr(7));
    } else {
      auto cookie = req.headers.find(boost::beast::http::field::cookie);
      if (cookie != req.headers.end()) {
        token = auth::CookieValue(std::string_view(cookie->value().data(), cookie->value().size()),
                                  auth::kSessionCookie);
      }
    }
    // "/notebook/p/n" -> "/notebook/p/n/": the servers' pages use relative URLs.
    std::string_view path = req.target.substr(0, req.target.find('?'));
    if (req.method == "GET" && !path.empty() && path.back() != '/' && std::count(path.begin(), path.end(), '/') == 3) {
      return gateway::AccessDecision::Redirect(std::string(path) + "/" + std::string(req.target.substr(path.size())));
    }
    auto who = sessions->Lookup(token);
    if (!who) {
      if (req.method != "GET" && req.method != "HEAD") return gateway::AccessDecision::Forbidden();
      // To the sign-in page on the host the browser used, and back here after.
      auto host = req.headers.find(boost::beast::http::field::host);
      std::string here = "http://" + std::string(host == req.headers.end() ? std::string_view(req.host)
                                                                             : std::string_view(host->value().data(),
                                                                                                host->value().size())) +
                         std::string(req.target);
      int port = login_port->load();
      std::string login = "http://" + std::string(req.host) + (port > 0 ? ":" + std::to_string(port) : "");
      return gateway::AccessDecision::Redirect(login + "/login?next=" + PercentEncode(here, "/"));
    }
    if (who->username != owner) return gateway::AccessDecision::NotFound();  // nobody else's notebook exists
    activity->last_request_ms.store(ToUnixMillis(std::chrono::system_clock::now()), std::memory_order_relaxed);
    return gateway::AccessDecision::Allow();
  };
}

// What one pass reads and decides: filled by its steps, then published.
struct NotebookController::Pass {
  int64_t now = 0;
  bool local = false;  // the process runtime
  std::vector<store::NotebookRecord> notebooks;
  std::map<int64_t, auth::ProjectSettings> projects;
  std::map<int64_t, std::vector<runtime::WorkloadStatus>> servers;  // of each existing notebook
  // Deleted, stopped, reset or changed: these servers go once the routes
  // no longer name them (so nobody is sent to a server on its way out).
  std::vector<runtime::WorkloadStatus> to_stop;
  std::map<int64_t, Update> updates;
  std::map<int64_t, int64_t> activities;  // notebook -> its last activity seen (Unix ms)
  std::vector<int64_t> idle_stops;
  std::vector<gateway::Upstream> upstreams;
  std::vector<gateway::Route> routes;
  std::map<int64_t, NotebookView> views;
};

// One notebook in a pass.
struct NotebookController::One {
  Update u;
  NotebookView view;
  gateway::Upstream up;
};

void NotebookController::Reconcile() {
  Pass pass;
  pass.now = ToUnixMillis(clock_.Now());
  pass.local = runtime_.kind() == "process";
  if (!LoadPass(&pass)) return;
  std::set<int64_t> ids;
  for (const auto& n : pass.notebooks) {
    ReconcileOne(pass, n);
    ids.insert(n.id);
  }
  for (auto it = activity_.begin(); it != activity_.end();) it = ids.count(it->first) ? ++it : activity_.erase(it);
  replicas_.Keep(ids);
  Publish(pass);
  Record(pass);
  if (!pass.idle_stops.empty()) Notify();
}

bool NotebookController::LoadPass(Pass* pass) {
  Status st = store_.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(pass->notebooks, store::ListNotebooks(tx, {}, true, ""));
    for (const auto& n : pass->notebooks) {
      if (pass->projects.count(n.project_id)) continue;
      QUADER_ASSIGN_OR_RETURN(pass->projects[n.project_id], auth::StoredProjectSettings(tx, n.project_id));
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    spdlog::warn("[notebooks] reading notebooks failed: {}", st.ToString());
    return false;
  }
  auto listed = workload::ListByOwner(runtime_, options_.instance, "notebook");
  if (!listed.ok()) {
    spdlog::warn("[notebooks] listing servers failed: {}", listed.status().ToString());
    return false;
  }
  std::set<int64_t> known;
  for (const auto& n : pass->notebooks) known.insert(n.id);
  for (auto& [id, servers] : *listed) {
    if (known.count(id)) {
      pass->servers[id] = std::move(servers);
    } else {
      for (auto& w : servers) pass->to_stop.push_back(std::move(w));  // its notebook was deleted
    }
  }
  return true;
}

void NotebookController::ReconcileOne(Pass& pass, const store::NotebookRecord& n) {
  auto& activity = activity_[n.id];
  if (!activity) activity = std::make_shared<Activity>();
  auto parsed = ParseNotebookSpec(Json::parse(n.spec, nullptr, false));
  if (!parsed.ok()) {
    pass.updates[n.id] = {NotebookState::kFailed, "cannot be run: " + parsed.status().message(), std::nullopt};
    return;
  }
  One one;
  one.u = {ParseNotebookState(n.state).value_or(NotebookState::kPending), n.reason, n.started_at};
  one.view.generation = n.generation;
  one.up.name = UpstreamName(n);
  std::vector<runtime::WorkloadStatus>& mine = pass.servers[n.id];
  if (n.desired != store::kNotebookRunning) {
    for (const auto& w : mine) pass.to_stop.push_back(w);
    one.u = {NotebookState::kStopped, n.reason.rfind("stopped", 0) == 0 ? n.reason : "stopped", std::nullopt};
  } else {
    workload::Census census = workload::TakeCensus(mine, n.generation);
    for (const auto& r : census.old) pass.to_stop.push_back(*r.workload);
    Serve(pass, n, *parsed, census, *activity, &one);
    StopWhenIdle(pass, n, &one);
    pass.upstreams.push_back(one.up);
    pass.routes.push_back(RouteOf(n, *parsed, activity));
  }
  pass.views[n.id] = one.view;
  pass.updates[n.id] = one.u;
}

void NotebookController::Serve(Pass& pass, const store::NotebookRecord& n, const NotebookSpec& spec,
                               const workload::Census& census, Activity& activity, One* one) {
  for (const workload::Replica& r : census.ended) {
    if (r.generation != n.generation) {
      pass.to_stop.push_back(*r.workload);
      continue;
    }
    std::string why = replicas_.RemoveEnded(n.id, n.generation, r);
    one->u = {NotebookState::kFailed, "the " + spec.type + " server " + why + "; reset it to start it again",
              std::nullopt};
    spdlog::warn("[notebooks] notebook {}: {}", n.id, one->u.reason);
    starting_.erase(r.workload->name);
  }
  if (!census.current.empty()) {
    Watch(pass, n, spec, *census.current.front().workload, activity, one);
  } else if (one->u.state != NotebookState::kFailed) {  // a failed one stays failed until a reset (a new generation)
    StartServer(pass, n, spec, one);
  }
}

void NotebookController::StartServer(Pass& pass, const store::NotebookRecord& n, const NotebookSpec& spec, One* one) {
  const NotebookSite site{options_.data_dir, options_.instance, pass.local, pass.local ? CodeServer() : "code-server"};
  // The data sets it names, resolved (and their reads recorded) as it starts.
  registry::DatasetMounts datasets;
  if (!spec.datasets.empty()) {
    auto mounted = options_.blobs == nullptr
                       ? Result<registry::DatasetMounts>(errors::Unavailable("this server keeps no data sets"))
                       : registry::MountDatasets(store_, *options_.blobs, "datasets", n.project_id, spec.datasets,
                                                 {"notebook", n.id, ""}, ToUnixMillis(clock_.Now()));
    if (!mounted.ok()) {
      one->u = {NotebookState::kFailed, mounted.status().message(), std::nullopt};
      return;
    }
    datasets = std::move(mounted).value();
  }
  auto starts = replicas_.StartMissing(n.id, n.generation, 1, {}, [&](int) {
    runtime::WorkloadSpec w = NotebookWorkload(n, spec, pass.projects[n.project_id], site);
    w.mounts.insert(w.mounts.end(), datasets.mounts.begin(), datasets.mounts.end());
    if (!datasets.env.empty()) w.env["QUADER_DATASETS"] = datasets.env;
    return w;
  });
  if (!starts.waiting.empty()) {
    one->u = {NotebookState::kPending, starts.waiting, std::nullopt};  // tried again on a later pass
  } else if (!starts.failure.empty()) {
    std::string why = starts.failure;
    if (spec.type == kTypeVscode && pass.local) why += " (VS Code notebooks need scripts/install-code-server.sh)";
    one->u = {NotebookState::kFailed, why, std::nullopt};
    spdlog::warn("[notebooks] notebook {}: {}", n.id, why);
  } else if (!starts.started.empty()) {
    const workload::ReplicaSet::Started& w = starts.started.front();
    spdlog::info("[notebooks] notebook {} ({}/{}): started {} (generation {})", n.id, n.project, n.name, w.spec.name,
                 n.generation);
    starting_.insert(w.spec.name);
    one->view.workload = w.spec.name;
    one->view.workload_id = w.status.id;
    one->view.host_port = w.status.ports.empty() ? 0 : w.status.ports[0].host_port;
    one->u = {NotebookState::kPending, "starting " + spec.type, std::nullopt};
  }
}

void NotebookController::Watch(Pass& pass, const store::NotebookRecord& n, const NotebookSpec& spec,
                               const runtime::WorkloadStatus& w, Activity& activity, One* one) {
  one->view.workload = w.name;
  one->view.workload_id = w.id;
  one->view.host_port = w.ports.empty() ? 0 : w.ports[0].host_port;
  if (w.state != runtime::WorkloadState::kRunning || one->view.host_port <= 0) {
    one->u = {NotebookState::kPending, "waiting for the server to start", std::nullopt};
  } else {
    const std::string path = NotebookPath(n.project, n.name);
    runtime::HttpProbeResult probe =
        spec.type == kTypeJupyter
            ? runtime::HttpGet(runtime::AddressOf(w.address), one->view.host_port, path + "api/status",
                               {{"Authorization", "token " + n.server_token}}, options_.probe_timeout, 4096)
            : runtime::HttpGet(runtime::AddressOf(w.address), one->view.host_port, "/healthz", {},
                               options_.probe_timeout, 4096);
    one->view.ready = probe.status == 200;
    if (one->view.ready) {
      one->u.state = NotebookState::kRunning;
      one->u.reason = "";
      if (!one->u.started_at || ParseNotebookState(n.state) != NotebookState::kRunning) one->u.started_at = pass.now;
      int64_t reported = ReportedActivity(spec.type, probe.body);
      int64_t seen = std::max(reported, activity.last_request_ms.load(std::memory_order_relaxed));
      if (seen > 0) pass.activities[n.id] = seen;
      starting_.erase(w.name);
    } else {
      one->u.state = NotebookState::kPending;
      one->u.reason = "waiting for the " + spec.type + " server to answer";
    }
  }
  if (one->view.ready) {
    one->up.backends.push_back({runtime::AddressOf(w.address), static_cast<uint16_t>(one->view.host_port)});
  }
}

void NotebookController::StopWhenIdle(Pass& pass, const store::NotebookRecord& n, One* one) {
  // Idle: nothing through the gateway and nothing reported for that long.
  if (options_.idle_timeout.count() <= 0 || one->u.state != NotebookState::kRunning || !one->u.started_at) return;
  auto seen = pass.activities.find(n.id);
  int64_t last =
      std::max({*one->u.started_at, seen == pass.activities.end() ? 0 : seen->second, n.last_activity.value_or(0)});
  if (pass.now - last < options_.idle_timeout.count()) return;
  pass.idle_stops.push_back(n.id);
  one->u = {NotebookState::kStopped, "stopped after " + std::to_string(options_.idle_timeout.count() / 60000) + " min without activity",
            std::nullopt};
  one->view.ready = false;
  one->up.backends.clear();
}

gateway::Route NotebookController::RouteOf(const store::NotebookRecord& n, const NotebookSpec& spec,
                                           std::shared_ptr<Activity> activity) {
  const std::string path = NotebookPath(n.project, n.name);
  gateway::Route r;
  r.host = gateway::kAnyHost;
  r.path_prefix = path.substr(0, path.size() - 1);  // "/notebook/p/n" and everything under it
  r.targets.push_back({UpstreamName(n), 1});
  r.access = AccessHookFor(n, std::move(activity));
  r.drop_cookies = {auth::kSessionCookie};
  if (spec.type == kTypeJupyter) {
    r.set_headers.push_back({"Authorization", "token " + n.server_token});
  } else {
    r.set_headers.push_back({"Authorization", ""});  // the platform's token stays out of the IDE
    r.set_cookies.push_back({"code-server-session", n.server_token});
    r.strip_prefix = true;
  }
  return r;
}

void NotebookController::Publish(Pass& pass) {
  if (gateway_) {
    Status set = gateway_->SetRouteSet("notebooks", pass.upstreams, pass.routes);
    if (!set.ok()) spdlog::error("[notebooks] route table refused: {}", set.ToString());
  }
  for (const auto& w : pass.to_stop) {
    spdlog::info("[notebooks] stopping {} (notebook {})", w.name, workload::LabelNumber(w, runtime::kLabelOwner));
    (void)runtime_.Stop(w.id, options_.stop_grace);
    starting_.erase(w.name);
  }
  std::map<std::string, int> counts;
  for (auto s : {NotebookState::kPending, NotebookState::kRunning, NotebookState::kFailed, NotebookState::kStopped}) {
    counts[std::string(WireName(s))] = 0;
  }
  for (const auto& [id, u] : pass.updates) counts[std::string(WireName(u.state))]++;
  std::lock_guard<std::mutex> lock(view_mu_);
  view_ = std::move(pass.views);
  state_counts_ = std::move(counts);
}

void NotebookController::Record(Pass& pass) {
  Status w = store_.Write([&](store::Tx& tx) -> Status {
    for (const auto& n : pass.notebooks) {
      auto it = pass.updates.find(n.id);
      if (it == pass.updates.end()) continue;
      const Update& u = it->second;
      const std::string word(WireName(u.state));
      if (word != n.state || u.reason != n.reason || u.started_at != n.started_at) {
        QUADER_RETURN_IF_ERROR(store::SetNotebookState(tx, n.id, word, u.reason, u.started_at));
      }
      auto a = pass.activities.find(n.id);
      // Activity is written when it moved by more than a few seconds.
      if (a != pass.activities.end() && a->second > n.last_activity.value_or(0) + 5000) {
        QUADER_RETURN_IF_ERROR(store::SetNotebookActivity(tx, n.id, a->second));
      }
    }
    for (int64_t id : pass.idle_stops) {
      QUADER_RETURN_IF_ERROR(store::SetNotebookDesired(tx, id, store::kNotebookStopped, false, pass.now / 1000));
      spdlog::info("[notebooks] notebook {} stopped: idle for {} ms", id, options_.idle_timeout.count());
    }
    return Status::Ok();
  });
  if (!w.ok()) spdlog::warn("[notebooks] recording notebook states failed: {}", w.ToString());
}

}  // namespace quader::notebook
