#include "pipeline/expression.h"

#include <gtest/gtest.h>

#include <map>

namespace quader::pipeline {
namespace {

// A run whose logical time is Monday 2024-03-04 09:05:07 in its own zone.
class ExpressionTest : public ::testing::Test {
 protected:
  VariableLookup Lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  std::string Eval(const std::string& expr) {
    auto out = EvaluateExpression("args.--date", expr, Lookup());
    EXPECT_TRUE(out.ok()) << expr << ": " << out.status().ToString();
    return out.ok() ? *out : "<error>";
  }

  std::map<std::string, std::string> vars_ = {{"execution_date", "2024-03-04 09:05:07"}, {"creator", "alice"}};
};

TEST_F(ExpressionTest, EvaluatesCubeStudioDateExpressions) {
  struct Row {
    const char* expr;
    const char* want;
  } rows[] = {
      // cube-studio's published pipelines, as written
      {"datetime.datetime.now().strftime('v%Y.%m.%d.1')", "v2024.03.04.1"},
      {"datetime.datetime.now().strftime('%Y-%m-%d')", "2024-03-04"},
      // offsets in every unit, both orders of +
      {"(datetime.datetime.now() - datetime.timedelta(days=1)).strftime('%Y%m%d')", "20240303"},
      {"(datetime.datetime.now() - datetime.timedelta(days=4)).strftime('%Y-%m-%d')", "2024-02-29"},  // leap year
      {"(datetime.datetime.now() + datetime.timedelta(hours=15)).strftime('%F %T')", "2024-03-05 00:05:07"},
      {"(datetime.timedelta(minutes=5) + datetime.datetime.now()).strftime('%H:%M')", "09:10"},
      {"(datetime.datetime.now() - datetime.timedelta(weeks=1)).strftime('%d %b %Y')", "26 Feb 2024"},
      {"(datetime.datetime.now() - datetime.timedelta(1, 3600)).strftime('%H')", "08"},  // positional days, seconds
      // printing values as Python does
      {"datetime.datetime.now()", "2024-03-04 09:05:07"},
      {"datetime.date.today()", "2024-03-04"},
      {"datetime.datetime.now().date() - datetime.timedelta(days=1)", "2024-03-03"},
      {"datetime.datetime.now().isoformat()", "2024-03-04T09:05:07"},
      {"datetime.timedelta(days=1, hours=2)", "1 day, 2:00:00"},
      {"datetime.datetime.now() - datetime.datetime.now()", "0:00:00"},
      // names, attributes, text
      {"datetime.datetime.now().strftime('%A %B %j %w %I%p %y %%')", "Monday March 064 1 09AM 24 %"},
      {"datetime.datetime.now().year", "2024"},
      {"datetime.datetime.now().weekday()", "0"},
      {"creator + '-' + datetime.datetime.now().strftime(\"%m\")", "alice-03"},
      {"1 + 2 - 4", "-1"},
  };
  for (const Row& r : rows) EXPECT_EQ(Eval(r.expr), r.want) << r.expr;
}

TEST_F(ExpressionTest, NowIsTheRunsLogicalTimeInItsZone) {
  // The run's execution_date is already in its time zone; now() is that.
  vars_["execution_date"] = "2024-12-31 23:30:00";
  EXPECT_EQ(Eval("(datetime.datetime.now() + datetime.timedelta(minutes=45)).strftime('%Y-%m-%d %H:%M')"),
            "2025-01-01 00:15");
}

TEST_F(ExpressionTest, RefusesEverythingElseByName) {
  struct Row {
    const char* expr;
    const char* message;  // a fragment of the error
  } rows[] = {
      {"os.system('rm -rf /')", "\"os\" is not available in expressions"},
      {"__import__('os')", "\"__import__\" is not available"},
      {"open('/etc/passwd').read()", "\"open\" is not available"},
      {"datetime.datetime.utcnow()", "\"datetime.datetime.utcnow()\" is not supported"},
      {"datetime.datetime.now().replace(year=1)", "a datetime has no method \"replace\""},
      {"datetime.datetime.now().__class__", "has no attribute \"__class__\""},
      {"datetime.datetime.now().strftime('%Z')", "strftime directive %Z is not supported"},
      {"datetime.timedelta(fortnights=1)", "datetime.timedelta has no argument \"fortnights\""},
      {"datetime.timedelta(days=1e9)", "unexpected \"e9\""},
      {"datetime.timedelta(days=99999999)", "the timedelta is too long"},
      {"datetime.datetime.now() - datetime.timedelta(days=999999)", "the date is out of range"},
      {"datetime.datetime.now() + 1", "cannot add a number to a datetime"},
      {"'a' - 'b'", "cannot subtract text from text"},
      {"uuid.uuid4().hex", "\"uuid\" is not available"},
      {"x[0]", "unexpected character \"[\""},
      {"datetime.datetime.now(", "missing \")\""},
      {"nobody", "unknown variable \"nobody\""},
      {"'open", "unclosed text"},
  };
  for (const Row& r : rows) {
    auto out = EvaluateExpression("args.--date", r.expr, Lookup());
    ASSERT_FALSE(out.ok()) << r.expr << " gave " << *out;
    EXPECT_EQ(out.status().code(), Code::kInvalidArgument);
    EXPECT_NE(out.status().message().find("args.--date"), std::string::npos) << out.status().message();
    EXPECT_NE(out.status().message().find(r.message), std::string::npos) << r.expr << ": " << out.status().message();
  }
}

TEST_F(ExpressionTest, DeepOrLongExpressionsAreRefusedNotOverflowed) {
  std::string deep(5000, '(');
  deep.append("1").append(5000, ')');
  EXPECT_FALSE(EvaluateExpression("f", deep, Lookup()).ok());
  std::string nested(200, '(');
  nested.append("1").append(200, ')');
  auto out = EvaluateExpression("f", nested, Lookup());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("nested too deeply"), std::string::npos);
}

TEST_F(ExpressionTest, VariablesReadAreReportedForValidation) {
  auto names = ExpressionVariables("f", "creator + datetime.datetime.now().strftime('%Y')");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"creator", "execution_date"}));
  EXPECT_FALSE(ExpressionVariables("f", "os.getcwd()").ok());
}

TEST_F(ExpressionTest, PlainNamesAreNotExpressions) {
  EXPECT_TRUE(IsPlainVariable(" run_id "));
  EXPECT_TRUE(IsPlainVariable("tasks.split-data.outputs.rows"));
  EXPECT_FALSE(IsPlainVariable("datetime.datetime.now()"));
  EXPECT_FALSE(IsPlainVariable("a + b"));
}

TEST_F(ExpressionTest, RenderEvaluatesExpressionsAndValidationNamesThem) {
  auto out = Render("args.--model_version", "{{ datetime.datetime.now().strftime('v%Y.%m.%d.1') }}/{{creator}}",
                    Lookup());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "v2024.03.04.1/alice");
  auto names = VariablesIn("global_env.YYYYMMDD", "{{datetime.datetime.now().strftime('%Y-%m-%d')}}");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"execution_date"}));
  auto bad = VariablesIn("global_env.X", "{{ os.getenv('HOME') }}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"os\" is not available"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace quader::pipeline
