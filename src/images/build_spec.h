#pragma once
// What an online image build asks for (SPEC §4): the body of
// POST /image-builds and the `ImageBuild` document, validated.

#include <optional>
#include <string>
#include <vector>

#include "auth/expand.h"
#include "core/documents.h"
#include "images/image_ref.h"

namespace quader::images {

// The advanced JSON of SPEC §4, typed.
struct BuildConfig {
  int64_t memory_bytes = 0;  // resource_memory; 0 = the engine's default
  double cpu = 0;            // resource_cpu; 0 = the engine's default
  std::vector<auth::VolumeMount> mounts;  // volume_mount
  Json raw = Json::object();              // as given, for display
};

struct BuildSpec {
  std::string project = "public";
  std::string name;
  ImageRef image;                  // the result
  std::optional<ImageRef> from;    // base for a Dockerfile build
  std::string dockerfile;          // instructions; a FROM line is added from `from` when missing
  std::string commit;              // or: the workload whose filesystem becomes the image
  BuildConfig config;
  std::string description;

  bool is_commit() const { return !commit.empty(); }
  // The Dockerfile text to build (with its FROM line).
  std::string FullDockerfile() const;
  // The spec as stored and shown (`from`, `image` as references).
  Json ToJson() const;
};

// Validates `body` (kind is allowed and ignored). Errors name the field.
Result<BuildSpec> ParseBuildSpec(const Json& body);
// The typed config from its JSON (an object, or a string holding one).
Result<BuildConfig> ParseBuildConfig(const Json& config);

}  // namespace quader::images
