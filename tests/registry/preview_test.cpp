// registry/preview.h and workload/dataset_ref.h: a file's preview as its
// bytes stream by, whatever the cut of the pieces; data set refs.
#include <gtest/gtest.h>

#include <string>

#include "registry/preview.h"
#include "workload/dataset_ref.h"

namespace quader::registry {
namespace {

// Sends `text` in pieces of `piece` bytes (as BlobStore::Send would).
auto Pieces(const std::string& text, size_t piece) {
  return [text, piece](const std::function<bool(std::string_view)>& take) -> Status {
    for (size_t i = 0; i < text.size(); i += piece) {
      if (!take(std::string_view(text).substr(i, piece))) break;
    }
    return Status::Ok();
  };
}

TEST(PreviewTest, ATableHasItsColumnsTypesFirstRowsAndRowCountWhateverThePieces) {
  std::string csv = "id,score,ok,name,blank\r\n";
  for (int i = 0; i < 100; ++i) {
    csv += std::to_string(i) + "," + std::to_string(i) + ".5,true,\"n, " + std::to_string(i) + "\",\n";
  }
  csv += "100,1e3,false,\"quoted \"\"q\"\"\nover two lines\",\n";
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}}) {
    PreviewOptions o;
    o.rows = 3;
    auto p = PreviewFile("data/x.csv", static_cast<int64_t>(csv.size()), Pieces(csv, piece), o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ((*p)["kind"], "table");
    EXPECT_EQ((*p)["row_count"], 101) << "piece " << piece;
    ASSERT_EQ((*p)["columns"].size(), 5u);
    EXPECT_EQ((*p)["columns"][0], (Json{{"name", "id"}, {"type", "integer"}}));
    EXPECT_EQ((*p)["columns"][1]["type"], "number");
    EXPECT_EQ((*p)["columns"][2]["type"], "boolean");
    EXPECT_EQ((*p)["columns"][3]["type"], "string");
    EXPECT_EQ((*p)["columns"][4]["type"], "empty");
    ASSERT_EQ((*p)["rows"].size(), 3u);
    EXPECT_EQ((*p)["rows"][1][3], "n, 1");
  }
  auto tsv = PreviewFile("t.TSV", 0, Pieces("a\tb\n1\tx y\n", 3));
  ASSERT_TRUE(tsv.ok());
  EXPECT_EQ((*tsv)["separator"], "\t");
  EXPECT_EQ((*tsv)["rows"][0][1], "x y");
  EXPECT_EQ((*tsv)["row_count"], 1);
}

TEST(PreviewTest, HostileTablesStayBounded) {
  // One enormous field, an unterminated quote, a very wide row: cut, counted, never held whole.
  std::string huge = "h\n\"" + std::string(5 << 20, 'x');
  auto p = PreviewFile("a.csv", 0, Pieces(huge, 65536));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)["row_count"], 1);
  EXPECT_LE((*p)["rows"][0][0].get<std::string>().size(), 4096u);
  std::string wide(200000, ',');
  auto w = PreviewFile("w.csv", 0, Pieces(wide + "\n", 4096));
  ASSERT_TRUE(w.ok());
  EXPECT_LE((*w)["columns"].size(), 500u);
  // Wide rows of long cells: what is kept of each row stays under 64 KiB.
  std::string fat;
  for (int r = 0; r < 30; ++r) {
    for (int c = 0; c < 400; ++c) fat += std::string(2000, 'a' + r % 26) + ",";
    fat += "\n";
  }
  auto f = PreviewFile("f.csv", static_cast<int64_t>(fat.size()), Pieces(fat, 65536));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["row_count"], 29);
  EXPECT_LT(f->dump().size(), size_t{21 * 70 * 1024});
  // Rows are counted in a budget of bytes; past it the count is a lower bound.
  std::string many;
  for (int r = 0; r < 10000; ++r) many += "1,2\n";
  PreviewOptions budget;
  budget.count_bytes = 4096;
  auto m = PreviewFile("m.csv", static_cast<int64_t>(many.size()), Pieces(many, 1024), budget);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["row_count_exact"], false);
  EXPECT_LT((*m)["row_count"].get<int64_t>(), 9999);
  auto all = PreviewFile("m.csv", static_cast<int64_t>(many.size()), Pieces(many, 1024));
  EXPECT_EQ((*all)["row_count"], 9999);
  EXPECT_EQ((*all)["row_count_exact"], true);
}

TEST(PreviewTest, JsonTextAndTheRest) {
  auto j = PreviewFile("m.json", 13, Pieces(R"({"a": [1, 2]})", 2));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["value"], (Json{{"a", {1, 2}}}));
  PreviewOptions small;
  small.json_bytes = 8;
  auto big = PreviewFile("m.json", 100, Pieces(std::string(100, '['), 10), small);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ((*big)["too_large"], true);
  EXPECT_EQ((*big)["head"], "[[[[[[[[");
  // Nesting too deep for a parser is not a crash: it is shown as text.
  std::string deep(200000, '[');
  auto bomb = PreviewFile("d.json", static_cast<int64_t>(deep.size()), Pieces(deep, 4096));
  ASSERT_TRUE(bomb.ok());
  std::string nested = std::string(100000, '[') + std::string(100000, ']');
  auto whole = PreviewFile("n.json", static_cast<int64_t>(nested.size()), Pieces(nested, 4096));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ((*whole)["too_deep"], true);
  EXPECT_FALSE(whole->contains("value"));
  EXPECT_FALSE(whole->dump().empty());
  auto lines = PreviewFile("r.jsonl", 0, Pieces("{\"x\": 1}\n\n{\"x\": 2}\nnot json\n" + nested + "\n", 5));
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ((*lines)["row_count"], 4);
  EXPECT_TRUE((*lines)["rows"][3].is_null());  // too deep to show
  EXPECT_EQ((*lines)["rows"][1], (Json{{"x", 2}}));
  EXPECT_TRUE((*lines)["rows"][2].is_null());
  // Text: the first bytes, invalid UTF-8 replaced rather than refused.
  auto t = PreviewFile("notes.txt", 6, Pieces(std::string("ab\xff\xfe") + "cd", 1));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["kind"], "text");
  EXPECT_EQ((*t)["truncated"], false);
  EXPECT_EQ((*t)["head"].get<std::string>().substr(0, 2), "ab");
  EXPECT_EQ(PreviewFile("x.png", 5, Pieces("", 1))->value("kind", ""), "image");
  EXPECT_EQ(PreviewFile("x.bin", 5, Pieces("", 1))->value("kind", ""), "binary");
}

TEST(DatasetRefTest, NamesAndVersions) {
  auto list = workload::ParseDatasetRefs("datasets", new Json(Json::array({"iris@2", "digits"})));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "iris");
  EXPECT_EQ((*list)[0].version, 2);
  EXPECT_EQ((*list)[1].version, 0);
  Json text = " iris@2 , digits ";
  auto from_text = workload::ParseDatasetRefs("datasets", &text);
  ASSERT_TRUE(from_text.ok());
  EXPECT_EQ(workload::DatasetRefsJson(*from_text), (Json{"iris@2", "digits"}));
  for (const char* bad : {"iris@0", "iris@", "iris@01", "../x", "Iris", "iris@2@3", "iris@99999999999"}) {
    Json v = Json::array({bad});
    auto r = workload::ParseDatasetRefs("tasks[0].datasets", &v);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("tasks[0].datasets"), std::string::npos) << r.status().message();
    }
  }
  Json twice = Json::array({"iris@1", "iris@2"});
  EXPECT_FALSE(workload::ParseDatasetRefs("datasets", &twice).ok());
  Json number = 3;
  EXPECT_FALSE(workload::ParseDatasetRefs("datasets", &number).ok());
}

}  // namespace
}  // namespace quader::registry
