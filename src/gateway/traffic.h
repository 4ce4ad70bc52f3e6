#pragma once
// Parsers for the traffic fields of services and inference services, in the
// formats cube-studio writes them (SPEC §7-8, reference/cube-studio.md 2.15).
// Pure functions; every error is kInvalidArgument naming the field and why.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace quader::gateway {

// `canary`: "svc1:20%,svc2:30%" (items separated by `,` or `;`, the `%` is
// optional). Each percent is 0-100; the sum over 100 is refused (this service
// keeps 100 minus the sum). Names are service names (lowercase DNS labels),
// each at most once. Empty or blank input gives an empty map.
Result<std::map<std::string, int>> ParseCanary(std::string_view value);

// `shadow`: the same form as canary; each target gets a mirrored copy of that
// percent of requests, so the sum may exceed 100.
Result<std::map<std::string, int>> ParseShadow(std::string_view value);

// `health`: "port:/path" (an HTTP GET probe) or "shell:command" (an exec probe).
struct HealthSpec {
  enum class Kind { kHttp, kShell };
  Kind kind = Kind::kHttp;
  int port = 0;          // kHttp
  std::string path;      // kHttp, starts with '/'
  std::string command;   // kShell, not empty
};
// Empty input is an error here: callers treat an empty field as "no probe".
Result<HealthSpec> ParseHealth(std::string_view value);

// `hpa`: "cpu:50%,mem:50%,gpu:50%" (`,` or `;`; `:` or `=`; `%` optional,
// after the number or, as cube-studio's guide writes `mem:%50`, before it);
// each target is 1-100 and appears at most once. Empty input: no autoscaling
// metric (all unset).
struct HpaSpec {
  std::optional<int> cpu;
  std::optional<int> mem;
  std::optional<int> gpu;
  bool empty() const { return !cpu && !mem && !gpu; }
};
Result<HpaSpec> ParseHpa(std::string_view value);

// `metrics`: a Prometheus scrape target "port:/path".
struct MetricsSpec {
  int port = 0;
  std::string path;
};
Result<MetricsSpec> ParseMetrics(std::string_view value);

// A custom `host` must lie under the platform's wildcard domain
// (`*.service.local` or `service.local`): `x.service.local` is accepted,
// `service.local` itself and `x.other.local` are not. A URL form
// ("http://x.service.local:80/path") is accepted and its host part checked.
// Returns the host, lower-cased, without port or path.
Result<std::string> ValidateCustomHost(std::string_view host, std::string_view wildcard_domain);

// The inference service name of SPEC §8: `$service_type-$model_name-$digits`
// where digits are only the digits of the version: ("serving", "resnet",
// "v2024.01.1") → "serving-resnet-2024011". The result must be a DNS label
// (lowercase letters, digits, '-', at most 63 characters).
Result<std::string> InferenceServiceName(std::string_view service_type, std::string_view model_name,
                                         std::string_view model_version);

// True for a syntactically valid DNS host name (labels of [a-z0-9-], not
// starting or ending with '-', at most 253 characters; case-insensitive).
bool IsValidHostName(std::string_view host);

}  // namespace quader::gateway
