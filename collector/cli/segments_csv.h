#ifndef AUSCULT_COLLECTOR_CLI_SEGMENTS_CSV_H_
#define AUSCULT_COLLECTOR_CLI_SEGMENTS_CSV_H_

// The segment map as operators keep it: a CSV file with a header naming its columns, any of
//   site, cidr, vlan, wing, department
// (cidr or vlan at least; order free; case-insensitive), one segment per line. Blank lines and lines
// starting with '#' are skipped; fields may be double-quoted ("" for a quote inside). Example:
//   site,cidr,vlan,wing,department
//   st-marys,10.20.0.0/16,,north,Radiology
//   st-marys,,120,north,ICU 3

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace auscult::cli {

// The segments of `text`, or INVALID_ARGUMENT naming "<name>:<line>: what is wrong". Networks and
// VLANs are checked here only for form; the collector validates them again.
absl::StatusOr<std::vector<v1::Segment>> ParseSegmentsCsv(std::string_view text, std::string_view name);

}  // namespace auscult::cli

#endif  // AUSCULT_COLLECTOR_CLI_SEGMENTS_CSV_H_
