#pragma once
// The `Service` and `InferenceService` documents (SPEC §7-8, CONTRACT.md
// "Documents"), typed and validated. Pure: no store, clock or runtime.
//
// The container fields (image, command, working_dir, env, volume_mount,
// resources) are parsed by pipeline::ParseTemplateSpec, so they follow the
// JobTemplate rules; the traffic mini-grammars (canary, shadow, health, hpa,
// metrics, custom hosts, the inference naming rule) by gateway/traffic.h.
// cube-studio's column names are accepted as aliases: `label` for
// description, `images` for image, flat `resource_cpu` / `resource_memory` /
// `resource_gpu` for `resources`, `image_name`, `service_describe`, `workdir`,
// `project_name`, and a Service's `service_name`. Its fields that mean
// nothing here (namespace, inference_config, an inference service's
// service_name, a `host` that is a path: cube-studio's home link, ...) are
// kept in `cube_studio` (docs/cube-studio.md). Unknown fields are refused.
// Every error is kInvalidArgument, "field: reason".

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/expand.h"
#include "core/documents.h"
#include "core/status.h"
#include "gateway/traffic.h"
#include "pipeline/spec.h"

namespace quader::serving {

// What a replica runs: the fields both kinds share.
struct ContainerSpec {
  std::string image;                         // required
  // A list is the argv as given. A string is a shell command, run as
  // ["sh", "-c", text] (cube-studio runs `bash -c <command>`; `sh` is in
  // every image). Empty: the image's entrypoint.
  std::vector<std::string> command;
  std::string working_dir;                   // absolute, or empty
  std::map<std::string, std::string> env;    // an object, or KEY=VALUE lines
  std::string volume_mount;                  // the project grammar, raw
  std::vector<auth::VolumeMount> mounts;     // parsed from volume_mount
  pipeline::ResourceSpec resources;          // 0 = unset
  std::map<std::string, std::string> node_selector;  // "k=v,k2=v2" / "k=v;k2=v2" or an object
  // Container ports, unique, 1-65535, at most kMaxPorts; the first is the one
  // the gateway routes to. A list of numbers, a number, or "80,8080".
  std::vector<int> ports;
};

// At most this many ports per service: cube-studio gives each service ten
// external ports (base + 10*id + index), and so do we.
inline constexpr size_t kMaxPorts = 10;
// Names stay short enough that `$name-external` (and `debug-$name`) is still a
// DNS label of at most 63 characters.
inline constexpr size_t kMaxServiceNameLength = 54;

// kind: Service (an internal service, SPEC §7).
struct ServiceSpec {
  std::string project = "public";
  std::string name;         // a DNS label starting with a letter, at most 54 characters
  std::string description;  // alias: label
  ContainerSpec container;  // ports default to [80]
  int replicas = 1;         // 0..100
  std::string host;         // custom host as written; "" = $name.<service domain> (ResolveHosts)
  std::optional<gateway::HealthSpec> health;  // "port:/path" or "shell:command"; "" = none
  Json expand = Json::object();               // free-form settings (an object, or JSON text)
  Json cube_studio = Json::object();          // cube-studio's fields that mean nothing here, kept

  // The normalised document as stored and shown; parses back to an equal spec.
  Json ToJson() const;
};

// Parses a Service document (`kind` may be present and is ignored).
Result<ServiceSpec> ParseServiceSpec(const Json& doc);

// The inference service types. `serving` runs any image; tfserving,
// torch-server and triton-server get cube-studio's default ports, health and
// metrics; the others are accepted as cube-studio lists them and behave as
// `serving`. cube-studio's `*-distributed` and `mindie` types are refused
// (they need several nodes).
inline constexpr const char* kServiceTypes[] = {"serving",       "tfserving", "torch-server", "onnxruntime",
                                                "triton-server", "ml-server", "vllm",         "ollama"};

// kind: InferenceService (SPEC §8).
// A version of the model registry as an inference service names it,
// "NAME@VERSION" (docs/models.md).
struct ModelRef {
  std::string name;
  int version = 0;
  std::string Text() const { return name + "@" + std::to_string(version); }
};
// kInvalidArgument naming `model_ref` when `text` is not NAME@VERSION.
Result<ModelRef> ParseModelRef(const std::string& text);

struct InferenceServiceSpec {
  std::string project = "public";
  // $service_type-$model_name-$version_digits (gateway::InferenceServiceName,
  // with '/', ':' and '.' in model_name read as '-'). A `name` in the
  // document must equal it.
  std::string name;
  std::string description;               // alias: label
  std::string service_type = "serving";  // one of kServiceTypes
  std::string model_name;     // ^[a-z][a-z0-9./:-]*[a-z0-9]$, at most 54 characters (cube-studio)
  std::string model_version;  // ^[a-z0-9_.-]+$ with at least one digit, e.g. "v2024.01.1"
  // A container path ("/mnt/...") or an http(s) URL; triton-server also takes
  // an `onnx:`, `tf:`, `pytorch:` or `tensorrt:` prefix. Required for
  // tfserving, torch-server and triton-server.
  std::string model_path;
  // A version of the model registry (docs/models.md), "NAME@VERSION" of the
  // service's project: its files are mounted read-only at
  // /models/NAME/VERSION (model_path defaults there); "" = none.
  std::string model_ref;
  std::string model_ref_name;  // NAME of model_ref
  int model_ref_version = 0;   // VERSION of model_ref
  ContainerSpec container;    // ports default per service_type (serving: [80])
  int min_replicas = 1;       // 1..100
  int max_replicas = 1;       // min_replicas..100; defaults to min_replicas
  // Autoscaling targets. Required when min_replicas < max_replicas and refused
  // when they are equal (there is nothing to scale); a gpu target needs
  // resources.gpu >= 1 (cube-studio silently dropped it).
  gateway::HpaSpec hpa;
  // Missing in the document: the service_type's default; "" = none.
  std::optional<gateway::MetricsSpec> metrics;
  std::optional<gateway::HealthSpec> health;
  std::string host;                      // custom host as written; "" = $name.<service domain>
  std::map<std::string, int> canary;     // split: service -> percent; the sum is at most 100
  std::map<std::string, int> shadow;     // mirror: service -> percent
  Json expand = Json::object();
  Json cube_studio = Json::object();     // cube-studio's fields that mean nothing here, kept

  // Where model_ref's files are mounted: /models/NAME/VERSION.
  std::string ModelRefTarget() const;

  // Percent of requests this service keeps: 100 minus the canary sum.
  int KeptPercent() const;
  Json ToJson() const;
};

// Parses an InferenceService document. The deploy stage and history
// (`model_status`, `deploy_history`) are server state changed by the
// debug/test/prod actions and are refused here with a message saying so.
Result<InferenceServiceSpec> ParseInferenceServiceSpec(const Json& doc);

// The hosts a service answers on.
struct ServiceHosts {
  std::string production;  // the custom host (lower-cased, no scheme, port or path), or $name.<domain>
  std::string test;        // "test." + production; inference services only
  std::string debug;       // "debug." + production; inference services only
};

// Checks the custom host against the platform's wildcard domain
// (SERVICE_DOMAIN: "service.example.com" or "*.service.example.com", meaning
// *.service.example.com) with gateway::ValidateCustomHost, and returns the
// hosts. An empty domain is an error ("host: no wildcard domain is
// configured ...") since neither the default nor a custom host can be formed.
Result<ServiceHosts> ResolveHosts(const ServiceSpec& spec, std::string_view service_domain);
Result<ServiceHosts> ResolveHosts(const InferenceServiceSpec& spec, std::string_view service_domain);

// Host ownership (docs/services.md "Hosts"): a host belongs to the project
// of the oldest service that claims it (as its production, test or debug
// host), for as long as one does. A service of another project cannot take
// it: the API refuses it at apply (TakenHost), and the route table never
// sends the host to it (the controller drops its route).

// The hosts that are set: production, then test and debug.
std::vector<std::string> AllHosts(const ServiceHosts& hosts);

// One service's claim: its project and its hosts.
struct HostClaim {
  std::string project;
  ServiceHosts hosts;
};
// host -> owning project, from claims in service id order (oldest first).
std::map<std::string, std::string> HostOwners(const std::vector<HostClaim>& claims_oldest_first);
// The first of `hosts` owned by a project other than `project`, or "".
std::string TakenHost(const ServiceHosts& hosts, const std::string& project,
                      const std::map<std::string, std::string>& owners);

}  // namespace quader::serving
