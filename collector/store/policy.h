#ifndef AUSCULT_COLLECTOR_STORE_POLICY_H_
#define AUSCULT_COLLECTOR_STORE_POLICY_H_

// Segmentation policies in the database (migration 025, docs/policy.md): derived from the learned
// baseline of the communication graph, accepted by an admin, and their violations.

#include <string>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace pqxx {
class connection_base;
}

namespace auscult::collector {

inline constexpr int kMaxPolicyMembers = 100000;

absl::Status ValidatePolicyGroup(const v1::PolicyGroup& group);

// The group's policy as its baseline shows it, flagged and rendered in request.format().
absl::StatusOr<v1::Policy> DerivePolicy(pqxx::connection_base& c, const v1::DerivePolicyRequest& request);

// Derives the policy and stores its allowed rules as the group's active policy (the one before it,
// if any, becomes inactive); `who` is recorded in admin_actions.
absl::StatusOr<v1::Policy> AcceptPolicy(pqxx::connection_base& c, const v1::AcceptPolicyRequest& request,
                                        const std::string& who);

absl::StatusOr<v1::ListPoliciesResponse> ListPolicies(pqxx::connection_base& c);
absl::StatusOr<v1::ListPolicyViolationsResponse> ListPolicyViolations(pqxx::connection_base& c,
                                                                      const v1::ListPolicyViolationsRequest& request);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_POLICY_H_
