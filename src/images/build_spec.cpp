#include "images/build_spec.h"

#include <regex>

#include "core/names.h"

namespace quader::images {
namespace {

bool HasFromLine(const std::string& dockerfile) {
  static const std::regex kFrom(R"((^|\n)\s*FROM\s)", std::regex::icase);
  return std::regex_search(dockerfile, kFrom);
}

}  // namespace

Result<BuildConfig> ParseBuildConfig(const Json& input) {
  Json config = input;
  if (config.is_null()) config = Json::object();
  if (config.is_string()) {
    config = Json::parse(config.get<std::string>().empty() ? "{}" : config.get<std::string>(), nullptr, false);
    if (config.is_discarded()) return errors::Invalid("config", "is not valid JSON");
  }
  FieldReader r(config, "config");
  QUADER_RETURN_IF_ERROR(r.CheckObject());
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys({"resource_memory", "resource_cpu", "volume_mount"}));
  BuildConfig out;
  out.raw = config;
  if (config.contains("resource_memory")) {
    QUADER_ASSIGN_OR_RETURN(std::string mem, r.String("resource_memory", true));
    QUADER_ASSIGN_OR_RETURN(out.memory_bytes, auth::ParseMemorySize("config.resource_memory", mem));
  }
  if (config.contains("resource_cpu")) {
    const Json& cpu = config["resource_cpu"];
    try {
      out.cpu = cpu.is_number() ? cpu.get<double>() : std::stod(cpu.get<std::string>());
    } catch (const std::exception&) {
      return errors::Invalid("config.resource_cpu", "must be a number of cores such as 4 or \"0.5\"");
    }
    if (!(out.cpu > 0 && out.cpu <= 1024)) {
      return errors::Invalid("config.resource_cpu", "must be between 0 and 1024 cores");
    }
  }
  if (config.contains("volume_mount")) {
    QUADER_ASSIGN_OR_RETURN(std::string text, r.String("volume_mount", true));
    QUADER_ASSIGN_OR_RETURN(out.mounts, auth::ParseVolumeMounts("config.volume_mount", text));
  }
  return out;
}

Result<BuildSpec> ParseBuildSpec(const Json& body) {
  FieldReader r(body, "");
  QUADER_RETURN_IF_ERROR(r.CheckObject());
  QUADER_RETURN_IF_ERROR(r.CheckKnownKeys(
      {"kind", "project", "name", "image", "from", "dockerfile", "commit", "config", "description"}));
  BuildSpec s;
  QUADER_ASSIGN_OR_RETURN(s.project, r.String("project", false, "public"));
  QUADER_ASSIGN_OR_RETURN(s.name, r.String("name", true));
  QUADER_RETURN_IF_ERROR(ValidateObjectName("name", s.name));
  QUADER_ASSIGN_OR_RETURN(std::string image, r.String("image", true));
  QUADER_ASSIGN_OR_RETURN(s.image, ParseImageRef("image", image));
  QUADER_ASSIGN_OR_RETURN(std::string from, r.String("from", false));
  if (!from.empty()) {
    QUADER_ASSIGN_OR_RETURN(s.from, ParseImageRef("from", from));
  }
  QUADER_ASSIGN_OR_RETURN(s.dockerfile, r.String("dockerfile", false));
  QUADER_ASSIGN_OR_RETURN(s.commit, r.String("commit", false));
  QUADER_ASSIGN_OR_RETURN(s.description, r.String("description", false));
  if (s.is_commit()) {
    if (!s.dockerfile.empty() || s.from) {
      return errors::Invalid("commit", "give either commit, or from and dockerfile, not both");
    }
    QUADER_RETURN_IF_ERROR(ValidateObjectName("commit", s.commit));
  } else {
    if (!s.from && !HasFromLine(s.dockerfile)) {
      return errors::Invalid("from", "is required: name the base image, or give a dockerfile with a FROM line "
                                     "(or use commit to save a running workload)");
    }
    if (s.dockerfile.size() > 256 * 1024) return errors::Invalid("dockerfile", "is larger than 256 KiB");
  }
  if (body.contains("config")) {
    auto config = ParseBuildConfig(body["config"]);
    if (!config.ok()) return config.status();
    s.config = std::move(config).value();
  }
  return s;
}

std::string BuildSpec::FullDockerfile() const {
  if (HasFromLine(dockerfile) || !from) return dockerfile;
  return "FROM " + from->str() + "\n" + dockerfile + (dockerfile.empty() || dockerfile.back() == '\n' ? "" : "\n");
}

Json BuildSpec::ToJson() const {
  Json j = {{"project", project}, {"name", name}, {"image", image.str()},
            {"from", from ? Json(from->str()) : Json(nullptr)},
            {"dockerfile", dockerfile},
            {"commit", commit.empty() ? Json(nullptr) : Json(commit)},
            {"config", config.raw},
            {"description", description}};
  return j;
}

}  // namespace quader::images
