// The files a task or a trial left in /outputs:
//   quader artifacts RUN/TASK | experiment/NAME/SEQ [-p PROJECT] [-o ...]
//   quader cp RUN/TASK:PATH DEST | experiment/NAME/SEQ:PATH DEST [-p PROJECT]
// DEST is a file, a directory (the file keeps its name) or "-" (standard
// output); a PATH that is a directory is copied with everything under it.
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/runs.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

namespace fs = std::filesystem;

constexpr Column kArtifactColumns[] = {
    {"PATH", "path"}, {"TYPE", "type"}, {"SIZE", "size"}, {"MODIFIED", "modified_at"}};

// Where a task's or a trial's outputs are, from "12/train" or "experiment/tune/3".
struct Source {
  std::string base;  // "/runs/12/tasks/train" or "/experiments/tune/trials/3"
  std::string query;  // "?project=P" for experiments, or ""
  std::string path;   // within /outputs ("" for the whole of it)
};

// "RUN/TASK[:PATH]" or "experiment/NAME/SEQ[:PATH]".
Result<Source> ParseSource(const std::string& text, const std::string& project, bool with_path) {
  std::string where = text, path;
  if (size_t colon = text.find(':'); colon != std::string::npos) {
    where = text.substr(0, colon);
    path = text.substr(colon + 1);
    while (!path.empty() && path.front() == '/') path.erase(0, 1);  // "/outputs/x" style paths are relative
    if (path.rfind("outputs/", 0) == 0) path.erase(0, 8);
  }
  if (!with_path && !path.empty()) return errors::Invalid(text, "give RUN/TASK or experiment/NAME/SEQ, without :PATH");
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t slash = where.find('/', start);
    parts.push_back(where.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  Source s;
  s.path = path;
  if (parts.size() == 2 && AllDigits(parts[0]) && !parts[1].empty()) {
    s.base = "/runs/" + parts[0] + "/tasks/" + EscapeComponent(parts[1]);
  } else if (parts.size() == 3 && parts[0] == "experiment" && !parts[1].empty() && AllDigits(parts[2])) {
    s.base = "/experiments/" + EscapeComponent(parts[1]) + "/trials/" + parts[2];
    if (!project.empty()) s.query = "project=" + EscapeComponent(project);
  } else {
    return errors::Invalid(text, "is not RUN/TASK (12/train) or experiment/NAME/SEQ (experiment/tune/3)");
  }
  return s;
}

std::string ListPath(const Source& s) { return s.base + "/artifacts" + (s.query.empty() ? "" : "?" + s.query); }

std::string FilePath(const Source& s, const std::string& path) {
  return s.base + "/artifact?path=" + EscapeComponent(path) + "&download=1" + (s.query.empty() ? "" : "&" + s.query);
}

// Downloads one file to `dest` (created with its parent directories).
Status Download(const Client& client, const Source& s, const std::string& path, const fs::path& dest) {
  std::error_code ec;
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path(), ec);
  const fs::path partial = dest.string() + ".part";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return errors::Invalid(dest.string(), "cannot be written");
  Status st = client.GetStream(FilePath(s, path), [&out](std::string_view piece) {
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    return static_cast<bool>(out);
  });
  out.close();
  if (!st.ok() || !out) {
    fs::remove(partial, ec);
    return st.ok() ? errors::Invalid(dest.string(), "cannot be written") : st;
  }
  fs::rename(partial, dest, ec);
  return ec ? errors::Invalid(dest.string(), ec.message()) : Status::Ok();
}

struct ArtifactsOptions {
  std::string source;
  std::string dest;
  std::string project;
  std::string output = "table";
};

Outcome List(const ArtifactsOptions& opts, Io& io) {
  auto format = ParseFormat(opts.output);
  if (!format.ok()) return Outcome::Usage(format.status().message());
  auto source = ParseSource(opts.source, opts.project, false);
  if (!source.ok()) return Outcome::Usage(source.status().message());
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto list = client->Get(ListPath(*source));
  if (!list.ok()) return Outcome::FromStatus(list.status());
  Json items = list->value("items", Json::array());
  if (*format == Format::kName) {
    for (const Json& item : items) io.out << item.value("path", "") << "\n";
    return Outcome::Ok();
  }
  io.out << Render(*format, kArtifactColumns, *format == Format::kTable ? items : *list);
  if (*format == Format::kTable && list->value("truncated", false)) io.out << "(more files: the list is cut)\n";
  return Outcome::Ok();
}

Outcome Copy(const ArtifactsOptions& opts, Io& io) {
  auto source = ParseSource(opts.source, opts.project, true);
  if (!source.ok()) return Outcome::Usage(source.status().message());
  if (source->path.empty()) return Outcome::Usage(opts.source + ": give the file after a colon: 12/train:model.joblib");
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  if (opts.dest == "-") {
    return Outcome::FromStatus(client->GetStream(FilePath(*source, source->path), [&io](std::string_view piece) {
      io.out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      return static_cast<bool>(io.out);
    }));
  }
  auto list = client->Get(ListPath(*source));
  if (!list.ok()) return Outcome::FromStatus(list.status());
  // The files to fetch: the one named, or every file under a directory.
  std::vector<std::string> files;
  bool is_dir = false;
  const std::string prefix = source->path + "/";
  for (const Json& item : list->value("items", Json::array())) {
    std::string path = item.value("path", ""), type = item.value("type", "");
    if (path == source->path) is_dir = type == "directory";
    if (type == "file" && (path == source->path || path.rfind(prefix, 0) == 0)) files.push_back(path);
  }
  if (files.empty() && !is_dir) {
    return Outcome::FromStatus(errors::NotFound("artifact", source->path + " (see quader artifacts " +
                                                              opts.source.substr(0, opts.source.find(':')) + ")"));
  }
  std::error_code ec;
  const fs::path dest(opts.dest);
  const bool into_dir = is_dir || fs::is_directory(dest, ec) || opts.dest.back() == '/';
  const std::string base = fs::path(source->path).filename().string();
  for (const std::string& file : files) {
    fs::path target = !into_dir ? dest
                      : is_dir  ? dest / base / fs::path(file.substr(prefix.size()))
                                : dest / base;
    Status st = Download(*client, *source, file, target);
    if (!st.ok()) return Outcome::FromStatus(st);
    io.out << file << " -> " << target.string() << "\n";
  }
  return Outcome::Ok();
}

}  // namespace

void AddArtifactsCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<ArtifactsOptions>();
  CLI::App* sub = app.add_subcommand("artifacts", "List the files a task or a trial left in /outputs");
  sub->add_option("source", opts->source, "RUN/TASK (12/train) or experiment/NAME/SEQ (experiment/tune/3)")
      ->required();
  sub->add_option("--project,-p", opts->project, "Project of the experiment (default: public)");
  sub->add_option("--output,-o", opts->output, "table, json, yaml or name (paths)")
      ->check(CLI::IsMember(FormatNames()));
  sub->footer("Copy one out with `quader cp RUN/TASK:PATH DEST`.");
  commands.push_back({sub, [opts, &io] { return List(*opts, io); }});

  auto cp = std::make_shared<ArtifactsOptions>();
  CLI::App* copy = app.add_subcommand("cp", "Copy a file (or a directory) of a task's or a trial's /outputs here");
  copy->add_option("source", cp->source, "RUN/TASK:PATH (12/train:model.joblib) or experiment/NAME/SEQ:PATH")
      ->required();
  copy->add_option("dest", cp->dest, "A file, a directory, or - (standard output)")->required();
  copy->add_option("--project,-p", cp->project, "Project of the experiment (default: public)");
  commands.push_back({copy, [cp, &io] { return Copy(*cp, io); }});
}

}  // namespace quader::cli
