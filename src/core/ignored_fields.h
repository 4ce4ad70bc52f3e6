#pragma once
// cube-studio's fields that mean nothing in Quader are accepted and kept, not
// dropped (docs/cube-studio.md "What is ignored"): every document kind keeps
// them, as given, in an object field `cube_studio` of its stored spec.

#include <initializer_list>

#include "core/documents.h"
#include "core/status.h"

namespace quader {

// Each of `ignored` present in `*doc` moves into the object
// `(*doc)["cube_studio"]` (created, or merged with the one given; a null one
// is dropped). kInvalidArgument naming `cube_studio` when it is given and is
// not an object. A `doc` that is not an object is left alone.
Status KeepIgnoredFields(Json* doc, std::initializer_list<const char*> ignored);

}  // namespace quader
