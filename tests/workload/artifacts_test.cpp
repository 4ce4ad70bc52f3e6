// Artifacts (workload/artifacts.h): an outputs directory as a hostile
// workload may leave it: links out of it (to a file, to a directory), a FIFO,
// deep and wide trees, bad paths.
#include "workload/artifacts.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fakes/temp_dir.h"

namespace quader::workload {
namespace {

namespace fs = std::filesystem;
using quader::testing::TempDir;

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

class ArtifactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.File("outputs");
    Write(root_ + "/model.joblib", "MODEL");
    Write(root_ + "/plots/roc.png", "PNG");
    Write(root_ + "/metrics.json", "{\"accuracy\": 0.9}");
    Write(dir_.File("secret"), "server secret");
    fs::create_symlink(dir_.File("secret"), root_ + "/leak");
    fs::create_directory_symlink(dir_.path(), root_ + "/up");
    ASSERT_EQ(mkfifo((root_ + "/pipe").c_str(), 0644), 0);
  }
  TempDir dir_;
  std::string root_;
};

TEST_F(ArtifactsTest, ListsEveryEntryWithoutFollowingLinks) {
  auto list = ListArtifacts(root_);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> seen;
  for (const auto& e : list->entries) seen.push_back(e.path + ":" + ArtifactTypeName(e.type));
  EXPECT_EQ(seen, (std::vector<std::string>{"leak:link", "metrics.json:file", "model.joblib:file", "pipe:other",
                                            "plots:directory", "plots/roc.png:file", "up:link"}));
  EXPECT_FALSE(list->truncated);
  EXPECT_EQ(list->total_bytes, 5 + 3 + 17);
  EXPECT_EQ(list->entries[2].size, 5);
  EXPECT_GT(list->entries[2].modified_ms, 1'600'000'000'000);
}

TEST_F(ArtifactsTest, OpensRegularFilesOnly) {
  auto model = OpenArtifact(root_, "model.joblib");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->size, 5);
  EXPECT_EQ(ReadAll(model->fd), "MODEL");
  auto png = OpenArtifact(root_, "plots/roc.png");
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(ReadAll(png->fd), "PNG");
  // Links, as the last component or on the way, are never followed.
  EXPECT_EQ(OpenArtifact(root_, "leak").status().code(), Code::kNotFound);
  EXPECT_EQ(OpenArtifact(root_, "up/secret").status().code(), Code::kNotFound);
  EXPECT_EQ(OpenArtifact(root_, "missing").status().code(), Code::kNotFound);
  // A FIFO does not block the server; a directory is not a file.
  EXPECT_EQ(OpenArtifact(root_, "pipe").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(OpenArtifact(root_, "plots").status().code(), Code::kInvalidArgument);
  for (const std::string& bad : std::vector<std::string>{"", "/etc/passwd", "../secret", "plots/../../secret", "plots//roc.png", "./model.joblib",
                                 "plots/", std::string("a\0b", 3), std::string(5000, 'a')}) {
    EXPECT_EQ(OpenArtifact(root_, bad).status().code(), Code::kInvalidArgument) << bad;
  }
  // No root (a task that never started) has no artifacts.
  EXPECT_EQ(OpenArtifact(dir_.File("none"), "model.joblib").status().code(), Code::kNotFound);
  auto none = ListArtifacts(dir_.File("none"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->entries.empty());
}

TEST_F(ArtifactsTest, ABigTreeIsCutAtTheLimit) {
  for (int i = 0; i < 50; ++i) Write(root_ + "/many/f" + std::to_string(i), "x");
  std::string deep = root_ + "/deep";
  for (int i = 0; i < 40; ++i) deep += "/d";
  fs::create_directories(deep);
  auto list = ListArtifacts(root_, 20);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->entries.size(), 20u);
  EXPECT_TRUE(list->truncated);
  auto all = ListArtifacts(root_);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->truncated) << "what lies deeper than 32 directories is left out, and said to be";
  size_t deepest = 0;
  for (const auto& e : all->entries) deepest = std::max<size_t>(deepest, std::count(e.path.begin(), e.path.end(), '/'));
  EXPECT_EQ(deepest, 31u);  // 32 levels at most
  // Long names spend the byte budget of a listing, not only its count.
  std::string long_dir = root_ + "/long";
  for (int i = 0; i < 100; ++i) Write(long_dir + "/" + std::string(200, 'n') + std::to_string(i), "");
  auto cut = ListArtifacts(root_, 10000, 8000);
  ASSERT_TRUE(cut.ok());
  EXPECT_TRUE(cut->truncated);
  size_t bytes = 0;
  for (const auto& e : cut->entries) bytes += e.path.size();
  EXPECT_LE(bytes, 8000u);
}

TEST_F(ArtifactsTest, LinkingCarriesFilesAndLinksButNeverFollowsOrCopies) {
  const std::string to = dir_.File("carried");
  ASSERT_TRUE(LinkArtifacts(root_, to).ok());
  struct stat a {}, b {};
  ASSERT_EQ(stat((root_ + "/model.joblib").c_str(), &a), 0);
  ASSERT_EQ(stat((to + "/model.joblib").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "a hard link, not a copy";
  EXPECT_EQ(ReadAll(open((to + "/plots/roc.png").c_str(), O_RDONLY)), "PNG");
  // The links are links again, pointing where they pointed; the FIFO is left out.
  EXPECT_TRUE(fs::is_symlink(to + "/leak"));
  EXPECT_EQ(fs::read_symlink(to + "/leak"), dir_.File("secret"));
  EXPECT_TRUE(fs::is_symlink(to + "/up"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(to + "/pipe")));
  EXPECT_FALSE(fs::exists(to + "/up/secret/x")) << "nothing under a linked directory was walked";
  // Nothing to carry: nothing made; too deep: refused by name.
  EXPECT_TRUE(LinkArtifacts(dir_.File("none"), dir_.File("empty")).ok());
  std::string deep = root_ + "/deep";
  for (int i = 0; i < 40; ++i) deep += "/d";
  fs::create_directories(deep);
  Status st = LinkArtifacts(root_, dir_.File("carried2"));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("deeper than 32"), std::string::npos) << st.message();
}

TEST(ArtifactContentTypeTest, PreviewsOnlyWhatCannotRunScript) {
  EXPECT_EQ(ArtifactContentType("train.CSV"), "text/csv; charset=utf-8");
  EXPECT_EQ(ArtifactContentType("metrics.json"), "application/json");
  EXPECT_EQ(ArtifactContentType("plots/roc.png"), "image/png");
  EXPECT_EQ(ArtifactContentType("notes.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(ArtifactContentType("page.html"), "application/octet-stream");
  EXPECT_EQ(ArtifactContentType("icon.svg"), "application/octet-stream");
  EXPECT_EQ(ArtifactContentType("model.joblib"), "application/octet-stream");
}

}  // namespace
}  // namespace quader::workload
