// `quader delete KIND NAME [--project P]`: deletes one object.
// `quader delete -f FILE|DIR|- [-R]`: deletes the objects the documents
// name, dependents first (the reverse of apply's order), reporting each:
// "pipeline/iris deleted", or "pipeline/iris not found" when it is already
// gone (or not visible to you), which is not an error, so deleting twice is
// harmless (kubectl's --ignore-not-found). Any other refusal is reported on
// its line and makes the command exit 1 after trying the rest.

#include <algorithm>
#include <memory>
#include <string>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/document_files.h"
#include "cli/commands/kind_args.h"

namespace quader::cli {
namespace {

struct DeleteOptions {
  KindArgs target;
  std::vector<std::string> files;
  bool recursive = false;
};

Outcome DeleteOne(const KindArgs& args, Io& io) {
  auto kind = ResolveKind(args.kind);
  if (!kind.ok()) return Outcome::Usage(kind.status().message());
  auto target = PathForDelete(*kind.value(), args);
  if (!target.ok()) return Outcome::Usage(target.status().message());

  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto reply = client->Delete(target->path);
  if (!reply.ok()) return Outcome::FromStatus(reply.status());
  io.out << kind.value()->name << "/" << args.name << " deleted\n";
  return Outcome::Ok();
}

// The API path of the object a document names; kInvalidArgument naming the
// document when its kind is not one the CLI knows or it has no name.
Result<std::pair<const KindSpec*, std::string>> ObjectOf(const SourceDocument& d) {
  auto kind = ResolveKind(d.kind);
  if (!kind.ok()) return errors::Invalid(d.Where() + ": kind", "\"" + d.kind + "\" is not a kind that can be deleted");
  auto name = d.doc.find("name");
  if (name == d.doc.end() || !name->is_string() || name->get<std::string>().empty()) {
    return errors::Invalid(d.Where() + ": name", "is required to delete");
  }
  std::string project = d.doc.value("project", "");
  if ((*kind)->scope == Scope::kProject && project.empty()) project = "public";
  return std::make_pair(*kind, ItemPath(**kind, name->get<std::string>(), project));
}

Outcome DeleteFromFiles(const DeleteOptions& opts, Io& io) {
  auto loaded = LoadDocuments(opts.files, opts.recursive, io.in);
  if (!loaded.ok()) return Outcome::FromStatus(loaded.status());
  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  std::vector<SourceDocument>* docs = &loaded->docs;
  // Every document must name something before anything is deleted.
  std::vector<std::pair<const KindSpec*, std::string>> objects;
  SortForApply(*docs);
  std::reverse(docs->begin(), docs->end());
  for (const SourceDocument& d : *docs) {
    auto object = ObjectOf(d);
    if (!object.ok()) return Outcome::FromStatus(object.status());
    objects.push_back(*object);
  }
  Status failed;
  for (size_t i = 0; i < docs->size(); ++i) {
    std::string label = std::string(objects[i].first->name) + "/" + (*docs)[i].doc.value("name", "");
    auto reply = client->Delete(objects[i].second);
    if (reply.ok()) {
      io.out << label << " deleted\n";
    } else if (reply.status().code() == Code::kNotFound) {
      io.out << label << " not found\n";
    } else if (reply.status().code() == Code::kUnavailable) {
      return Outcome::FromStatus(reply.status());  // the rest would fail alike
    } else {
      io.out << label << " not deleted: " << reply.status().message() << "\n";
      if (failed.ok()) failed = Status(reply.status().code(), (*docs)[i].Where() + ": " + reply.status().message());
    }
  }
  return Outcome::FromStatus(failed);
}

Outcome Delete(const DeleteOptions& opts, Io& io) {
  if (opts.files.empty()) {
    if (opts.target.kind.empty() || opts.target.name.empty()) {
      return Outcome::Usage("delete needs KIND NAME, or -f FILE|DIR");
    }
    return DeleteOne(opts.target, io);
  }
  if (!opts.target.kind.empty()) return Outcome::Usage("delete takes either KIND NAME or -f, not both");
  return DeleteFromFiles(opts, io);
}

}  // namespace

void AddDeleteCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<DeleteOptions>();
  CLI::App* sub = app.add_subcommand("delete", "Delete an object, or the objects named in files (-f)");
  AddKindArgs(*sub, opts->target, /*name_required=*/false, /*kind_required=*/false);
  sub->add_option("-f,--filename", opts->files,
                  "File or directory of documents whose objects to delete, or - for stdin (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("-R,--recursive", opts->recursive, "With a directory: also the files of its subdirectories");
  commands.push_back({sub, [opts, &io] { return Delete(*opts, io); }});
}

}  // namespace quader::cli
