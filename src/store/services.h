#pragma once
// The services and service_events tables (SPEC §7, §8). Every function runs
// on a caller's Tx. Specs are JSON text validated by serving/service_spec.h
// before they get here.

#include <optional>
#include <vector>

#include "store/store.h"

namespace quader::store {

struct ServiceRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string kind;     // Service or InferenceService
  std::string name;
  std::string spec;     // normalised document (JSON text)
  int64_t generation = 1;
  std::string state;    // pending, running, failed, stopped
  std::string reason;
  std::string created_by;
  int64_t created_at = 0;  // seconds
  int64_t updated_at = 0;  // seconds
  // Inference services: offline, debug, test or online (kStage*). Internal
  // services: online.
  std::string stage = "online";
  int scaled_replicas = 0;  // the autoscaler's count; 0 = none yet
  // Deployed to debug with a shell: the replica waits idle for a terminal.
  bool debug_idle = false;
};

inline constexpr const char* kStageOffline = "offline";
inline constexpr const char* kStageDebug = "debug";
inline constexpr const char* kStageTest = "test";
inline constexpr const char* kStageOnline = "online";

struct ServiceEventRecord {
  int64_t id = 0;
  int64_t service_id = 0;
  int64_t at = 0;    // ms
  std::string kind;  // replica-started, replica-ready, replica-failed, replica-stopped, rollout, scaled, ...
  std::string message;
};

Result<ServiceRecord> InsertService(Tx& tx, ServiceRecord s);
// A new spec: generation + 1.
Status UpdateServiceSpec(Tx& tx, int64_t id, const std::string& spec, int64_t now);
// A deploy or clear: the new stage, a new generation (replicas are replaced
// one by one, with the stage's KUBEFLOW_ENV) and the autoscaler's count reset.
// `idle` (debug only): the replica waits for a terminal instead of running
// the service's command.
Status SetServiceStage(Tx& tx, int64_t id, const std::string& stage, int64_t now, bool idle = false);
Status SetScaledReplicas(Tx& tx, int64_t id, int replicas);
Status SetServiceState(Tx& tx, int64_t id, const std::string& state, const std::string& reason);
Result<ServiceRecord> GetService(Tx& tx, int64_t id);
Result<std::optional<ServiceRecord>> FindService(Tx& tx, int64_t project_id, const std::string& name);
// kind "" = both kinds.
Result<std::vector<ServiceRecord>> ListServices(Tx& tx, const std::vector<int64_t>& project_ids, bool all,
                                                const std::string& kind);
Status DeleteService(Tx& tx, int64_t id);

Status AddServiceEvent(Tx& tx, int64_t service_id, int64_t at_ms, const std::string& kind, const std::string& message);
// Newest first; `kinds` empty = every kind.
Result<std::vector<ServiceEventRecord>> ListServiceEvents(Tx& tx, int64_t service_id, int limit,
                                                         const std::vector<std::string>& kinds = {});

}  // namespace quader::store
