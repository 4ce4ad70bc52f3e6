#pragma once
// The documents `apply -f` and `delete -f` read: files, directories (every
// .yaml/.yml/.json in them, sorted; with `recursive`, in subdirectories
// too) and `-` (stdin), parsed here so that every error names the file and
// the document, and ordered so that what others depend on comes first.

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::cli {

// One document and where it came from. Plain value.
struct SourceDocument {
  std::string source;  // the file's path as found, or "<stdin>"
  size_t index = 0;    // 1-based position in its source
  Json doc;            // an object with a string `kind`
  std::string kind;

  // "examples/a.yaml: document 2 (Pipeline \"iris\")".
  std::string Where() const;
};

// The files behind each -f argument, in order: "-" stays "-"; a directory
// gives its .yaml, .yml and .json files sorted by path (with `recursive`,
// those of its subdirectories too; hidden entries are skipped); a file is
// itself. kInvalidArgument naming the path when it does not exist or is
// neither a file nor a directory, and when a directory holds no such file.
[[nodiscard]] Result<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& args,
                                                           bool recursive);

// One file's text. Plain value.
struct SourceText {
  std::string source;  // the path, or "<stdin>" for "-"
  std::string text;
};

// Reads every file ("-" from `in`, once however often it is named).
// kInvalidArgument naming the file when it cannot be read.
[[nodiscard]] Result<std::vector<SourceText>> ReadSources(const std::vector<std::string>& files,
                                                          std::istream& in);

// Parses every source. Every document must be a mapping with a string
// `kind`. Errors are kInvalidArgument and start with the file ("a.yaml:
// malformed YAML at line 3, ...", "a.yaml: document 2: kind: is required (a
// string)"). Sources holding no documents give none; no documents at all is
// an error naming the sources ("<stdin>: no documents to apply").
[[nodiscard]] Result<std::vector<SourceDocument>> ParseSources(const std::vector<SourceText>& sources);

// What -f arguments hold: ExpandPaths, ReadSources and ParseSources in one.
struct LoadedDocuments {
  std::vector<SourceText> sources;
  std::vector<SourceDocument> docs;
};
[[nodiscard]] Result<LoadedDocuments> LoadDocuments(const std::vector<std::string>& args, bool recursive,
                                                    std::istream& in);

// Where a kind goes when applying: projects first, then images, templates,
// pipelines, experiments, notebooks, services, inference services; kinds
// this list does not know last. Deleting goes the other way.
int KindRank(std::string_view kind);

// Stable: documents of one kind keep their order.
void SortForApply(std::vector<SourceDocument>& docs);

// Rewrites the server's "document N (Kind \"x\"): why", N counting in
// `sent`, to name the source: "a.yaml: document 2 (Kind \"x\"): why".
// Other messages are returned as they are.
std::string NameSource(const std::string& message, const std::vector<SourceDocument>& sent);

}  // namespace quader::cli
