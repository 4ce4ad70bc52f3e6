#include "workload/dataset_ref.h"

#include <set>

#include "core/names.h"

namespace quader::workload {
namespace {

constexpr size_t kMaxRefs = 32;

}  // namespace

Result<DatasetRef> ParseDatasetRef(const std::string& field, const std::string& text) {
  DatasetRef ref;
  const size_t at = text.find('@');
  ref.name = text.substr(0, at);
  if (!ValidateObjectName(field, ref.name).ok()) {
    return errors::Invalid(field, "\"" + text.substr(0, 200) + "\" is not a data set: NAME or NAME@VERSION");
  }
  if (at != std::string::npos) {
    const std::string number = text.substr(at + 1);
    bool digits = !number.empty() && number.size() <= 9 && number[0] != '0';
    for (char c : number) digits = digits && c >= '0' && c <= '9';
    if (!digits) return errors::Invalid(field, "\"" + text.substr(0, 200) + "\": the version after @ is a number from 1");
    ref.version = std::stoi(number);
  }
  return ref;
}

Result<std::vector<DatasetRef>> ParseDatasetRefs(const std::string& field, const Json* value) {
  std::vector<DatasetRef> out;
  if (!value || value->is_null()) return out;
  std::vector<std::string> texts;
  if (value->is_string()) {
    std::string all = value->get<std::string>();
    for (size_t pos = 0; pos <= all.size();) {
      size_t comma = all.find(',', pos);
      if (comma == std::string::npos) comma = all.size();
      std::string item = all.substr(pos, comma - pos);
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) texts.push_back(item);
      pos = comma + 1;
    }
  } else if (value->is_array()) {
    for (const auto& v : *value) {
      if (!v.is_string()) return errors::Invalid(field, "each item must be a string: NAME or NAME@VERSION");
      texts.push_back(v.get<std::string>());
    }
  } else {
    return errors::Invalid(field, "must be a list of NAME or NAME@VERSION");
  }
  if (texts.size() > kMaxRefs) return errors::Invalid(field, "more than " + std::to_string(kMaxRefs) + " data sets");
  std::set<std::string> names;
  for (const auto& t : texts) {
    QUADER_ASSIGN_OR_RETURN(DatasetRef ref, ParseDatasetRef(field, t));
    if (!names.insert(ref.name).second) return errors::Invalid(field, "names data set " + ref.name + " twice");
    out.push_back(ref);
  }
  return out;
}

Json DatasetRefsJson(const std::vector<DatasetRef>& refs) {
  Json out = Json::array();
  for (const auto& r : refs) out.push_back(r.Text());
  return out;
}

}  // namespace quader::workload
