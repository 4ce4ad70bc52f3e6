#include "api/apply.h"

#include "core/names.h"

namespace quader::api {

void KindRegistry::Register(const std::string& kind, bool project_scoped, ApplyFn fn) {
  kinds_[kind] = Kind{project_scoped, std::move(fn)};
}

std::vector<std::string> KindRegistry::kinds() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : kinds_) out.push_back(k);
  return out;
}

namespace {

// cube-studio's names of the header fields, where they mean the same: a
// Service's service_name; a service's project_name (a job template's
// project_name is its category, not a project). The kinds' parsers accept
// the rest of cube-studio's names.
void NormaliseHeaderAliases(const std::string& kind, Json* doc) {
  auto move = [&](const char* key, const char* alias) {
    if (doc->contains(key) || !doc->contains(alias) || !(*doc)[alias].is_string()) return;
    (*doc)[key] = (*doc)[alias];
    doc->erase(alias);
  };
  if (kind == "Service") move("name", "service_name");
  if (kind == "Service" || kind == "InferenceService") move("project", "project_name");
  if (kind == "JobTemplate" && !doc->contains("name") && doc->contains("job_template_name") &&
      (*doc)["job_template_name"].is_string() && ValidateObjectName("name", (*doc)["job_template_name"]).ok()) {
    (*doc)["name"] = (*doc)["job_template_name"];
  }
}

}  // namespace

Result<std::vector<ApplyResult>> KindRegistry::ApplyAll(store::Store& store,
                                                        const auth::Principal& who,
                                                        const std::string& text,
                                                        int64_t now) const {
  QUADER_ASSIGN_OR_RETURN(std::vector<Json> docs, ParseDocuments(text));
  return ApplyDocuments(store, who, std::move(docs), now);
}

Result<std::vector<ApplyResult>> KindRegistry::ApplyDocuments(store::Store& store, const auth::Principal& who,
                                                              std::vector<Json> docs, int64_t now) const {
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
    NormaliseHeaderAliases(kind, &doc);
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
