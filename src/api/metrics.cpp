#include "api/metrics.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace quader::api {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* kBuckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *kBuckets;
}

double ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("quader_http_requests_total")
                    .Help("HTTP requests served, by method, route pattern and status code")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("quader_http_request_duration_seconds")
                   .Help("Time from a request's last byte read to its response, by route")
                   .Register(*registry_)),
      resident_bytes_(prometheus::BuildGauge()
                          .Name("process_resident_memory_bytes")
                          .Help("Resident memory of the server process")
                          .Register(*registry_)
                          .Add({})),
      start_time_(prometheus::BuildGauge()
                      .Name("process_start_time_seconds")
                      .Help("Start time of the server process, Unix seconds")
                      .Register(*registry_)
                      .Add({})) {
  start_time_.Set(std::chrono::duration<double>(
                      std::chrono::system_clock::now().time_since_epoch()).count());
}

void Metrics::ObserveRequest(const std::string& method, const std::string& route, int status,
                             double seconds) {
  requests_.Add({{"method", method}, {"route", route}, {"code", std::to_string(status)}}).Increment();
  latency_.Add({{"method", method}, {"route", route}}, LatencyBuckets()).Observe(seconds);
}

std::string Metrics::Render() {
  resident_bytes_.Set(ResidentBytes());
  for (const auto& refresh : refreshers_) refresh();
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

Result<std::string> ReadMetricsToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return errors::Invalid("metrics-token-file", "cannot read \"" + path + "\"");
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  const char* kSpace = " \t\r\n";
  size_t begin = token.find_first_not_of(kSpace);
  token = begin == std::string::npos ? "" : token.substr(begin, token.find_last_not_of(kSpace) - begin + 1);
  if (token.size() < 16) {
    return errors::Invalid("metrics-token-file",
                           "\"" + path + "\" must hold a token of at least 16 characters (it holds " +
                               std::to_string(token.size()) + ")");
  }
  return token;
}

}  // namespace quader::api
