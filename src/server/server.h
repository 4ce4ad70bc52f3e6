#pragma once
// The composition root (STYLE.md addendum): loads the configuration, opens
// the store, bootstraps the first admin, wires the API and serves until
// SIGINT/SIGTERM.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace quader::server {

struct ServerConfig {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8080";
  std::string gateway_listen = "127.0.0.1:8081";
  // SERVICE_DOMAIN: services answer on $name.<domain> through the gateway
  // (*.localhost resolves to this machine in browsers and curl).
  std::string service_domain = "service.localhost";
  // KUBEFLOW_AREA, which inference replicas get (cube-studio: the region or
  // cluster the platform runs in).
  std::string kubeflow_area = "local";
  // SERVICE_EXTERNAL_IP: `$name-external` ports listen there (a project's
  // SERVICE_EXTERNAL_IP wins), at external_port_base + 10 × id + index;
  // a base of 0 turns IP exposure off.
  std::string service_external_ip = "127.0.0.1";
  // Webhook destinations allowed although loopback, link-local or this
  // server's own ports: "CIDR,..." (pipeline/webhook.h).
  std::string webhook_allow;
  int external_port_base = 30000;
  // The autoscaler of inference services: sampling period and scale-down
  // window (Kubernetes' HPA defaults: 15 s, 300 s).
  int64_t autoscale_period_ms = 15000;
  int64_t scale_down_window_ms = 300000;
  // Notebooks idle this long are stopped (their files stay); 0 = never.
  int64_t notebook_idle_timeout_ms = 0;
  std::string runtime = "auto";  // auto, docker, process, kubernetes
  // --runtime kubernetes: give each service an Istio VirtualService (hosts,
  // canary split, mirror) through this Istio gateway.
  bool istio = false;
  std::string istio_gateway = "istio-system/istio-ingressgateway";
  std::string db;                // default sqlite:DATA/quader.db
  std::string web_dir;           // default: web/dist beside the binary's build dir
  std::string log_level = "info";
  int64_t token_ttl_seconds = 7 * 24 * 3600;
  int64_t max_body_bytes = 8 * 1024 * 1024;
  // The access log, rotated at 64 MiB keeping 3 old files (api/access_log.h);
  // "" is DATA/logs/access.log, "-" the server's own log (stderr).
  std::string access_log;
  std::vector<std::string> apply_paths;  // documents applied as admin at start
  std::string metrics_token_file;  // holds a bearer token that may read /metrics ("": admins only)
};

// Reads a YAML config file whose keys are the long flag names
// (data, listen, db, ...). Unknown keys are an error naming them.
Status LoadConfigFile(const std::string& path, ServerConfig* config);

// Runs `quader server ...` (argv[1] == "server"). Returns the exit status.
int Run(int argc, char** argv);

}  // namespace quader::server
