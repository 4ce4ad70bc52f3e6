// `quader get KIND [NAME] [-o table|json|yaml|name] [--project P] [-w]`:
// lists a collection or shows one object (cli/kinds.h says where each kind
// lives). With --watch it then polls every --interval seconds and prints
// what changed (cli/watch.h) until interrupted (Ctrl-C: exit 0) or the
// server goes away (exit 1, saying so).

#include <memory>
#include <string>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/kind_args.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "cli/watch.h"

namespace quader::cli {
namespace {

struct GetOptions {
  KindArgs target;
  std::string output = "table";
  bool watch = false;
  double interval_seconds = 2;
};

// The objects a reply holds: a list's items, or the one object.
Result<std::vector<Json>> ItemsOf(const Json& reply, bool is_list) {
  if (!is_list) return std::vector<Json>{reply};
  auto items = reply.find("items");
  if (items == reply.end() || !items->is_array()) return errors::Internal("the list reply has no items array");
  return items->get<std::vector<Json>>();
}

Outcome Watch(const Client& client, const KindSpec& kind, const Target& path, Format format,
              const GetOptions& opts, Io& io) {
  InterruptScope scope;
  WatchState state(format == Format::kTable ? ColumnsFor(kind) : std::span<const Column>());
  auto interval = std::chrono::milliseconds(static_cast<int64_t>(opts.interval_seconds * 1000));
  bool first = true;
  for (;;) {
    auto reply = client.Get(path.path);
    if (IsInterrupted(io)) return Outcome::Ok();
    std::vector<Json> items;
    if (reply.ok()) {
      auto listed = ItemsOf(*reply, path.is_list);
      if (!listed.ok()) return Outcome::FromStatus(listed.status());
      items = std::move(*listed);
    } else if (reply.status().code() == Code::kUnavailable) {
      return Outcome::FromStatus(Status(Code::kUnavailable, "stopped watching: the server at " + client.server() +
                                                                " went away (" + reply.status().message() + ")"));
    } else if (!(reply.status().code() == Code::kNotFound && !path.is_list && !first)) {
      return Outcome::FromStatus(reply.status());  // a watched object deleted is a change, not an error
    }
    std::vector<WatchChange> changes = state.Update(items);
    if (first && format == Format::kTable) {
      if (items.empty()) {
        io.err << "No " << kind.plural << " found.\n";
      } else {
        io.out << Render(format, ColumnsFor(kind), Json(items));
      }
    } else {
      io.out << RenderChanges(format, ColumnsFor(kind), changes);
    }
    io.out.flush();
    first = false;
    if (WaitUnlessInterrupted(io, interval)) return Outcome::Ok();
  }
}

Outcome Get(const GetOptions& opts, Io& io) {
  auto kind = ResolveKind(opts.target.kind);
  if (!kind.ok()) return Outcome::Usage(kind.status().message());
  auto format = ParseFormat(opts.output);
  if (!format.ok()) return Outcome::Usage(format.status().message());
  auto path = PathForGet(*kind.value(), opts.target);
  if (!path.ok()) return Outcome::Usage(path.status().message());

  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  if (opts.watch) return Watch(client.value(), *kind.value(), path.value(), format.value(), opts, io);
  auto reply = client->Get(path->path);
  if (!reply.ok()) return Outcome::FromStatus(reply.status());

  Json shown = reply.value();
  if (path->is_list) {
    auto items = ItemsOf(shown, true);
    if (!items.ok()) return Outcome::FromStatus(items.status());
    shown = Json(*items);
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
  sub->add_flag("-w,--watch", opts->watch,
                "After listing, print each change (table rows; JSON lines or YAML documents of {type, object}) "
                "until interrupted");
  sub->add_option("--interval", opts->interval_seconds, "With --watch: seconds between two polls of the server")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  commands.push_back({sub, [opts, &io] { return Get(*opts, io); }});
}

}  // namespace quader::cli
