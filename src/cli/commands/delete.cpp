// `quader delete KIND NAME [--project P]`: deletes one object.

#include <memory>
#include <string>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/kind_args.h"

namespace quader::cli {
namespace {

Outcome Delete(const KindArgs& args, Io& io) {
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

}  // namespace

void AddDeleteCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto args = std::make_shared<KindArgs>();
  CLI::App* sub = app.add_subcommand("delete", "Delete an object");
  AddKindArgs(*sub, *args, /*name_required=*/true);
  commands.push_back({sub, [args, &io] { return Delete(*args, io); }});
}

}  // namespace quader::cli
