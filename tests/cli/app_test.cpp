// Tests the CLI as a whole, in-process (cli/app.h): exit statuses, what each
// verb sends to the server and what it prints. The server is a FakeServer.

#include "cli/app.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "cli/exit_codes.h"
#include "cli_fixture.h"
#include "core/documents.h"

namespace quader::cli {
namespace {

using testing::ReadFile;
using testing::RunResult;
using testing::ScopedEnv;
using testing::WriteFile;

constexpr char kProjectsReply[] = R"({"items": [
  {"name": "public", "description": "Everyone", "created_by": "admin",
   "created_at": "2026-11-29T10:00:00Z", "role": "dev", "expand": {}},
  {"name": "team-a", "description": "", "created_by": "alice",
   "created_at": "2026-11-29T11:00:00Z", "role": "creator", "expand": {}}]})";

class AppTest : public testing::CliFixture {};

TEST_F(AppTest, BadUsageExitsTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                           // no verb
      {"bogus"},                                    // unknown verb
      {"run"},                                      // missing PIPELINE
      {"logs", "abc"},                              // not a run id
      {"logs", "12", "train", "--attempt", "0"},    // attempts count from 1
      {"stop"},                                     // missing RUN
      {"get"},                                      // missing KIND
      {"get", "widgets"},                           // unknown kind
      {"get", "projects", "-o", "xml"},             // bad output format
      {"get", "projects", "--bogus"},               // unknown flag
      {"get", "members"},                           // members without a project
      {"delete", "project"},                        // missing NAME
      {"delete", "member", "bob"},                  // member without --project
      {"apply"},                                    // missing -f
      {"login", "--server", "http://h:1"},          // missing --user
      {"login", "--user", "a", "--password", "p"},  // no server known
  };
  for (const auto& args : cases) {
    RunResult r = Run(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitUsage) << joined << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << joined << "\n" << r.err;
  }
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(AppTest, UsageErrorsNameTheProblem) {
  EXPECT_NE(Run({"bogus"}).err.find("unknown command \"bogus\""), std::string::npos);
  EXPECT_NE(Run({"get", "widgets"}).err.find("unknown kind \"widgets\""), std::string::npos);
  EXPECT_NE(Run({"get", "members"}).err.find("--project"), std::string::npos);
}

TEST_F(AppTest, HelpAndVersionExitZero) {
  RunResult help = Run({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("apply"), std::string::npos);
  EXPECT_NE(help.out.find("logs"), std::string::npos);
  EXPECT_EQ(Run({"get", "--help"}).code, kExitOk);
  // Waiting is not the run: the help says how to stop one.
  RunResult run_help = Run({"run", "--help"});
  EXPECT_EQ(run_help.code, kExitOk);
  EXPECT_NE(run_help.out.find("quader stop RUN"), std::string::npos) << run_help.out;

  RunResult version = Run({"version"});
  EXPECT_EQ(version.code, kExitOk);
  EXPECT_EQ(version.out.rfind("quader ", 0), 0u);
  EXPECT_EQ(Run({"--version"}).out, version.out);
}

TEST_F(AppTest, CommandsNeedALogin) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "projects"}, {"delete", "project", "a"},
        {"apply", "-f", "-"}, {"run", "iris"}, {"logs", "12"}, {"stop", "12"}}) {
    RunResult r = Run(args, "kind: Project\nname: a\n");
    EXPECT_EQ(r.code, kExitFailure);
    EXPECT_EQ(r.err, "error: not logged in: run quader login --server URL --user NAME\n");
  }
}

TEST_F(AppTest, LoginReadsPasswordFromStdinAndStoresTokenPrivately) {
  server_.SetReply("POST", "/api/v1/login", 200, R"({"token": "qdr_new", "user": {}})");
  RunResult r = Run({"login", "--server", server_.url() + "/", "--user", "alice"}, "s3cret\n");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "Logged in to " + server_.url() + " as alice.\n");

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(Json::parse(requests[0].body), Json({{"username", "alice"}, {"password", "s3cret"}}));
  EXPECT_EQ(StoredConfig(),
            Json({{"server", server_.url()}, {"token", "qdr_new"}, {"user", "alice"}}));
  struct stat st {};
  ASSERT_EQ(stat(config_path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AppTest, FailedLoginPrintsTheServersMessageAndStoresNothing) {
  server_.SetReply(
      "POST", "/api/v1/login", 401,
      R"({"error": {"code": "unauthenticated", "message": "wrong user name or password"}})");
  RunResult r = Run({"login", "--server", server_.url(), "--user", "alice", "--password", "x"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "error: wrong user name or password\n");
  EXPECT_EQ(ReadFile(config_path_), "");
}

TEST_F(AppTest, GetProjectsPrintsATable) {
  LogIn();
  server_.SetReply("GET", "/api/v1/projects", 200, kProjectsReply);
  RunResult r = Run({"get", "projects"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "NAME     ROLE      CREATED-BY   CREATED                DESCRIPTION\n"
            "public   dev       admin        2026-11-29T10:00:00Z   Everyone\n"
            "team-a   creator   alice        2026-11-29T11:00:00Z   -\n");
  EXPECT_EQ(server_.requests().at(0).headers["authorization"], "Bearer qdr_test");
}

TEST_F(AppTest, GetJsonPrintsTheItemsArrayAndYamlTheObject) {
  LogIn();
  server_.SetReply("GET", "/api/v1/projects", 200, kProjectsReply);
  server_.SetReply("GET", "/api/v1/projects/team-a", 200,
                   R"({"name": "team-a", "role": "creator"})");
  RunResult list = Run({"get", "proj", "-o", "json"});
  ASSERT_EQ(list.code, kExitOk) << list.err;
  Json items = Json::parse(list.out);
  ASSERT_TRUE(items.is_array());
  EXPECT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1]["name"], "team-a");

  RunResult one = Run({"get", "project", "team-a", "-o", "yaml"});
  ASSERT_EQ(one.code, kExitOk) << one.err;
  EXPECT_EQ(ParseDocuments(one.out).value().at(0), Json({{"name", "team-a"}, {"role", "creator"}}));
}

TEST_F(AppTest, GetQueriesTheCollectionOfEachKind) {
  LogIn();
  server_.SetReply("GET", "/api/v1/projects/team-a/members", 200,
                   R"({"items": [{"username": "bob", "role": "dev", "created_at": "t"}]})");
  server_.SetReply("GET", "/api/v1/pipelines?project=team-a", 200, R"({"items": []})");
  RunResult members = Run({"get", "members", "team-a"});
  ASSERT_EQ(members.code, kExitOk) << members.err;
  EXPECT_EQ(members.out, "USERNAME   ROLE   CREATED\nbob        dev    t\n");

  RunResult pipelines = Run({"get", "pipelines", "--project", "team-a"});
  EXPECT_EQ(pipelines.code, kExitOk) << pipelines.err;
  EXPECT_EQ(pipelines.out, "");
  EXPECT_EQ(pipelines.err, "No pipelines found.\n");

  // Routes the server lacks answer 404, reported as the error it is.
  RunResult runs = Run({"get", "runs"});
  EXPECT_EQ(runs.code, kExitFailure);
  EXPECT_EQ(runs.err, "error: no fake reply\n");
  EXPECT_EQ(server_.requests().back().target, "/api/v1/runs");
}

TEST_F(AppTest, ServerErrorsExitOneWithTheirMessage) {
  LogIn();
  server_.SetReply("GET", "/api/v1/projects/nope", 404,
                   R"({"error": {"code": "not_found", "message": "project \"nope\" not found"}})");
  RunResult r = Run({"get", "project", "nope"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: project \"nope\" not found\n");
}

TEST_F(AppTest, ApplySendsTheTextUnchangedAndPrintsEachResult) {
  LogIn();
  server_.SetReply("POST", "/api/v1/apply", 200, R"({"results": [
      {"kind": "Project", "name": "team-a", "action": "created"},
      {"kind": "Pipeline", "name": "train", "project": "team-a", "action": "unchanged"}]})");
  const std::string yaml = "kind: Project\nname: team-a\n---\nkind: Pipeline\nname: train\n";
  RunResult r = Run({"apply", "-f", "-"}, yaml);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "project/team-a created\npipeline/train unchanged (project team-a)\n");
  auto request = server_.requests().at(0);
  EXPECT_EQ(request.body, yaml);
  EXPECT_EQ(request.headers["content-type"], "application/yaml");
}

TEST_F(AppTest, OneJsonFileIsSentAsItIs) {
  LogIn();
  server_.SetReply("POST", "/api/v1/apply", 200, R"({"results": []})");
  WriteFile(dir_.File("a.json"), R"(  {"kind": "Project", "name": "a"})");
  RunResult r = Run({"apply", "-f", dir_.File("a.json")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  EXPECT_EQ(requests[0].body, R"(  {"kind": "Project", "name": "a"})");
}

// Several files go in one request (one transaction), ordered by kind: what
// others depend on first, each kind in the order of the files.
TEST_F(AppTest, SeveralFilesAreOneRequestInDependencyOrder) {
  LogIn();
  server_.SetReply("POST", "/api/v1/apply", 200, R"({"results": []})");
  WriteFile(dir_.File("a.yaml"), "kind: Pipeline\nname: p\n---\nkind: JobTemplate\nname: t1\n");
  WriteFile(dir_.File("b.json"), R"([{"kind": "JobTemplate", "name": "t2"}, {"kind": "Project", "name": "x"}])");
  RunResult r = Run({"apply", "-f", dir_.File("a.yaml"), "-f", dir_.File("b.json")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  Json sent = Json::parse(requests[0].body);
  std::vector<std::string> order;
  for (const Json& d : sent) order.push_back(d["name"]);
  EXPECT_EQ(order, (std::vector<std::string>{"x", "t1", "t2", "p"}));
}

TEST_F(AppTest, ADirectoryIsItsDocumentFilesSortedAndRecursiveWithR) {
  LogIn();
  server_.SetReply("POST", "/api/v1/apply", 200, R"({"results": []})");
  std::filesystem::create_directories(dir_.File("docs/sub"));
  WriteFile(dir_.File("docs/b.yml"), "kind: Project\nname: b\n");
  WriteFile(dir_.File("docs/a.yaml"), "kind: Project\nname: a\n");
  WriteFile(dir_.File("docs/README.md"), "not a document\n");
  WriteFile(dir_.File("docs/c.yaml.example"), "kind: Project\nname: example\n");
  WriteFile(dir_.File("docs/sub/d.json"), R"({"kind": "Project", "name": "d"})");
  auto sent_names = [&](size_t i) {
    std::vector<std::string> names;
    for (const Json& d : Json::parse(server_.requests().at(i).body)) names.push_back(d["name"]);
    return names;
  };
  RunResult flat = Run({"apply", "-f", dir_.File("docs")});
  ASSERT_EQ(flat.code, kExitOk) << flat.err;
  EXPECT_EQ(sent_names(0), (std::vector<std::string>{"a", "b"}));
  RunResult deep = Run({"apply", "-R", "-f", dir_.File("docs/")});
  ASSERT_EQ(deep.code, kExitOk) << deep.err;
  EXPECT_EQ(sent_names(1), (std::vector<std::string>{"a", "b", "d"}));
}

TEST_F(AppTest, ServerErrorsOfSeveralFilesNameTheFileAndDocument) {
  LogIn();
  server_.SetReply("POST", "/api/v1/apply", 400,
                   R"({"error": {"code": "invalid_argument",
                       "message": "document 3 (Project \"b\"): colour: unknown field"}})");
  WriteFile(dir_.File("a.yaml"), "kind: Project\nname: a\n");
  WriteFile(dir_.File("b.yaml"), "kind: Project\nname: zero\n---\nkind: Project\nname: b\ncolour: red\n");
  RunResult r = Run({"apply", "-f", dir_.File("a.yaml"), "-f", dir_.File("b.yaml")});
  EXPECT_EQ(r.code, kExitFailure);
  // Sent: a.yaml's document, then b.yaml's two; the third is b.yaml's second.
  EXPECT_EQ(r.err, "error: " + dir_.File("b.yaml") + ": document 2 (Project \"b\"): colour: unknown field\n");
}

TEST_F(AppTest, ApplyFailuresNameTheFile) {
  LogIn();
  server_.SetReply(
      "POST", "/api/v1/apply", 400,
      R"({"error": {"code": "invalid_argument", "message": "spec.colour: unknown field"}})");
  std::string missing = dir_.File("missing.yaml");
  RunResult unreadable = Run({"apply", "-f", missing});
  EXPECT_EQ(unreadable.code, kExitFailure);
  EXPECT_EQ(unreadable.err.rfind("error: " + missing + ": cannot read", 0), 0u) << unreadable.err;

  RunResult rejected = Run({"apply", "-f", "-"}, "kind: Project\nname: a\nspec: {colour: red}\n");
  EXPECT_EQ(rejected.code, kExitFailure);
  EXPECT_EQ(rejected.err, "error: <stdin>: spec.colour: unknown field\n");

  RunResult empty = Run({"apply", "-f", "-"}, "\n  \n");
  EXPECT_EQ(empty.code, kExitFailure);
  EXPECT_EQ(empty.err, "error: <stdin>: no documents to apply\n");
}

TEST_F(AppTest, DeleteCallsTheItemAndConfirms) {
  LogIn();
  server_.SetReply("DELETE", "/api/v1/projects/team-a", 200, "{}");
  RunResult r = Run({"delete", "projects", "team-a"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "project/team-a deleted\n");
  EXPECT_EQ(server_.requests().at(0).method, "DELETE");
}

TEST_F(AppTest, EnvironmentTokenOverridesTheStoredOne) {
  LogIn("qdr_file");
  ScopedEnv token("QUADER_TOKEN", "qdr_env");
  server_.SetReply("GET", "/api/v1/users", 200, R"({"items": []})");
  EXPECT_EQ(Run({"get", "users"}).code, kExitOk);
  EXPECT_EQ(server_.requests().at(0).headers["authorization"], "Bearer qdr_env");
}

TEST_F(AppTest, LogoutRevokesAndForgetsTheToken) {
  LogIn();
  server_.SetReply("POST", "/api/v1/logout", 200, "{}");
  RunResult r = Run({"logout"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(server_.requests().at(0).headers["authorization"], "Bearer qdr_test");
  Json stored = StoredConfig();
  EXPECT_EQ(stored["token"], "");
  EXPECT_EQ(stored["server"], server_.url());
  // Logged out, commands need a login again; logging out again is harmless.
  EXPECT_EQ(Run({"get", "projects"}).code, kExitFailure);
  EXPECT_EQ(Run({"logout"}).code, kExitOk);
}

TEST_F(AppTest, LogoutKeepsTheTokenWhenTheServerCannotRevokeIt) {
  LogIn();
  server_.SetReply("POST", "/api/v1/logout", 503,
                   R"({"error": {"code": "unavailable", "message": "store busy"}})");
  RunResult r = Run({"logout"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(StoredConfig()["token"], "qdr_test");
}

}  // namespace
}  // namespace quader::cli
