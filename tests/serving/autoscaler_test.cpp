// The autoscaler's decisions: Kubernetes HPA arithmetic, tolerance, the
// scale-up limit, scale-down stabilization and the min/max clamp.
#include "serving/autoscaler.h"

#include <gtest/gtest.h>

namespace quader::serving {
namespace {

gateway::HpaSpec Cpu(int target) {
  gateway::HpaSpec h;
  h.cpu = target;
  return h;
}

UtilizationSample CpuSample(int ready, double percent) {
  UtilizationSample s;
  s.ready = ready;
  s.cpu_percent = percent;
  return s;
}

TEST(AutoscalerTest, ScalesUpByTheRatioOfUseToTarget) {
  Autoscaler a;
  // 2 replicas at 150% of a 50% target: ceil(2 × 3) = 6.
  ScaleDecision d = a.Decide(0, 2, 1, 10, Cpu(50), CpuSample(2, 150));
  EXPECT_EQ(d.replicas, 6);
  EXPECT_NE(d.reason.find("cpu 150% of 50% target on 2 replicas: 2 → 6"), std::string::npos) << d.reason;
}

TEST(AutoscalerTest, ScaleUpIsLimitedAndClampedToMax) {
  Autoscaler a;
  // 1 replica at 1000%: at most max(2, 1 + 4) = 5 per step.
  EXPECT_EQ(a.Decide(0, 1, 1, 20, Cpu(10), CpuSample(1, 1000)).replicas, 5);
  Autoscaler b;
  EXPECT_EQ(b.Decide(0, 1, 1, 3, Cpu(10), CpuSample(1, 1000)).replicas, 3);
}

TEST(AutoscalerTest, WithinToleranceNothingChanges) {
  Autoscaler a;
  ScaleDecision d = a.Decide(0, 4, 1, 10, Cpu(50), CpuSample(4, 54));
  EXPECT_EQ(d.replicas, 4);
  EXPECT_TRUE(d.reason.empty());
  EXPECT_EQ(a.Decide(1000, 4, 1, 10, Cpu(50), CpuSample(4, 56)).replicas, 5);  // ceil(4 × 1.12)
}

TEST(AutoscalerTest, ScaleDownWaitsForTheStabilizationWindow) {
  AutoscalerOptions o;
  o.scale_down_window_ms = 10'000;
  Autoscaler a(o);
  EXPECT_EQ(a.Decide(0, 4, 1, 10, Cpu(50), CpuSample(4, 50)).replicas, 4);
  // Idle from t=1s: the 4 recommended at t=0 holds until it leaves the window.
  EXPECT_EQ(a.Decide(1000, 4, 1, 10, Cpu(50), CpuSample(4, 0)).replicas, 4);
  EXPECT_EQ(a.Decide(9000, 4, 1, 10, Cpu(50), CpuSample(4, 0)).replicas, 4);
  ScaleDecision d = a.Decide(10'500, 4, 1, 10, Cpu(50), CpuSample(4, 0));
  EXPECT_EQ(d.replicas, 1);
  EXPECT_NE(d.reason.find("4 → 1"), std::string::npos) << d.reason;
}

TEST(AutoscalerTest, TheHighestMetricWinsAndMissingOnesAreSkipped) {
  gateway::HpaSpec h;
  h.cpu = 50;
  h.mem = 50;
  UtilizationSample s;
  s.ready = 2;
  s.cpu_percent = 25;   // wants 1
  s.mem_percent = 100;  // wants 4
  Autoscaler a;
  ScaleDecision d = a.Decide(0, 2, 1, 8, h, s);
  EXPECT_EQ(d.replicas, 4);
  EXPECT_NE(d.reason.find("mem"), std::string::npos) << d.reason;
  UtilizationSample none;
  none.ready = 2;
  EXPECT_EQ(Autoscaler().Decide(0, 2, 1, 8, h, none).replicas, 2);  // nothing measured
}

TEST(AutoscalerTest, ACountOutsideTheRangeIsBroughtBackAtOnce) {
  Autoscaler a;
  ScaleDecision d = a.Decide(0, 7, 2, 5, Cpu(50), CpuSample(7, 50));
  EXPECT_EQ(d.replicas, 5);
  EXPECT_EQ(Autoscaler().Decide(0, 1, 2, 5, Cpu(50), CpuSample(1, 0)).replicas, 2);
}

runtime::WorkloadStats Stats(double cores, int64_t memory, std::optional<double> gpu = std::nullopt) {
  runtime::WorkloadStats w;
  w.cpu_cores = cores;
  w.memory_bytes = memory;
  w.memory_limit_bytes = 1000;
  w.gpu_percent = gpu;
  return w;
}

TEST(SampleOfTest, AveragesOverTheReplicasInPercentOfTheirRequest) {
  UtilizationSample s = SampleOf({Stats(0.5, 200), Stats(1.5, 600)}, 2.0, 0);
  EXPECT_EQ(s.ready, 2);
  EXPECT_DOUBLE_EQ(*s.cpu_percent, 50.0);  // 2 cores of 4 asked
  EXPECT_DOUBLE_EQ(*s.mem_percent, 40.0);  // 800 of the limits' 2000
  EXPECT_FALSE(s.gpu_percent.has_value());
  EXPECT_FALSE(SampleOf({}, 1.0, 0).cpu_percent.has_value());
}

TEST(SampleOfTest, GpuOnlyWhenEveryReplicaReportsIt) {
  EXPECT_DOUBLE_EQ(*SampleOf({Stats(1, 1, 80), Stats(1, 1, 40)}, 1, 0).gpu_percent, 60.0);
  EXPECT_FALSE(SampleOf({Stats(1, 1, 80), Stats(1, 1)}, 1, 0).gpu_percent.has_value());
}

// The guide's `cpu:50%,mem:%50,gpu:50%`: gpu acts where GPU use is measured.
TEST(AutoscalerTest, AGpuTargetActsWhereGpuUseIsMeasured) {
  auto hpa = gateway::ParseHpa("cpu:50%,mem:%50,gpu:50%");
  ASSERT_TRUE(hpa.ok()) << hpa.status().ToString();
  // CPU and memory are idle; the GPUs are at 150% of the target.
  UtilizationSample s = SampleOf({Stats(0.1, 100, 75), Stats(0.1, 100, 75)}, 1.0, 0);
  ScaleDecision d = Autoscaler().Decide(0, 2, 1, 10, *hpa, s);
  EXPECT_EQ(d.replicas, 3);
  EXPECT_NE(d.reason.find("gpu 75% of 50% target on 2 replicas: 2 → 3"), std::string::npos) << d.reason;
  // Unmeasured, the gpu target has nothing to say: idle CPU and memory rule.
  UtilizationSample blind = SampleOf({Stats(0.1, 100), Stats(0.1, 100)}, 1.0, 0);
  EXPECT_EQ(Autoscaler().Decide(0, 2, 1, 10, *hpa, blind).replicas, 1);
}

}  // namespace
}  // namespace quader::serving
