#include "workload/ownership.h"

#include <cctype>

#include "runtime/labels.h"

namespace quader::workload {
namespace {

std::string Label(const runtime::WorkloadStatus& w, const char* key) {
  auto it = w.labels.find(key);
  return it == w.labels.end() ? "" : it->second;
}

std::optional<int64_t> PositiveNumber(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

}  // namespace

std::optional<Owner> OwnerOf(const runtime::WorkloadStatus& w) {
  std::optional<int64_t> id = PositiveNumber(Label(w, runtime::kLabelOwner));
  if (!id) return std::nullopt;
  Owner o;
  o.kind = Label(w, runtime::kLabelKind);
  o.id = *id;
  if (o.kind == "task") o.member = Label(w, runtime::kLabelTask);
  if (o.kind == "trial") o.member = Label(w, runtime::kLabelTrial);
  if (o.kind == "service") o.member = Label(w, runtime::kLabelReplica);
  return o;
}

bool Owns(store::Store& store, const runtime::WorkloadStatus& w,
          const std::function<Result<bool>(store::Tx& tx, const Owner& owner)>& claims) {
  std::optional<Owner> owner = OwnerOf(w);
  if (!owner) return false;
  bool owned = false;
  Status st = store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(owned, claims(tx, *owner));
    return Status::Ok();
  });
  return st.ok() && owned;
}

Result<std::map<int64_t, std::vector<runtime::WorkloadStatus>>> ListByOwner(runtime::Runtime& runtime,
                                                                          const std::string& instance,
                                                                          const std::string& kind) {
  QUADER_ASSIGN_OR_RETURN(std::vector<runtime::WorkloadStatus> listed,
                          runtime.List({{runtime::kLabelManaged, "true"},
                                        {runtime::kLabelInstance, instance},
                                        {runtime::kLabelKind, kind}}));
  std::map<int64_t, std::vector<runtime::WorkloadStatus>> out;
  for (auto& w : listed) {
    std::optional<Owner> owner = OwnerOf(w);
    out[owner ? owner->id : 0].push_back(std::move(w));
  }
  return out;
}

}  // namespace quader::workload
