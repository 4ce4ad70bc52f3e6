#include "images/build_controller.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "auth/auth_fixture.h"
#include "fakes/log_lines.h"
#include "store/projects.h"

namespace quader::images {
namespace {

// Records jobs; succeeds unless told to fail; can block until released.
class FakeBuilder final : public ImageBuilder {
 public:
  Status Build(const BuildJob& job, const std::function<void(std::string_view)>& log,
               const std::atomic<bool>& cancelled) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(job);
    }
    log("step 1/2\n");
    while (hold_ && !cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    log("step 2/2\n");
    if (fail_) return errors::Internal("the Dockerfile failed at step 2");
    return Status::Ok();
  }
  std::vector<BuildJob> jobs() {
    std::lock_guard<std::mutex> lock(mu_);
    return jobs_;
  }
  std::atomic<bool> fail_{false};
  std::atomic<bool> hold_{false};

 private:
  std::mutex mu_;
  std::vector<BuildJob> jobs_;
};

class BuildControllerTest : public auth::AuthFixture {
 protected:
  int64_t AddBuild(const std::string& name, const std::string& spec_json) {
    int64_t id = 0;
    EXPECT_TRUE(store_->Write([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(auto pub, store::GetProject(tx, "public"));
      store::ImageBuildRecord b;
      b.project_id = pub.id;
      b.name = name;
      b.spec = spec_json;
      b.state = "pending";
      b.created_by = "admin";
      QUADER_ASSIGN_OR_RETURN(b, store::InsertImageBuild(tx, b, now()));
      id = b.id;
      return Status::Ok();
    }).ok());
    return id;
  }

  store::ImageBuildRecord Build(int64_t id) {
    store::ImageBuildRecord b;
    EXPECT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(b, store::GetImageBuild(tx, id));
      return Status::Ok();
    }).ok());
    return b;
  }

  // Polls (with a deadline) until the build leaves pending/running.
  store::ImageBuildRecord WaitFinished(int64_t id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto b = Build(id);
      if (b.state == "succeeded" || b.state == "failed") return b;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "build " << id << " did not finish";
    return Build(id);
  }

  const std::string kSpec = R"({"name": "b1", "image": "team/img:1", "from": "quader/python:3.11",
      "dockerfile": "RUN true", "config": {"volume_mount": "ws(pvc):/mnt;4G(memory):/dev/shm", "resource_memory": "1G"}})";
  FakeBuilder builder_;
};

TEST_F(BuildControllerTest, SuccessfulBuildRecordsTheImageAndItsLog) {
  int64_t id = AddBuild("b1", kSpec);
  BuildController c(*store_, clock_, builder_, dir_.path());
  ASSERT_TRUE(c.Recover().ok());
  c.Start();
  c.Notify();
  auto b = WaitFinished(id);
  EXPECT_EQ(b.state, "succeeded") << b.reason;
  ASSERT_EQ(builder_.jobs().size(), 1u);
  BuildJob job = builder_.jobs()[0];
  EXPECT_EQ(job.image.str(), "team/img:1");
  EXPECT_EQ(job.dockerfile, "FROM quader/python:3.11\nRUN true\n");
  EXPECT_EQ(job.memory_bytes, 1LL << 30);
  ASSERT_EQ(job.mounts.size(), 2u);
  // A pvc at /mnt is the user's own /mnt/$username (workload/mounts.h): the same
  // host directory as the user's tasks and notebooks; the claim on a cluster.
  EXPECT_EQ(job.mounts[0].source, dir_.path() + "/users/admin/work");
  EXPECT_EQ(job.mounts[0].target, "/mnt/admin");
  EXPECT_EQ(job.mounts[0].claim, "ws");
  EXPECT_EQ(job.mounts[0].sub_path, "admin");
  EXPECT_EQ(job.mounts[1].kind, runtime::MountKind::kMemory);
  std::vector<store::ImageRecord> images;
  ASSERT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(images, store::ListImages(tx, {}, true));
    return Status::Ok();
  }).ok());
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].name, "team/img");
  EXPECT_EQ(images[0].source, "build");
  EXPECT_EQ(images[0].build_name, "b1");
  std::string log;
  ASSERT_TRUE(c.FollowLog(id, true, [&](std::string_view s) { log += s; return true; }).ok());
  // Each line stamped as the server wrote it (core/log_stamp.h).
  const std::string plain = quader::testing::Unstamped(log);
  EXPECT_NE(plain.find("step 1/2\nstep 2/2\n"), std::string::npos) << log;
  EXPECT_NE(plain.find("== done"), std::string::npos) << log;
}

TEST_F(BuildControllerTest, FailedBuildKeepsTheReasonAndRecordsNoImage) {
  builder_.fail_ = true;
  int64_t id = AddBuild("b1", kSpec);
  BuildController c(*store_, clock_, builder_, dir_.path());
  c.Start();
  c.Notify();
  auto b = WaitFinished(id);
  EXPECT_EQ(b.state, "failed");
  EXPECT_EQ(b.reason, "the Dockerfile failed at step 2");
  ASSERT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto images, store::ListImages(tx, {}, true));
    EXPECT_TRUE(images.empty());
    return Status::Ok();
  }).ok());
}

TEST_F(BuildControllerTest, FollowStreamsWhileRunningAndCancelStops) {
  builder_.hold_ = true;
  int64_t id = AddBuild("b1", kSpec);
  BuildController c(*store_, clock_, builder_, dir_.path());
  c.Start();
  c.Notify();
  std::string seen;
  std::atomic<bool> got_first{false};
  std::thread follower([&] {
    (void)c.FollowLog(id, true, [&](std::string_view s) {
      seen += s;
      if (seen.find("step 1/2") != std::string::npos) got_first = true;
      return true;
    });
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!got_first && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(got_first);                  // live: the build is still running
  EXPECT_EQ(Build(id).state, "running");
  c.Cancel(id);
  follower.join();                         // the follow ends when the build does
  EXPECT_EQ(Build(id).state, "failed");
  EXPECT_EQ(Build(id).reason, "cancelled");
}

TEST_F(BuildControllerTest, RecoverFailsBuildsInterruptedByARestart) {
  int64_t id = AddBuild("b1", kSpec);
  ASSERT_TRUE(store_->Write([&](store::Tx& tx) { return store::SetImageBuildState(tx, id, "pending", "running", "", now()); }).ok());
  BuildController c(*store_, clock_, builder_, dir_.path());
  ASSERT_TRUE(c.Recover().ok());
  auto b = Build(id);
  EXPECT_EQ(b.state, "failed");
  EXPECT_NE(b.reason.find("interrupted"), std::string::npos);
  EXPECT_TRUE(builder_.jobs().empty());
}

}  // namespace
}  // namespace quader::images
