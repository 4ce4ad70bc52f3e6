// registry/blob_store.h: staging leaves nothing behind on any failure, the
// start-up sweep clears what a killed server was writing, file names are
// checked, and removal takes only what is still unheld.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "fakes/temp_dir.h"
#include "registry/blob_store.h"

namespace quader::registry {
namespace {
namespace fs = std::filesystem;

int FilesUnder(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) n += it->is_regular_file();
  return n;
}

BlobStore::Reader Bytes(std::string text) {
  auto left = std::make_shared<std::string>(std::move(text));
  return [left](char* out, size_t n) -> Result<size_t> {
    size_t k = std::min(n, left->size());
    std::copy(left->begin(), left->begin() + static_cast<long>(k), out);
    left->erase(0, k);
    return k;
  };
}

TEST(BlobStoreTest, StagingLeavesNothingBehindWhateverFails) {
  testing::TempDir dir;
  BlobStore blobs(dir.path() + "/registry/blobs");
  // A reader that throws, one that fails, a body over the limit, a staged blob never placed.
  int calls = 0;
  auto throws = [&](char*, size_t) -> Result<size_t> {
    if (++calls > 2) throw std::length_error("field value too large");
    return size_t{10};
  };
  auto thrown = blobs.Stage(throws, 1 << 20);
  ASSERT_FALSE(thrown.ok());
  EXPECT_NE(thrown.status().message().find("field value too large"), std::string::npos);
  EXPECT_FALSE(blobs.Stage([](char*, size_t) -> Result<size_t> { return errors::Invalid("body", "cut"); }, 10).ok());
  EXPECT_FALSE(blobs.Stage(Bytes(std::string(100, 'x')), 10).ok());
  { auto dropped = blobs.Stage(Bytes("never placed"), 100); ASSERT_TRUE(dropped.ok()); }
  EXPECT_EQ(FilesUnder(dir.path() + "/registry/blobs"), 0);

  auto placed = blobs.Put(Bytes("kept"), 100);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(FilesUnder(dir.path() + "/registry/blobs"), 1);
  // The same bytes again: stored once.
  ASSERT_TRUE(blobs.Put(Bytes("kept"), 100).ok());
  EXPECT_EQ(FilesUnder(dir.path() + "/registry/blobs"), 1);

  // What a killed server was writing is cleared by the start-up sweep; what is held stays.
  fs::create_directories(dir.path() + "/registry/blobs/tmp");
  std::ofstream(dir.path() + "/registry/blobs/tmp/partial") << "half an upload";
  EXPECT_EQ(blobs.Collect([&](const std::string& sha) { return sha == placed->sha256; }), 0);
  EXPECT_FALSE(fs::exists(dir.path() + "/registry/blobs/tmp/partial"));
  EXPECT_EQ(FilesUnder(dir.path() + "/registry/blobs"), 1);

  // RemoveUnheld asks again (under its lock) and takes only what is still unheld.
  EXPECT_EQ(blobs.RemoveUnheld({placed->sha256}, [](const std::vector<std::string>&) { return std::vector<std::string>(); }), 0);
  EXPECT_EQ(FilesUnder(dir.path() + "/registry/blobs"), 1);
  EXPECT_EQ(blobs.RemoveUnheld({placed->sha256}, [](const std::vector<std::string>& c) { return c; }), 1);
  EXPECT_EQ(FilesUnder(dir.path() + "/registry/blobs"), 0);
}

TEST(BlobStoreTest, FileNamesAreRelativeUtf8WithoutControlCharactersOrOverlongParts) {
  for (const char* ok : {"a.csv", "images/cat 1.png", "données/été.csv", "深度/学习.txt"}) {
    EXPECT_TRUE(CheckFileName("path", ok).ok()) << ok;
  }
  for (const std::string bad : {std::string("../x"), std::string("/etc/passwd"), std::string("a//b"), std::string(""),
                                std::string("bad\xff.csv"), std::string("cut\xc3"), std::string("line\nbreak"),
                                std::string("tab\there"), std::string(256, 'n'), "dir/" + std::string(300, 'n')}) {
    EXPECT_FALSE(CheckFileName("path", bad).ok()) << bad;
  }
  EXPECT_TRUE(CheckFileName("path", std::string(255, 'n') + "/" + std::string(255, 'm')).ok());
}

}  // namespace
}  // namespace quader::registry
