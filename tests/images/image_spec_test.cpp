#include <gtest/gtest.h>

#include "images/build_spec.h"
#include "images/image_ref.h"

namespace quader::images {
namespace {

TEST(ImageRefTest, Table) {
  struct Row {
    const char* text;
    const char* name;  // nullptr: refused
    const char* tag;
  } rows[] = {
      {"python", "python", "latest"},                                   // tag defaults to latest
      {"quader/python:3.11", "quader/python", "3.11"},
      {"registry.example.com:5000/team/img:v1.2-rc_1", "registry.example.com:5000/team/img", "v1.2-rc_1"},
      {"localhost/quader-test:busybox", "localhost/quader-test", "busybox"},
      {"Bad Image!!", nullptr, nullptr},                                // spaces, punctuation
      {"Upper/case", nullptr, nullptr},                                 // path components are lower-case
      {"img:", nullptr, nullptr},                                       // empty tag
      {"img:bad/tag", nullptr, nullptr},                                // ':' before the last '/' is a port
      {"", nullptr, nullptr},
  };
  for (const Row& r : rows) {
    auto ref = ParseImageRef("ref", r.text);
    if (!r.name) {
      EXPECT_FALSE(ref.ok()) << r.text;
      if (!ref.ok()) EXPECT_EQ(ref.status().message().rfind("ref: \"", 0), 0u) << ref.status().message();
      continue;
    }
    ASSERT_TRUE(ref.ok()) << r.text << ": " << ref.status().ToString();
    EXPECT_EQ(ref->name, r.name);
    EXPECT_EQ(ref->tag, r.tag);
  }
}

TEST(BuildSpecTest, DockerfileBuildGetsItsFromLine) {
  auto spec = ParseBuildSpec(Json::parse(R"({"name": "b1", "image": "my/img:1", "from": "quader/python:3.11",
      "dockerfile": "RUN echo hi > /hello", "config": {"resource_memory": "8G", "resource_cpu": "4",
      "volume_mount": "ws(pvc):/mnt,data(hostpath):/data"}})"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->project, "public");
  EXPECT_EQ(spec->FullDockerfile(), "FROM quader/python:3.11\nRUN echo hi > /hello\n");
  EXPECT_EQ(spec->config.memory_bytes, 8LL << 30);
  EXPECT_DOUBLE_EQ(spec->config.cpu, 4);
  EXPECT_EQ(spec->config.mounts.size(), 2u);
  // Round trip through the stored form.
  auto again = ParseBuildSpec(spec->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), spec->ToJson());
}

TEST(BuildSpecTest, RefusalsNameTheField) {
  struct Row {
    const char* body;
    const char* message;
  } rows[] = {
      {R"({"image": "a:1", "from": "b"})", "name: is required"},
      {R"({"name": "x", "from": "b"})", "image: is required"},
      {R"({"name": "x", "image": "a:1", "dockerfile": "RUN true"})", "from: is required"},
      {R"({"name": "x", "image": "a:1", "from": "b", "commit": "nb"})", "commit: give either commit"},
      {R"({"name": "x", "image": "a:1", "from": "b", "colour": 1})", "colour: unknown field"},
      {R"({"name": "x", "image": "a:1", "from": "b", "config": {"resource_memory": "8X"}})", "config.resource_memory: \"8X\" is not a size"},
      {R"({"name": "x", "image": "a:1", "from": "b", "config": {"resource_cpu": "-1"}})", "config.resource_cpu: must be between"},
      {R"({"name": "x", "image": "a:1", "from": "b", "config": {"volume_mount": "a(nfs):/x"}})", "config.volume_mount[0]: unknown mount kind"},
      {R"({"name": "x", "image": "a:1", "from": "b", "config": {"gpu": 1}})", "config.gpu: unknown field"},
      {R"({"name": "x", "image": "a:1", "from": "b", "config": "{bad"})", "config: is not valid JSON"},
      {R"({"name": "x", "image": "A B", "from": "b"})", "image: \"A B\" is not an image reference"},
  };
  for (const Row& r : rows) {
    auto spec = ParseBuildSpec(Json::parse(r.body));
    ASSERT_FALSE(spec.ok()) << r.body;
    EXPECT_NE(spec.status().message().find(r.message), std::string::npos) << r.body << " -> " << spec.status().message();
  }
}

TEST(BuildSpecTest, CommitBuildAndDockerfileWithItsOwnFrom) {
  auto commit = ParseBuildSpec(Json::parse(R"({"name": "c", "image": "saved:1", "commit": "my-notebook"})"));
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  EXPECT_TRUE(commit->is_commit());
  auto own = ParseBuildSpec(Json::parse(R"({"name": "d", "image": "x:1", "dockerfile": "FROM debian\nRUN true\n"})"));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->FullDockerfile(), "FROM debian\nRUN true\n");
}

}  // namespace
}  // namespace quader::images
