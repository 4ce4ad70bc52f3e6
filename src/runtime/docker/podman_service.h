#pragma once
// A private `podman system service` that serves the Docker Engine API on a
// socket in Quader's data directory, for machines without a Docker engine.
//
// Configuration is per process, never global: the service runs with
// CONTAINERS_CONF=<data>/podman/containers.conf, which sets
//   [containers] default_ulimits = []   (raising ulimits is not permitted here)
//   [engine]     runtime = "runc"       (crun fails on this cgroup layout),
//                events_logger = "file", events_logfile_path   (own events log)
//   [network]    network_config_dir     (own network definitions)
// /etc/containers is never touched. Image storage is deliberately Podman's
// default (/var/lib/containers/storage for root): images built with a plain
// `podman build` or `podman import` (scripts/test-images.sh, the base-image
// scripts) are then visible to the runtime without copying.
// No tmp_dir is set: libpod records tmp_dir in the store's database the first
// time any podman uses that store and silently overrides later values
// ("Overriding tmp dir ... from database"), so with the shared default store a
// private tmp_dir would either be ignored or, on a fresh machine, pin every
// podman user's tmp dir to our data directory. (A private tmp_dir needs a
// private store: --root/--runroot.)
//
// The service runs in its own process group, so a terminal's Ctrl-C does not
// reach it and it can be stopped as a group. Containers survive it (conmon
// monitors them), which is what lets a restarted server adopt them. A service
// left behind by a server that was killed is found through its pid file and
// replaced on the next Start.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"

namespace quader::runtime::docker {

// Owns one running service process. Not copyable; thread-safe (immutable after Start).
class PodmanService {
 public:
  static constexpr std::chrono::milliseconds kDefaultStartDeadline{10000};

  // Where things live for a data directory: <data_dir>/podman/{podman.sock,containers.conf}.
  static std::string SocketPath(const std::string& data_dir);
  static std::string ConfPath(const std::string& data_dir);

  // Writes the private containers.conf and its directories (idempotent). The
  // same file must be passed as CONTAINERS_CONF to any `podman` command meant
  // to see what this service sees (events, networks).
  [[nodiscard]] static Status WriteConf(const std::string& data_dir);

  // The absolute path of `podman` on $PATH; empty when it is not installed.
  static std::string FindPodman();

  // Stops a service left by an earlier process for this data dir, writes the
  // configuration, starts the service and waits until GET /_ping answers.
  // kUnavailable when podman is missing, or when the service exits or does not
  // answer within `deadline` (the message includes the end of its log,
  // <data>/podman/service.log).
  [[nodiscard]] static Result<std::unique_ptr<PodmanService>> Start(
      const std::string& data_dir, std::chrono::milliseconds deadline = kDefaultStartDeadline);

  // SIGTERM to the service's process group, SIGKILL after 5 s; removes the socket.
  ~PodmanService();
  PodmanService(const PodmanService&) = delete;
  PodmanService& operator=(const PodmanService&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return pid_; }

 private:
  PodmanService(pid_t pid, std::string socket_path, std::string pid_file);

  const pid_t pid_;
  const std::string socket_path_;
  const std::string pid_file_;
};

// Sends SIGTERM to process group `pgid`, waits up to `grace` for `pid` to go,
// then SIGKILLs the group. Reaps `pid` when it is our child.
void StopProcessGroup(pid_t pid, pid_t pgid, std::chrono::milliseconds grace);

}  // namespace quader::runtime::docker
