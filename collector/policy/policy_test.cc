// Segmentation policy: the flags of what looks unnecessary, and the firewall forms checked by the
// firewalls' own parsers (`nft -c`, `iptables-restore --test`), also for a group name written to
// break out of its quotes.
#include "collector/policy/policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/test_support.h"

namespace auscult::collector::policy {
namespace {

v1::PolicyRule Rule(const std::string& direction, const std::string& kind, const std::string& peer, uint32_t transport,
                    uint32_t port, const std::string& application, std::vector<std::string> addresses = {}) {
  v1::PolicyRule r;
  r.set_direction(direction);
  r.set_peer_kind(kind);
  r.set_peer(peer);
  r.set_transport(transport);
  r.set_port(port);
  r.set_application(application);
  for (auto& a : addresses) r.add_peer_addresses(a);
  r.set_flows(3);
  r.set_members(1);
  r.set_peers(1);
  return r;
}

v1::Policy Pumps(const std::string& group = "infusion-pump") {
  v1::Policy p;
  p.mutable_group()->set_dimension("type");
  p.mutable_group()->set_value(group);
  v1::PolicyMember* m = p.add_members();
  m->set_device_id(7);
  m->set_label("pump-7");
  m->add_addresses("10.20.0.7");
  m->add_addresses("fd00::7");
  m->set_device_type("infusion-pump");
  m->set_category("medical");
  m->set_patient_connection("direct");
  v1::PolicyMember* n = p.add_members();
  n->set_device_id(8);
  n->add_addresses("10.20.0.8");
  n->set_device_type("infusion-pump");
  n->set_patient_connection("direct");
  *p.add_rules() = Rule("out", "group", "infusion-pump-server", 6, 443, "tls", {"10.30.0.5", "fd00::5"});
  *p.add_rules() = Rule("out", "network", "93.184.216.0/24", 6, 443, "http");
  *p.add_rules() = Rule("in", "group", "workstation", 6, 445, "smb", {"10.40.0.9"});
  *p.add_rules() = Rule("out", "address", "10.0.0.53", 17, 53, "dns");
  *p.add_rules() = Rule("out", "network", "8.8.8.0/24", 17, 53, "dns");
  *p.add_rules() = Rule("out", "group", "switch", 1, 0, "");
  *p.add_rules() = Rule("in", "group", "workstation", 6, 23, "telnet", {"10.40.0.9"});
  p.set_baseline_edges(9);
  p.set_new_edges(2);
  return p;
}

std::string Flags(const v1::Policy& p) {
  std::string out;
  for (const auto& r : p.rules()) {
    absl::StrAppend(&out, r.allowed() ? "+" : "-", r.direction(), ":", r.peer(), ":", r.port(),
                    r.flag().empty() ? "" : " (" + r.flag() + ")", "\n");
  }
  return out;
}

TEST(Policy, WhatAPumpHasNoNeedOfIsFlaggedAndLeftOut) {
  v1::Policy p = Pumps();
  FlagRules(&p, /*include_flagged=*/false);
  EXPECT_EQ(Flags(p),
            "+out:10.0.0.53:53\n"
            "+out:infusion-pump-server:443\n"
            "+out:switch:0\n"
            "-in:workstation:23 (clear-text remote login or file transfer (Telnet, FTP, TFTP, rlogin))\n"
            "-in:workstation:445 (SMB or NetBIOS file sharing on infusion-pump (patient-connected devices have no "
            "need of it; worms spread by it))\n"
            "-out:8.8.8.0/24:53 (DNS to servers outside the hospital from infusion-pump: use the hospital's own "
            "servers)\n"
            "-out:93.184.216.0/24:443 (internet access from infusion-pump)\n");
  FlagRules(&p, /*include_flagged=*/true);
  for (const auto& r : p.rules()) EXPECT_TRUE(r.allowed());
  // The same flows of office PCs are not flagged but Telnet.
  v1::Policy pcs = Pumps("workstation");
  for (auto& m : *pcs.mutable_members()) {
    m.set_device_type("workstation");
    m.set_category("it");
    m.set_patient_connection("none");
  }
  FlagRules(&pcs, false);
  int flagged = 0;
  for (const auto& r : pcs.rules()) flagged += !r.flag().empty();
  EXPECT_EQ(flagged, 1);
}

TEST(Policy, TextSaysWhatIsAllowedFlaggedAndDenied) {
  v1::Policy p = Pumps();
  FlagRules(&p, false);
  const absl::StatusOr<std::string> text = Render(p, "text");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("Policy for type \"infusion-pump\": 2 devices"), std::string::npos) << *text;
  EXPECT_NE(text->find("ALLOW out to   type \"infusion-pump-server\"  tcp/443 tls"), std::string::npos) << *text;
  EXPECT_NE(text->find("FLAG  out to   outside 93.184.216.0/24  tcp/443 http"), std::string::npos) << *text;
  EXPECT_NE(text->find("DENY  everything else"), std::string::npos) << *text;
  EXPECT_NE(text->find("2 edges after it are not in it"), std::string::npos) << *text;
  EXPECT_EQ(Render(p, "pdf").status().code(), absl::StatusCode::kInvalidArgument);
}

// Runs a firewall's own check of a ruleset file: as root directly, else in a user and network
// namespace of our own (where the tools may talk to a netfilter of their own).
testing::CommandResult Check(const std::vector<std::string>& argv) {
  std::vector<std::string> run = argv;
  if (geteuid() != 0) run.insert(run.begin(), {"unshare", "-rn"});
  return testing::RunCommand(run);
}

bool Have(const std::string& tool) { return testing::RunCommand({"sh", "-c", "command -v " + tool}).exit_code == 0; }

std::string WriteTemp(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << content;
  return path;
}

TEST(Policy, NftablesAndIptablesFormsPassTheFirewallsOwnChecks) {
  if (!Have("nft") || !Have("iptables-restore")) GTEST_SKIP() << "nft or iptables-restore is not installed";
  for (const std::string& group : {std::string("infusion-pump"), std::string("evil\" } ; flush ruleset ; # \n x")}) {
    v1::Policy p = Pumps(group);
    FlagRules(&p, false);
    const absl::StatusOr<std::string> nft = Render(p, "nftables");
    ASSERT_TRUE(nft.ok());
    EXPECT_NE(nft->find("ip saddr @members_v4 ip daddr @peer_2_v4 tcp dport 443 accept"), std::string::npos) << *nft;
    EXPECT_NE(nft->find("ip6 saddr @members_v6 ip6 daddr @peer_2_v6 tcp dport 443 accept"), std::string::npos) << *nft;
    EXPECT_NE(nft->find("# flagged, not allowed"), std::string::npos);
    // The group's name only ever lands in comments, quotes and control characters defused (and nft
    // -c below would refuse a ruleset it broke).
    for (absl::string_view line : absl::StrSplit(*nft, '\n')) {
      if (line.find("flush ruleset") != absl::string_view::npos) {
        EXPECT_EQ(absl::StripLeadingAsciiWhitespace(line).substr(0, 1), "#") << line;
      }
    }
    const testing::CommandResult n = Check({"nft", "-c", "-f", WriteTemp("policy.nft", *nft)});
    EXPECT_EQ(n.exit_code, 0) << n.err << "\n" << *nft;
    const absl::StatusOr<std::string> ipt = Render(p, "iptables");
    ASSERT_TRUE(ipt.ok());
    EXPECT_NE(ipt->find("-s 10.20.0.7,10.20.0.8 -d 10.30.0.5 -p tcp --dport 443"), std::string::npos) << *ipt;
    const testing::CommandResult i = Check({"iptables-restore", "--test", WriteTemp("policy.ipt", *ipt)});
    EXPECT_EQ(i.exit_code, 0) << i.err << "\n" << *ipt;
  }
  // And the check is real: a broken ruleset fails it.
  const testing::CommandResult bad =
      Check({"nft", "-c", "-f", WriteTemp("bad.nft", "table inet x { chain y { junk } }")});
  EXPECT_NE(bad.exit_code, 0);
}

}  // namespace
}  // namespace auscult::collector::policy
