#pragma once
// `quader apply` / POST /api/v1/apply: documents of many kinds, applied in
// one transaction. Each kind registers how to apply one document; later
// subsystems (pipelines, notebooks, ...) plug in with Register.
//
// Immutable after start-up; ApplyAll is thread-safe.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "auth/access.h"
#include "core/documents.h"
#include "store/store.h"

namespace quader::api {

struct ApplyResult {
  std::string kind;
  std::string name;
  std::string project;  // empty for kinds outside projects (Project itself)
  Change change = Change::kUnchanged;
};

class KindRegistry {
 public:
  // Applies one validated document inside the caller's transaction. `doc`
  // holds `kind`, `name` and, for project-scoped kinds, `project`
  // (defaulted to "public"). Errors name fields relative to the document.
  using ApplyFn = std::function<Result<Change>(store::Tx& tx, const auth::Principal& who,
                                               const Json& doc, int64_t now)>;

  // `project_scoped`: documents of this kind live in a project (`project:`).
  void Register(const std::string& kind, bool project_scoped, ApplyFn fn);

  // Parses `text` (YAML or JSON, several documents) and applies every
  // document in one write transaction: all or nothing. Errors name the
  // document: `document 2 (Project "x"): expand.volume_mount[0]: ...`.
  Result<std::vector<ApplyResult>> ApplyAll(store::Store& store, const auth::Principal& who,
                                            const std::string& text, int64_t now) const;

  // The same for documents already parsed (the cube-studio import builds
  // them); each is held to exactly the checks of ApplyAll.
  Result<std::vector<ApplyResult>> ApplyDocuments(store::Store& store, const auth::Principal& who,
                                                  std::vector<Json> docs, int64_t now) const;

  std::vector<std::string> kinds() const;

 private:
  struct Kind {
    bool project_scoped;
    ApplyFn apply;
  };
  std::map<std::string, Kind> kinds_;
};

}  // namespace quader::api
