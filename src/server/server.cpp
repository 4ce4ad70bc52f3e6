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
#include "cron/schedule_controller.h"
#include "pipeline/launch.h"
#include "experiment/experiment_controller.h"
#include "gateway/gateway.h"
#include "notebook/notebook_controller.h"
#include "serving/service_controller.h"
#include "pipeline/run_controller.h"
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

int Serve(const ServerConfig& cfg, const char* argv0) {
  // Task threads come and go by the thousand; a few malloc arenas keep
  // freed memory reusable instead of spread over one arena per thread.
  mallopt(M_ARENA_MAX, 4);
  SetUpLogging(cfg.log_level);
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) {
    std::cerr << "quader: cannot create data directory " << cfg.data_dir << ": " << ec.message() << "\n";
    return 1;
  }
  // Workloads' uids pass through the data directory to their own
  // directories; nobody but the server may list it (docs/security.md).
  chmod(cfg.data_dir.c_str(), 0711);
  fs::remove(fs::path(cfg.data_dir) / "server.json", ec);
  std::string host;
  uint16_t port = 0;
  if (Status st = SplitHostPort("listen", cfg.listen, &host, &port); !st.ok()) {
    std::cerr << "quader: " << st.message() << "\n";
    return 2;
  }
  if (Status st = auth::InitCrypto(); !st.ok()) {
    std::cerr << "quader: " << st.message() << "\n";
    return 1;
  }

  std::string db = cfg.db.empty() ? "sqlite:" + (fs::path(cfg.data_dir) / "quader.db").string() : cfg.db;
  auto store = store::OpenStore(db);
  if (!store.ok()) {
    std::cerr << "quader: " << store.status().message() << "\n";
    return 1;
  }
  if (Status st = (*store)->Migrate(); !st.ok()) {
    std::cerr << "quader: " << st.message() << "\n";
    return 1;
  }
  if (cfg.db.empty()) {
    // The store holds password hashes and tokens: the server's alone.
    for (const char* suffix : {"", "-wal", "-shm"}) {
      chmod(((fs::path(cfg.data_dir) / "quader.db").string() + suffix).c_str(), 0600);
    }
  }
  SystemClock clock;
  const char* pw_env = std::getenv("QUADER_ADMIN_PASSWORD");
  std::string generated;
  if (Status st = auth::Bootstrap(**store, clock, pw_env ? pw_env : "", &generated); !st.ok()) {
    std::cerr << "quader: cannot create the admin user: " << st.message() << "\n";
    return 1;
  }

  // Where work runs, then recovery: workloads of this instance that no
  // owner claims any more are removed (STYLE.md "Recover before serving").
  // Where workloads cannot be kept apart, only admins' work runs
  // (docs/security.md).
  runtime::RuntimePolicy policy;
  policy.may_run_unisolated = [&st = **store](const std::string& user) {
    bool admin = false;
    (void)st.Read([&](store::Tx& tx) -> Status {
      auto u = store::GetUser(tx, user);
      admin = u.ok() && u->is_admin && u->active;
      return Status::Ok();
    });
    return admin;
  };
  const std::string share = ShareDir(argv0);
  policy.image_files = ImageFiles(share);
  auto opened = runtime::OpenRuntime(cfg.runtime, cfg.data_dir, policy);
  if (!opened.ok()) {
    std::cerr << "quader: --runtime " << cfg.runtime << ": " << opened.status().message() << "\n";
    return 1;
  }
  runtime::Runtime& rt = *opened->runtime;
  auto instance = runtime::InstanceId(cfg.data_dir);
  if (!instance.ok()) {
    std::cerr << "quader: " << instance.status().message() << "\n";
    return 1;
  }
  // Pipeline runs and the cron (docs/pipelines.md). The run controller
  // claims the task workloads it still records as running.
  std::unique_ptr<cron::ScheduleController> schedules;
  pipeline::RunControllerOptions run_opts;
  auto webhook_allow = pipeline::ParseCidrList("--webhook-allow", cfg.webhook_allow);
  if (!webhook_allow.ok()) {
    std::cerr << "quader: " << webhook_allow.status().message() << "\n";
    return 2;
  }
  auto webhook_guard = std::make_shared<pipeline::WebhookGuard>(std::move(webhook_allow).value());
  run_opts.webhook_guard = webhook_guard;
  run_opts.data_dir = cfg.data_dir;
  run_opts.instance = *instance;
  run_opts.on_run_finished = [&schedules] {
    if (schedules) schedules->Notify();
  };
  pipeline::RunController runs(**store, clock, rt, run_opts);
  schedules = std::make_unique<cron::ScheduleController>(
      **store, clock,
      [&clock](store::Tx& tx, const store::PipelineRecord& p, int64_t execution_date,
               int64_t schedule_id) -> Result<int64_t> {
        QUADER_ASSIGN_OR_RETURN(pipeline::NewRun run, pipeline::PrepareRun(tx, p, p.created_by, "schedule"));
        run.execution_date = execution_date;
        run.schedule_id = schedule_id;
        int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch()).count();
        return pipeline::RunController::CreateRun(tx, run, now_ms);
      },
      [&runs] { runs.Notify(); });

  // Hyperparameter-search experiments (docs/hpo.md): trials are workloads too.
  experiment::ExperimentControllerOptions exp_opts;
  exp_opts.data_dir = cfg.data_dir;
  exp_opts.instance = *instance;
  exp_opts.sdk_dir = DefaultSdkDir(share);
  experiment::ExperimentController experiments(**store, clock, rt, exp_opts);

  // Services (docs/services.md): replicas behind Quader's own gateway.
  std::string gw_host;
  uint16_t gw_port = 0;
  if (Status st = SplitHostPort("gateway-listen", cfg.gateway_listen, &gw_host, &gw_port); !st.ok()) {
    std::cerr << "quader: " << st.message() << "\n";
    return 2;
  }
  api::Metrics metrics;
  gateway::GatewayOptions gw_opts;
  gw_opts.host = gw_host;
  gw_opts.port = gw_port;
  gateway::Gateway gateway(gw_opts, &metrics.registry());
  serving::ServiceControllerOptions svc_opts;
  svc_opts.data_dir = cfg.data_dir;
  svc_opts.instance = *instance;
  svc_opts.service_domain = cfg.service_domain;
  svc_opts.kubeflow_area = cfg.kubeflow_area;
  svc_opts.istio = cfg.istio;
  svc_opts.istio_gateway = cfg.istio_gateway;
  svc_opts.external_ip = cfg.service_external_ip;
  svc_opts.external_port_base = cfg.external_port_base;
  svc_opts.autoscale_period = std::chrono::milliseconds(cfg.autoscale_period_ms);
  svc_opts.scale_down_window = std::chrono::milliseconds(cfg.scale_down_window_ms);
  serving::ServiceController services(**store, clock, rt, &gateway, svc_opts);

  // Notebooks (docs/notebooks.md): Jupyter or code-server behind the gateway's login check.
  notebook::NotebookControllerOptions nb_opts;
  nb_opts.data_dir = cfg.data_dir;
  nb_opts.instance = *instance;
  nb_opts.idle_timeout = std::chrono::milliseconds(cfg.notebook_idle_timeout_ms);
  notebook::NotebookController notebooks(**store, clock, rt, &gateway, nb_opts);

  // Image builds need a container engine.
  images::NoEngineBuilder no_engine(
      "no container engine is available to this server: image builds need Podman or Docker "
      "(see docs/runtimes.md)");
  std::unique_ptr<images::ImageBuilder> engine_builder = images::NewEngineBuilder(rt);
  images::ImageBuilder& builder = engine_builder ? *engine_builder : static_cast<images::ImageBuilder&>(no_engine);
  images::BuildController builds(**store, clock, builder, cfg.data_dir);

  // Several servers may share one PostgreSQL store; only the leader runs the
  // controllers, so no two start the same task or fire the same schedule
  // (docs/server.md "Several servers"). The others serve the API and take
  // over when the leader goes. With SQLite this server always leads.
  auto leadership = (*store)->TryLead();
  if (!leadership.ok()) {
    std::cerr << "quader: " << leadership.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<store::Leadership> lease = std::move(leadership).value();
  // What a new leader does first: adopt the workloads it owns, remove
  // orphans, and settle image builds that were running.
  auto recover = [&]() -> Status {
    auto adoption = runtime::AdoptWorkloads(
        rt, *instance,
        {{"task", [&runs](const runtime::WorkloadStatus& w) { return runs.OwnsWorkload(w); }},
         {"trial", [&experiments](const runtime::WorkloadStatus& w) { return experiments.OwnsWorkload(w); }},
         {"service", [&services](const runtime::WorkloadStatus& w) { return services.OwnsWorkload(w); }},
         {"notebook", [&notebooks](const runtime::WorkloadStatus& w) { return notebooks.OwnsWorkload(w); }}});
    if (!adoption.ok()) {
      spdlog::warn("[server] listing workloads for adoption failed: {}", adoption.status().ToString());
    } else if (adoption->adopted + adoption->removed > 0) {
      spdlog::info("[server] adopted {} workloads, removed {} orphans", adoption->adopted, adoption->removed);
    }
    Status st = builds.Recover();
    return st.ok() ? st : errors::Internal("recovering image builds: " + st.message());
  };
  if (lease) {
    if (Status st = recover(); !st.ok()) {
      std::cerr << "quader: " << st.message() << "\n";
      return 1;
    }
  }

  std::string web_dir = cfg.web_dir.empty() ? DefaultWebDir(argv0) : cfg.web_dir;
  render::RenderOptions render_defaults;
  render_defaults.instance = *instance;
  render_defaults.data_dir = cfg.data_dir;
  render_defaults.service_domain = cfg.service_domain;
  render_defaults.kubeflow_area = cfg.kubeflow_area;
  render_defaults.istio = cfg.istio;
  render_defaults.istio_gateway = cfg.istio_gateway;
  if (auto* k8s = dynamic_cast<runtime::kubernetes::KubernetesRuntime*>(&rt)) render_defaults.ns = k8s->default_namespace();
  // The gateway listens before the API is built: notebooks' URLs name its port.
  if (Status st = gateway.Start(); !st.ok()) {
    std::cerr << "quader: --gateway-listen " << cfg.gateway_listen << ": " << st.message() << "\n";
    return 1;
  }
  std::string gateway_url = "http://" + (gw_host == "0.0.0.0" ? std::string("127.0.0.1") : gw_host) + ":" +
                            std::to_string(gateway.port());
  auto metrics_token = cfg.metrics_token_file.empty() ? Result<std::string>(std::string()) : api::ReadMetricsToken(cfg.metrics_token_file);
  if (!metrics_token.ok()) {
    std::cerr << "quader: " << metrics_token.status().message() << "\n";
    return 2;
  }
  api::Api api(**store, clock, metrics,
               {cfg.token_ttl_seconds, web_dir, &builds, &runs, schedules.get(), &experiments, &services, &notebooks,
                gateway_url, render_defaults, *metrics_token, opened->isolation_missing});
  for (const auto& path : cfg.apply_paths) {
    if (Status st = ApplyAtStart(api, **store, clock, path); !st.ok()) {
      std::cerr << "quader: --apply " << st.message() << "\n";
      return 1;
    }
  }

  api::HttpServerOptions http_opts;
  http_opts.host = host;
  http_opts.port = port;
  http_opts.max_body_bytes = static_cast<size_t>(cfg.max_body_bytes);
  http_opts.access_log_path = cfg.access_log == "-"   ? ""
                              : cfg.access_log.empty() ? (fs::path(cfg.data_dir) / "logs" / "access.log").string()
                                                       : cfg.access_log;
  api::HttpServer http(http_opts, [&api](api::Request& req, std::string* route) {
    return api.Handle(req, route);
  }, metrics);
  if (Status st = http.Start(); !st.ok()) {
    std::cerr << "quader: " << st.message() << "\n";
    return 1;
  }
  std::string shown_host = host == "0.0.0.0" ? "127.0.0.1" : host;
  if (shown_host.find(':') != std::string::npos) shown_host = "[" + shown_host + "]";
  std::string url = "http://" + shown_host + ":" + std::to_string(http.port());
  notebooks.SetLoginPort(http.port());
  webhook_guard->AddOwnPort(http.port());
  webhook_guard->AddOwnPort(gateway.port());
  if (Status st = WriteServerJson(cfg.data_dir, url, gateway_url); !st.ok()) spdlog::warn("[server] {}", st.message());

  std::cout << "Quader " << kVersion << " is serving on " << url << "\n"
            << "  gateway: " << gateway_url << " (services on NAME." << cfg.service_domain << ")\n"
            << "  data: " << fs::absolute(cfg.data_dir).string() << "  store: " << (*store)->dialect()
            << "  web UI: " << (web_dir.empty() ? "not built (run make build)" : web_dir) << "\n"
            << "  runtime: " << opened->description << "\n";
  if (!opened->isolation_missing.empty()) {
    std::cout << "  WARNING: workloads cannot be isolated from each other here (missing: "
              << opened->isolation_missing << "); only admins' work will run (docs/security.md)\n";
  }
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
    std::cout << "  sign in as admin" << (pw_env ? " with QUADER_ADMIN_PASSWORD" : "") << "\n";
  }
  auto start_controllers = [&] {
    builds.Start();
    runs.Start();
    schedules->Start();
    experiments.SetApiUrl(url);
    experiments.Start();
    services.Start();
    notebooks.Start();
  };
  if (lease) {
    start_controllers();
  } else {
    std::cout << "  follower: another server sharing this store runs the work; this one serves the API "
                 "and takes over when it goes\n";
  }
  std::cout.flush();
  spdlog::info("[server] serving api={} runtime={} role={}", url, opened->description, lease ? "leader" : "follower");

  // Housekeeping until a stop signal: expired tokens are removed hourly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  std::atomic<bool> stopping{false};
  std::thread housekeeping([&] {
    int64_t next = 0;
    auto next_lead_check = std::chrono::steady_clock::now();
    while (!stopping) {
      int64_t now = ToUnixSeconds(clock.Now());
      if (now >= next) {
        next = now + 3600;
        (void)(*store)->Write([&](store::Tx& tx) { return store::DeleteExpiredTokens(tx, now).status(); });
      }
      if (std::chrono::steady_clock::now() >= next_lead_check) {
        next_lead_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        if (lease && !lease->Held()) {
          // Another server may lead now: stop rather than run work twice.
          spdlog::critical("[server] leadership lost: stopping so that no two servers run the same work");
          kill(getpid(), SIGTERM);
          break;
        }
        if (!lease) {
          auto got = (*store)->TryLead();
          if (got.ok() && *got) {
            lease = std::move(got).value();
            spdlog::info("[server] leading now: the previous leader has gone");
            if (Status st = recover(); !st.ok()) {
              spdlog::critical("[server] {}: stopping", st.message());
              kill(getpid(), SIGTERM);
              break;
            }
            start_controllers();
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("[server] signal {} received: stopping", sig);
  stopping = true;
  http.Stop();
  schedules->Stop();
  experiments.Stop();
  services.Stop();
  notebooks.Stop();
  gateway.Stop();
  runs.Stop();
  builds.Stop();
  housekeeping.join();
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
