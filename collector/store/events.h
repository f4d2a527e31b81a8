#ifndef AUSCULT_COLLECTOR_STORE_EVENTS_H_
#define AUSCULT_COLLECTOR_STORE_EVENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace pqxx {
class connection_base;
}

namespace auscult::collector {

inline constexpr char const* kEventKinds[] = {"device_new",  "device_changed", "edge_new",
                                              "sensor_down", "sensor_up",      "policy_violation"};

// Checks a Watch request's kinds (known names, no repeats).
absl::Status CheckEventKinds(const v1::WatchRequest& request);

// The newest event's id (0 when there is none).
int64_t LastEventId(pqxx::connection_base& c);

// Up to `limit` events after `after`, oldest first, of the given kinds ([] = all); device events
// carry the device as it reads now. Also returns, in *scanned_to, the id the next read starts
// after (past events of other kinds, so that filtering cannot stall a subscriber).
std::vector<v1::Event> ReadEvents(pqxx::connection_base& c, int64_t after, const std::vector<std::string>& kinds,
                                  int limit, int64_t* scanned_to);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_EVENTS_H_
