#include <gtest/gtest.h>

#include <algorithm>

#include "pipeline/template_args.h"

namespace quader::pipeline {
namespace {

// An xgboost template's args as cube-studio stores them: JSON text, every
// attribute spelled out, string defaults for numbers.
constexpr const char* kXgbArgs = R"({
  "训练参数": {
    "--lr": {"type": "float", "item_type": "str", "label": "learning rate", "require": 1,
             "choice": [], "range": "0,1", "default": "0.1", "placeholder": "", "describe": "eta", "editable": 1},
    "--n_estimators": {"type": "int", "label": "trees", "default": 100},
    "--objective": {"type": "enum", "item_type": "str", "choice": ["binary:logistic", "reg:squarederror"],
                    "default": "binary:logistic"},
    "--metrics": {"type": "multiple", "choice": ["auc", "logloss", "error"], "default": "auc,logloss"},
    "--early_stop": {"type": "bool", "default": false, "require": 0},
    "--max_depth": {"type": "int", "require": 0}
  },
  "数据": {
    "--train_path": {"type": "str", "label": "training data", "default": "/mnt/{{creator}}/train.csv"},
    "--features": {"type": "list", "item_type": "str", "require": 0},
    "--weights": {"type": "list", "item_type": "float", "require": 0},
    "--save": {"type": "dict", "require": 0,
               "sub_args": {"path": {"type": "str"}, "keep": {"type": "int", "default": 3}}},
    "--params": {"type": "json", "require": 0},
    "--sql": {"type": "text", "item_type": "sql", "require": 0},
    "--notes": {"type": "str", "require": 0},
    "images": {"type": "str", "require": 0},
    "workdir": {"type": "str", "require": 0}
  }
})";

class TemplateArgsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ParseArgSchema(Json(kXgbArgs), "args");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    schema_ = *parsed;
  }

  // Validates `values` (JSON text) without templates; fails the test on error.
  Json Valid(const std::string& values) {
    auto out = ValidateTaskArgs(schema_, Json::parse(values), "tasks[1].args", false);
    EXPECT_TRUE(out.ok()) << values << ": " << out.status().ToString();
    return out.ok() ? *out : Json();
  }

  std::string Refusal(const std::string& values, bool allow_templates = false) {
    auto out = ValidateTaskArgs(schema_, Json::parse(values), "tasks[1].args", allow_templates);
    EXPECT_FALSE(out.ok()) << values;
    if (out.ok()) return "";
    EXPECT_EQ(out.status().code(), Code::kInvalidArgument);
    return out.status().message();
  }

  ArgSchema schema_;
};

TEST_F(TemplateArgsTest, ParsesCubeStudioSchemaSortedByGroupThenName) {
  std::vector<std::string> names;
  for (const auto& a : schema_.args) names.push_back(a.group + "/" + a.name);
  // Groups sort by their UTF-8 bytes: 数据 (E6 95 B0) before 训练参数 (E8 AE AD).
  EXPECT_EQ(names, (std::vector<std::string>{
                       "数据/--features", "数据/--notes", "数据/--params", "数据/--save", "数据/--sql",
                       "数据/--train_path", "数据/--weights", "数据/images", "数据/workdir",
                       "训练参数/--early_stop", "训练参数/--lr", "训练参数/--max_depth", "训练参数/--metrics",
                       "训练参数/--n_estimators", "训练参数/--objective"}));
  const ArgSpec* lr = schema_.Find("--lr");
  ASSERT_NE(lr, nullptr);
  EXPECT_EQ(lr->type, ArgType::kFloat);
  EXPECT_EQ(lr->label, "learning rate");
  EXPECT_EQ(lr->describe, "eta");
  EXPECT_EQ(lr->range, "0,1");
  EXPECT_EQ(lr->default_value, "0.1");  // kept as written
  EXPECT_TRUE(lr->required);
  const ArgSpec* save = schema_.Find("--save");
  ASSERT_NE(save, nullptr);
  ASSERT_EQ(save->sub_args.size(), 2u);
  EXPECT_EQ(save->sub_args[0].name, "keep");
  EXPECT_EQ(save->sub_args[1].name, "path");
  EXPECT_EQ(schema_.Find("--sql")->item_type, "sql");  // an editor language for text
  EXPECT_EQ(schema_.Find("keep"), nullptr);              // sub_args are not top-level
  EXPECT_STREQ(ArgTypeName(schema_.Find("--metrics")->type), "multiple");
}

TEST_F(TemplateArgsTest, SchemaRoundTripsThroughToJson) {
  Json stored = schema_.ToJson();
  EXPECT_EQ(stored["训练参数"]["--n_estimators"]["type"], "int");
  EXPECT_EQ(stored["训练参数"]["--n_estimators"]["require"], 1);
  EXPECT_EQ(stored["训练参数"]["--max_depth"]["require"], 0);
  EXPECT_FALSE(stored["训练参数"]["--max_depth"].contains("default"));
  auto again = ParseArgSchema(stored, "args");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), stored);
  EXPECT_EQ(again->ToJson().dump(), stored.dump());
}

TEST_F(TemplateArgsTest, EmptySchemaForms) {
  for (const Json& empty : {Json(nullptr), Json(""), Json("  "), Json::object()}) {
    auto schema = ParseArgSchema(empty, "args");
    ASSERT_TRUE(schema.ok()) << empty.dump() << ": " << schema.status().ToString();
    EXPECT_TRUE(schema->args.empty());
  }
}

TEST(ArgSchemaTest, RefusalsNameThePath) {
  struct Row {
    const char* args;
    const char* message;
  } rows[] = {
      {R"({"Train": {"--lr": {"type": "number"}}})",
       "args.Train.--lr.type: unknown type \"number\" (use int, float, bool, str, text, enum"},
      {R"({"Train": {"--m": {"type": "enum"}}})", "args.Train.--m.choice: is required for type enum"},
      {R"({"Train": {"--m": {"type": "multiple", "choice": []}}})", "args.Train.--m.choice: is required"},
      {R"({"Train": {"--m": {"type": "enum", "choice": ["a", "b"], "default": "c"}}})",
       "args.Train.--m.default: \"c\" is not one of \"a\", \"b\""},
      {R"({"Train": {"--m": {"type": "multiple", "choice": ["a", "b"], "default": "a,z"}}})",
       "args.Train.--m.default: \"z\" is not one of"},
      {R"({"Train": {"--n": {"type": "int", "default": "ten"}}})", "args.Train.--n.default: \"ten\" is not an int"},
      {R"({"Train": {"--n": {"type": "float", "default": [1]}}})", "args.Train.--n.default: [1] is not a float"},
      {R"({"Train": {"--b": {"type": "bool", "default": "maybe"}}})", "args.Train.--b.default: \"maybe\" is not a bool"},
      {R"({"Train": {"--l": {"type": "list", "item_type": "bytes"}}})", "args.Train.--l.item_type: unknown item type"},
      {R"({"Train": {"--s": {"type": "str", "sub_args": {"a": {}}}}})", "args.Train.--s.sub_args: is only for type dict"},
      {R"({"Train": {"--d": {"type": "dict", "sub_args": {"a": {"type": "nope"}}}}})",
       "args.Train.--d.sub_args.a.type: unknown type \"nope\""},
      {R"({"A": {"--x": {}}, "B": {"--x": {}}})", "args.B.--x: is also defined in group \"A\""},
      {R"({"Train": {"--x": {"defualt": 1}}})", "args.Train.--x.defualt: unknown attribute"},
      {R"({"Train": {"--x": "int"}})", "args.Train.--x: must be an object of attributes"},
      {R"({"Train": ["--x"]})", "args.Train: must be an object of parameters"},
      {R"({"Train": {"--x": {"require": "yes"}}})", "args.Train.--x.require: must be 1 or 0"},
      {R"({"Train": {"--x": {"choice": "a,b"}}})", "args.Train.--x.choice: must be a list"},
      {R"([1, 2])", "args: must be an object of groups"},
      {R"("{not json")", "args: is not valid JSON"},
  };
  for (const Row& r : rows) {
    auto schema = ParseArgSchema(Json::parse(r.args), "args");
    ASSERT_FALSE(schema.ok()) << r.args;
    EXPECT_EQ(schema.status().code(), Code::kInvalidArgument);
    EXPECT_NE(schema.status().message().find(r.message), std::string::npos) << r.args << " -> "
                                                                            << schema.status().message();
  }
}

TEST(ArgSchemaTest, DefaultsDecideWhatIsRequired) {
  auto schema = ParseArgSchema(Json::parse(R"({"G": {
      "--a": {"type": "int"},
      "--b": {"type": "int", "default": ""},
      "--c": {"type": "int", "default": 5},
      "--d": {"type": "int", "require": 0},
      "--e": {"type": "str", "default": "{{creator}}"},
      "--f": {"type": "int", "default": "{{run_id}}"}}})"),
                               "args");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();  // templated defaults pass unchecked
  auto missing = ValidateTaskArgs(*schema, Json::object(), "args", true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "args.--a: is required");
  auto missing_b = ValidateTaskArgs(*schema, Json{{"--a", 1}}, "args", true);
  ASSERT_FALSE(missing_b.ok());  // an empty default is no default
  EXPECT_EQ(missing_b.status().message(), "args.--b: is required");
  auto ok = ValidateTaskArgs(*schema, Json{{"--a", 1}, {"--b", "2"}}, "args", true);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, Json::parse(R"({"--a": 1, "--b": 2, "--c": 5, "--e": "{{creator}}", "--f": "{{run_id}}"})"));
}

TEST_F(TemplateArgsTest, CastsAndFillsDefaults) {
  Json out = Valid(R"({"--lr": "0.05", "--n_estimators": "300", "--notes": 42, "--early_stop": "true",
                       "--max_depth": 6.0, "--metrics": "auc; error  logloss", "--features": "age, income,,city",
                       "--weights": [1, "0.5"], "--objective": "reg:squarederror",
                       "--save": {"path": "/mnt/m"}, "--params": "{\"eta\": 0.3}", "--sql": "select 1"})");
  EXPECT_EQ(out["--lr"], 0.05);
  EXPECT_TRUE(out["--lr"].is_number_float());
  EXPECT_EQ(out["--n_estimators"], 300);
  EXPECT_TRUE(out["--n_estimators"].is_number_integer());
  EXPECT_EQ(out["--notes"], "42");
  EXPECT_EQ(out["--early_stop"], true);
  EXPECT_EQ(out["--max_depth"], 6);
  EXPECT_TRUE(out["--max_depth"].is_number_integer());
  EXPECT_EQ(out["--metrics"], Json::parse(R"(["auc", "error", "logloss"])"));
  EXPECT_EQ(out["--features"], Json::parse(R"(["age", "income", "city"])"));
  EXPECT_EQ(out["--weights"], Json::parse("[1.0, 0.5]"));
  EXPECT_TRUE(out["--weights"][0].is_number_float());
  EXPECT_EQ(out["--save"], Json::parse(R"({"path": "/mnt/m", "keep": 3})"));  // sub-arg default filled
  EXPECT_EQ(out["--params"], Json::parse(R"({"eta": 0.3})"));                 // JSON text parsed
  EXPECT_EQ(out["--train_path"], "/mnt/{{creator}}/train.csv");               // default
  EXPECT_FALSE(out.contains("images"));                                       // optional, no default
}

TEST_F(TemplateArgsTest, MinimalValuesGetEveryDefault) {
  Json out = Valid("{}");
  EXPECT_EQ(out, Json::parse(R"({"--lr": 0.1, "--n_estimators": 100, "--objective": "binary:logistic",
      "--metrics": ["auc", "logloss"], "--early_stop": false, "--train_path": "/mnt/{{creator}}/train.csv"})"));
  // Same again from the normalised values: validation is idempotent.
  EXPECT_EQ(Valid(out.dump()), out);
}

TEST_F(TemplateArgsTest, EnumMatchesByTextAndTakesTheChoiceType) {
  auto schema = ParseArgSchema(Json::parse(R"({"G": {"--k": {"type": "enum", "item_type": "int",
                                                                  "choice": [1, 3, 5], "default": 3}}})"),
                               "args");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto out = ValidateTaskArgs(*schema, Json{{"--k", "5"}}, "args", false);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)["--k"], 5);
  EXPECT_TRUE((*out)["--k"].is_number_integer());
  auto bad = ValidateTaskArgs(*schema, Json{{"--k", 4}}, "args", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "args.--k: 4 is not one of 1, 3, 5");
}

TEST_F(TemplateArgsTest, RefusalsNameTheArgument) {
  struct Row {
    const char* values;
    const char* message;
  } rows[] = {
      {R"({"--lr": "fast"})", "tasks[1].args.--lr: \"fast\" is not a float"},
      {R"({"--n_estimators": "x"})", "tasks[1].args.--n_estimators: \"x\" is not an int"},
      {R"({"--n_estimators": 2.5})", "tasks[1].args.--n_estimators: 2.5 is not an int"},
      {R"({"--n_estimators": true})", "tasks[1].args.--n_estimators: true is not an int"},
      {R"({"--early_stop": "yes"})", "tasks[1].args.--early_stop: \"yes\" is not a bool"},
      {R"({"--early_stop": 2})", "tasks[1].args.--early_stop: 2 is not a bool"},
      {R"({"--objective": "multi:softmax"})",
       "tasks[1].args.--objective: \"multi:softmax\" is not one of \"binary:logistic\", \"reg:squarederror\""},
      {R"({"--metrics": "auc,rmse"})", "tasks[1].args.--metrics: \"rmse\" is not one of"},
      {R"({"--metrics": 7})", "tasks[1].args.--metrics: must be a list"},
      {R"({"--features": {"a": 1}})", "tasks[1].args.--features: must be a list"},
      {R"({"--weights": "1,heavy"})", "tasks[1].args.--weights[1]: \"heavy\" is not a float"},
      {R"({"--save": {"keep": 1}})", "tasks[1].args.--save.path: is required"},
      {R"({"--save": {"path": "p", "mode": 1}})", "tasks[1].args.--save.mode: unknown argument"},
      {R"({"--save": [1]})", "tasks[1].args.--save: must be an object"},
      {R"({"--notes": ["a"]})", "tasks[1].args.--notes: must be a string"},
      {R"({"--colour": "red"})", "tasks[1].args.--colour: unknown argument"},
      {R"({"--n_estimators": "{{run_id}}"})", "tasks[1].args.--n_estimators: \"{{run_id}}\" is not an int"},
  };
  for (const Row& r : rows) {
    std::string message = Refusal(r.values);
    EXPECT_NE(message.find(r.message), std::string::npos) << r.values << " -> " << message;
  }
  EXPECT_EQ(Refusal("[1]"), "tasks[1].args: must be an object of {name: value}");
}

TEST_F(TemplateArgsTest, TemplatesAreKeptUncheckedWhenAllowed) {
  auto out = ValidateTaskArgs(schema_, Json::parse(R"({"--n_estimators": "{{tasks.tune.outputs.trees}}",
      "--objective": "{{ objective }}", "--metrics": ["auc", "{{extra}}"]})"),
                              "args", /*allow_templates=*/true);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)["--n_estimators"], "{{tasks.tune.outputs.trees}}");
  EXPECT_EQ((*out)["--objective"], "{{ objective }}");
  EXPECT_EQ((*out)["--metrics"], Json::parse(R"(["auc", "{{extra}}"])"));
  // A string param holding a template is type-checked like any string either way.
  auto str = ValidateTaskArgs(schema_, Json{{"--notes", "{{run_id}}"}}, "args", false);
  ASSERT_TRUE(str.ok());
  EXPECT_EQ((*str)["--notes"], "{{run_id}}");
}

TEST_F(TemplateArgsTest, ArgvFollowsSchemaOrderAndCubeStudioRules) {
  Json values = Valid(R"({"--lr": 0.5, "--n_estimators": 200, "--metrics": ["auc", "error"],
      "--early_stop": true, "--features": ["a", "b"], "--save": {"path": "/m"}, "--params": {"x": [1, 2]},
      "--notes": "", "--sql": "select *\nfrom t", "images": "my/img:1", "workdir": "/w"})");
  std::vector<std::string> argv = RenderArgv(schema_, values);
  EXPECT_EQ(argv, (std::vector<std::string>{
                      "--features", R"(["a","b"])",            // list: compact JSON
                      "--params", R"({"x":[1,2]})",            // json: compact JSON
                      "--save", R"({"keep":3,"path":"/m"})",   // dict: compact JSON, keys sorted
                      "--sql", "select *\nfrom t",             // text as it is
                      "--train_path", "/mnt/{{creator}}/train.csv",
                      "--early_stop",                          // true bool: the bare flag
                      "--lr", "0.5",
                      "--metrics", "auc,error",                // multiple: joined by ','
                      "--n_estimators", "200",
                      "--objective", "binary:logistic"}));     // "" notes, images, workdir: left out
}

TEST_F(TemplateArgsTest, ArgvNumbersAndEmptyValues) {
  auto argv_of = [&](const Json& values) { return RenderArgv(schema_, values); };
  using V = std::vector<std::string>;
  EXPECT_EQ(argv_of(Json{{"--lr", 1.0}}), (V{"--lr", "1.0"}));
  EXPECT_EQ(argv_of(Json{{"--lr", 0.001}}), (V{"--lr", "0.001"}));
  EXPECT_EQ(argv_of(Json{{"--lr", 2.5e-06}}), (V{"--lr", "2.5e-06"}));
  EXPECT_EQ(argv_of(Json{{"--lr", 0.1}}), (V{"--lr", "0.1"}));
  EXPECT_EQ(argv_of(Json{{"--n_estimators", -3}}), (V{"--n_estimators", "-3"}));
  EXPECT_EQ(argv_of(Json{{"--early_stop", false}}), V{});
  EXPECT_EQ(argv_of(Json::parse(R"({"--features": [], "--save": {}, "--notes": "", "--max_depth": null})")), V{});
  EXPECT_EQ(argv_of(Json{{"--colour", "red"}}), V{});  // not in the schema: never emitted
  // Through validation: "1" for a float is 1.0 (Python's float("1")).
  std::vector<std::string> argv = argv_of(Valid(R"({"--lr": "1"})"));
  auto lr = std::find(argv.begin(), argv.end(), "--lr");
  ASSERT_TRUE(lr != argv.end() && lr + 1 != argv.end());
  EXPECT_EQ(*(lr + 1), "1.0");
}

}  // namespace
}  // namespace quader::pipeline
