#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "serving/service_spec.h"

namespace quader::serving {
namespace {

// The single document in `yaml`; fails the test when there is not exactly one.
Json Doc(const std::string& yaml) {
  auto docs = ParseDocuments(yaml);
  EXPECT_TRUE(docs.ok()) << docs.status().ToString();
  if (!docs.ok() || docs->size() != 1) {
    ADD_FAILURE() << "expected one document";
    return Json::object();
  }
  return (*docs)[0];
}

// `base` with `changes` merged over it (a null value removes the key).
Json With(Json base, const Json& changes) {
  base.merge_patch(changes);
  return base;
}

const Json kService = {{"kind", "Service"}, {"name", "pma"}, {"image", "phpmyadmin:5.2"}};
const Json kInference = {{"kind", "InferenceService"},
                         {"service_type", "serving"},
                         {"model_name", "resnet"},
                         {"model_version", "v2024.01.1"},
                         {"image", "quader/predict:1"}};

// ---------------------------------------------------------------- Service

TEST(ServiceSpecTest, AMinimalDocumentGetsTheDefaults) {
  auto s = ParseServiceSpec(kService);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->project, "public");
  EXPECT_EQ(s->name, "pma");
  EXPECT_EQ(s->description, "");
  EXPECT_EQ(s->container.image, "phpmyadmin:5.2");
  EXPECT_TRUE(s->container.command.empty());  // the image's entrypoint
  EXPECT_EQ(s->container.ports, std::vector<int>{80});
  EXPECT_EQ(s->replicas, 1);
  EXPECT_EQ(s->host, "");
  EXPECT_FALSE(s->health.has_value());
  EXPECT_EQ(s->expand, Json::object());
  EXPECT_DOUBLE_EQ(s->container.resources.cpu, 0);
}

TEST(ServiceSpecTest, AcceptsCubeStudioNamesAndFormats) {
  auto s = ParseServiceSpec(Doc(R"(
kind: Service
project: ml-team
name: redis-ui
label: Redis web UI
images: patrikx3/p3x-redis-ui:latest
command: cd /app && node server.js --port 7843
working_dir: /app
env: |
  REDIS_HOST=redis
  REDIS_PORT=6379
volume_mount: kubeflow-user-workspace(pvc):/mnt
node_selector: cpu=true;serving=true
ports: "7843, 8080"
replicas: "2"
resource_cpu: 2
resource_memory: 2G
resource_gpu: "0"
health: "shell:redis-cli ping"
expand: '{"status": "online"}'
)"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->project, "ml-team");
  EXPECT_EQ(s->description, "Redis web UI");
  EXPECT_EQ(s->container.image, "patrikx3/p3x-redis-ui:latest");
  // A string command is a shell command, as cube-studio runs it.
  EXPECT_EQ(s->container.command,
            (std::vector<std::string>{"sh", "-c", "cd /app && node server.js --port 7843"}));
  EXPECT_EQ(s->container.working_dir, "/app");
  EXPECT_EQ(s->container.env, (std::map<std::string, std::string>{{"REDIS_HOST", "redis"}, {"REDIS_PORT", "6379"}}));
  ASSERT_EQ(s->container.mounts.size(), 1u);
  EXPECT_EQ(s->container.mounts[0].mount_path, "/mnt");
  EXPECT_EQ(s->container.node_selector, (std::map<std::string, std::string>{{"cpu", "true"}, {"serving", "true"}}));
  EXPECT_EQ(s->container.ports, (std::vector<int>{7843, 8080}));
  EXPECT_EQ(s->replicas, 2);
  EXPECT_DOUBLE_EQ(s->container.resources.cpu, 2);
  EXPECT_EQ(s->container.resources.memory_bytes, 2LL << 30);
  EXPECT_DOUBLE_EQ(s->container.resources.gpu, 0);
  ASSERT_TRUE(s->health.has_value());
  EXPECT_EQ(s->health->kind, gateway::HealthSpec::Kind::kShell);
  EXPECT_EQ(s->health->command, "redis-cli ping");
  EXPECT_EQ(s->expand, Json({{"status", "online"}}));
}

TEST(ServiceSpecTest, PortsInEveryForm) {
  struct Row {
    Json ports;
    std::vector<int> want;
  } rows[] = {
      {80, {80}},                                  // one number
      {"80,8080", {80, 8080}},                     // cube-studio's comma string
      {"80;8080,", {80, 8080}},                    // ';' and a trailing separator
      {Json::array({7474, 7687}), {7474, 7687}},   // a list
      {Json::array({"5775", 16686}), {5775, 16686}},  // numbers as text in a list
      {nullptr, {80}},                             // null: the default
  };
  for (const Row& r : rows) {
    auto s = ParseServiceSpec(With(kService, {{"ports", r.ports}}));
    ASSERT_TRUE(s.ok()) << r.ports.dump() << ": " << s.status().ToString();
    EXPECT_EQ(s->container.ports, r.want) << r.ports.dump();
  }
}

TEST(ServiceSpecTest, RefusalsNameTheField) {
  struct Row {
    Json changes;
    const char* message;
  } rows[] = {
      {{{"colour", "red"}}, "colour: unknown field of a Service"},
      {{{"canary", "a:10%"}}, "canary: unknown field of a Service"},  // inference services only
      {{{"name", nullptr}}, "name: is required"},
      {{{"name", "Bad_Name"}}, "name: "},
      {{{"name", "3d-viewer"}}, "name: \"3d-viewer\" must start with a letter"},
      {{{"name", std::string(55, 'a')}}, "is longer than 54 characters"},
      {{{"project", "No Such"}}, "project: "},
      {{{"image", nullptr}}, "image: is required"},
      {{{"images", "x:1"}}, "images: is an alias of image; give only one of them"},
      {{{"label", "x"}, {"description", "y"}}, "label: is an alias of description"},
      {{{"resources", {{"cpu", 1}}}, {"resource_cpu", 2}}, "resource_cpu: is an alias of resources.cpu"},
      {{{"resource_memory", "2X"}}, "resources.memory: \"2X\" is not a size"},
      // ports: out of range, not numbers, repeated, too many, none, wrong type.
      {{{"ports", 0}}, "ports: port 0 is outside 1-65535"},
      {{{"ports", "80,70000"}}, "ports: port 70000 is outside 1-65535"},
      {{{"ports", "80,http"}}, "ports: \"http\" is not a port number"},
      {{{"ports", Json::array({80, -1})}}, "ports: port -1 is outside 1-65535"},
      {{{"ports", Json::array({80, 80.5})}}, "ports[1]: must be a port number"},
      {{{"ports", "80,8080,80"}}, "ports: port 80 is listed twice"},
      {{{"ports", "1,2,3,4,5,6,7,8,9,10,11"}}, "ports: at most 10 ports"},
      {{{"ports", ""}}, "ports: needs at least one port"},
      {{{"ports", Json::array()}}, "ports: needs at least one port"},
      {{{"ports", {{"http", 80}}}}, "ports: must be a list of port numbers"},
      {{{"replicas", 101}}, "replicas: must be between 0 and 100"},
      {{{"replicas", -1}}, "replicas: must be between 0 and 100"},
      {{{"replicas", "two"}}, "replicas: must be a whole number"},
      // health: the gateway's grammar.
      {{{"health", "8080"}}, "health: \"8080\" is not port:/path"},
      {{{"health", "80:health"}}, "health: path \"health\" must start with '/'"},
      {{{"health", "0:/"}}, "health: port 0 is outside 1-65535"},
      {{{"health", "shell:"}}, "health: shell: needs a command"},
      {{{"health", 80}}, "health: must be a string"},
      {{{"node_selector", "cpu"}}, "node_selector[0]: \"cpu\" is not key=value"},
      {{{"env", "A=1\nnot a pair"}}, "env (line 2): \"not a pair\" is not KEY=VALUE"},
      {{{"working_dir", "app"}}, "working_dir: \"app\" must be an absolute path"},
      {{{"volume_mount", "x(nfs):/x"}}, "volume_mount[0]: unknown mount kind"},
      {{{"expand", "[1]"}}, "expand: must be an object"},
      {{{"host", 80}}, "host: must be a string"},
  };
  for (const Row& r : rows) {
    auto s = ParseServiceSpec(With(kService, r.changes));
    ASSERT_FALSE(s.ok()) << r.changes.dump();
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find(r.message), std::string::npos)
        << r.changes.dump() << " -> " << s.status().message();
  }
  auto not_object = ParseServiceSpec(Json::array());
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.status().message(), "body: must be an object");
}

TEST(ServiceSpecTest, ToJsonRoundTrips) {
  auto s = ParseServiceSpec(With(kService, {{"label", "MySQL UI"},
                                            {"command", "apache2-foreground"},
                                            {"env", {{"PMA_HOST", "db"}}},
                                            {"ports", "80,8080"},
                                            {"node_selector", {{"gpu", "false"}}},
                                            {"resource_memory", "512M"},
                                            {"replicas", 0},
                                            {"host", "pma.service.local"},
                                            {"health", " 80:/index.php "},
                                            {"expand", {{"help_url", "https://x"}}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Json stored = s->ToJson();
  EXPECT_EQ(stored["kind"], "Service");
  EXPECT_EQ(stored["description"], "MySQL UI");
  EXPECT_EQ(stored["command"], Json::parse(R"(["sh", "-c", "apache2-foreground"])"));
  EXPECT_EQ(stored["ports"], Json::parse("[80, 8080]"));
  EXPECT_EQ(stored["resources"]["memory"], "512M");
  EXPECT_EQ(stored["health"], "80:/index.php");
  EXPECT_EQ(stored["replicas"], 0);
  auto again = ParseServiceSpec(stored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), stored);
  EXPECT_EQ(again->container.command, s->container.command);
  EXPECT_EQ(again->health->path, "/index.php");
}

TEST(ServiceSpecTest, HostsUnderTheWildcardDomain) {
  auto s = ParseServiceSpec(kService);
  ASSERT_TRUE(s.ok());
  auto hosts = ResolveHosts(*s, "service.local");
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  EXPECT_EQ(hosts->production, "pma.service.local");  // the default: $name.<domain>
  EXPECT_EQ(hosts->test, "");                         // no stages for internal services
  hosts = ResolveHosts(*s, "*.service.local");        // the wildcard spelled out
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->production, "pma.service.local");

  struct Row {
    const char* host;
    const char* domain;
    const char* want;  // production host, or nullptr when refused
    const char* message;
  } rows[] = {
      {"mysql.service.local", "service.local", "mysql.service.local", ""},
      {"http://MySQL.service.local:8080/ui", "service.local", "mysql.service.local", ""},  // URL form
      {"mysql.other.local", "service.local", nullptr, "host: \"mysql.other.local\" must end with the wildcard domain"},
      {"service.local", "service.local", nullptr, "must end with the wildcard domain *.service.local"},
      {"evilservice.local", "service.local", nullptr, "must end with the wildcard domain"},
      {"ftp://x.service.local", "service.local", nullptr, "host: scheme \"ftp\" is not http or https"},
      {"bad_host!.service.local", "service.local", nullptr, "is not a valid host name"},
      {"x.service.local", "", nullptr, "host: no wildcard domain is configured"},
      {"", "", nullptr, "host: no wildcard domain is configured"},
  };
  for (const Row& r : rows) {
    s->host = r.host;
    auto h = ResolveHosts(*s, r.domain);
    if (r.want) {
      ASSERT_TRUE(h.ok()) << r.host << ": " << h.status().ToString();
      EXPECT_EQ(h->production, r.want);
    } else {
      ASSERT_FALSE(h.ok()) << r.host;
      EXPECT_NE(h.status().message().find(r.message), std::string::npos) << r.host << " -> " << h.status().message();
    }
  }
}

// ------------------------------------------------------- InferenceService

TEST(InferenceServiceSpecTest, TheNamingRuleOfSpec8) {
  auto s = ParseInferenceServiceSpec(kInference);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "serving-resnet-2024011");
  // A given name must be that name.
  s = ParseInferenceServiceSpec(With(kInference, {{"name", "serving-resnet-2024011"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  s = ParseInferenceServiceSpec(With(kInference, {{"name", "resnet"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "name: \"resnet\" differs from \"serving-resnet-2024011\", the name "
            "$service_type-$model_name-$version_digits gives; omit name or write \"serving-resnet-2024011\"");
  // cube-studio model names may hold '/', ':' and '.': they become '-'.
  s = ParseInferenceServiceSpec(
      With(kInference, {{"service_type", "tfserving"}, {"model_name", "org/bert.base"}, {"model_version", "v1"},
                        {"model_path", "/mnt/admin/bert"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "tfserving-org-bert-base-1");
  EXPECT_EQ(s->model_name, "org/bert.base");  // kept as written (KUBEFLOW_MODEL_NAME)
}

TEST(InferenceServiceSpecTest, DefaultsPerServiceType) {
  auto s = ParseInferenceServiceSpec(kInference);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->project, "public");
  EXPECT_EQ(s->container.ports, std::vector<int>{80});
  EXPECT_EQ(s->min_replicas, 1);
  EXPECT_EQ(s->max_replicas, 1);
  EXPECT_TRUE(s->hpa.empty());
  EXPECT_FALSE(s->metrics.has_value());
  EXPECT_FALSE(s->health.has_value());
  EXPECT_TRUE(s->canary.empty());
  EXPECT_TRUE(s->shadow.empty());
  EXPECT_EQ(s->KeptPercent(), 100);

  auto tf = ParseInferenceServiceSpec(
      With(kInference, {{"service_type", "tfserving"}, {"model_path", "/mnt/admin/resnet/saved_model"}}));
  ASSERT_TRUE(tf.ok()) << tf.status().ToString();
  EXPECT_EQ(tf->name, "tfserving-resnet-2024011");
  EXPECT_EQ(tf->container.ports, std::vector<int>{8501});
  ASSERT_TRUE(tf->metrics.has_value());
  EXPECT_EQ(tf->metrics->port, 8501);
  EXPECT_EQ(tf->metrics->path, "/metrics");
  ASSERT_TRUE(tf->health.has_value());
  EXPECT_EQ(tf->health->port, 8501);
  EXPECT_EQ(tf->health->path, "/v1/models/resnet/versions/2024011/metadata");

  auto torch = ParseInferenceServiceSpec(
      With(kInference, {{"service_type", "torch-server"}, {"model_path", "https://models.example/resnet.mar"}}));
  ASSERT_TRUE(torch.ok()) << torch.status().ToString();
  EXPECT_EQ(torch->container.ports, (std::vector<int>{8080, 8081}));
  EXPECT_EQ(torch->metrics->port, 8082);
  EXPECT_EQ(torch->health->path, "/ping");

  auto triton = ParseInferenceServiceSpec(
      With(kInference, {{"service_type", "triton-server"}, {"model_path", "onnx:/mnt/admin/resnet.onnx"}}));
  ASSERT_TRUE(triton.ok()) << triton.status().ToString();
  EXPECT_EQ(triton->container.ports, (std::vector<int>{8000, 8002}));
  EXPECT_EQ(triton->health->path, "/v2/health/ready");

  // An explicit "" turns a type's default off; a given value replaces it.
  auto off = ParseInferenceServiceSpec(With(kInference, {{"service_type", "tfserving"},
                                                         {"model_path", "/mnt/m"},
                                                         {"health", ""},
                                                         {"metrics", "9090:/prom"},
                                                         {"ports", "9000"}}));
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->health.has_value());
  EXPECT_EQ(off->metrics->port, 9090);
  EXPECT_EQ(off->container.ports, std::vector<int>{9000});
}

TEST(InferenceServiceSpecTest, SplitAndMirror) {
  auto s = ParseInferenceServiceSpec(
      With(kInference, {{"canary", "serving-resnet-2024010:20%;serving-resnet-2023120:30"},
                        {"shadow", "serving-resnet-2025010:60%,serving-resnet-2025020:60%"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->canary, (std::map<std::string, int>{{"serving-resnet-2023120", 30}, {"serving-resnet-2024010", 20}}));
  EXPECT_EQ(s->KeptPercent(), 50);
  // Mirrors each get their own copy: their sum may pass 100.
  EXPECT_EQ(s->shadow, (std::map<std::string, int>{{"serving-resnet-2025010", 60}, {"serving-resnet-2025020", 60}}));
  // All of it split away is allowed (this service keeps 0%).
  s = ParseInferenceServiceSpec(With(kInference, {{"canary", "a:60%,b:40%"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->KeptPercent(), 0);
}

TEST(InferenceServiceSpecTest, AutoscalingOnlyWhenMinAndMaxDiffer) {
  auto s = ParseInferenceServiceSpec(
      With(kInference, {{"min_replicas", 2}, {"max_replicas", "5"}, {"hpa", "cpu=50%;mem:60"}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->min_replicas, 2);
  EXPECT_EQ(s->max_replicas, 5);
  EXPECT_EQ(s->hpa.cpu.value_or(-1), 50);
  EXPECT_EQ(s->hpa.mem.value_or(-1), 60);
  EXPECT_FALSE(s->hpa.gpu.has_value());
  EXPECT_EQ(s->ToJson()["hpa"], "cpu:50%,mem:60%");
  // max defaults to min: a fixed size, no autoscaler.
  s = ParseInferenceServiceSpec(With(kInference, {{"min_replicas", 3}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->max_replicas, 3);
  // A gpu target with whole GPUs.
  s = ParseInferenceServiceSpec(
      With(kInference, {{"max_replicas", 4}, {"hpa", "gpu:70%"}, {"resources", {{"gpu", 1}}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->hpa.gpu.value_or(-1), 70);
}

TEST(InferenceServiceSpecTest, RefusalsNameTheField) {
  struct Row {
    Json changes;
    const char* message;
  } rows[] = {
      {{{"colour", "red"}}, "colour: unknown field of an InferenceService"},
      {{{"replicas", 2}}, "replicas: unknown field of an InferenceService"},  // min/max_replicas instead
      {{{"model_status", "online"}}, "model_status: is set by the deploy actions (debug, test, prod)"},
      {{{"deploy_history", ""}}, "deploy_history: is set by the deploy actions"},
      {{{"service_type", "vllm-distributed"}}, "service_type: \"vllm-distributed\" is not one of serving, tfserving"},
      {{{"model_name", nullptr}}, "model_name: is required"},
      {{{"model_name", "ResNet"}}, "model_name: \"ResNet\" must match ^[a-z][a-z0-9./:-]*[a-z0-9]$"},
      {{{"model_name", "resnet-"}}, "model_name: \"resnet-\" must match"},
      {{{"model_name", std::string(55, 'm')}}, "model_name: "},
      {{{"model_name", std::string(40, 'm')}}, "is longer than 54 characters"},  // the whole name
      {{{"model_version", nullptr}}, "model_version: is required"},
      {{{"model_version", "V1"}}, "model_version: \"V1\" must match ^[a-z0-9_.-]+$"},
      {{{"model_version", "latest"}}, "model_version: \"latest\" has no digits"},
      {{{"service_type", "tfserving"}}, "model_path: is required for service_type tfserving"},
      {{{"model_path", "models/resnet"}}, "model_path: \"models/resnet\" must be a container path"},
      {{{"model_path", "ftp://x/m.zip"}}, "model_path: \"ftp://x/m.zip\" must be a container path"},
      {{{"model_path", "onnx:/mnt/m.onnx"}}, "model_path: \"onnx:/mnt/m.onnx\" must be"},  // prefix: triton only
      {{{"ports", "8080,8080"}}, "ports: port 8080 is listed twice"},
      {{{"ports", 65536}}, "ports: port 65536 is outside 1-65535"},
      // replicas and autoscaling
      {{{"min_replicas", 3}, {"max_replicas", 2}}, "max_replicas: 2 is below min_replicas 3"},
      {{{"min_replicas", 0}}, "min_replicas: must be between 1 and 100"},
      {{{"max_replicas", 101}}, "max_replicas: must be between 1 and 100"},
      {{{"hpa", "cpu:50%"}}, "hpa: has no effect when min_replicas equals max_replicas (1)"},
      {{{"max_replicas", 3}}, "hpa: is required when min_replicas < max_replicas"},
      {{{"max_replicas", 3}, {"hpa", "cpu:0%"}}, "hpa: 0% is outside 1-100"},
      {{{"max_replicas", 3}, {"hpa", "cpu:150%"}}, "hpa: 150% is outside 1-100"},
      {{{"max_replicas", 3}, {"hpa", "disk:50%"}}, "hpa: unknown metric \"disk\""},
      {{{"max_replicas", 3}, {"hpa", "cpu:50%,cpu:60%"}}, "hpa: metric \"cpu\" is named twice"},
      {{{"max_replicas", 3}, {"hpa", "cpu"}}, "hpa: \"cpu\" is not metric:percent"},
      {{{"max_replicas", 3}, {"hpa", "gpu:50%"}}, "hpa: a gpu target needs resources.gpu of at least 1"},
      {{{"max_replicas", 3}, {"hpa", "gpu:50%"}, {"resource_gpu", 0.5}}, "hpa: a gpu target needs resources.gpu"},
      // metrics and health
      {{{"metrics", "metrics"}}, "metrics: \"metrics\" is not port:/path"},
      {{{"metrics", "9090:metrics"}}, "metrics: path \"metrics\" must start with '/'"},
      {{{"metrics", "99999:/m"}}, "metrics: port 99999 is outside 1-65535"},
      {{{"health", "shell:"}}, "health: shell: needs a command"},
      {{{"health", "8080:/ health"}}, "health: path \"/ health\" contains spaces"},
      // split and mirror
      {{{"canary", "a:60%,b:50%"}}, "canary: percentages add up to 110%, over 100%"},
      {{{"canary", "a:101%"}}, "canary: 101% is outside 0-100"},
      {{{"canary", "a:-5%"}}, "canary: \"-5\" is not a percentage"},
      {{{"canary", "a"}}, "canary: \"a\" is not name:percent"},
      {{{"canary", "A_b:10%"}}, "canary: \"A_b\" is not a service name"},
      {{{"canary", "a:10%,a:20%"}}, "canary: service \"a\" is named twice"},
      {{{"canary", "serving-resnet-2024011:10%"}}, "canary: names this service itself (serving-resnet-2024011)"},
      {{{"shadow", "a:150%"}}, "shadow: 150% is outside 0-100"},
      {{{"shadow", "b:x%"}}, "shadow: \"x\" is not a percentage"},
      {{{"shadow", "serving-resnet-2024011:10%"}}, "shadow: names this service itself"},
      {{{"canary", Json::array({"a:10%"})}}, "canary: must be a string"},
  };
  for (const Row& r : rows) {
    auto s = ParseInferenceServiceSpec(With(kInference, r.changes));
    ASSERT_FALSE(s.ok()) << r.changes.dump();
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find(r.message), std::string::npos)
        << r.changes.dump() << " -> " << s.status().message();
  }
}

TEST(InferenceServiceSpecTest, ToJsonRoundTrips) {
  auto s = ParseInferenceServiceSpec(Doc(R"(
kind: InferenceService
project: ml-team
label: ResNet on torchserve
service_type: torch-server
model_name: resnet50
model_version: v2024.05.20.1
model_path: /mnt/admin/resnet50.mar
images: pytorch/torchserve:0.9.0-cpu
command: torchserve --start --foreground
env: |
  TS_NUMBER_OF_GPU=0
resource_cpu: 4
resource_memory: 8G
min_replicas: 1
max_replicas: 4
hpa: cpu:50%,mem:70%
host: resnet.service.local
canary: torch-server-resnet50-2024041:10%
shadow: torch-server-resnet50-2024061:100%
expand: {help_url: "https://example/help"}
)"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Json stored = s->ToJson();
  EXPECT_EQ(stored["kind"], "InferenceService");
  EXPECT_EQ(stored["name"], "torch-server-resnet50-202405201");
  EXPECT_EQ(stored["description"], "ResNet on torchserve");
  EXPECT_EQ(stored["image"], "pytorch/torchserve:0.9.0-cpu");
  EXPECT_EQ(stored["ports"], Json::parse("[8080, 8081]"));
  EXPECT_EQ(stored["metrics"], "8082:/metrics");
  EXPECT_EQ(stored["health"], "8080:/ping");
  EXPECT_EQ(stored["canary"], "torch-server-resnet50-2024041:10%");
  EXPECT_EQ(stored["shadow"], "torch-server-resnet50-2024061:100%");
  EXPECT_EQ(stored["resources"], Json::parse(R"({"cpu": 4, "memory": "8G", "gpu": 0})"));
  auto again = ParseInferenceServiceSpec(stored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), stored);
  EXPECT_EQ(again->name, s->name);
  EXPECT_EQ(again->canary, s->canary);
  EXPECT_EQ(again->hpa.mem.value_or(-1), 70);

  // With the defaults turned off, "" survives the round trip.
  auto bare = ParseInferenceServiceSpec(
      With(kInference, {{"service_type", "tfserving"}, {"model_path", "/mnt/m"}, {"health", ""}, {"metrics", ""}}));
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  auto bare_again = ParseInferenceServiceSpec(bare->ToJson());
  ASSERT_TRUE(bare_again.ok()) << bare_again.status().ToString();
  EXPECT_FALSE(bare_again->health.has_value());
  EXPECT_FALSE(bare_again->metrics.has_value());
  EXPECT_EQ(bare_again->ToJson(), bare->ToJson());
}

TEST(InferenceServiceSpecTest, ProductionTestAndDebugHosts) {
  auto s = ParseInferenceServiceSpec(kInference);
  ASSERT_TRUE(s.ok());
  auto hosts = ResolveHosts(*s, "service.local");
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  EXPECT_EQ(hosts->production, "serving-resnet-2024011.service.local");
  EXPECT_EQ(hosts->test, "test.serving-resnet-2024011.service.local");
  EXPECT_EQ(hosts->debug, "debug.serving-resnet-2024011.service.local");
  s->host = "https://resnet.service.local/v1/models/resnet";
  hosts = ResolveHosts(*s, "service.local");
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  EXPECT_EQ(hosts->production, "resnet.service.local");
  EXPECT_EQ(hosts->test, "test.resnet.service.local");
  s->host = "resnet.example.com";
  hosts = ResolveHosts(*s, "service.local");
  ASSERT_FALSE(hosts.ok());
  EXPECT_NE(hosts.status().message().find("host: \"resnet.example.com\" must end with the wildcard domain"),
            std::string::npos)
      << hosts.status().message();
}

// ------------------------------------------------------------- examples/

TEST(ServiceExamplesTest, EveryExampleIsAValidService) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(QUADER_SOURCE_DIR) / "examples/services";
  std::map<std::string, std::vector<int>> ports;  // name -> ports
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string file = entry.path().filename().string();
    if (file == "README.md") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto docs = ParseDocuments(text.str());
    ASSERT_TRUE(docs.ok()) << file << ": " << docs.status().ToString();
    ASSERT_EQ(docs->size(), 1u) << file;
    if (file == "iris-model.yaml.example") {  // the served model, not the catalogue
      EXPECT_EQ((*docs)[0].value("kind", ""), "InferenceService");
      auto inference = ParseInferenceServiceSpec((*docs)[0]);
      ASSERT_TRUE(inference.ok()) << file << ": " << inference.status().ToString();
      EXPECT_EQ(inference->name, "serving-iris-1");
      continue;  // served end to end by tests/e2e/model_serving_e2e_test.cpp
    }
    EXPECT_EQ((*docs)[0].value("kind", ""), "Service") << file;
    auto s = ParseServiceSpec((*docs)[0]);
    ASSERT_TRUE(s.ok()) << file << ": " << s.status().ToString();
    EXPECT_EQ(file, s->name + ".yaml.example");
    auto again = ParseServiceSpec(s->ToJson());
    ASSERT_TRUE(again.ok()) << file << ": " << again.status().ToString();
    EXPECT_EQ(again->ToJson(), s->ToJson()) << file;
    EXPECT_TRUE(ResolveHosts(*s, "service.local").ok()) << file;
    ports[s->name] = s->container.ports;
  }
  // The guide's catalogue (SPEC §7), web UI port first.
  EXPECT_EQ(ports, (std::map<std::string, std::vector<int>>{{"jaeger", {16686, 5775}},
                                                           {"mongo-express", {8081}},
                                                           {"neo4j", {7474, 7687}},
                                                           {"phpmyadmin", {80}},
                                                           {"redis-ui", {7843}}}));
}

TEST(ServiceExamplesTest, TheGuideVariablesAreThere) {
  namespace fs = std::filesystem;
  auto load = [](const std::string& file) {
    std::ifstream in(fs::path(QUADER_SOURCE_DIR) / "examples/services" / file);
    std::stringstream text;
    text << in.rdbuf();
    auto docs = ParseDocuments(text.str());
    EXPECT_TRUE(docs.ok() && docs->size() == 1) << file;
    auto s = ParseServiceSpec(docs.ok() && !docs->empty() ? (*docs)[0] : Json::object());
    EXPECT_TRUE(s.ok()) << file << ": " << s.status().ToString();
    return s.ok() ? s->container.env : std::map<std::string, std::string>{};
  };
  auto keys = [](const std::map<std::string, std::string>& env, const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& [k, v] : env) {
      if (k.rfind(prefix, 0) == 0) out.push_back(k);
    }
    return out;
  };
  EXPECT_EQ(keys(load("phpmyadmin.yaml.example"), "PMA_"),
            (std::vector<std::string>{"PMA_HOST", "PMA_PASSWORD", "PMA_PORT", "PMA_USER"}));
  EXPECT_EQ(keys(load("mongo-express.yaml.example"), "ME_CONFIG_").size(), 7u);
  EXPECT_EQ(keys(load("redis-ui.yaml.example"), "REDIS_"),
            (std::vector<std::string>{"REDIS_HOST", "REDIS_NAME", "REDIS_PASSWORD", "REDIS_PORT"}));
  EXPECT_EQ(load("neo4j.yaml.example").count("NEO4J_AUTH"), 1u);
}


// ---------------------------------------------------------------- host ownership

namespace hosts_test {

ServiceHosts Prod(const std::string& host) { return {host, "", ""}; }
ServiceHosts Staged(const std::string& host) { return {host, "test." + host, "debug." + host}; }

}  // namespace hosts_test

TEST(HostOwnershipTest, TheOldestClaimOwnsEveryHostOfItsService) {
  using hosts_test::Prod;
  using hosts_test::Staged;
  auto owners = HostOwners({{"pa", Staged("m.svc")}, {"pb", Prod("m.svc")}, {"pb", Prod("test.m.svc")},
                            {"pb", Prod("b.svc")}, {"pa", Prod("b.svc")}});
  EXPECT_EQ(owners, (std::map<std::string, std::string>{
                        {"m.svc", "pa"}, {"test.m.svc", "pa"}, {"debug.m.svc", "pa"}, {"b.svc", "pb"}}));
}

TEST(HostOwnershipTest, TakenHostNamesTheFirstHostAnotherProjectOwns) {
  using hosts_test::Prod;
  using hosts_test::Staged;
  const std::map<std::string, std::string> owners = {{"a.svc", "pa"}, {"test.b.svc", "pa"}, {"c.svc", "pb"}};
  struct Row {
    ServiceHosts hosts;
    std::string project;
    std::string taken;
    const char* why;
  } rows[] = {
      {Prod("a.svc"), "pa", "", "its own project's host is free to it (the newest service wins it)"},
      {Prod("a.svc"), "pb", "a.svc", "another project's production host"},
      {Staged("b.svc"), "pb", "test.b.svc", "a stage host counts as well"},
      {Prod("test.b.svc"), "pb", "test.b.svc", "a production host may not take another's stage host"},
      {Prod("new.svc"), "pb", "", "an unclaimed host is free"},
      {Prod("c.svc"), "pb", "", "pb owns c.svc"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(TakenHost(r.hosts, r.project, owners), r.taken) << r.why;
  }
}

TEST(HostOwnershipTest, AllHostsListsOnlyTheSetOnes) {
  EXPECT_EQ(AllHosts(hosts_test::Prod("a.svc")), std::vector<std::string>{"a.svc"});
  EXPECT_EQ(AllHosts(hosts_test::Staged("a.svc")),
            (std::vector<std::string>{"a.svc", "test.a.svc", "debug.a.svc"}));
}

}  // namespace
}  // namespace quader::serving
