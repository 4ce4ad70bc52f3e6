#include "cli/commands/kind_args.h"

namespace quader::cli {
namespace {

Status MissingProject(const KindSpec& kind, bool for_get) {
  std::string how = for_get ? " or `quader get " + std::string(kind.plural) + " PROJECT`" : "";
  return errors::Invalid("--project",
                         std::string(kind.plural) + " belong to a project: use --project P" + how);
}

}  // namespace

void AddKindArgs(CLI::App& sub, KindArgs& args, bool name_required, bool kind_required) {
  CLI::Validator known_kind(
      [](std::string& word) {
        auto kind = ResolveKind(word);
        return kind.ok() ? std::string() : kind.status().message();
      },
      "KIND");
  CLI::Option* kind = sub.add_option("kind", args.kind,
                                     "Kind of object: " + KnownKindsText() + " (singular, plural or short forms)");
  kind->check(known_kind);
  if (kind_required) kind->required();
  CLI::Option* name = sub.add_option("name", args.name, "Name of the object");
  if (name_required) name->required();
  sub.add_option("--project", args.project, "Project of the objects");
}

Result<Target> PathForGet(const KindSpec& kind, const KindArgs& args) {
  if (kind.scope == Scope::kProjectSub) {
    if (!args.project.empty()) {
      if (args.name.empty()) return Target{ListPath(kind, args.project), true};
      return Target{ItemPath(kind, args.name, args.project), false};
    }
    if (args.name.empty()) return MissingProject(kind, /*for_get=*/true);
    return Target{ListPath(kind, args.name), true};
  }
  if (args.name.empty()) return Target{ListPath(kind, args.project), true};
  return Target{ItemPath(kind, args.name, args.project), false};
}

Result<Target> PathForDelete(const KindSpec& kind, const KindArgs& args) {
  if (kind.scope == Scope::kProjectSub && args.project.empty()) {
    return MissingProject(kind, /*for_get=*/false);
  }
  return Target{ItemPath(kind, args.name, args.project), false};
}

}  // namespace quader::cli
