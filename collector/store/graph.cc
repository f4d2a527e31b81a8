#include "collector/store/graph.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collector/ingest/batch_validator.h"
#include "collector/store/database.h"
#include "collector/store/enum_names.h"
#include "collector/store/pg_array.h"
#include "collector/store/queries.h"
#include "common/logging.h"

namespace auscult::collector {
namespace {

// The edges (graph_edges, kept up to date by the ingest: migration 013), each end shown as the graph
// shows it (outside hosts grouped by network), added up where ends join one group. A site's graph
// is its own edges (graph_edges.site, migration 023). Bounded: a graph of more edges than this is
// cut.
constexpr int64_t kMaxEdges = 200000;
// Filters: $1 site, $2 clinical only, $3 limit, $4 port, $5 application, $6 transport, $7 only new
// (auscult_edge_is_new), $8 first seen at or after (µs; 0 = any), $9 a stored node at either end,
// $10 only edges with an end outside.
// Each filter that is off folds away when the statement is planned with its values (libpq's
// unnamed statements are), so the ones that are on can use their indexes: a new edge is first
// seen after the learning period of the first device seen (graph_edges_first_seen), an edge
// with an end outside has an end among auscult_outside_nodes() (migration 019; asked once, as a
// subquery: called in the condition, a plan that rechecks rows calls it again for each row, 2.3 s
// for one site's exposure where it takes 0.1 s). (A neighbourhood's
// edges: kEdgesAmong.) New edges: auscult_edge_is_new's rule (migration
// 013) as joins with the devices at the ends (ds, dd), so that 200 000 candidate edges are one hash
// join, not 200 000 calls (the first comparison, the same rule for the first device seen, reads the
// candidates from graph_edges_first_seen); without only_new the joins go (their columns are unused).
constexpr char kEdges[] = R"sql(
WITH e AS (
  SELECT g.* FROM graph_edges g
  LEFT JOIN devices ds ON ds.device_id = CASE WHEN g.src_node LIKE 'd:%' THEN substr(g.src_node, 3)::bigint END
  LEFT JOIN devices dd ON dd.device_id = CASE WHEN g.dst_node LIKE 'd:%' THEN substr(g.dst_node, 3)::bigint END
  WHERE ($1::text = '' OR g.site = $1::text)
    AND (NOT $2::boolean OR g.clinical)
    AND ($4::integer = 0 OR g.port = $4::integer)
    AND ($5::text = '' OR g.application = $5::text)
    AND ($6::integer = 0 OR g.transport = $6::integer)
    AND ($8::bigint = 0 OR g.first_seen >= auscult_ts($8::bigint))
    AND ($9::text = '' OR g.src_node = $9::text OR g.dst_node = $9::text)
    AND (NOT $10::boolean OR g.src_node = ANY((SELECT auscult_outside_nodes())::text[])
         OR g.dst_node = ANY((SELECT auscult_outside_nodes())::text[]))
    AND (NOT $7::boolean OR (g.first_seen > (SELECT min(x.first_seen) FROM devices x) + (SELECT auscult_learning_period())
                             AND g.first_seen > COALESCE(GREATEST(ds.first_seen, dd.first_seen),
                                                         (SELECT min(x.first_seen) FROM devices x))
                                                + (SELECT auscult_learning_period())))),
n AS (SELECT * FROM auscult_graph_nodes(ARRAY(SELECT src_node FROM e UNION SELECT dst_node FROM e)))
SELECT s.shown, d.shown, e.transport, e.port, e.application,
       sum(e.bytes_to_dst)::bigint, sum(e.bytes_to_src)::bigint, sum(e.packets_to_dst + e.packets_to_src)::bigint,
       sum(e.flows)::bigint, auscult_us(min(e.first_seen)), auscult_us(max(e.last_seen)),
       bool_or(e.clinical), bool_or(e.phi), bool_or(e.encrypted), bool_or(e.cleartext_credentials),
       bool_or(NOT (s.internal AND d.internal)), string_agg(array_to_string(e.sensors, ','), ',')
FROM e JOIN n s ON s.node = e.src_node JOIN n d ON d.node = e.dst_node
GROUP BY 1, 2, 3, 4, 5
HAVING NOT $10::boolean OR bool_or(NOT (s.internal AND d.internal))
ORDER BY sum(e.bytes_to_dst + e.bytes_to_src) DESC, 1, 2, 3, 4, 5
LIMIT $3::bigint)sql";

struct EdgeFilter {
  std::string site;
  bool clinical = false;
  int64_t limit = kMaxEdges;
  uint32_t port = 0;
  std::string application;
  uint32_t transport = 0;
  bool only_new = false;
  int64_t since_us = 0;
  std::string node;
  bool external = false;
};

std::vector<v1::GraphEdge> QueryEdges(pqxx::transaction_base& t, const EdgeFilter& f) {
  std::vector<v1::GraphEdge> edges;
  for (const pqxx::row& r :
       t.exec_params(kEdges, f.site, f.clinical, f.limit, static_cast<int64_t>(f.port), f.application,
                     static_cast<int64_t>(f.transport), f.only_new, f.since_us, f.node, f.external)) {
    v1::GraphEdge e;
    e.set_src(r.at(0).as<std::string>());
    e.set_dst(r.at(1).as<std::string>());
    e.set_transport(r.at(2).as<uint32_t>());
    e.set_port(r.at(3).as<uint32_t>());
    e.set_protocol(r.at(4).as<std::string>());
    e.set_bytes_to_dst(static_cast<uint64_t>(r.at(5).as<int64_t>()));
    e.set_bytes_to_src(static_cast<uint64_t>(r.at(6).as<int64_t>()));
    e.set_packets(static_cast<uint64_t>(r.at(7).as<int64_t>()));
    e.set_flows(static_cast<uint64_t>(r.at(8).as<int64_t>()));
    FromMicros(r.at(9).as<int64_t>(), e.mutable_first_seen());
    FromMicros(r.at(10).as<int64_t>(), e.mutable_last_seen());
    e.set_clinical(r.at(11).as<bool>());
    e.set_phi(r.at(12).as<bool>());
    e.set_encrypted(r.at(13).as<bool>());
    e.set_cleartext_credentials(r.at(14).as<bool>());
    e.set_external(r.at(15).as<bool>());
    const std::set<std::string> sensors = absl::StrSplit(r.at(16).as<std::string>(""), ',', absl::SkipEmpty());
    for (const std::string& s : sensors) e.add_sensors(s);
    edges.push_back(std::move(e));
  }
  return edges;
}

// The edges between stored nodes $1 (both ends among them), with the site ($2) and clinical ($3)
// filters of kEdges. A node's edges are read by their source (an index on src_node); the
// destination is matched by hash (the planner otherwise also reads the destination index for the
// whole set: a neighbourhood through servers holds 300 000 entries there). Not added up here:
// EdgesAmong does that in memory.
constexpr char kEdgesAmong[] = R"sql(
SELECT g.src_node, g.dst_node, g.transport, g.port, g.application, g.bytes_to_dst, g.bytes_to_src,
       g.packets_to_dst + g.packets_to_src, g.flows, auscult_us(g.first_seen), auscult_us(g.last_seen),
       g.clinical, g.phi, g.encrypted, g.cleartext_credentials, array_to_string(g.sensors, ',')
FROM graph_edges g
WHERE g.src_node = ANY($1::text[]) AND g.dst_node IN (SELECT unnest($1::text[]))
  AND ($2::text = '' OR g.site = $2::text)
  AND (NOT $3::boolean OR g.clinical))sql";

// An edge of EdgesAmong as shown (numbered names), and what it adds up.
struct EdgeKey {
  uint32_t src, dst, port, application;
  uint16_t transport;
  bool operator==(const EdgeKey& o) const {
    return src == o.src && dst == o.dst && port == o.port && application == o.application && transport == o.transport;
  }
  template <typename H>
  friend H AbslHashValue(H h, const EdgeKey& k) {
    return H::combine(std::move(h), k.src, k.dst, k.port, k.application, k.transport);
  }
};
struct EdgeSum {
  uint64_t bytes_to_dst = 0, bytes_to_src = 0, packets = 0, flows = 0;
  int64_t first_us = std::numeric_limits<int64_t>::max(), last_us = std::numeric_limits<int64_t>::min();
  bool clinical = false, phi = false, encrypted = false, credentials = false, external = false;
  std::vector<uint32_t> sensors;
};

// The edges between the stored nodes `among`, each end shown as the graph shows it and added up
// where ends join one group: what kEdges answers with only these filters, in its order, at most
// kMaxEdges. The adding up is done here: a neighbourhood of 500 nodes has 10 000 edges or more,
// which PostgreSQL sorted and grouped by text keys in 40 ms, and the nodes are shown by asking
// auscult_graph_nodes for the 500 nodes once rather than for every edge's ends. Names (shown
// nodes, applications, sensors) are numbered as they come, so that the sums are keyed by numbers
// and only the answer holds strings.
std::vector<v1::GraphEdge> EdgesAmong(pqxx::transaction_base& t, const std::string& site, bool clinical,
                                      const std::vector<std::string>& among) {
  PgArray nodes;
  for (const std::string& n : among) nodes.Add(n);
  std::vector<std::string> names;  // numbered names
  absl::flat_hash_map<std::string, uint32_t> numbers;
  auto number = [&](absl::string_view name) {
    auto [it, added] = numbers.try_emplace(name, static_cast<uint32_t>(names.size()));
    if (added) names.emplace_back(name);
    return it->second;
  };
  struct Shown {
    uint32_t node;
    bool internal;
  };
  absl::flat_hash_map<std::string, Shown> shown;  // stored node -> shown node
  for (const pqxx::row& r :
       t.exec_params("SELECT node, shown, internal FROM auscult_graph_nodes($1::text[])", nodes.str())) {
    shown[r[0].c_str()] = {number(r[1].c_str()), r[2].as<bool>(true)};
  }
  // Counters are non-negative bigints; their sums saturate as auscult_sat's do.
  auto add = [](uint64_t a, int64_t b) {
    const uint64_t v = static_cast<uint64_t>(std::max<int64_t>(b, 0));
    return a > std::numeric_limits<uint64_t>::max() - v ? std::numeric_limits<uint64_t>::max() : a + v;
  };
  absl::flat_hash_map<EdgeKey, EdgeSum> sums;
  {
    const pqxx::result rows = t.exec_params(kEdgesAmong, nodes.str(), site, clinical);
    for (const pqxx::row& r : rows) {
      const auto src = shown.find(absl::string_view(r[0].c_str())), dst = shown.find(absl::string_view(r[1].c_str()));
      if (src == shown.end() || dst == shown.end()) continue;  // cannot be: both ends are among the nodes
      const EdgeKey key{src->second.node, dst->second.node, r[3].as<uint32_t>(), number(r[4].c_str()),
                    r[2].as<uint16_t>()};
      EdgeSum& sum = sums[key];
      sum.bytes_to_dst = add(sum.bytes_to_dst, r[5].as<int64_t>());
      sum.bytes_to_src = add(sum.bytes_to_src, r[6].as<int64_t>());
      sum.packets = add(sum.packets, r[7].as<int64_t>());
      sum.flows = add(sum.flows, r[8].as<int64_t>());
      sum.first_us = std::min(sum.first_us, r[9].as<int64_t>());
      sum.last_us = std::max(sum.last_us, r[10].as<int64_t>());
      sum.clinical |= r[11].as<bool>();
      sum.phi |= r[12].as<bool>();
      sum.encrypted |= r[13].as<bool>();
      sum.credentials |= r[14].as<bool>();
      sum.external |= !(src->second.internal && dst->second.internal);
      for (absl::string_view sensor : absl::StrSplit(absl::string_view(r[15].c_str()), ',', absl::SkipEmpty())) {
        const uint32_t n = number(sensor);
        if (std::find(sum.sensors.begin(), sum.sensors.end(), n) == sum.sensors.end()) sum.sensors.push_back(n);
      }
    }
  }
  // kEdges' order: busiest first, then by the key's text.
  std::vector<std::pair<const EdgeKey*, EdgeSum*>> order;
  order.reserve(sums.size());
  for (auto& [key, sum] : sums) order.emplace_back(&key, &sum);
  auto bytes = [](const EdgeSum& s) { return static_cast<unsigned __int128>(s.bytes_to_dst) + s.bytes_to_src; };
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (bytes(*a.second) != bytes(*b.second)) return bytes(*a.second) > bytes(*b.second);
    const EdgeKey &x = *a.first, &y = *b.first;
    if (int c = names[x.src].compare(names[y.src]); c != 0) return c < 0;
    if (int c = names[x.dst].compare(names[y.dst]); c != 0) return c < 0;
    if (x.transport != y.transport) return x.transport < y.transport;
    if (x.port != y.port) return x.port < y.port;
    return names[x.application] < names[y.application];
  });
  if (static_cast<int64_t>(order.size()) > kMaxEdges) order.resize(static_cast<size_t>(kMaxEdges));
  std::vector<v1::GraphEdge> edges(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const EdgeKey& k = *order[i].first;
    EdgeSum& sum = *order[i].second;
    v1::GraphEdge& e = edges[i];
    e.set_src(names[k.src]);
    e.set_dst(names[k.dst]);
    e.set_transport(k.transport);
    e.set_port(k.port);
    e.set_protocol(names[k.application]);
    e.set_bytes_to_dst(sum.bytes_to_dst);
    e.set_bytes_to_src(sum.bytes_to_src);
    e.set_packets(sum.packets);
    e.set_flows(sum.flows);
    FromMicros(sum.first_us, e.mutable_first_seen());
    FromMicros(sum.last_us, e.mutable_last_seen());
    e.set_clinical(sum.clinical);
    e.set_phi(sum.phi);
    e.set_encrypted(sum.encrypted);
    e.set_cleartext_credentials(sum.credentials);
    e.set_external(sum.external);
    std::sort(sum.sensors.begin(), sum.sensors.end(),
              [&](uint32_t a, uint32_t b) { return names[a] < names[b]; });
    for (uint32_t n : sum.sensors) e.add_sensors(names[n]);
  }
  return edges;
}

// What a drawing shows of the devices $1: label (hostname, else vendor and latest address, else
// MAC or address), type, category, department, risk, whether it is outside, and its first eight
// addresses. Set by set (migration 021): a 2-hop neighbourhood draws 500 devices, and asking each
// rule once a device cost 0.3 ms a device. Prepared for up to 128 devices (ExecForIds).
constexpr char kDevicesStatement[] = "auscult_graph_devices";
constexpr char kDevices[] = R"sql(
WITH disp AS (
  SELECT x.device_id, max(x.value) FILTER (WHERE x.field = 'hostname') AS hostname,
         max(x.value) FILTER (WHERE x.field = 'vendor') AS vendor
  FROM auscult_displayed_of($1::bigint[]) x WHERE x.field IN ('hostname', 'vendor') GROUP BY 1),
cls AS (
  SELECT x.device_id, max(x.value) FILTER (WHERE x.key = 'device_type') AS device_type,
         max(x.value) FILTER (WHERE x.key = 'category') AS category
  FROM auscult_device_classes($1::bigint[]) x WHERE x.key IN ('device_type', 'category') GROUP BY 1),
addr AS (
  SELECT o.device_id, (array_agg(host(o.ip) ORDER BY o.last_seen DESC))[1] AS latest,
         array_to_string((array_agg(host(o.ip) ORDER BY o.ip))[1:8], ',') AS ips
  FROM auscult_own_addresses_of($1::bigint[]) o GROUP BY 1)
SELECT d.device_id,
       COALESCE(NULLIF(disp.hostname, ''), NULLIF(concat_ws(' ', NULLIF(disp.vendor, ''), addr.latest), ''),
                d.mac::text, host(d.identity_ip), ''),
       COALESCE(cls.device_type, 'unknown'), COALESCE(cls.category, ''), COALESCE(dep.department, ''),
       COALESCE(r.score, 0), d.mac IS NULL AND d.identity_ip IS NOT NULL AND NOT auscult_internal(d.identity_ip),
       addr.ips
FROM devices d
LEFT JOIN device_risk r ON r.device_id = d.device_id
LEFT JOIN disp ON disp.device_id = d.device_id
LEFT JOIN cls ON cls.device_id = d.device_id
LEFT JOIN addr ON addr.device_id = d.device_id
LEFT JOIN auscult_device_departments($1::bigint[]) dep ON dep.device_id = d.device_id
WHERE d.device_id = ANY($1::bigint[]))sql";

// The device nodes of a department (the override or the segment map's, any case). Only devices in
// a segment of that name, or with that override, can be in it: the exact rule is applied to those.
constexpr char kDepartment[] = R"sql(
SELECT d.device_id FROM devices d
WHERE d.device_id IN (
        SELECT a.device_id FROM segments s JOIN device_addresses a ON s.cidr >>= a.ip
        WHERE lower(s.department) = lower($1::text)
        UNION
        SELECT v.device_id FROM segments s JOIN device_vlans v ON s.cidr IS NULL AND v.vlan = s.vlan
        WHERE lower(s.department) = lower($1::text)
        UNION
        SELECT o.device_id FROM device_overrides o WHERE o.field = 'department' AND lower(o.value) = lower($1::text))
  AND lower(auscult_device_department(d.device_id, d.site)) = lower($1::text))sql";

// The peers of a stored node, busiest first (the bytes of its largest edge with each), each with
// the node the graph shows for it (auscult_graph_nodes); at most $4. $2 site, $3 clinical only, as
// kEdges filters. Only the node's 4 x $4 busiest edges each way are read, from the indexes by
// weight, the bytes' power of two (migration 020), each weight's edges sorted by bytes: a server
// with 30 000 peers costs what one with 500 does.
constexpr char kNeighbours[] = R"sql(
WITH nb AS (
  SELECT x.node, max(x.bytes) AS bytes FROM (
    (SELECT g.dst_node AS node, g.bytes_to_dst::numeric + g.bytes_to_src AS bytes FROM graph_edges g
     WHERE g.src_node = $1::text
       AND ($2::text = '' OR g.site = $2::text)
       AND (NOT $3::boolean OR g.clinical)
     ORDER BY g.src_node, g.weight DESC, g.bytes_to_dst::numeric + g.bytes_to_src DESC LIMIT 4 * $4::bigint)
    UNION ALL
    (SELECT g.src_node, g.bytes_to_dst::numeric + g.bytes_to_src FROM graph_edges g
     WHERE g.dst_node = $1::text
       AND ($2::text = '' OR g.site = $2::text)
       AND (NOT $3::boolean OR g.clinical)
     ORDER BY g.dst_node, g.weight DESC, g.bytes_to_dst::numeric + g.bytes_to_src DESC LIMIT 4 * $4::bigint)) x
  WHERE x.node <> $1::text
  GROUP BY x.node ORDER BY 2 DESC, 1 LIMIT $4::bigint)
SELECT nb.node, n.shown FROM nb JOIN auscult_graph_nodes(ARRAY(SELECT node FROM nb)) n USING (node)
ORDER BY nb.bytes DESC, nb.node)sql";

int64_t DeviceIdOf(const std::string& node) {
  int64_t id = 0;
  if (node.rfind("d:", 0) == 0 && absl::SimpleAtoi(node.substr(2), &id)) return id;
  return 0;
}

}  // namespace

// The nodes, with what a drawing needs, in the order given.
std::vector<v1::GraphNode> LoadNodes(pqxx::transaction_base& t, const std::vector<std::string>& order) {
  PgArray ids;
  for (const std::string& node : order) {
    if (const int64_t id = DeviceIdOf(node)) ids.Add(id);
  }
  absl::flat_hash_map<int64_t, v1::GraphNode> devices;
  if (ids.size() > 0) {
    for (const pqxx::row& r : ExecForIds(t, kDevicesStatement, kDevices, ids)) {
      v1::GraphNode n;
      n.set_device_id(r.at(0).as<int64_t>());
      n.set_label(r.at(1).as<std::string>());
      n.set_device_type(r.at(2).as<std::string>());
      n.set_category(r.at(3).as<std::string>());
      n.set_department(r.at(4).as<std::string>());
      n.set_risk_score(r.at(5).as<int32_t>());
      n.set_external(r.at(6).as<bool>());
      for (auto& ip : absl::StrSplit(r.at(7).as<std::string>(""), ',', absl::SkipEmpty())) n.add_ips(std::string(ip));
      devices[n.device_id()] = std::move(n);
    }
  }
  std::vector<v1::GraphNode> out;
  for (const std::string& node : order) {
    v1::GraphNode& n = out.emplace_back();
    if (const int64_t id = DeviceIdOf(node); id > 0 && devices.contains(id)) {
      n = devices[id];
      n.set_kind("device");
    } else {
      n.set_kind(node.rfind("n:", 0) == 0 ? "network" : "address");
      n.set_label(node.substr(2));
      n.set_external(node.rfind("n:", 0) == 0);
    }
    n.set_id(node);
  }
  return out;
}

namespace {

// LoadNodes on a second connection, in the snapshot of the caller's transaction, while the caller
// goes on with its own: a neighbourhood's 500 nodes take about as long to describe as their
// 10 000 edges take to read (docs/performance.md), and neither needs the other. Only when the pool
// has a connection free at once: under load the caller does both itself, as without a pool.
class NodesAside {
 public:
  // `t` is REPEATABLE READ (its snapshot is the one exported) and must outlive this object; so must
  // `nodes`, which must not change until Take().
  NodesAside(ConnectionPool* pool, pqxx::transaction_base& t, const std::vector<std::string>& nodes) {
    if (pool == nullptr) return;
    std::optional<ConnectionPool::Lease> lease = pool->TryAcquire();
    if (!lease) return;
    const std::string snapshot = t.exec("SELECT pg_export_snapshot()").at(0).at(0).as<std::string>();
    auto describe = [this, snapshot, &nodes, lease = std::move(*lease)]() mutable {
      try {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> side(lease.get());
        side.exec("SET TRANSACTION SNAPSHOT " + side.quote(snapshot));
        described_ = LoadNodes(side, nodes);
      } catch (const pqxx::broken_connection& e) {
        lease.MarkBroken();
        spdlog::debug("GetGraph: describing the nodes on a second connection failed ({}): on the first", e.what());
      } catch (const std::exception& e) {
        spdlog::debug("GetGraph: describing the nodes on a second connection failed ({}): on the first", e.what());
      }
    };
    try {
      thread_ = std::thread(std::move(describe));
    } catch (const std::system_error& e) {  // no thread to be had: the lease goes back with `describe`
      spdlog::debug("GetGraph: no thread to describe the nodes beside the edges ({}): one after the other", e.what());
    }
  }
  NodesAside(const NodesAside&) = delete;
  NodesAside& operator=(const NodesAside&) = delete;
  ~NodesAside() {
    if (thread_.joinable()) thread_.join();
  }
  // The nodes described, or nothing if they were not (no connection was free, or it failed).
  std::optional<std::vector<v1::GraphNode>> Take() {
    if (thread_.joinable()) thread_.join();
    return std::move(described_);
  }

 private:
  std::thread thread_;
  std::optional<std::vector<v1::GraphNode>> described_;
};

}  // namespace

absl::StatusOr<v1::Graph> GetGraph(pqxx::connection_base& c, const v1::GetGraphRequest& req, ConnectionPool* pool) {
  if (req.device_id() < 0) return absl::InvalidArgumentError("device_id: must not be negative");
  if (req.hops() > kMaxGraphHops) return absl::InvalidArgumentError("hops: at most 4");
  if (req.device_id() > 0 && !req.department().empty()) {
    return absl::InvalidArgumentError("device_id and department: give one or the other");
  }
  if (req.max_nodes() < 0 || req.max_nodes() > kMaxGraphNodes) {
    return absl::InvalidArgumentError("max_nodes: from 1 to 5000 (0: 500)");
  }
  for (const auto& [value, name] : {std::pair{&req.department(), "department"}, {&req.site(), "site"}}) {
    if (auto s = CheckTextFilter(*value, name, 256); !s.ok()) return s;
  }
  const size_t max_nodes = static_cast<size_t>(req.max_nodes() > 0 ? req.max_nodes() : kDefaultGraphNodes);
  const uint32_t hops = req.hops() > 0 ? req.hops() : 1;

  // One snapshot for every statement (and for NodesAside's).
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> t(c);
  std::optional<NodesAside> aside;
  v1::Graph graph;
  EdgeFilter filter;
  filter.site = req.site();
  filter.clinical = req.clinical();

  // Which nodes: in the order they are reached (so that a cut keeps the nearest, or the busiest).
  std::vector<std::string> order;
  absl::flat_hash_set<std::string> chosen;
  auto choose = [&](const std::string& node) {
    if (chosen.contains(node)) return true;
    if (chosen.size() >= max_nodes) {
      graph.set_truncated(true);
      return false;
    }
    chosen.insert(node);
    order.push_back(node);
    return true;
  };
  bool only_touching_seeds = false;  // a department's graph: edges with an end among its devices
  absl::flat_hash_set<std::string> seeds;
  std::vector<v1::GraphEdge> edges;
  if (req.device_id() > 0) {
    if (t.exec_params("SELECT 1 FROM devices WHERE device_id = $1::bigint", req.device_id()).empty()) {
      return absl::NotFoundError(absl::StrCat("no device with id ", req.device_id()));
    }
    // Breadth first, up to `hops` from the device, asking the database for each node's peers
    // (never the whole graph: two hops through a server reach a whole site). A node's peers come
    // busiest first, at most max_nodes + 1 of them: enough to fill the graph or to know it is cut
    // (kNeighbours reads a node's busiest edges only: a peer that only shares small edges with a
    // node that has thousands of bigger ones may be missed before the cut).
    // The walk follows stored nodes; a shown node (an outside network) stands for the stored ones
    // that were reached (`members`), and its edges are theirs.
    absl::flat_hash_map<std::string, std::vector<std::string>> members;
    const std::string seed = absl::StrCat("d:", req.device_id());
    members[seed].push_back(seed);
    choose(seed);
    std::deque<std::pair<std::string, uint32_t>> queue = {{seed, 0}};
    bool full = false;
    while (!queue.empty() && !full) {
      const auto [node, depth] = queue.front();
      queue.pop_front();
      if (depth >= hops) continue;
      const std::vector<std::string> stored = members[node];  // a copy: the walk adds members
      for (size_t i = 0; i < stored.size() && !full; ++i) {
        for (const pqxx::row& r :
             t.exec_params(kNeighbours, stored[i], req.site(), req.clinical(), static_cast<int64_t>(max_nodes) + 1)) {
          const std::string peer = r.at(0).as<std::string>(), shown = r.at(1).as<std::string>();
          std::vector<std::string>& m = members[shown];
          if (std::find(m.begin(), m.end(), peer) == m.end()) m.push_back(peer);
          if (shown == node || chosen.contains(shown)) continue;
          if (!choose(shown)) {
            full = true;  // cut: no node can join any more
            break;
          }
          queue.push_back({shown, depth + 1});
        }
      }
    }
    std::vector<std::string> among;
    for (const std::string& n : order) {
      for (const std::string& s : members[n]) among.push_back(s);
    }
    std::sort(order.begin(), order.end());
    aside.emplace(pool, t, order);
    edges = EdgesAmong(t, req.site(), req.clinical(), among);
  } else {
    edges = QueryEdges(t, filter);
    if (static_cast<int64_t>(edges.size()) >= kMaxEdges) graph.set_truncated(true);
    if (!req.department().empty()) {
      only_touching_seeds = true;
      for (const pqxx::row& r : t.exec_params(kDepartment, req.department())) {
        const std::string node = absl::StrCat("d:", r.at(0).as<int64_t>());
        seeds.insert(node);
        choose(node);
      }
      for (const v1::GraphEdge& e : edges) {
        if (seeds.contains(e.src())) choose(e.dst());
        if (seeds.contains(e.dst())) choose(e.src());
      }
    } else {
      for (const v1::GraphEdge& e : edges) {
        choose(e.src());
        choose(e.dst());
      }
    }
  }
  for (v1::GraphEdge& e : edges) {
    if (!chosen.contains(e.src()) || !chosen.contains(e.dst())) continue;
    if (only_touching_seeds && !seeds.contains(e.src()) && !seeds.contains(e.dst())) continue;
    *graph.add_edges() = std::move(e);
  }

  std::sort(order.begin(), order.end());
  std::optional<std::vector<v1::GraphNode>> nodes;
  if (aside) nodes = aside->Take();
  if (nodes) {
    spdlog::debug("GetGraph: {} nodes described on a second connection", nodes->size());
  } else {
    nodes = LoadNodes(t, order);
  }
  for (v1::GraphNode& n : *nodes) *graph.add_nodes() = std::move(n);
  return graph;
}

namespace {

// Department to department, per application, from the graph's edges; outside hosts are "(outside)",
// addresses no device holds "".
constexpr char kDepartmentFlows[] = R"sql(
WITH e AS (
  SELECT * FROM graph_edges g
  WHERE ($1::text = '' OR g.site = $1::text)
    AND ($2::boolean OR g.clinical)),
n AS (
  SELECT x.node, x.shown,
         CASE WHEN x.shown LIKE 'd:%' THEN
                COALESCE((SELECT auscult_device_department(d.device_id, d.site) FROM devices d
                          WHERE d.device_id = substr(x.shown, 3)::bigint), '')
              WHEN x.shown LIKE 'n:%' THEN '(outside)'
              ELSE '' END AS department
  FROM auscult_graph_nodes(ARRAY(SELECT src_node FROM e UNION SELECT dst_node FROM e)) x)
SELECT s.department, d.department, e.application, sum(e.flows)::bigint,
       sum(e.bytes_to_dst + e.bytes_to_src)::bigint,
       count(DISTINCT s.shown), count(DISTINCT d.shown), bool_or(e.phi), bool_or(NOT e.encrypted),
       auscult_us(max(e.last_seen))
FROM e JOIN n s ON s.node = e.src_node JOIN n d ON d.node = e.dst_node
GROUP BY 1, 2, 3
ORDER BY 5 DESC, 1, 2, 3
LIMIT 10000)sql";

}  // namespace

absl::StatusOr<v1::ListDepartmentFlowsResponse> ListDepartmentFlows(pqxx::connection_base& c,
                                                                    const v1::ListDepartmentFlowsRequest& req) {
  if (auto s = CheckTextFilter(req.site(), "site", 256); !s.ok()) return s;
  pqxx::read_transaction t(c);
  v1::ListDepartmentFlowsResponse out;
  for (const pqxx::row& r : t.exec_params(kDepartmentFlows, req.site(), req.all())) {
    v1::DepartmentFlow* f = out.add_flows();
    f->set_src_department(r.at(0).as<std::string>());
    f->set_dst_department(r.at(1).as<std::string>());
    f->set_protocol(r.at(2).as<std::string>());
    f->set_flows(static_cast<uint64_t>(r.at(3).as<int64_t>()));
    f->set_bytes(static_cast<uint64_t>(r.at(4).as<int64_t>()));
    f->set_src_devices(r.at(5).as<int64_t>());
    f->set_dst_devices(r.at(6).as<int64_t>());
    f->set_phi(r.at(7).as<bool>());
    f->set_cleartext(r.at(8).as<bool>());
    FromMicros(r.at(9).as<int64_t>(), f->mutable_last_seen());
  }
  return out;
}

namespace {

// Devices named in a request must exist: a typo is NOT_FOUND, not an empty answer.
absl::Status CheckDevice(pqxx::transaction_base& t, int64_t id, std::string_view field) {
  if (id < 0) return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": must not be negative"));
  if (id > 0 && t.exec_params("SELECT 1 FROM devices WHERE device_id = $1::bigint", id).empty()) {
    return absl::NotFoundError(absl::StrCat("no device with id ", id));
  }
  return absl::OkStatus();
}

std::vector<std::string> EndsOf(const std::vector<v1::GraphEdge>& edges) {
  std::set<std::string> ends;
  for (const v1::GraphEdge& e : edges) {
    ends.insert(e.src());
    ends.insert(e.dst());
  }
  return {ends.begin(), ends.end()};
}

}  // namespace

absl::StatusOr<v1::ListEdgesResponse> ListEdges(pqxx::connection_base& c, const v1::ListEdgesRequest& req) {
  for (const auto& [value, name] : {std::pair{&req.site(), "site"}, {&req.protocol(), "protocol"}}) {
    if (auto s = CheckTextFilter(*value, name, 256); !s.ok()) return s;
  }
  if (req.port() > 65535) return absl::InvalidArgumentError("port: at most 65535");
  if (req.transport() > 255) return absl::InvalidArgumentError("transport: an IP protocol number, at most 255");
  if (req.limit() < 0 || req.limit() > kMaxEdgeList) {
    return absl::InvalidArgumentError("limit: from 1 to 10000 (0: 1000)");
  }
  if (req.has_since() && !IsPlausibleTime(req.since())) {
    return absl::InvalidArgumentError("since: must be a time from 1970 to 2100");
  }
  pqxx::read_transaction t(c);
  if (auto s = CheckDevice(t, req.device_id(), "device_id"); !s.ok()) return s;
  EdgeFilter f;
  f.site = req.site();
  f.clinical = req.clinical();
  f.limit = (req.limit() > 0 ? req.limit() : kDefaultEdgeList) + 1;  // one more: was it cut?
  f.port = req.port();
  f.application = req.protocol();
  f.transport = req.transport();
  f.only_new = req.only_new();
  f.since_us = req.has_since() ? std::max<int64_t>(1, ToMicros(req.since())) : 0;
  f.node = req.device_id() > 0 ? absl::StrCat("d:", req.device_id()) : "";
  f.external = req.external();
  std::vector<v1::GraphEdge> edges = QueryEdges(t, f);
  v1::ListEdgesResponse out;
  if (static_cast<int64_t>(edges.size()) >= f.limit) {
    edges.pop_back();
    out.set_truncated(true);
  }
  for (v1::GraphNode& n : LoadNodes(t, EndsOf(edges))) *out.add_nodes() = std::move(n);
  for (v1::GraphEdge& e : edges) *out.add_edges() = std::move(e);
  const pqxx::row period = t.exec1("SELECT extract(epoch FROM auscult_learning_period())::bigint");
  out.mutable_learning_period()->set_seconds(period.at(0).as<int64_t>());
  return out;
}

absl::StatusOr<v1::FindPathsResponse> FindPaths(pqxx::connection_base& c, const v1::FindPathsRequest& req) {
  if (req.from_device() <= 0 || req.to_device() <= 0) {
    return absl::InvalidArgumentError("from_device and to_device: both are needed");
  }
  if (req.max_hops() > kMaxPathHops) return absl::InvalidArgumentError("max_hops: at most 6");
  if (req.max_paths() > kMaxPaths) return absl::InvalidArgumentError("max_paths: at most 50");
  if (auto s = CheckTextFilter(req.site(), "site", 256); !s.ok()) return s;
  const uint32_t max_hops = req.max_hops() > 0 ? req.max_hops() : 4;
  const size_t max_paths = req.max_paths() > 0 ? req.max_paths() : 10;

  pqxx::read_transaction t(c);
  for (int64_t id : {req.from_device(), req.to_device()}) {
    if (auto s = CheckDevice(t, id, "device"); !s.ok()) return s;
  }
  EdgeFilter f;
  f.site = req.site();
  f.clinical = req.clinical();
  const std::vector<v1::GraphEdge> edges = QueryEdges(t, f);
  v1::FindPathsResponse out;
  if (static_cast<int64_t>(edges.size()) >= kMaxEdges) out.set_truncated(true);

  // Nodes as numbers; a hop from a to b lists the edges it may use.
  absl::flat_hash_map<std::string, int> index;
  std::vector<std::string> names;
  auto number = [&](const std::string& node) {
    auto [it, inserted] = index.emplace(node, static_cast<int>(names.size()));
    if (inserted) names.push_back(node);
    return it->second;
  };
  std::map<std::pair<int, int>, std::vector<const v1::GraphEdge*>> hop_edges;
  std::vector<std::vector<int>> next, prev;
  for (const v1::GraphEdge& e : edges) {
    const int a = number(e.src()), b = number(e.dst());
    if (a == b) continue;
    const size_t need = static_cast<size_t>(std::max(a, b)) + 1;
    if (next.size() < need) {
      next.resize(need);
      prev.resize(need);
    }
    for (auto [x, y] : req.undirected() ? std::vector<std::pair<int, int>>{{a, b}, {b, a}}
                                        : std::vector<std::pair<int, int>>{{a, b}}) {
      auto& list = hop_edges[{x, y}];
      if (list.empty()) {
        next[x].push_back(y);
        prev[y].push_back(x);
      }
      list.push_back(&e);
    }
  }
  const std::string from = absl::StrCat("d:", req.from_device()), to = absl::StrCat("d:", req.to_device());
  if (!index.contains(from) || !index.contains(to) || from == to) return out;
  const int source = index[from], target = index[to];

  // Hops to the target from every node (backwards breadth first), so that the search below only
  // takes steps that can still arrive within max_hops: it enumerates simple paths by length.
  std::vector<int> to_target(names.size(), -1);
  std::deque<int> queue = {target};
  to_target[target] = 0;
  while (!queue.empty()) {
    const int n = queue.front();
    queue.pop_front();
    if (to_target[n] >= static_cast<int>(max_hops)) continue;
    for (int p : prev[n]) {
      if (to_target[p] < 0) {
        to_target[p] = to_target[n] + 1;
        queue.push_back(p);
      }
    }
  }
  if (to_target[source] < 0) return out;

  // Bounded: dense graphs have very many simple paths; the search stops after this many steps.
  constexpr int64_t kMaxSteps = 2'000'000;
  int64_t steps = 0;
  std::vector<std::vector<int>> found;
  std::vector<int> path = {source};
  std::vector<char> on_path(names.size(), 0);
  on_path[source] = 1;
  std::function<void(int, int)> walk = [&](int node, int budget) {
    if (found.size() >= max_paths || ++steps > kMaxSteps) return;
    if (node == target) {
      if (budget == 0) found.push_back(path);
      return;
    }
    for (int n : next[node]) {
      if (on_path[n] || to_target[n] < 0 || to_target[n] > budget - 1) continue;
      on_path[n] = 1;
      path.push_back(n);
      walk(n, budget - 1);
      path.pop_back();
      on_path[n] = 0;
      if (found.size() >= max_paths || steps > kMaxSteps) return;
    }
  };
  for (int length = to_target[source]; length <= static_cast<int>(max_hops) && found.size() < max_paths; ++length) {
    walk(source, length);
  }
  if (steps > kMaxSteps) out.set_truncated(true);

  std::set<std::string> on_some_path;
  for (const std::vector<int>& p : found) {
    v1::Path* o = out.add_paths();
    for (size_t i = 0; i < p.size(); ++i) {
      o->add_nodes(names[p[i]]);
      on_some_path.insert(names[p[i]]);
      if (i + 1 < p.size()) {
        for (const v1::GraphEdge* e : hop_edges[{p[i], p[i + 1]}]) *o->add_edges() = *e;
      }
    }
  }
  for (v1::GraphNode& n : LoadNodes(t, {on_some_path.begin(), on_some_path.end()})) *out.add_nodes() = std::move(n);
  return out;
}

namespace {

// Each flow counts for both of its ends: what the initiator sent is what the responder received.
// With a window: the flows active in it (last packet at or after `since`, packet time), their ends
// named as the graph names them today (auscult_node_of). Without: everything the graph holds
// (graph_edges, which outlives the raw flows), since its first edge.
constexpr char kTopTalkersSides[] = R"sql(
WITH f AS (
  SELECT f.* FROM flows f
  WHERE f.last_seen >= auscult_ts($2::bigint)
    AND ($1::text = '' OR f.site = $1::text)
    AND (NOT $5::boolean OR f.clinical)),
n AS (SELECT ip, auscult_node_of(ip) AS node FROM (SELECT src_ip AS ip FROM f UNION SELECT dst_ip FROM f) x),
sides AS (
  SELECT s.node AS me, d.node AS peer, f.bytes_to_dst AS sent, f.bytes_to_src AS received, 1 AS flows, f.application
  FROM f JOIN n s ON s.ip = f.src_ip JOIN n d ON d.ip = f.dst_ip
  UNION ALL
  SELECT d.node, s.node, f.bytes_to_src, f.bytes_to_dst, 1, f.application
  FROM f JOIN n s ON s.ip = f.src_ip JOIN n d ON d.ip = f.dst_ip),)sql";

constexpr char kTopTalkersAllSides[] = R"sql(
WITH e AS (
  SELECT * FROM graph_edges g
  WHERE ($1::text = '' OR g.site = $1::text)
    AND (NOT $5::boolean OR g.clinical) AND $2::bigint = 0),
n AS (SELECT * FROM auscult_graph_nodes(ARRAY(SELECT src_node FROM e UNION SELECT dst_node FROM e))),
sides AS (
  SELECT s.shown AS me, d.shown AS peer, e.bytes_to_dst AS sent, e.bytes_to_src AS received, e.flows, e.application
  FROM e JOIN n s ON s.node = e.src_node JOIN n d ON d.node = e.dst_node
  UNION ALL
  SELECT d.shown, s.shown, e.bytes_to_src, e.bytes_to_dst, e.flows, e.application
  FROM e JOIN n s ON s.node = e.src_node JOIN n d ON d.node = e.dst_node),)sql";

constexpr char kTopTalkersRank[] = R"sql(
top AS (
  SELECT me, sum(sent)::bigint AS sent, sum(received)::bigint AS received, sum(flows)::bigint AS flows,
         count(DISTINCT peer) AS peers
  FROM sides GROUP BY me
  ORDER BY CASE $3::text WHEN 'flows' THEN sum(flows) WHEN 'peers' THEN count(DISTINCT peer)
                         ELSE sum(sent + received) END DESC, me
  LIMIT $4::bigint)
SELECT top.me, top.sent, top.received, top.flows, top.peers,
       (SELECT string_agg(p.application, ',') FROM (
          SELECT x.application FROM sides x WHERE x.me = top.me AND x.application <> ''
          GROUP BY 1 ORDER BY sum(x.sent + x.received) DESC, 1 LIMIT 8) p)
FROM top)sql";

}  // namespace

absl::StatusOr<v1::TopTalkersResponse> TopTalkers(pqxx::connection_base& c, const v1::TopTalkersRequest& req) {
  if (auto s = CheckTextFilter(req.site(), "site", 256); !s.ok()) return s;
  if (!req.by().empty() && req.by() != "bytes" && req.by() != "flows" && req.by() != "peers") {
    return absl::InvalidArgumentError("by: bytes, flows or peers");
  }
  if (req.limit() < 0 || req.limit() > kMaxTalkers) return absl::InvalidArgumentError("limit: from 1 to 1000 (0: 20)");
  if (req.has_since() && !IsPlausibleTime(req.since())) {
    return absl::InvalidArgumentError("since: must be a time from 1970 to 2100");
  }
  const int64_t since_us = req.has_since() ? std::max<int64_t>(1, ToMicros(req.since())) : 0;
  pqxx::read_transaction t(c);
  v1::TopTalkersResponse out;
  static const std::string kWindow = std::string(kTopTalkersSides) + kTopTalkersRank;
  static const std::string kAll = std::string(kTopTalkersAllSides) + kTopTalkersRank;
  std::vector<std::string> order;
  for (const pqxx::row& r : t.exec_params(since_us > 0 ? kWindow : kAll, req.site(), since_us, req.by(),
                                          static_cast<int64_t>(req.limit() > 0 ? req.limit() : 20), req.clinical())) {
    v1::Talker* k = out.add_talkers();
    order.push_back(r.at(0).as<std::string>());
    k->set_bytes_sent(static_cast<uint64_t>(r.at(1).as<int64_t>()));
    k->set_bytes_received(static_cast<uint64_t>(r.at(2).as<int64_t>()));
    k->set_flows(static_cast<uint64_t>(r.at(3).as<int64_t>()));
    k->set_peers(r.at(4).as<int64_t>());
    for (auto& p : absl::StrSplit(r.at(5).as<std::string>(""), ',', absl::SkipEmpty()))
      k->add_protocols(std::string(p));
  }
  std::vector<v1::GraphNode> nodes = LoadNodes(t, order);
  for (size_t i = 0; i < nodes.size(); ++i)
    *out.mutable_talkers(static_cast<int>(i))->mutable_node() = std::move(nodes[i]);
  if (since_us > 0) {
    FromMicros(since_us, out.mutable_since());
  } else {
    FromMicros(t.exec1("SELECT COALESCE(auscult_us(min(first_seen)), 0) FROM graph_edges").at(0).as<int64_t>(),
               out.mutable_since());
  }
  return out;
}

}  // namespace auscult::collector
