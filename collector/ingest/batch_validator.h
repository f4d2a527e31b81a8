#ifndef AUSCULT_COLLECTOR_INGEST_BATCH_VALIDATOR_H_
#define AUSCULT_COLLECTOR_INGEST_BATCH_VALIDATOR_H_

#include "absl/status/status.h"
#include "auscult/v1/observation.pb.h"
#include "common/observation_limits.h"

namespace auscult::collector {

// Limits on what one batch may carry (with those in common/observation_limits.h). A sensor never comes near them; a
// hostile or broken one is refused with a message naming the batch and the field.
inline constexpr int kMaxObservationsPerBatch = 100000;
inline constexpr int kMaxAddressesPerDevice = 256;
inline constexpr int kMaxVlansPerDevice = 64;
inline constexpr uint64_t kMaxCounter = uint64_t{1} << 50;  // per observation: far above any window

// Checks everything the store relies on: identifiers, addresses, enum values, timestamps, sizes,
// and that no string holds a NUL (PostgreSQL text cannot). Pure: no database, no gRPC.
absl::Status ValidateBatch(const v1::ObservationBatch& batch);

// A timestamp from 1970 up to 2100 with nanos in range: what the store accepts.
bool IsPlausibleTime(const google::protobuf::Timestamp& t);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_INGEST_BATCH_VALIDATOR_H_
