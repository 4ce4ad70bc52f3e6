#pragma once
// Picks and opens the runtime `quader server --runtime` asks for.

#include <memory>
#include <string>

#include "runtime/runtime.h"

namespace quader::runtime {

struct OpenedRuntime {
  std::unique_ptr<Runtime> runtime;
  std::string description;  // one line for the start-up banner: what was chosen and why
};

// `kind` is auto, docker, process or kubernetes. `auto` takes the docker-api
// runtime when an engine is reachable or startable (DOCKER_HOST, Podman,
// /var/run/docker.sock) and the process runtime otherwise. kUnavailable when
// an explicitly requested runtime cannot be opened, naming why.
Result<OpenedRuntime> OpenRuntime(const std::string& kind, const std::string& data_dir);

// A stable id for this data directory (created on first use, kept in
// DATA/instance-id); put on every workload as kLabelInstance so servers
// sharing an engine never adopt each other's workloads.
Result<std::string> InstanceId(const std::string& data_dir);

}  // namespace quader::runtime
