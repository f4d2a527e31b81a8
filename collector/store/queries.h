#ifndef AUSCULT_COLLECTOR_STORE_QUERIES_H_
#define AUSCULT_COLLECTOR_STORE_QUERIES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"
#include "collector/store/pg_array.h"

namespace pqxx {
class connection_base;
class result;
class transaction_base;
}

namespace auscult::collector {

// The query service's reads. Each validates its request (INVALID_ARGUMENT naming the field) and
// runs parameterized SQL in a read-only transaction. Database errors propagate as pqxx exceptions.
absl::StatusOr<v1::ListDevicesResponse> ListDevices(pqxx::connection_base& c, const v1::ListDevicesRequest& request);
absl::StatusOr<v1::Device> GetDevice(pqxx::connection_base& c, const v1::GetDeviceRequest& request);
absl::StatusOr<v1::ListConnectionsResponse> ListConnections(pqxx::connection_base& c,
                                                            const v1::ListConnectionsRequest& request);
absl::StatusOr<v1::ListSensorsResponse> ListSensors(pqxx::connection_base& c, const v1::ListSensorsRequest& request);

// What the database holds, counted in one read-only transaction: the collector's metrics and
// GetStatus. Throws what libpqxx throws.
struct InventoryCounts {
  int schema_version = 0;  // the newest migration applied
  int64_t devices = 0, graph_edges = 0, sensors = 0, sensors_down = 0, sensors_revoked = 0;
};
InventoryCounts CountInventory(pqxx::connection_base& c);

// Sets (or clears) an analyst's override of a device field. `set_by` names the client. The device is
// queued to be classified and scored again; `after_change`, if any, runs next on the connection
// with the time it was queued (the collector classifies it there, so the answer shows its new risk).
using AfterChange = std::function<void(pqxx::connection_base&, int64_t queued_us)>;
absl::StatusOr<v1::Device> SetDeviceField(pqxx::connection_base& c, const v1::SetDeviceFieldRequest& request,
                                          const std::string& set_by, const AfterChange& after_change = nullptr);

// INVALID_ARGUMENT naming `field` unless `value` is text (no control characters) of at most
// `max_bytes`: every free-text filter of the query API.
absl::Status CheckTextFilter(const std::string& value, std::string_view field, size_t max_bytes);

// Runs `sql`, whose one parameter $1 is the array `ids`. Up to a page of 128 it runs as the prepared statement `name` (made once a connection):
// statements over a page's ids are built from the set rules of migration 021 and take 5-10 ms to
// plan, so they use PostgreSQL's generic plan, made once. That plan assumes an array of ten
// elements, which suits a page of 100 and not a neighbourhood of 500: larger sets are planned for
// their size each time.
pqxx::result ExecForIds(pqxx::transaction_base& t, const char* name, const char* sql, const PgArray& ids);

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_QUERIES_H_
