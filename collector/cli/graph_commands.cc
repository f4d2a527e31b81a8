#include "collector/cli/graph_commands.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "collector/cli/output_format.h"
#include "collector/cli/table.h"
#include "common/json_writer.h"
#include "common/logging.h"
#include "common/text.h"

ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(int64_t, limit);
ABSL_DECLARE_FLAG(std::string, site);
ABSL_DECLARE_FLAG(bool, clinical);
ABSL_DECLARE_FLAG(int32_t, port);
ABSL_DECLARE_FLAG(std::string, protocol);
ABSL_DECLARE_FLAG(int64_t, device);

ABSL_FLAG(std::string, since, "",
          "new-edges, top: from this time: an RFC 3339 time or a span before now such as 24h, 90m, 7d "
          "(default: every one kept)");
ABSL_FLAG(std::string, by, "bytes", "top: rank by bytes, flows or peers");
ABSL_FLAG(int32_t, max_hops, 4, "paths: at most this many hops (1-6)");
ABSL_FLAG(bool, undirected, false, "paths: a hop may go against the direction the flows were opened in");
ABSL_FLAG(int64_t, after, 0, "watch: resume after this event id (0: from now; -1: every event kept)");
ABSL_FLAG(std::string, kinds, "",
          "watch: only these kinds, comma separated: device_new, device_changed, edge_new, sensor_down, sensor_up, "
          "policy_violation");
ABSL_FLAG(int64_t, count, 0, "watch: exit after this many events (0: run until interrupted)");

namespace auscult::cli {
namespace {


std::string Short(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", ToTime(t), absl::UTCTimeZone());
}

// How a node reads in a table: a device by id and label, outside hosts by network.
class NodeNames {
 public:
  template <typename Nodes>
  explicit NodeNames(const Nodes& nodes) {
    for (const v1::GraphNode& n : nodes) nodes_[n.id()] = n;
  }
  std::string operator()(const std::string& id) const {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return Printable(id);
    const v1::GraphNode& n = it->second;
    if (n.kind() == "device") {
      std::string s = absl::StrCat("#", n.device_id(), " ", Printable(n.label(), 40));
      if (!n.device_type().empty() && n.device_type() != "unknown") absl::StrAppend(&s, " [", n.device_type(), "]");
      return s;
    }
    return n.kind() == "network" ? absl::StrCat(n.label(), " (outside)") : Printable(n.label());
  }
  const v1::GraphNode* Find(const std::string& id) const {
    auto it = nodes_.find(id);
    return it == nodes_.end() ? nullptr : &it->second;
  }

 private:
  absl::flat_hash_map<std::string, v1::GraphNode> nodes_;
};

std::string Tags(const v1::GraphEdge& e) {
  std::vector<std::string> tags;
  if (e.clinical()) tags.push_back("clinical");
  if (e.phi()) tags.push_back("phi");
  if (e.cleartext_credentials()) tags.push_back("cleartext-credentials");
  tags.push_back(e.encrypted() ? "encrypted" : "cleartext");
  if (e.external()) tags.push_back("external");
  return absl::StrJoin(tags, ",");
}

// Edges as a table, or with --json as the graph's JSON ({"nodes", "edges", "truncated"}).
int PrintEdges(const v1::ListEdgesResponse& r, const std::string& what) {
  if (absl::GetFlag(FLAGS_json)) {
    v1::Graph g;
    *g.mutable_nodes() = r.nodes();
    *g.mutable_edges() = r.edges();
    g.set_truncated(r.truncated());
    std::cout << GraphJson(g) << "\n";
    return 0;
  }
  const NodeNames name(r.nodes());
  Table t({"FROM", "TO", "SERVICE", "FLOWS", "BYTES", "FIRST SEEN", "LAST SEEN", "TAGS"},
          {false, false, false, true, true, false, false, false});
  for (const v1::GraphEdge& e : r.edges()) {
    t.AddRow({name(e.src()), name(e.dst()),
              absl::StrCat(e.protocol().empty() ? "" : absl::StrCat(Printable(e.protocol()), " "),
                           TransportName(e.transport()), "/", e.port()),
              absl::StrCat(e.flows()), absl::StrCat(e.bytes_to_dst() + e.bytes_to_src()), Short(e.first_seen()),
              Short(e.last_seen()), Tags(e)});
  }
  std::cout << t.Render(56) << r.edges_size() << " " << what << (r.truncated() ? " (more: raise --limit)" : "") << "\n";
  return 0;
}

// A ListEdges request with the filters every edge command shares (--site, --clinical, --device).
v1::ListEdgesRequest EdgeRequest() {
  v1::ListEdgesRequest req;
  req.set_site(absl::GetFlag(FLAGS_site));
  req.set_clinical(absl::GetFlag(FLAGS_clinical));
  req.set_device_id(absl::GetFlag(FLAGS_device));
  return req;
}

// Calls ListEdges and prints the answer as PrintEdges does; `what` names the rows.
int ListAndPrintEdges(const QueryContext& q, const v1::ListEdgesRequest& req,
                      const std::function<std::string(const v1::ListEdgesResponse&)>& what) {
  v1::ListEdgesResponse r;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->ListEdges(&ctx, req, &r); !s.ok()) return FailCall(s, q.target);
  return PrintEdges(r, what(r));
}

int32_t EdgeLimit() {
  const int64_t limit = absl::GetFlag(FLAGS_limit);
  return limit > 0 && limit < 10000 ? static_cast<int32_t>(limit) : (limit == 0 ? 1000 : 10000);
}

bool SetTime(const std::string& flag, google::protobuf::Timestamp* out) {
  auto since = ParseSince(absl::GetFlag(FLAGS_since), absl::Now());
  if (!since.ok()) {
    std::fprintf(stderr, "auscult: --%s: %s\n", flag.c_str(), Printable(AsStd(since.status().message())).c_str());
    return false;
  }
  const int64_t us = absl::ToUnixMicros(*since);
  out->set_seconds(us / 1000000);
  out->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return true;
}

}  // namespace

void SetDeadline(grpc::ClientContext& ctx, const QueryContext& q) {
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(q.timeout));
}

int FailCall(const grpc::Status& s, const std::string& target) {
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "auscult: cannot reach collector at %s: %s\n", target.c_str(),
                 Printable(s.error_message(), 1024).c_str());
  } else {
    std::fprintf(stderr, "auscult: %s\n", Printable(s.error_message(), 1024).c_str());
  }
  return s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 2 : 1;
}

absl::StatusOr<absl::Time> ParseSince(const std::string& text, absl::Time now) {
  if (text.empty()) return absl::InvalidArgumentError("empty");
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  absl::Duration span;
  int64_t days = 0;
  if (text.size() > 1 && text.back() == 'd' && absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) && days >= 0 &&
      days <= 36500) {
    return now - absl::Hours(24 * days);
  }
  if (absl::ParseDuration(text, &span) && span >= absl::ZeroDuration() && span <= absl::Hours(24 * 36500)) {
    return now - span;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", Printable(text, 64),
                   "': give an RFC 3339 time (2026-11-28T08:00:00Z) or a span such as 24h, "
                   "90m or 7d"));
}

int ServiceUsers(const QueryContext& q) {
  const int32_t port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "auscult: --port=%d: from 1 to 65535\n", port);
    return 2;
  }
  if (port == 0 && absl::GetFlag(FLAGS_protocol).empty()) {
    std::fprintf(stderr, "auscult: services: name the service with --port=N and/or --protocol=NAME\n");
    return 2;
  }
  v1::ListEdgesRequest req = EdgeRequest();
  req.set_port(static_cast<uint32_t>(port));
  req.set_protocol(absl::GetFlag(FLAGS_protocol));
  req.set_limit(EdgeLimit());
  return ListAndPrintEdges(q, req, [](const v1::ListEdgesResponse&) { return "client-server pairs"; });
}

int NewEdges(const QueryContext& q) {
  v1::ListEdgesRequest req = EdgeRequest();
  req.set_only_new(true);
  if (!absl::GetFlag(FLAGS_since).empty() && !SetTime("since", req.mutable_since())) return 2;
  req.set_limit(EdgeLimit());
  return ListAndPrintEdges(q, req, [](const v1::ListEdgesResponse& r) {
    return absl::StrCat("new edges (after each device's first ",
                        absl::FormatDuration(absl::Seconds(r.learning_period().seconds())), ")");
  });
}

int Exposure(const QueryContext& q) {
  v1::ListEdgesRequest req = EdgeRequest();
  req.set_external(true);
  req.set_limit(10000);
  v1::ListEdgesResponse r;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->ListEdges(&ctx, req, &r); !s.ok()) return FailCall(s, q.target);
  const NodeNames name(r.nodes());
  // Per device inside: the outside peers it reaches or that reach it, and how.
  struct Exposed {
    std::set<std::string> peers, protocols;
    uint64_t bytes = 0, flows = 0;
    bool inbound = false, outbound = false, phi = false, cleartext = false, clinical = false;
    google::protobuf::Timestamp last_seen;
  };
  std::map<std::string, Exposed> by_device;
  for (const v1::GraphEdge& e : r.edges()) {
    for (const auto& [self, peer, opened] : {std::tuple{e.src(), e.dst(), true}, std::tuple{e.dst(), e.src(), false}}) {
      // Each device end of an edge that leaves the hospital's networks (outside hosts that are
      // not assets are network nodes, never devices).
      const v1::GraphNode* n = name.Find(self);
      if (n == nullptr || n->kind() != "device") continue;
      Exposed& x = by_device[self];
      x.peers.insert(peer);
      x.protocols.insert(e.protocol().empty() ? absl::StrCat(TransportName(e.transport()), "/", e.port())
                                              : e.protocol());
      x.bytes += e.bytes_to_dst() + e.bytes_to_src();
      x.flows += e.flows();
      (opened ? x.outbound : x.inbound) = true;
      x.phi |= e.phi();
      x.cleartext |= !e.encrypted();
      x.clinical |= e.clinical();
      if (ToTime(e.last_seen()) > ToTime(x.last_seen)) x.last_seen = e.last_seen();
    }
  }
  // Most bytes first; --limit devices.
  std::vector<std::pair<std::string, const Exposed*>> ranked;
  for (const auto& [id, x] : by_device) ranked.emplace_back(id, &x);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second->bytes > b.second->bytes; });
  const int64_t limit = absl::GetFlag(FLAGS_limit);
  if (limit > 0 && static_cast<int64_t>(ranked.size()) > limit) ranked.resize(static_cast<size_t>(limit));
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter j(/*pretty=*/true);
    j.BeginArray();
    for (const auto& [id, xp] : ranked) {
      const Exposed& x = *xp;
      const v1::GraphNode* n = name.Find(id);
      j.BeginObject();
      j.Key("device_id").Int(n->device_id());
      j.Key("label").String(n->label());
      j.Key("device_type").String(n->device_type());
      j.Key("department").String(n->department());
      j.Key("outside_peers").BeginArray();
      for (const std::string& p : x.peers) j.String(p);
      j.EndArray();
      j.Key("protocols").BeginArray();
      for (const std::string& p : x.protocols) j.String(p);
      j.EndArray();
      j.Key("flows").UInt(x.flows);
      j.Key("bytes").UInt(x.bytes);
      j.Key("outbound").Bool(x.outbound);
      j.Key("inbound").Bool(x.inbound);
      j.Key("clinical").Bool(x.clinical);
      j.Key("phi").Bool(x.phi);
      j.Key("cleartext").Bool(x.cleartext);
      j.Key("last_seen").String(Rfc3339(x.last_seen));
      j.EndObject();
    }
    j.EndArray();
    std::cout << j.str() << "\n";
    return 0;
  }
  Table t({"DEVICE", "DEPARTMENT", "OUTSIDE PEERS", "DIRECTION", "PROTOCOLS", "FLOWS", "BYTES", "PHI", "CLEARTEXT",
           "LAST SEEN"},
          {false, false, true, false, false, true, true, false, false, false});
  for (const auto& [id, xp] : ranked) {
    const Exposed& x = *xp;
    const v1::GraphNode* n = name.Find(id);
    std::vector<std::string> protocols(x.protocols.begin(), x.protocols.end());
    if (protocols.size() > 6) {
      protocols.resize(6);
      protocols.push_back("...");
    }
    t.AddRow({name(id), n->department().empty() ? "-" : Printable(n->department()), absl::StrCat(x.peers.size()),
              x.outbound && x.inbound ? "both" : (x.outbound ? "out" : "in"), Printable(absl::StrJoin(protocols, ",")),
              absl::StrCat(x.flows), absl::StrCat(x.bytes), x.phi ? "yes" : "-", x.cleartext ? "yes" : "-",
              Short(x.last_seen)});
  }
  std::cout << t.Render(56) << ranked.size() << " of " << by_device.size()
            << " devices talk with hosts outside the hospital's networks (most bytes first)"
            << (r.truncated() ? " (the first 10000 edges)" : "") << "\n";
  return 0;
}

int TopTalkers(const QueryContext& q) {
  v1::TopTalkersRequest req;
  if (!absl::GetFlag(FLAGS_since).empty() && !SetTime("since", req.mutable_since())) return 2;
  req.set_by(absl::GetFlag(FLAGS_by));
  req.set_site(absl::GetFlag(FLAGS_site));
  req.set_clinical(absl::GetFlag(FLAGS_clinical));
  const int64_t limit = absl::GetFlag(FLAGS_limit);
  req.set_limit(static_cast<int32_t>(limit > 0 && limit <= 1000 ? limit : (limit == 0 ? 20 : 1000)));
  v1::TopTalkersResponse r;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->TopTalkers(&ctx, req, &r); !s.ok()) return FailCall(s, q.target);
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter j(/*pretty=*/true);
    j.BeginObject();
    j.Key("since").String(Rfc3339(r.since()));
    j.Key("talkers").BeginArray();
    for (const v1::Talker& k : r.talkers()) {
      j.BeginObject();
      j.Key("node").String(k.node().id());
      j.Key("kind").String(k.node().kind());
      j.Key("label").String(k.node().label());
      j.Key("bytes_sent").UInt(k.bytes_sent());
      j.Key("bytes_received").UInt(k.bytes_received());
      j.Key("flows").UInt(k.flows());
      j.Key("peers").Int(k.peers());
      j.Key("protocols").BeginArray();
      for (const std::string& p : k.protocols()) j.String(p);
      j.EndArray();
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
    std::cout << j.str() << "\n";
    return 0;
  }
  std::vector<v1::GraphNode> nodes;
  for (const v1::Talker& k : r.talkers()) nodes.push_back(k.node());
  const NodeNames name(nodes);
  Table t({"NODE", "SENT", "RECEIVED", "FLOWS", "PEERS", "PROTOCOLS"}, {false, true, true, true, true, false});
  for (const v1::Talker& k : r.talkers()) {
    t.AddRow({name(k.node().id()), absl::StrCat(k.bytes_sent()), absl::StrCat(k.bytes_received()),
              absl::StrCat(k.flows()), absl::StrCat(k.peers()), Printable(absl::StrJoin(k.protocols(), ","))});
  }
  std::cout << t.Render(56) << r.talkers_size() << " top talkers by " << req.by() << " since " << Short(r.since())
            << " UTC\n";
  return 0;
}

int Paths(const QueryContext& q, const std::string& from, const std::string& to) {
  v1::FindPathsRequest req;
  int64_t a = 0, b = 0;
  if (!absl::SimpleAtoi(from, &a) || a <= 0 || !absl::SimpleAtoi(to, &b) || b <= 0) {
    std::fprintf(stderr, "auscult: paths FROM TO: two device ids\n");
    return 2;
  }
  const int32_t hops = absl::GetFlag(FLAGS_max_hops);
  if (hops < 1 || hops > 6) {
    std::fprintf(stderr, "auscult: --max_hops=%d: from 1 to 6\n", hops);
    return 2;
  }
  req.set_from_device(a);
  req.set_to_device(b);
  req.set_max_hops(static_cast<uint32_t>(hops));
  const int64_t limit = absl::GetFlag(FLAGS_limit);
  req.set_max_paths(static_cast<uint32_t>(limit > 0 && limit <= 50 ? limit : (limit == 0 ? 10 : 50)));
  req.set_undirected(absl::GetFlag(FLAGS_undirected));
  req.set_clinical(absl::GetFlag(FLAGS_clinical));
  req.set_site(absl::GetFlag(FLAGS_site));
  v1::FindPathsResponse r;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->FindPaths(&ctx, req, &r); !s.ok()) return FailCall(s, q.target);
  const NodeNames name(r.nodes());
  if (absl::GetFlag(FLAGS_json)) {
    JsonWriter j(/*pretty=*/true);
    j.BeginObject();
    j.Key("paths").BeginArray();
    for (const v1::Path& p : r.paths()) {
      j.BeginObject();
      j.Key("nodes").BeginArray();
      for (const std::string& n : p.nodes()) j.String(n);
      j.EndArray();
      j.Key("hops").BeginArray();
      for (const v1::GraphEdge& e : p.edges()) GraphEdgeJson(j, e);
      j.EndArray();
      j.EndObject();
    }
    j.EndArray();
    j.Key("truncated").Bool(r.truncated());
    j.EndObject();
    std::cout << j.str() << "\n";
    return 0;
  }
  for (int i = 0; i < r.paths_size(); ++i) {
    const v1::Path& p = r.paths(i);
    std::cout << (i + 1) << ". " << (p.nodes_size() - 1) << " hop" << (p.nodes_size() == 2 ? "" : "s") << "\n";
    for (int k = 0; k < p.nodes_size(); ++k) {
      std::cout << "     " << name(p.nodes(k)) << "\n";
      if (k + 1 == p.nodes_size()) break;
      std::vector<std::string> services;
      for (const v1::GraphEdge& e : p.edges()) {
        const bool forward = e.src() == p.nodes(k) && e.dst() == p.nodes(k + 1);
        const bool backward = e.dst() == p.nodes(k) && e.src() == p.nodes(k + 1);
        if (!forward && !backward) continue;
        services.push_back(absl::StrCat(forward ? "" : "<- ",
                                        e.protocol().empty() ? "" : absl::StrCat(e.protocol(), " "),
                                        TransportName(e.transport()), "/", e.port()));
      }
      if (services.size() > 6) {
        services.resize(6);
        services.push_back("...");
      }
      std::cout << "       -> " << Printable(absl::StrJoin(services, ", "), 200) << "\n";
    }
  }
  std::cout << r.paths_size() << " paths from device " << a << " to device " << b << " within " << hops << " hops"
            << (req.undirected() ? " (either direction)" : " (in the direction flows were opened)")
            << (r.truncated() ? "; the search was cut: there may be more" : "") << "\n";
  return 0;
}

int Watch(const QueryContext& q) {
  v1::WatchRequest req;
  req.set_after_event_id(absl::GetFlag(FLAGS_after));
  for (auto& k : absl::StrSplit(absl::GetFlag(FLAGS_kinds), ',', absl::SkipEmpty())) req.add_kinds(std::string(k));
  const int64_t count = absl::GetFlag(FLAGS_count);
  if (count < 0) {
    std::fprintf(stderr, "auscult: --count must not be negative\n");
    return 2;
  }
  grpc::ClientContext ctx;  // no deadline: a subscription lasts until interrupted (or --count events)
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader = q.stub->Watch(&ctx, req);
  v1::Event e;
  int64_t seen = 0;
  const bool json = absl::GetFlag(FLAGS_json);
  while (reader->Read(&e)) {
    std::map<std::string, std::string> detail(e.detail().begin(), e.detail().end());
    if (json) {
      // One JSON object per line, for a SIEM or a script.
      JsonWriter j;
      j.BeginObject();
      j.Key("event_id").Int(e.event_id());
      j.Key("at").String(Rfc3339(e.at()));
      j.Key("kind").String(e.kind());
      if (e.device_id() > 0) j.Key("device_id").Int(e.device_id());
      if (!e.sensor_id().empty()) j.Key("sensor_id").String(e.sensor_id());
      j.Key("detail").BeginObject();
      for (const auto& [k, v] : detail) j.Key(k).String(v);
      j.EndObject();
      if (e.has_device()) {
        j.Key("device").BeginObject();
        j.Key("label").String(e.device().label());
        j.Key("device_type").String(e.device().device_type());
        j.Key("category").String(e.device().category());
        j.Key("department").String(e.device().department());
        j.Key("risk_score").Int(e.device().risk_score());
        j.EndObject();
      }
      j.EndObject();
      std::cout << j.str() << std::endl;
    } else {
      std::vector<std::string> parts;
      for (const auto& [k, v] : detail) parts.push_back(absl::StrCat(k, "=", Printable(v, 80)));
      std::cout << Rfc3339(e.at()) << "  #" << e.event_id() << "  " << e.kind();
      if (e.device_id() > 0) std::cout << "  device " << e.device_id();
      if (e.has_device()) std::cout << " (" << Printable(e.device().label(), 60) << ")";
      if (!e.sensor_id().empty()) std::cout << "  sensor " << Printable(e.sensor_id(), 64);
      std::cout << "  " << absl::StrJoin(parts, " ") << std::endl;
    }
    if (count > 0 && ++seen >= count) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status s = reader->Finish();
  if (count > 0 && seen >= count) return 0;
  return FailCall(s, q.target);
}

}  // namespace auscult::cli
