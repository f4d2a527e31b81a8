#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace auscult {

absl::Status InitLogging(const std::string& program, const std::string& level) {
  const spdlog::level::level_enum lvl = spdlog::level::from_str(level);
  // from_str maps anything unknown to "off"; only accept "off" when it was asked for.
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError("--log_level: '" + level +
                                      "' is not one of trace, debug, info, warn, error, critical, off");
  }
  auto logger = spdlog::stderr_color_mt(program);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

}  // namespace auscult
