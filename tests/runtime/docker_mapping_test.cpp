// The docker-api runtime's pure parts: spec → create body, inspect → status,
// stats arithmetic, the log frame format, error mapping and the cgroup reader.
// No engine needed.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fakes/temp_dir.h"
#include "runtime/docker/cgroup_memory.h"
#include "runtime/docker/container_mapping.h"
#include "runtime/docker/engine_client.h"
#include "runtime/labels.h"

namespace quader::runtime::docker {
namespace {

using namespace std::chrono_literals;

WorkloadSpec BaseSpec() {
  WorkloadSpec spec;
  spec.name = "task-1";
  spec.image = "localhost/quader/python:3.11";
  return spec;
}

TEST(CreateBodyTest, MapsEveryField) {
  WorkloadSpec spec = BaseSpec();
  spec.command = {"python3", "-m", "train"};
  spec.args = {"--epochs", "3"};
  spec.env = {{"A", "1"}, {"B", "x=y"}};
  spec.working_dir = "/work";
  spec.labels = {{kLabelKind, "task"}};
  spec.mounts = {{MountKind::kHostPath, "/data/in", "/in", true, 0, "", ""},
                 {MountKind::kVolume, "/srv/vol/alice", "/mnt/alice", false, 0, "", ""},
                 {MountKind::kMemory, "", "/dev/shm", false, 64 << 20, "", ""}};
  spec.resources = {1.5, 256 << 20, 0.5};
  spec.ports = {{8000, 0, "tcp"}, {9000, 19000, "udp"}};
  spec.restart = RestartPolicy::kOnFailure;
  auto body = MakeCreateBody(spec);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  const Json& b = *body;
  EXPECT_EQ(b["Image"], spec.image);
  EXPECT_EQ(b["Entrypoint"], Json({"python3", "-m", "train"}));
  EXPECT_EQ(b["Cmd"], Json({"--epochs", "3"}));
  EXPECT_EQ(b["Env"], Json({"A=1", "B=x=y"}));
  EXPECT_EQ(b["WorkingDir"], "/work");
  EXPECT_EQ(b["Labels"][kLabelKind], "task");
  EXPECT_EQ(b["Labels"][kLabelManaged], "true");  // added even when the caller forgot
  EXPECT_EQ(b["Tty"], false);
  const Json& h = b["HostConfig"];
  EXPECT_EQ(h["Binds"], Json({"/data/in:/in:ro", "/srv/vol/alice:/mnt/alice"}));
  EXPECT_EQ(h["Tmpfs"]["/dev/shm"], "size=67108864,mode=1777");
  EXPECT_EQ(h["Memory"], 256 << 20);
  EXPECT_EQ(h["MemorySwap"], 256 << 20);
  EXPECT_EQ(h["NanoCpus"], 1500000000);
  EXPECT_EQ(h["DeviceRequests"][0]["Count"], 1);  // 0.5 GPU → one whole GPU
  EXPECT_EQ(h["DeviceRequests"][0]["Capabilities"], Json::parse(R"([["gpu"]])"));
  EXPECT_EQ(h["PortBindings"]["8000/tcp"],
            Json::parse(R"([{"HostIp":"127.0.0.1","HostPort":""}])"));
  EXPECT_EQ(h["PortBindings"]["9000/udp"][0]["HostPort"], "19000");
  EXPECT_EQ(h["PortBindings"]["9000/udp"][0]["HostIp"], "127.0.0.1");
  EXPECT_TRUE(b["ExposedPorts"].contains("8000/tcp"));
  EXPECT_EQ(h["RestartPolicy"]["Name"], "on-failure");
}

TEST(CreateBodyTest, CommandWithoutArgsClearsTheImageCmd) {
  WorkloadSpec spec = BaseSpec();
  spec.command = {"echo", "hi"};
  auto body = MakeCreateBody(spec);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["Cmd"], Json::array());
}

TEST(CreateBodyTest, NoCommandKeepsTheImageEntrypoint) {
  WorkloadSpec spec = BaseSpec();
  spec.args = {"serve"};
  auto body = MakeCreateBody(spec);
  ASSERT_TRUE(body.ok());
  EXPECT_FALSE(body->contains("Entrypoint"));
  EXPECT_EQ((*body)["Cmd"], Json({"serve"}));
  EXPECT_FALSE((*body)["HostConfig"].contains("Memory"));  // 0 = unlimited: not sent
  EXPECT_FALSE((*body)["HostConfig"].contains("DeviceRequests"));
  EXPECT_EQ((*body)["HostConfig"]["RestartPolicy"]["Name"], "no");
}

TEST(ValidateSpecTest, RejectsBadFieldsNamingThem) {
  struct Row {
    const char* why;
    std::function<void(WorkloadSpec&)> change;
    const char* field;
  };
  const Row rows[] = {
      {"empty name", [](WorkloadSpec& s) { s.name = ""; }, "name"},
      {"name with a slash", [](WorkloadSpec& s) { s.name = "a/b"; }, "name"},
      {"name starting with a dash", [](WorkloadSpec& s) { s.name = "-ab"; }, "name"},
      {"no image", [](WorkloadSpec& s) { s.image = ""; }, "image"},
      {"env key with =",
       [](WorkloadSpec& s) {
         s.env = {{"A=B", "1"}};
       },
       "env"},
      {"relative working dir", [](WorkloadSpec& s) { s.working_dir = "work"; }, "working_dir"},
      {"relative target",
       [](WorkloadSpec& s) {
         s.mounts = {{MountKind::kHostPath, "/a", "b", false, 0, "", ""}};
       },
       "mounts[0].target"},
      {"relative host path (would be a named volume)",
       [](WorkloadSpec& s) {
         s.mounts = {{MountKind::kHostPath, "data", "/b", false, 0, "", ""}};
       },
       "mounts[0].source"},
      {"same target twice",
       [](WorkloadSpec& s) {
         s.mounts = {{MountKind::kMemory, "", "/b", false, 0, "", ""},
                     {MountKind::kMemory, "", "/b", false, 0, "", ""}};
       },
       "mounts[1].target"},
      {"negative tmpfs size",
       [](WorkloadSpec& s) {
         s.mounts = {{MountKind::kMemory, "", "/b", false, -1, "", ""}};
       },
       "mounts[0].size_bytes"},
      {"port 0",
       [](WorkloadSpec& s) {
         s.ports = {{0, 0, "tcp"}};
       },
       "ports[0].container_port"},
      {"host port too big",
       [](WorkloadSpec& s) {
         s.ports = {{80, 70000, "tcp"}};
       },
       "ports[0].host_port"},
      {"sctp",
       [](WorkloadSpec& s) {
         s.ports = {{80, 0, "sctp"}};
       },
       "ports[0].protocol"},
      {"negative cpu", [](WorkloadSpec& s) { s.resources.cpu = -1; }, "resources.cpu"},
      {"negative memory", [](WorkloadSpec& s) { s.resources.memory_bytes = -1; },
       "resources.memory"},
      {"memory under Docker's minimum", [](WorkloadSpec& s) { s.resources.memory_bytes = 1024; },
       "resources.memory"},
      {"negative gpu", [](WorkloadSpec& s) { s.resources.gpu = -0.5; }, "resources.gpu"},
  };
  for (const Row& row : rows) {
    WorkloadSpec spec = BaseSpec();
    row.change(spec);
    Status st = ValidateSpec(spec);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << row.why;
    EXPECT_EQ(st.message().rfind(row.field, 0), 0u) << row.why << ": " << st.message();
  }
  EXPECT_TRUE(ValidateSpec(BaseSpec()).ok());
}

Json Inspect(const std::string& status, int exit_code, int64_t memory = 0, bool oom = false) {
  Json inspect = Json::parse(R"({
    "Id": "abc123", "Name": "/task-1",
    "State": {"Error": "", "StartedAt": "2026-11-29T03:41:06.461102963Z"},
    "Config": {"Labels": {"quader.kind": "task"}},
    "HostConfig": {"PortBindings": {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}},
    "NetworkSettings": {"Ports": {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "38147"}]}}
  })");
  inspect["State"]["Status"] = status;
  inspect["State"]["ExitCode"] = exit_code;
  inspect["State"]["OOMKilled"] = oom;
  inspect["State"]["FinishedAt"] =
      status == "running" ? "0001-01-01T00:00:00Z" : "2026-11-29T03:41:08Z";
  inspect["HostConfig"]["Memory"] = memory;
  return inspect;
}

TEST(StatusFromInspectTest, Running) {
  WorkloadStatus s = StatusFromInspect(Inspect("running", 0), {false, false, "node-a"});
  EXPECT_EQ(s.id, "abc123");
  EXPECT_EQ(s.name, "task-1");
  EXPECT_EQ(s.state, WorkloadState::kRunning);
  EXPECT_FALSE(s.exit_code.has_value());
  EXPECT_EQ(s.node, "node-a");
  EXPECT_EQ(s.labels.at("quader.kind"), "task");
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0].container_port, 8000);
  EXPECT_EQ(s.ports[0].host_port, 38147);
  EXPECT_EQ(s.ports[0].protocol, "tcp");
  EXPECT_TRUE(s.started_at.has_value());
  EXPECT_FALSE(s.finished_at.has_value());
}

// An image's EXPOSEd port that was not published is listed bound to null;
// it sorts before the published one here and must not take its place.
TEST(StatusFromInspectTest, UnpublishedExposedPortsAreLeftOut) {
  Json inspect = Inspect("running", 0);
  inspect["NetworkSettings"]["Ports"]["80/tcp"] = nullptr;
  inspect["NetworkSettings"]["Ports"]["7473/tcp"] = Json::array();
  WorkloadStatus s = StatusFromInspect(inspect, {false, false, "node-a"});
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0].container_port, 8000);
  EXPECT_EQ(s.ports[0].host_port, 38147);
  // Not running: what was asked for, host port not yet known.
  inspect = Inspect("created", 0);
  inspect["NetworkSettings"]["Ports"] = Json::object();
  s = StatusFromInspect(inspect, {});
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0].container_port, 8000);
  EXPECT_EQ(s.ports[0].host_port, 0);
}

TEST(StatusFromInspectTest, StatesAndOom) {
  struct Row {
    const char* why;
    Json inspect;
    InspectFacts facts;
    WorkloadState state;
    bool oom;
  };
  const Row rows[] = {
      {"created is pending", Inspect("created", 0), {}, WorkloadState::kPending, false},
      {"podman's configured is pending",
       Inspect("configured", 0),
       {},
       WorkloadState::kPending,
       false},
      {"exit 0 succeeded", Inspect("exited", 0), {}, WorkloadState::kSucceeded, false},
      {"exit 3 failed", Inspect("exited", 3), {}, WorkloadState::kFailed, false},
      {"podman's stopped", Inspect("stopped", 1), {}, WorkloadState::kFailed, false},
      {"engine says OOMKilled",
       Inspect("exited", 137, 32 << 20, true),
       {},
       WorkloadState::kFailed,
       true},
      {"137 under a limit, not stopped by us: the heuristic",
       Inspect("exited", 137, 32 << 20),
       {},
       WorkloadState::kFailed,
       true},
      {"137 after our Stop is not OOM",
       Inspect("exited", 137, 32 << 20),
       {true, false, ""},
       WorkloadState::kFailed,
       false},
      {"137 without a limit is not OOM",
       Inspect("exited", 137, 0),
       {},
       WorkloadState::kFailed,
       false},
      {"cgroup counter seen, non-zero exit",
       Inspect("exited", 1, 32 << 20),
       {false, true, ""},
       WorkloadState::kFailed,
       true},
      {"cgroup counter seen, but it succeeded",
       Inspect("exited", 0, 32 << 20),
       {false, true, ""},
       WorkloadState::kSucceeded,
       false},
      {"an unknown engine state", Inspect("removing", 0), {}, WorkloadState::kUnknown, false},
  };
  for (const Row& row : rows) {
    WorkloadStatus s = StatusFromInspect(row.inspect, row.facts);
    EXPECT_EQ(s.state, row.state) << row.why;
    EXPECT_EQ(s.oom_killed, row.oom) << row.why;
    if (row.oom) {
      EXPECT_NE(s.reason.find("OOM"), std::string::npos) << row.why << ": " << s.reason;
    }
  }
  WorkloadStatus failed = StatusFromInspect(Inspect("exited", 3), {});
  EXPECT_EQ(failed.exit_code, std::optional<int>(3));
  EXPECT_EQ(failed.reason, "exited with code 3");
  EXPECT_TRUE(failed.finished_at.has_value());
}

TEST(StatusFromInspectTest, StartedNeverAfterFinished) {
  Json inspect = Inspect("exited", 0);
  inspect["State"]["StartedAt"] = "2026-11-29T03:41:08.002Z";
  inspect["State"]["FinishedAt"] = "2026-11-29T03:41:08.001Z";
  WorkloadStatus s = StatusFromInspect(inspect, {});
  ASSERT_TRUE(s.started_at && s.finished_at);
  EXPECT_EQ(*s.started_at, *s.finished_at);
}

TEST(StatusFromInspectTest, ToleratesGarbage) {
  for (const char* text : {"null", "{}", "[]", R"({"State": 5, "Config": {"Labels": null}})"}) {
    WorkloadStatus s = StatusFromInspect(Json::parse(text), {});
    EXPECT_EQ(s.state, WorkloadState::kUnknown) << text;
  }
}

TEST(ParseEngineTimeTest, Formats) {
  using std::chrono::system_clock;
  auto t = ParseEngineTime("2026-11-29T03:41:06.5Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count(),
            1795923666500);
  EXPECT_EQ(ParseEngineTime("2026-11-29T05:41:06.5+02:00"), t);
  EXPECT_FALSE(ParseEngineTime("0001-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseEngineTime("").has_value());
  EXPECT_FALSE(ParseEngineTime("yesterday").has_value());
  // Past what a 64-bit nanosecond clock holds (fuzz/docker_fuzz.cpp found the overflow).
  EXPECT_FALSE(ParseEngineTime("4052-11-29T03:41:06.461102963Z").has_value());
  EXPECT_FALSE(ParseEngineTime("9999-12-31T23:59:59-99:99").has_value());
  EXPECT_TRUE(ParseEngineTime("2261-12-31T00:00:00Z").has_value());
}

TEST(StatsMathTest, CpuCores) {
  CpuCounters before{1e9, 100e9, 2};
  CpuCounters after{1.5e9, 101e9, 2};  // 0.5 s of CPU in 1 s of host time over 2 CPUs → 1 core
  EXPECT_DOUBLE_EQ(CpuCores(before, after, 0ns), 1.0);
  // No host counter (as after a second sample without one): container time / wall time.
  EXPECT_DOUBLE_EQ(CpuCores({1e9, 0, 0}, {1.25e9, 0, 0}, 500ms), 0.5);
  EXPECT_EQ(CpuCores(after, before, 1s), 0);  // counters went backwards (restart)

  Json stats = Json::parse(R"({"cpu_usage": {"total_usage": 5, "percpu_usage": [2, 3]},
                               "system_cpu_usage": 9})");
  CpuCounters read = ReadCpuCounters(stats);
  EXPECT_EQ(read.container_ns, 5);
  EXPECT_EQ(read.system_ns, 9);
  EXPECT_EQ(read.online_cpus, 2);
}

TEST(StatsMathTest, MemoryLessInactiveCache) {
  EXPECT_EQ(MemoryInUse(Json::parse(R"({"usage": 1000})")), 1000);
  EXPECT_EQ(MemoryInUse(Json::parse(R"({"usage": 1000, "stats": {"total_inactive_file": 300}})")),
            700);
  EXPECT_EQ(MemoryInUse(Json::parse(R"({"usage": 1000, "stats": {"inactive_file": 200}})")), 800);
  EXPECT_EQ(MemoryInUse(Json::parse("null")), 0);
}

std::string Frame(char stream, const std::string& payload) {
  std::string out{stream, 0, 0, 0};
  uint32_t n = static_cast<uint32_t>(payload.size());
  out += {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
  return out + payload;
}

TEST(LogDemuxerTest, SplitsFramesCutAnywhere) {
  std::string big(70000, 'x');  // length needs more than one byte
  std::string stream = Frame(1, "out\n") + Frame(2, "err\n") + Frame(1, big);
  for (size_t cut : {size_t{1}, size_t{7}, size_t{8}, size_t{11}, size_t{13}, size_t{4096}}) {
    LogDemuxer demuxer;
    std::string out;
    for (size_t pos = 0; pos < stream.size(); pos += cut)
      demuxer.Feed(stream.substr(pos, cut), &out);
    EXPECT_EQ(out, "out\nerr\n" + big) << "cut " << cut;
    EXPECT_EQ(demuxer.pending(), 0u);
  }
  LogDemuxer partial;
  std::string out;
  partial.Feed(Frame(1, "abc").substr(0, 9), &out);
  EXPECT_EQ(out, "");
  EXPECT_EQ(partial.pending(), 9u);
}

TEST(EngineErrorTest, MapsStatusAndKeepsTheMessage) {
  struct Row {
    int http;
    const char* body;
    Code code;
  };
  const Row rows[] = {
      {404,
       R"({"cause":"no such container","message":"no container with name \"x\"","response":404})",
       Code::kNotFound},
      {409, R"({"message":"Conflict. The container name \"/x\" is already in use"})",
       Code::kAlreadyExists},
      {500, R"({"message":"the container name \"x\" is already in use by 83c2"})",
       Code::kAlreadyExists},
      {409, R"({"message":"container is paused"})", Code::kConflict},
      {400, R"({"message":"bad parameter"})", Code::kInvalidArgument},
      {500, "plain text failure\n", Code::kInternal},
  };
  for (const Row& row : rows) {
    Status st = EngineError(row.http, "GET", "/containers/x/json", row.body);
    EXPECT_EQ(st.code(), row.code) << row.body;
    EXPECT_NE(st.message().find("HTTP " + std::to_string(row.http)), std::string::npos);
    EXPECT_EQ(st.message().find("\"cause\""), std::string::npos) << "only the message field";
  }
  EXPECT_NE(
      EngineError(500, "GET", "/x", "plain text failure\n").message().find("plain text failure"),
      std::string::npos);
}


TEST(ReadOomKillCountTest, ReadsV1AndV2) {
  quader::testing::TempDir root;
  namespace fs = std::filesystem;
  fs::create_directories(root.path() + "/proc/10");
  fs::create_directories(root.path() + "/proc/20");
  fs::create_directories(root.path() + "/cg/memory/libpod_parent/libpod-a");
  fs::create_directories(root.path() + "/cg/machine/ctr-b");
  std::ofstream(root.path() + "/proc/10/cgroup")
      << "5:devices:/libpod_parent/libpod-a\n4:memory:/libpod_parent/libpod-a\n"
         "0::/libpod_parent/libpod-a\n";
  std::ofstream(root.path() + "/cg/memory/libpod_parent/libpod-a/memory.oom_control")
      << "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
  std::ofstream(root.path() + "/proc/20/cgroup") << "0::/machine/ctr-b\n";
  std::ofstream(root.path() + "/cg/machine/ctr-b/memory.events")
      << "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n";
  std::string proc = root.path() + "/proc", cg = root.path() + "/cg";
  EXPECT_EQ(ReadOomKillCount(10, proc, cg), std::optional<int64_t>(2));
  EXPECT_EQ(ReadOomKillCount(20, proc, cg), std::optional<int64_t>(1));
  EXPECT_FALSE(ReadOomKillCount(30, proc, cg).has_value());
  EXPECT_FALSE(ReadOomKillCount(0, proc, cg).has_value());
}

}  // namespace
}  // namespace quader::runtime::docker
