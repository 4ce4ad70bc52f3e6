#include "workload/replica_set.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/log_stamp.h"
#include "runtime/labels.h"
#include "workload/log_follow.h"

namespace quader::workload {

int64_t LabelNumber(const runtime::WorkloadStatus& w, const char* key) {
  auto it = w.labels.find(key);
  if (it == w.labels.end() || it->second.empty() || it->second.size() > 18) return -1;
  int64_t value = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool HasEnded(const runtime::WorkloadStatus& w) {
  return w.state == runtime::WorkloadState::kFailed || w.state == runtime::WorkloadState::kSucceeded ||
         w.state == runtime::WorkloadState::kUnknown;
}

std::string EndReason(const runtime::WorkloadStatus& w) {
  if (w.oom_killed) return "killed: out of memory";
  if (!w.reason.empty()) return w.reason;
  if (w.exit_code) return "exited with code " + std::to_string(*w.exit_code);
  return "ended";
}

std::string LastOutput(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  tail.resize(static_cast<size_t>(in.gcount()));
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < tail.size()) {
    size_t end = tail.find('\n', start);
    if (end == std::string::npos) end = tail.size();
    std::string line;
    if (StartsWithLogStamp(std::string_view(tail).substr(start, end - start))) start += kLogStampSize;
    for (size_t i = start; i < end; ++i) {
      unsigned char c = static_cast<unsigned char>(tail[i]);
      if (c >= 0x20 || c == '\t') line += c == '\t' ? ' ' : tail[i];  // no control characters
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
    start = end + 1;
  }
  if (from > 0 && lines.size() > 1) lines.erase(lines.begin());  // cut in the middle (unless it is all there is)
  std::string out;
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size(); ++i) {
    out += (out.empty() ? "" : " | ") + lines[i];
  }
  if (out.size() > 300) out = "…" + out.substr(out.size() - 300);
  return out;
}

std::set<int> Census::CurrentIndexes() const {
  std::set<int> out;
  for (const Replica& r : current) out.insert(r.index);
  return out;
}

Census TakeCensus(const std::vector<runtime::WorkloadStatus>& mine, int64_t generation) {
  Census c;
  for (const runtime::WorkloadStatus& w : mine) {
    int64_t index = LabelNumber(w, runtime::kLabelReplica);
    Replica r{&w, index < 0 || index > 1'000'000 ? 0 : static_cast<int>(index),
              LabelNumber(w, runtime::kLabelGeneration)};
    if (HasEnded(w)) {
      c.ended.push_back(r);
    } else if (r.generation == generation) {
      c.current.push_back(r);
    } else {
      c.old.push_back(r);
    }
  }
  return c;
}

ReplicaSet::Backoff& ReplicaSet::BackoffOf(int64_t owner, int64_t generation) {
  Backoff& b = backoff_[owner];
  if (b.generation != generation) {
    b = Backoff();
    b.generation = generation;
  }
  return b;
}

void ReplicaSet::Failed(Backoff& b, const std::string& why) {
  b.failures++;
  b.last_failure = why;
  b.not_before_ms = NowMs() + std::min<int64_t>(60000, 1000LL << std::min(b.failures - 1, 6));
}

ReplicaSet::Starts ReplicaSet::StartMissing(int64_t owner, int64_t generation, int count, const std::set<int>& taken,
                                            const std::function<runtime::WorkloadSpec(int index)>& spec_of) {
  Starts out;
  Backoff& b = BackoffOf(owner, generation);
  const std::string key = std::to_string(owner);
  if (NowMs() < b.not_before_ms) {
    out.waiting = b.waiting;  // still waiting for its image, or backing off after a failure
    return out;
  }
  for (int i = 0; count > 0; ++i) {
    if (taken.count(i)) continue;
    runtime::WorkloadSpec spec = spec_of(i);
    auto started = runtime_.Start(spec);
    std::string waiting = image_waits_.Waiting(key, started.status(), clock_.Now());
    if (!waiting.empty()) {
      // Not a failure yet: its image may be being built or pulled.
      out.waiting_began = b.waiting.empty();
      out.waiting = b.waiting = waiting;
      b.not_before_ms = NowMs() + 2000;
      return out;
    }
    b.waiting.clear();
    if (!started.ok()) {
      out.failure = "could not start: " + started.status().message();
      out.failed_index = i;
      Failed(b, out.failure);
      return out;
    }
    image_waits_.Clear(key);
    out.started.push_back({i, std::move(spec), *started});
    count--;
  }
  return out;
}

std::string ReplicaSet::PreviousLogPath(int64_t owner, int index) const {
  if (log_dir_.empty()) return "";
  return log_dir_ + "/" + std::to_string(owner) + "/replica-" + std::to_string(index) + ".previous.log";
}

Status ReplicaSet::SendPreviousLog(int64_t owner, int index,
                                   const std::function<bool(std::string_view)>& write) const {
  const std::string path = PreviousLogPath(owner, index);
  if (path.empty()) return errors::NotFound("replica log", std::to_string(index));
  return SendFile(path, write);
}

std::string ReplicaSet::RemoveEnded(int64_t owner, int64_t generation, const Replica& replica) {
  const runtime::WorkloadStatus& w = *replica.workload;
  std::string why = EndReason(w);
  if (const std::string path = PreviousLogPath(owner, replica.index); !path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    runtime_.SaveLog(w.id, path, "");
    std::string last = LastOutput(path);
    if (!last.empty()) why += "; last output: " + last;
    (void)AppendLogLines(path, StampLines("== " + w.name + " ended: " + EndReason(w) + "\n",
                                          std::chrono::system_clock::now()));
  }
  (void)runtime_.Stop(w.id, std::chrono::seconds(0));
  if (replica.generation == generation) Failed(BackoffOf(owner, generation), why);
  return why;
}

void ReplicaSet::Ready(int64_t owner, int64_t generation) {
  Backoff& b = BackoffOf(owner, generation);
  b.failures = 0;
  b.not_before_ms = 0;
  b.last_failure.clear();
}

int ReplicaSet::failures(int64_t owner, int64_t generation) const {
  auto it = backoff_.find(owner);
  return it == backoff_.end() || it->second.generation != generation ? 0 : it->second.failures;
}

std::string ReplicaSet::last_failure(int64_t owner, int64_t generation) const {
  auto it = backoff_.find(owner);
  return it == backoff_.end() || it->second.generation != generation ? "" : it->second.last_failure;
}

void ReplicaSet::Keep(const std::set<int64_t>& owners) {
  for (auto it = backoff_.begin(); it != backoff_.end();) {
    if (owners.count(it->first)) {
      ++it;
    } else {
      image_waits_.Clear(std::to_string(it->first));
      if (!log_dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(log_dir_ + "/" + std::to_string(it->first), ec);
      }
      it = backoff_.erase(it);
    }
  }
}

}  // namespace quader::workload
