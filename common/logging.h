#ifndef AUSCULT_COMMON_LOGGING_H_
#define AUSCULT_COMMON_LOGGING_H_

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// Debian 12's Abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is
// 0), which neither converts to std::string_view nor formats with fmt. These bridge the two.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  auto format(absl::string_view s, fmt::format_context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace auscult {

inline absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view AsStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Sets up the process-wide spdlog logger on stderr. `level` is one of trace, debug, info, warn,
// error, critical, off. `format` is "text" (one line: time, level, program, message) or "json" (one
// JSON object a line: time, level, logger, message; for log shippers). Logs carry no packet
// contents: no PHI ever reaches them.
absl::Status InitLogging(const std::string& program, const std::string& level, const std::string& format = "text");

// For log lines that outside input can repeat at will (a client refused again and again, a spool
// that stays full): a burst of lines passes, then at most one per interval; the rest are counted,
// and the next line that passes is preceded by how many were left out. Thread-safe.
class LogLimiter {
 public:
  explicit LogLimiter(int burst = 5, absl::Duration interval = absl::Seconds(10))
      : burst_(burst), interval_(interval) {}
  // Whether to log this one; `held` is set to the number left out since the last that passed.
  bool Allow(uint64_t& held);

 private:
  std::mutex mu_;
  const int burst_;
  const absl::Duration interval_;
  double tokens_ = -1;  // -1: full, on first use
  absl::Time refilled_;
  uint64_t held_ = 0;
};

}  // namespace auscult

// spdlog::log(level, ...) through a LogLimiter of the call site's own.
#define AUSCULT_LOG_LIMITED(level, ...)                                                                             \
  do {                                                                                                              \
    static ::auscult::LogLimiter auscult_log_limiter;                                                               \
    uint64_t auscult_log_held = 0;                                                                                  \
    if (auscult_log_limiter.Allow(auscult_log_held)) {                                                              \
      if (auscult_log_held > 0) spdlog::log(level, "({} more like the next line were left out)", auscult_log_held); \
      spdlog::log(level, __VA_ARGS__);                                                                              \
    }                                                                                                               \
  } while (0)

#endif  // AUSCULT_COMMON_LOGGING_H_
