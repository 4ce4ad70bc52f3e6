#include "auth/expand.h"

#include <gtest/gtest.h>

namespace quader::auth {
namespace {

// Rows of (expand JSON, expected ok, message fragment), each with why.
struct Row {
  const char* expand;
  bool ok;
  const char* fragment;
};

TEST(ParseExpandTest, Table) {
  const Row rows[] = {
      {R"({})", true, ""},                                                  // empty is fine
      {R"("")", true, ""},                                                  // empty string too
      {R"("{\"cluster\": \"dev\"}")", true, ""},                          // JSON inside a string
      {R"({"cluster": "dev", "node_selector": "org=public"})", true, ""},  // the guide's examples
      {R"({"volume_mount": "kubeflow-user-workspace(pvc):/mnt/;data/aidata(hostpath):/aidata;4G(memory):/dev/shm"})", true, ""},
      {R"({"volume_mount": "a(pvc):/mnt,b(pvc):/archives"})", true, ""},  // ',' separates too
      {R"({"SERVICE_EXTERNAL_IP": "10.1.2.3"})", true, ""},
      {R"({"SERVICE_EXTERNAL_IP": ["10.1.2.3", "::1"]})", true, ""},
      {R"("{not json")", false, "expand: is not valid JSON"},
      {R"([1])", false, "expand: must be a JSON object"},
      {R"({"colour": "red"})", false, "expand.colour: unknown setting"},
      {R"({"cluster": 5})", false, "expand.cluster: must be a string"},
      {R"({"cluster": "Dev!"})", false, "is not a valid cluster name"},
      {R"({"node_selector": "org"})", false, "expand.node_selector[0]: \"org\" is not key=value"},
      {R"({"node_selector": "a=1,a=2"})", false, "label \"a\" given twice"},
      {R"({"volume_mount": "x(nfs):/data"})", false, "expand.volume_mount[0]: unknown mount kind \"nfs\""},
      {R"({"volume_mount": "a(pvc):/mnt;b(pvc):data"})", false, "expand.volume_mount[1]: mount path \"data\" must be absolute"},
      {R"({"volume_mount": "just-a-path"})", false, "is not SOURCE(KIND):PATH"},
      {R"({"volume_mount": "lots(memory):/dev/shm"})", false, "is not a size"},
      {R"({"volume_mount": "../etc(hostpath):/x"})", false, "must not contain .."},
      {R"({"volume_mount": "a(pvc):/mnt;b(pvc):/mnt"})", false, "mounted twice"},
      {R"({"volume_mount": "Big_Vol(pvc):/mnt"})", false, "volume name"},
      {R"({"volume_mount": "a..b(pvc):/mnt"})", false, "volume name"},
      {R"({"volume_mount": "a.-b(pvc):/mnt"})", false, "volume name"},
      {R"({"volume_mount": "team.ws-1(pvc):/mnt"})", true, ""},
      {R"({"SERVICE_EXTERNAL_IP": "10.1.2"})", false, "\"10.1.2\" is not an IP address"},
      {R"({"SERVICE_EXTERNAL_IP": 7})", false, "must be an IP address or a list"},
  };
  for (const Row& row : rows) {
    auto r = ParseExpand(Json::parse(row.expand));
    EXPECT_EQ(r.ok(), row.ok) << row.expand << " -> " << r.status().ToString();
    if (!row.ok) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
      EXPECT_NE(r.status().message().find(row.fragment), std::string::npos)
          << row.expand << " -> " << r.status().message();
    }
  }
}

TEST(ParseExpandTest, TypedSettings) {
  Json normalized;
  auto s = ParseExpand(Json::parse(R"({
      "cluster": "dev", "node_selector": "org=public, gpu=a100",
      "volume_mount": "ws(pvc):/mnt/; data/aidata(hostpath):/aidata; 4G(memory):/dev/shm",
      "SERVICE_EXTERNAL_IP": "10.0.0.1|10.0.0.2"})"), &normalized);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->cluster, "dev");
  EXPECT_EQ(s->node_selector.at("org"), "public");
  EXPECT_EQ(s->node_selector.at("gpu"), "a100");
  ASSERT_EQ(s->volume_mounts.size(), 3u);
  EXPECT_EQ(s->volume_mounts[0].kind, MountKind::kPvc);
  EXPECT_EQ(s->volume_mounts[0].source, "ws");
  EXPECT_EQ(s->volume_mounts[0].mount_path, "/mnt/");
  EXPECT_EQ(s->volume_mounts[1].kind, MountKind::kHostPath);
  EXPECT_EQ(s->volume_mounts[1].source, "data/aidata");
  EXPECT_EQ(s->volume_mounts[2].kind, MountKind::kMemory);
  EXPECT_EQ(s->volume_mounts[2].size_bytes, 4LL * 1024 * 1024 * 1024);
  EXPECT_EQ(s->external_ips, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_TRUE(normalized.is_object());
}

TEST(ParseMemorySizeTest, Units) {
  EXPECT_EQ(ParseMemorySize("m", "512M").value(), 512LL * 1024 * 1024);
  EXPECT_EQ(ParseMemorySize("m", "10Gi").value(), 10LL * 1024 * 1024 * 1024);
  EXPECT_EQ(ParseMemorySize("m", "1.5G").value(), 1536LL * 1024 * 1024);
  EXPECT_EQ(ParseMemorySize("m", "2048").value(), 2048);
  EXPECT_FALSE(ParseMemorySize("m", "0").ok());
  EXPECT_FALSE(ParseMemorySize("m", "G").ok());
  // More digits than a double holds (fuzz/expand_fuzz.cpp: std::stod threw out_of_range).
  auto huge = ParseMemorySize("m", "9999999999" + std::string(400, '0'));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("out of range"), std::string::npos);
  EXPECT_FALSE(ParseMemorySize("m", std::string(400, '9') + ".5Ti").ok());
}

}  // namespace
}  // namespace quader::auth
