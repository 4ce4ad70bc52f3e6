#include "cli/watch.h"

#include <set>

namespace quader::cli {

const char* ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kAdded:
      return "ADDED";
    case ChangeType::kModified:
      return "MODIFIED";
    case ChangeType::kDeleted:
      return "DELETED";
  }
  return "?";
}

std::string ItemKey(const Json& item) {
  std::string project = item.is_object() ? item.value("project", "") : "";
  return project + "/" + ObjectName(item);
}

std::string WatchState::Fingerprint(const Json& object) const {
  if (columns_.empty()) return object.dump();
  std::string text;
  for (const Column& c : columns_) text += CellText(object, c) + '\x1f';
  return text;
}

std::vector<WatchChange> WatchState::Update(const std::vector<Json>& items) {
  std::vector<WatchChange> changes;
  std::map<std::string, std::pair<std::string, Json>> now;
  for (const Json& item : items) {
    std::string key = ItemKey(item);
    std::string print = Fingerprint(item);
    auto before = last_.find(key);
    if (before == last_.end()) {
      changes.push_back({ChangeType::kAdded, item});
    } else if (before->second.first != print) {
      changes.push_back({ChangeType::kModified, item});
    }
    now[key] = {std::move(print), item};
  }
  for (auto& [key, seen] : last_) {
    if (!now.count(key)) changes.push_back({ChangeType::kDeleted, seen.second});
  }
  last_ = std::move(now);
  return changes;
}

std::string RenderChanges(Format format, std::span<const Column> columns, const std::vector<WatchChange>& changes) {
  std::string out;
  for (const WatchChange& c : changes) {
    Json event = {{"type", ChangeTypeName(c.type)}, {"object", c.object}};
    switch (format) {
      case Format::kJson:
        out += event.dump() + "\n";
        break;
      case Format::kYaml:
        out += "---\n" + ToYaml(event);
        break;
      case Format::kName:
        if (c.type != ChangeType::kDeleted) out += Render(Format::kName, columns, c.object);
        break;
      case Format::kTable: {
        std::string table = RenderTable(columns, {c.object});
        std::string row = table.substr(table.find('\n') + 1);
        if (c.type == ChangeType::kDeleted) row.insert(row.size() - 1, "   (deleted)");
        out += row;
        break;
      }
    }
  }
  return out;
}

}  // namespace quader::cli
