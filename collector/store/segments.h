#ifndef AUSCULT_COLLECTOR_STORE_SEGMENTS_H_
#define AUSCULT_COLLECTOR_STORE_SEGMENTS_H_

// The segment map (which network or VLAN of a site is which wing and department): validation,
// import and listing. See the Segment message in proto/auscult/v1/query.proto.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace pqxx {
class connection_base;
}

namespace auscult::collector {

inline constexpr int kMaxSegmentsPerImport = 100000;

// INVALID_ARGUMENT naming the first bad segment and field ("segments[3].cidr: ..."), else OK.
absl::Status ValidateSegments(const v1::ImportSegmentsRequest& request);

// Validates, then applies the whole request in one transaction: nothing is imported if any segment is bad.
// `who` is recorded in admin_actions, in the import's transaction.
absl::StatusOr<v1::ImportSegmentsResponse> ImportSegments(pqxx::connection_base& c,
                                                          const v1::ImportSegmentsRequest& request,
                                                          const std::string& who);
absl::StatusOr<v1::ListSegmentsResponse> ListSegments(pqxx::connection_base& c, const v1::ListSegmentsRequest&);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_SEGMENTS_H_
