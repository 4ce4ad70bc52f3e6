// The verbs kubectl users expect, in-process against a FakeServer:
// `delete -f`, `get --watch`, `describe`, `completion`, `-o name`; and the
// pure parts under them (document_files.h, watch.h).

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cli/commands/document_files.h"
#include "cli/exit_codes.h"
#include "cli/watch.h"
#include "cli_fixture.h"

namespace quader::cli {
namespace {

using testing::RunResult;
using testing::TempDir;
using testing::WriteFile;

class KubectlVerbsTest : public testing::CliFixture {
 protected:
  // Runs `get --watch`, interrupted after `polls` polls (each followed by a pause).
  RunResult Watch(std::vector<std::string> args, int polls) {
    args.insert(args.begin(), "quader");
    std::istringstream in;
    std::ostringstream out, err;
    Io io{in, out, err, false};
    io.sleep = [this](std::chrono::milliseconds interval) { pauses_.push_back(interval); };
    io.interrupted = [this, polls] { return pauses_.size() >= static_cast<size_t>(polls); };
    int code = RunWithIo(args, io);
    return {code, out.str(), err.str()};
  }
};

// --- document_files.h

TEST(DocumentFilesTest, ExpandPathsRowsOfGoodAndBadArguments) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("d/sub"));
  std::filesystem::create_directories(dir.File("d/.hidden"));
  std::filesystem::create_directories(dir.File("empty"));
  WriteFile(dir.File("d/b.yaml"), "kind: Project\nname: b\n");
  WriteFile(dir.File("d/a.json"), "{}");
  WriteFile(dir.File("d/notes.txt"), "");
  WriteFile(dir.File("d/sub/c.yml"), "");
  WriteFile(dir.File("d/.hidden/x.yaml"), "");
  auto flat = ExpandPaths({dir.File("d")}, false);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(*flat, (std::vector<std::string>{dir.File("d/a.json"), dir.File("d/b.yaml")}));
  auto deep = ExpandPaths({dir.File("d"), "-"}, true);
  ASSERT_TRUE(deep.ok()) << deep.status().ToString();
  EXPECT_EQ(*deep, (std::vector<std::string>{dir.File("d/a.json"), dir.File("d/b.yaml"), dir.File("d/sub/c.yml"), "-"}));

  auto missing = ExpandPaths({dir.File("nope")}, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), dir.File("nope") + ": cannot read: no such file or directory");
  auto empty = ExpandPaths({dir.File("empty")}, false);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find(dir.File("empty") + ": holds no .yaml, .yml or .json files"),
            std::string::npos);
}

TEST(DocumentFilesTest, ParseErrorsNameTheFileAndTheDocument) {
  struct Row {
    std::string text;
    std::string message;  // after "f.yaml: "
  };
  const Row rows[] = {
      {"kind: Project\nname: [unclosed\n", "malformed YAML at line 3"},      // a syntax error
      {"kind: Project\nname: a\n---\n- a list\n", "document 2: must be a mapping"},
      {"kind: Project\nname: a\n---\nname: b\n", "document 2: kind: is required (a string)"},
      {"kind: 7\nname: a\n", "document 1: kind: is required (a string)"},
      {"\n\n", "no documents to apply"},                                  // nothing at all
  };
  for (const Row& row : rows) {
    auto docs = ParseSources({{"f.yaml", row.text}});
    ASSERT_FALSE(docs.ok()) << row.text;
    EXPECT_EQ(docs.status().message().rfind("f.yaml: " + row.message, 0), 0u) << docs.status().message();
  }
  auto good = ParseSources({{"a.yaml", "kind: Pipeline\nname: p\n"}, {"b.yaml", "\n"}, {"<stdin>", "[{\"kind\": \"Project\", \"name\": \"x\"}]"}});
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_EQ(good->size(), 2u);
  EXPECT_EQ((*good)[1].Where(), "<stdin>: document 1 (Project \"x\")");
}

TEST(DocumentFilesTest, KindOrderAndServerMessagesNamingTheSource) {
  EXPECT_LT(KindRank("Project"), KindRank("JobTemplate"));
  EXPECT_LT(KindRank("JobTemplate"), KindRank("Pipeline"));
  EXPECT_LT(KindRank("Pipeline"), KindRank("Service"));
  EXPECT_LT(KindRank("InferenceService"), KindRank("SomethingNew"));
  std::vector<SourceDocument> sent = {{"a.yaml", 1, Json::object(), "Project"},
                                      {"b.yaml", 4, Json::object(), "Pipeline"}};
  EXPECT_EQ(NameSource("document 2 (Pipeline \"p\"): tasks: empty", sent), "b.yaml: document 4 (Pipeline \"p\"): tasks: empty");
  EXPECT_EQ(NameSource("document 3 (x): y", sent), "document 3 (x): y");  // out of range: as it is
  EXPECT_EQ(NameSource("body: too large", sent), "body: too large");
  EXPECT_EQ(NameSource("document 99999999999999999999: x", sent), "document 99999999999999999999: x");
}

// --- watch.h

TEST(WatchStateTest, ReportsAddedModifiedAndDeletedByVisibleCells) {
  constexpr Column kColumns[] = {{"NAME", "name"}, {"STATE", "state"}};
  WatchState state(kColumns);
  auto first = state.Update({{{"name", "a"}, {"state", "pending"}}, {{"name", "b"}, {"state", "running"}}});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].type, ChangeType::kAdded);
  // A field no column shows is no change; a state is.
  auto second = state.Update({{{"name", "a"}, {"state", "running"}}, {{"name", "b"}, {"state", "running"}, {"x", 1}}});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].type, ChangeType::kModified);
  EXPECT_EQ(RenderChanges(Format::kTable, kColumns, second), "a      running\n");
  auto third = state.Update({{{"name", "a"}, {"state", "running"}}});
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].type, ChangeType::kDeleted);
  EXPECT_EQ(RenderChanges(Format::kTable, kColumns, third), "b      running   (deleted)\n");
  EXPECT_EQ(RenderChanges(Format::kJson, kColumns, third),
            "{\"object\":{\"name\":\"b\",\"state\":\"running\",\"x\":1},\"type\":\"DELETED\"}\n");
  EXPECT_TRUE(state.Update({{{"name", "a"}, {"state", "running"}}}).empty());
}

TEST(WatchStateTest, WholeObjectsWithoutColumnsAndKeysByProject) {
  WatchState state({});
  state.Update({{{"name", "a"}, {"project", "p1"}}, {{"name", "a"}, {"project", "p2"}}});
  auto changes = state.Update({{{"name", "a"}, {"project", "p1"}, {"x", 1}}, {{"name", "a"}, {"project", "p2"}}});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].object["project"], "p1");
  EXPECT_EQ(ItemKey({{"id", 12}}), "/12");
}

// --- the verbs

TEST_F(KubectlVerbsTest, DeleteFromFilesReportsEachObjectDependentsFirst) {
  LogIn();
  WriteFile(dir_.File("a.yaml"),
            "kind: JobTemplate\nname: t\nproject: team\n---\nkind: Pipeline\nname: p\nproject: team\n---\n"
            "kind: Project\nname: team\n");
  server_.SetReply("DELETE", "/api/v1/pipelines/p?project=team", 204, "");
  server_.SetReply("DELETE", "/api/v1/templates/t?project=team", 404,
                   R"({"error": {"code": "not_found", "message": "template \"t\" not found"}})");
  server_.SetReply("DELETE", "/api/v1/projects/team", 409,
                   R"({"error": {"code": "failed_precondition", "message": "project team is not empty"}})");
  RunResult r = Run({"delete", "-f", dir_.File("a.yaml")});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out,
            "pipeline/p deleted\n"
            "template/t not found\n"
            "project/team not deleted: project team is not empty\n");
  EXPECT_EQ(r.err, "error: " + dir_.File("a.yaml") + ": document 3 (Project \"team\"): project team is not empty\n");
  // Not found alone is no failure: deleting twice is harmless.
  server_.SetReply("DELETE", "/api/v1/projects/team", 404,
                   R"({"error": {"code": "not_found", "message": "project \"team\" not found"}})");
  EXPECT_EQ(Run({"delete", "-f", dir_.File("a.yaml")}).code, kExitOk);
}

TEST_F(KubectlVerbsTest, DeleteFromFilesChecksEveryDocumentFirstAndUsage) {
  LogIn();
  WriteFile(dir_.File("a.yaml"), "kind: Project\nname: a\n---\nkind: Gadget\nname: g\n");
  RunResult r = Run({"delete", "-f", dir_.File("a.yaml")});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("document 2 (Gadget \"g\"): kind: \"Gadget\" is not a kind that can be deleted"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(server_.requests().empty());  // nothing deleted
  EXPECT_EQ(Run({"delete"}).code, kExitUsage);
  EXPECT_EQ(Run({"delete", "project"}).code, kExitUsage);
  EXPECT_EQ(Run({"delete", "project", "a", "-f", dir_.File("a.yaml")}).code, kExitUsage);
}

TEST_F(KubectlVerbsTest, WatchPrintsTheTableThenEachChangeUntilInterrupted) {
  LogIn();
  server_.SetReplySequence("GET", "/api/v1/runs",
                           {{200, R"({"items": [{"id": 1, "pipeline": "p", "state": "pending"}]})"},
                            {200, R"({"items": [{"id": 1, "pipeline": "p", "state": "running"}]})"},
                            {200, R"({"items": [{"id": 1, "pipeline": "p", "state": "running"},
                                                {"id": 2, "pipeline": "p", "state": "pending"}]})"},
                            {200, R"({"items": [{"id": 2, "pipeline": "p", "state": "pending"}]})"}});
  RunResult r = Watch({"get", "runs", "-w", "--interval", "0.5"}, 4);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::istringstream text(r.out);
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0].rfind("ID ", 0), 0u) << r.out;  // the table, with its header
  EXPECT_EQ(lines[1].rfind("1 ", 0), 0u) << r.out;
  EXPECT_NE(lines[1].find("pending"), std::string::npos) << r.out;
  EXPECT_EQ(lines[2].rfind("1 ", 0), 0u) << r.out;  // then each change, one row each
  EXPECT_NE(lines[2].find("running"), std::string::npos) << r.out;
  EXPECT_EQ(lines[3].rfind("2 ", 0), 0u) << r.out;
  EXPECT_EQ(lines[4].rfind("1 ", 0), 0u) << r.out;
  EXPECT_NE(lines[4].find("(deleted)"), std::string::npos) << r.out;
  ASSERT_FALSE(pauses_.empty());
  EXPECT_EQ(pauses_[0], std::chrono::milliseconds(500));
}

TEST_F(KubectlVerbsTest, WatchInJsonLinesAndWhenTheServerGoesAway) {
  LogIn();
  server_.SetReplySequence("GET", "/api/v1/projects",
                           {{200, R"({"items": [{"name": "a"}]})"}, {200, R"({"items": []})"}});
  RunResult r = Watch({"get", "projects", "-w", "-o", "json"}, 2);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"object\":{\"name\":\"a\"},\"type\":\"ADDED\"}\n{\"object\":{\"name\":\"a\"},\"type\":\"DELETED\"}\n");

  // A server that is gone: exit 1 saying so.
  testing::WriteFile(config_path_, Json({{"server", "http://127.0.0.1:1"}, {"token", "qdr_x"}}).dump());
  RunResult gone = Watch({"get", "projects", "-w"}, 5);
  EXPECT_EQ(gone.code, kExitFailure);
  EXPECT_NE(gone.err.find("stopped watching: the server at http://127.0.0.1:1 went away"), std::string::npos) << gone.err;
}

TEST_F(KubectlVerbsTest, DescribeShowsStateSpecRelatedObjectsAndEvents) {
  LogIn();
  server_.SetReply("GET", "/api/v1/services/echo?project=team", 200, R"({
      "id": 7, "kind": "Service", "name": "echo", "project": "team", "state": "running", "reason": "",
      "image": "python:3.11", "created_by": "alice", "created_at": "2026-12-01T10:00:00Z",
      "replica_states": [{"index": 0, "generation": 2, "state": "ready", "port": 4000}],
      "events": [{"at": "2026-12-01T10:00:05Z", "kind": "replica-ready", "message": "replica 0 is ready"}]})");
  RunResult r = Run({"describe", "service", "echo", "--project", "team"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  for (const char* part : {"Kind:         service\n", "Name:         echo\n", "Project:      team\n",
                           "State:        running\n", "Spec:\n  image: ", "python:3.11", "Replicas:\n  INDEX",
                           "ready", "Events (newest first):\n  AT", "replica 0 is ready"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
  }
  EXPECT_EQ(r.out.find("Reason:"), std::string::npos) << r.out;  // empty: not shown
}

TEST_F(KubectlVerbsTest, DescribeAPipelineListsItsRunsAndSchedules) {
  LogIn();
  server_.SetReply("GET", "/api/v1/pipelines/iris", 200, R"({"id": 3, "name": "iris", "project": "public"})");
  server_.SetReply("GET", "/api/v1/runs?pipeline=3&project=public&limit=10", 200,
                   R"({"items": [{"id": 41, "pipeline": "iris", "state": "succeeded"}]})");
  server_.SetReply("GET", "/api/v1/schedules?pipeline=3&project=public&limit=10", 500,
                   R"({"error": {"code": "internal", "message": "boom"}})");
  RunResult r = Run({"describe", "pipeline", "iris"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("Runs:\n  ID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("41"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Schedule records:\n  (cannot be listed: boom)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Events (newest first):\n  <none>"), std::string::npos) << r.out;
}

TEST_F(KubectlVerbsTest, DescribeOfWhatCannotBeSeenIsNotFound) {
  LogIn();
  server_.SetReply("GET", "/api/v1/pipelines/secret?project=other", 404,
                   R"({"error": {"code": "not_found", "message": "pipeline \"secret\" not found"}})");
  RunResult r = Run({"describe", "pipeline", "secret", "--project", "other"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "error: pipeline \"secret\" not found\n");
  EXPECT_EQ(Run({"describe", "pipeline"}).code, kExitUsage);
}

TEST_F(KubectlVerbsTest, OutputNamePrintsOneNamePerLine) {
  LogIn();
  server_.SetReply("GET", "/api/v1/runs", 200, R"({"items": [{"id": 4}, {"id": 5}]})");
  server_.SetReply("GET", "/api/v1/users", 200, R"({"items": [{"username": "alice"}]})");
  EXPECT_EQ(Run({"get", "runs", "-o", "name"}).out, "4\n5\n");
  EXPECT_EQ(Run({"get", "users", "-o", "name"}).out, "alice\n");
}

TEST_F(KubectlVerbsTest, CompletionScriptsCoverVerbsKindsAndNames) {
  RunResult bash = Run({"completion", "bash"});
  ASSERT_EQ(bash.code, kExitOk) << bash.err;
  for (const char* part : {"complete -F _quader quader", "apply", "describe", "completion", "pipelines",
                           "inference-services", "get \"$1\" -o name", "--watch", "--recursive"}) {
    EXPECT_NE(bash.out.find(part), std::string::npos) << part;
  }
  RunResult zsh = Run({"completion", "zsh"});
  ASSERT_EQ(zsh.code, kExitOk);
  EXPECT_NE(zsh.out.find("bashcompinit"), std::string::npos);
  EXPECT_EQ(Run({"completion", "fish"}).code, kExitUsage);
}

}  // namespace
}  // namespace quader::cli
