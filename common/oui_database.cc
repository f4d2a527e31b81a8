#include "common/oui_database.h"

#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace auscult {
namespace {

// Splits one CSV record (RFC 4180 quoting; the IEEE files quote names that contain commas).
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          fields.back() += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OuiDatabase>> OuiDatabase::Load(const std::string& directory) {
  auto db = std::unique_ptr<OuiDatabase>(new OuiDatabase());
  if (auto s = db->LoadFile(directory + "/oui.csv", /*required=*/true); !s.ok()) return s;
  for (const char* name : {"/mam.csv", "/oui36.csv", "/iab.csv"}) {
    if (auto s = db->LoadFile(directory + name, /*required=*/false); !s.ok()) return s;
  }
  return db;
}

absl::Status OuiDatabase::LoadFile(const std::string& path, bool required) {
  std::ifstream in(path);
  if (!in) {
    if (!required) return absl::OkStatus();
    return absl::NotFoundError(
        absl::StrCat("OUI database ", path, " cannot be read (install Debian's ieee-data or set --oui_dir)"));
  }
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {  // "Registry,Assignment,Organization Name,Organization Address"
      header = false;
      continue;
    }
    const auto f = SplitCsv(line);
    if (f.size() < 3) {
      ++skipped_lines_;
      continue;
    }
    const std::string& registry = f[0];
    const std::string& hex = f[1];
    uint64_t prefix = 0;
    bool ok = !hex.empty();
    for (char c : hex) {
      const int v = absl::ascii_isdigit(c)    ? c - '0'
                    : absl::ascii_isxdigit(c) ? (absl::ascii_tolower(c) - 'a' + 10)
                                              : -1;
      if (v < 0) {
        ok = false;
        break;
      }
      prefix = prefix << 4 | static_cast<uint64_t>(v);
    }
    std::string org(absl::StripAsciiWhitespace(f[2]));
    if (!ok || org.empty()) {
      ++skipped_lines_;
      continue;
    }
    if (registry == "MA-L" && hex.size() == 6) {
      l_[prefix] = std::move(org);
    } else if (registry == "MA-M" && hex.size() == 7) {
      m_[prefix] = std::move(org);
    } else if ((registry == "MA-S" || registry == "IAB") && hex.size() == 9) {
      s_[prefix] = std::move(org);
    } else {
      ++skipped_lines_;
    }
  }
  return absl::OkStatus();
}

std::string_view OuiDatabase::Lookup(const MacAddress& mac) const {
  if (mac.IsLocallyAdministered() || mac.IsGroup()) return {};
  const uint64_t v = mac.ToU64();
  if (auto it = s_.find(v >> 12); it != s_.end()) return it->second;
  if (auto it = m_.find(v >> 20); it != m_.end()) return it->second;
  if (auto it = l_.find(v >> 24); it != l_.end()) return it->second;
  return {};
}

}  // namespace auscult
