// The Kubernetes API's replies as the kubernetes runtime reads them
// (runtime/kubernetes/api_client.h, mapping.h): a watch stream, line by line,
// into events and each event's pod into a workload status; the whole input as
// a pod or a list of pods; error bodies; quantities.
#include "fuzz/fuzz.h"
#include "runtime/kubernetes/api_client.h"
#include "runtime/kubernetes/mapping.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using quader::Json;
  namespace kube = quader::runtime::kubernetes;
  std::string_view bytes = quader::fuzz::Bytes(data, size);
  const std::string path = "/api/v1/namespaces/default/pods?watch=1";

  std::string_view rest = bytes;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.empty()) continue;
    auto ev = kube::ParseWatchEvent(line, path);
    if (!ev.ok()) continue;
    if (!ev->object.is_object()) __builtin_trap();
    (void)kube::StatusOfPod(ev->object);
    (void)kube::IsGone(ev.status());
  }

  Json reply = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded()) return 0;
  (void)kube::StatusOfPod(reply);
  if (reply.is_object()) {
    auto items = reply.find("items");
    if (items != reply.end() && items->is_array()) {
      for (const Json& pod : *items) (void)kube::StatusOfPod(pod);
    }
  }
  if (reply.is_string()) (void)kube::ParseQuantity(reply.get<std::string>());
  return 0;
}
