#include <gtest/gtest.h>

#include <map>

#include "pipeline/render.h"

namespace quader::pipeline {
namespace {

class RenderTest : public ::testing::Test {
 protected:
  VariableLookup Lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }

  std::map<std::string, std::string> vars_ = {
      {"run_id", "r42"}, {"creator", "alice"}, {"tasks.train.outputs.model", "/outputs/m.joblib"}};
};

TEST_F(RenderTest, VariablesInListsNamesInOrderWithDuplicates) {
  auto names = VariablesIn("f", "/mnt/{{creator}}/{{ run_id }}-{{creator}}.csv");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"creator", "run_id", "creator"}));

  auto none = VariablesIn("f", "plain text with } and }} only");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(RenderTest, MalformedTextNamesTheField) {
  struct Row {
    const char* text;
    const char* message;
  } rows[] = {
      {"a {{run_id", "args.--x: unclosed \"{{\" at character 3"},  // never closed
      {"{{run_id}} and {{ x", "args.--x: unclosed"},              // the second is open
      {"{{}}", "args.--x: empty variable"},                       // no name
      {"{{   }}", "args.--x: empty variable"},                    // only spaces
  };
  for (const Row& r : rows) {
    auto names = VariablesIn("args.--x", r.text);
    ASSERT_FALSE(names.ok()) << r.text;
    EXPECT_EQ(names.status().code(), Code::kInvalidArgument);
    EXPECT_NE(names.status().message().find(r.message), std::string::npos) << names.status().message();
    EXPECT_FALSE(Render("args.--x", r.text, Lookup()).ok()) << r.text;
  }
}

TEST_F(RenderTest, RenderSubstitutesEveryOccurrence) {
  auto out = Render("f", "/mnt/{{creator}}/{{ run_id }}/{{creator}}", Lookup());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "/mnt/alice/r42/alice");

  auto dotted = Render("f", "--model={{tasks.train.outputs.model}}", Lookup());
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ(*dotted, "--model=/outputs/m.joblib");

  auto plain = Render("f", "no variables }} here", Lookup());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "no variables }} here");
}

TEST_F(RenderTest, RenderRefusesAnUnknownVariable) {
  auto out = Render("tasks[0] (a).env.X", "{{run_id}}-{{ nope }}", Lookup());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "tasks[0] (a).env.X: unknown variable {{nope}}");
}

TEST_F(RenderTest, RenderJsonRendersStringsButNotKeys) {
  Json in = Json::parse(R"({"--out": "{{run_id}}.csv", "--n": 3, "--cfg": {"{{key}}": ["{{creator}}", true]}})");
  auto out = RenderJson("args", in, Lookup());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, Json::parse(R"({"--out": "r42.csv", "--n": 3, "--cfg": {"{{key}}": ["alice", true]}})"));

  auto bad = RenderJson("args", Json::parse(R"({"--cfg": {"a": ["x", "{{missing}}"]}})"), Lookup());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "args.--cfg.a[1]: unknown variable {{missing}}");
}

}  // namespace
}  // namespace quader::pipeline
