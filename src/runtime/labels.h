#pragma once
// Labels Quader puts on every workload so that a restarted server can find
// and adopt what it started (ARCHITECTURE.md: controllers rebuild their view
// from the store and from what the runtime reports).

namespace quader::runtime {

inline constexpr const char* kLabelManaged = "quader.managed";    // "true" on everything we start
inline constexpr const char* kLabelInstance = "quader.instance";  // the server's data-dir id
inline constexpr const char* kLabelProject = "quader.project";
inline constexpr const char* kLabelUser = "quader.user";
inline constexpr const char* kLabelKind = "quader.kind";          // task, trial, notebook, service, build
inline constexpr const char* kLabelOwner = "quader.owner";        // the owning object's id
inline constexpr const char* kLabelRun = "quader.run";
inline constexpr const char* kLabelTask = "quader.task";
inline constexpr const char* kLabelAttempt = "quader.attempt";
inline constexpr const char* kLabelReplica = "quader.replica";
inline constexpr const char* kLabelTrial = "quader.trial";      // a trial's sequence in its experiment
inline constexpr const char* kLabelGeneration = "quader.generation";  // a replica's spec generation

}  // namespace quader::runtime
