// What a stored service asks for (serving/service_plan.h): the stage of an
// internal service taken offline by a newer one on its host, and the
// KUBEFLOW_AREA the server is configured with.
#include "serving/service_plan.h"

#include <gtest/gtest.h>

namespace quader::serving {
namespace {

store::ServiceRecord Record(const std::string& kind, const Json& spec, const std::string& stage) {
  store::ServiceRecord s;
  s.id = 3;
  s.project = "public";
  s.kind = kind;
  s.name = spec.value("name", "");
  s.spec = spec.dump();
  s.stage = stage;
  return s;
}

const Json kInference = {{"kind", "InferenceService"}, {"service_type", "serving"}, {"model_name", "resnet"},
                         {"model_version", "v2024.01.1"}, {"image", "quader/predict:1"}};
const Json kService = {{"kind", "Service"}, {"name", "pma"}, {"image", "phpmyadmin:5.2"}, {"replicas", 2}};

TEST(ServicePlanTest, KubeflowAreaIsTheServersSetting) {
  auto local = PlanOf(Record("InferenceService", kInference, store::kStageOnline), "service.localhost");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(local->model_env.at("KUBEFLOW_AREA"), "local");
  auto set = PlanOf(Record("InferenceService", kInference, store::kStageOnline), "service.localhost", "beijing");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->model_env.at("KUBEFLOW_AREA"), "beijing");
}

TEST(ServicePlanTest, AnInternalServiceTakenOfflineWantsNoReplicas) {
  auto online = PlanOf(Record("Service", kService, store::kStageOnline), "service.localhost");
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  EXPECT_EQ(online->replicas, 2);
  EXPECT_EQ(online->stage, store::kStageOnline);
  auto offline = PlanOf(Record("Service", kService, store::kStageOffline), "service.localhost");
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  EXPECT_EQ(offline->replicas, 0);
  EXPECT_EQ(offline->stage, store::kStageOffline);
  EXPECT_EQ(offline->hosts.production, "pma.service.localhost");
}

}  // namespace
}  // namespace quader::serving
