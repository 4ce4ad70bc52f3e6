// `quader describe KIND NAME [--project P]`: one object for people: its
// identity and state first, then its settings, the objects related to it
// (a pipeline's runs and schedules, a run's tasks, a service's replicas, an
// experiment's trials, a project's members) and its recent events. Only the
// API's ordinary reads are used, so what a user may not see is "not found"
// here exactly as with `get`.

#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/commands/kind_args.h"
#include "cli/output.h"

namespace quader::cli {
namespace {

constexpr int kRecent = 10;  // runs, schedule records and events shown

constexpr Column kReplicaColumns[] = {
    {"INDEX", "index"}, {"GEN", "generation"}, {"STATE", "state"}, {"PORT", "port"}, {"REASON", "reason"}};
constexpr Column kEventColumns[] = {{"AT", "at"}, {"KIND", "kind"}, {"MESSAGE", "message"}};
constexpr Column kTaskColumns[] = {{"TASK", "name"},          {"STATE", "state"},
                                   {"ATTEMPT", "attempt"},    {"EXIT", "exit_code"},
                                   {"STARTED", "started_at"}, {"REASON", "reason"}};
constexpr Column kTrialColumns[] = {{"SEQ", "sequence"},     {"STATE", "state"},     {"VALUE", "value"},
                                    {"PARAMETERS", "parameters"}, {"REASON", "reason"}};

// Shown in the header (in this order), not again under Spec.
constexpr std::pair<std::string_view, std::string_view> kHeader[] = {
    {"name", "Name"},       {"username", "Name"},       {"id", "ID"},          {"project", "Project"},
    {"state", "State"},     {"model_status", "Status"}, {"reason", "Reason"},  {"url", "URL"},
    {"created_by", "Created by"}, {"created_at", "Created"}, {"updated_at", "Updated"},
};
// Lists shown as their own sections.
const std::set<std::string> kSections = {"events", "replica_states", "tasks", "deploy_history"};

std::string Indent(const std::string& text, const std::string& by) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += by + line + "\n";
  return out;
}

void Section(std::ostream& out, const std::string& title, std::span<const Column> columns, const Json& rows) {
  out << title << ":\n";
  if (!rows.is_array() || rows.empty()) {
    out << "  <none>\n";
    return;
  }
  out << Indent(RenderTable(columns, rows.get<std::vector<Json>>()), "  ");
}

// A related list fetched from the API; a failure is shown, not fatal.
void RelatedSection(std::ostream& out, const Client& client, const std::string& title,
                    std::span<const Column> columns, const std::string& path) {
  auto reply = client.Get(path);
  if (!reply.ok()) {
    out << title << ":\n  (cannot be listed: " << reply.status().message() << ")\n";
    return;
  }
  Json items = reply->is_object() && reply->contains("items") ? (*reply)["items"] : *reply;
  if (items.is_array() && items.size() > static_cast<size_t>(kRecent)) {
    items = Json(std::vector<Json>(items.begin(), items.begin() + kRecent));
  }
  Section(out, title, columns, items);
}

void Header(std::ostream& out, const KindSpec& kind, const Json& object) {
  out << "Kind:         " << kind.name << "\n";
  std::set<std::string_view> shown_labels;
  for (const auto& [field, label] : kHeader) {
    auto it = object.find(std::string(field));
    if (it == object.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) continue;
    if (!shown_labels.insert(label).second) continue;
    std::string text = CellText(object, Column{label, field});
    out << label << ":" << std::string(label.size() < 13 ? 13 - label.size() : 1, ' ') << text << "\n";
  }
}

void Spec(std::ostream& out, const Json& object) {
  Json rest = Json::object();
  for (const auto& [key, value] : object.items()) {
    bool header = false;
    for (const auto& [field, label] : kHeader) header = header || field == key;
    if (!header && !kSections.count(key) && key != "kind") rest[key] = value;
  }
  out << "Spec:\n";
  out << (rest.empty() ? "  <none>\n" : Indent(ToYaml(rest), "  "));
}

// The object's id as text ("12"), or its name when it has no id.
std::string IdOf(const Json& object) {
  auto id = object.find("id");
  if (id == object.end() || id->is_null()) return ObjectName(object);
  return id->is_string() ? id->get<std::string>() : id->dump();
}

void Related(std::ostream& out, const Client& client, const KindSpec& kind, const Json& object) {
  std::string kind_name(kind.name);
  std::string id = EscapeComponent(IdOf(object));
  if (kind_name == "pipeline") {
    auto runs = ResolveKind("runs");
    auto schedules = ResolveKind("schedules");
    std::string filter = "?pipeline=" + id + "&project=" + EscapeComponent(object.value("project", "public")) +
                         "&limit=" + std::to_string(kRecent);
    RelatedSection(out, client, "Runs", ColumnsFor(**runs), "/runs" + filter);
    RelatedSection(out, client, "Schedule records", ColumnsFor(**schedules), "/schedules" + filter);
  } else if (kind_name == "run") {
    Json tasks = object.value("tasks", Json::array());
    Section(out, "Tasks", kTaskColumns, tasks);
    if (object.contains("tasks_next_offset") && object["tasks_next_offset"].is_number_integer()) {
      out << "(the first " << tasks.size() << " of " << object.value("task_count", 0)
          << " tasks; quader logs RUN TASK, or the API's ?tasks_offset=N&tasks_limit=M, for the others)\n";
    }
  } else if (kind_name == "service" || kind_name == "inference-service") {
    Section(out, "Replicas", kReplicaColumns, object.value("replica_states", Json::array()));
  } else if (kind_name == "experiment") {
    RelatedSection(out, client, "Trials", kTrialColumns, "/experiments/" + id + "/trials");
  } else if (kind_name == "project") {
    auto members = ResolveKind("members");
    RelatedSection(out, client, "Members", ColumnsFor(**members), ListPath(**members, ObjectName(object)));
  }
}

void Events(std::ostream& out, const Json& object) {
  Json events = object.value("events", Json::array());
  if (events.is_array() && events.size() > static_cast<size_t>(kRecent)) {
    events = Json(std::vector<Json>(events.begin(), events.begin() + kRecent));
  }
  Section(out, "Events (newest first)", kEventColumns, events);
}

Outcome Describe(const KindArgs& args, Io& io) {
  auto kind = ResolveKind(args.kind);
  if (!kind.ok()) return Outcome::Usage(kind.status().message());
  auto path = PathForGet(*kind.value(), args);
  if (!path.ok()) return Outcome::Usage(path.status().message());
  if (path->is_list) return Outcome::Usage("describe needs a NAME");

  auto client = Client::FromLogin();
  if (!client.ok()) return Outcome::FromStatus(client.status());
  auto reply = client->Get(path->path);
  if (!reply.ok()) return Outcome::FromStatus(reply.status());
  const Json& object = reply.value();
  std::ostringstream out;
  Header(out, *kind.value(), object);
  Spec(out, object);
  Related(out, client.value(), *kind.value(), object);
  Events(out, object);
  io.out << out.str();
  return Outcome::Ok();
}

}  // namespace

void AddDescribeCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto args = std::make_shared<KindArgs>();
  CLI::App* sub = app.add_subcommand("describe", "Show one object in detail: state, settings, related objects, events");
  AddKindArgs(*sub, *args, /*name_required=*/true);
  commands.push_back({sub, [args, &io] { return Describe(*args, io); }});
}

}  // namespace quader::cli
