#pragma once
// The version of this build, from the CMake project version.

namespace quader::cli {

#ifndef QUADER_VERSION
#define QUADER_VERSION "unknown"
#endif
inline constexpr char kVersion[] = QUADER_VERSION;

}  // namespace quader::cli
