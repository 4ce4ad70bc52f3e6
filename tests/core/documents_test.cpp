#include "core/documents.h"

#include <gtest/gtest.h>

namespace quader {
namespace {

TEST(ParseDocumentsTest, YamlScalarsFollowTheCoreSchema) {
  auto docs = ParseDocuments("a: 1\nb: 1.5\nc: true\nd: null\ne: '1'\nf: hello\ng: \"true\"\n");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  const Json& d = (*docs)[0];
  EXPECT_EQ(d["a"], 1);
  EXPECT_DOUBLE_EQ(d["b"].get<double>(), 1.5);
  EXPECT_EQ(d["c"], true);
  EXPECT_TRUE(d["d"].is_null());
  EXPECT_EQ(d["e"], "1");      // quoted stays a string
  EXPECT_EQ(d["f"], "hello");
  EXPECT_EQ(d["g"], "true");   // quoted stays a string
}

TEST(ParseDocumentsTest, SplitsOnSeparatorsAndDropsEmptyDocuments) {
  auto docs = ParseDocuments("kind: A\n---\n---\nkind: B\nlist: [1, x]\n");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1]["list"], Json::parse(R"([1, "x"])"));
}

TEST(ParseDocumentsTest, JsonObjectAndArray) {
  auto one = ParseDocuments(R"({"kind": "A"})");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  auto many = ParseDocuments(R"([{"kind": "A"}, {"kind": "B"}])");
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->size(), 2u);
}

TEST(ParseDocumentsTest, ErrorsNameTheProblem) {
  struct Case {
    const char* text;
    const char* fragment;
  } cases[] = {
      {"a: [1, 2\n", "malformed YAML at line"},       // unclosed flow sequence
      {"{\"a\": 1,}", "malformed JSON"},              // trailing comma
      {"a: 1\na: 2\n", "duplicate key \"a\""},        // YAML allows it, we refuse
      {"x: {y: 1, y: 2}\n", "x: duplicate key \"y\""},  // and name where
  };
  for (const auto& c : cases) {
    auto r = ParseDocuments(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos)
        << c.text << " -> " << r.status().message();
  }
}

TEST(ToYamlTest, RoundTripsThroughTheParser) {
  Json v = Json::parse(R"({"name": "x", "n": 3, "flag": false, "s": "123", "empty": "", "l": [1, "a"]})");
  auto back = ParseDocuments(ToYaml(v));
  ASSERT_TRUE(back.ok()) << ToYaml(v);
  EXPECT_EQ((*back)[0], v);
}

TEST(FieldReaderTest, TypesAndUnknownKeys) {
  Json o = Json::parse(R"({"s": "x", "i": 2, "b": true, "bad": 1})");
  FieldReader r(o, "spec");
  EXPECT_EQ(r.String("s", true).value(), "x");
  EXPECT_EQ(r.Int("i", 0).value(), 2);
  EXPECT_TRUE(r.Bool("b", false).value());
  EXPECT_EQ(r.String("missing", false, "dflt").value(), "dflt");
  auto missing = r.String("missing", true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "spec.missing: is required");
  auto wrong = r.Int("s", 0);
  EXPECT_EQ(wrong.status().message(), "spec.s: must be an integer");
  auto unknown = r.CheckKnownKeys({"s", "i", "b"});
  EXPECT_EQ(unknown.message(), "spec.bad: unknown field");
}

}  // namespace
}  // namespace quader
