#pragma once
// A pipeline's failure webhook (docs/pipelines.md): one JSON POST when a run
// ends in a state the pipeline names. Fire-and-forget on its own thread, with
// a 10 s deadline; failures are logged, never retried.

#include <string>

#include "core/documents.h"
#include "core/status.h"

namespace quader::pipeline {

// POSTs `payload` to `url` (http:// or https://) and returns the HTTP status
// (kUnavailable when the host cannot be reached or does not answer in time).
Result<int> PostWebhook(const std::string& url, const Json& payload);
// PostWebhook on a detached thread; the outcome is logged.
void SendWebhookAsync(const std::string& url, const Json& payload);

}  // namespace quader::pipeline
