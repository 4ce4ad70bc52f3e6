#include "server/server.h"

#include <malloc.h>
#include <sys/stat.h>

#include <csignal>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "api/api.h"
#include "api/http_server.h"
#include "auth/passwords.h"
#include "auth/users.h"
#include "images/build_controller.h"
#include "images/engine_builder.h"
#include "pipeline/schedule_controller.h"
#include "pipeline/launch.h"
#include "experiment/experiment_controller.h"
#include "gateway/gateway.h"
#include "notebook/notebook_controller.h"
#include "serving/service_controller.h"
#include "pipeline/run_controller.h"
#include "registry/blob_store.h"
#include "runtime/adopt.h"
#include "runtime/factory.h"
#include "runtime/kubernetes/kubernetes_runtime.h"
#include "core/log.h"
#include "store/store.h"
#include "store/users.h"

namespace quader::server {
namespace fs = std::filesystem;
namespace {

constexpr const char* kVersion = "0.1.0";

Status SplitHostPort(const std::string& field, const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return errors::Invalid(field, "\"" + text + "\" is not HOST:PORT");
  *host = text.substr(0, colon);
  if (host->size() > 1 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  if (host->empty()) *host = "0.0.0.0";
  try {
    int p = std::stoi(text.substr(colon + 1));
    if (p < 0 || p > 65535) throw std::out_of_range("port");
    *port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return errors::Invalid(field, "\"" + text + "\" has no valid port");
  }
  return Status::Ok();
}

// The nearest ancestor of the binary's directory holding `file`; "" when none.
std::string AncestorHolding(const char* argv0, const char* file) {
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0);
  for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    if (fs::is_regular_file(dir / file, ec)) return dir.string();
  }
  return "";
}

std::string DefaultWebDir(const char* argv0) {
  std::string dir = AncestorHolding(argv0, "web/dist/index.html");
  return dir.empty() ? "" : dir + "/web/dist";
}

// Where Quader's shared files are (sdk/python, images/): the ancestor of the
// binary's directory holding them (the source tree), else the installed copy.
std::string ShareDir(const char* argv0) {
  std::string dir = AncestorHolding(argv0, "sdk/python/nni/__init__.py");
  std::error_code ec;
  if (dir.empty() && fs::is_regular_file("/usr/local/share/quader/sdk/python/nni/__init__.py", ec)) {
    return "/usr/local/share/quader";
  }
  return dir;
}

// The `nni` package trials import: $QUADER_SDK_DIR, else SHARE/sdk/python.
std::string DefaultSdkDir(const std::string& share) {
  if (const char* env = std::getenv("QUADER_SDK_DIR"); env && *env) return fs::absolute(env).string();
  if (!share.empty()) return share + "/sdk/python";
  spdlog::warn("[server] the nni package (sdk/python) was not found: trials cannot import nni");
  return "";
}

// On the process runtime, what Quader's own images add to the system, so that
// work naming them runs the same there: quader/predict's /app (the predict
// server of docs/model-serving.md).
std::map<std::string, std::vector<runtime::Mount>> ImageFiles(const std::string& share) {
  std::map<std::string, std::vector<runtime::Mount>> out;
  std::error_code ec;
  if (!share.empty() && fs::is_regular_file(share + "/images/predict/predict_server.py", ec)) {
    out["quader/predict"] = {{runtime::MountKind::kHostPath, share + "/images/predict", "/app", true, 0, "", ""}};
    out["quader/predict-torch"] = out["quader/predict"];  // the same server; torch is the host's
  }
  return out;
}

// Applies every *.yaml/*.yml/*.json under `path` (or the file) as the admin.
Status ApplyAtStart(api::Api& api, store::Store& store, const Clock& clock, const std::string& path) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::recursive_directory_iterator(path)) {
      auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    return errors::Invalid("apply", "\"" + path + "\" is neither a file nor a directory");
  }
  auth::Principal admin;
  QUADER_RETURN_IF_ERROR(store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(store::UserRecord u, store::GetUser(tx, "admin"));
    admin = {u.id, u.username, true, ""};
    return Status::Ok();
  }));
  // Files may depend on each other (a pipeline on a template in another
  // file): apply what can be applied, then retry the rest while that helps.
  std::vector<fs::path> pending = files;
  Status last_error;
  while (!pending.empty()) {
    std::vector<fs::path> failed;
    for (const auto& f : pending) {
      std::ifstream in(f);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto results = api.kinds().ApplyAll(store, admin, text, ToUnixSeconds(clock.Now()));
      if (!results.ok()) {
        last_error = Status(results.status().code(), f.string() + ": " + results.status().message());
        failed.push_back(f);
        continue;
      }
      for (const auto& r : *results) {
        spdlog::info("[server] applied {} {} from {}: {}", r.kind, r.name, f.string(), ChangeName(r.change));
      }
    }
    if (failed.size() == pending.size()) return last_error;
    pending = std::move(failed);
  }
  return Status::Ok();
}

Status WriteServerJson(const std::string& data_dir, const std::string& api_url, const std::string& gateway_url) {
  Json j = {{"api", api_url}, {"gateway", gateway_url}, {"pid", static_cast<int64_t>(getpid())}};
  fs::path tmp = fs::path(data_dir) / "server.json.tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) return errors::Internal("cannot write " + tmp.string());
  }
  fs::rename(tmp, fs::path(data_dir) / "server.json");
  return Status::Ok();
}

// Start-up failed: says why on stderr; exit code 2 for a bad setting, else 1.
int Fail(const std::string& message, int code = 1) {
  std::cerr << "quader: " << message << "\n";
  return code;
}

int Fail(const Status& st) { return Fail(st.message(), st.code() == Code::kInvalidArgument ? 2 : 1); }

// The process is ready to serve: logging, malloc arenas, libsodium, and the
// data directory (it exists, only the server may list it, no stale server.json).
Status PrepareProcess(const ServerConfig& cfg) {
  // Task threads come and go by the thousand; a few malloc arenas keep
  // freed memory reusable instead of spread over one arena per thread.
  mallopt(M_ARENA_MAX, 4);
  SetUpLogging(cfg.log_level);
  QUADER_RETURN_IF_ERROR(auth::InitCrypto());
  const std::string& data_dir = cfg.data_dir;
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return errors::Internal("cannot create data directory " + data_dir + ": " + ec.message());
  // Workloads' uids pass through the data directory to their own
  // directories; nobody but the server may list it (docs/security.md).
  chmod(data_dir.c_str(), 0711);
  fs::remove(fs::path(data_dir) / "server.json", ec);
  return Status::Ok();
}

// The store (--db, else SQLite in the data directory), migrated; SQLite's files are the server's alone.
Result<std::unique_ptr<store::Store>> OpenServerStore(const ServerConfig& cfg) {
  std::string db = cfg.db.empty() ? "sqlite:" + (fs::path(cfg.data_dir) / "quader.db").string() : cfg.db;
  QUADER_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(db));
  QUADER_RETURN_IF_ERROR(store->Migrate());
  if (cfg.db.empty()) {
    // The store holds password hashes and tokens: the server's alone.
    for (const char* suffix : {"", "-wal", "-shm"}) {
      chmod(((fs::path(cfg.data_dir) / "quader.db").string() + suffix).c_str(), 0600);
    }
  }
  return store;
}

// Where workloads cannot be kept apart, only admins' work runs (docs/security.md).
runtime::RuntimePolicy WorkloadPolicy(store::Store& store, const std::string& share) {
  runtime::RuntimePolicy policy;
  policy.may_run_unisolated = [&store](const std::string& user) {
    bool admin = false;
    (void)store.Read([&](store::Tx& tx) -> Status {
      auto u = store::GetUser(tx, user);
      admin = u.ok() && u->is_admin && u->active;
      return Status::Ok();
    });
    return admin;
  };
  policy.image_files = ImageFiles(share);
  return policy;
}

// Everything that runs work, wired; built in dependency order.
struct Controllers {
  // First, so destroyed last: the run controller's attempts register versions in it.
  std::unique_ptr<registry::BlobStore> blobs;  // the model registry's files
  std::shared_ptr<pipeline::WebhookGuard> webhook_guard;
  std::unique_ptr<pipeline::RunController> runs;
  std::unique_ptr<pipeline::ScheduleController> schedules;
  std::unique_ptr<experiment::ExperimentController> experiments;
  std::unique_ptr<gateway::Gateway> gateway;
  std::string gateway_host;  // as --gateway-listen names it
  std::unique_ptr<serving::ServiceController> services;
  std::unique_ptr<notebook::NotebookController> notebooks;
  std::unique_ptr<images::ImageBuilder> builder;
  std::unique_ptr<images::BuildController> builds;
};

// The files of models and data sets (docs/models.md, docs/datasets.md):
// what nothing holds goes now, before anything is registered or uploaded.
std::unique_ptr<registry::BlobStore> OpenBlobStore(const ServerConfig& cfg, store::Store& store, const Clock& clock) {
  auto blobs = std::make_unique<registry::BlobStore>((std::filesystem::path(cfg.data_dir) / "registry" / "blobs").string());
  if (auto swept = api::SweepRegistryBlobs(store, *blobs, ToUnixMillis(clock.Now())); !swept.ok()) {
    spdlog::warn("[registry] sweeping unheld files: {}", swept.status().message());
  } else if (*swept > 0) {
    spdlog::info("[registry] removed {} files no model or data set version holds", *swept);
  }
  return blobs;
}

Result<std::unique_ptr<Controllers>> MakeControllers(const ServerConfig& cfg, store::Store& store, const Clock& clock,
                                                     runtime::Runtime& rt, const std::string& instance,
                                                     const std::string& share, api::Metrics& metrics) {
  auto c = std::make_unique<Controllers>();
  c->blobs = OpenBlobStore(cfg, store, clock);
  // Pipeline runs and the cron (docs/pipelines.md).
  QUADER_ASSIGN_OR_RETURN(auto allow, pipeline::ParseCidrList("--webhook-allow", cfg.webhook_allow));
  c->webhook_guard = std::make_shared<pipeline::WebhookGuard>(std::move(allow));
  pipeline::RunControllerOptions run_opts;
  run_opts.webhook_guard = c->webhook_guard;
  run_opts.blobs = c->blobs.get();
  run_opts.data_dir = cfg.data_dir;
  run_opts.instance = instance;
  Controllers* wired = c.get();
  run_opts.on_run_finished = [wired] {
    if (wired->schedules) wired->schedules->Notify();
  };
  c->runs = std::make_unique<pipeline::RunController>(store, clock, rt, run_opts);
  c->schedules = std::make_unique<pipeline::ScheduleController>(
      store, clock,
      [&clock](store::Tx& tx, const store::PipelineRecord& p, int64_t execution_date,
               int64_t schedule_id) -> Result<int64_t> {
        QUADER_ASSIGN_OR_RETURN(pipeline::NewRun run, pipeline::PrepareRun(tx, p, p.created_by, "schedule"));
        run.execution_date = execution_date;
        run.schedule_id = schedule_id;
        return pipeline::RunController::CreateRun(tx, run, ToUnixMillis(clock.Now()));
      },
      [wired] { wired->runs->Notify(); });

  // Hyperparameter-search experiments (docs/hpo.md): trials are workloads too.
  experiment::ExperimentControllerOptions exp_opts;
  exp_opts.data_dir = cfg.data_dir;
  exp_opts.instance = instance;
  exp_opts.blobs = c->blobs.get();
  exp_opts.sdk_dir = DefaultSdkDir(share);
  c->experiments = std::make_unique<experiment::ExperimentController>(store, clock, rt, exp_opts);

  // Services (docs/services.md): replicas behind Quader's own gateway.
  gateway::GatewayOptions gw_opts;
  QUADER_RETURN_IF_ERROR(SplitHostPort("gateway-listen", cfg.gateway_listen, &gw_opts.host, &gw_opts.port));
  c->gateway_host = gw_opts.host;
  c->gateway = std::make_unique<gateway::Gateway>(gw_opts, &metrics.registry());
  serving::ServiceControllerOptions svc_opts;
  svc_opts.data_dir = cfg.data_dir;
  svc_opts.instance = instance;
  svc_opts.service_domain = cfg.service_domain;
  svc_opts.kubeflow_area = cfg.kubeflow_area;
  svc_opts.istio = cfg.istio;
  svc_opts.istio_gateway = cfg.istio_gateway;
  svc_opts.external_ip = cfg.service_external_ip;
  svc_opts.external_port_base = cfg.external_port_base;
  svc_opts.autoscale_period = std::chrono::milliseconds(cfg.autoscale_period_ms);
  svc_opts.scale_down_window = std::chrono::milliseconds(cfg.scale_down_window_ms);
  c->services = std::make_unique<serving::ServiceController>(store, clock, rt, c->gateway.get(), svc_opts);

  // Notebooks (docs/notebooks.md): Jupyter or code-server behind the gateway's login check.
  notebook::NotebookControllerOptions nb_opts;
  nb_opts.data_dir = cfg.data_dir;
  nb_opts.instance = instance;
  nb_opts.idle_timeout = std::chrono::milliseconds(cfg.notebook_idle_timeout_ms);
  nb_opts.blobs = c->blobs.get();
  c->notebooks = std::make_unique<notebook::NotebookController>(store, clock, rt, c->gateway.get(), nb_opts);

  // Image builds need a container engine.
  c->builder = images::NewEngineBuilder(rt);
  if (!c->builder) {
    c->builder = std::make_unique<images::NoEngineBuilder>(
        "no container engine is available to this server: image builds need Podman or Docker "
        "(see docs/runtimes.md)");
  }
  c->builds = std::make_unique<images::BuildController>(store, clock, *c->builder, cfg.data_dir);

  return c;
}

// What a new leader does first: adopt the workloads it owns, remove
// orphans, and settle image builds that were running.
Status RecoverWork(Controllers& c, runtime::Runtime& rt, const std::string& instance) {
  auto adoption = runtime::AdoptWorkloads(
      rt, instance,
      {{"task", [&c](const runtime::WorkloadStatus& w) { return c.runs->OwnsWorkload(w); }},
       {"trial", [&c](const runtime::WorkloadStatus& w) { return c.experiments->OwnsWorkload(w); }},
       {"service", [&c](const runtime::WorkloadStatus& w) { return c.services->OwnsWorkload(w); }},
       {"notebook", [&c](const runtime::WorkloadStatus& w) { return c.notebooks->OwnsWorkload(w); }}});
  if (!adoption.ok()) {
    spdlog::warn("[server] listing workloads for adoption failed: {}", adoption.status().ToString());
  } else if (adoption->adopted + adoption->removed > 0) {
    spdlog::info("[server] adopted {} workloads, removed {} orphans", adoption->adopted, adoption->removed);
  }
  Status st = c.builds->Recover();
  return st.ok() ? st : errors::Internal("recovering image builds: " + st.message());
}

void StartControllers(Controllers& c, const std::string& api_url) {
  c.builds->Start();
  c.runs->Start();
  c.schedules->Start();
  c.experiments->SetApiUrl(api_url);
  c.experiments->Start();
  c.services->Start();
  c.notebooks->Start();
}

void StopControllers(Controllers& c) {
  c.schedules->Stop();
  c.experiments->Stop();
  c.services->Stop();
  c.notebooks->Stop();
  c.gateway->Stop();
  c.runs->Stop();
  c.builds->Stop();
}

// What the server tells its starter: where it serves, and how to sign in.
void PrintBanner(const ServerConfig& cfg, const std::string& url, const std::string& gateway_url,
                 const store::Store& store, const std::string& web_dir, const runtime::OpenedRuntime& opened,
                 const std::string& generated, bool password_from_env) {
  std::cout << "Quader " << kVersion << " is serving on " << url << "\n"
            << "  gateway: " << gateway_url << " (services on NAME." << cfg.service_domain << ")\n"
            << "  data: " << fs::absolute(cfg.data_dir).string() << "  store: " << store.dialect()
            << "  web UI: " << (web_dir.empty() ? "not built (run make build)" : web_dir) << "\n"
            << "  runtime: " << opened.description << "\n";
  if (!opened.isolation_missing.empty()) {
    std::cout << "  WARNING: workloads cannot be isolated from each other here (missing: "
              << opened.isolation_missing << "); only admins' work will run (docs/security.md)\n";
  }
  std::error_code ec;
  fs::path password_file = fs::path(cfg.data_dir) / "admin-password";
  if (!generated.empty()) {
    // Kept (owner-only) so a lost terminal does not lock the owner out.
    {
      std::ofstream out(password_file);
      out << generated << "\n";
    }
    fs::permissions(password_file, fs::perms::owner_read | fs::perms::owner_write, ec);
    std::cout << "  admin password (generated, shown once): " << generated << "\n"
              << "  (also saved in " << password_file.string() << "; delete it once you have changed it)\n";
  } else if (fs::exists(password_file, ec)) {
    std::cout << "  sign in as admin: the generated password is in " << password_file.string() << "\n";
  } else {
    std::cout << "  sign in as admin" << (password_from_env ? " with QUADER_ADMIN_PASSWORD" : "") << "\n";
  }
}

// Until `stopping`: expired tokens are removed hourly; a follower takes the
// lead when the leader goes (recover, then start); a leader that lost its
// lease stops the server, so no two servers run the same work.
void Housekeep(store::Store& store, const Clock& clock, std::unique_ptr<store::Leadership>& lease,
               const std::function<Status()>& recover, const std::function<void()>& start,
               const std::atomic<bool>& stopping) {
  int64_t next = 0;
  auto next_lead_check = std::chrono::steady_clock::now();
  while (!stopping) {
    int64_t now = ToUnixSeconds(clock.Now());
    if (now >= next) {
      next = now + 3600;
      (void)store.Write([&](store::Tx& tx) { return store::DeleteExpiredTokens(tx, now).status(); });
    }
    if (std::chrono::steady_clock::now() >= next_lead_check) {
      next_lead_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      if (lease && !lease->Held()) {
        spdlog::critical("[server] leadership lost: stopping so that no two servers run the same work");
        kill(getpid(), SIGTERM);
        return;
      }
      if (!lease) {
        auto got = store.TryLead();
        if (got.ok() && *got) {
          lease = std::move(got).value();
          spdlog::info("[server] leading now: the previous leader has gone");
          if (Status st = recover(); !st.ok()) {
            spdlog::critical("[server] {}: stopping", st.message());
            kill(getpid(), SIGTERM);
            return;
          }
          start();
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// How Kubernetes manifests are rendered by default (`quader render`, the API).
render::RenderOptions RenderDefaults(const ServerConfig& cfg, const std::string& instance, runtime::Runtime& rt) {
  render::RenderOptions r;
  r.instance = instance;
  r.data_dir = cfg.data_dir;
  r.service_domain = cfg.service_domain;
  r.kubeflow_area = cfg.kubeflow_area;
  r.istio = cfg.istio;
  r.istio_gateway = cfg.istio_gateway;
  if (auto* k8s = dynamic_cast<runtime::kubernetes::KubernetesRuntime*>(&rt)) r.ns = k8s->default_namespace();
  return r;
}

std::string ShownUrl(const std::string& host, uint16_t port) {
  std::string shown = host == "0.0.0.0" ? "127.0.0.1" : host;
  if (shown.find(':') != std::string::npos) shown = "[" + shown + "]";
  return "http://" + shown + ":" + std::to_string(port);
}

api::HttpServerOptions HttpOptions(const ServerConfig& cfg, const std::string& host, uint16_t port, api::Api& api) {
  api::HttpServerOptions o;
  // Uploads stream their bodies (api/http_server.h).
  o.streamed_body = [&api](const std::string& method, const std::string& path) {
    return api.router().StreamsBody(method, path);
  };
  o.host = host;
  o.port = port;
  o.max_body_bytes = static_cast<size_t>(cfg.max_body_bytes);
  o.access_log_path = cfg.access_log == "-"   ? ""
                      : cfg.access_log.empty() ? (fs::path(cfg.data_dir) / "logs" / "access.log").string()
                                               : cfg.access_log;
  return o;
}

// Blocks until SIGINT or SIGTERM (blocked in every thread since start-up).
void WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("[server] signal {} received: stopping", sig);
}

// What the controllers need of the API once it serves (before they start):
// where sign-ins go, the server's own ports (webhooks may not call them),
// and the deploy a task's deploy_model declaration asks for.
void WireToApi(Controllers& c, api::Api& api, uint16_t http_port) {
  c.notebooks->SetLoginPort(http_port);
  c.webhook_guard->AddOwnPort(http_port);
  c.webhook_guard->AddOwnPort(c.gateway->port());
  c.runs->SetModelDeployer([&api](const std::string& runner, const std::string& project, const std::string& model,
                                  int version, const std::string& service) {
    return api.DeployModelAs(runner, project, model, version, service);
  });
}

int Serve(const ServerConfig& cfg, const char* argv0) {
  std::string host;
  uint16_t port = 0;
  if (Status st = SplitHostPort("listen", cfg.listen, &host, &port); !st.ok()) return Fail(st.message(), 2);
  if (Status st = PrepareProcess(cfg); !st.ok()) return Fail(st.message());
  auto store = OpenServerStore(cfg);
  if (!store.ok()) return Fail(store.status().message());
  SystemClock clock;
  const char* pw_env = std::getenv("QUADER_ADMIN_PASSWORD");
  std::string generated;
  if (Status st = auth::Bootstrap(**store, clock, pw_env ? pw_env : "", &generated); !st.ok()) {
    return Fail("cannot create the admin user: " + st.message());
  }

  // Where work runs, then recovery: workloads of this instance that no
  // owner claims any more are removed (STYLE.md "Recover before serving").
  const std::string share = ShareDir(argv0);
  auto opened = runtime::OpenRuntime(cfg.runtime, cfg.data_dir, WorkloadPolicy(**store, share));
  if (!opened.ok()) return Fail("--runtime " + cfg.runtime + ": " + opened.status().message());
  runtime::Runtime& rt = *opened->runtime;
  auto instance = runtime::InstanceId(cfg.data_dir);
  if (!instance.ok()) return Fail(instance.status().message());
  api::Metrics metrics;
  auto made = MakeControllers(cfg, **store, clock, rt, *instance, share, metrics);
  if (!made.ok()) return Fail(made.status());
  Controllers& c = **made;

  // Several servers may share one PostgreSQL store; only the leader runs the
  // controllers, so no two start the same task or fire the same schedule
  // (docs/server.md "Several servers"). The others serve the API and take
  // over when the leader goes. With SQLite this server always leads.
  auto leadership = (*store)->TryLead();
  if (!leadership.ok()) return Fail(leadership.status().message());
  std::unique_ptr<store::Leadership> lease = std::move(leadership).value();
  auto recover = [&] { return RecoverWork(c, rt, *instance); };
  if (lease) {
    if (Status st = recover(); !st.ok()) return Fail(st.message());
  }

  // The gateway listens before the API is built: notebooks' URLs name its port.
  if (Status st = c.gateway->Start(); !st.ok()) return Fail("--gateway-listen " + cfg.gateway_listen + ": " + st.message());
  std::string gateway_url = ShownUrl(c.gateway_host, c.gateway->port());
  auto metrics_token = cfg.metrics_token_file.empty() ? Result<std::string>(std::string()) : api::ReadMetricsToken(cfg.metrics_token_file);
  if (!metrics_token.ok()) return Fail(metrics_token.status().message(), 2);
  std::string web_dir = cfg.web_dir.empty() ? DefaultWebDir(argv0) : cfg.web_dir;
  api::Api api(**store, clock, metrics,
               {cfg.token_ttl_seconds, web_dir, c.builds.get(), c.runs.get(), c.schedules.get(), c.experiments.get(),
                c.services.get(), c.notebooks.get(), gateway_url, RenderDefaults(cfg, *instance, rt), *metrics_token,
                opened->isolation_missing, c.blobs.get()});
  for (const auto& path : cfg.apply_paths) {
    if (Status st = ApplyAtStart(api, **store, clock, path); !st.ok()) return Fail("--apply " + st.message());
  }

  api::HttpServer http(HttpOptions(cfg, host, port, api),
                       [&api](api::Request& req, std::string* route) { return api.Handle(req, route); }, metrics);
  if (Status st = http.Start(); !st.ok()) return Fail(st.message());
  std::string url = ShownUrl(host, http.port());
  WireToApi(c, api, http.port());
  if (Status st = WriteServerJson(cfg.data_dir, url, gateway_url); !st.ok()) spdlog::warn("[server] {}", st.message());
  PrintBanner(cfg, url, gateway_url, **store, web_dir, *opened, generated, pw_env != nullptr);
  auto start = [&] { StartControllers(c, url); };
  if (lease) start();
  else std::cout << "  follower: another server sharing this store runs the work; this one serves the API "
                    "and takes over when it goes\n";
  std::cout.flush();
  spdlog::info("[server] serving api={} runtime={} role={}", url, opened->description, lease ? "leader" : "follower");

  std::atomic<bool> stopping{false};
  std::thread housekeeping([&] { Housekeep(**store, clock, lease, recover, start, stopping); });
  WaitForStopSignal();
  stopping = true;
  http.Stop();
  StopControllers(c);
  housekeeping.join();
  std::error_code ec;
  fs::remove(fs::path(cfg.data_dir) / "server.json", ec);
  return 0;
}

}  // namespace

Status LoadConfigFile(const std::string& path, ServerConfig* cfg) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return errors::Invalid("config", path + ": " + e.what());
  }
  if (!root.IsMap()) return errors::Invalid("config", path + " must be a mapping of settings");
  try {
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "data") cfg->data_dir = v.as<std::string>();
      else if (key == "listen") cfg->listen = v.as<std::string>();
      else if (key == "gateway-listen") cfg->gateway_listen = v.as<std::string>();
      else if (key == "service-domain") cfg->service_domain = v.as<std::string>();
      else if (key == "kubeflow-area") cfg->kubeflow_area = v.as<std::string>();
      else if (key == "service-external-ip") cfg->service_external_ip = v.as<std::string>();
      else if (key == "webhook-allow") cfg->webhook_allow = v.as<std::string>();
      else if (key == "external-port-base") cfg->external_port_base = v.as<int>();
      else if (key == "autoscale-period") cfg->autoscale_period_ms = v.as<int64_t>();
      else if (key == "scale-down-window") cfg->scale_down_window_ms = v.as<int64_t>();
      else if (key == "notebook-idle-timeout") cfg->notebook_idle_timeout_ms = v.as<int64_t>();
      else if (key == "runtime") cfg->runtime = v.as<std::string>();
      else if (key == "istio") cfg->istio = v.as<bool>();
      else if (key == "istio-gateway") cfg->istio_gateway = v.as<std::string>();
      else if (key == "db") cfg->db = v.as<std::string>();
      else if (key == "web-dir") cfg->web_dir = v.as<std::string>();
      else if (key == "log-level") cfg->log_level = v.as<std::string>();
      else if (key == "token-ttl") cfg->token_ttl_seconds = v.as<int64_t>();
      else if (key == "max-body") cfg->max_body_bytes = v.as<int64_t>();
      else if (key == "access-log") cfg->access_log = v.as<std::string>();
      else if (key == "apply") cfg->apply_paths = v.as<std::vector<std::string>>();
      else if (key == "metrics-token-file") cfg->metrics_token_file = v.as<std::string>();
      else return errors::Invalid("config", path + ": unknown setting \"" + key + "\"");
    }
  } catch (const YAML::Exception& e) {
    return errors::Invalid("config", path + ": " + e.what());
  }
  return Status::Ok();
}

int Run(int argc, char** argv) {
  // Stop signals are taken by sigwait in Serve; block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  ServerConfig cfg;
  std::string config_file;
  // First pass: only --config, so flags given on the command line win over the file.
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--config") config_file = argv[i + 1];
  }
  if (!config_file.empty()) {
    if (Status st = LoadConfigFile(config_file, &cfg); !st.ok()) {
      std::cerr << "quader: " << st.message() << "\n";
      return 2;
    }
  }
  CLI::App app{"quader server: run the Quader platform", "quader server"};
  app.add_option("--config", config_file, "YAML file with any of these settings (keys = flag names)");
  app.add_option("--data", cfg.data_dir, "data directory")->capture_default_str();
  app.add_option("--listen", cfg.listen, "API and web UI address, HOST:PORT (port 0: any free port)")->capture_default_str();
  app.add_option("--gateway-listen", cfg.gateway_listen, "service gateway address, HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--service-domain", cfg.service_domain,
                 "wildcard domain of services: they answer on NAME.DOMAIN at the gateway (SERVICE_DOMAIN)")
      ->capture_default_str();
  app.add_option("--kubeflow-area", cfg.kubeflow_area,
                 "KUBEFLOW_AREA given to inference replicas (cube-studio: the region or cluster)")
      ->capture_default_str();
  app.add_flag("--istio", cfg.istio,
               "with --runtime kubernetes: an Istio VirtualService per service (hosts, canary split, mirror)");
  app.add_option("--istio-gateway", cfg.istio_gateway, "the Istio gateway VirtualServices attach to (NAMESPACE/NAME)")
      ->capture_default_str();
  app.add_option("--webhook-allow", cfg.webhook_allow,
                 "webhook destinations allowed although loopback, link-local or this server's ports (CIDR,...)");
  app.add_option("--service-external-ip", cfg.service_external_ip,
                 "IP where services' NAME-external ports listen (SERVICE_EXTERNAL_IP; a project's own wins)")
      ->capture_default_str();
  app.add_option("--external-port-base", cfg.external_port_base,
                 "a service's ports on the external IP are BASE + 10 x id + index; 0 turns IP exposure off")
      ->check(CLI::Range(0, 65000))->capture_default_str();
  app.add_option("--autoscale-period", cfg.autoscale_period_ms, "how often the autoscaler samples replicas, ms")
      ->check(CLI::Range(int64_t{100}, int64_t{3600} * 1000))->capture_default_str();
  app.add_option("--scale-down-window", cfg.scale_down_window_ms,
                 "the autoscaler scales down only to the highest count it recommended within this window, ms")
      ->check(CLI::Range(int64_t{0}, int64_t{24} * 3600 * 1000))->capture_default_str();
  app.add_option("--notebook-idle-timeout", cfg.notebook_idle_timeout_ms,
                 "stop notebooks with no activity for this long, ms (their files stay); 0 = never")
      ->check(CLI::Range(int64_t{0}, int64_t{365} * 24 * 3600 * 1000))->capture_default_str();
  app.add_option("--runtime", cfg.runtime, "where work runs: auto, docker, process, kubernetes")
      ->check(CLI::IsMember({"auto", "docker", "process", "kubernetes"}))->capture_default_str();
  app.add_option("--db", cfg.db, "metadata store URL (default sqlite:DATA/quader.db)");
  app.add_option("--web-dir", cfg.web_dir, "directory of the built web UI (default: web/dist)");
  app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))->capture_default_str();
  app.add_option("--token-ttl", cfg.token_ttl_seconds, "lifetime of login tokens, seconds")
      ->check(CLI::Range(int64_t{60}, int64_t{365} * 24 * 3600))->capture_default_str();
  app.add_option("--max-body", cfg.max_body_bytes, "largest request body accepted, bytes")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 30))->capture_default_str();
  app.add_option("--access-log", cfg.access_log,
                 "access log file, rotated at 64 MiB keeping 3 (default DATA/logs/access.log; - for stderr)");
  app.add_option("--apply", cfg.apply_paths, "apply the documents in this file or directory at start (as admin)");
  app.add_option("--metrics-token-file", cfg.metrics_token_file,
                 "file holding a token that may read /metrics as \"Authorization: Bearer TOKEN\" (else admins only)");
  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // Resolved once: every mount, socket and child process gets absolute paths.
  cfg.data_dir = fs::absolute(cfg.data_dir).lexically_normal().string();
  while (cfg.data_dir.size() > 1 && cfg.data_dir.back() == '/') cfg.data_dir.pop_back();
  return Serve(cfg, argv[0]);
}

}  // namespace quader::server
