// The real server (process runtime) against hostile documents posted to
// /api/v1/apply: each is refused with a 4xx naming the problem, quickly,
// without the server's memory growing, and the server stays healthy and
// able to write (a valid apply afterwards is created).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

const char* kAdminPassword = "admin-pass-1";
constexpr int64_t kMaxRssGrowthKb = 64 * 1024;

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// A JobTemplate document's head; each case adds its hostile part.
std::string Template(const std::string& name) {
  return "kind: JobTemplate\nname: " + name + "\nproject: public\nimage: x\ncommand: \"true\"\n";
}

// Nine levels of nine aliases: 9^9 strings from a few hundred bytes.
std::string BillionLaughs() {
  std::string text = Template("lol") + "labels: {a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]";
  std::string prev = "a";
  for (char c = 'b'; c <= 'i'; ++c) {
    text += std::string(", ") + c + ": &" + c + " [" + Repeat("*" + prev + ",", 8) + "*" + prev + "]";
    prev = std::string(1, c);
  }
  return text + "}\n";
}

class HostileInputE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path());
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
    Json info = Json::parse(ReadFile(dir_.File("server.json")), nullptr, false);
    ASSERT_TRUE(info.is_object() && info.contains("pid")) << ReadFile(dir_.File("server.json"));
    pid_ = info["pid"].get<int64_t>();
  }

  // The server's resident memory, kB (VmRSS in /proc/PID/status).
  int64_t RssKb() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    }
    ADD_FAILURE() << "no VmRSS for pid " << pid_;
    return 0;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
  int64_t pid_ = 0;
};

TEST_F(HostileInputE2ETest, EachHostileApplyIsRefusedAndTheServerStaysWell) {
  const std::string deep_json = R"({"kind": "JobTemplate", "name": "deep", "project": "public", "image": "x", )"
                                R"("args": {"G": {"--x": {"type": "str", "default": )" +
                                Repeat("[", 100000) + Repeat("]", 100000) + "}}}}";
  struct Case {
    std::string body;
    int status;
    const char* fragment;
    const char* why;
  } cases[] = {
      {Template("hookr") + "env: &e {A: *e}\n", 400, "env.A: recursive alias *e", "crashed the server (infinite recursion)"},
      {BillionLaughs(), 400, "more than 100000 nodes", "took 16 s and 1.9 GB"},
      {deep_json, 400, "nesting deeper than 64 levels", "crashed the server (stack overflow)"},
      {Template("utf") + "description: \"caf\xe9 au lait\"\n", 400, "invalid UTF-8 at line 6, column 18",
       "gave a 500 and then every write failed"},
      {Template("nul") + std::string("description: a\0b\n", 17), 400, "NUL character at line 6, column 15",
       "was stored cut short"},
      {Template("huge") + "resources: {cpu: 1e999}\n", 400, "resources.cpu: number 1e999 is out of range", "gave a 500"},
      {Template("big") + "description: " + std::string(9 * 1024 * 1024, 'x') + "\n", 413, "larger than the limit",
       "a body past --max-body"},
  };
  const int64_t baseline_kb = RssKb();
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.why);
    const auto start = std::chrono::steady_clock::now();
    cli::HttpReply r = server_->Call("POST", "/api/v1/apply", c.body, admin_);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.status, c.status) << r.body.substr(0, 500);
    Json error = Json::parse(r.body, nullptr, false);
    ASSERT_TRUE(error.is_object() && error.contains("error")) << r.body.substr(0, 500);
    EXPECT_NE(error["error"]["message"].get<std::string>().find(c.fragment), std::string::npos)
        << error["error"]["message"];
    EXPECT_LT(took, std::chrono::seconds(2));
    EXPECT_LT(RssKb() - baseline_kb, kMaxRssGrowthKb);
    // Healthy, and the store still takes writes.
    EXPECT_EQ(server_->Call("GET", "/healthz").status, 200);
    const std::string name = "after" + std::to_string(n++);
    cli::HttpReply ok = server_->Call("POST", "/api/v1/apply", Template(name), admin_);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(Json::parse(ok.body)["results"][0]["action"], "created") << ok.body;
  }
  // Nothing of the refused documents was stored.
  cli::HttpReply list = server_->Call("GET", "/api/v1/templates?project=public", "", admin_);
  ASSERT_EQ(list.status, 200) << list.body;
  for (const char* refused : {"hookr", "lol", "deep", "utf", "nul", "huge", "big"}) {
    EXPECT_EQ(list.body.find(std::string("\"name\":\"") + refused + "\""), std::string::npos) << refused;
  }
  // Every request is in the (rotated) access log, not only on stderr.
  const std::string access = ReadFile(dir_.File("logs/access.log"));
  EXPECT_NE(access.find("\"POST /api/v1/apply\" 400"), std::string::npos) << access.substr(0, 2000);
  EXPECT_NE(access.find("\"POST /api/v1/apply\" 413"), std::string::npos) << access.substr(0, 2000);
}

}  // namespace
}  // namespace quader::testing
