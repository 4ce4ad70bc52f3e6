#include "api/apply.h"

namespace quader::api {

void KindRegistry::Register(const std::string& kind, bool project_scoped, ApplyFn fn) {
  kinds_[kind] = Kind{project_scoped, std::move(fn)};
}

std::vector<std::string> KindRegistry::kinds() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : kinds_) out.push_back(k);
  return out;
}

Result<std::vector<ApplyResult>> KindRegistry::ApplyAll(store::Store& store,
                                                        const auth::Principal& who,
                                                        const std::string& text,
                                                        int64_t now) const {
  QUADER_ASSIGN_OR_RETURN(std::vector<Json> docs, ParseDocuments(text));
  if (docs.empty()) return errors::Invalid("body", "holds no documents");

  // Check every document's header before touching the store.
  std::vector<const Kind*> handlers;
  for (size_t i = 0; i < docs.size(); ++i) {
    Json& doc = docs[i];
    std::string where = "document " + std::to_string(i + 1);
    if (!doc.is_object()) return errors::Invalid(where, "must be a mapping with kind and name");
    if (!doc.contains("kind") || !doc["kind"].is_string()) {
      return errors::Invalid(where + ": kind", "is required (a string)");
    }
    std::string kind = doc["kind"];
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) {
      std::string known;
      for (const auto& k : kinds()) known += (known.empty() ? "" : ", ") + k;
      return errors::Invalid(where + ": kind", "unknown kind \"" + kind + "\" (known: " + known + ")");
    }
    if (!doc.contains("name") || !doc["name"].is_string()) {
      return errors::Invalid(where + ": name", "is required (a string)");
    }
    if (it->second.project_scoped) {
      if (!doc.contains("project")) doc["project"] = auth::kPublicProject;
      if (!doc["project"].is_string()) return errors::Invalid(where + ": project", "must be a string");
    } else if (doc.contains("project")) {
      return errors::Invalid(where + ": project", "a " + kind + " does not belong to a project");
    }
    handlers.push_back(&it->second);
  }

  std::vector<ApplyResult> results;
  Status st = store.Write([&](store::Tx& tx) -> Status {
    results.clear();
    for (size_t i = 0; i < docs.size(); ++i) {
      const Json& doc = docs[i];
      ApplyResult r;
      r.kind = doc["kind"];
      r.name = doc["name"];
      if (doc.contains("project")) r.project = doc["project"];
      auto change = handlers[i]->apply(tx, who, doc, now);
      if (!change.ok()) {
        const Status& e = change.status();
        return Status(e.code(), "document " + std::to_string(i + 1) + " (" + r.kind + " \"" +
                                    r.name + "\"): " + e.message());
      }
      r.change = *change;
      results.push_back(std::move(r));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return results;
}

}  // namespace quader::api
