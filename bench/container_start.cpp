// Benchmark: container start overhead through Quader's docker-api runtime
// versus `podman run` of the same image, side by side in one run:
//
//   container_start_bench [N=10]
//
// Each iteration starts a container of localhost/quader-test:busybox running
// `true` and waits until it has exited and is removed:
//   quader:  DockerRuntime::Start, poll Inspect until it exited, Stop (remove)
//   podman:  podman run --rm localhost/quader-test:busybox true
// Both use the same private containers.conf. Prints the median seconds of each
// and the ratio quader/podman (the figure to quote; goal <= 1.2).
// Needs podman and the test image (scripts/test-images.sh builds it).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "runtime/docker/docker_runtime.h"
#include "runtime/docker/podman_service.h"
#include "runtime/labels.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace rt = quader::runtime;
const char* kImage = "localhost/quader-test:busybox";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10;
  std::string tmpl = (std::filesystem::temp_directory_path() / "quader-bench-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  auto opened = rt::docker::OpenDockerRuntime(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "no engine: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  rt::Runtime& runtime = **opened;
  std::string conf = rt::docker::PodmanService::ConfPath(dir);
  std::string podman = "CONTAINERS_CONF=" + conf + " podman run --rm " + kImage + " true >/dev/null 2>&1";
  if (std::system(("CONTAINERS_CONF=" + conf + " scripts/test-images.sh").c_str()) != 0) {
    std::fprintf(stderr, "cannot build %s (run from the repository root)\n", kImage);
    return 1;
  }

  std::vector<double> quader, direct;
  for (int i = 0; i < n; ++i) {
    // Alternate the peers so drift on this noisy machine hits both alike.
    auto t0 = Clock::now();
    rt::WorkloadSpec spec;
    spec.name = "bench-start-" + std::to_string(i);
    spec.image = kImage;
    spec.command = {"true"};
    spec.labels = {{rt::kLabelManaged, "true"}, {"quader.bench", "container-start"}};
    auto started = runtime.Start(spec);
    if (!started.ok()) {
      std::fprintf(stderr, "start: %s\n", started.status().ToString().c_str());
      return 1;
    }
    while (true) {
      auto st = runtime.Inspect(started->id);
      if (!st.ok() || (st->state != rt::WorkloadState::kRunning && st->state != rt::WorkloadState::kPending)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    (void)runtime.Stop(started->id, std::chrono::seconds(1));
    quader.push_back(std::chrono::duration<double>(Clock::now() - t0).count());

    auto t1 = Clock::now();
    if (std::system(podman.c_str()) != 0) {
      std::fprintf(stderr, "podman run failed\n");
      return 1;
    }
    direct.push_back(std::chrono::duration<double>(Clock::now() - t1).count());
  }
  double q = Median(quader), p = Median(direct);
  std::printf("# container start to exit and removal, %s running `true`, median of %d\n", kImage, n);
  std::printf("%-34s %10s\n", "peer", "seconds");
  std::printf("%-34s %10.3f\n", "quader (docker-api runtime)", q);
  std::printf("%-34s %10.3f\n", "podman run --rm", p);
  std::printf("ratio quader/podman: %.2f (goal <= 1.2)\n", q / p);
  opened->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
