#include "notebook/notebook_spec.h"

#include <gtest/gtest.h>

#include "auth/session_cache.h"

namespace quader::notebook {
namespace {

Result<NotebookSpec> Parse(const std::string& text) { return ParseNotebookSpec(Json::parse(text)); }

std::string ErrorOf(const std::string& text) {
  auto r = Parse(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

TEST(NotebookSpecTest, DefaultsByType) {
  auto j = Parse(R"({"name": "lab"})");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ("public", j->project);
  EXPECT_EQ("jupyter", j->type);
  EXPECT_EQ(kJupyterImage, j->image);
  auto v = Parse(R"({"name": "code", "type": "vscode", "project": "vision"})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(kVscodeImage, v->image);
  EXPECT_EQ("vision", v->project);
}

TEST(NotebookSpecTest, CubeStudioAliasesAndRoundTrip) {
  auto n = Parse(R"({"name": "gpu-lab", "ide_type": "theia", "images": "me/ide:2", "describe": "mine",
                     "resource_cpu": "2", "resource_memory": "4G", "resource_gpu": "1",
                     "env": "A=1\nB=two", "working_dir": "/mnt/alice/src",
                     "volume_mount": "kubeflow-user-workspace(pvc):/mnt2"})");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ("vscode", n->type);
  EXPECT_EQ("me/ide:2", n->image);
  EXPECT_EQ("mine", n->description);
  EXPECT_DOUBLE_EQ(2, n->resources.cpu);
  EXPECT_EQ(4LL << 30, n->resources.memory_bytes);
  EXPECT_DOUBLE_EQ(1, n->resources.gpu);
  EXPECT_EQ("two", n->env.at("B"));
  EXPECT_EQ(1u, n->mounts.size());
  // The stored form parses back to the same document.
  Json stored = n->ToJson();
  auto again = ParseNotebookSpec(stored);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << " " << stored.dump();
  EXPECT_EQ(stored, again->ToJson());
}

TEST(NotebookSpecTest, BadDocumentsNameTheField) {
  EXPECT_NE(std::string::npos, ErrorOf(R"({"type": "jupyter"})").find("name"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": "Lab"})").find("name"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": "9lab"})").find("letter"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": ")" + std::string(55, 'a') + R"("})").find("54"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": "lab", "type": "matlab"})").find("jupyter, vscode"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": "lab", "resource_cpu": 1, "resources": {"cpu": 2}})")
                                   .find("resource_cpu"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": "lab", "replicas": 2})").find("replicas"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": "lab", "image": 5})").find("image"));
  EXPECT_NE(std::string::npos, ErrorOf(R"({"name": "lab", "resources": {"memory": "much"}})").find("memory"));
  EXPECT_FALSE(ParseNotebookSpec(Json::array()).ok());
}

TEST(CookieValueTest, FindsTheNamedCookieOnly) {
  EXPECT_EQ("abc", auth::CookieValue("quader_session=abc", "quader_session"));
  EXPECT_EQ("abc", auth::CookieValue("x=1; quader_session=abc; y=2", "quader_session"));
  EXPECT_EQ("", auth::CookieValue("quader_session_old=abc", "quader_session"));
  EXPECT_EQ("", auth::CookieValue("xquader_session=abc", "quader_session"));
  EXPECT_EQ("", auth::CookieValue("", "quader_session"));
  EXPECT_EQ("", auth::CookieValue("quader_session", "quader_session"));
}

}  // namespace
}  // namespace quader::notebook
