// The store suite, run against both backends: SQLite (a file) and
// PostgreSQL (a private server started for each test program; skipped with
// the reason where PostgreSQL is not installed).
#include "store/store.h"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <thread>

#include "fakes/postgres_instance.h"
#include "fakes/temp_dir.h"
#include "store/postgres/postgres_store.h"
#include "store/projects.h"
#include "store/users.h"

namespace quader::store {
namespace {

// One PostgreSQL server per test program (each test has its own database).
testing::PostgresInstance* Postgres() {
  static auto* instance = new testing::PostgresInstance();
  static bool cleanup = (std::atexit([] { delete instance; }), true);
  (void)cleanup;
  return instance;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      if (!Postgres()->ok()) GTEST_SKIP() << "no PostgreSQL: " << Postgres()->error();
      url_ = Postgres()->CreateDatabase();
      ASSERT_FALSE(url_.empty()) << "createdb failed";
    } else {
      url_ = "sqlite:" + dir_.File("q.db");
    }
    Reopen();
  }

  void Reopen() {
    store_.reset();
    auto s = OpenStore(url_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    Status migrated = store_->Migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  }

  UserRecord AddUser(const std::string& name) {
    UserRecord u;
    u.username = name;
    u.password_hash = "h";
    Status st = store_->Write([&](Tx& tx) -> Status {
      QUADER_ASSIGN_OR_RETURN(u, InsertUser(tx, u, 100));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return u;
  }

  testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(StoreTest, MigrateIsIdempotentAndRecordsVersions) {
  ASSERT_TRUE(store_->Migrate().ok());
  int64_t versions = 0;
  ASSERT_TRUE(store_->Read([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT COUNT(*) FROM schema_migrations"));
    versions = rows[0].Int(0);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(versions, static_cast<int64_t>(Migrations().size()));
}

TEST_P(StoreTest, UniqueNamesAreAlreadyExists) {
  AddUser("alice");
  UserRecord dup;
  dup.username = "alice";
  Status st = store_->Write([&](Tx& tx) { return InsertUser(tx, dup, 1).status(); });
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
}

TEST_P(StoreTest, FailedWriteRollsBackEverything) {
  Status st = store_->Write([&](Tx& tx) -> Status {
    UserRecord u;
    u.username = "carol";
    QUADER_RETURN_IF_ERROR(InsertUser(tx, u, 1).status());
    return errors::Invalid("x", "abort");  // a later step fails
  });
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  Status get = store_->Read([&](Tx& tx) { return GetUser(tx, "carol").status(); });
  EXPECT_EQ(get.code(), Code::kNotFound);
}

// A function that throws inside a transaction must not leave the store
// inside it: before, every later Write failed "cannot start a transaction
// within a transaction" while the server still looked healthy.
TEST_P(StoreTest, AThrowInsideAWriteRollsBackAndTheStoreStaysUsable) {
  struct Case {
    const char* why;
    std::function<void()> raise;
    const char* fragment;
  } cases[] = {
      {"a std::exception (nlohmann's dump of invalid UTF-8 throws one)",
       [] { throw std::runtime_error("invalid UTF-8 byte"); }, "invalid UTF-8 byte"},
      {"something that is no std::exception", [] { throw 42; }, "unknown exception"},
  };
  int n = 0;
  for (const auto& c : cases) {
    std::string name = "thrower" + std::to_string(n++);
    Status st = store_->Write([&](Tx& tx) -> Status {
      UserRecord u;
      u.username = name;
      QUADER_RETURN_IF_ERROR(InsertUser(tx, u, 1).status());
      c.raise();
      return Status::Ok();
    });
    EXPECT_EQ(st.code(), Code::kInternal) << c.why << ": " << st.ToString();
    EXPECT_NE(st.message().find(c.fragment), std::string::npos) << c.why << ": " << st.ToString();
    Status gone = store_->Read([&](Tx& tx) { return GetUser(tx, name).status(); });
    EXPECT_EQ(gone.code(), Code::kNotFound) << c.why << ": the insert before the throw was kept";
    // The next write commits and reads back.
    AddUser("after_" + name);
    Status back = store_->Read([&](Tx& tx) { return GetUser(tx, "after_" + name).status(); });
    EXPECT_TRUE(back.ok()) << c.why << ": " << back.ToString();
  }
}

TEST_P(StoreTest, AThrowInsideAReadIsAnErrorAndReadsGoOn) {
  AddUser("reader");
  for (int i = 0; i < 20; ++i) {  // more than the idle reader pool holds
    Status st = store_->Read([&](Tx& tx) -> Status {
      QUADER_RETURN_IF_ERROR(GetUser(tx, "reader").status());
      throw std::runtime_error("boom");
    });
    ASSERT_EQ(st.code(), Code::kInternal) << st.ToString();
    EXPECT_NE(st.message().find("boom"), std::string::npos) << st.ToString();
  }
  Status ok = store_->Read([&](Tx& tx) { return GetUser(tx, "reader").status(); });
  EXPECT_TRUE(ok.ok()) << ok.ToString();
  AddUser("writer");
}

TEST_P(StoreTest, CommittedDataSurvivesReopen) {
  UserRecord u = AddUser("dave");
  ProjectRecord p;
  p.name = "team";
  p.created_by = "dave";
  ASSERT_TRUE(store_->Write([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(p, InsertProject(tx, p, 5));
    return PutMember(tx, p.id, u.id, "creator", 5);
  }).ok());
  Reopen();
  std::optional<std::string> role;
  ASSERT_TRUE(store_->Read([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(ProjectRecord got, GetProject(tx, "team"));
    QUADER_ASSIGN_OR_RETURN(role, GetRole(tx, got.id, u.id));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(role, "creator");
}

TEST_P(StoreTest, DeletingAUserCascadesToTokensAndMemberships) {
  UserRecord u = AddUser("erin");
  ProjectRecord p;
  p.name = "proj";
  p.created_by = "erin";
  ASSERT_TRUE(store_->Write([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(p, InsertProject(tx, p, 1));
    QUADER_RETURN_IF_ERROR(PutMember(tx, p.id, u.id, "dev", 1));
    return InsertToken(tx, {0, u.id, "hash1", "", 1, 1000});
  }).ok());
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return DeleteUser(tx, "erin"); }).ok());
  ASSERT_TRUE(store_->Read([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto token, FindLiveToken(tx, "hash1", 2));
    EXPECT_FALSE(token.has_value());
    QUADER_ASSIGN_OR_RETURN(auto members, ListMembers(tx, p.id));
    EXPECT_TRUE(members.empty());
    return Status::Ok();
  }).ok());
}

TEST_P(StoreTest, TokensExpire) {
  UserRecord u = AddUser("frank");
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return InsertToken(tx, {0, u.id, "h", "", 1, 100}); }).ok());
  std::optional<TokenOwner> live, dead;
  ASSERT_TRUE(store_->Read([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(live, FindLiveToken(tx, "h", 99));
    QUADER_ASSIGN_OR_RETURN(dead, FindLiveToken(tx, "h", 100));
    return Status::Ok();
  }).ok());
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->user.username, "frank");
  EXPECT_FALSE(dead.has_value());
  int64_t removed = 0;
  ASSERT_TRUE(store_->Write([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(removed, DeleteExpiredTokens(tx, 100));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(removed, 1);
}

TEST_P(StoreTest, ListProjectsCarriesTheCallersRole) {
  UserRecord u = AddUser("gina");
  ASSERT_TRUE(store_->Write([&](Tx& tx) -> Status {
    for (const char* name : {"b-proj", "a-proj"}) {
      ProjectRecord p;
      p.name = name;
      p.created_by = "x";
      QUADER_ASSIGN_OR_RETURN(p, InsertProject(tx, p, 1));
      if (p.name == "b-proj") QUADER_RETURN_IF_ERROR(PutMember(tx, p.id, u.id, "ops", 1));
    }
    return Status::Ok();
  }).ok());
  std::vector<ProjectWithRole> all, mine;
  ASSERT_TRUE(store_->Read([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(all, ListProjects(tx, u.id, false));
    QUADER_ASSIGN_OR_RETURN(mine, ListProjects(tx, u.id, true));
    return Status::Ok();
  }).ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].project.name, "a-proj");  // sorted
  EXPECT_FALSE(all[0].role.has_value());
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].project.name, "b-proj");
  EXPECT_EQ(mine[0].role, "ops");
}

TEST_P(StoreTest, ReadsRunWhileAWriteIsOpen) {
  AddUser("hank");
  std::atomic<bool> read_done{false};
  Status st = store_->Write([&](Tx& tx) -> Status {
    UserRecord u;
    u.username = "ivy";
    QUADER_RETURN_IF_ERROR(InsertUser(tx, u, 1).status());
    std::thread reader([&] {
      // Sees the last committed state: hank, not the uncommitted ivy.
      Status r = store_->Read([&](Tx& rtx) -> Status {
        EXPECT_TRUE(GetUser(rtx, "hank").ok());
        EXPECT_EQ(GetUser(rtx, "ivy").status().code(), Code::kNotFound);
        return Status::Ok();
      });
      EXPECT_TRUE(r.ok()) << r.ToString();
      read_done = true;
    });
    reader.join();
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(read_done);
}

TEST_P(StoreTest, GenerationMovesOnlyOnCommit) {
  uint64_t g0 = store_->generation();
  AddUser("jack");
  uint64_t g1 = store_->generation();
  EXPECT_GT(g1, g0);
  if (store_->dialect() == "postgresql") return;  // it also moves with time (other servers' writes)
  (void)store_->Write([](Tx&) { return errors::Invalid("x", "rolled back"); });
  EXPECT_EQ(store_->generation(), g1);
  (void)store_->Read([](Tx& tx) { return tx.Query("SELECT 1").status(); });
  EXPECT_EQ(store_->generation(), g1);
}

// A failed statement (a unique violation the caller expects) leaves the
// transaction usable: the cron relies on it, and PostgreSQL would otherwise
// abort the whole transaction.
TEST_P(StoreTest, AFailedStatementLeavesTheTransactionUsable) {
  AddUser("kate");
  Status st = store_->Write([&](Tx& tx) -> Status {
    UserRecord dup;
    dup.username = "kate";
    EXPECT_EQ(InsertUser(tx, dup, 1).status().code(), Code::kAlreadyExists);
    UserRecord other;
    other.username = "lena";
    return InsertUser(tx, other, 1).status();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(store_->Read([&](Tx& tx) { return GetUser(tx, "lena").status(); }).ok());
}

// Values come back with their types: integers, doubles, text, NULL.
TEST_P(StoreTest, ValuesRoundTrip) {
  Status st = store_->Write([&](Tx& tx) -> Status {
    QUADER_RETURN_IF_ERROR(tx.Exec("CREATE TABLE t (i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT)"));
    return tx.Exec("INSERT INTO t (i, d, s, n) VALUES (?, ?, ?, ?)",
                   {int64_t{1} << 40, 2.5, std::string("it's a ? mark"), nullptr});
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(store_->Read([&](Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT i, d, s, n FROM t WHERE s <> 'x?' AND i = ?",
                                                {int64_t{1} << 40}));
    EXPECT_EQ(rows.size(), 1u);
    if (rows.empty()) return Status::Ok();
    EXPECT_EQ(rows[0].Int(0), int64_t{1} << 40);
    EXPECT_DOUBLE_EQ(rows[0].Double(1), 2.5);
    EXPECT_EQ(rows[0].Str(2), "it's a ? mark");
    EXPECT_TRUE(rows[0].IsNull(3));
    return Status::Ok();
  }).ok());
}

TEST(OpenStoreTest, RefusesUnknownUrls) {
  EXPECT_EQ(OpenStore("mysql://x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite:").status().code(), Code::kInvalidArgument);
  // PostgreSQL that is not there: unavailable, saying so.
  auto pg = OpenStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  EXPECT_EQ(pg.status().code(), Code::kUnavailable);
  EXPECT_NE(pg.status().message().find("PostgreSQL"), std::string::npos) << pg.status().ToString();
}

TEST(PostgresPlaceholdersTest, NumbersQuestionMarksOutsideQuotes) {
  EXPECT_EQ(PostgresStore::NumberPlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(PostgresStore::NumberPlaceholders("SELECT '?' || ? FROM \"q?\""), "SELECT '?' || $1 FROM \"q?\"");
}

}  // namespace
}  // namespace quader::store
