#pragma once
// Image builds through a container engine's API (Podman's libpod build,
// which accepts build-time volumes, or Docker's /build) and commits of a
// running workload (/commit).

#include <memory>

#include "images/builder.h"
#include "runtime/runtime.h"

namespace quader::images {

// An engine-backed builder when `rt` is the docker-api runtime; null otherwise
// (the process runtime cannot build images).
std::unique_ptr<ImageBuilder> NewEngineBuilder(runtime::Runtime& rt);

// A tar archive (ustar) holding one regular file: the build context.
std::string TarOneFile(const std::string& name, const std::string& content);

}  // namespace quader::images
