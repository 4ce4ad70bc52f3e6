#pragma once
// `quader get --watch`: what changed between two polls of a list, and how a
// change prints. Pure: the command polls and writes what this returns.

#include <map>
#include <span>
#include <string>
#include <vector>

#include "cli/kinds.h"
#include "cli/output.h"
#include "core/documents.h"

namespace quader::cli {

enum class ChangeType { kAdded, kModified, kDeleted };

// "ADDED", "MODIFIED", "DELETED" (the words of kubectl's watch events).
const char* ChangeTypeName(ChangeType type);

struct WatchChange {
  ChangeType type;
  Json object;  // the object now; for kDeleted, as last seen
};

// The items of the last poll. Single-threaded; owned by one command.
class WatchState {
 public:
  // `columns` empty: objects are compared whole; else only the cells of
  // these columns count (a table shows nothing else, so nothing else is a
  // change worth a line).
  explicit WatchState(std::span<const Column> columns) : columns_(columns) {}

  // The changes from the last poll to `items`, in the order of `items`,
  // deletions last. The first call reports every item as added.
  std::vector<WatchChange> Update(const std::vector<Json>& items);

 private:
  // What is compared of an object: its cells, or its whole text.
  std::string Fingerprint(const Json& object) const;

  std::span<const Column> columns_;
  std::map<std::string, std::pair<std::string, Json>> last_;  // key -> (fingerprint, object)
};

// An item's identity within a list: project, then name or id.
std::string ItemKey(const Json& item);

// The text of some changes: table rows without the header (a deleted
// object's row ends in "(deleted)"), JSON lines of {"type", "object"}, YAML
// documents of the same, or the names of added and modified objects.
std::string RenderChanges(Format format, std::span<const Column> columns, const std::vector<WatchChange>& changes);

}  // namespace quader::cli
