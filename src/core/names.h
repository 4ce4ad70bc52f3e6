#pragma once
// Names users choose for things. They end up in container names, labels,
// paths (/mnt/$username) and later Kubernetes objects, so they follow DNS
// label rules.

#include <string>

#include "core/status.h"

namespace quader {

// Usernames: ^[a-z][a-z0-9-]*[a-z0-9]$ (as cube-studio), 2 to 63 characters.
Status ValidateUsername(const std::string& field, const std::string& name);
// Object names (projects and everything inside them): a DNS label,
// ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$, 1 to 63 characters.
Status ValidateObjectName(const std::string& field, const std::string& name);

}  // namespace quader
