#pragma once
// A small Kubernetes API client over HTTPS (Boost.Beast + OpenSSL): JSON
// calls, object create/apply/get/list/delete, watches and followed logs.
// Every call opens its own connection, so the client is thread-safe.
//
// Errors: a connection or TLS failure is kUnavailable naming the server;
// 401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 409
// kAlreadyExists (AlreadyExists) or kConflict (a stale resourceVersion),
// 400/422 kInvalidArgument; messages carry the API's Status `message`.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/documents.h"
#include "core/status.h"
#include "runtime/kubernetes/kubeconfig.h"
#include "runtime/runtime.h"

namespace quader::runtime::kubernetes {

// The collection URL of a kind: /api/v1/namespaces/NS/pods,
// /apis/apps/v1/namespaces/NS/deployments, ... kInvalidArgument for a kind
// Quader does not create.
Result<std::string> CollectionPath(const std::string& api_version, const std::string& kind, const std::string& ns);

// Lets another thread end a Stream (a watch, a followed log) at once:
// Cancel() shuts the connection's socket down, so the blocked read returns.
class StreamCancel {
 public:
  void Cancel();
  // Allows streams again after a Cancel (an informer started anew).
  void Reset();
  bool cancelled() const;
  // Called by the stream: the socket to shut down (-1 when done with it).
  // False when Cancel() came first.
  bool Attach(int fd);

 private:
  mutable std::mutex mu_;
  int fd_ = -1;
  bool cancelled_ = false;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK (ERROR events end the watch)
  Json object;
};

class ApiClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{30000};

  explicit ApiClient(ClusterAccess access);
  const ClusterAccess& access() const { return access_; }

  // Sends `method` to `path` (with its query) and returns the parsed JSON reply.
  [[nodiscard]] Result<Json> Call(std::string_view method, const std::string& path,
                                  const std::optional<Json>& body = std::nullopt,
                                  std::chrono::milliseconds timeout = kDefaultTimeout) const;

  // GET `path` and hand the body to `sink` as it arrives, with no deadline
  // once the reply has started: a watch or a followed log.
  [[nodiscard]] Status Stream(const std::string& path, const std::function<bool(std::string_view)>& sink,
                              StreamCancel* cancel = nullptr) const;

  // POST to the object's collection (namespace from its metadata, else the access's).
  [[nodiscard]] Result<Json> Create(const Json& object) const;
  // Create, or when it exists, replace it (PUT with the current resourceVersion;
  // a Service keeps its cluster IP). `adjust`, when given, sees the current
  // object and the replacement before the PUT: an error from it cancels the
  // replacement (the kubernetes runtime refuses other owners' objects).
  using Adjust = std::function<Status(const Json& current, Json& replacement)>;
  [[nodiscard]] Result<Json> Apply(const Json& object, const Adjust& adjust = nullptr) const;
  [[nodiscard]] Result<Json> Get(const std::string& api_version, const std::string& kind,
                                 const std::string& name) const;
  // The List object (items, metadata.resourceVersion) of objects matching
  // `label_selector` ("a=b,c=d"; empty: all).
  [[nodiscard]] Result<Json> List(const std::string& api_version, const std::string& kind,
                                  const std::string& label_selector) const;
  // Deletes with propagationPolicy Background; an absent object is ok.
  [[nodiscard]] Status Delete(const std::string& api_version, const std::string& kind, const std::string& name,
                              std::optional<int> grace_seconds = std::nullopt) const;

  // Watches from `resource_version`, calling `on_event` for each event until
  // it returns false (Ok), the server ends the watch (Ok: watch again from the
  // last resourceVersion seen), or an error. A 410 Gone (an expired
  // resourceVersion, as an HTTP status or an ERROR event) is kConflict with
  // a message starting "gone:": list again and watch from the list's version.
  [[nodiscard]] Status Watch(const std::string& api_version, const std::string& kind,
                             const std::string& label_selector, const std::string& resource_version,
                             const std::function<bool(const WatchEvent&)>& on_event,
                             int timeout_seconds = 300, StreamCancel* cancel = nullptr) const;

  // A pod's log (`follow`: until the container ends or `sink` returns false),
  // each line with the kubelet's capture time in Quader's form (core/log_stamp.h).
  [[nodiscard]] Status Logs(const std::string& pod, bool follow,
                            const std::function<bool(std::string_view)>& sink) const;

  // `command` in a running pod's container on a terminal: pods/exec over a
  // WebSocket (v4.channel.k8s.io: stdin on channel 0, output on 1 and 2, the
  // exit status on 3, resizes on 4), bridged to a local socket pair so the
  // Terminal reads and writes a descriptor like the other runtimes'.
  [[nodiscard]] Result<std::unique_ptr<Terminal>> Exec(const std::string& pod, const std::string& container,
                                                       const std::vector<std::string>& command, int rows,
                                                       int cols) const;

 private:
  ClusterAccess access_;
};

// True for the kConflict Watch returns on 410 Gone.
bool IsGone(const Status& status);

// One line of a watch stream of `path` (a JSON object per line): the event
// (a missing type is "", a missing object {}), or kInternal when the line is
// not a JSON object or its object is not one; an ERROR event becomes its API
// error (kConflict for 410 Gone). Never throws.
Result<WatchEvent> ParseWatchEvent(std::string_view line, const std::string& path);


}  // namespace quader::runtime::kubernetes
