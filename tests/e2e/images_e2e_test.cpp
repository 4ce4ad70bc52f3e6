// Images and image builds through the real server. The server runs with
// --runtime process (no container engine), so builds must fail with a reason
// that says an engine is needed; builds with a real engine are tested in
// the docker runtime's end-to-end test.
#include <gtest/gtest.h>

#include <thread>

#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

class ImagesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    ASSERT_FALSE(admin_.empty());
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token = "") {
    return CallJson(*server_, method, path, body, status, token.empty() ? admin_ : token);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(ImagesE2ETest, RegisterListAndHideFromNonMembers) {
  Json img = Call("POST", "/api/v1/images", R"({"ref": "python:3.11-slim", "description": "slim"})", 201);
  EXPECT_EQ(img["ref"], "python:3.11-slim");
  EXPECT_EQ(img["source"], "registry");
  EXPECT_EQ(img["project"], "public");
  Json again = Call("POST", "/api/v1/images", R"({"ref": "python:3.11-slim"})", 409);
  EXPECT_EQ(again["error"]["code"], "already_exists");
  Json bad = Call("POST", "/api/v1/images", R"({"ref": "Bad Image!!"})", 400);
  EXPECT_NE(bad["error"]["message"].get<std::string>().find("ref: \"Bad Image!!\" is not an image reference"), std::string::npos);

  Call("POST", "/api/v1/projects", R"({"name": "secret"})", 201);
  Json hidden = Call("POST", "/api/v1/images", R"({"project": "secret", "ref": "team/private:1"})", 201);
  Call("POST", "/api/v1/users", R"({"username": "bob", "password": "password-bob"})", 201);
  std::string bob = server_->Login("bob", "password-bob");
  Json list = Call("GET", "/api/v1/images", "", 200, bob);
  ASSERT_EQ(list["items"].size(), 1u);  // public's, not secret's
  EXPECT_EQ(list["items"][0]["ref"], "python:3.11-slim");
  Call("GET", "/api/v1/images/" + std::to_string(hidden["id"].get<int64_t>()), "", 404, bob);
  Call("GET", "/api/v1/images?project=secret", "", 404, bob);
  // A public image is changed only by its creator (here the admin) or an admin.
  Json denied = Call("PUT", "/api/v1/images/" + std::to_string(img["id"].get<int64_t>()), R"({"description": "mine"})", 403, bob);
  EXPECT_NE(denied["error"]["message"].get<std::string>().find("only its creator or an admin"), std::string::npos);
  Json updated = Call("PUT", "/api/v1/images/" + std::to_string(img["id"].get<int64_t>()), R"({"description": "new"})", 200);
  EXPECT_EQ(updated["description"], "new");
  Call("DELETE", "/api/v1/images/" + std::to_string(hidden["id"].get<int64_t>()), "", 200);
  Call("GET", "/api/v1/images/" + std::to_string(hidden["id"].get<int64_t>()), "", 404);
}

TEST_F(ImagesE2ETest, BuildWithoutAnEngineFailsWithAReasonAndAStreamedLog) {
  Json b = Call("POST", "/api/v1/image-builds",
                R"({"name": "b1", "image": "team/img:1", "from": "quader/python:3.11", "dockerfile": "RUN true",
                    "config": {"resource_memory": "1G", "resource_cpu": "1"}})", 201);
  EXPECT_EQ(b["state"], "pending");
  std::string id = std::to_string(b["id"].get<int64_t>());
  // Following the log returns once the build is over, with everything it wrote.
  auto log = server_->Call("GET", "/api/v1/image-builds/" + id + "/logs?follow=1", "", admin_);
  EXPECT_EQ(log.status, 200);
  EXPECT_EQ(log.headers["transfer-encoding"], "chunked");
  EXPECT_NE(log.body.find("no container engine"), std::string::npos) << log.body;
  Json done = Call("GET", "/api/v1/image-builds/" + id, "", 200);
  EXPECT_EQ(done["state"], "failed");
  EXPECT_NE(done["reason"].get<std::string>().find("need Podman or Docker"), std::string::npos) << done;
  EXPECT_EQ(Call("GET", "/api/v1/images", "", 200)["items"].size(), 0u);  // no image recorded
  Call("POST", "/api/v1/image-builds", R"({"name": "b1", "image": "x:1", "from": "y"})", 409);
  Json refused = Call("POST", "/api/v1/image-builds", R"({"name": "b2", "image": "x:1", "from": "y", "config": {"resource_memory": "8X"}})", 400);
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("config.resource_memory"), std::string::npos);
  Call("DELETE", "/api/v1/image-builds/" + id, "", 200);
  Call("GET", "/api/v1/image-builds/" + id + "/logs", "", 404);
  // Saving a running workload as an image needs an engine: refused by name
  // when asked for, by POST and by apply alike, and nothing is recorded.
  Json commit = Call("POST", "/api/v1/image-builds", R"({"name": "c1", "image": "x:1", "commit": "some-task"})", 400);
  EXPECT_EQ(commit["error"]["message"].get<std::string>().rfind("commit: a commit build", 0), 0u) << commit;
  auto applied = server_->Call("POST", "/api/v1/apply",
                               R"({"kind": "ImageBuild", "name": "c2", "image": "x:1", "commit": "some-task"})", admin_);
  EXPECT_EQ(applied.status, 400) << applied.body;
  EXPECT_NE(applied.body.find("needs a container engine"), std::string::npos) << applied.body;
  EXPECT_EQ(Call("GET", "/api/v1/image-builds", "", 200)["items"].size(), 0u);
}

TEST_F(ImagesE2ETest, MembersMountOnlyWhatTheirProjectOffers) {
  Call("POST", "/api/v1/projects", R"({"name": "team", "expand": {"volume_mount": "ws(pvc):/mnt;data/shared(hostpath):/shared"}})", 201);
  Call("POST", "/api/v1/users", R"({"username": "bob", "password": "password-bob"})", 201);
  Call("POST", "/api/v1/projects/team/members", R"({"username": "bob"})", 201);
  std::string bob = server_->Login("bob", "password-bob");
  Json denied = Call("POST", "/api/v1/image-builds",
                     R"({"project": "team", "name": "b", "image": "x:1", "from": "y", "config": {"volume_mount": "ws(pvc):/mnt;/etc(hostpath):/host-etc"}})",
                     403, bob);
  EXPECT_EQ(denied["error"]["message"], "config.volume_mount[1]: \"/etc\" is not among the mounts of project \"team\"; "
                                        "an admin can add it to the project's expand");
  EXPECT_EQ(Call("GET", "/api/v1/image-builds?project=team", "", 200, bob)["items"].size(), 0u);  // nothing recorded
  Call("POST", "/api/v1/image-builds",
       R"({"project": "team", "name": "b", "image": "x:1", "from": "y", "config": {"volume_mount": "ws(pvc):/mnt;data/shared(hostpath):/data;1G(memory):/dev/shm"}})",
       201, bob);
}

TEST_F(ImagesE2ETest, ImageBuildDocumentsApplyIdempotently) {
  std::string doc = "kind: ImageBuild\nname: doc-build\nimage: team/doc:1\nfrom: quader/python:3.11\n"
                    "dockerfile: |\n  RUN echo hello > /hello\nconfig:\n  resource_memory: 2G\n";
  Json first = Call("POST", "/api/v1/apply", doc, 200);
  EXPECT_EQ(first["results"][0]["action"], "created");
  EXPECT_EQ(first["results"][0]["project"], "public");
  Json second = Call("POST", "/api/v1/apply", doc, 200);
  EXPECT_EQ(second["results"][0]["action"], "unchanged");
  Json bad = Call("POST", "/api/v1/apply", "kind: ImageBuild\nname: x\nimage: y:1\n", 400);
  EXPECT_EQ(bad["error"]["message"], "document 1 (ImageBuild \"x\"): from: is required: name the base image, or give a "
                                     "dockerfile with a FROM line (or use commit to save a running workload)");
}

}  // namespace
}  // namespace quader::testing
