#include "api/apply.h"

#include <gtest/gtest.h>

#include "fakes/temp_dir.h"

namespace quader::api {
namespace {

// A registry with a toy kind that writes rows, so atomicity is observable.
class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenStore("sqlite:" + dir_.File("q.db"));
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->Write([](store::Tx& tx) { return tx.Exec("CREATE TABLE things (name TEXT PRIMARY KEY, project TEXT)"); }).ok());
    kinds_.Register("Thing", /*project_scoped=*/true,
                    [](store::Tx& tx, const auth::Principal&, const Json& doc, int64_t) -> Result<Change> {
                      if (doc.contains("fail")) return errors::Invalid("fail", "asked to fail");
                      QUADER_RETURN_IF_ERROR(tx.Exec("INSERT INTO things VALUES (?, ?) ON CONFLICT DO NOTHING",
                                                     {doc["name"].get<std::string>(), doc["project"].get<std::string>()}));
                      return tx.changes() ? Change::kCreated : Change::kUnchanged;
                    });
    kinds_.Register("Global", false, [](store::Tx&, const auth::Principal&, const Json&, int64_t) -> Result<Change> {
      return Change::kUnchanged;
    });
  }

  int64_t Count() {
    int64_t n = -1;
    EXPECT_TRUE(store_->Read([&](store::Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT COUNT(*) FROM things"));
      n = rows[0].Int(0);
      return Status::Ok();
    }).ok());
    return n;
  }

  Result<std::vector<ApplyResult>> Apply(const std::string& text) {
    return kinds_.ApplyAll(*store_, who_, text, 1);
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  KindRegistry kinds_;
  auth::Principal who_{1, "admin", true, ""};
};

TEST_F(ApplyTest, AppliesEveryDocumentAndDefaultsTheProject) {
  auto r = Apply("kind: Thing\nname: a\n---\nkind: Thing\nname: b\nproject: ml\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].project, "public");
  EXPECT_EQ((*r)[1].project, "ml");
  EXPECT_EQ((*r)[0].change, Change::kCreated);
  auto again = Apply("kind: Thing\nname: a\n");
  EXPECT_EQ((*again)[0].change, Change::kUnchanged);
}

TEST_F(ApplyTest, AllOrNothing) {
  auto r = Apply("kind: Thing\nname: a\n---\nkind: Thing\nname: b\nfail: true\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "document 2 (Thing \"b\"): fail: asked to fail");
  EXPECT_EQ(Count(), 0);
}

TEST_F(ApplyTest, HeaderErrorsNameTheDocument) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"name: a\n", "document 1: kind: is required (a string)"},
      {"kind: Thing\n", "document 1: name: is required (a string)"},
      {"kind: Thing\nname: a\n---\nkind: Gizmo\nname: b\n", "document 2: kind: unknown kind \"Gizmo\" (known: Global, Thing)"},
      {"kind: Global\nname: g\nproject: x\n", "document 1: project: a Global does not belong to a project"},
      {"- 1\n- 2\n", "document 1: must be a mapping with kind and name"},
      {"", "body: holds no documents"},
  };
  for (const auto& c : cases) {
    auto r = Apply(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.message);
  }
  EXPECT_EQ(Count(), 0);
}

}  // namespace
}  // namespace quader::api
