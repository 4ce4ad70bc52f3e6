#pragma once
// Helpers shared by the handler files: ids in paths, the projects a caller
// may list in, and time formats.

#include <optional>
#include <string>
#include <vector>

#include "api/http.h"
#include "core/names.h"
#include "auth/access.h"
#include "core/clock.h"
#include "store/projects.h"

namespace quader::api {

inline Json TimeOrNull(const std::optional<int64_t>& unix_seconds) {
  return unix_seconds ? Json(FormatRfc3339(FromUnixSeconds(*unix_seconds))) : Json(nullptr);
}

// RFC 3339 with milliseconds for Unix milliseconds: "2026-11-29T02:46:47.123Z".
inline std::string FormatRfc3339Ms(int64_t unix_ms) {
  std::string s = FormatRfc3339(FromUnixSeconds(unix_ms / 1000));
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03d", static_cast<int>(unix_ms % 1000));
  return s.substr(0, s.size() - 1) + frac + "Z";
}
inline Json MsOrNull(const std::optional<int64_t>& unix_ms) {
  return unix_ms ? Json(FormatRfc3339Ms(*unix_ms)) : Json(nullptr);
}

// The {id} path parameter as a positive number; kNotFound for `kind` otherwise.
inline Result<int64_t> IdParam(const Request& req, const std::string& kind, const std::string& param = "id") {
  const std::string& text = req.Param(param);
  try {
    size_t used = 0;
    int64_t id = std::stoll(text, &used);
    if (used == text.size() && id > 0) return id;
  } catch (const std::exception&) {
  }
  return errors::NotFound(kind, text);
}

// Whether {id} is a number (else it is a name, with ?project=P).
// At most 18 digits, so that std::stoll of it cannot throw (a longer one is a name).
inline bool IsNumericId(const std::string& text) {
  return !text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos;
}

// ?project=P, or the default project.
inline std::string ProjectParam(const Request& req) {
  auto it = req.query.find("project");
  return it == req.query.end() || it->second.empty() ? std::string(auth::kPublicProject) : it->second;
}

// ?name=1 style flags: present and not "0"/"false".
inline bool FlagParam(const Request& req, const std::string& name) {
  auto it = req.query.find(name);
  return it != req.query.end() && it->second != "0" && it->second != "false";
}

// The project ids the caller may list in: ?project=P (checked) or all theirs.
// Sets *all for an admin listing everything.
inline Result<std::vector<int64_t>> VisibleProjects(store::Tx& tx, const Request& req, bool* all) {
  *all = false;
  auto it = req.query.find("project");
  if (it != req.query.end() && !it->second.empty()) {
    QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a,
                            auth::CheckProject(tx, req.who(), it->second, auth::ProjectAction::kView));
    return std::vector<int64_t>{a.project.id};
  }
  *all = req.who().is_admin;
  QUADER_ASSIGN_OR_RETURN(auto projects, store::ListProjects(tx, req.who().user_id, true));
  std::vector<int64_t> ids;
  for (const auto& p : projects) ids.push_back(p.project.id);
  if (*all) ids.clear();
  return ids;
}

// A string field of at most `max` bytes.
inline Status CheckText(const std::string& field, const Json& v, size_t max) {
  if (!v.is_string()) return errors::Invalid(field, "must be a string");
  if (v.get<std::string>().size() > max) return errors::Invalid(field, "longer than " + std::to_string(max) + " bytes");
  return Status::Ok();
}

// The {version} path parameter of a registry object: 1, 2, ...; kNotFound for `kind` otherwise.
inline Result<int> VersionParam(const Request& req, const std::string& kind) {
  const std::string& text = req.Param("version");
  if (!IsNumericId(text) || text.size() > 9 || std::stoll(text) < 1) return errors::NotFound(kind, text);
  return static_cast<int>(std::stoll(text));
}

// The body that makes a model or a data set: {project?, name, description?}.
struct NewNamedObject {
  std::string project = std::string(auth::kPublicProject);
  std::string name;
  std::string description;
};
inline Result<NewNamedObject> ParseNewNamedObject(const Json& body) {
  for (const auto& [k, v] : body.items()) {
    if (k != "project" && k != "name" && k != "description") return errors::Invalid(k, "unknown field");
  }
  NewNamedObject out;
  out.name = body.value("name", Json()).is_string() ? body["name"].get<std::string>() : "";
  QUADER_RETURN_IF_ERROR(ValidateObjectName("name", out.name));
  if (body.contains("project")) {
    QUADER_RETURN_IF_ERROR(CheckText("project", body["project"], 256));
    out.project = body["project"].get<std::string>();
  }
  if (body.contains("description")) {
    QUADER_RETURN_IF_ERROR(CheckText("description", body["description"], 4096));
    out.description = body["description"].get<std::string>();
  }
  return out;
}

}  // namespace quader::api
