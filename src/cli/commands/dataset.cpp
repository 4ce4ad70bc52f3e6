// `quader dataset upload|version|preview NAME ...`: data sets
// (docs/datasets.md). `quader get datasets` lists them, `quader describe
// dataset NAME` shows one with its versions, `quader delete dataset NAME`
// deletes one.
//
//   quader dataset upload NAME FILE|DIR... [--description D] [-p PROJECT]
//   quader dataset version NAME (--run R --task T [--path P] | --volume-path P) [-p PROJECT]
//   quader dataset preview NAME VERSION FILE [-p PROJECT]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace quader::cli {
namespace {
namespace fs = std::filesystem;

struct DatasetOptions {
  std::string action;  // upload, version, preview
  std::string name;
  std::string project;
  std::vector<std::string> files;  // upload: files and directories; preview: VERSION FILE
  std::string description;
  int64_t run = 0;
  std::string task;
  std::string path;
  std::string volume_path;
};

// Each file to send and where it goes in the version: a file by its name, a
// directory's files by their paths under it (links are not followed).
Result<std::vector<std::pair<std::string, std::string>>> FilesToSend(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& a : args) {
    std::error_code ec;
    fs::path p(a);
    auto st = fs::symlink_status(p, ec);
    if (ec) return errors::Invalid("file", a + ": " + ec.message());
    if (fs::is_regular_file(st)) {
      out.emplace_back(a, p.filename().string());
    } else if (fs::is_directory(st)) {
      for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file() && !it->is_symlink()) {
          out.emplace_back(it->path().string(), fs::relative(it->path(), p).generic_string());
        }
      }
      if (ec) return errors::Invalid("file", a + ": " + ec.message());
    } else {
      return errors::Invalid("file", a + " is not a file or a directory");
    }
  }
  if (out.empty()) return errors::Invalid("file", "no files to upload");
  return out;
}

std::string Mib(int64_t bytes) {
  char text[32];
  snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// Sends one file; progress goes to stderr, a line at each tenth.
Result<int64_t> SendFile(const Client& client, const std::string& base, const std::string& local,
                         const std::string& path, const std::string& query_project, Io& io) {
  int fd = open(local.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errors::Invalid("file", local + ": " + std::strerror(errno));
  struct stat st {};
  fstat(fd, &st);
  const int64_t size = st.st_size;
  int shown = 0;
  auto progress = [&](int64_t sent) {
    int tenth = size > 0 ? static_cast<int>(sent * 10 / size) : 10;
    if (size >= (8 << 20) && tenth > shown) {
      shown = tenth;
      io.err << "  " << path << ": " << Mib(sent) << " of " << Mib(size) << " (" << tenth * 10 << "%)\n";
    }
  };
  auto r = client.Upload(base + "/uploads?path=" + EscapeComponent(path) + query_project, fd, size, progress);
  close(fd);
  if (!r.ok()) return r.status();
  io.out << "uploaded " << path << " (" << r->value("size", int64_t{0}) << " bytes, sha256 "
         << r->value("sha256", "").substr(0, 12) << ")\n";
  return r->value("id", int64_t{0});
}

Outcome PrintVersion(const Json& v, Io& io) {
  io.out << "data set " << v.value("dataset", "") << " version " << v.value("version", 0) << " ("
         << v.value("ref", "") << "): " << v.value("file_count", 0) << " files, " << v.value("size_bytes", int64_t{0})
         << " bytes\n";
  if (v.contains("skipped") && v["skipped"].is_array()) {
    for (const Json& s : v["skipped"]) io.out << "left out (not a regular file): " << s.get<std::string>() << "\n";
  }
  return Outcome::Ok();
}

Outcome Upload(const Client& client, const DatasetOptions& opts, const std::string& base, const std::string& q,
               const std::string& qp, Io& io) {
  auto files = FilesToSend(opts.files);
  if (!files.ok()) return Outcome::Usage(files.status().message());
  auto existing = client.Get(base + q);
  if (!existing.ok() && existing.status().code() != Code::kNotFound) return Outcome::FromStatus(existing.status());
  if (!existing.ok()) {
    Json made = {{"name", opts.name}};
    if (!opts.project.empty()) made["project"] = opts.project;
    auto created = client.Post("/datasets", made);
    if (!created.ok()) return Outcome::FromStatus(created.status());
    io.out << "data set " << opts.name << " created\n";
  }
  Json ids = Json::array();
  for (const auto& [local, path] : *files) {
    auto id = SendFile(client, base, local, path, qp, io);
    if (!id.ok()) return Outcome::FromStatus(id.status());
    ids.push_back(*id);
  }
  Json body = {{"uploads", ids}};
  if (!opts.description.empty()) body["description"] = opts.description;
  auto v = client.Post(base + "/versions" + q, body);
  if (!v.ok()) return Outcome::FromStatus(v.status());
  return PrintVersion(*v, io);
}

Outcome Preview(const Client& client, const DatasetOptions& opts, const std::string& base, const std::string& qp,
                Io& io) {
  if (opts.files.size() != 2) return Outcome::Usage("quader dataset preview NAME VERSION FILE");
  auto p = client.Get(base + "/versions/" + EscapeComponent(opts.files[0]) + "/preview?path=" +
                      EscapeComponent(opts.files[1]) + qp);
  if (!p.ok()) return Outcome::FromStatus(p.status());
  const std::string kind = p->value("kind", "");
  if (kind == "table") {
    std::string header;
    for (const Json& c : (*p)["columns"]) {
      header += (header.empty() ? "" : "  ") + c.value("name", "") + ":" + c.value("type", "");
    }
    io.out << header << "\n";
    for (const Json& row : (*p)["rows"]) {
      std::string line;
      for (const Json& cell : row) line += (line.empty() ? "" : "  ") + cell.get<std::string>();
      io.out << line << "\n";
    }
    io.out << "(" << p->value("row_count", int64_t{0}) << " rows)\n";
  } else if (p->contains("head")) {
    io.out << (*p)["head"].get<std::string>() << ((*p).value("truncated", false) ? "\n…\n" : "\n");
  } else if (p->contains("value") || p->contains("rows")) {
    io.out << (p->contains("value") ? (*p)["value"] : (*p)["rows"]).dump(2) << "\n";
  } else {
    io.out << kind << " file, " << p->value("size", int64_t{0}) << " bytes\n";
  }
  return Outcome::Ok();
}

Outcome Dataset(const DatasetOptions& opts, Io& io) {
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  const std::string q = opts.project.empty() ? "" : "?project=" + EscapeComponent(opts.project);
  const std::string qp = opts.project.empty() ? "" : "&project=" + EscapeComponent(opts.project);
  const std::string base = "/datasets/" + EscapeComponent(opts.name);
  if (opts.action == "upload") return Upload(*client, opts, base, q, qp, io);
  if (opts.action == "preview") return Preview(*client, opts, base, qp, io);
  // version: from a task's outputs or the caller's own directory.
  Json body = Json::object();
  if (opts.run > 0 && !opts.task.empty() && opts.volume_path.empty()) {
    body = {{"run", opts.run}, {"task", opts.task}};
    if (!opts.path.empty()) body["path"] = opts.path;
  } else if (!opts.volume_path.empty() && opts.run == 0) {
    body = {{"volume_path", opts.volume_path}};
  } else {
    return Outcome::Usage("quader dataset version NAME (--run RUN --task TASK [--path P] | --volume-path /mnt/USER/P)");
  }
  if (!opts.description.empty()) body["description"] = opts.description;
  auto existing = client->Get(base + q);
  if (!existing.ok() && existing.status().code() == Code::kNotFound) {
    Json made = {{"name", opts.name}};
    if (!opts.project.empty()) made["project"] = opts.project;
    auto created = client->Post("/datasets", made);
    if (!created.ok()) return Outcome::FromStatus(created.status());
  }
  auto v = client->Post(base + "/versions" + q, body);
  if (!v.ok()) return Outcome::FromStatus(v.status());
  return PrintVersion(*v, io);
}

}  // namespace

void AddDatasetCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<DatasetOptions>();
  CLI::App* sub = app.add_subcommand(
      "dataset", "Upload files as a new version of a data set, make one from a task's outputs or your directory, "
                 "or preview a file");
  sub->add_option("action", opts->action, "upload, version or preview")
      ->required()
      ->check(CLI::IsMember({"upload", "version", "preview"}));
  sub->add_option("name", opts->name, "Data set name")->required();
  sub->add_option("files", opts->files, "upload: files and directories; preview: VERSION FILE");
  sub->add_option("--description", opts->description, "upload, version: what this version is");
  sub->add_option("--run", opts->run, "version: the run whose task made the files")->check(CLI::PositiveNumber);
  sub->add_option("--task", opts->task, "version: the task (it must have succeeded)");
  sub->add_option("--path", opts->path, "version: a file or directory of the task's /outputs (default: all)");
  sub->add_option("--volume-path", opts->volume_path, "version: a file or directory under your /mnt/USER");
  sub->add_option("--project,-p", opts->project, "Project of the data set (default: public)");
  commands.push_back({sub, [opts, &io] { return Dataset(*opts, io); }});
}

}  // namespace quader::cli
