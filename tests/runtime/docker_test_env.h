#pragma once
// A real container engine for the docker-api tests: DOCKER_HOST when set, else
// a private Podman service in a temp data dir (what OpenDockerRuntime does for
// the server), plus the local test image (scripts/test-images.sh, run with the
// same CONTAINERS_CONF). When no engine can be had, `skip_reason` says why and
// the tests skip — unless QUADER_REQUIRE_ENGINE=1, when they fail instead.

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "fakes/temp_dir.h"
#include "runtime/docker/docker_runtime.h"
#include "runtime/docker/podman_service.h"
#include "runtime/runtime.h"

namespace quader::runtime::docker::testing {

inline constexpr const char* kTestImage = "localhost/quader-test:busybox";

struct DockerTestEnv {
  std::unique_ptr<quader::testing::TempDir> data_dir;
  std::unique_ptr<Runtime> runtime;
  std::string socket_path;
  std::string skip_reason;  // empty when the engine and the test image are ready
};

inline std::unique_ptr<DockerTestEnv> OpenDockerTestEnv() {
  auto env = std::make_unique<DockerTestEnv>();
  env->data_dir = std::make_unique<quader::testing::TempDir>();
  const char* docker_host = std::getenv("DOCKER_HOST");
  if ((!docker_host || !*docker_host) && PodmanService::FindPodman().empty()) {
    env->skip_reason = "no DOCKER_HOST and podman is not installed (run scripts/install-deps.sh)";
    return env;
  }
  auto runtime = OpenDockerRuntime(env->data_dir->path());
  if (!runtime.ok()) {
    env->skip_reason = "no container engine: " + runtime.status().ToString();
    return env;
  }
  env->socket_path = static_cast<DockerRuntime&>(**runtime).socket_path();
  env->runtime = std::move(runtime).value();
  if (!PodmanService::FindPodman().empty()) {
    std::string command = "CONTAINERS_CONF='" + PodmanService::ConfPath(env->data_dir->path()) +
                          "' '" QUADER_SOURCE_DIR "/scripts/test-images.sh'";
    if (std::system(command.c_str()) != 0) {
      env->skip_reason = "cannot build the test image: `" + command + "` failed";
    }
  }
  return env;
}

// For a fixture's SetUp: skips (or fails, with QUADER_REQUIRE_ENGINE=1) without an engine.
#define QUADER_REQUIRE_DOCKER_ENV(env)                            \
  do {                                                            \
    if (!(env)->skip_reason.empty()) {                            \
      const char* require = std::getenv("QUADER_REQUIRE_ENGINE"); \
      if (require && std::string(require) == "1") {               \
        FAIL() << (env)->skip_reason;                             \
      }                                                           \
      GTEST_SKIP() << (env)->skip_reason;                         \
    }                                                             \
  } while (0)

}  // namespace quader::runtime::docker::testing
