// libFuzzer target for the segment map import: the CSV file an operator hands to
// `auscult segments import` (collector/cli/segments_csv.h), then what the collector checks of the
// request it receives (ValidateSegments, collector/store/segments.h) before its one transaction.
//
// Contracts checked besides what ASan/UBSan catch:
//  - a refused file is refused with "<name>:<line>: why" and a line that exists, or "<name>: no
//    header line" (an operator must be able to find what to fix);
//  - what the CLI accepts reaches the collector as it was parsed (the request survives
//    serialization, as it must to cross gRPC);
//  - a request the collector accepts has a network that ImportSegments can parse again, since it
//    dereferences the parse without checking.
//
// Input: the CSV text. Seeds: tests/data/fuzz-seeds/segments_fuzz.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/numbers.h"
#include "auscult/v1/query.pb.h"
#include "collector/cli/segments_csv.h"
#include "collector/store/segments.h"
#include "common/cidr.h"
#include "common/logging.h"
#include "google/protobuf/stubs/logging.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "segment import broke its contract: %s\n", what);
    std::abort();
  }
}

// "fuzz.csv:<n>: ..." with 1 <= n <= lines, or "fuzz.csv: no header line".
void CheckRefusal(std::string_view message, std::string_view text) {
  constexpr std::string_view kName = "fuzz.csv:";
  Require(message.substr(0, kName.size()) == kName, "a refusal that does not name the file");
  message.remove_prefix(kName.size());
  if (message == " no header line") return;
  const size_t colon = message.find(':');
  Require(colon != std::string_view::npos, "a refusal without a line number");
  int line = 0;
  Require(absl::SimpleAtoi(auscult::AsAbsl(message.substr(0, colon)), &line), "a refusal without a line number");
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  Require(line >= 1 && line <= lines, "a refusal naming a line the file does not have");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs each string field that is not UTF-8 as it serializes: the check below sees those.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto segments = auscult::cli::ParseSegmentsCsv(text, "fuzz.csv");
  if (!segments.ok()) {
    CheckRefusal(auscult::AsStd(segments.status().message()), text);
    return 0;
  }
  auscult::v1::ImportSegmentsRequest sent;
  for (auscult::v1::Segment& s : *segments) *sent.add_segments() = std::move(s);
  auscult::v1::ImportSegmentsRequest received;
  Require(received.ParseFromString(sent.SerializeAsString()) && received.segments_size() == sent.segments_size(),
          "an accepted file whose request does not survive the wire");
  if (!auscult::collector::ValidateSegments(received).ok()) return 0;
  for (const auscult::v1::Segment& s : received.segments()) {
    if (!s.cidr().empty())
      Require(auscult::Cidr::Parse(s.cidr()).has_value(), "an accepted network that does not parse");
  }
  return 0;
}
