#include "common/flags.h"

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "common/version.h"

namespace auscult {

std::vector<char*> ParseFlags(int argc, char** argv, const char* program, const char* usage) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) { return absl::EndsWith(file, "main.cc"); };
  config.contains_helpshort_flags = config.contains_help_flags;
  const std::string version = std::string(program) + " " + kVersion + "\n";
  config.version_string = [version] { return version; };
  // "/src/auscult/sensor/main.cc" -> "sensor/main.cc": no build machine paths in --help.
  config.normalize_filename = [](absl::string_view file) {
    const size_t last = file.rfind('/');
    const size_t before =
        last == absl::string_view::npos || last == 0 ? absl::string_view::npos : file.rfind('/', last - 1);
    return std::string(before == absl::string_view::npos ? file : file.substr(before + 1));
  };
  absl::SetFlagsUsageConfig(config);
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace auscult
