#include "collector/store/graph.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collector/store/enum_names.h"
#include "collector/store/pg_array.h"
#include "collector/store/queries.h"

namespace auscult::collector {
namespace {

// The edges, aggregated over every flow (of a site's sensors; clinical only if asked). Each address
// is named as a node once. Bounded: a graph of more edges than this is cut.
constexpr int64_t kMaxEdges = 200000;
constexpr char kEdges[] = R"sql(
WITH f AS (
  SELECT * FROM flows f
  WHERE ($1::text = '' OR f.sensor_id IN (SELECT s.sensor_id FROM sensors s WHERE s.site = $1::text))
    AND (NOT $2::boolean OR f.clinical)),
ips AS (SELECT src_ip AS ip FROM f UNION SELECT dst_ip FROM f),
n AS (SELECT ip, auscult_node_of(ip) AS node, auscult_internal(ip) AS internal FROM ips)
SELECT s.node, d.node, f.transport, f.dst_port, f.application,
       sum(f.bytes_to_dst)::bigint, sum(f.bytes_to_src)::bigint, sum(f.packets_to_dst + f.packets_to_src)::bigint,
       count(*), auscult_us(min(f.first_seen)), auscult_us(max(f.last_seen)),
       bool_or(f.clinical), bool_or(f.phi), bool_or(f.encrypted), bool_or(f.cleartext_credentials),
       bool_or(NOT (s.internal AND d.internal)), string_agg(DISTINCT f.sensor_id, ',' ORDER BY f.sensor_id)
FROM f JOIN n s ON s.ip = f.src_ip JOIN n d ON d.ip = f.dst_ip
GROUP BY 1, 2, 3, 4, 5
ORDER BY sum(f.bytes_to_dst + f.bytes_to_src) DESC, 1, 2, 3, 4, 5
LIMIT $3::bigint)sql";

constexpr char kDevices[] = R"sql(
SELECT d.device_id,
       COALESCE(NULLIF(auscult_display(d.device_id, 'hostname'), ''),
                NULLIF(concat_ws(' ', NULLIF(auscult_display(d.device_id, 'vendor'), ''),
                                 (SELECT host(o.ip) FROM device_own_addresses o WHERE o.device_id = d.device_id
                                  ORDER BY o.last_seen DESC LIMIT 1)), ''),
                d.mac::text, host(d.identity_ip), ''),
       COALESCE(auscult_device_class(d.device_id, 'device_type'), 'unknown'),
       COALESCE(auscult_device_class(d.device_id, 'category'), ''),
       auscult_device_department(d.device_id, d.site),
       COALESCE((SELECT r.score FROM device_risk r WHERE r.device_id = d.device_id), 0),
       d.mac IS NULL AND d.identity_ip IS NOT NULL AND NOT auscult_internal(d.identity_ip),
       (SELECT string_agg(x.ip, ',') FROM (SELECT host(o.ip) AS ip FROM device_own_addresses o
                                           WHERE o.device_id = d.device_id ORDER BY o.ip LIMIT 8) x)
FROM devices d WHERE d.device_id = ANY($1::bigint[]))sql";

// The device nodes of a department (the override or the segment map's, any case).
constexpr char kDepartment[] = R"sql(
SELECT d.device_id FROM devices d
WHERE lower(auscult_device_department(d.device_id, d.site)) = lower($1::text))sql";

int64_t DeviceIdOf(const std::string& node) {
  int64_t id = 0;
  if (node.rfind("d:", 0) == 0 && absl::SimpleAtoi(node.substr(2), &id)) return id;
  return 0;
}

}  // namespace

absl::StatusOr<v1::Graph> GetGraph(pqxx::connection_base& c, const v1::GetGraphRequest& req) {
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

  pqxx::read_transaction t(c);
  v1::Graph graph;
  std::vector<v1::GraphEdge> edges;
  for (const pqxx::row& r : t.exec_params(kEdges, req.site(), req.clinical(), kMaxEdges)) {
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
    for (auto& s : absl::StrSplit(r.at(16).as<std::string>(""), ',', absl::SkipEmpty())) e.add_sensors(std::string(s));
    edges.push_back(std::move(e));
  }
  if (static_cast<int64_t>(edges.size()) >= kMaxEdges) graph.set_truncated(true);

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
  absl::flat_hash_map<std::string, std::vector<std::string>> neighbours;
  for (const v1::GraphEdge& e : edges) {
    neighbours[e.src()].push_back(e.dst());
    neighbours[e.dst()].push_back(e.src());
  }
  bool only_touching_seeds = false;  // a department's graph: edges with an end among its devices
  absl::flat_hash_set<std::string> seeds;
  if (req.device_id() > 0) {
    if (t.exec_params("SELECT 1 FROM devices WHERE device_id = $1::bigint", req.device_id()).empty()) {
      return absl::NotFoundError(absl::StrCat("no device with id ", req.device_id()));
    }
    // Breadth first, up to `hops` from the device.
    std::deque<std::pair<std::string, uint32_t>> queue = {{absl::StrCat("d:", req.device_id()), 0}};
    choose(queue.front().first);
    while (!queue.empty()) {
      auto [node, depth] = queue.front();
      queue.pop_front();
      if (depth >= hops) continue;
      auto it = neighbours.find(node);
      if (it == neighbours.end()) continue;
      for (const std::string& next : it->second) {
        if (chosen.contains(next)) continue;
        if (!choose(next)) break;
        queue.push_back({next, depth + 1});
      }
    }
  } else if (!req.department().empty()) {
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
  for (v1::GraphEdge& e : edges) {
    if (!chosen.contains(e.src()) || !chosen.contains(e.dst())) continue;
    if (only_touching_seeds && !seeds.contains(e.src()) && !seeds.contains(e.dst())) continue;
    *graph.add_edges() = std::move(e);
  }

  // The nodes, with what a drawing needs.
  std::sort(order.begin(), order.end());
  PgArray ids;
  for (const std::string& node : order) {
    if (const int64_t id = DeviceIdOf(node)) ids.Add(id);
  }
  absl::flat_hash_map<int64_t, v1::GraphNode> devices;
  if (ids.size() > 0) {
    for (const pqxx::row& r : t.exec_params(kDevices, ids.str())) {
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
  for (const std::string& node : order) {
    v1::GraphNode* n = graph.add_nodes();
    if (const int64_t id = DeviceIdOf(node); id > 0 && devices.contains(id)) {
      *n = devices[id];
      n->set_kind("device");
    } else {
      n->set_kind(node.rfind("n:", 0) == 0 ? "network" : "address");
      n->set_label(node.substr(2));
      n->set_external(node.rfind("n:", 0) == 0);
    }
    n->set_id(node);
  }
  return graph;
}

namespace {

constexpr char kDepartmentFlows[] = R"sql(
WITH f AS (
  SELECT * FROM flows f
  WHERE ($1::text = '' OR f.sensor_id IN (SELECT s.sensor_id FROM sensors s WHERE s.site = $1::text))
    AND ($2::boolean OR f.clinical)),
ips AS (SELECT src_ip AS ip FROM f UNION SELECT dst_ip FROM f),
n AS (
  SELECT x.ip, x.node,
         CASE WHEN x.node LIKE 'd:%' THEN
                COALESCE((SELECT auscult_device_department(d.device_id, d.site) FROM devices d
                          WHERE d.device_id = substr(x.node, 3)::bigint), '')
              WHEN x.node LIKE 'n:%' THEN '(outside)'
              ELSE '' END AS department
  FROM (SELECT ip, auscult_node_of(ip) AS node FROM ips) x)
SELECT s.department, d.department, f.application, count(*), sum(f.bytes_to_dst + f.bytes_to_src)::bigint,
       count(DISTINCT s.node), count(DISTINCT d.node), bool_or(f.phi), bool_or(NOT f.encrypted),
       auscult_us(max(f.last_seen))
FROM f JOIN n s ON s.ip = f.src_ip JOIN n d ON d.ip = f.dst_ip
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

}  // namespace auscult::collector
