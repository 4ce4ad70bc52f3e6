// End-to-end: the real `quader` binary as the server (a child process on a
// fresh data directory and a free port) and as the CLI (one child process
// per command, each with its own QUADER_CONFIG). Only public surfaces are
// used: the command line, its output and exit status, and the REST API.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/http_client.h"
#include "core/documents.h"
#include "subprocess.h"
#include "test_util.h"

extern char** environ;

namespace quader::cli {
namespace {

using testing::BackgroundProcess;
using testing::ProcessResult;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr char kBinary[] = QUADER_BINARY;
constexpr char kSourceDir[] = QUADER_SOURCE_DIR;
constexpr char kAdminPassword[] = "e2e-admin-Pa55";
constexpr auto kStartDeadline = std::chrono::seconds(20);

constexpr char kProjectDoc[] =
    "kind: Project\n"
    "name: e2e-team\n"
    "description: Team of the CLI test\n";

// This process's environment minus QUADER_* (so a developer's login cannot
// leak in), plus `extra`.
std::vector<std::string> Environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("QUADER_", 0) != 0) env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Runs the binary's CLI with exit status and output; without a server.
ProcessResult Quader(const std::vector<std::string>& args, const std::string& config,
                     const std::string& input = "", std::vector<std::string> env = {}) {
  std::vector<std::string> argv = {kBinary};
  argv.insert(argv.end(), args.begin(), args.end());
  env.push_back("QUADER_CONFIG=" + config);
  return testing::RunProcess(argv, Environment(env), input);
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(data_.path().empty());
    ASSERT_FALSE(home_.path().empty());
    server_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{kBinary, "server", "--data", data_.path(), "--listen",
                                 "127.0.0.1:0", "--gateway-listen", "127.0.0.1:0", "--runtime", "process"},
        Environment({std::string("QUADER_ADMIN_PASSWORD=") + kAdminPassword}), LogPath());
    ASSERT_TRUE(WaitUntilReady()) << "server did not become ready:\n" << ReadFile(LogPath());
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (HasFailure()) std::cerr << "--- server log ---\n" << ReadFile(LogPath());
  }

  std::string LogPath() const { return home_.File("server.log"); }

  // Polls DATA/server.json for the API address, then /healthz for 200.
  bool WaitUntilReady() {
    auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
    while (std::chrono::steady_clock::now() < deadline && server_->Running()) {
      if (api_.empty()) {
        auto info = ParseJson(ReadFile(data_.File("server.json")));
        if (info.ok() && info->is_object() && info->contains("api")) api_ = (*info)["api"];
      }
      if (!api_.empty()) {
        auto health = HttpRequest("GET", api_ + "/healthz", "", {}, 2);
        if (health.ok() && health->status == 200) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // The CLI as `user`, whose login lives in its own config file.
  ProcessResult As(const std::string& user, const std::vector<std::string>& args,
                   const std::string& input = "") {
    return Quader(args, home_.File(user + ".config"), input);
  }

  void LogIn(const std::string& user, const std::string& password) {
    ProcessResult r = As(user, {"login", "--server", api_, "--user", user}, password + "\n");
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }

  // Creates a user through the REST API with the admin's token.
  void CreateUser(const std::string& username, const std::string& password) {
    auto login = HttpRequest("POST", api_ + "/api/v1/login",
                             Json({{"username", "admin"}, {"password", kAdminPassword}}).dump(),
                             {{"Content-Type", "application/json"}});
    ASSERT_TRUE(login.ok()) << login.status().ToString();
    ASSERT_EQ(login->status, 200) << login->body;
    std::string token = Json::parse(login->body)["token"];
    auto created =
        HttpRequest("POST", api_ + "/api/v1/users",
                    Json({{"username", username}, {"password", password}}).dump(),
                    {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ASSERT_EQ(created->status, 201) << created->body;
  }

  TempDir data_;
  TempDir home_;  // configs, documents and the server log
  std::unique_ptr<BackgroundProcess> server_;
  std::string api_;
};

TEST_F(CliE2eTest, LoginApplyGetDelete) {
  LogIn("admin", kAdminPassword);
  WriteFile(home_.File("project.yaml"), kProjectDoc);

  ProcessResult created = As("admin", {"apply", "-f", home_.File("project.yaml")});
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  EXPECT_EQ(created.out, "project/e2e-team created\n");

  ProcessResult again = As("admin", {"apply", "-f", "-"}, kProjectDoc);
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(again.out, "project/e2e-team unchanged\n");

  ProcessResult json = As("admin", {"get", "projects", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << Describe(json);
  Json items = Json::parse(json.out);
  ASSERT_TRUE(items.is_array()) << json.out;
  auto it = std::find_if(items.begin(), items.end(),
                         [](const Json& p) { return p.value("name", "") == "e2e-team"; });
  ASSERT_NE(it, items.end()) << json.out;
  EXPECT_EQ((*it)["description"], "Team of the CLI test");
  EXPECT_EQ((*it)["created_by"], "admin");

  ProcessResult table = As("admin", {"get", "projects"});
  ASSERT_EQ(table.exit_code, 0) << Describe(table);
  EXPECT_EQ(table.out.rfind("NAME ", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("\ne2e-team "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("Team of the CLI test\n"), std::string::npos) << table.out;

  ProcessResult yaml = As("admin", {"get", "project", "e2e-team", "-o", "yaml"});
  ASSERT_EQ(yaml.exit_code, 0) << Describe(yaml);
  auto docs = ParseDocuments(yaml.out);
  ASSERT_TRUE(docs.ok()) << yaml.out;
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ(docs->front()["name"], "e2e-team");
  EXPECT_EQ(docs->front()["description"], "Team of the CLI test");

  ProcessResult deleted = As("admin", {"delete", "project", "e2e-team"});
  ASSERT_EQ(deleted.exit_code, 0) << Describe(deleted);
  EXPECT_EQ(deleted.out, "project/e2e-team deleted\n");

  ProcessResult gone = As("admin", {"get", "project", "e2e-team"});
  EXPECT_EQ(gone.exit_code, 1) << Describe(gone);
  EXPECT_EQ(gone.err.rfind("error: ", 0), 0u) << gone.err;
  EXPECT_NE(gone.err.find("not found"), std::string::npos) << gone.err;
}

TEST_F(CliE2eTest, BadDocumentsExitOneNamingTheProblem) {
  LogIn("admin", kAdminPassword);

  ProcessResult broken = As("admin", {"apply", "-f", "-"}, "kind: Project\nname: [unclosed\n");
  EXPECT_EQ(broken.exit_code, 1) << Describe(broken);
  EXPECT_NE(broken.err.find("line"), std::string::npos) << broken.err;

  ProcessResult unknown_field =
      As("admin", {"apply", "-f", "-"}, "kind: Project\nname: colourful\ncolour: red\n");
  EXPECT_EQ(unknown_field.exit_code, 1) << Describe(unknown_field);
  EXPECT_NE(unknown_field.err.find("colour"), std::string::npos) << unknown_field.err;
  EXPECT_NE(unknown_field.err.find("unknown field"), std::string::npos) << unknown_field.err;

  // Nothing of a rejected document was applied.
  ProcessResult absent = As("admin", {"get", "project", "colourful"});
  EXPECT_EQ(absent.exit_code, 1) << Describe(absent);
}

TEST_F(CliE2eTest, NonMemberCannotSeeAnotherUsersProject) {
  LogIn("admin", kAdminPassword);
  ProcessResult created = As("admin", {"apply", "-f", "-"}, kProjectDoc);
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  CreateUser("bob", "bob-Pa55word");
  LogIn("bob", "bob-Pa55word");

  ProcessResult one = As("bob", {"get", "project", "e2e-team"});
  EXPECT_EQ(one.exit_code, 1) << Describe(one);
  EXPECT_NE(one.err.find("not found"), std::string::npos) << one.err;

  ProcessResult list = As("bob", {"get", "projects", "-o", "json"});
  ASSERT_EQ(list.exit_code, 0) << Describe(list);
  EXPECT_EQ(list.out.find("e2e-team"), std::string::npos) << list.out;

  ProcessResult remove = As("bob", {"delete", "project", "e2e-team"});
  EXPECT_EQ(remove.exit_code, 1) << Describe(remove);
  EXPECT_EQ(As("admin", {"get", "project", "e2e-team"}).exit_code, 0);
}

TEST_F(CliE2eTest, WrongPasswordAndLogout) {
  ProcessResult wrong =
      As("admin", {"login", "--server", api_, "--user", "admin", "--password", "not-it"});
  EXPECT_EQ(wrong.exit_code, 1) << Describe(wrong);
  EXPECT_EQ(wrong.err.rfind("error: ", 0), 0u) << wrong.err;

  LogIn("admin", kAdminPassword);
  std::string token = Json::parse(ReadFile(home_.File("admin.config")))["token"];
  ASSERT_FALSE(token.empty());
  ProcessResult out = As("admin", {"logout"});
  ASSERT_EQ(out.exit_code, 0) << Describe(out);

  ProcessResult after = As("admin", {"get", "projects"});
  EXPECT_EQ(after.exit_code, 1) << Describe(after);
  EXPECT_NE(after.err.find("not logged in"), std::string::npos) << after.err;
  // The server revoked the token, not just the CLI's copy.
  ProcessResult revoked = Quader({"get", "projects"}, home_.File("none.config"), "",
                                 {"QUADER_SERVER=" + api_, "QUADER_TOKEN=" + token});
  EXPECT_EQ(revoked.exit_code, 1) << Describe(revoked);
}

TEST_F(CliE2eTest, GetUsersShowsTheAdmin) {
  LogIn("admin", kAdminPassword);
  ProcessResult users = As("admin", {"get", "users"});
  ASSERT_EQ(users.exit_code, 0) << Describe(users);
  EXPECT_EQ(users.out.rfind("USERNAME ", 0), 0u) << users.out;
  EXPECT_NE(users.out.find("\nadmin "), std::string::npos) << users.out;
}

// Usage errors need no server: the CLI rejects them before any request.
TEST(CliBinaryTest, BadUsageExitsTwoAndHelpZero) {
  TempDir home;
  std::string config = home.File("config");
  const std::vector<std::vector<std::string>> bad = {
      {"bogus"},          {"get", "projects", "--bogus"},
      {"get", "widgets"}, {"get", "projects", "-o", "xml"},
      {"apply"},          {},
  };
  for (const auto& args : bad) {
    ProcessResult r = Quader(args, config);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << Describe(r);
  }
  ProcessResult help = Quader({"--help"}, config);
  EXPECT_EQ(help.exit_code, 0) << Describe(help);
  EXPECT_NE(help.out.find("get"), std::string::npos);
}

TEST(CliBinaryTest, CommandsWithoutLoginExitOne) {
  TempDir home;
  ProcessResult r = Quader({"get", "projects"}, home.File("config"));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.err, "error: not logged in: run quader login --server URL --user NAME\n");

  ProcessResult unreachable =
      Quader({"login", "--server", "http://127.0.0.1:1", "--user", "a", "--password", "b"},
             home.File("config"));
  EXPECT_EQ(unreachable.exit_code, 1) << Describe(unreachable);
  EXPECT_NE(unreachable.err.find("cannot reach 127.0.0.1:1"), std::string::npos) << unreachable.err;
}

// --- the verbs kubectl users expect (docs/cli.md)

// docs/pipelines.md: `quader apply -f examples/templates/`.
TEST_F(CliE2eTest, ApplyAndDeleteADirectoryAsTheDocsSay) {
  LogIn("admin", kAdminPassword);
  std::string dir = std::string(kSourceDir) + "/examples/templates/";
  ProcessResult applied = As("admin", {"apply", "-f", dir});
  ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  EXPECT_EQ(applied.out,
            "jobtemplate/evaluate-model created (project public)\n"
            "jobtemplate/make-dataset created (project public)\n"
            "jobtemplate/python-script created (project public)\n"
            "jobtemplate/train-sklearn created (project public)\n");
  ProcessResult again = As("admin", {"apply", "-f", dir});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(std::count(again.out.begin(), again.out.end(), '\n'), 4) << again.out;
  EXPECT_EQ(again.out.find("created"), std::string::npos) << again.out;

  ProcessResult names = As("admin", {"get", "templates", "-o", "name"});
  ASSERT_EQ(names.exit_code, 0) << Describe(names);
  EXPECT_NE(names.out.find("python-script\n"), std::string::npos) << names.out;

  ProcessResult deleted = As("admin", {"delete", "-f", dir});
  ASSERT_EQ(deleted.exit_code, 0) << Describe(deleted);
  EXPECT_NE(deleted.out.find("template/python-script deleted\n"), std::string::npos) << deleted.out;
  // Deleting again: each reported not found, and that is no failure.
  ProcessResult twice = As("admin", {"delete", "-f", dir});
  EXPECT_EQ(twice.exit_code, 0) << Describe(twice);
  EXPECT_NE(twice.out.find("template/python-script not found\n"), std::string::npos) << twice.out;
}

TEST_F(CliE2eTest, ADirectoryWithABadFileAppliesNothing) {
  LogIn("admin", kAdminPassword);
  std::string dir = home_.File("docs");
  std::filesystem::create_directories(dir + "/nested");
  WriteFile(dir + "/a.yaml", "kind: Project\nname: good-a\n");
  WriteFile(dir + "/b.yaml", "kind: Project\nname: good-b\n---\nkind: Project\nname: bad\ncolour: red\n");
  WriteFile(dir + "/nested/c.yaml", "kind: Project\nname: [unclosed\n");

  ProcessResult bad = As("admin", {"apply", "-f", dir});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_NE(bad.err.find(dir + "/b.yaml: document 2 (Project \"bad\")"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("colour"), std::string::npos) << bad.err;
  EXPECT_EQ(As("admin", {"get", "project", "good-a"}).exit_code, 1);  // nothing applied
  EXPECT_EQ(As("admin", {"get", "project", "good-b"}).exit_code, 1);

  // -R reads the nested file too: its syntax error is named before anything is sent.
  ProcessResult deep = As("admin", {"apply", "-R", "-f", dir});
  EXPECT_EQ(deep.exit_code, 1) << Describe(deep);
  EXPECT_EQ(deep.err.rfind("error: " + dir + "/nested/c.yaml: malformed YAML at line", 0), 0u) << deep.err;

  ProcessResult missing = As("admin", {"apply", "-f", home_.File("no-such-dir")});
  EXPECT_EQ(missing.exit_code, 1) << Describe(missing);
  EXPECT_EQ(missing.err, "error: " + home_.File("no-such-dir") + ": cannot read: no such file or directory\n");
  EXPECT_EQ(As("admin", {"get", "project", "good-a"}).exit_code, 1);
}

TEST_F(CliE2eTest, AStrangerDescribingAnotherProjectsObjectGetsNotFound) {
  LogIn("admin", kAdminPassword);
  ProcessResult created = As("admin", {"apply", "-f", "-"}, std::string(kProjectDoc) +
      "---\nkind: JobTemplate\nname: secret-step\nproject: e2e-team\nimage: python:3.11\ncommand: echo hi\n");
  ASSERT_EQ(created.exit_code, 0) << Describe(created);
  ProcessResult mine = As("admin", {"describe", "template", "secret-step", "--project", "e2e-team"});
  ASSERT_EQ(mine.exit_code, 0) << Describe(mine);
  EXPECT_NE(mine.out.find("Name:         secret-step\n"), std::string::npos) << mine.out;
  EXPECT_NE(mine.out.find("Project:      e2e-team\n"), std::string::npos) << mine.out;
  ProcessResult project = As("admin", {"describe", "project", "e2e-team"});
  ASSERT_EQ(project.exit_code, 0) << Describe(project);
  EXPECT_NE(project.out.find("Members:\n  USERNAME"), std::string::npos) << project.out;

  CreateUser("bob", "bob-Pa55word");
  LogIn("bob", "bob-Pa55word");
  for (const std::vector<std::string>& what : {std::vector<std::string>{"template", "secret-step", "--project", "e2e-team"},
                                                std::vector<std::string>{"project", "e2e-team"}}) {
    std::vector<std::string> describe = {"describe"}, get = {"get"};
    describe.insert(describe.end(), what.begin(), what.end());
    get.insert(get.end(), what.begin(), what.end());
    ProcessResult d = As("bob", describe);
    ProcessResult g = As("bob", get);
    EXPECT_EQ(d.exit_code, 1) << Describe(d);
    EXPECT_NE(d.err.find("not found"), std::string::npos) << d.err;
    EXPECT_EQ(d.err, g.err);  // the same answer as get: nothing more is learnt
    EXPECT_EQ(d.out, "");
  }
}

// Waits until the file holds `text`.
bool WaitForText(const std::string& path, const std::string& text) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST_F(CliE2eTest, WatchPrintsChangesAndEndsCleanlyOnCtrlCAndWhenTheServerGoes) {
  LogIn("admin", kAdminPassword);
  std::vector<std::string> watch = {kBinary, "get", "projects", "-w", "--interval", "0.2"};
  std::vector<std::string> env = Environment({"QUADER_CONFIG=" + home_.File("admin.config")});
  std::string log = home_.File("watch.log");
  {
    BackgroundProcess watcher(watch, env, log);
    ASSERT_TRUE(WaitForText(log, "\npublic ")) << ReadFile(log);
    ASSERT_EQ(As("admin", {"apply", "-f", "-"}, kProjectDoc).exit_code, 0);
    ASSERT_TRUE(WaitForText(log, "\ne2e-team ")) << ReadFile(log);
    ASSERT_EQ(As("admin", {"delete", "project", "e2e-team"}).exit_code, 0);
    ASSERT_TRUE(WaitForText(log, "(deleted)")) << ReadFile(log);
    EXPECT_EQ(watcher.Stop(10, SIGINT), 0) << ReadFile(log);
    EXPECT_EQ(ReadFile(log).find("error"), std::string::npos) << ReadFile(log);
  }
  std::string log2 = home_.File("watch2.log");
  BackgroundProcess watcher(watch, env, log2);
  ASSERT_TRUE(WaitForText(log2, "\npublic ")) << ReadFile(log2);
  server_->Stop();
  ASSERT_TRUE(WaitForText(log2, "error: stopped watching: the server at " + api_ + " went away"))
      << ReadFile(log2);
  EXPECT_EQ(watcher.Stop(10), 1);
}

TEST(CliBinaryTest, CompletionScriptLoadsInBash) {
  TempDir home;
  ProcessResult script = Quader({"completion", "bash"}, home.File("config"));
  ASSERT_EQ(script.exit_code, 0) << Describe(script);
  WriteFile(home.File("completion.bash"), script.out);
  // Completing `quader des` and `quader get pipe` with the function the script defines.
  std::string check = "source " + home.File("completion.bash") +
                      " && COMP_WORDS=(quader des) && COMP_CWORD=1 && _quader && echo \"${COMPREPLY[*]}\""
                      " && COMP_WORDS=(quader get pipe) && COMP_CWORD=2 && _quader && echo \"${COMPREPLY[*]}\"";
  ProcessResult r = testing::RunProcess({"/bin/bash", "--norc", "-c", check}, Environment({}));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "describe\npipeline pipelines\n");
}

}  // namespace
}  // namespace quader::cli
