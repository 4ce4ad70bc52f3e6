#pragma once
// A project's `expand` settings (SPEC.md §2): validated once here and parsed
// into typed values, so no other code re-parses the mini-grammars.

#include <map>
#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::auth {

enum class MountKind {
  kPvc,       // a named volume; each user gets SOURCE/$username
  kHostPath,  // a host directory, shared by everyone who mounts it
  kMemory,    // a RAM-backed tmpfs of `size_bytes`
};

struct VolumeMount {
  std::string source;      // volume name, host path, or size text ("4G")
  MountKind kind = MountKind::kPvc;
  std::string mount_path;  // absolute path inside the container
  int64_t size_bytes = 0;  // kMemory only
};

struct ProjectSettings {
  std::string cluster;                               // empty: the default runtime
  std::map<std::string, std::string> node_selector;  // label -> value
  std::vector<VolumeMount> volume_mounts;            // in the order given
  std::vector<std::string> external_ips;             // SERVICE_EXTERNAL_IP
};

// Validates `expand` (an object, or a string holding a JSON object) and
// returns the typed settings plus, in `normalized`, the object to store.
// Errors are kInvalidArgument naming the entry, e.g.
// `expand.volume_mount[1]: unknown mount kind "nfs" (use pvc, hostpath or memory)`.
Result<ProjectSettings> ParseExpand(const Json& expand, Json* normalized = nullptr);

// The grammars, exposed for reuse by later kinds (tasks, notebooks) and tests.
Result<std::vector<VolumeMount>> ParseVolumeMounts(const std::string& field, const std::string& text);
Result<std::map<std::string, std::string>> ParseNodeSelector(const std::string& field,
                                                             const std::string& text);
// "4G", "512M", "10Gi", "1024" (bytes) -> bytes.
Result<int64_t> ParseMemorySize(const std::string& field, const std::string& text);

}  // namespace quader::auth
