#ifndef AUSCULT_COMMON_LOGGING_H_
#define AUSCULT_COMMON_LOGGING_H_

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

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
// error, critical, off. Logs carry no packet contents: no PHI ever reaches them.
absl::Status InitLogging(const std::string& program, const std::string& level);

}  // namespace auscult

#endif  // AUSCULT_COMMON_LOGGING_H_
