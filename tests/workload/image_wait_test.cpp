// Work whose image is missing waits for it (workload/image_wait.h): it starts
// once the image exists, stops when asked, and fails after the limit.
#include "workload/image_wait.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fakes/fake_runtime.h"

namespace quader::workload {
namespace {

using namespace std::chrono_literals;
using quader::testing::FakeRuntime;

runtime::WorkloadSpec Spec(const std::string& image) {
  runtime::WorkloadSpec s;
  s.name = "w1";
  s.image = image;
  s.command = {"true"};
  return s;
}

TEST(StartWhenImageExistsTest, StartsOnceTheImageAppears) {
  FakeRuntime rt;
  rt.SetImageMissing("quader/python:3.11", true);
  std::vector<std::string> reasons;
  std::thread builder([&] {
    std::this_thread::sleep_for(300ms);
    rt.SetImageMissing("quader/python:3.11", false);  // the background build finished
  });
  auto started = StartWhenImageExists(
      rt, Spec("quader/python:3.11"), [] { return false; },
      [&](const std::string& reason) { reasons.push_back(reason); }, 10s, 50ms);
  builder.join();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_EQ(reasons.size(), 1u) << "told once";
  EXPECT_NE(reasons[0].find("waiting for image quader/python:3.11"), std::string::npos) << reasons[0];
  EXPECT_EQ(rt.started().size(), 1u);
}

TEST(StartWhenImageExistsTest, OtherErrorsAreNotWaitedFor) {
  FakeRuntime rt;
  rt.FailNextStart();
  bool told = false;
  auto started = StartWhenImageExists(
      rt, Spec("x:1"), [] { return false; }, [&](const std::string&) { told = true; }, 10s, 50ms);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), Code::kUnavailable);
  EXPECT_FALSE(told);
}

TEST(StartWhenImageExistsTest, StopsWhenAsked) {
  FakeRuntime rt;
  rt.SetImageMissing("never:1", true);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  auto started = StartWhenImageExists(rt, Spec("never:1"), [&] { return stop.load(); }, nullptr, 30s, 1s);
  stopper.join();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), Code::kConflict);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(StartWhenImageExistsTest, AMisspeltImageFailsAfterTheLimit) {
  FakeRuntime rt;
  rt.SetImageMissing("quader/pyton:3.11", true);
  auto started = StartWhenImageExists(rt, Spec("quader/pyton:3.11"), [] { return false; }, nullptr, 300ms, 50ms);
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(runtime::IsMissingImage(started.status())) << started.status().ToString();
  EXPECT_NE(started.status().message().find("waited"), std::string::npos) << started.status().ToString();
}

TEST(ImageWaitsTest, WaitsUntilTheLimitThenGivesUp) {
  ImageWaits waits(10min);
  auto t0 = std::chrono::system_clock::now();
  Status missing = runtime::MissingImage("quader/notebook:1", "no such image");
  EXPECT_NE(waits.Waiting("7", missing, t0).find("waiting for image quader/notebook:1"), std::string::npos);
  EXPECT_FALSE(waits.Waiting("7", missing, t0 + 9min).empty());
  EXPECT_TRUE(waits.Waiting("7", missing, t0 + 10min).empty()) << "the wait ran out: it fails";
  EXPECT_TRUE(waits.Waiting("8", errors::Unavailable("engine down"), t0).empty());
  waits.Clear("7");
  EXPECT_FALSE(waits.Waiting("7", missing, t0 + 11min).empty()) << "a new wait after a start";
}

}  // namespace
}  // namespace quader::workload
