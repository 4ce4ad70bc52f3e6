#include "api/access_log.h"

#include <atomic>
#include <exception>
#include <filesystem>
#include <memory>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

namespace quader::api {

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path, size_t max_bytes, size_t max_files) {
  if (path.empty()) return std::unique_ptr<AccessLog>(new AccessLog(nullptr));
  if (max_bytes == 0) return errors::Invalid("access log", "the size limit must be above 0 bytes");
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  try {
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(path, max_bytes, max_files);
    auto logger = std::make_shared<spdlog::logger>("access", std::move(sink));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::info);
    // Failures (disk full) must not throw into a request; say so once.
    auto reported = std::make_shared<std::atomic<bool>>(false);
    logger->set_error_handler([reported](const std::string& msg) {
      if (!reported->exchange(true)) spdlog::error("[http] the access log cannot be written: {}", msg);
    });
    return std::unique_ptr<AccessLog>(new AccessLog(std::move(logger)));
  } catch (const std::exception& e) {
    return errors::Unavailable("cannot open the access log " + path + ": " + e.what());
  }
}

AccessLog::AccessLog(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

AccessLog::~AccessLog() {
  if (logger_) logger_->flush();
}

void AccessLog::Write(std::string_view line) {
  if (logger_) {
    logger_->info("{}", line);
  } else {
    spdlog::info("{}", line);
  }
}

}  // namespace quader::api
