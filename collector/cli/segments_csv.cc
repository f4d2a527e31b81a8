#include "collector/cli/segments_csv.h"

#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/text.h"

namespace auscult::cli {
namespace {

enum class Column { kSite, kCidr, kVlan, kWing, kDepartment };

// One CSV line's fields: commas separate, double quotes protect commas and quotes ("").
bool SplitCsv(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && !was_quoted && absl::StripAsciiWhitespace(field).empty()) {
      quoted = was_quoted = true;
      field.clear();
    } else if (c == ',') {
      out.push_back(was_quoted ? field : std::string(absl::StripAsciiWhitespace(field)));
      field.clear();
      was_quoted = false;
    } else {
      field += c;
    }
  }
  if (quoted) return false;  // a quote never closed
  out.push_back(was_quoted ? field : std::string(absl::StripAsciiWhitespace(field)));
  return true;
}

}  // namespace

absl::StatusOr<std::vector<v1::Segment>> ParseSegmentsCsv(std::string_view text, std::string_view name) {
  static const std::map<std::string, Column> kColumns = {
      {"site", Column::kSite}, {"cidr", Column::kCidr}, {"network", Column::kCidr},
      {"vlan", Column::kVlan}, {"wing", Column::kWing}, {"department", Column::kDepartment}};
  std::vector<Column> header;
  std::vector<v1::Segment> out;
  std::vector<std::string> fields;
  int number = 0;
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(name), ":", number, ": ", AsAbsl(why)));
  };
  for (absl::string_view raw : absl::StrSplit(AsAbsl(text), '\n')) {
    ++number;
    std::string_view line = AsStd(raw);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view trimmed = AsStd(absl::StripAsciiWhitespace(AsAbsl(line)));
    if (trimmed.empty() || trimmed.front() == '#') continue;
    if (!SplitCsv(line, fields)) return bad("a quoted field is not closed");
    // Protobuf strings must be UTF-8: a request with other bytes does not parse at the collector, which
    // refuses it whole without a line to point at; here the line is known (found by segments_fuzz).
    for (const std::string& f : fields) {
      if (ToValidUtf8(f) != f) return bad("not UTF-8 text (save the file as UTF-8)");
    }
    if (header.empty()) {
      bool has_place = false;
      for (const std::string& f : fields) {
        const auto it = kColumns.find(absl::AsciiStrToLower(f));
        if (it == kColumns.end()) {
          return bad(absl::StrCat("unknown column '", f.substr(0, 40),
                                  "' (the header names columns among site, cidr, vlan, wing, department)"));
        }
        for (Column c : header) {
          if (c == it->second) return bad(absl::StrCat("column '", f, "' appears twice"));
        }
        header.push_back(it->second);
        has_place |= it->second == Column::kCidr || it->second == Column::kVlan;
      }
      if (!has_place) return bad("the header needs a cidr or a vlan column");
      continue;
    }
    if (fields.size() != header.size()) {
      return bad(absl::StrCat(fields.size(), " fields where the header names ", header.size()));
    }
    v1::Segment s;
    for (size_t i = 0; i < header.size(); ++i) {
      const std::string& f = fields[i];
      switch (header[i]) {
        case Column::kSite:
          s.set_site(f);
          break;
        case Column::kCidr:
          s.set_cidr(f);
          break;
        case Column::kVlan: {
          uint32_t vlan = 0;
          if (!f.empty() && (!absl::SimpleAtoi(f, &vlan) || vlan == 0 || vlan > 4094)) {
            return bad(absl::StrCat("vlan '", f.substr(0, 20), "' is not a VLAN id (1-4094)"));
          }
          s.set_vlan(vlan);
          break;
        }
        case Column::kWing:
          s.set_wing(f);
          break;
        case Column::kDepartment:
          s.set_department(f);
          break;
      }
    }
    if (s.cidr().empty() && s.vlan() == 0) return bad("a segment needs a network (cidr), a VLAN or both");
    out.push_back(std::move(s));
  }
  if (header.empty()) return absl::InvalidArgumentError(absl::StrCat(AsAbsl(name), ": no header line"));
  return out;
}

}  // namespace auscult::cli
