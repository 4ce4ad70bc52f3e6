#pragma once
// The notebooks table (SPEC §3). Every function runs on a caller's Tx. Specs
// are JSON text validated by notebook/notebook_spec.h before they get here.

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace quader::store {

inline constexpr const char* kNotebookRunning = "running";
inline constexpr const char* kNotebookStopped = "stopped";

struct NotebookRecord {
  int64_t id = 0;
  int64_t project_id = 0;
  std::string project;  // filled by reads (join)
  std::string name;
  std::string spec;     // normalised document (JSON text)
  std::string desired = kNotebookRunning;  // running or stopped
  int64_t generation = 1;                  // + 1 on every reset and change
  std::string state;    // pending, running, failed, stopped
  std::string reason;
  std::string server_token;  // never shown
  std::string created_by;
  int64_t created_at = 0;  // seconds
  int64_t updated_at = 0;  // seconds
  std::optional<int64_t> started_at;     // ms
  std::optional<int64_t> last_activity;  // ms
};

Result<NotebookRecord> InsertNotebook(Tx& tx, NotebookRecord n);
Result<NotebookRecord> GetNotebook(Tx& tx, int64_t id);
Result<std::optional<NotebookRecord>> FindNotebook(Tx& tx, int64_t project_id, const std::string& name);
// The notebooks of `project_ids` (all when `all`), only `owner`'s unless it is "".
Result<std::vector<NotebookRecord>> ListNotebooks(Tx& tx, const std::vector<int64_t>& project_ids, bool all,
                                                  const std::string& owner);
// A new spec: generation + 1 (the server is replaced).
Status UpdateNotebookSpec(Tx& tx, int64_t id, const std::string& spec, int64_t now);
// Running or stopped; starting again and resetting bump the generation.
Status SetNotebookDesired(Tx& tx, int64_t id, const std::string& desired, bool new_generation, int64_t now);
Status SetNotebookState(Tx& tx, int64_t id, const std::string& state, const std::string& reason,
                        std::optional<int64_t> started_at);
Status SetNotebookActivity(Tx& tx, int64_t id, int64_t at_ms);
Status DeleteNotebook(Tx& tx, int64_t id);

}  // namespace quader::store
