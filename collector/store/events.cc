#include "collector/store/events.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collector/store/enum_names.h"
#include "collector/store/graph.h"
#include "collector/store/pg_array.h"

namespace auscult::collector {
namespace {

// Scans a window of ids (so that a filter matching nothing still moves the cursor), returning the
// matching events and the window's end. Details are flattened to text for the map field.
constexpr char kEvents[] = R"sql(
WITH w AS (SELECT event_id FROM events WHERE event_id > $1::bigint ORDER BY event_id LIMIT $3::bigint)
SELECT e.event_id, auscult_us(e.at), e.kind, COALESCE(e.device_id, 0), COALESCE(e.sensor_id, ''),
       d.key, COALESCE(d.value, ''), (SELECT max(event_id) FROM w)
FROM events e JOIN w USING (event_id) LEFT JOIN LATERAL jsonb_each_text(e.detail) AS d ON true
WHERE cardinality($2::text[]) = 0 OR e.kind = ANY($2::text[])
ORDER BY e.event_id, d.key)sql";

// The events that carry their device as it reads now: those about a device, and a policy
// violation (whose device broke the policy).
bool CarriesDevice(const std::string& kind) { return kind.rfind("device_", 0) == 0 || kind == "policy_violation"; }

}  // namespace

absl::Status CheckEventKinds(const v1::WatchRequest& request) {
  std::set<std::string> seen;
  for (const std::string& kind : request.kinds()) {
    if (std::find(std::begin(kEventKinds), std::end(kEventKinds), kind) == std::end(kEventKinds)) {
      return absl::InvalidArgumentError(absl::StrCat("kinds: each one of ", absl::StrJoin(kEventKinds, ", ")));
    }
    if (!seen.insert(kind).second) return absl::InvalidArgumentError("kinds: a kind is named twice");
  }
  if (request.after_event_id() < -1) return absl::InvalidArgumentError("after_event_id: -1, 0 or an event id");
  return absl::OkStatus();
}

int64_t LastEventId(pqxx::connection_base& c) {
  pqxx::read_transaction t(c);
  return t.exec1("SELECT COALESCE(max(event_id), 0) FROM events").at(0).as<int64_t>();
}

std::vector<v1::Event> ReadEvents(pqxx::connection_base& c, int64_t after, const std::vector<std::string>& kinds,
                                  int limit, int64_t* scanned_to) {
  *scanned_to = after;
  PgArray kind_array;
  for (const std::string& k : kinds) kind_array.Add(k);
  // One snapshot for both statements below: under READ COMMITTED an event committed between them
  // (the graph merge commits edge_new events a moment after the batch's own device_new events) was
  // not among the first's rows yet but inside the second's window, and the cursor moved past it.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> t(c);
  std::vector<v1::Event> events;
  const pqxx::result rows = t.exec_params(kEvents, after, kind_array.str(), static_cast<int64_t>(limit));
  if (rows.empty()) {
    // Nothing matched: move past the window anyway.
    const pqxx::row end = t.exec_params1(
        "SELECT COALESCE(max(event_id), $1::bigint) FROM (SELECT event_id FROM events WHERE event_id > $1::bigint "
        "ORDER BY event_id LIMIT $2::bigint) w",
        after, static_cast<int64_t>(limit));
    *scanned_to = end.at(0).as<int64_t>();
    return events;
  }
  std::vector<std::string> device_nodes;
  for (const pqxx::row& r : rows) {
    const int64_t id = r.at(0).as<int64_t>();
    *scanned_to = r.at(7).as<int64_t>();
    if (events.empty() || events.back().event_id() != id) {
      v1::Event& e = events.emplace_back();
      e.set_event_id(id);
      FromMicros(r.at(1).as<int64_t>(), e.mutable_at());
      e.set_kind(r.at(2).as<std::string>());
      e.set_device_id(r.at(3).as<int64_t>());
      e.set_sensor_id(r.at(4).as<std::string>());
      if (e.device_id() > 0 && CarriesDevice(e.kind())) {
        device_nodes.push_back(absl::StrCat("d:", e.device_id()));
      }
    }
    if (!r.at(5).is_null()) (*events.back().mutable_detail())[r.at(5).as<std::string>()] = r.at(6).as<std::string>();
  }
  std::sort(device_nodes.begin(), device_nodes.end());
  device_nodes.erase(std::unique(device_nodes.begin(), device_nodes.end()), device_nodes.end());
  absl::flat_hash_map<int64_t, v1::GraphNode> nodes;
  for (v1::GraphNode& n : LoadNodes(t, device_nodes)) {
    if (n.kind() == "device") nodes[n.device_id()] = std::move(n);
  }
  for (v1::Event& e : events) {
    if (auto it = nodes.find(e.device_id()); it != nodes.end() && CarriesDevice(e.kind())) {
      *e.mutable_device() = it->second;
    }
  }
  return events;
}

}  // namespace auscult::collector
