#pragma once
// Builds the OpenAPI 3.0 document from the router's routes and their RouteDoc.

#include "api/router.h"
#include "core/documents.h"

namespace quader::api {

Json BuildOpenApi(const Router& router);

}  // namespace quader::api
