#include "common/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "absl/time/clock.h"
#include "common/json_writer.h"

namespace auscult {
namespace {

// --log_format=json: one object a line on stderr, {"time","level","logger","message"}; the message
// escaped as JSON strings are (invalid UTF-8 replaced), so every line parses.
class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const absl::Time t = absl::FromChrono(msg.time);
    JsonWriter j;
    j.BeginObject();
    j.Key("time").String(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()));
    const auto level = spdlog::level::to_string_view(msg.level);
    j.Key("level").String(std::string_view(level.data(), level.size()));
    j.Key("logger").String(std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    j.Key("message").String(std::string_view(msg.payload.data(), msg.payload.size()));
    j.EndObject();
    std::string line = j.str();
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

absl::Status InitLogging(const std::string& program, const std::string& level, const std::string& format) {
  const spdlog::level::level_enum lvl = spdlog::level::from_str(level);
  // from_str maps anything unknown to "off"; only accept "off" when it was asked for.
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError("--log_level: '" + level +
                                      "' is not one of trace, debug, info, warn, error, critical, off");
  }
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    logger = std::make_shared<spdlog::logger>(program, std::make_shared<JsonLineSink>());
    spdlog::register_logger(logger);
  } else if (format == "text") {
    logger = spdlog::stderr_color_mt(program);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
  } else {
    return absl::InvalidArgumentError("--log_format: '" + format + "' is not text or json");
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

bool LogLimiter::Allow(uint64_t& held) {
  std::lock_guard lock(mu_);
  const absl::Time now = absl::Now();
  if (tokens_ < 0) {
    tokens_ = burst_;
    refilled_ = now;
  }
  // One line's worth comes back every interval, up to the burst.
  tokens_ = std::min<double>(burst_, tokens_ + absl::FDivDuration(now - refilled_, interval_));
  refilled_ = now;
  if (tokens_ < 1) {
    ++held_;
    return false;
  }
  tokens_ -= 1;
  held = held_;
  held_ = 0;
  return true;
}

}  // namespace auscult
