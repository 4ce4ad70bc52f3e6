#pragma once
// Picks and opens the runtime `quader server --runtime` asks for.

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "runtime/runtime.h"

namespace quader::runtime {

struct OpenedRuntime {
  std::unique_ptr<Runtime> runtime;
  std::string description;  // one line for the start-up banner: what was chosen and why
  // What keeps one user's workloads from another's is missing here ("" when
  // nothing is: containers, pods, or the process runtime's full sandbox).
  std::string isolation_missing;
};

// How the server wants workloads treated where they cannot be isolated.
struct RuntimePolicy {
  // Whether `user`'s workloads may still run (the server: admins only).
  // Null: everyone's.
  std::function<bool(const std::string& user)> may_run_unisolated;
  // The process runtime: files of Quader's own images, mounted in their place
  // (process::ProcessRuntimeOptions::image_files).
  std::map<std::string, std::vector<Mount>> image_files;
};

// `kind` is auto, docker, process or kubernetes. `auto` takes the docker-api
// runtime when an engine is reachable or startable (DOCKER_HOST, Podman,
// /var/run/docker.sock) and the process runtime otherwise. kUnavailable when
// an explicitly requested runtime cannot be opened, naming why.
// The process runtime keeps its state in DATA/process and hides `data_dir`
// from every workload.
Result<OpenedRuntime> OpenRuntime(const std::string& kind, const std::string& data_dir,
                                  const RuntimePolicy& policy = {});

// A stable id for this data directory (created on first use, kept in
// DATA/instance-id); put on every workload as kLabelInstance so servers
// sharing an engine never adopt each other's workloads.
Result<std::string> InstanceId(const std::string& data_dir);

}  // namespace quader::runtime
