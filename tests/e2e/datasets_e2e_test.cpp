// Data sets (docs/datasets.md) against the real server on the process
// runtime: files uploaded as the request body stream into the store (the
// server's memory stays flat), become a version with checksums, preview and
// download; a task names a version and reads it read-only at /datasets/NAME,
// which is recorded as lineage; a version running work reads is not
// deleted; strangers see nothing and bad requests change nothing.

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/http_client.h"
#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr const char* kPipeline = R"yaml(
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \"$SCRIPT\""]
---
kind: Pipeline
name: reader
tasks:
  - name: read
    template: shell
    datasets: [iris]
    env:
      SCRIPT: >-
        wc -l < /datasets/iris/iris.csv && echo "named $QUADER_DATASETS" &&
        (touch /datasets/iris/planted 2>/dev/null && echo WROTE || echo read-only) &&
        mkdir -p /outputs/clean && head -3 /datasets/iris/iris.csv > /outputs/clean/head.csv &&
        sleep "${HOLD:-0}"
)yaml";

// The server's memory (KiB) from /proc: field "VmRSS" or "VmHWM".
int64_t ServerMemoryKib(const std::string& data_dir, const std::string& field) {
  Json server = Json::parse(ReadFile(data_dir + "/server.json"), nullptr, false);
  if (!server.is_object()) return -1;
  std::ifstream in("/proc/" + std::to_string(server.value("pid", 0)) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

class DatasetsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{"--runtime", "process"});
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", "admin-pass-1");
    Call("POST", "/api/v1/users", R"({"username": "eve", "password": "password-eve"})", 201);
    eve_ = server_->Login("eve", "password-eve");
  }

  Json Call(const std::string& method, const std::string& path, const std::string& body, int status,
            const std::string& token = "") {
    return CallJson(*server_, method, path, body, status, token.empty() ? admin_ : token);
  }
  // Uploads the file `local` to data set `dataset` as `path`.
  cli::HttpReply Upload(const std::string& dataset, const std::string& path, const std::string& local,
                        const std::string& token = "") {
    int fd = open(local.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0) << local;
    const int64_t size = static_cast<int64_t>(fs::file_size(local));
    auto r = cli::HttpUploadRequest("POST", server_->api() + "/api/v1/datasets/" + dataset + "/uploads?path=" + path,
                                    {{"Authorization", "Bearer " + (token.empty() ? admin_ : token)}}, fd, size,
                                    nullptr);
    close(fd);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : cli::HttpReply{};
  }
  std::string WriteLocal(const std::string& name, const std::string& content) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << content;
    return path;
  }
  Json WaitForRun(int64_t id, const std::string& until = "") {
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    Json r;
    while (steady_clock::now() < deadline) {
      r = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200);
      const std::string state = r.value("state", "");
      if (until.empty() ? (state == "failed" || state == "succeeded" || state == "stopped") : state == until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }
  // An iris-like CSV with a header and 150 rows, as version 1 of `iris`.
  void MakeIris() {
    std::string csv = "sepal_length,sepal_width,species\n";
    for (int i = 0; i < 150; ++i) csv += std::to_string(4 + i % 4) + ".5," + std::to_string(i % 3) + ",setosa\n";
    iris_csv_ = csv;
    Call("POST", "/api/v1/datasets", R"({"name": "iris", "description": "flowers"})", 201);
    auto up = Upload("iris", "iris.csv", WriteLocal("iris.csv", csv));
    ASSERT_EQ(up.status, 201) << up.body;
    Json v = Call("POST", "/api/v1/datasets/iris/versions", R"({"uploads": "all", "description": "first"})", 201);
    ASSERT_EQ(v["version"], 1);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_, eve_;
  std::string iris_csv_;
};

TEST_F(DatasetsE2ETest, UploadedFilesBecomeAVersionWithPreviewAndCheckedDownloads) {
  MakeIris();
  Json v = Call("GET", "/api/v1/datasets/iris/versions/1", "", 200);
  EXPECT_EQ(v["ref"], "iris@1");
  EXPECT_EQ(v["file_count"], 1);
  EXPECT_EQ(v["size_bytes"], static_cast<int64_t>(iris_csv_.size()));
  EXPECT_EQ(v["source"]["kind"], "upload");
  EXPECT_EQ(v["files"][0]["sha256"].get<std::string>().size(), 64u);
  Json d = Call("GET", "/api/v1/datasets/iris", "", 200);
  EXPECT_EQ(d["latest_version"], 1);
  EXPECT_TRUE(d["uploads"].empty()) << "the version took its uploads";

  Json p = Call("GET", "/api/v1/datasets/iris/versions/1/preview?path=iris.csv", "", 200);
  EXPECT_EQ(p["kind"], "table");
  EXPECT_EQ(p["row_count"], 150);
  EXPECT_EQ(p["columns"][0], (Json{{"name", "sepal_length"}, {"type", "number"}}));
  EXPECT_EQ(p["columns"][1]["type"], "integer");
  EXPECT_EQ(p["rows"].size(), 20u);

  auto file = server_->Call("GET", "/api/v1/datasets/iris/versions/1/file?path=iris.csv", "", admin_);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, iris_csv_);
  EXPECT_EQ(file.headers["x-content-sha256"], v["files"][0]["sha256"]);

  // The same bytes in another data set are stored once.
  Call("POST", "/api/v1/datasets", R"({"name": "copy"})", 201);
  ASSERT_EQ(Upload("copy", "nested/again.csv", dir_.path() + "/iris.csv").status, 201);
  Json c = Call("POST", "/api/v1/datasets/copy/versions", R"({"uploads": "all"})", 201);
  EXPECT_EQ(c["files"][0]["path"], "nested/again.csv");
  EXPECT_EQ(c["files"][0]["sha256"], v["files"][0]["sha256"]);
  int blobs = 0;
  for (auto& e : fs::recursive_directory_iterator(dir_.path() + "/registry/blobs")) blobs += e.is_regular_file();
  EXPECT_EQ(blobs, 1);

  // Bad requests name the problem and change nothing.
  for (const char* bad : {"../escape.csv", "%2Fetc%2Fpasswd", "a//b", "", "x%00y"}) {
    auto r = Upload("iris", bad, dir_.path() + "/iris.csv");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  Call("POST", "/api/v1/datasets/iris/versions", R"({"uploads": "all"})", 400);
  Call("POST", "/api/v1/datasets/iris/versions", R"({"uploads": [999]})", 400);
  Call("POST", "/api/v1/datasets/iris/versions", R"({"volume_path": "/etc"})", 400);
  Call("POST", "/api/v1/datasets/iris/versions", R"({"volume_path": "/mnt/admin/../eve"})", 400);
  Call("POST", "/api/v1/datasets/iris/versions", R"({"uploads": "all", "run": 1})", 400);
  Call("POST", "/api/v1/datasets/iris/versions", R"({"colour": "red"})", 400);
  Call("GET", "/api/v1/datasets/iris/versions/1/preview?path=nothing.csv", "", 404);
  EXPECT_EQ(Call("GET", "/api/v1/datasets/iris", "", 200)["versions"], 1);

  // A version from the caller's own directory; links there are left out, not followed.
  fs::create_directories(dir_.path() + "/users/admin/work/mine");
  WriteLocal("users/admin/work/mine/a.txt", "hello\n");
  fs::create_symlink("/etc/passwd", dir_.path() + "/users/admin/work/mine/passwd");
  Json mine = Call("POST", "/api/v1/datasets/iris/versions", R"({"volume_path": "/mnt/admin/mine"})", 201);
  EXPECT_EQ(mine["version"], 2);
  EXPECT_EQ(mine["file_count"], 1);
  EXPECT_EQ(mine["skipped"], Json::array({"mine/passwd"}));
  EXPECT_EQ(mine["source"]["path"], "/mnt/admin/mine");
}

TEST_F(DatasetsE2ETest, ATaskReadsItsVersionReadOnlyAndLineageRecordsIt) {
  MakeIris();
  Call("POST", "/api/v1/apply", kPipeline, 200);
  Json run = Call("POST", "/api/v1/pipelines/reader/run", "{}", 201);
  const int64_t id = run.value("id", int64_t{0});
  Json done = WaitForRun(id);
  ASSERT_EQ(done["state"], "succeeded") << done.dump();
  auto log = server_->Call("GET", "/api/v1/runs/" + std::to_string(id) + "/tasks/read/logs", "", admin_);
  EXPECT_NE(log.body.find("151"), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("named iris@1"), std::string::npos) << log.body;
  EXPECT_NE(log.body.find("read-only"), std::string::npos) << log.body;
  EXPECT_EQ(log.body.find("WROTE"), std::string::npos) << log.body;

  Json v = Call("GET", "/api/v1/datasets/iris/versions/1", "", 200);
  ASSERT_EQ(v["read_by"].size(), 1u) << v.dump();
  EXPECT_EQ(v["read_by"][0]["kind"], "run");
  EXPECT_EQ(v["read_by"][0]["id"], id);
  EXPECT_EQ(v["read_by"][0]["detail"], "read");

  // What the task wrote becomes version 2, whose source is the run.
  Json made = Call("POST", "/api/v1/datasets/iris/versions",
                   R"({"run": )" + std::to_string(id) + R"(, "task": "read", "path": "clean"})", 201);
  EXPECT_EQ(made["version"], 2);
  EXPECT_EQ(made["files"][0]["path"], "head.csv");
  EXPECT_EQ(made["source"]["kind"], "task");
  EXPECT_EQ(made["source"]["run"], id);
  EXPECT_EQ(made["source"]["pipeline"], "reader");

}

TEST_F(DatasetsE2ETest, ATaskMakesAVersionByDeclaringItInItsOutputs) {
  Call("POST", "/api/v1/apply", R"yaml(
kind: JobTemplate
name: shell
image: quader/base:bookworm
command: ["sh", "-c", "eval \"$SCRIPT\""]
---
kind: Pipeline
name: maker
tasks:
  - name: make
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs/clean && printf 'a,b\n1,2\n' > /outputs/clean/t.csv &&
        echo '{"register_dataset": {"name": "made", "path": "clean", "description": "cleaned"}}' > /outputs/outputs.json
  - name: wrong
    template: shell
    env: {SCRIPT: "mkdir -p /outputs && echo '{\"register_dataset\": {\"name\": \"Bad Name\"}}' > /outputs/outputs.json"}
)yaml",
       200);
  Json run = Call("POST", "/api/v1/pipelines/maker/run", "{}", 201);
  const int64_t id = run.value("id", int64_t{0});
  Json done = WaitForRun(id);
  Json tasks = Call("GET", "/api/v1/runs/" + std::to_string(id), "", 200)["tasks"];
  for (const Json& t : tasks) {
    if (t["name"] == "make") EXPECT_EQ(t["state"], "succeeded") << t.dump();
    if (t["name"] == "wrong") {
      EXPECT_EQ(t["state"], "failed") << t.dump();
      EXPECT_NE(t.value("reason", "").find("register_dataset: register_dataset.name"), std::string::npos) << t.dump();
    }
  }
  Json v = Call("GET", "/api/v1/datasets/made/versions/1", "", 200);
  EXPECT_EQ(v["files"][0]["path"], "t.csv");
  EXPECT_EQ(v["description"], "cleaned");
  EXPECT_EQ(v["source"]["kind"], "task");
  EXPECT_EQ(v["source"]["run"], id);
  EXPECT_EQ(v["source"]["task"], "make");
  EXPECT_EQ(v["created_by"], "admin");
}

TEST_F(DatasetsE2ETest, AVersionRunningWorkReadsIsNotDeleted) {
  MakeIris();
  std::string doc = kPipeline;
  doc.replace(doc.find("${HOLD:-0}"), 10, "30");
  Call("POST", "/api/v1/apply", doc, 200);
  Json run = Call("POST", "/api/v1/pipelines/reader/run", "{}", 201);
  const std::string id = std::to_string(run.value("id", int64_t{0}));
  // Running and past its read: the version is in use.
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  while (steady_clock::now() < deadline &&
         Call("GET", "/api/v1/datasets/iris/versions/1", "", 200)["read_by"].empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Json refused = Call("DELETE", "/api/v1/datasets/iris/versions/1", "", 409);
  EXPECT_NE(refused.dump().find("run " + id + " (reader) reads iris@1"), std::string::npos) << refused.dump();
  Call("DELETE", "/api/v1/datasets/iris", "", 409);
  Call("POST", "/api/v1/runs/" + id + "/stop", "{}", 200);
  WaitForRun(std::stoll(id));
  Call("DELETE", "/api/v1/datasets/iris/versions/1", "", 200);
  EXPECT_FALSE(fs::exists(dir_.path() + "/registry/datasets/public/iris/1"));
  int blobs = 0;
  for (auto& e : fs::recursive_directory_iterator(dir_.path() + "/registry/blobs")) {
    blobs += e.is_regular_file() && e.path().parent_path().filename() != "tmp";
  }
  EXPECT_EQ(blobs, 0) << "the only version's file went with it";
}

TEST_F(DatasetsE2ETest, StrangersSeeNothing) {
  MakeIris();
  Call("POST", "/api/v1/projects", R"({"name": "team-a"})", 201);
  Call("POST", "/api/v1/datasets", R"({"name": "secret", "project": "team-a"})", 201);
  const std::string id = std::to_string(Call("GET", "/api/v1/datasets/secret?project=team-a", "", 200)["id"].get<int64_t>());
  ASSERT_EQ(Upload(id, "s.csv", dir_.path() + "/iris.csv").status, 201);
  Call("POST", "/api/v1/datasets/" + id + "/versions", R"({"uploads": "all"})", 201);

  // eve is no member of team-a: every route answers as if nothing were there.
  for (const std::string& base : std::vector<std::string>{"/api/v1/datasets/" + id, "/api/v1/datasets/secret?project=team-a"}) {
    Call("GET", base, "", 404, eve_);
    Call("DELETE", base, "", 404, eve_);
  }
  Call("GET", "/api/v1/datasets/" + id + "/versions/1", "", 404, eve_);
  Call("GET", "/api/v1/datasets/" + id + "/versions/1/file?path=s.csv", "", 404, eve_);
  Call("GET", "/api/v1/datasets/" + id + "/versions/1/preview?path=s.csv", "", 404, eve_);
  Call("DELETE", "/api/v1/datasets/" + id + "/versions/1", "", 404, eve_);
  Call("POST", "/api/v1/datasets/" + id + "/versions", R"({"volume_path": "/mnt/eve"})", 404, eve_);
  EXPECT_EQ(Upload(id, "planted.csv", dir_.path() + "/iris.csv", eve_).status, 404);
  Json listed = server_->Call("GET", "/api/v1/datasets?project=team-a", "", eve_).body;
  EXPECT_EQ(listed.dump().find("secret"), std::string::npos);
  Call("GET", "/api/v1/datasets/" + id, "", 401, "not-a-token");

  // Her task in her own project cannot name it either.
  Call("POST", "/api/v1/projects", R"({"name": "eve-lab"})", 201, eve_);
  std::string doc = kPipeline;
  doc.replace(doc.find("datasets: [iris]"), 16, "datasets: [secret]");
  doc.replace(doc.find("name: reader"), 12, "name: reader\nproject: eve-lab");
  doc.replace(doc.find("name: shell"), 11, "name: shell\nproject: eve-lab");
  Call("POST", "/api/v1/apply", doc, 200, eve_);
  Json run = Call("POST", "/api/v1/pipelines/reader/run?project=eve-lab", "{}", 201, eve_);
  Json r = WaitForRun(run.value("id", int64_t{0}));
  EXPECT_EQ(r["state"], "failed") << r.dump();
  EXPECT_NE(r.dump().find("no data set secret in this project"), std::string::npos) << r.dump();
  EXPECT_TRUE(Call("GET", "/api/v1/datasets/secret/versions/1?project=team-a", "", 200)["read_by"].empty());
}

TEST_F(DatasetsE2ETest, HostileNamesAndFilesAreRefusedOrShownSafely) {
  Call("POST", "/api/v1/datasets", R"({"name": "odd"})", 201);
  const std::string any = WriteLocal("any.txt", "x\n");
  for (const std::string& bad : std::vector<std::string>{"bad%FF.csv", "line%0Abreak", std::string(300, 'n'), "dir/" + std::string(256, 'n')}) {
    auto r = Upload("odd", bad, any);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  // A file where another upload's directory is: refused, and both uploads still wait.
  ASSERT_EQ(Upload("odd", "d", any).status, 201);
  ASSERT_EQ(Upload("odd", "d/e", any).status, 201);
  Json refused = Call("POST", "/api/v1/datasets/odd/versions", R"({"uploads": "all"})", 400);
  EXPECT_NE(refused.dump().find("d is a file, so d/e cannot be under it"), std::string::npos) << refused.dump();
  EXPECT_EQ(Call("GET", "/api/v1/datasets/odd", "", 200)["uploads"].size(), 2u);

  // Nested deeper than anything prints, as JSON and as JSON Lines: a preview, not a crash.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  Call("POST", "/api/v1/datasets", R"({"name": "deep"})", 201);
  ASSERT_EQ(Upload("deep", "b.json", WriteLocal("b.json", deep)).status, 201);
  ASSERT_EQ(Upload("deep", "b.jsonl", WriteLocal("b.jsonl", deep + "\n{\"ok\": 1}\n")).status, 201);
  Call("POST", "/api/v1/datasets/deep/versions", R"({"uploads": "all"})", 201);
  Json j = Call("GET", "/api/v1/datasets/deep/versions/1/preview?path=b.json", "", 200);
  EXPECT_EQ(j["too_deep"], true);
  Json l = Call("GET", "/api/v1/datasets/deep/versions/1/preview?path=b.jsonl", "", 200);
  EXPECT_EQ(l["row_count"], 2);
  EXPECT_TRUE(l["rows"][0].is_null());
  EXPECT_EQ(l["rows"][1], (Json{{"ok", 1}}));
  Call("GET", "/healthz", "", 200);
}

TEST_F(DatasetsE2ETest, ADeletedProjectLeavesNothingForAProjectOfTheSameName) {
  Call("POST", "/api/v1/projects", R"({"name": "gone"})", 201);
  Call("POST", "/api/v1/datasets", R"({"name": "pii", "project": "gone"})", 201);
  const std::string id = std::to_string(Call("GET", "/api/v1/datasets/pii?project=gone", "", 200)["id"].get<int64_t>());
  ASSERT_EQ(Upload(id, "people.csv", WriteLocal("people.csv", "name,ssn\njoe,123-45-6789\n")).status, 201);
  Call("POST", "/api/v1/datasets/" + id + "/versions", R"({"uploads": "all"})", 201);
  ASSERT_TRUE(fs::exists(dir_.path() + "/registry/datasets/gone/pii"));
  Call("DELETE", "/api/v1/projects/gone", "", 200);
  EXPECT_FALSE(fs::exists(dir_.path() + "/registry/datasets/gone"));
  int blobs = 0;
  for (auto& e : fs::recursive_directory_iterator(dir_.path() + "/registry/blobs")) blobs += e.is_regular_file();
  EXPECT_EQ(blobs, 0) << "the deleted project's file is gone with it";
  // The same names again: nothing of the old version is found.
  Call("POST", "/api/v1/projects", R"({"name": "gone"})", 201);
  Call("POST", "/api/v1/datasets", R"({"name": "pii", "project": "gone"})", 201);
  Call("GET", "/api/v1/datasets/pii/versions/1?project=gone", "", 404);
}

TEST_F(DatasetsE2ETest, InPublicATaskAddsNoVersionToAnotherUsersModelOrDataSet) {
  // admin's data set and model in public; eve's pipeline there declares versions of both.
  MakeIris();
  Call("POST", "/api/v1/models", R"({"name": "pubm"})", 201);
  Call("POST", "/api/v1/apply", std::string(kPipeline).substr(0, std::string(kPipeline).find("---")), 200);
  Call("POST", "/api/v1/apply", R"yaml(
kind: Pipeline
name: poison
tasks:
  - name: model
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && echo bad > /outputs/m.bin &&
        echo '{"register_model": {"name": "pubm", "path": "m.bin", "framework": "custom"}}' > /outputs/outputs.json
  - name: data
    template: shell
    env:
      SCRIPT: >-
        mkdir -p /outputs && echo CAROL-POISON > /outputs/iris.csv &&
        echo '{"register_dataset": {"name": "iris", "path": "iris.csv"}}' > /outputs/outputs.json
)yaml",
       200, eve_);
  Json run = Call("POST", "/api/v1/pipelines/poison/run", "{}", 201, eve_);
  Json done = WaitForRun(run.value("id", int64_t{0}));
  for (const Json& t : done["tasks"]) {
    EXPECT_EQ(t["state"], "failed") << t.dump();
    EXPECT_NE(t.value("reason", "").find("only its creator or an admin may change public"), std::string::npos) << t.dump();
  }
  EXPECT_EQ(Call("GET", "/api/v1/models/pubm", "", 200)["versions"], 0);
  EXPECT_EQ(Call("GET", "/api/v1/datasets/iris", "", 200)["versions"], 1);
}

TEST_F(DatasetsE2ETest, ABigUploadStreamsThroughFlatMemory) {
  Call("POST", "/api/v1/datasets", R"({"name": "big"})", 201);
  const std::string local = dir_.path() + "/big.bin";
  {
    std::ofstream out(local, std::ios::binary);
    std::string piece(1 << 20, '\0');
    for (int i = 0; i < 512; ++i) {
      piece[0] = static_cast<char>(i);
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    }
  }
  const int64_t before = ServerMemoryKib(dir_.path(), "VmRSS");
  ASSERT_GT(before, 0);
  auto r = Upload("big", "big.bin", local);
  ASSERT_EQ(r.status, 201) << r.body;
  Json up = Json::parse(r.body);
  EXPECT_EQ(up["size"], int64_t{512} << 20);
  const int64_t peak = ServerMemoryKib(dir_.path(), "VmHWM");
  EXPECT_LT(peak - before, 64 * 1024) << "a 512 MiB upload raised the server's peak memory from " << before
                                      << " KiB to " << peak << " KiB";
  fs::remove(local);
  // Never made a version: a restart a day later drops it (here: the upload waits, listed).
  EXPECT_EQ(Call("GET", "/api/v1/datasets/big", "", 200)["uploads"].size(), 1u);
}

}  // namespace
}  // namespace quader::testing
