// The real server binary, driven over HTTP on a random loopback port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

const char* kAdminPassword = "admin-pass-1";

class ApiE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path());
    ASSERT_TRUE(server_->Start()) << server_->error();
    admin_ = server_->Login("admin", kAdminPassword);
    ASSERT_FALSE(admin_.empty());
  }

  Json Ok(const cli::HttpReply& r, int status = 200) {
    EXPECT_EQ(r.status, status) << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_discarded() ? Json() : j;
  }

  // The error code and message of an error reply, asserting its HTTP status.
  std::pair<std::string, std::string> Err(const cli::HttpReply& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) {
      ADD_FAILURE() << "not an error body: " << r.body;
      return {};
    }
    return {j["error"]["code"], j["error"]["message"]};
  }

  std::string AddUser(const std::string& name) {
    Json body = {{"username", name}, {"password", "password-" + name}};
    Ok(server_->Call("POST", "/api/v1/users", body.dump(), admin_), 201);
    return server_->Login(name, "password-" + name);
  }

  std::set<std::string> ProjectNames(const std::string& token) {
    std::set<std::string> names;
    Json list = Ok(server_->Call("GET", "/api/v1/projects", "", token));
    for (const auto& p : list["items"]) names.insert(p["name"]);
    return names;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string admin_;
};

TEST_F(ApiE2ETest, ProjectGroupsAndMembership) {
  std::string alice = AddUser("alice");
  std::string bob = AddUser("bob");
  // Everyone is in public.
  EXPECT_EQ(ProjectNames(bob), (std::set<std::string>{"public"}));
  Json created = Ok(server_->Call("POST", "/api/v1/projects", R"({"name": "vision", "description": "cv"})", alice), 201);
  EXPECT_EQ(created["role"], "creator");
  EXPECT_EQ(created["created_by"], "alice");
  // Bob cannot see it: the same 404 as a project that does not exist.
  auto [code, message] = Err(server_->Call("GET", "/api/v1/projects/vision", "", bob), 404);
  EXPECT_EQ(code, "not_found");
  EXPECT_EQ(message, "project \"vision\" not found");
  Err(server_->Call("GET", "/api/v1/projects/vision/members", "", bob), 404);
  // Alice adds bob; now he sees it but cannot manage it.
  Ok(server_->Call("POST", "/api/v1/projects/vision/members", R"({"username": "bob"})", alice), 201);
  EXPECT_EQ(ProjectNames(bob), (std::set<std::string>{"public", "vision"}));
  Err(server_->Call("POST", "/api/v1/projects/vision/members", R"({"username": "admin"})", bob), 403);
  Err(server_->Call("DELETE", "/api/v1/projects/vision", "", bob), 403);
  Json member = Ok(server_->Call("PUT", "/api/v1/projects/vision/members/bob", R"({"role": "ops"})", alice));
  EXPECT_EQ(member["role"], "ops");
  // Admins see every project.
  EXPECT_TRUE(ProjectNames(admin_).count("vision"));
  Ok(server_->Call("DELETE", "/api/v1/projects/vision/members/bob", "", alice));
  EXPECT_EQ(ProjectNames(bob), (std::set<std::string>{"public"}));
  Ok(server_->Call("DELETE", "/api/v1/projects/vision", "", alice));
  Err(server_->Call("GET", "/api/v1/projects/vision", "", alice), 404);
}

TEST_F(ApiE2ETest, ExpandIsValidatedAndOnlyAdminsSetIt) {
  std::string alice = AddUser("alice");
  auto [code, message] = Err(server_->Call("POST", "/api/v1/projects",
                                           R"({"name": "p1", "expand": {"volume_mount": "a(pvc):/mnt;b(nfs):/x"}})", admin_), 400);
  EXPECT_EQ(message, "expand.volume_mount[1]: unknown mount kind \"nfs\" (use pvc, hostpath or memory)");
  EXPECT_FALSE(ProjectNames(admin_).count("p1"));  // nothing saved
  Json good = Ok(server_->Call("POST", "/api/v1/projects",
                               R"({"name": "p1", "expand": "{\"cluster\": \"dev\", \"node_selector\": \"org=public\"}"})", admin_), 201);
  EXPECT_EQ(good["expand"]["cluster"], "dev");  // a JSON string is stored as the object
  Err(server_->Call("POST", "/api/v1/projects", R"({"name": "p2", "expand": {"cluster": "dev"}})", alice), 403);
  auto bad_ip = Err(server_->Call("PUT", "/api/v1/projects/p1", R"({"expand": {"SERVICE_EXTERNAL_IP": "300.1.1.1"}})", admin_), 400);
  EXPECT_EQ(bad_ip.second, "expand.SERVICE_EXTERNAL_IP: \"300.1.1.1\" is not an IP address");
  Json still = Ok(server_->Call("GET", "/api/v1/projects/p1", "", admin_));
  EXPECT_EQ(still["expand"]["cluster"], "dev");
}

TEST_F(ApiE2ETest, BadInputGetsTheDocumentedErrorsAndChangesNothing) {
  struct Case {
    const char* method;
    const char* path;
    std::string body;
    int status;
    const char* code;
    const char* fragment;
  } cases[] = {
      {"POST", "/api/v1/projects", "{\"name\": ", 400, "invalid_argument", "malformed JSON"},
      {"POST", "/api/v1/projects", "[1, 2]", 400, "invalid_argument", "body: must be a JSON object"},
      {"POST", "/api/v1/projects", R"({"name": "x", "colour": "red"})", 400, "invalid_argument", "colour: unknown field"},
      {"POST", "/api/v1/projects", R"({"name": 7})", 400, "invalid_argument", "name: must be a string"},
      {"POST", "/api/v1/projects", R"({"name": "Bad_Name"})", 400, "invalid_argument", "name: \"Bad_Name\" is not a valid name"},
      {"POST", "/api/v1/projects", R"({"name": "public"})", 409, "already_exists", "project \"public\" already exists"},
      {"POST", "/api/v1/users", R"({"username": "x"})", 400, "invalid_argument", "password: is required"},
      {"GET", "/api/v1/projets", "", 404, "not_found", "GET /api/v1/projets"},
      {"PATCH", "/api/v1/projects", "", 405, "method_not_allowed", "PATCH"},
      {"POST", "/api/v1/apply", "kind: Project\nname: [unclosed\n", 400, "invalid_argument", "malformed YAML at line"},
      {"POST", "/api/v1/apply", "kind: Projekt\nname: x\n", 400, "invalid_argument", "unknown kind \"Projekt\""},
      {"POST", "/api/v1/apply", std::string(9 * 1024 * 1024, 'x'), 413, "payload_too_large", "larger than the limit"},
  };
  std::set<std::string> before = ProjectNames(admin_);
  for (const auto& c : cases) {
    auto r = server_->Call(c.method, c.path, c.body, admin_);
    auto [code, message] = Err(r, c.status);
    EXPECT_EQ(code, c.code) << c.method << " " << c.path;
    EXPECT_NE(message.find(c.fragment), std::string::npos) << c.method << " " << c.path << ": " << message;
  }
  // Bad tokens.
  Err(server_->Call("GET", "/api/v1/projects", "", "qdr_forged"), 401);
  Err(server_->Call("GET", "/api/v1/projects", "", ""), 401);
  Err(server_->Call("GET", "/api/v1/projects", "", "", {{"Authorization", "Basic YTpi"}}), 401);
  // Still serving, and nothing half-written.
  EXPECT_EQ(server_->Call("GET", "/healthz").status, 200);
  EXPECT_EQ(ProjectNames(admin_), before);
}

TEST_F(ApiE2ETest, ApplyIsAtomicAndIdempotent) {
  std::string docs = "kind: Project\nname: a1\n---\nkind: Project\nname: a2\nexpand:\n  volume_mount: x(nfs):/d\n";
  auto [code, message] = Err(server_->Call("POST", "/api/v1/apply", docs, admin_), 400);
  EXPECT_EQ(message, "document 2 (Project \"a2\"): expand.volume_mount[0]: unknown mount kind \"nfs\" (use pvc, hostpath or memory)");
  EXPECT_FALSE(ProjectNames(admin_).count("a1"));  // the first document was rolled back too
  std::string good = "kind: Project\nname: a1\ndescription: first\n---\n{\"kind\": \"Project\", \"name\": \"a2\"}\n";
  Json first = Ok(server_->Call("POST", "/api/v1/apply", good, admin_));
  EXPECT_EQ(first["results"][0]["action"], "created");
  EXPECT_EQ(first["results"][1]["action"], "created");
  Json second = Ok(server_->Call("POST", "/api/v1/apply", good, admin_));
  EXPECT_EQ(second["results"][0]["action"], "unchanged");
  EXPECT_EQ(second["results"][1]["action"], "unchanged");
}

TEST_F(ApiE2ETest, LogoutRevokesTheToken) {
  std::string t = server_->Login("admin", kAdminPassword);
  Ok(server_->Call("POST", "/api/v1/logout", "", t));
  Err(server_->Call("GET", "/api/v1/me", "", t), 401);
  Ok(server_->Call("GET", "/api/v1/me", "", admin_));  // other sessions live on
  Err(server_->Call("POST", "/api/v1/login", R"({"username": "admin", "password": "wrong-one"})"), 401);
}

TEST_F(ApiE2ETest, SessionCookieWorksForTheBrowser) {
  auto login = server_->Call("POST", "/api/v1/login", Json({{"username", "admin"}, {"password", kAdminPassword}}).dump());
  std::string cookie = login.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  std::string pair = cookie.substr(0, cookie.find(';'));
  Json me = Ok(server_->Call("GET", "/api/v1/me", "", "", {{"Cookie", pair}}));
  EXPECT_EQ(me["user"]["username"], "admin");
  Err(server_->Call("POST", "/api/v1/projects", R"({"name": "c1"})", "", {{"Cookie", pair}}), 403);
  Ok(server_->Call("POST", "/api/v1/projects", R"({"name": "c1"})", "",
                   {{"Cookie", pair}, {"X-Requested-With", "quader"}}), 201);
}

TEST_F(ApiE2ETest, MetricsOpenApiAndWebUi) {
  server_->Call("GET", "/api/v1/projects", "", admin_);
  EXPECT_EQ(server_->Call("GET", "/metrics").status, 401);  // names every project's objects: admins only
  auto metrics = server_->Call("GET", "/metrics", "", admin_);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("quader_http_requests_total{code=\"200\",method=\"GET\",route=\"/api/v1/projects\"}"),
            std::string::npos) << metrics.body.substr(0, 2000);
  EXPECT_NE(metrics.body.find("quader_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("process_resident_memory_bytes"), std::string::npos);

  Json doc = Ok(server_->Call("GET", "/api/v1/openapi.json"));
  EXPECT_EQ(doc["openapi"], "3.0.3");
  for (const char* path : {"/api/v1/login", "/api/v1/projects", "/api/v1/projects/{name}/members/{username}",
                           "/api/v1/users/{username}", "/api/v1/apply", "/healthz", "/metrics"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  EXPECT_TRUE(doc["paths"]["/api/v1/projects"].contains("post"));

  auto page = server_->Call("GET", "/projects/some/client/route");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_EQ(server_->Call("GET", "/../../etc/passwd").body.find("root:"), std::string::npos);
}

TEST_F(ApiE2ETest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto url = cli::ParseHttpUrl(server_->api());
  ASSERT_TRUE(url.ok());
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(url->port)));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string got;
  char buf[4096];
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
    ssize_t n = read(fd, buf, sizeof(buf));
    ASSERT_GT(n, 0) << "connection closed after " << i << " requests";
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t count = 0;
  for (size_t pos = 0; (pos = got.find("HTTP/1.1 200 OK", pos)) != std::string::npos; ++pos) ++count;
  EXPECT_EQ(count, 3u);
}

TEST_F(ApiE2ETest, SigkillLosesNothingAcknowledged) {
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop && i < 2000; ++i) {
      std::string name = "k" + std::to_string(i);
      auto r = cli::HttpRequest("POST", server_->api() + "/api/v1/projects", Json({{"name", name}}).dump(),
                                {{"Authorization", "Bearer " + admin_}}, 5);
      if (!r.ok()) break;  // the server is gone
      if (r->status == 201) {
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.push_back(name);
      }
    }
  });
  // Let some writes land, then crash the server mid-stream.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acknowledged.size() >= 30) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server_->Kill();
  stop = true;
  writer.join();
  ASSERT_GE(acknowledged.size(), 1u);

  server_ = std::make_unique<ServerProcess>(dir_.path());
  ASSERT_TRUE(server_->Start()) << server_->error();
  std::string token = server_->Login("admin", kAdminPassword);
  std::set<std::string> names = ProjectNames(token);
  for (const auto& n : acknowledged) EXPECT_TRUE(names.count(n)) << n << " was acknowledged but lost";
  // The old token survives a restart too (sessions are in the store).
  EXPECT_EQ(server_->Call("GET", "/api/v1/me", "", admin_).status, 200);
}

TEST(ServerStartTest, GeneratesAndPrintsTheAdminPasswordOnce) {
  TempDir dir;
  std::string password;
  {
    ServerProcess server(dir.path(), {}, {});
    ASSERT_TRUE(server.Start()) << server.error();
    std::string out = server.Output();
    const std::string kMark = "admin password (generated, shown once): ";
    size_t at = out.find(kMark);
    ASSERT_NE(at, std::string::npos) << out;
    password = out.substr(at + kMark.size(), out.find('\n', at) - at - kMark.size());
    EXPECT_FALSE(server.Login("admin", password).empty());
    // Kept for the owner only, in case the terminal is lost.
    auto perms = std::filesystem::status(dir.File("admin-password")).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    server.Stop();
    EXPECT_EQ(server.exit_code(), 0);  // SIGTERM is a clean stop
    EXPECT_FALSE(std::filesystem::exists(dir.File("server.json")));
  }
  ServerProcess again(dir.path(), {}, {});
  ASSERT_TRUE(again.Start()) << again.error();
  EXPECT_FALSE(again.Login("admin", password).empty());
}

TEST(ServerStartTest, BadFlagsExitWithUsageError) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--runtime", "teleport"});
  EXPECT_FALSE(server.Start());
  EXPECT_EQ(server.exit_code(), 2);
  EXPECT_NE(server.Output().find("runtime"), std::string::npos);
}

}  // namespace
}  // namespace quader::testing
