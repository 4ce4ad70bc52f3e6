#pragma once
// Image references: [registry[:port]/]path[:tag], as container engines write them.

#include <string>

#include "core/status.h"

namespace quader::images {

struct ImageRef {
  std::string name;  // "quader/python", "registry.example.com:5000/team/img"
  std::string tag;   // "3.11"; "latest" when none was given
  std::string str() const { return name + ":" + tag; }
};

// kInvalidArgument naming `field` for anything an engine would refuse.
Result<ImageRef> ParseImageRef(const std::string& field, const std::string& text);

}  // namespace quader::images
