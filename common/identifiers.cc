#include "common/identifiers.h"

#include "absl/strings/ascii.h"

namespace auscult {

bool IsValidSensorId(std::string_view id) {
  if (id.empty() || id.size() > 64 || !absl::ascii_isalnum(id[0])) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace auscult
