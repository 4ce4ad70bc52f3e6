#include "runtime/fake_kube_api.h"

#include <sys/socket.h>

#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace quader::runtime::kubernetes::testing {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using SslStream = ssl::stream<tcp::socket>;

// ---------------------------------------------------------------------------
// Test PKI
// ---------------------------------------------------------------------------

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

void Run(const std::string& dir, const std::string& command) {
  std::string full = "cd '" + dir + "' && " + command + " >>openssl.log 2>&1";
  if (std::system(full.c_str()) != 0) {
    throw std::runtime_error("test PKI: `" + command + "` failed: " + ReadFileText(dir + "/openssl.log"));
  }
}

}  // namespace

TestPki GenerateTestPki(const std::string& dir) {
  {
    std::ofstream ext(dir + "/ext.cnf");
    ext << "[ca]\n"
           "basicConstraints=critical,CA:TRUE\n"
           "keyUsage=critical,keyCertSign,cRLSign\n"
           "subjectKeyIdentifier=hash\n"
           "[server]\n"
           "basicConstraints=CA:FALSE\n"
           "keyUsage=critical,digitalSignature\n"
           "extendedKeyUsage=serverAuth\n"
           "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
           "[client]\n"
           "basicConstraints=CA:FALSE\n"
           "keyUsage=critical,digitalSignature\n"
           "extendedKeyUsage=clientAuth\n";
  }
  for (const char* key : {"ca", "server", "client"}) {
    Run(dir, std::string("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out ") + key + ".key");
  }
  Run(dir, "openssl req -new -x509 -key ca.key -subj /CN=quader-test-ca -days 2 -out ca.crt "
           "-config ext.cnf -extensions ca");
  Run(dir, "openssl req -new -key server.key -subj /CN=localhost -out server.csr -config ext.cnf");
  Run(dir, "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 2 "
           "-out server.crt -extfile ext.cnf -extensions server");
  Run(dir, "openssl req -new -key client.key -subj '/O=system:masters/CN=quader-test' -out client.csr "
           "-config ext.cnf");
  Run(dir, "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 2 "
           "-out client.crt -extfile ext.cnf -extensions client");
  TestPki pki;
  pki.ca_file = dir + "/ca.crt";
  pki.ca_pem = ReadFileText(dir + "/ca.crt");
  pki.ca_key_pem = ReadFileText(dir + "/ca.key");
  pki.server_cert_pem = ReadFileText(dir + "/server.crt");
  pki.server_key_pem = ReadFileText(dir + "/server.key");
  pki.client_cert_pem = ReadFileText(dir + "/client.crt");
  pki.client_key_pem = ReadFileText(dir + "/client.key");
  return pki;
}

// ---------------------------------------------------------------------------
// Small helpers: paths, queries, selectors, Status bodies
// ---------------------------------------------------------------------------

namespace {

// An API path split into its collection, object name and subresource:
// /api/v1/namespaces/NS/pods/NAME/log -> (/api/v1/namespaces/NS/pods, NAME, log).
struct ApiPath {
  std::string collection;
  std::string resource;  // "pods"
  std::string ns;        // empty for cluster-scoped paths
  std::string name;
  std::string sub;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::optional<ApiPath> ParseApiPath(const std::string& path) {
  std::vector<std::string> seg;
  for (auto& s : Split(path, '/')) {
    if (!s.empty()) seg.push_back(s);
  }
  size_t prefix = 0;  // /api/v1 or /apis/GROUP/VERSION
  if (seg.size() >= 2 && seg[0] == "api") prefix = 2;
  if (seg.size() >= 3 && seg[0] == "apis") prefix = 3;
  if (prefix == 0 || seg.size() <= prefix) return std::nullopt;
  std::vector<std::string> rest(seg.begin() + prefix, seg.end());
  std::string base;
  for (size_t i = 0; i < prefix; ++i) base += "/" + seg[i];
  ApiPath p;
  size_t at = 0;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    p.ns = rest[1];
    base += "/namespaces/" + p.ns;
    at = 2;
  }
  p.resource = rest[at];
  p.collection = base + "/" + p.resource;
  if (rest.size() > at + 1) p.name = rest[at + 1];
  if (rest.size() > at + 2) p.sub = rest[at + 2];
  if (rest.size() > at + 3) return std::nullopt;
  return p;
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(const std::string& query) {
  std::map<std::string, std::string> out;
  if (query.empty()) return out;
  for (const auto& kv : Split(query, '&')) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      out[PercentDecode(kv)] = "";
    } else {
      out[PercentDecode(kv.substr(0, eq))] = PercentDecode(kv.substr(eq + 1));
    }
  }
  return out;
}

// "a=b,c==d,e!=f" as (key, value, equal) terms; nullopt when malformed.
struct Term {
  std::string key, value;
  bool equal = true;
};
std::optional<std::vector<Term>> ParseSelector(const std::string& selector) {
  std::vector<Term> terms;
  if (selector.empty()) return terms;
  for (const auto& part : Split(selector, ',')) {
    Term t;
    size_t at;
    if ((at = part.find("!=")) != std::string::npos) {
      t = {part.substr(0, at), part.substr(at + 2), false};
    } else if ((at = part.find("==")) != std::string::npos) {
      t = {part.substr(0, at), part.substr(at + 2), true};
    } else if ((at = part.find('=')) != std::string::npos) {
      t = {part.substr(0, at), part.substr(at + 1), true};
    } else {
      return std::nullopt;
    }
    if (t.key.empty()) return std::nullopt;
    terms.push_back(t);
  }
  return terms;
}

bool Matches(const std::vector<Term>& terms, const Json& object) {
  const Json labels = object.value("metadata", Json::object()).value("labels", Json::object());
  for (const auto& t : terms) {
    bool has = labels.contains(t.key) && labels[t.key].is_string() && labels[t.key] == t.value;
    if (has != t.equal) return false;
  }
  return true;
}

// The kind of a resource's objects: pods -> Pod.
std::string KindOf(const std::string& resource) {
  static const std::map<std::string, std::string> kinds = {
      {"pods", "Pod"},
      {"services", "Service"},
      {"deployments", "Deployment"},
      {"replicasets", "ReplicaSet"},
      {"horizontalpodautoscalers", "HorizontalPodAutoscaler"},
      {"persistentvolumeclaims", "PersistentVolumeClaim"},
      {"configmaps", "ConfigMap"},
      {"secrets", "Secret"},
      {"namespaces", "Namespace"},
      {"events", "Event"}};
  auto it = kinds.find(resource);
  if (it != kinds.end()) return it->second;
  std::string k = resource;
  if (!k.empty() && k.back() == 's') k.pop_back();
  if (!k.empty()) k[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(k[0])));
  return k;
}

Json StatusBody(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
          {"message", message}, {"reason", reason}, {"code", code}};
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ToLower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// One connection: reads requests and answers them (FakeKubeApi's friend)
// ---------------------------------------------------------------------------

class FakeKubeApiHandler {
 public:
  FakeKubeApiHandler(FakeKubeApi& api, SslStream& stream) : api_(api), stream_(stream) {}

  // Serves requests until the client closes or the server stops.
  void Serve() {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(stream_, buffer, req, ec);
      if (ec) return;
      bool usable;
      try {
        usable = Handle(req);
      } catch (const std::exception& e) {  // a bug in the fake: say so rather than terminate
        usable = Reply(500, StatusBody(500, "InternalError", std::string("fake API server: ") + e.what()));
      }
      if (!usable || !req.keep_alive()) return;
    }
  }

 private:
  using Request = http::request<http::string_body>;

  // Answers one request; false when the connection is no longer usable.
  bool Handle(const Request& req) {
    const std::string method(req.method_string());
    const std::string target(req.target());
    const auto qmark = target.find('?');
    const std::string path = target.substr(0, qmark);
    const auto query = ParseQuery(qmark == std::string::npos ? "" : target.substr(qmark + 1));
    keep_alive_ = req.keep_alive();

    std::string token;
    {
      std::lock_guard<std::mutex> lock(api_.mu_);
      api_.method_counts_[method]++;
      api_.request_log_.push_back(method + " " + target);
      api_.last_headers_.clear();
      for (const auto& h : req) api_.last_headers_[ToLower(std::string(h.name_string()))] = std::string(h.value());
      token = api_.token_;
    }

    if (!token.empty()) {
      auto auth = req.find(http::field::authorization);
      if (auth == req.end() || std::string(auth->value()) != "Bearer " + token) {
        // Exactly what a real API server says.
        return Reply(401, Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                               {"message", "Unauthorized"}, {"reason", "Unauthorized"}, {"code", 401}});
      }
    }

    auto p = ParseApiPath(path);
    if (!p) return Reply(404, StatusBody(404, "NotFound", "the server could not find the requested resource"));

    auto param = [&](const std::string& key) {
      auto it = query.find(key);
      return it == query.end() ? std::string() : it->second;
    };

    if (p->sub == "exec" && p->resource == "pods" && method == "GET") return ServeExec(*p, req);
    if (p->sub == "log" && p->resource == "pods" && method == "GET") {
      return ServeLog(*p, param("follow") == "true" || param("follow") == "1", param("tailLines"),
                      param("timestamps") == "true");
    }
    if (!p->sub.empty()) {
      return Reply(404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
    }

    auto selector = ParseSelector(param("labelSelector"));
    if (!selector) {
      return Reply(400, StatusBody(400, "BadRequest", "unable to parse requirement: " + param("labelSelector")));
    }

    if (method == "GET" && p->name.empty()) {
      std::string watch = param("watch");
      if (watch == "1" || watch == "true") {
        int timeout = param("timeoutSeconds").empty() ? 1800 : std::atoi(param("timeoutSeconds").c_str());
        return ServeWatch(*p, *selector, param("resourceVersion"), timeout);
      }
      return ServeList(*p, *selector);
    }
    if (method == "GET") return ServeGet(*p);
    if (method == "POST" && p->name.empty()) return ServeCreate(*p, req.body());
    if (method == "PUT" && !p->name.empty()) return ServeReplace(*p, req.body());
    if (method == "DELETE" && !p->name.empty()) return ServeDelete(*p);
    return Reply(405, StatusBody(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));
  }

  // --- plain replies ----------------------------------------------------------

  bool Reply(int status, const Json& body) { return Reply(status, body.dump(), "application/json"); }

  bool Reply(int status, const std::string& body, const std::string& content_type) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, content_type);
    res.keep_alive(keep_alive_);
    res.body() = body;
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream_, res, ec);
    return !ec;
  }

  // --- chunked replies (watches, followed logs) ---------------------------------

  bool StartChunked(const std::string& content_type) {
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, content_type);
    res.keep_alive(keep_alive_);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(stream_, sr, ec);
    return !ec;
  }

  bool Chunk(const std::string& data) {
    if (data.empty()) return true;  // an empty chunk would end the body
    beast::error_code ec;
    net::write(stream_, http::make_chunk(net::buffer(data)), ec);
    return !ec;
  }

  bool EndChunked() {
    beast::error_code ec;
    net::write(stream_, http::make_chunk_last(), ec);
    return !ec;
  }

  // --- objects -------------------------------------------------------------------

  static std::string NotFoundMessage(const ApiPath& p) { return p.resource + " \"" + p.name + "\" not found"; }

  bool ServeGet(const ApiPath& p) {
    std::optional<Json> object;
    {
      std::lock_guard<std::mutex> lock(api_.mu_);
      auto c = api_.store_.find(p.collection);
      if (c != api_.store_.end() && c->second.count(p.name)) object = c->second.at(p.name);
    }
    if (!object) return Reply(404, StatusBody(404, "NotFound", NotFoundMessage(p)));
    return Reply(200, *object);
  }

  bool ServeList(const ApiPath& p, const std::vector<Term>& selector) {
    Json list = {{"kind", KindOf(p.resource) + "List"}, {"apiVersion", "v1"}, {"items", Json::array()}};
    {
      std::lock_guard<std::mutex> lock(api_.mu_);
      list["metadata"] = {{"resourceVersion", std::to_string(api_.counter_)}};
      auto c = api_.store_.find(p.collection);
      if (c != api_.store_.end()) {
        for (const auto& [name, object] : c->second) {
          if (Matches(selector, object)) list["items"].push_back(object);
        }
      }
    }
    return Reply(200, list);
  }

  bool ServeCreate(const ApiPath& p, const std::string& body) {
    Json object = Json::parse(body, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
      return Reply(400, StatusBody(400, "BadRequest", "the request body is not a JSON object"));
    }
    Json& meta = object["metadata"];
    if (!meta.is_object()) meta = Json::object();
    std::string name = meta.value("name", "");
    if (name.empty() && meta.contains("generateName")) {
      name = meta.value("generateName", "") + std::to_string(std::rand() % 100000);
      meta["name"] = name;
    }
    if (name.empty()) {
      return Reply(422, StatusBody(422, "Invalid", p.resource + " is invalid: metadata.name: Required value"));
    }
    if (!p.ns.empty()) {
      std::string ns = meta.value("namespace", p.ns);
      if (ns != p.ns) {
        return Reply(400, StatusBody(400, "BadRequest",
                                     "the namespace of the provided object does not match the namespace sent on the request"));
      }
      meta["namespace"] = p.ns;
    }
    if (p.resource == "pods" && !object.contains("status")) object["status"] = {{"phase", "Pending"}};
    Json stored;
    {
      std::unique_lock<std::mutex> lock(api_.mu_);
      if (api_.store_[p.collection].count(name)) {
        lock.unlock();
        return Reply(409, StatusBody(409, "AlreadyExists", p.resource + " \"" + name + "\" already exists"));
      }
      stored = api_.StoreLocked(p.collection, name, std::move(object), false);
    }
    api_.changed_.notify_all();
    return Reply(201, stored);
  }

  bool ServeReplace(const ApiPath& p, const std::string& body) {
    Json object = Json::parse(body, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
      return Reply(400, StatusBody(400, "BadRequest", "the request body is not a JSON object"));
    }
    Json& meta = object["metadata"];
    if (!meta.is_object()) meta = Json::object();
    if (meta.value("name", p.name) != p.name) {
      return Reply(400, StatusBody(400, "BadRequest", "the name of the object does not match the name on the URL"));
    }
    meta["name"] = p.name;
    if (!p.ns.empty()) meta["namespace"] = p.ns;
    Json stored;
    {
      std::unique_lock<std::mutex> lock(api_.mu_);
      auto& c = api_.store_[p.collection];
      auto it = c.find(p.name);
      if (it == c.end()) {
        lock.unlock();
        return Reply(404, StatusBody(404, "NotFound", NotFoundMessage(p)));
      }
      std::string want = meta.value("resourceVersion", "");
      std::string have = it->second["metadata"].value("resourceVersion", "");
      if (!want.empty() && want != have) {
        lock.unlock();
        return Reply(409, StatusBody(409, "Conflict",
                                     "Operation cannot be fulfilled on " + p.resource + " \"" + p.name +
                                         "\": the object has been modified; please apply your changes to the "
                                         "latest version and try again"));
      }
      stored = api_.StoreLocked(p.collection, p.name, std::move(object), true);
    }
    api_.changed_.notify_all();
    return Reply(200, stored);
  }

  bool ServeDelete(const ApiPath& p) {
    Json removed;
    {
      std::unique_lock<std::mutex> lock(api_.mu_);
      auto& c = api_.store_[p.collection];
      auto it = c.find(p.name);
      if (it == c.end()) {
        lock.unlock();
        return Reply(404, StatusBody(404, "NotFound", NotFoundMessage(p)));
      }
      removed = it->second;
      c.erase(it);
      removed["metadata"]["resourceVersion"] = std::to_string(++api_.counter_);
      api_.RecordLocked(p.collection, "DELETED", removed);
    }
    api_.changed_.notify_all();
    return Reply(200, removed);
  }

  // --- watches ---------------------------------------------------------------------

  static std::string EventLine(const std::string& type, const Json& object) {
    return Json{{"type", type}, {"object", object}}.dump() + "\n";
  }

  bool ServeWatch(const ApiPath& p, const std::vector<Term>& selector, const std::string& from, int timeout_seconds) {
    long since = 0;
    if (!from.empty()) {
      char* end = nullptr;
      since = std::strtol(from.c_str(), &end, 10);
      if (*end != '\0' || since < 0) {
        return Reply(400, StatusBody(400, "BadRequest", "invalid resourceVersion \"" + from + "\""));
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    std::string first;  // the events up to now
    long cursor;
    int generation;
    bool gone_as_event;
    long oldest_kept;
    {
      std::lock_guard<std::mutex> lock(api_.mu_);
      api_.watch_requests_++;
      gone_as_event = api_.gone_as_event_;
      oldest_kept = api_.oldest_kept_;
      bool gone = since > 0 && since < api_.oldest_kept_;
      if (!gone) {
        if (since == 0) {
          // "0" or none: every current object as ADDED, then live.
          for (const auto& [name, object] : api_.store_[p.collection]) {
            if (Matches(selector, object)) first += EventLine("ADDED", object);
          }
        } else {
          for (const auto& e : api_.history_) {
            if (e.rv > since && e.collection == p.collection && Matches(selector, e.object)) {
              first += EventLine(e.type, e.object);
            }
          }
        }
        cursor = api_.counter_;
        generation = api_.watch_generation_;
        api_.open_watches_++;
      } else {
        cursor = -1;
        generation = 0;
      }
    }
    if (cursor < 0) {  // too old
      Json status = StatusBody(410, "Expired", "too old resource version: " + from + " (" +
                                                   std::to_string(oldest_kept) + ")");
      if (!gone_as_event) return Reply(410, status);
      return StartChunked("application/json") && Chunk(EventLine("ERROR", status)) && EndChunked();
    }

    bool ok = StartChunked("application/json") && Chunk(first);
    while (ok) {
      std::string more;
      {
        std::unique_lock<std::mutex> lock(api_.mu_);
        bool woke = api_.changed_.wait_until(lock, deadline, [&] {
          return api_.stopping_ || api_.watch_generation_ != generation ||
                 (!api_.watches_paused_ && api_.counter_ > cursor);
        });
        if (!woke || api_.stopping_ || api_.watch_generation_ != generation) break;
        for (const auto& e : api_.history_) {
          if (e.rv > cursor && e.collection == p.collection && Matches(selector, e.object)) {
            more += EventLine(e.type, e.object);
          }
        }
        cursor = api_.counter_;
      }
      ok = Chunk(more);
    }
    if (ok) ok = EndChunked();
    {
      std::lock_guard<std::mutex> lock(api_.mu_);
      api_.open_watches_--;
    }
    return ok;
  }

  // --- logs ---------------------------------------------------------------------------

  // With `timestamps`, each line starts as the kubelet's do: RFC 3339 with
  // nanoseconds (the time it is served here) and a space.
  bool ServeLog(const ApiPath& p, bool follow, const std::string& tail_lines, bool timestamps) {
    bool line_start = true;
    auto stamped = [&](const std::string& text) {
      if (!timestamps) return text;
      auto now = std::chrono::system_clock::now().time_since_epoch();
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
      std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
      std::tm tm{};
      gmtime_r(&secs, &tm);
      char stamp[64];
      std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ ", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    static_cast<long long>(ns % 1000000000));
      std::string out;
      for (char c : text) {
        if (line_start) out += stamp;
        out.push_back(c);
        line_start = c == '\n';
      }
      return out;
    };
    std::string text;
    bool known;
    {
      std::lock_guard<std::mutex> lock(api_.mu_);
      auto it = api_.logs_.find(p.name);
      known = api_.store_[p.collection].count(p.name) > 0 || it != api_.logs_.end();
      if (it != api_.logs_.end()) text = it->second.text;
    }
    if (!known) return Reply(404, StatusBody(404, "NotFound", NotFoundMessage(p)));
    if (!tail_lines.empty()) {
      long n = std::atol(tail_lines.c_str());
      size_t at = text.size();
      if (at > 0 && text.back() == '\n') --at;
      while (n > 0 && at > 0) {
        at = text.rfind('\n', at - 1);
        if (at == std::string::npos) {
          at = 0;
          break;
        }
        if (--n == 0) {
          ++at;
          break;
        }
      }
      text = text.substr(at);
    }
    if (!follow) return Reply(200, stamped(text), "text/plain");

    size_t sent = text.size();
    bool ok = StartChunked("text/plain") && Chunk(stamped(text));
    while (ok) {
      std::string more;
      {
        std::unique_lock<std::mutex> lock(api_.mu_);
        api_.changed_.wait(lock, [&] {
          const auto& log = api_.logs_[p.name];
          return api_.stopping_ || log.ended || log.text.size() > sent;
        });
        if (api_.stopping_) break;
        const auto& log = api_.logs_[p.name];
        // Everything appended since, then stop when the log ended.
        if (log.text.size() > sent) more = log.text.substr(sent);
        sent = log.text.size();
        if (more.empty() && log.ended) break;
      }
      ok = Chunk(stamped(more));
    }
    return ok && EndChunked();
  }

  // pods/exec: the WebSocket a kubectl exec opens; echoes stdin (channel
  // 0) on stdout (1), records resizes (4), and on a line "exit N" sends the
  // status (3) and closes, as a shell ending would.
  bool ServeExec(const ApiPath& p, const Request& req) {
    {
      std::lock_guard<std::mutex> lock(api_.mu_);
      if (!api_.store_[p.collection].count(p.name)) {
        return Reply(404, StatusBody(404, "NotFound", "pods \"" + p.name + "\" not found"));
      }
    }
    websocket::stream<SslStream&> ws(stream_);
    ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::sec_websocket_protocol, "v4.channel.k8s.io");
    }));
    beast::error_code ec;
    ws.accept(req, ec);
    if (ec) return false;
    ws.binary(true);
    std::string typed;
    for (;;) {
      beast::flat_buffer buffer;
      ws.read(buffer, ec);
      if (ec) return false;
      std::string message = beast::buffers_to_string(buffer.data());
      if (message.empty()) continue;
      std::string data = message.substr(1);
      if (message[0] == 4) {
        Json size = Json::parse(data, nullptr, false);
        std::lock_guard<std::mutex> lock(api_.mu_);
        api_.exec_resizes_.push_back(std::to_string(size.value("Width", 0)) + "x" +
                                     std::to_string(size.value("Height", 0)));
        continue;
      }
      if (message[0] != 0) continue;
      ws.write(net::buffer(std::string(1, '\x01') + data), ec);
      if (ec) return false;
      typed += data;
      size_t at = typed.find("exit ");
      size_t end = at == std::string::npos ? std::string::npos : typed.find_first_of("\r\n", at);
      if (end != std::string::npos) {
        int code = std::atoi(typed.c_str() + at + 5);
        Json status = code == 0 ? Json{{"metadata", Json::object()}, {"status", "Success"}}
                                : Json{{"metadata", Json::object()},
                                       {"status", "Failure"},
                                       {"reason", "NonZeroExitCode"},
                                       {"details", {{"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(code)}}}}}}};
        ws.write(net::buffer(std::string(1, '\x03') + status.dump()), ec);
        ws.close(websocket::close_code::normal, ec);
        return false;
      }
    }
  }

  FakeKubeApi& api_;
  SslStream& stream_;
  bool keep_alive_ = true;
};

// ---------------------------------------------------------------------------
// FakeKubeApi
// ---------------------------------------------------------------------------

FakeKubeApi::FakeKubeApi()
    : pki_(GenerateTestPki(dir_.path())),
      plain_ctx_(ssl::context::tls_server),
      mtls_ctx_(ssl::context::tls_server),
      acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
  for (ssl::context* ctx : {&plain_ctx_, &mtls_ctx_}) {
    ctx->use_certificate_chain(net::buffer(pki_.server_cert_pem));
    ctx->use_private_key(net::buffer(pki_.server_key_pem), ssl::context::pem);
  }
  mtls_ctx_.add_certificate_authority(net::buffer(pki_.ca_pem));
  mtls_ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  port_ = acceptor_.local_endpoint().port();
  url_ = "https://127.0.0.1:" + std::to_string(port_);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

FakeKubeApi::~FakeKubeApi() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    // Wake connection threads blocked reading a request.
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  changed_.notify_all();
  // Wake the blocking accept() with one last connection.
  boost::system::error_code ec;
  net::io_context ioc;
  tcp::socket poke(ioc);
  poke.connect(acceptor_.local_endpoint(), ec);
  accept_thread_.join();
  for (auto& t : connections_) t.join();
}

void FakeKubeApi::AcceptLoop() {
  for (;;) {
    tcp::socket socket(ioc_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    bool require_cert;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      require_cert = require_cert_;
    }
    if (ec) continue;
    connections_.emplace_back(
        [this, s = std::move(socket), require_cert]() mutable { ServeConnection(std::move(s), require_cert); });
  }
}

void FakeKubeApi::ServeConnection(tcp::socket socket, bool require_cert) {
  const int fd = socket.native_handle();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    open_fds_.insert(fd);
  }
  {
    SslStream stream(std::move(socket), require_cert ? mtls_ctx_ : plain_ctx_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (!ec) FakeKubeApiHandler(*this, stream).Serve();
    // Forget the descriptor before the stream closes it.
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
  }
}

ClusterAccess FakeKubeApi::Access() const {
  ClusterAccess a;
  a.context = "fake";
  a.server = url_;
  a.ca_pem = pki_.ca_pem;
  a.client_cert_pem = pki_.client_cert_pem;
  a.client_key_pem = pki_.client_key_pem;
  std::lock_guard<std::mutex> lock(mu_);
  a.token = token_;
  a.ns = "default";
  return a;
}

void FakeKubeApi::SetToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = token;
}

void FakeKubeApi::RequireClientCert(bool require) {
  std::lock_guard<std::mutex> lock(mu_);
  require_cert_ = require;
}

void FakeKubeApi::SetGoneAsEvent(bool as_event) {
  std::lock_guard<std::mutex> lock(mu_);
  gone_as_event_ = as_event;
}

void FakeKubeApi::CompactHistory() {
  std::lock_guard<std::mutex> lock(mu_);
  oldest_kept_ = counter_;
  history_.clear();
}

void FakeKubeApi::EndWatches() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    watch_generation_++;
  }
  changed_.notify_all();
}

void FakeKubeApi::PauseWatches(bool paused) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    watches_paused_ = paused;
  }
  changed_.notify_all();
}

Json FakeKubeApi::StoreLocked(const std::string& collection, const std::string& name, Json object,
                              bool keep_identity) {
  auto& c = store_[collection];
  auto old = c.find(name);
  Json& meta = object["metadata"];
  if (!meta.is_object()) meta = Json::object();
  meta["name"] = name;
  const bool replacing = old != c.end();
  if (replacing && keep_identity) {
    const Json& was = old->second["metadata"];
    meta["uid"] = was.value("uid", "");
    meta["creationTimestamp"] = was.value("creationTimestamp", "");
  } else {
    char uid[64];
    std::snprintf(uid, sizeof uid, "00000000-0000-4000-8000-%012ld", counter_ + 1);
    meta["uid"] = uid;
    meta["creationTimestamp"] = Now();
  }
  meta["resourceVersion"] = std::to_string(++counter_);
  c[name] = object;
  RecordLocked(collection, replacing ? "MODIFIED" : "ADDED", object);
  return object;
}

void FakeKubeApi::RecordLocked(const std::string& collection, const std::string& type, const Json& object) {
  history_.push_back({counter_, collection, type, object});
}

Json FakeKubeApi::Put(const std::string& path, Json object) {
  auto p = ParseApiPath(path);
  if (!p || p->name.empty()) throw std::invalid_argument("FakeKubeApi::Put: not an object path: " + path);
  if (!p->ns.empty()) object["metadata"]["namespace"] = p->ns;
  Json stored;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stored = StoreLocked(p->collection, p->name, std::move(object), true);
  }
  changed_.notify_all();
  return stored;
}

std::optional<Json> FakeKubeApi::Get(const std::string& path) const {
  auto p = ParseApiPath(path);
  if (!p || p->name.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto c = store_.find(p->collection);
  if (c == store_.end()) return std::nullopt;
  auto it = c->second.find(p->name);
  if (it == c->second.end()) return std::nullopt;
  return it->second;
}

bool FakeKubeApi::Mutate(const std::string& path, const std::function<void(Json&)>& change) {
  auto p = ParseApiPath(path);
  if (!p || p->name.empty()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& c = store_[p->collection];
    auto it = c.find(p->name);
    if (it == c.end()) return false;
    Json object = it->second;
    change(object);
    StoreLocked(p->collection, p->name, std::move(object), true);
  }
  changed_.notify_all();
  return true;
}

bool FakeKubeApi::Remove(const std::string& path) {
  auto p = ParseApiPath(path);
  if (!p || p->name.empty()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& c = store_[p->collection];
    auto it = c.find(p->name);
    if (it == c.end()) return false;
    Json removed = it->second;
    c.erase(it);
    removed["metadata"]["resourceVersion"] = std::to_string(++counter_);
    RecordLocked(p->collection, "DELETED", removed);
  }
  changed_.notify_all();
  return true;
}

std::vector<std::string> FakeKubeApi::Names(const std::string& collection) const {
  std::vector<std::string> names;
  std::lock_guard<std::mutex> lock(mu_);
  auto c = store_.find(collection);
  if (c == store_.end()) return names;
  for (const auto& [name, object] : c->second) names.push_back(name);
  return names;
}

long FakeKubeApi::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counter_;
}

void FakeKubeApi::SetLog(const std::string& pod, const std::string& text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    logs_[pod] = Log{text, false};
  }
  changed_.notify_all();
}

void FakeKubeApi::AppendLog(const std::string& pod, const std::string& text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    logs_[pod].text += text;
  }
  changed_.notify_all();
}

void FakeKubeApi::EndLog(const std::string& pod) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    logs_[pod].ended = true;
  }
  changed_.notify_all();
}

int FakeKubeApi::requests(const std::string& method) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = method_counts_.find(method);
  return it == method_counts_.end() ? 0 : it->second;
}

std::vector<std::string> FakeKubeApi::request_log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return request_log_;
}

std::map<std::string, std::string> FakeKubeApi::last_headers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_headers_;
}

int FakeKubeApi::open_watches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_watches_;
}

int FakeKubeApi::watch_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watch_requests_;
}

std::vector<std::string> FakeKubeApi::exec_resizes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return exec_resizes_;
}

}  // namespace quader::runtime::kubernetes::testing
