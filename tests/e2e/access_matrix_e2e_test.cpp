// The access matrix (issue 15): every route of /api/v1/openapi.json × every
// role {anonymous, stranger, dev, ops, creator, admin}, sent to a real server
// with project `pa`'s objects of every kind in the path, and the status
// compared with the hand-written table tests/e2e/access_matrix.tsv. A route
// without a row, or a row naming no route, fails the test.
//
// Roles: alice created `pa` (creator), bob is its dev, olga its ops, eve is
// in no project but `public` (stranger), admin is the admin. Objects are
// created by alice. Path parameters become those objects' ids; routes that
// delete or consume an object get it back (made again) before each request.
// A cell may list alternatives ("200|409") where the outcome depends on
// timing that is not access (a run that may already have ended).
//
// To rewrite the table after a deliberate change, run with
// QUADER_ACCESS_MATRIX_RECORD=FILE and review the diff of FILE.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "e2e/server_process.h"
#include "fakes/temp_dir.h"

namespace quader::testing {
namespace {

const std::vector<std::string> kRoles = {"anonymous", "stranger", "dev", "ops", "creator", "admin"};
const std::vector<std::string> kUserOfRole = {"", "eve", "bob", "olga", "alice", "admin"};

struct Row {
  std::string method, pattern;
  std::vector<std::string> expected;  // one cell per role
  int line = 0;
};

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, sep)) out.push_back(cell);
  return out;
}

// Whether `status` is one of the alternatives in `cell` ("200|409").
bool Matches(const std::string& cell, int status) {
  for (const auto& alt : Split(cell, '|')) {
    if (alt == std::to_string(status)) return true;
  }
  return false;
}

Json TemplateDoc(const std::string& name, const std::string& project = "pa") {
  return {{"kind", "JobTemplate"}, {"name", name}, {"project", project}, {"image", "quader/python:3.11"},
          {"command", "true"}};
}
Json PipelineDoc(const std::string& name, const std::string& project = "pa", const std::string& tpl = "tpl") {
  return {{"kind", "Pipeline"}, {"name", name}, {"project", project},
          {"tasks", Json::array({{{"name", "a"}, {"template", tpl}}})}};
}
Json ExperimentDoc(const std::string& name) {
  return {{"kind", "Experiment"}, {"name", name}, {"project", "pa"}, {"image", "quader/python:3.11"},
          {"command", Json::array({"true"})},
          {"search_space", {{"x", {{"_type", "uniform"}, {"_value", {0, 1}}}}}},
          {"tuner", "Random"}, {"max_trials", 1}, {"parallelism", 1}};
}
Json ServiceDoc(const std::string& name) {
  return {{"kind", "Service"}, {"name", name}, {"project", "pa"}, {"image", "quader/python:3.11"},
          {"command", "sleep 300"}, {"ports", Json::array({8080})}};
}
Json InferenceDoc(const std::string& model) {
  return {{"kind", "InferenceService"}, {"name", "serving-" + model + "-1"}, {"project", "pa"},
          {"service_type", "serving"}, {"model_name", model}, {"model_version", "v1"},
          {"image", "quader/python:3.11"}, {"command", "sleep 300"}, {"ports", Json::array({8080})}};
}
Json NotebookDoc(const std::string& name) {
  // vscode: code-server is not installed on test machines, so nothing heavy starts.
  return {{"kind", "Notebook"}, {"name", name}, {"project", "pa"}, {"type", "vscode"}};
}
Json ImageDoc(const std::string& name, const std::string& project = "pa") {
  return {{"project", project}, {"ref", project + "/" + name + ":1"}};
}
Json BuildDoc(const std::string& name) {
  return {{"project", "pa"}, {"name", name}, {"image", "pa/" + name + ":1"}, {"from", "quader/python:3.11"},
          {"dockerfile", "RUN true"}};
}

class AccessMatrixE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path());
    ASSERT_TRUE(server_->Start()) << server_->error();
    tokens_["admin"] = server_->Login("admin", "admin-pass-1");
    for (const char* name : {"alice", "bob", "olga", "eve", "mia", "target"}) {
      Must("POST", "/api/v1/users", {{"username", name}, {"password", std::string("password-") + name}}, "admin", 201);
      tokens_[name] = server_->Login(name, std::string("password-") + name);
    }
    Must("POST", "/api/v1/projects", {{"name", "pa"}}, "alice", 201);
    for (auto [user, role] : std::vector<std::pair<std::string, std::string>>{{"bob", "dev"}, {"olga", "ops"}, {"mia", "dev"}}) {
      Must("POST", "/api/v1/projects/pa/members", {{"username", user}, {"role", role}}, "alice", 201);
    }
    for (const char* kind : {"templates", "pipelines", "runs", "experiments", "services", "inference-services",
                             "notebooks", "images", "image-builds", "models", "datasets"}) {
      Ensure(kind);
    }
  }

  void TearDown() override {
    // Stop what the objects started (services, notebooks, experiments, runs).
    for (const char* kind : {"notebooks", "services", "inference-services", "experiments", "runs"}) {
      auto list = Json::parse(server_->Call("GET", std::string("/api/v1/") + kind, "", tokens_["admin"]).body, nullptr, false);
      if (list.is_discarded() || !list.contains("items")) continue;
      for (const auto& item : list["items"]) {
        std::string path = std::string("/api/v1/") + kind + "/" + std::to_string(item.value("id", int64_t{0}));
        server_->Call(std::string(kind) == "runs" ? "POST" : "DELETE", path + (std::string(kind) == "runs" ? "/stop" : ""),
                      "", tokens_["admin"]);
      }
    }
  }

  cli::HttpReply Send(const std::string& method, const std::string& path, const Json& body, const std::string& who) {
    return server_->Call(method, path, body.is_null() ? "" : body.dump(), who.empty() ? "" : tokens_[who]);
  }
  Json Must(const std::string& method, const std::string& path, const Json& body, const std::string& who, int status) {
    auto r = Send(method, path, body, who);
    EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_discarded() ? Json::object() : j;
  }

  // Makes sure the object a route's {id} (or {name}, {username}) names
  // exists, making it again (as alice) when a previous request deleted it.
  void Ensure(const std::string& kind) {
    if (ids_.count(kind)) {
      auto r = Send("GET", "/api/v1/" + kind + "/" + ids_[kind], nullptr, "admin");
      if (r.status == 200) return;
    }
    static const std::map<std::string, std::pair<std::string, std::function<Json()>>> kMake = {
        {"templates", {"/api/v1/templates", [] { return TemplateDoc("tpl"); }}},
        {"pipelines", {"/api/v1/pipelines", [] { return PipelineDoc("pl"); }}},
        {"experiments", {"/api/v1/experiments", [] { return ExperimentDoc("ex"); }}},
        {"services", {"/api/v1/services", [] { return ServiceDoc("sv"); }}},
        {"inference-services", {"/api/v1/inference-services", [] { return InferenceDoc("iris"); }}},
        {"notebooks", {"/api/v1/notebooks", [] { return NotebookDoc("nb"); }}},
        {"images", {"/api/v1/images", [] { return ImageDoc("img"); }}},
        {"image-builds", {"/api/v1/image-builds", [] { return BuildDoc("ib"); }}},
        {"models", {"/api/v1/models", [] { return Json{{"project", "pa"}, {"name", "mdl"}}; }}},
        {"datasets", {"/api/v1/datasets", [] { return Json{{"project", "pa"}, {"name", "ds"}}; }}},
    };
    Json made;
    if (kind == "runs") {
      Ensure("templates");
      Ensure("pipelines");
      made = Must("POST", "/api/v1/pipelines/" + ids_["pipelines"] + "/run", Json::object(), "alice", 201);
    } else if (kind == "pipelines") {
      Ensure("templates");
      made = Must("POST", kMake.at(kind).first, kMake.at(kind).second(), "alice", 201);
    } else if (kMake.count(kind)) {
      made = Must("POST", kMake.at(kind).first, kMake.at(kind).second(), "alice", 201);
    } else {
      return;
    }
    ids_[kind] = std::to_string(made.value("id", int64_t{0}));
  }

  // State a route needs before each request (see the file comment).
  void Prepare(const Row& row) {
    const std::string& p = row.pattern;
    if (p == "/api/v1/users/{username}") {
      if (Send("GET", "/api/v1/users/target", nullptr, "admin").status == 404) {
        Must("POST", "/api/v1/users", {{"username", "target"}, {"password", "password-target"}}, "admin", 201);
      }
    } else if (p == "/api/v1/projects/{name}" && row.method == "DELETE") {
      if (Send("GET", "/api/v1/projects/pd", nullptr, "admin").status == 404) {
        Must("POST", "/api/v1/projects", {{"name", "pd"}}, "alice", 201);
        Must("POST", "/api/v1/projects/pd/members", {{"username", "bob"}, {"role", "dev"}}, "alice", 201);
        Must("POST", "/api/v1/projects/pd/members", {{"username", "olga"}, {"role", "ops"}}, "alice", 201);
      }
    } else if (p == "/api/v1/projects/{name}/members/{username}") {
      Send("POST", "/api/v1/projects/pa/members", {{"username", "mia"}, {"role", "dev"}}, "admin");
    } else if (p == "/api/v1/projects/{name}/members" && row.method == "POST") {
      Send("DELETE", "/api/v1/projects/pa/members/target", nullptr, "admin");
    } else if (p.rfind("/api/v1/", 0) == 0) {
      auto segs = Split(p.substr(8), '/');
      if (segs.size() >= 2 && segs[1] == "{id}") Ensure(segs[0]);
    }
  }

  std::string PathFor(const Row& row) {
    std::string out;
    std::vector<std::string> segs = Split(row.pattern, '/');
    for (size_t i = 0; i < segs.size(); ++i) {
      const std::string& s = segs[i];
      if (i > 0) out += "/";
      if (s == "{id}") out += ids_[segs[i - 1]];
      else if (s == "{name}") out += row.method == "DELETE" && segs.size() == 5 ? "pd" : "pa";
      else if (s == "{username}") out += segs[i - 1] == "members" ? "mia" : "target";
      else if (s == "{task}") out += "a";
      else if (s == "{sequence}") out += "1";
      else if (s == "{stage}") out += "test";
      else if (s == "{version}") out += "1";
      else out += s;
    }
    static const std::set<std::string> kProjectLists = {
        "/api/v1/templates", "/api/v1/pipelines", "/api/v1/runs", "/api/v1/schedules", "/api/v1/experiments",
        "/api/v1/services", "/api/v1/inference-services", "/api/v1/notebooks", "/api/v1/images",
        "/api/v1/image-builds", "/api/v1/models", "/api/v1/datasets"};
    if (row.method == "GET" && kProjectLists.count(row.pattern)) out += "?project=pa";
    return out;
  }

  // A minimal body; names carry the role so that creates do not collide.
  Json BodyFor(const Row& row, const std::string& role) {
    const std::string key = row.method + " " + row.pattern;
    const std::string n = "x" + role;
    if (key == "POST /api/v1/login") return {{"username", "mia"}, {"password", "password-mia"}};
    if (key == "POST /api/v1/users") return {{"username", "new-" + role}, {"password", "password-new"}};
    if (key == "PUT /api/v1/users/{username}") return {{"email", "t@example.com"}};
    if (key == "POST /api/v1/projects") return {{"name", "new-" + role}};
    if (key == "PUT /api/v1/projects/{name}") return {{"description", "d"}};
    if (key == "POST /api/v1/projects/{name}/members") return {{"username", "target"}, {"role", "dev"}};
    if (key == "PUT /api/v1/projects/{name}/members/{username}") return {{"role", "dev"}};
    if (key == "POST /api/v1/apply") return TemplateDoc("applied-" + role);
    if (key == "POST /api/v1/projects/{name}/import/cube-studio") {
      return {{"job_template_name", "imported-" + role}, {"image_name", "python:3.9"}};
    }
    if (key == "POST /api/v1/templates") return TemplateDoc(n);
    if (key == "PUT /api/v1/templates/{id}") return TemplateDoc("tpl");
    if (key == "POST /api/v1/pipelines" || key == "POST /api/v1/pipelines/validate") return PipelineDoc(n);
    if (key == "PUT /api/v1/pipelines/{id}") return PipelineDoc("pl");
    if (key == "POST /api/v1/experiments") return ExperimentDoc(n);
    if (key == "POST /api/v1/services") return ServiceDoc(n);
    if (key == "PUT /api/v1/services/{id}") return ServiceDoc("sv");
    if (key == "POST /api/v1/inference-services") return InferenceDoc(n);
    if (key == "PUT /api/v1/inference-services/{id}") return InferenceDoc("iris");
    if (key == "POST /api/v1/notebooks") return NotebookDoc(n);
    if (key == "PUT /api/v1/notebooks/{id}") return NotebookDoc("nb");
    if (key == "POST /api/v1/images") return ImageDoc(n);
    if (key == "PUT /api/v1/images/{id}") return {{"description", "d"}};
    if (key == "POST /api/v1/image-builds") return BuildDoc(n);
    if (key == "POST /api/v1/trial/metrics") return {{"type", "FINAL"}, {"value", 1}};
    if (key == "POST /api/v1/models") return {{"project", "pa"}, {"name", n}};
    if (key == "POST /api/v1/models/{id}/versions") {
      return {{"run", std::stoll(ids_.count("runs") ? ids_["runs"] : "1")}, {"task", "a"}, {"framework", "custom"}};
    }
    if (key == "PUT /api/v1/models/{id}/versions/{version}") return {{"stage", "staging"}};
    if (key == "POST /api/v1/datasets") return {{"project", "pa"}, {"name", n}};
    if (key == "POST /api/v1/datasets/{id}/versions") return {{"uploads", "all"}};
    if (row.method == "POST" || row.method == "PUT") return Json::object();
    return nullptr;
  }

  // The token of `role` for this row: logout gets a fresh session, so that
  // the role's own stays valid for the rows after it.
  std::string TokenUser(const Row& row, size_t role) {
    const std::string& user = kUserOfRole[role];
    if (user.empty() || !(row.method == "POST" && row.pattern == "/api/v1/logout")) return user;
    tokens_["fresh"] = server_->Login(user, user == "admin" ? "admin-pass-1" : "password-" + user);
    return "fresh";
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::map<std::string, std::string> tokens_;  // by user name
  std::map<std::string, std::string> ids_;     // by collection: pa's object of that kind
};

std::vector<Row> ReadTable(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<Row> rows;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    auto cells = Split(line, '\t');
    if (cells.size() < 2 + kRoles.size()) {
      ADD_FAILURE() << path << ":" << n << ": want METHOD, PATH and " << kRoles.size() << " statuses: " << line;
      continue;
    }
    rows.push_back({cells[0], cells[1], std::vector<std::string>(cells.begin() + 2, cells.begin() + 2 + kRoles.size()), n});
  }
  return rows;
}

TEST_F(AccessMatrixE2ETest, EveryRouteAndRoleGetsTheDocumentedStatus) {
  const std::string table = std::string(QUADER_SOURCE_DIR) + "/tests/e2e/access_matrix.tsv";
  std::vector<Row> rows = ReadTable(table);
  Json doc = Json::parse(server_->Call("GET", "/api/v1/openapi.json").body, nullptr, false);
  ASSERT_TRUE(doc.is_object() && doc.contains("paths"));
  std::vector<std::pair<std::string, std::string>> routes;  // in the document's order
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      routes.emplace_back(m, path);
    }
  }
  std::set<std::pair<std::string, std::string>> in_table, in_doc(routes.begin(), routes.end());
  for (const auto& r : rows) {
    EXPECT_TRUE(in_doc.count({r.method, r.pattern})) << table << ":" << r.line << ": " << r.method << " " << r.pattern
                                                     << " is no route of openapi.json: remove the row";
    in_table.insert({r.method, r.pattern});
  }
  const char* record = std::getenv("QUADER_ACCESS_MATRIX_RECORD");
  for (const auto& route : routes) {
    EXPECT_TRUE(in_table.count(route)) << route.first << " " << route.second
                                       << " has no row in access_matrix.tsv: add one with the outcome per role";
    if (record && !in_table.count(route)) rows.push_back({route.first, route.second, std::vector<std::string>(kRoles.size(), "?"), 0});
  }

  // Deleting rows last, so that the others find every object where it was.
  std::stable_partition(rows.begin(), rows.end(), [](const Row& r) { return r.method != "DELETE"; });
  std::map<std::pair<std::string, std::string>, std::vector<int>> seen;
  for (const auto& row : rows) {
    std::vector<int>& got = seen[{row.method, row.pattern}];
    for (size_t role = 0; role < kRoles.size(); ++role) {
      Prepare(row);
      std::string path = PathFor(row);
      auto reply = Send(row.method, path, BodyFor(row, kRoles[role]), TokenUser(row, role));
      got.push_back(reply.status);
      EXPECT_TRUE(Matches(row.expected[role], reply.status))
          << table << ":" << row.line << ": " << row.method << " " << path << " as " << kRoles[role] << " ("
          << kUserOfRole[role] << "): got " << reply.status << ", the table says " << row.expected[role] << ": "
          << reply.body.substr(0, 300);
    }
  }

  if (record) {
    const char* out = record;
    std::ofstream file(out);
    file << "# method\tpath";
    for (const auto& r : kRoles) file << "\t" << r;
    file << "\n";
    for (const auto& route : routes) {
      file << route.first << "\t" << route.second;
      auto it = seen.find(route);
      for (size_t i = 0; i < kRoles.size(); ++i) {
        std::string cell = "?";
        if (it != seen.end() && i < it->second.size()) cell = std::to_string(it->second[i]);
        for (const auto& r : rows) {  // keep a row's alternatives when the status is one of them
          if (r.method == route.first && r.pattern == route.second && Matches(r.expected[i], std::stoi(cell == "?" ? "0" : cell)))
            cell = r.expected[i];
        }
        file << "\t" << cell;
      }
      file << "\n";
    }
    std::cout << "wrote the observed table to " << out << "\n";
  }
}

// Objects in `public` (every user is a dev there) may be changed, run or
// deleted only by their creator or an admin (issue 15 item 2). bob creates
// the pipeline and the image; job templates of public are the admin's alone
// (the admin creates it, so bob is "other" for it too); eve is another
// member of public.
TEST_F(AccessMatrixE2ETest, PublicObjectsAreWritableOnlyByTheirCreatorOrAnAdmin) {
  struct PublicRow {
    std::string kind, method, suffix;
    std::vector<int> expected;  // anonymous, other (eve), creator (bob), admin
  };
  const std::vector<PublicRow> table = {
      {"templates", "GET", "", {401, 200, 200, 200}},
      {"templates", "PUT", "", {401, 403, 403, 200}},
      {"pipelines", "GET", "", {401, 200, 200, 200}},
      {"pipelines", "PUT", "", {401, 403, 200, 200}},
      {"pipelines", "POST", "/run", {401, 403, 201, 201}},
      {"images", "GET", "", {401, 200, 200, 200}},
      {"images", "PUT", "", {401, 403, 200, 200}},
      {"pipelines", "DELETE", "", {401, 403, 200, 200}},
      {"templates", "DELETE", "", {401, 403, 403, 200}},
      {"images", "DELETE", "", {401, 403, 200, 200}},
  };
  const std::vector<std::string> users = {"", "eve", "bob", "admin"};
  std::map<std::string, std::string> ids;
  auto make = [&](const std::string& kind) {
    if (ids.count(kind) && Send("GET", "/api/v1/" + kind + "/" + ids[kind], nullptr, "admin").status == 200) return;
    Json doc = kind == "templates" ? TemplateDoc("ptpl", "public")
               : kind == "pipelines" ? PipelineDoc("ppl", "public", "ptpl")
                                     : ImageDoc("pimg", "public");
    ids[kind] = std::to_string(
        Must("POST", "/api/v1/" + kind, doc, kind == "templates" ? "admin" : "bob", 201).value("id", int64_t{0}));
  };
  for (const auto& row : table) {
    for (size_t i = 0; i < users.size(); ++i) {
      make("templates");
      make(row.kind);
      Json body = row.method != "PUT" ? Json(row.method == "POST" ? Json::object() : Json())
                  : row.kind == "templates" ? TemplateDoc("ptpl", "public")
                  : row.kind == "pipelines" ? PipelineDoc("ppl", "public", "ptpl")
                                            : Json{{"description", "d"}};
      std::string path = "/api/v1/" + row.kind + "/" + ids[row.kind] + row.suffix;
      auto reply = Send(row.method, path, body, users[i]);
      EXPECT_EQ(reply.status, row.expected[i]) << row.method << " " << path << " as " << (users[i].empty() ? "anonymous" : users[i])
                                               << ": " << reply.body.substr(0, 300);
    }
  }
}

}  // namespace
}  // namespace quader::testing
