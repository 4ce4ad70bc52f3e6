// `quader get KIND [NAME] [-o table|json|yaml] [--project P]`: lists a
// collection or shows one object (cli/kinds.h says where each kind lives).

#include <memory>
#include <string>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/kind_args.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

struct GetOptions {
  KindArgs target;
  std::string output = "table";
};

Outcome Get(const GetOptions& opts, Io& io) {
  auto kind = ResolveKind(opts.target.kind);
  if (!kind.ok()) return Outcome::Usage(kind.status().message());
  auto format = ParseFormat(opts.output);
  if (!format.ok()) return Outcome::Usage(format.status().message());
  auto path = PathForGet(*kind.value(), opts.target);
  if (!path.ok()) return Outcome::Usage(path.status().message());

  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto reply = client->Get(path->path);
  if (!reply.ok()) return Outcome::FromStatus(reply.status());

  Json shown = reply.value();
  if (path->is_list) {
    auto items = shown.find("items");
    if (items == shown.end() || !items->is_array()) {
      return Outcome::FromStatus(errors::Internal("the list reply has no items array"));
    }
    shown = *items;
    if (shown.empty() && format.value() == Format::kTable) {
      io.err << "No " << kind.value()->plural << " found.\n";
      return Outcome::Ok();
    }
  }
  io.out << Render(format.value(), ColumnsFor(*kind.value()), shown);
  return Outcome::Ok();
}

}  // namespace

void AddGetCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<GetOptions>();
  CLI::App* sub = app.add_subcommand("get", "List objects of a kind, or show one");
  AddKindArgs(*sub, opts->target, /*name_required=*/false);
  sub->add_option("-o,--output", opts->output, "Output format")
      ->check(CLI::IsMember(FormatNames()))
      ->capture_default_str();
  commands.push_back({sub, [opts, &io] { return Get(*opts, io); }});
}

}  // namespace quader::cli
