#ifndef AUSCULT_COLLECTOR_POLICY_POLICY_H_
#define AUSCULT_COLLECTOR_POLICY_POLICY_H_

// A segmentation policy for a device group (docs/policy.md): which of the group's observed kinds of
// flow look unnecessary, and the policy written out for people (text) and for firewalls (nftables,
// iptables-restore). Pure functions over the API's Policy message; the database part is in
// collector/store/policy.h.

#include <string>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace auscult::collector::policy {

// Why a rule looks unnecessary for this group, or "": the internet from a medical or
// patient-connected device, SMB or NetBIOS on a patient-connected device, clear-text remote login
// or file transfer (Telnet, FTP, TFTP, rlogin).
std::string FlagFor(const v1::Policy& policy, const v1::PolicyRule& rule);

// Sets each rule's flag and `allowed` (not flagged, or `include_flagged`), and sorts the rules:
// allowed first, then by direction, peer, transport and port.
void FlagRules(v1::Policy* policy, bool include_flagged);

// The policy as `format`: text, nftables, iptables. INVALID_ARGUMENT for another format.
absl::StatusOr<std::string> Render(const v1::Policy& policy, const std::string& format);

}  // namespace auscult::collector::policy

#endif  // AUSCULT_COLLECTOR_POLICY_POLICY_H_
