#pragma once
// An in-test fake Kubernetes API server: HTTPS on 127.0.0.1 (a random port),
// objects kept in memory, enough of the API for ApiClient and
// KubernetesRuntime tests. It is a test fake, not a product: every path is
// treated generically as a collection plus an optional object name, so
// pods, services, deployments, autoscalers and metrics all live in one map.
//
// What it serves:
// - POST COLLECTION: create (resourceVersion from a global counter, uid,
//   creationTimestamp; 409 AlreadyExists when the name is taken);
// - GET COLLECTION/NAME (404 NotFound), GET COLLECTION?labelSelector=a=b,c=d
//   (equality only) as {"kind":"XList","metadata":{"resourceVersion"},"items"};
// - PUT COLLECTION/NAME: replace (409 Conflict on a stale resourceVersion);
// - DELETE COLLECTION/NAME (404 when absent; gracePeriodSeconds ignored);
// - GET COLLECTION?watch=1&resourceVersion=N: a chunked stream of
//   newline-delimited {"type","object"} events after N (replayed from the
//   history, then live), filtered by labelSelector, ended by timeoutSeconds
//   or EndWatches(); N older than CompactHistory() left is 410 Gone (an HTTP
//   410, or a 200 stream with one ERROR event: SetGoneAsEvent(true));
// - GET .../pods/NAME/log[?follow=true]: the text of SetLog/AppendLog; a
//   follow ends at EndLog(NAME);
// - anything else stored with Put() (e.g. metrics.k8s.io PodMetrics) is
//   served by the generic GET.
// Authentication: a bearer token when SetToken() set one (401 Status
// otherwise), a client certificate signed by the test CA when
// RequireClientCert(true) (the TLS handshake fails without one).
//
// Thread-safe: the test thread calls the helpers while connection threads
// serve (one thread per connection; all joined by the destructor).

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include "fakes/temp_dir.h"
#include "runtime/kubernetes/kubeconfig.h"

namespace quader::runtime::kubernetes::testing {

using Json = nlohmann::json;

// A test CA with a server certificate (SAN IP:127.0.0.1, DNS:localhost) and
// a client certificate, all EC prime256v1, made with the `openssl` CLI in
// `dir`. Throws std::runtime_error naming the failed command.
struct TestPki {
  std::string ca_pem, ca_key_pem;
  std::string server_cert_pem, server_key_pem;
  std::string client_cert_pem, client_key_pem;
  std::string ca_file;  // `dir`/ca.crt (for kubeconfig tests)
};
TestPki GenerateTestPki(const std::string& dir);

// Reads a whole file (empty when it cannot).
std::string ReadFileText(const std::string& path);

class FakeKubeApi {
 public:
  FakeKubeApi();  // generates its PKI, binds 127.0.0.1:0 and starts serving
  ~FakeKubeApi();
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;

  // "https://127.0.0.1:PORT".
  std::string url() const { return url_; }
  int port() const { return port_; }
  const TestPki& pki() const { return pki_; }

  // An access to this server: its URL, the CA, the client certificate and
  // the token (when set), namespace "default".
  ClusterAccess Access() const;

  // --- server behaviour ---------------------------------------------------
  // Requests must carry "Authorization: Bearer TOKEN" (empty: no check).
  void SetToken(const std::string& token);
  // New connections must present a client certificate signed by the CA.
  void RequireClientCert(bool require);
  // An expired watch version answers 200 + an ERROR event (true) or an
  // HTTP 410 (false, the default).
  void SetGoneAsEvent(bool as_event);
  // Forgets the change history: a watch from a version before now is 410 Gone.
  void CompactHistory();
  // Ends every open watch now (the client should watch again).
  void EndWatches();
  // While paused, open watches deliver no new events (they queue up): a
  // client's cache lags behind the server, as it may for a moment.
  void PauseWatches(bool paused);

  // --- objects --------------------------------------------------------------
  // Stores `object` at the object path `path` (COLLECTION/NAME) as if
  // created or replaced by a client: a new resourceVersion, uid and
  // creationTimestamp kept when replacing, and a watch event.
  Json Put(const std::string& path, Json object);
  // The object at `path`, if stored.
  std::optional<Json> Get(const std::string& path) const;
  // Applies `change` to the stored object and stores it (Put); false when absent.
  bool Mutate(const std::string& path, const std::function<void(Json&)>& change);
  // Removes the object (a DELETED event); false when absent.
  bool Remove(const std::string& path);
  // The names stored in a collection.
  std::vector<std::string> Names(const std::string& collection) const;
  // The current global resourceVersion.
  long resource_version() const;

  // --- pod logs -------------------------------------------------------------
  void SetLog(const std::string& pod, const std::string& text);
  void AppendLog(const std::string& pod, const std::string& text);
  // Ends followed logs of `pod` (as the container exiting would).
  void EndLog(const std::string& pod);

  // --- what clients did ------------------------------------------------------
  // Requests served by method ("GET", "POST", ...), including failed ones.
  int requests(const std::string& method) const;
  // Every request as "METHOD TARGET", in order.
  std::vector<std::string> request_log() const;
  // The headers (lower-cased names) of the last request.
  std::map<std::string, std::string> last_headers() const;
  // Watches open now.
  int open_watches() const;
  // Watch requests received (any outcome).
  int watch_requests() const;
  // pods/exec: what its terminals were told to resize to, in order ("Width x
  // Height"). An exec (a WebSocket, v4.channel.k8s.io) echoes its stdin on
  // stdout and ends when a line "exit N" comes, with that status.
  std::vector<std::string> exec_resizes() const;

 private:
  struct Event {
    long rv;
    std::string collection;
    std::string type;  // ADDED, MODIFIED, DELETED
    Json object;
  };
  struct Log {
    std::string text;
    bool ended = false;
  };
  struct Reply;  // defined in the .cpp

  void AcceptLoop();
  void ServeConnection(boost::asio::ip::tcp::socket socket, bool require_cert);

  // Stores and records an event; mu_ held.
  Json StoreLocked(const std::string& collection, const std::string& name, Json object, bool keep_identity);
  void RecordLocked(const std::string& collection, const std::string& type, const Json& object);

  quader::testing::TempDir dir_;
  TestPki pki_;
  boost::asio::ssl::context plain_ctx_;  // no client certificate asked
  boost::asio::ssl::context mtls_ctx_;   // a client certificate required
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::string url_;

  mutable std::mutex mu_;
  std::condition_variable changed_;  // any store, log or watch-control change
  bool stopping_ = false;
  std::string token_;
  bool require_cert_ = false;
  bool gone_as_event_ = false;
  long counter_ = 100;      // the global resourceVersion
  long oldest_kept_ = 0;    // history before this version is forgotten
  int watch_generation_ = 0;
  bool watches_paused_ = false;
  int open_watches_ = 0;
  int watch_requests_ = 0;
  std::map<std::string, std::map<std::string, Json>> store_;  // collection -> name -> object
  std::vector<Event> history_;
  std::map<std::string, Log> logs_;  // by pod name
  std::map<std::string, int> method_counts_;
  std::vector<std::string> request_log_;
  std::vector<std::string> exec_resizes_;
  std::map<std::string, std::string> last_headers_;
  std::set<int> open_fds_;  // connection sockets, shut down by the destructor
  std::vector<std::thread> connections_;

  std::thread accept_thread_;  // last: starts after everything above exists

  friend class FakeKubeApiHandler;
};

}  // namespace quader::runtime::kubernetes::testing
