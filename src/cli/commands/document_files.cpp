#include "cli/commands/document_files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace quader::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kStdin = "<stdin>";

bool IsDocumentFile(const fs::path& path) {
  std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool IsHidden(const fs::path& path) {
  std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

Result<std::vector<std::string>> FilesIn(const std::string& dir, bool recursive) {
  std::vector<std::string> files;
  std::error_code ec;
  auto visit = [&](const fs::directory_entry& e) {
    if (e.is_regular_file(ec) && IsDocumentFile(e.path())) files.push_back(e.path().string());
  };
  if (recursive) {
    fs::recursive_directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (IsHidden(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      visit(*it);
    }
  } else {
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (!IsHidden(it->path())) visit(*it);
    }
  }
  if (ec) return errors::Invalid(dir, "cannot be read: " + ec.message());
  if (files.empty()) {
    return errors::Invalid(dir, std::string("holds no .yaml, .yml or .json files") +
                                    (recursive ? "" : " (-R also reads its subdirectories)"));
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::string> ReadText(const std::string& file, std::istream& in) {
  std::stringstream text;
  if (file == "-") {
    text << in.rdbuf();
    return text.str();
  }
  std::ifstream f(file, std::ios::binary);
  if (!f) return errors::Invalid(file, std::string("cannot be read: ") + std::strerror(errno));
  text << f.rdbuf();
  return text.str();
}

// The parser names its place "body: ..."; here the file is the place.
std::string WithoutBodyPrefix(const std::string& message) {
  constexpr std::string_view kBody = "body: ";
  return message.rfind(kBody, 0) == 0 ? message.substr(kBody.size()) : message;
}

constexpr std::array<std::string_view, 8> kApplyOrder = {
    "Project", "ImageBuild", "JobTemplate", "Pipeline", "Experiment", "Notebook", "Service", "InferenceService",
};

}  // namespace

std::string SourceDocument::Where() const {
  std::string where = source + ": document " + std::to_string(index);
  auto name = doc.find("name");
  if (name != doc.end() && name->is_string()) where += " (" + kind + " \"" + name->get<std::string>() + "\")";
  return where;
}

Result<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& args, bool recursive) {
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (arg == "-") {
      files.push_back(arg);
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (fs::is_directory(st)) {
      QUADER_ASSIGN_OR_RETURN(std::vector<std::string> in_dir, FilesIn(arg, recursive));
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(st)) {
      files.push_back(arg);
    } else if (!fs::exists(st)) {
      return errors::Invalid(arg, "cannot read: no such file or directory");
    } else {
      return errors::Invalid(arg, "is neither a file nor a directory");
    }
  }
  return files;
}

Result<std::vector<SourceText>> ReadSources(const std::vector<std::string>& files, std::istream& in) {
  std::vector<SourceText> out;
  bool stdin_read = false;
  for (const std::string& file : files) {
    if (file == "-" && stdin_read) continue;
    stdin_read = stdin_read || file == "-";
    QUADER_ASSIGN_OR_RETURN(std::string text, ReadText(file, in));
    out.push_back({file == "-" ? std::string(kStdin) : file, std::move(text)});
  }
  return out;
}

Result<std::vector<SourceDocument>> ParseSources(const std::vector<SourceText>& sources) {
  std::vector<SourceDocument> out;
  for (const SourceText& source : sources) {
    auto docs = ParseDocuments(source.text);
    if (!docs.ok()) return errors::Invalid(source.source, WithoutBodyPrefix(docs.status().message()));
    for (size_t i = 0; i < docs->size(); ++i) {
      SourceDocument d{source.source, i + 1, std::move((*docs)[i]), ""};
      std::string where = source.source + ": document " + std::to_string(d.index);
      if (!d.doc.is_object()) return errors::Invalid(where, "must be a mapping with kind and name");
      auto kind = d.doc.find("kind");
      if (kind == d.doc.end() || !kind->is_string()) return errors::Invalid(where + ": kind", "is required (a string)");
      d.kind = kind->get<std::string>();
      out.push_back(std::move(d));
    }
  }
  if (out.empty()) {
    std::string names;
    for (const SourceText& s : sources) names += (names.empty() ? "" : ", ") + s.source;
    return errors::Invalid(names, "no documents to apply");
  }
  return out;
}

Result<LoadedDocuments> LoadDocuments(const std::vector<std::string>& args, bool recursive, std::istream& in) {
  QUADER_ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandPaths(args, recursive));
  LoadedDocuments out;
  QUADER_ASSIGN_OR_RETURN(out.sources, ReadSources(files, in));
  QUADER_ASSIGN_OR_RETURN(out.docs, ParseSources(out.sources));
  return out;
}

int KindRank(std::string_view kind) {
  auto it = std::find(kApplyOrder.begin(), kApplyOrder.end(), kind);
  return static_cast<int>(it - kApplyOrder.begin());
}

void SortForApply(std::vector<SourceDocument>& docs) {
  std::stable_sort(docs.begin(), docs.end(), [](const SourceDocument& a, const SourceDocument& b) {
    return KindRank(a.kind) < KindRank(b.kind);
  });
}

std::string NameSource(const std::string& message, const std::vector<SourceDocument>& sent) {
  constexpr std::string_view kDocument = "document ";
  if (message.rfind(kDocument, 0) != 0) return message;
  size_t end = kDocument.size();
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
  if (end == kDocument.size() || end - kDocument.size() > 9) return message;
  size_t n = std::stoul(message.substr(kDocument.size(), end - kDocument.size()));
  if (n == 0 || n > sent.size()) return message;
  const SourceDocument& d = sent[n - 1];
  return d.source + ": document " + std::to_string(d.index) + message.substr(end);
}

}  // namespace quader::cli
