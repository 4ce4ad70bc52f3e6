// The Docker Engine API's replies as the docker runtime reads them
// (runtime/docker/container_mapping.h, engine_client.h): container inspect
// JSON to a status, stats samples, engine times, error bodies, and the
// multiplexed log stream cut into pieces. Input: JSON (an inspect reply, or a
// stats sample); the raw bytes are also a log stream and an error body.
#include <chrono>

#include "fuzz/fuzz.h"
#include "runtime/docker/container_mapping.h"
#include "runtime/docker/engine_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using quader::Json;
  namespace docker = quader::runtime::docker;
  std::string_view bytes = quader::fuzz::Bytes(data, size);

  // A log stream, fed in pieces cut at sizes taken from the input itself.
  docker::LogDemuxer demux;
  std::string out;
  for (size_t pos = 0; pos < bytes.size();) {
    size_t piece = 1 + static_cast<unsigned char>(bytes[pos]) % 17;
    demux.Feed(bytes.substr(pos, piece), &out);
    pos += piece;
  }
  if (demux.pending() > bytes.size()) __builtin_trap();

  (void)docker::EngineError(404, "GET", "/containers/x/json", bytes);
  (void)docker::ParseEngineTime(bytes);

  Json reply = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded()) return 0;
  for (bool stopped : {false, true}) {
    docker::InspectFacts facts;
    facts.stop_requested = stopped;
    facts.oom_seen = !stopped;
    facts.node = "host";
    (void)docker::StatusFromInspect(reply, facts);
  }
  if (reply.is_object()) {
    auto before = docker::ReadCpuCounters(reply.value("precpu_stats", Json::object()));
    auto after = docker::ReadCpuCounters(reply.value("cpu_stats", Json::object()));
    (void)docker::CpuCores(before, after, std::chrono::seconds(1));
    (void)docker::MemoryInUse(reply.value("memory_stats", Json::object()));
  }
  (void)docker::ReadCpuCounters(reply);
  (void)docker::MemoryInUse(reply);
  return 0;
}
