#include "collector/policy/policy.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/ip_address.h"

namespace auscult::collector::policy {
namespace {

bool Medical(const v1::PolicyMember& m) {
  return m.category() == "medical" || m.patient_connection() == "direct" || m.patient_connection() == "indirect";
}
bool PatientConnected(const v1::PolicyMember& m) {
  return m.patient_connection() == "direct" || m.patient_connection() == "indirect" ||
         m.device_type() == "patient-monitor" || m.device_type() == "infusion-pump";
}

// The kinds of device among the members that a flag names ("infusion-pump, patient-monitor").
std::string Kinds(const v1::Policy& p, bool (*which)(const v1::PolicyMember&)) {
  std::set<std::string> kinds;
  for (const auto& m : p.members()) {
    if (which(m))
      kinds.insert(m.device_type() == "unknown" || m.device_type().empty() ? "medical device" : m.device_type());
  }
  return absl::StrJoin(kinds, ", ");
}

bool Any(const v1::Policy& p, bool (*which)(const v1::PolicyMember&)) {
  return std::any_of(p.members().begin(), p.members().end(), which);
}

// Text safe inside a double-quoted nftables or iptables comment, and on one line.
std::string CommentText(std::string_view s, size_t max = 120) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(c == '"' ? '\'' : u < 0x20 || u >= 0x7f || c == '\\' ? '_' : c);
  }
  return out;
}

// [a-z0-9_] only: table, chain and set names.
std::string Identifier(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (out.size() >= max) break;
    if (std::isalnum(u)) {
      out.push_back(static_cast<char>(std::tolower(u)));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "group" : out;
}

std::string GroupLabel(const v1::PolicyGroup& g) {
  return absl::StrCat(g.dimension(), " \"", g.value(), "\"",
                      g.site().empty() ? "" : absl::StrCat(" at site ", g.site()));
}

std::string PeerLabel(const v1::Policy& p, const v1::PolicyRule& r) {
  if (r.peer_kind() == "group") return absl::StrCat(p.group().dimension(), " \"", r.peer(), "\"");
  if (r.peer_kind() == "network") return absl::StrCat("outside ", r.peer());
  return r.peer();
}

std::string Service(const v1::PolicyRule& r) {
  std::string s = TransportName(r.transport());
  if (r.port() != 0) absl::StrAppend(&s, "/", r.port());
  if (!r.application().empty()) absl::StrAppend(&s, " ", r.application());
  return s;
}

bool IsV6(const std::string& a) { return a.find(':') != std::string::npos; }

std::vector<std::string> Family(const google::protobuf::RepeatedPtrField<std::string>& addresses, bool v6) {
  std::set<std::string> out;
  for (const std::string& a : addresses) {
    if (IsV6(a) == v6) out.insert(a);
  }
  return std::vector<std::string>(out.begin(), out.end());
}

std::vector<std::string> MemberAddresses(const v1::Policy& p, bool v6) {
  std::set<std::string> out;
  for (const auto& m : p.members()) {
    for (const std::string& a : m.addresses()) {
      if (IsV6(a) == v6) out.insert(a);
    }
  }
  return std::vector<std::string>(out.begin(), out.end());
}

// The peer's addresses of one family as the firewall sees them: a network, an address, or the
// group's devices' addresses.
std::vector<std::string> PeerAddresses(const v1::PolicyRule& r, bool v6) {
  if (r.peer_kind() == "group") return Family(r.peer_addresses(), v6);
  if (IsV6(r.peer()) != v6) return {};
  return {r.peer()};
}

std::string Header(const v1::Policy& p, const char* comment) {
  int allowed = 0, flagged = 0;
  for (const auto& r : p.rules()) {
    allowed += r.allowed();
    flagged += !r.flag().empty();
  }
  std::string out;
  absl::StrAppend(&out, comment, " Auscult segmentation policy for ", CommentText(GroupLabel(p.group()), 200), "\n");
  absl::StrAppend(&out, comment, " ", p.members_size(), " devices; ", allowed, " kinds of flow allowed, ", flagged,
                  " flagged as unnecessary; from ", p.baseline_edges(), " edges of the learned baseline (",
                  p.new_edges(), " newer edges left out)\n");
  if (p.policy_id() != 0) absl::StrAppend(&out, comment, " accepted as policy ", p.policy_id(), "\n");
  return out;
}

std::string NftMatch(const v1::PolicyRule& r) {
  switch (r.transport()) {
    case 6:
      return r.port() ? absl::StrCat("tcp dport ", r.port()) : "meta l4proto tcp";
    case 17:
      return r.port() ? absl::StrCat("udp dport ", r.port()) : "meta l4proto udp";
    case 1:
      return "meta l4proto icmp";
    case 58:
      return "meta l4proto ipv6-icmp";
    default:
      return absl::StrCat("meta l4proto ", r.transport());
  }
}

std::string NftSet(const std::string& name, const std::vector<std::string>& elements, bool v6) {
  return absl::StrCat("  set ", name, " { type ", v6 ? "ipv6_addr" : "ipv4_addr", "; flags interval; auto-merge; ",
                      "elements = { ", absl::StrJoin(elements, ", "), " } }\n");
}

std::string RenderNftables(const v1::Policy& p) {
  const std::string table = Identifier(absl::StrCat("auscult_", p.group().dimension(), "_", p.group().value(),
                                                    p.group().site().empty() ? "" : "_" + p.group().site()),
                                       60);
  std::string sets, rules;
  std::string out = Header(p, "#");
  absl::StrAppend(&out,
                  "# For the firewall between the group's segment and the rest (hook forward): load with\n"
                  "# `nft -f FILE`. Replies to allowed flows pass; anything else to or from the group is dropped.\n",
                  "table inet ", table, " {\n");
  for (const bool v6 : {false, true}) {
    const std::string fam = v6 ? "ip6" : "ip";
    const std::string members_set = v6 ? "members_v6" : "members_v4";
    const std::vector<std::string> members = MemberAddresses(p, v6);
    if (members.empty()) continue;
    absl::StrAppend(&sets, NftSet(members_set, members, v6));
    std::map<std::string, std::string> peer_sets;  // elements -> set name
    for (int i = 0; i < p.rules_size(); ++i) {
      const v1::PolicyRule& r = p.rules(i);
      const std::string what =
          CommentText(absl::StrCat(i + 1, ": ", r.direction(), " ", r.direction() == "out" ? "to " : "from ",
                                   PeerLabel(p, r), " ", Service(r), r.clinical() ? ", clinical" : ""));
      const std::vector<std::string> peers = PeerAddresses(r, v6);
      if (peers.empty()) {
        if (r.peer_kind() == "group" && !v6) {
          absl::StrAppend(&rules, "    # ", what, ": its peers have no ", v6 ? "IPv6" : "IPv4", " address now\n");
        }
        continue;
      }
      // Rules with the same peers share a set.
      const std::string key = absl::StrJoin(peers, ",");
      auto [it, fresh] = peer_sets.try_emplace(key, absl::StrCat("peer_", i + 1, v6 ? "_v6" : "_v4"));
      const std::string& peer_set = it->second;
      if (fresh) absl::StrAppend(&sets, NftSet(peer_set, peers, v6));
      const std::string line =
          r.direction() == "out"
              ? absl::StrCat(fam, " saddr @", members_set, " ", fam, " daddr @", peer_set, " ", NftMatch(r))
              : absl::StrCat(fam, " saddr @", peer_set, " ", fam, " daddr @", members_set, " ", NftMatch(r));
      if (r.allowed()) {
        absl::StrAppend(&rules, "    ", line, " accept comment \"", what, "\"\n");
      } else {
        absl::StrAppend(&rules, "    # flagged, not allowed: ", what, ": ", CommentText(r.flag()), "\n    # ", line,
                        " accept\n");
      }
    }
    absl::StrAppend(&rules, "    ", fam, " saddr @", members_set, " counter drop comment \"",
                    "auscult: not in the policy\"\n", "    ", fam, " daddr @", members_set,
                    " counter drop comment \"auscult: not in the policy\"\n");
  }
  absl::StrAppend(&out, sets,
                  "  chain forward {\n"
                  "    type filter hook forward priority filter; policy accept;\n"
                  "    ct state established,related accept\n",
                  rules, "  }\n}\n");
  return out;
}

std::string IptMatch(const v1::PolicyRule& r) {
  switch (r.transport()) {
    case 6:
      return r.port() ? absl::StrCat("-p tcp --dport ", r.port()) : "-p tcp";
    case 17:
      return r.port() ? absl::StrCat("-p udp --dport ", r.port()) : "-p udp";
    case 1:
      return "-p icmp";
    default:
      return absl::StrCat("-p ", r.transport());
  }
}

std::string RenderIptables(const v1::Policy& p) {
  // iptables chain names: at most 28 characters.
  std::string chain =
      absl::AsciiStrToUpper(Identifier(absl::StrCat(p.group().dimension(), "_", p.group().value()), 20));
  std::replace(chain.begin(), chain.end(), '_', '-');
  chain = absl::StrCat("AUSCULT-", chain);
  std::string out = Header(p, "#");
  absl::StrAppend(&out, "# IPv4 (iptables-restore --noflush FILE; then `iptables -I FORWARD -j ", chain,
                  "`). IPv6 addresses are in the nftables form.\n*filter\n:", chain, " - [0:0]\n-A ", chain,
                  " -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n");
  const std::vector<std::string> members = MemberAddresses(p, false);
  if (!members.empty()) {
    const std::string m = absl::StrJoin(members, ",");
    for (int i = 0; i < p.rules_size(); ++i) {
      const v1::PolicyRule& r = p.rules(i);
      if (r.transport() == 58) continue;  // ICMPv6 has no IPv4 form
      const std::vector<std::string> peers = PeerAddresses(r, false);
      const std::string what =
          CommentText(absl::StrCat(i + 1, ": ", r.direction(), " ", r.direction() == "out" ? "to " : "from ",
                                   PeerLabel(p, r), " ", Service(r)),
                      200);
      if (peers.empty()) continue;
      const std::string line = absl::StrCat("-A ", chain, r.direction() == "out" ? " -s " : " -d ", m,
                                            r.direction() == "out" ? " -d " : " -s ", absl::StrJoin(peers, ","), " ",
                                            IptMatch(r), " -m comment --comment \"", what, "\" -j ACCEPT\n");
      if (r.allowed()) {
        absl::StrAppend(&out, line);
      } else {
        absl::StrAppend(&out, "# flagged, not allowed: ", CommentText(r.flag()), "\n# ", line);
      }
    }
    absl::StrAppend(&out, "-A ", chain, " -s ", m, " -j DROP\n-A ", chain, " -d ", m, " -j DROP\n");
  }
  absl::StrAppend(&out, "COMMIT\n");
  return out;
}

std::string Day(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone());
}

std::string RenderText(const v1::Policy& p) {
  std::string out = absl::StrCat("Policy for ", GroupLabel(p.group()), ": ", p.members_size(), " devices\n");
  if (p.policy_id() != 0) {
    absl::StrAppend(&out, "accepted as policy ", p.policy_id(), " by ", p.accepted_by(),
                    p.active() ? "" : " (replaced since)", "\n");
  }
  absl::StrAppend(&out, "from ", p.baseline_edges(), " edges of the learned baseline; ", p.new_edges(),
                  " edges after it are not in it (review them: auscult new-edges)\n\n");
  for (const auto& m : p.members()) {
    absl::StrAppend(
        &out, "  device ", m.device_id(), "  ", m.label().empty() ? "-" : m.label(), "  ",
        m.addresses_size() ? absl::StrJoin(m.addresses(), ",") : "(no IP address: outside the firewall forms)", "\n");
  }
  absl::StrAppend(&out, "\n");
  auto section = [&](bool allowed) {
    for (const auto& r : p.rules()) {
      if (r.allowed() != allowed) continue;
      absl::StrAppend(&out, allowed ? "ALLOW " : "FLAG  ", r.direction() == "out" ? "out to   " : "in from  ",
                      PeerLabel(p, r), "  ", Service(r), r.clinical() ? "  clinical" : "",
                      r.phi() ? "  patient data" : "", "  (", r.flows(), " flows, ", r.members(),
                      " of the group's devices, ", r.peers(), " peers, ", Day(r.first_seen()), "..", Day(r.last_seen()),
                      ")\n");
      if (!r.flag().empty()) absl::StrAppend(&out, "        ", r.flag(), allowed ? " (allowed on request)" : "", "\n");
    }
  };
  section(true);
  section(false);
  absl::StrAppend(&out, "DENY  everything else to or from the group\n");
  return out;
}

}  // namespace

std::string FlagFor(const v1::Policy& p, const v1::PolicyRule& r) {
  const std::string& app = r.application();
  const bool tcp = r.transport() == 6, udp = r.transport() == 17;
  if (r.peer_kind() == "network" && Any(p, Medical)) {
    if (app == "dns" || app == "ntp" || (udp && (r.port() == 53 || r.port() == 123))) {
      return absl::StrCat(app.empty() ? "DNS or NTP" : absl::AsciiStrToUpper(app),
                          " to servers outside the hospital from ", Kinds(p, Medical),
                          ": use the hospital's own servers");
    }
    return absl::StrCat("internet access from ", Kinds(p, Medical));
  }
  const bool smb = app == "smb" || app == "netbios" || app == "nbns" || app == "smb_browser" ||
                   (tcp && (r.port() == 445 || r.port() == 139)) || (udp && (r.port() == 137 || r.port() == 138));
  if (smb && Any(p, PatientConnected)) {
    return absl::StrCat("SMB or NetBIOS file sharing on ", Kinds(p, PatientConnected),
                        " (patient-connected devices have no need of it; worms spread by it)");
  }
  if (app == "telnet" || app == "ftp" || app == "tftp" ||
      (tcp && (r.port() == 23 || r.port() == 21 || r.port() == 513)) || (udp && r.port() == 69)) {
    return "clear-text remote login or file transfer (Telnet, FTP, TFTP, rlogin)";
  }
  return "";
}

void FlagRules(v1::Policy* p, bool include_flagged) {
  for (auto& r : *p->mutable_rules()) {
    r.set_flag(FlagFor(*p, r));
    r.set_allowed(r.flag().empty() || include_flagged);
  }
  auto* rules = p->mutable_rules();
  std::stable_sort(rules->begin(), rules->end(), [](const v1::PolicyRule& a, const v1::PolicyRule& b) {
    return std::make_tuple(!a.allowed(), a.direction(), a.peer_kind(), a.peer(), a.transport(), a.port(),
                           a.application()) < std::make_tuple(!b.allowed(), b.direction(), b.peer_kind(), b.peer(),
                                                              b.transport(), b.port(), b.application());
  });
}

absl::StatusOr<std::string> Render(const v1::Policy& p, const std::string& format) {
  if (format.empty() || format == "text") return RenderText(p);
  if (format == "nftables") return RenderNftables(p);
  if (format == "iptables") return RenderIptables(p);
  return absl::InvalidArgumentError(
      absl::StrCat("format: '", format.substr(0, 20), "': use text, nftables, iptables or json"));
}

}  // namespace auscult::collector::policy
