#include "collector/store/policy.h"

#include <pqxx/pqxx>

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collector/policy/policy.h"
#include "collector/store/enum_names.h"
#include "collector/store/pg_array.h"
#include "common/json_writer.h"
#include "common/text.h"

namespace auscult::collector {
namespace {

// The group's devices (at most kMaxPolicyMembers, the lowest ids) with what the flags and the
// firewall forms need.
constexpr char kMembers[] = R"sql(
WITH m AS MATERIALIZED (
  SELECT d.device_id FROM devices d
  WHERE ($3::text = '' OR d.site = $3::text)
    AND NOT (d.mac IS NULL AND d.identity_ip IS NOT NULL AND NOT auscult_internal(d.identity_ip))
    AND lower(auscult_device_group(d.device_id, $1::text)) = lower($2::text)
  ORDER BY d.device_id LIMIT $4::integer)
SELECT m.device_id,
       COALESCE(NULLIF(auscult_display(m.device_id, 'hostname'), ''),
                trim(auscult_display(m.device_id, 'vendor') || ' ' || auscult_display(m.device_id, 'model'))),
       COALESCE((SELECT string_agg(host(o.ip), ',' ORDER BY o.ip) FROM device_own_addresses o
                 WHERE o.device_id = m.device_id), ''),
       auscult_device_group(m.device_id, 'type'),
       COALESCE((SELECT v.value FROM device_overrides v WHERE v.device_id = m.device_id AND v.field = 'category'),
                (SELECT k.value FROM device_classification k WHERE k.device_id = m.device_id AND k.key = 'category'), ''),
       COALESCE((SELECT v.value FROM device_overrides v
                 WHERE v.device_id = m.device_id AND v.field = 'patient_connection'),
                (SELECT k.value FROM device_classification k
                 WHERE k.device_id = m.device_id AND k.key = 'patient_connection'), 'unknown')
FROM m ORDER BY m.device_id)sql";

// The members' edges as kinds of flow: per direction, peer (a group under the same dimension, an
// address inside the hospital, or the /24 or /64 of one outside it), transport, port and
// application. Edges after the baseline (auscult_edge_is_new) are counted apart, not made rules.
constexpr char kRules[] = R"sql(
WITH m AS (SELECT unnest($1::bigint[]) AS device_id),
e AS MATERIALIZED (
  SELECT 'out' AS direction, m.device_id, g.dst_node AS peer, g.transport, g.port, g.application, g.clinical, g.phi,
         g.flows, g.bytes_to_dst + g.bytes_to_src AS bytes, g.first_seen, g.last_seen,
         auscult_edge_is_new(g.src_node, g.dst_node, g.first_seen) AS is_new
  FROM m JOIN graph_edges g ON g.src_node = 'd:' || m.device_id
  WHERE $3::text = '' OR g.site = $3::text
  UNION ALL
  SELECT 'in', m.device_id, g.src_node, g.transport, g.port, g.application, g.clinical, g.phi,
         g.flows, g.bytes_to_dst + g.bytes_to_src, g.first_seen, g.last_seen,
         auscult_edge_is_new(g.src_node, g.dst_node, g.first_seen)
  FROM m JOIN graph_edges g ON g.dst_node = 'd:' || m.device_id
  WHERE $3::text = '' OR g.site = $3::text),
pa AS MATERIALIZED (
  SELECT x.peer,
         CASE WHEN x.peer LIKE 'a:%' THEN substr(x.peer, 3)::inet
              ELSE (SELECT COALESCE(d.identity_ip, (SELECT o.ip FROM device_own_addresses o WHERE o.device_id = d.device_id
                                                    ORDER BY o.last_seen DESC, o.ip LIMIT 1))
                    FROM devices d WHERE d.device_id = substr(x.peer, 3)::bigint) END AS ip
  FROM (SELECT DISTINCT peer FROM e) x),
-- A peer whose address is outside the hospital's networks (auscult_internal, as the risk score
-- judges it) is its network, whether or not the inventory holds it as a device.
pk AS MATERIALIZED (
  SELECT pa.peer,
         CASE WHEN pa.ip IS NOT NULL AND NOT auscult_internal(pa.ip) THEN 'network'
              WHEN pa.peer LIKE 'd:%' THEN 'group'
              ELSE 'address' END AS kind,
         CASE WHEN pa.ip IS NOT NULL AND NOT auscult_internal(pa.ip) THEN auscult_network_of(pa.ip)::text
              WHEN pa.peer LIKE 'd:%' THEN auscult_device_group(substr(pa.peer, 3)::bigint, $2::text)
              ELSE COALESCE(host(pa.ip), substr(pa.peer, 3)) END AS value
  FROM pa)
SELECT e.direction, pk.kind, pk.value, e.transport, e.port, e.application, bool_or(e.clinical), bool_or(e.phi),
       sum(e.flows)::bigint, sum(e.bytes)::bigint, count(DISTINCT e.device_id), count(DISTINCT e.peer),
       auscult_us(min(e.first_seen)), auscult_us(max(e.last_seen)), count(*)
FROM e JOIN pk USING (peer)
WHERE NOT e.is_new
GROUP BY 1, 2, 3, 4, 5, 6
UNION ALL
SELECT 'new', '', '', 0, 0, '', false, false, 0, 0, 0, 0, 0, 0, count(*) FROM e WHERE e.is_new
ORDER BY 1, 2, 3, 4, 5, 6)sql";

// The addresses of the devices of each peer group (at the site), for the firewall forms.
constexpr char kGroupAddresses[] = R"sql(
SELECT lower(auscult_device_group(d.device_id, $1::text)), host(o.ip)
FROM devices d JOIN device_own_addresses o ON o.device_id = d.device_id
WHERE ($3::text = '' OR d.site = $3::text)
  AND lower(auscult_device_group(d.device_id, $1::text)) = ANY($2::text[])
ORDER BY 1, 2
LIMIT 100000)sql";

const char* const kDimensions[] = {"type", "vendor", "department", "tag"};

void FillRuleCounts(const pqxx::row& r, v1::PolicyRule* rule) {
  rule->set_direction(r.at(0).as<std::string>());
  rule->set_peer_kind(r.at(1).as<std::string>());
  rule->set_peer(r.at(2).as<std::string>());
  rule->set_transport(r.at(3).as<uint32_t>());
  rule->set_port(r.at(4).as<uint32_t>());
  rule->set_application(r.at(5).as<std::string>());
  rule->set_clinical(r.at(6).as<bool>());
  rule->set_phi(r.at(7).as<bool>());
  rule->set_flows(static_cast<uint64_t>(r.at(8).as<int64_t>()));
  rule->set_bytes(static_cast<uint64_t>(r.at(9).as<int64_t>()));
  rule->set_members(r.at(10).as<int32_t>());
  rule->set_peers(r.at(11).as<int32_t>());
  FromMicros(r.at(12).as<int64_t>(), rule->mutable_first_seen());
  FromMicros(r.at(13).as<int64_t>(), rule->mutable_last_seen());
}

// The group's policy from the database, flags set, not rendered.
v1::Policy Derive(pqxx::transaction_base& t, const v1::PolicyGroup& group, bool include_flagged) {
  v1::Policy p;
  *p.mutable_group() = group;
  PgArray ids;
  for (const pqxx::row& r :
       t.exec_params(kMembers, group.dimension(), group.value(), group.site(), kMaxPolicyMembers)) {
    v1::PolicyMember* m = p.add_members();
    m->set_device_id(r.at(0).as<int64_t>());
    m->set_label(r.at(1).as<std::string>());
    for (absl::string_view a : absl::StrSplit(r.at(2).as<std::string>(), ',', absl::SkipEmpty())) {
      m->add_addresses(std::string(a));
    }
    m->set_device_type(r.at(3).as<std::string>());
    m->set_category(r.at(4).as<std::string>());
    m->set_patient_connection(r.at(5).as<std::string>());
    ids.Add(m->device_id());
  }
  if (ids.size() == 0) return p;
  std::set<std::string> groups;
  for (const pqxx::row& r : t.exec_params(kRules, ids.str(), group.dimension(), group.site())) {
    if (r.at(0).as<std::string>() == "new") {
      p.set_new_edges(r.at(14).as<int32_t>());
      continue;
    }
    v1::PolicyRule* rule = p.add_rules();
    FillRuleCounts(r, rule);
    p.set_baseline_edges(p.baseline_edges() + r.at(14).as<int32_t>());
    if (rule->peer_kind() == "group") groups.insert(absl::AsciiStrToLower(rule->peer()));
  }
  if (!groups.empty()) {
    PgArray names;
    for (const std::string& g : groups) names.Add(g);
    std::map<std::string, std::vector<std::string>> addresses;
    for (const pqxx::row& r : t.exec_params(kGroupAddresses, group.dimension(), names.str(), group.site())) {
      addresses[r.at(0).as<std::string>()].push_back(r.at(1).as<std::string>());
    }
    for (v1::PolicyRule& rule : *p.mutable_rules()) {
      if (rule.peer_kind() != "group") continue;
      for (const std::string& a : addresses[absl::AsciiStrToLower(rule.peer())]) rule.add_peer_addresses(a);
    }
  }
  policy::FlagRules(&p, include_flagged);
  return p;
}

void FillStoredPolicy(const pqxx::row& r, v1::Policy* p) {
  p->set_policy_id(r.at(0).as<int64_t>());
  p->mutable_group()->set_dimension(r.at(1).as<std::string>());
  p->mutable_group()->set_value(r.at(2).as<std::string>());
  p->mutable_group()->set_site(r.at(3).as<std::string>());
  p->set_accepted_by(r.at(4).as<std::string>());
  FromMicros(r.at(5).as<int64_t>(), p->mutable_accepted_at());
  p->set_active(r.at(6).as<bool>());
  p->set_violations(r.at(7).as<int64_t>());
  p->set_exceptions(r.at(8).as<int64_t>());
}

}  // namespace

absl::Status ValidatePolicyGroup(const v1::PolicyGroup& group) {
  if (std::find(std::begin(kDimensions), std::end(kDimensions), group.dimension()) == std::end(kDimensions)) {
    return absl::InvalidArgumentError("group.dimension: one of type, vendor, department, tag");
  }
  if (group.value().empty() || group.value().size() > 256) {
    return absl::InvalidArgumentError("group.value: give the group's value (at most 256 bytes)");
  }
  if (HasControlCharacter(group.value()) || HasControlCharacter(group.site())) {
    return absl::InvalidArgumentError("group: no control characters");
  }
  if (group.site().size() > 64) return absl::InvalidArgumentError("group.site: at most 64 bytes");
  return absl::OkStatus();
}

absl::StatusOr<v1::Policy> DerivePolicy(pqxx::connection_base& c, const v1::DerivePolicyRequest& request) {
  if (absl::Status s = ValidatePolicyGroup(request.group()); !s.ok()) return s;
  const std::string format = request.format().empty() ? "text" : request.format();
  if (format != "json") {
    if (auto probe = policy::Render(v1::Policy(), format); !probe.ok()) return probe.status();
  }
  pqxx::read_transaction t(c);
  v1::Policy p = Derive(t, request.group(), request.include_flagged());
  if (p.members_size() == 0) {
    return absl::NotFoundError(absl::StrCat("no device is in ", request.group().dimension(), " '",
                                            Printable(request.group().value(), 64), "'"));
  }
  p.set_format(format);
  if (format != "json") {
    absl::StatusOr<std::string> rendered = policy::Render(p, format);
    if (!rendered.ok()) return rendered.status();
    p.set_rendered(*std::move(rendered));
  }
  return p;
}

absl::StatusOr<v1::Policy> AcceptPolicy(pqxx::connection_base& c, const v1::AcceptPolicyRequest& request,
                                        const std::string& who) {
  if (absl::Status s = ValidatePolicyGroup(request.group()); !s.ok()) return s;
  const v1::PolicyGroup& g = request.group();
  pqxx::work w(c);
  // One acceptance per group at a time: the second waits and replaces the first.
  w.exec_params("SELECT pg_advisory_xact_lock(hashtext('auscult_policy:' || $1 || ':' || lower($2) || ':' || $3))",
                g.dimension(), g.value(), g.site());
  v1::Policy p = Derive(w, g, request.include_flagged());
  if (p.members_size() == 0) {
    return absl::NotFoundError(absl::StrCat("no device is in ", g.dimension(), " '", Printable(g.value(), 64), "'"));
  }
  w.exec_params(
      "UPDATE policies SET active = false WHERE active AND dimension = $1 AND lower(group_value) = lower($2)"
      " AND site = $3",
      g.dimension(), g.value(), g.site());
  const pqxx::row id = w.exec_params1(
      "INSERT INTO policies (dimension, group_value, site, members, accepted_by) VALUES ($1, $2, $3, $4, $5)"
      " RETURNING policy_id, auscult_us(accepted_at)",
      g.dimension(), g.value(), g.site(), p.members_size(), who);
  p.set_policy_id(id.at(0).as<int64_t>());
  FromMicros(id.at(1).as<int64_t>(), p.mutable_accepted_at());
  p.set_accepted_by(who);
  p.set_active(true);
  PgArray pos, dir, kind, peer, transport, port, app;
  int64_t n = 0;
  for (const v1::PolicyRule& r : p.rules()) {
    if (!r.allowed()) continue;
    pos.Add(n++);
    dir.Add(r.direction());
    kind.Add(r.peer_kind());
    peer.Add(r.peer());
    transport.Add(static_cast<int64_t>(r.transport()));
    port.Add(static_cast<int64_t>(r.port()));
    app.Add(r.application());
  }
  if (n > 0) {
    w.exec_params(
        "INSERT INTO policy_rules (policy_id, position, direction, peer_kind, peer, transport, port, application)"
        " SELECT $1, t.* FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::smallint[],"
        " $7::integer[], $8::text[]) AS t",
        p.policy_id(), pos.str(), dir.str(), kind.str(), peer.str(), transport.str(), port.str(), app.str());
  }
  // What the members do outside the policy now: known exceptions, not violations.
  PgArray nodes;
  for (const v1::PolicyMember& m : p.members()) nodes.Add(absl::StrCat("d:", m.device_id()));
  p.set_exceptions(w.exec_params1("SELECT auscult_check_policy_edges(ARRAY(SELECT g FROM graph_edges g"
                                  " WHERE g.src_node = ANY($1::text[]) OR g.dst_node = ANY($1::text[])), true, $2)",
                                  nodes.str(), p.policy_id())
                       .at(0)
                       .as<int64_t>());
  JsonWriter detail;
  detail.BeginObject()
      .Key("policy_id")
      .Int(p.policy_id())
      .Key("dimension")
      .String(g.dimension())
      .Key("group")
      .String(g.value())
      .Key("site")
      .String(g.site())
      .Key("rules")
      .Int(n)
      .Key("include_flagged")
      .Bool(request.include_flagged())
      .EndObject();
  w.exec_params("INSERT INTO admin_actions (who, action, detail) VALUES ($1, 'accept_policy', $2::jsonb)", who,
                detail.str());
  w.commit();
  p.set_format("json");
  return p;
}

absl::StatusOr<v1::ListPoliciesResponse> ListPolicies(pqxx::connection_base& c) {
  pqxx::read_transaction t(c);
  v1::ListPoliciesResponse out;
  std::map<int64_t, v1::Policy*> by_id;
  for (const pqxx::row& r : t.exec(
           "SELECT p.policy_id, p.dimension, p.group_value, p.site, p.accepted_by, auscult_us(p.accepted_at), p.active,"
           " (SELECT count(*) FROM policy_violations v WHERE v.policy_id = p.policy_id AND NOT v.known),"
           " (SELECT count(*) FROM policy_violations v WHERE v.policy_id = p.policy_id AND v.known)"
           " FROM policies p ORDER BY p.policy_id DESC LIMIT 1000")) {
    v1::Policy* p = out.add_policies();
    FillStoredPolicy(r, p);
    by_id[p->policy_id()] = p;
  }
  for (const pqxx::row& r : t.exec("SELECT policy_id, direction, peer_kind, peer, transport, port, application"
                                   " FROM policy_rules WHERE policy_id IN (SELECT policy_id FROM policies"
                                   " ORDER BY policy_id DESC LIMIT 1000) ORDER BY policy_id, position")) {
    auto it = by_id.find(r.at(0).as<int64_t>());
    if (it == by_id.end()) continue;
    v1::PolicyRule* rule = it->second->add_rules();
    rule->set_direction(r.at(1).as<std::string>());
    rule->set_peer_kind(r.at(2).as<std::string>());
    rule->set_peer(r.at(3).as<std::string>());
    rule->set_transport(r.at(4).as<uint32_t>());
    rule->set_port(r.at(5).as<uint32_t>());
    rule->set_application(r.at(6).as<std::string>());
    rule->set_allowed(true);
  }
  return out;
}

absl::StatusOr<v1::ListPolicyViolationsResponse> ListPolicyViolations(pqxx::connection_base& c,
                                                                      const v1::ListPolicyViolationsRequest& request) {
  if (request.limit() < 0 || request.limit() > 10000) return absl::InvalidArgumentError("limit: 0-10000");
  if (request.policy_id() < 0) return absl::InvalidArgumentError("policy_id: 0 or a policy's id");
  pqxx::read_transaction t(c);
  v1::ListPolicyViolationsResponse out;
  for (const pqxx::row& r : t.exec_params(
           "SELECT v.violation_id, v.policy_id, v.policy_dimension, v.policy_group, auscult_us(v.at), v.device_id,"
           " COALESCE(NULLIF(trim(v.device_vendor || ' ' || v.device_model), ''), ''), v.device_type,"
           " COALESCE(v.risk_score, 0), v.direction, v.peer_node, v.peer_ips, v.transport, v.port, v.application,"
           " v.clinical, v.phi, auscult_us(v.first_seen), v.site"
           " FROM dashboard.policy_violations v WHERE $1::bigint = 0 OR v.policy_id = $1::bigint"
           " ORDER BY v.violation_id DESC LIMIT $2::integer",
           request.policy_id(), request.limit() == 0 ? 100 : request.limit())) {
    v1::PolicyViolation* v = out.add_violations();
    v->set_violation_id(r.at(0).as<int64_t>());
    v->set_policy_id(r.at(1).as<int64_t>());
    v->mutable_group()->set_dimension(r.at(2).as<std::string>());
    v->mutable_group()->set_value(r.at(3).as<std::string>());
    FromMicros(r.at(4).as<int64_t>(), v->mutable_at());
    v->set_device_id(r.at(5).as<int64_t>());
    v->set_device_label(r.at(6).as<std::string>());
    v->set_device_type(r.at(7).as<std::string>());
    v->set_device_risk(r.at(8).as<int32_t>());
    v->set_direction(r.at(9).as<std::string>());
    v->set_peer_node(r.at(10).as<std::string>());
    v->set_peer_ips(r.at(11).as<std::string>());
    v->set_transport(r.at(12).as<uint32_t>());
    v->set_port(r.at(13).as<uint32_t>());
    v->set_application(r.at(14).as<std::string>());
    v->set_clinical(r.at(15).as<bool>());
    v->set_phi(r.at(16).as<bool>());
    FromMicros(r.at(17).as<int64_t>(), v->mutable_first_seen());
    v->mutable_group()->set_site(r.at(18).as<std::string>());
  }
  return out;
}

}  // namespace auscult::collector
