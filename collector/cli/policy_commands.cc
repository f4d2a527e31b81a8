// auscult policy derive|accept|list|violations: segmentation policy from the observed graph
// (docs/policy.md).
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "collector/cli/graph_commands.h"
#include "collector/cli/output_format.h"
#include "collector/cli/table.h"
#include "common/text.h"

ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, type);
ABSL_DECLARE_FLAG(std::string, vendor);
ABSL_DECLARE_FLAG(std::string, department);
ABSL_DECLARE_FLAG(std::string, site);
ABSL_DECLARE_FLAG(std::string, format);
ABSL_DECLARE_FLAG(int64_t, limit);

ABSL_FLAG(std::string, tag, "", "policy: the devices an operator tagged so (`device set ID --field=tag --value=T`)");
ABSL_FLAG(bool, include_flagged, false, "policy derive, accept: allow what looks unnecessary too (it stays flagged)");
ABSL_FLAG(int64_t, policy, 0, "policy violations: only this policy's (default: every policy)");

namespace auscult::cli {
namespace {

// The group from --type, --vendor, --department or --tag (exactly one), with --site.
bool GroupFromFlags(v1::PolicyGroup* g) {
  int given = 0;
  for (const auto& [dimension, value] : {std::pair<const char*, std::string>{"type", absl::GetFlag(FLAGS_type)},
                                         {"vendor", absl::GetFlag(FLAGS_vendor)},
                                         {"department", absl::GetFlag(FLAGS_department)},
                                         {"tag", absl::GetFlag(FLAGS_tag)}}) {
    if (value.empty()) continue;
    ++given;
    g->set_dimension(dimension);
    g->set_value(value);
  }
  g->set_site(absl::GetFlag(FLAGS_site));
  if (given != 1) {
    std::fprintf(stderr, "auscult: policy: name the group with one of --type, --vendor, --department, --tag\n");
    return false;
  }
  return true;
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

}  // namespace

int DerivePolicy(const QueryContext& q) {
  v1::DerivePolicyRequest req;
  if (!GroupFromFlags(req.mutable_group())) return 2;
  // --format is shared with `graph` (default json there): here text unless a firewall form is named.
  std::string format = absl::GetFlag(FLAGS_format);
  if (absl::GetFlag(FLAGS_json)) {
    format = "json";
  } else if (format == "json") {
    format = "text";
  }
  req.set_format(format);
  req.set_include_flagged(absl::GetFlag(FLAGS_include_flagged));
  v1::Policy p;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->DerivePolicy(&ctx, req, &p); !s.ok()) return FailCall(s, q.target);
  std::cout << (format == "json" ? ToJson(p) : p.rendered());
  return 0;
}

int AcceptPolicy(const QueryContext& q) {
  v1::AcceptPolicyRequest req;
  if (!GroupFromFlags(req.mutable_group())) return 2;
  req.set_include_flagged(absl::GetFlag(FLAGS_include_flagged));
  v1::Policy p;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->AcceptPolicy(&ctx, req, &p); !s.ok()) return FailCall(s, q.target);
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(p);
    return 0;
  }
  int allowed = 0, flagged = 0;
  for (const auto& r : p.rules()) {
    allowed += r.allowed();
    flagged += !r.allowed();
  }
  std::cout << "policy " << p.policy_id() << " accepted for " << p.group().dimension() << " \""
            << Printable(p.group().value(), 64) << "\": " << p.members_size() << " devices, " << allowed
            << " kinds of flow allowed, " << flagged << " flagged and left out\n"
            << p.exceptions() << " edges outside it exist already: recorded as known exceptions, not violations\n"
            << "new edges that break it are reported: auscult policy violations, auscult watch "
               "--kinds=policy_violation\n";
  return 0;
}

int ListPolicies(const QueryContext& q) {
  v1::ListPoliciesResponse response;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->ListPolicies(&ctx, v1::ListPoliciesRequest(), &response); !s.ok()) {
    return FailCall(s, q.target);
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(response);
    return 0;
  }
  Table t({"POLICY", "GROUP", "SITE", "RULES", "ACCEPTED", "BY", "STATE", "VIOLATIONS", "EXCEPTIONS"},
          {true, false, false, true, false, false, false, true, true});
  for (const auto& p : response.policies()) {
    t.AddRow({absl::StrCat(p.policy_id()), Printable(absl::StrCat(p.group().dimension(), "=", p.group().value()), 60),
              p.group().site().empty() ? "-" : Printable(p.group().site(), 30), absl::StrCat(p.rules_size()),
              absl::FormatTime("%Y-%m-%d %H:%M", ToTime(p.accepted_at()), absl::UTCTimeZone()),
              Printable(p.accepted_by(), 40), p.active() ? "active" : "replaced", absl::StrCat(p.violations()),
              absl::StrCat(p.exceptions())});
  }
  std::cout << t.Render() << response.policies_size() << " policies\n";
  return 0;
}

int PolicyViolations(const QueryContext& q) {
  v1::ListPolicyViolationsRequest req;
  req.set_policy_id(absl::GetFlag(FLAGS_policy));
  const int64_t limit = absl::GetFlag(FLAGS_limit);
  req.set_limit(static_cast<int32_t>(limit > 0 && limit <= 10000 ? limit : 100));
  v1::ListPolicyViolationsResponse response;
  grpc::ClientContext ctx;
  SetDeadline(ctx, q);
  if (grpc::Status s = q.stub->ListPolicyViolations(&ctx, req, &response); !s.ok()) return FailCall(s, q.target);
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(response);
    return 0;
  }
  Table t({"ID", "AT", "POLICY", "DEVICE", "RISK", "TYPE", "DIR", "PEER", "SERVICE", "FLAGS"},
          {true, false, true, true, true, false, false, false, false, false});
  for (const auto& v : response.violations()) {
    std::string service = TransportName(v.transport());
    if (v.port() != 0) absl::StrAppend(&service, "/", v.port());
    if (!v.application().empty()) absl::StrAppend(&service, " ", v.application());
    std::string flags = v.clinical() ? "clinical" : "";
    if (v.phi()) absl::StrAppend(&flags, flags.empty() ? "" : ",", "phi");
    t.AddRow({absl::StrCat(v.violation_id()),
              absl::FormatTime("%Y-%m-%d %H:%M:%S", ToTime(v.at()), absl::UTCTimeZone()), absl::StrCat(v.policy_id()),
              absl::StrCat(v.device_id(), v.device_label().empty() ? "" : " " + Printable(v.device_label(), 30)),
              absl::StrCat(v.device_risk()), v.device_type(), v.direction(),
              Printable(v.peer_ips().empty() ? v.peer_node() : v.peer_ips(), 40), service,
              flags.empty() ? "-" : flags});
  }
  std::cout << t.Render() << response.violations_size() << " violations\n";
  return 0;
}

}  // namespace auscult::cli
