#include "images/engine_builder.h"

#include <cstring>
#include <sstream>

#include "core/url.h"
#include "runtime/docker/docker_runtime.h"
#include "runtime/docker/engine_client.h"
#include "runtime/labels.h"

namespace quader::images {
namespace {

using runtime::docker::EngineClient;

std::string Octal(uint64_t value, size_t width) {
  std::ostringstream ss;
  ss << std::oct << value;
  std::string s = ss.str();
  return std::string(width - 1 - s.size(), '0') + s;  // NUL-terminated field
}

// Build output is newline-separated JSON objects: {"stream": text},
// {"error": message}, {"aux": ...}. Returns the error message, if any.
class BuildOutput {
 public:
  explicit BuildOutput(const std::function<void(std::string_view)>& log) : log_(log) {}
  bool Feed(std::string_view chunk) {
    pending_.append(chunk);
    size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      Line(pending_.substr(0, nl));
      pending_.erase(0, nl + 1);
    }
    return true;
  }
  void Finish() {
    if (!pending_.empty()) Line(pending_);
    pending_.clear();
  }
  const std::string& error() const { return error_; }

 private:
  void Line(const std::string& line) {
    if (line.find_first_not_of(" \r\t") == std::string::npos) return;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      log_(line + "\n");
    } else if (j.contains("stream") && j["stream"].is_string()) {
      log_(j["stream"].get<std::string>());
    } else if (j.contains("error")) {
      error_ = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
      while (!error_.empty() && (error_.back() == '\n' || error_.back() == '\r')) error_.pop_back();
      log_("error: " + error_ + "\n");
    }
  }
  const std::function<void(std::string_view)>& log_;
  std::string pending_;
  std::string error_;
};

class EngineBuilder final : public ImageBuilder {
 public:
  explicit EngineBuilder(std::string socket_path) : engine_(std::move(socket_path)) {}

  Status Build(const BuildJob& job, const std::function<void(std::string_view)>& log,
               const std::atomic<bool>& cancelled) override {
    if (!job.commit_workload.empty()) return Commit(job, log);
    std::string query = "t=" + PercentEncode(job.image.str()) + "&dockerfile=Dockerfile&rm=1";
    if (job.memory_bytes > 0) query += "&memory=" + std::to_string(job.memory_bytes);
    if (job.cpu > 0) {
      query += "&cpuperiod=100000&cpuquota=" + std::to_string(static_cast<int64_t>(job.cpu * 100000));
    }
    if (!job.labels.empty()) {
      Json labels(job.labels);
      query += "&labels=" + PercentEncode(labels.dump());
    }
    bool has_bind_mounts = false;
    std::string volumes;
    for (const auto& m : job.mounts) {
      if (m.kind == runtime::MountKind::kMemory) {
        log("note: " + m.target + " (memory) is not mounted while building\n");
        continue;
      }
      has_bind_mounts = true;
      volumes += "&volume=" + PercentEncode(m.source + ":" + m.target + (m.read_only ? ":ro" : ""));
    }
    std::string context = TarOneFile("Dockerfile", job.dockerfile);
    BuildOutput out(log);
    auto sink = [&](std::string_view chunk) { return !cancelled && out.Feed(chunk); };
    // Podman's own build API takes build-time volumes; Docker's does not.
    Status st = engine_.Send("POST", "/v4.0.0/libpod/build?" + query + volumes, context,
                             "application/x-tar", sink);
    if (st.code() == Code::kNotFound) {
      if (has_bind_mounts) {
        return errors::Invalid("config.volume_mount", "this engine (Docker) cannot mount volumes while building; "
                                                      "remove volume_mount or use Podman");
      }
      st = engine_.Send("POST", std::string("/") + EngineClient::kApiVersion + "/build?" + query, context,
                        "application/x-tar", sink);
    }
    out.Finish();
    if (cancelled) return errors::Conflict("cancelled");
    if (!st.ok()) return st;
    if (!out.error().empty()) return errors::Invalid("dockerfile", out.error());
    // The engine says it tagged the image: check that it really exists.
    auto inspect = engine_.Call("GET", "/images/" + PercentEncode(job.image.str()) + "/json");
    if (!inspect.ok()) return errors::Internal("the build ended but " + job.image.str() + " does not exist: " +
                                               inspect.status().message());
    log("image " + job.image.str() + " " + inspect->value("Id", std::string()) + "\n");
    return Status::Ok();
  }

 private:
  Status Commit(const BuildJob& job, const std::function<void(std::string_view)>& log) {
    // Only a workload of the build's own project may be committed: another
    // project's container (a colleague's notebook) is not ours to copy.
    std::string project = job.labels.count(runtime::kLabelProject) ? job.labels.at(runtime::kLabelProject) : "";
    auto inspect = engine_.Call("GET", "/containers/" + PercentEncode(job.commit_workload) + "/json");
    Json labels = inspect.ok() ? inspect->value("Config", Json::object()).value("Labels", Json::object()) : Json::object();
    if (!labels.is_object() || labels.value(runtime::kLabelProject, std::string()) != project ||
        labels.value(runtime::kLabelManaged, std::string()) != "true") {
      return errors::Invalid("commit", "no running workload named \"" + job.commit_workload + "\" in project \"" +
                                           project + "\"");
    }
    log("committing workload " + job.commit_workload + " as " + job.image.str() + "\n");
    auto r = engine_.Call("POST", "/commit?container=" + PercentEncode(job.commit_workload) +
                                      "&repo=" + PercentEncode(job.image.name) +
                                      "&tag=" + PercentEncode(job.image.tag) + "&pause=true",
                          Json::object(), std::chrono::minutes(30));
    if (!r.ok()) {
      if (r.status().code() == Code::kNotFound) {
        return errors::Invalid("commit", "no running workload named \"" + job.commit_workload + "\"");
      }
      return r.status();
    }
    log("image " + job.image.str() + " " + r->value("Id", std::string()) + "\n");
    return Status::Ok();
  }

  const EngineClient engine_;  // stateless: one connection per call
};

}  // namespace

std::string TarOneFile(const std::string& name, const std::string& content) {
  std::string header(512, '\0');
  std::memcpy(&header[0], name.data(), std::min<size_t>(name.size(), 99));
  auto put = [&](size_t offset, const std::string& field) { std::memcpy(&header[offset], field.data(), field.size()); };
  put(100, Octal(0644, 8));
  put(108, Octal(0, 8));
  put(116, Octal(0, 8));
  put(124, Octal(content.size(), 12));
  put(136, Octal(0, 12));
  std::memset(&header[148], ' ', 8);  // checksum is computed over spaces here
  header[156] = '0';
  put(257, std::string("ustar\0", 6));
  put(263, "00");
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  put(148, Octal(sum, 7));
  header[155] = ' ';
  std::string tar = header + content;
  tar.append((512 - content.size() % 512) % 512, '\0');
  tar.append(1024, '\0');  // two empty blocks end the archive
  return tar;
}

std::unique_ptr<ImageBuilder> NewEngineBuilder(runtime::Runtime& rt) {
  auto* docker = dynamic_cast<runtime::docker::DockerRuntime*>(&rt);
  if (!docker) return nullptr;
  return std::make_unique<EngineBuilder>(docker->socket_path());
}

}  // namespace quader::images
