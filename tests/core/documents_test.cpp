#include "core/documents.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

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

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The classic billion laughs: 9 levels of 9 aliases each, 535 bytes that
// expand to 9^9 strings.
std::string BillionLaughs() {
  std::string text = "kind: JobTemplate\nname: lol\nlol0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (int i = 1; i <= 8; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    text += "lol" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) text += (k ? "," : "") + prev;
    text += "]\n";
  }
  return text;
}

// Hostile documents: each is refused with kInvalidArgument naming the
// problem, quickly, before anything large is built.
TEST(ParseDocumentsTest, RefusesHostileDocumentsNamingTheProblem) {
  const std::string deep_json = Repeat("{\"a\":", 100000) + "1" + Repeat("}", 100000);
  const std::string big = std::string(100 * 1024, 'x');
  struct Case {
    std::string text;
    std::string fragment;
    const char* why;
  } cases[] = {
      {"kind: JobTemplate\nname: hookr\nenv: &e {A: *e}\n",
       "env.A: recursive alias *e: it refers to a node that contains it (line 3, column 13)",
       "an alias inside its own anchor recursed forever"},
      {"a: &a [x, *a]\n", "a[1]: recursive alias *a", "a sequence containing itself"},
      {BillionLaughs(), "more than 100000 nodes (mappings, sequences, scalars and keys, with aliases expanded)",
       "9^9 strings from 535 bytes"},
      {"a: &a \"" + big + "\"\nb: [" + Repeat("*a,", 49) + "*a]\n", "b[40]: aliases expand to more than 4194304 bytes",
       "few nodes, many bytes: a 100 KiB string copied 50 times"},
      {deep_json, "body: nesting deeper than 64 levels at line 1, column 321 (byte offset 320)",
       "JSON nested 100,000 deep overflowed the stack"},
      {Repeat("[", 65) + Repeat("]", 65), "body: nesting deeper than 64 levels", "JSON arrays, one level too many"},
      {"x: " + Repeat("[", 64) + Repeat("]", 64) + "\n", "nesting deeper than 64 levels (line 1, column 67)",
       "YAML flow nesting, one level too many (the document is level 1)"},
      {"a: &a " + Repeat("[", 40) + Repeat("]", 40) + "\nb: " + Repeat("[", 30) + "*a" + Repeat("]", 30) + "\n",
       "nesting deeper than 64 levels", "an alias landing deep adds its own depth"},
      {"name: \"a\xff\"\n", "body: invalid UTF-8 at line 1, column 9 (byte offset 8)", "a raw byte that is not UTF-8"},
      {"name: x\nimage: \xe2\x82\n", "body: invalid UTF-8 at line 2, column 8 (byte offset 15)", "a truncated sequence"},
      {"name: \xed\xa0\x80\n", "invalid UTF-8 at line 1, column 7", "an encoded surrogate"},
      {"name: \xc0\xaf\n", "invalid UTF-8 at line 1, column 7", "an overlong encoding"},
      {std::string("name: a\0b\n", 10), "body: NUL character at line 1, column 8 (byte offset 7)",
       "a raw NUL was stored cut short"},
      {"name: \"a\\0b\"\n", "name: contains a NUL character", "a NUL from a YAML escape"},
      {"env: {\"K\\x00\": 1}\n", "env: a key contains a NUL character", "a NUL in a key"},
      {R"({"name": "a\u0000b"})", "name: contains a NUL character", "a NUL from a JSON escape"},
      {"cpu: 1e999\n", "cpu: number 1e999 is out of range: larger than a 64-bit float can hold (quote it to keep a string)",
       "a float overflow gave a 500"},
      {"retries: 99999999999999999999\n", "retries: number 99999999999999999999 is out of range: integers must fit in 64 bits",
       "an integer past 64 bits"},
      {"n: -9223372036854775809\n", "n: number -9223372036854775809 is out of range", "one below int64's minimum"},
      {R"({"cpu": 1e999})", "body: number 1e999 at line 1, column 9 (byte offset 8) is out of range", "JSON float overflow"},
      {R"({"n": [1, 18446744073709551616]})", "number 18446744073709551616 at line 1, column 11 (byte offset 10) is out of range",
       "JSON integer past 64 bits"},
  };
  for (const auto& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    auto r = ParseDocuments(c.text);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.ok()) << c.why;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.why;
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos) << c.why << " -> " << r.status().message();
    EXPECT_LT(took, std::chrono::seconds(1)) << c.why;
  }
}

TEST(ParseDocumentsTest, LimitsAreInclusive) {
  struct Case {
    std::string text;
    const char* why;
  } cases[] = {
      {Repeat("[", 64) + Repeat("]", 64), "JSON nested 64 deep"},
      {"x: " + Repeat("[", 63) + Repeat("]", 63) + "\n", "YAML nested 64 deep"},
      {"n: 9223372036854775807\nm: -9223372036854775808\n", "int64's ends"},
      {"f: 1.5e308\ng: 1e-999\n", "large and underflowing floats"},
      {R"({"f": 1.5e308, "g": 1e-999, "n": -9223372036854775808})", "the same in JSON"},
  };
  for (const auto& c : cases) {
    auto r = ParseDocuments(c.text);
    EXPECT_TRUE(r.ok()) << c.why << ": " << r.status().ToString();
  }
  DocumentLimits small;
  small.max_nodes = 7;  // the map, 3 keys, 3 values
  EXPECT_TRUE(ParseDocuments("a: 1\nb: 2\nc: 3\n", small).ok());
  auto over = ParseDocuments("a: 1\nb: 2\nc: 3\nd: 4\n", small);
  EXPECT_NE(over.status().message().find("more than 7 nodes"), std::string::npos) << over.status().ToString();
  auto over_json = ParseJson(R"({"a": 1, "b": 2, "c": 3, "d": 4})", small);
  EXPECT_NE(over_json.status().message().find("more than 7 nodes"), std::string::npos) << over_json.status().ToString();
}

TEST(ParseDocumentsTest, AliasesAreCopied) {
  auto docs = ParseDocuments(
      "base: &b {cpu: 1, tags: [x, y]}\n"
      "name: &n train\n"
      "task: {resources: *b, label: *n}\n"
      "*n : as a key\n"
      "empty: &e\n"
      "again: *e\n");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  const Json& d = (*docs)[0];
  EXPECT_EQ(d["task"]["resources"], Json::parse(R"({"cpu": 1, "tags": ["x", "y"]})"));
  EXPECT_EQ(d["task"]["label"], "train");
  EXPECT_EQ(d["train"], "as a key");
  EXPECT_TRUE(d["again"].is_null());
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
