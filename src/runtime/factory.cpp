#include "runtime/factory.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "runtime/docker/docker_runtime.h"
#include "runtime/kubernetes/kubernetes_runtime.h"
#include "runtime/process/process_runtime.h"

namespace quader::runtime {
namespace fs = std::filesystem;
namespace {

OpenedRuntime OpenProcess(const std::string& data_dir, const std::string& why, const RuntimePolicy& policy) {
  process::ProcessRuntimeOptions options;
  options.hidden_paths = {fs::absolute(data_dir).lexically_normal().string()};
  options.may_run_unisolated = policy.may_run_unisolated;
  options.image_files = policy.image_files;
  options.capture_helper = process::CaptureHelperNextToProgram();
  auto rt = std::make_unique<process::ProcessRuntime>((fs::path(data_dir) / "process").string(), options);
  std::string desc = "process (local processes";
  desc += rt->isolated() ? ", sandboxed per user" : rt->sandboxed() ? ", bubblewrap sandbox" : ", no sandbox";
  desc += rt->cgroups() ? ", cgroup limits)" : ", no cgroup limits)";
  if (!why.empty()) desc += ": " + why;
  std::string missing = rt->isolation_note();
  return {std::move(rt), desc, missing};
}

}  // namespace

Result<OpenedRuntime> OpenRuntime(const std::string& kind, const std::string& data_dir,
                                  const RuntimePolicy& policy) {
  if (kind == "process") return OpenProcess(data_dir, "", policy);
  if (kind == "kubernetes") {
    kubernetes::KubernetesOptions options;
    // Where pods reach this server's API (trials report through it): the
    // Service in front of Quader (deploy/kubernetes/quader.yaml sets it).
    if (const char* url = std::getenv("QUADER_CLUSTER_API_URL"); url && *url) options.api_url = url;
    auto rt = std::make_unique<kubernetes::KubernetesRuntime>(std::move(options));
    auto described = rt->Describe();
    if (!described.ok()) return errors::Unavailable("kubernetes: " + described.status().message());
    return OpenedRuntime{std::move(rt), *described};
  }
  if (kind != "auto" && kind != "docker") {
    return errors::Invalid("runtime", "\"" + kind + "\" is not auto, docker, process or kubernetes");
  }
  auto docker = docker::OpenDockerRuntime(data_dir);
  if (docker.ok()) return OpenedRuntime{std::move(docker).value(), "docker-api (container engine)"};
  if (kind == "docker") return docker.status();
  return OpenProcess(data_dir, "no container engine (" + docker.status().message() + ")", policy);
}

Result<std::string> InstanceId(const std::string& data_dir) {
  fs::path file = fs::path(data_dir) / "instance-id";
  std::ifstream in(file);
  std::string id;
  if (in >> id && !id.empty()) return id;
  std::random_device rd;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 12; ++i) id += hex[rd() % 16];
  std::ofstream out(file);
  out << id << "\n";
  if (!out) return errors::Internal("cannot write " + file.string());
  return id;
}

}  // namespace quader::runtime
