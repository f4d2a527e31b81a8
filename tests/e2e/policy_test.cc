// Segmentation policy end to end: the bundled clinical and browsing captures through the real
// sensor into a collector and PostgreSQL, a device group's policy derived from the graph they
// make, its nftables and iptables forms checked by `nft -c` and `iptables-restore --test`, then
// the policy accepted and a new edge that breaks it reported in Watch, the CLI and the dashboard.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

using google::protobuf::Value;

std::string Str(const Value& v, const std::string& key) {
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? "" : it->second.string_value();
}

// A firewall's own check of a ruleset: as root directly, else in a user and network namespace.
CommandResult FirewallCheck(std::vector<std::string> argv) {
  if (geteuid() != 0) argv.insert(argv.begin(), {"unshare", "-rn"});
  return RunCommand(argv);
}

class PolicyTest : public CollectorTest {
 protected:
  void SetUp() override {
    CollectorTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    const auto captures = CapturePaths(kGraphCaptures);
    ASSERT_TRUE(captures) << "bundled captures missing";
    StartCollector();
    const CommandResult sensor = RunSensor(*captures, "ward-1");
    ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
    // The graph merge and the classification follow the batches within seconds.
    ASSERT_TRUE(WaitUntil(
        [&] {
          return db_->Scalar("SELECT count(*) FROM device_reclassify") == "0" &&
                 db_->Scalar("SELECT count(*) FROM graph_edge_pending") == "0" &&
                 !db_->Scalar("SELECT 1 FROM devices WHERE auscult_device_group(device_id, 'type') = 'pacs'").empty();
        },
        absl::Seconds(30)));
  }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = ::testing::TempDir() + absl::StrCat("policy-", port_, "-", name);
    std::ofstream(path) << content;
    return path;
  }
};

TEST_F(PolicyTest, AGroupsPolicyComesFromItsBaselineFlagsTheInternetAndPassesTheFirewallChecks) {
  // The browsing host of wikipedia.pcap, declared an infusion pump by an analyst and tagged: its
  // web browsing is now the internet access of a pump.
  const std::string browser = db_->Scalar(
      "SELECT substr(g.src_node, 3) FROM graph_edges g WHERE g.src_node LIKE 'd:%'"
      " AND CASE WHEN g.dst_node LIKE 'a:%' THEN NOT auscult_internal(substr(g.dst_node, 3)::inet) ELSE false END"
      " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1");
  ASSERT_FALSE(browser.empty());
  for (const std::string& field : {std::string("--field=device_type"), std::string("--field=tag")}) {
    const CommandResult set =
        Cli({"device", "set", browser, field, field == "--field=tag" ? "--value=icu-pumps" : "--value=infusion-pump"});
    ASSERT_EQ(set.exit_code, 0) << set.err;
  }
  ASSERT_EQ(Cli({"device", "set", browser, "--field=patient_connection", "--value=direct"}).exit_code, 0);

  const CommandResult text = Cli({"policy", "derive", "--tag=icu-pumps"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Policy for tag \"icu-pumps\": 1 devices"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("FLAG  out to   outside "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("internet access from infusion-pump"), std::string::npos) << text.out;
  // Every flagged rule is outside the allow-list; the JSON form says the same.
  const Value json = CliJson({"policy", "derive", "--tag=icu-pumps"});
  int flagged = 0, allowed = 0;
  for (const Value& r : json.struct_value().fields().at("rules").list_value().values()) {
    const bool is_allowed = r.struct_value().fields().at("allowed").bool_value();
    EXPECT_EQ(is_allowed, Str(r, "flag").empty()) << Str(r, "peer");
    (is_allowed ? allowed : flagged)++;
  }
  EXPECT_GT(flagged, 0);
  EXPECT_EQ(json.struct_value().fields().at("baseline_edges").number_value() > 0, true);

  for (const std::string& group :
       {std::string("--tag=icu-pumps"), std::string("--type=pacs"), std::string("--type=ct")}) {
    const CommandResult nft = Cli({"policy", "derive", group, "--format=nftables"});
    ASSERT_EQ(nft.exit_code, 0) << nft.err;
    EXPECT_NE(nft.out.find("table inet auscult_"), std::string::npos) << nft.out;
    const CommandResult checked = FirewallCheck({"nft", "-c", "-f", Write("policy.nft", nft.out)});
    EXPECT_EQ(checked.exit_code, 0) << group << "\n" << checked.err << "\n" << nft.out;
    const CommandResult ipt = Cli({"policy", "derive", group, "--format=iptables"});
    ASSERT_EQ(ipt.exit_code, 0) << ipt.err;
    const CommandResult ipt_checked = FirewallCheck({"iptables-restore", "--test", Write("policy.ipt", ipt.out)});
    EXPECT_EQ(ipt_checked.exit_code, 0) << group << "\n" << ipt_checked.err << "\n" << ipt.out;
  }
  // The PACS takes DICOM from the CT: an allowed, clinical rule, with the CT as a group.
  const CommandResult pacs = Cli({"policy", "derive", "--type=pacs"});
  EXPECT_NE(pacs.out.find("ALLOW in from  type \"ct\"  tcp/104 dicom  clinical"), std::string::npos) << pacs.out;
  // Accepted without the flagged rules: the pump's internet edges exist already and become known
  // exceptions, neither violations nor events.
  const Value accepted = CliJson({"policy", "accept", "--tag=icu-pumps"});
  EXPECT_GT(std::stoll(Str(accepted, "exceptions")), 0);  // int64 as JSON text
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM dashboard.policy_violations"), "0");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM events WHERE kind = 'policy_violation'"), "0");
  // A device that joins the group brings its edges: the CT's DICOM is nothing a pump may do.
  const std::string ct = db_->Scalar(
      "SELECT device_id FROM devices WHERE auscult_device_group(device_id, 'type') = 'ct' ORDER BY 1 LIMIT 1");
  ASSERT_EQ(Cli({"device", "set", ct, "--field=tag", "--value=ICU-pumps"}).exit_code, 0);
  EXPECT_NE(db_->Scalar("SELECT count(*) FROM dashboard.policy_violations WHERE device_id = " + ct +
                        " AND application = 'dicom'"),
            "0");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM events WHERE kind = 'policy_violation' AND device_id = " + ct),
            db_->Scalar("SELECT count(*) FROM policy_violations WHERE NOT known AND device_id = " + ct));

  // Bad groups and formats are refused with the reason.
  EXPECT_EQ(Cli({"policy", "derive", "--type=no-such-type"}).exit_code, 1);
  EXPECT_EQ(Cli({"policy", "derive", "--type=pacs", "--format=pdf"}).exit_code, 2);
  EXPECT_EQ(Cli({"policy", "derive"}).exit_code, 2);
}

TEST_F(PolicyTest, AnAcceptedPolicyReportsANewEdgeThatBreaksItInWatchTheCliAndTheDashboard) {
  const CommandResult accepted = Cli({"policy", "accept", "--type=pacs"});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  EXPECT_NE(accepted.out.find("accepted for type \"pacs\""), std::string::npos) << accepted.out;
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM admin_actions WHERE action = 'accept_policy'"), "1");
  const std::string pacs_ip = db_->Scalar(
      "SELECT host(o.ip) FROM device_own_addresses o WHERE auscult_device_group(o.device_id, 'type') = 'pacs'"
      " ORDER BY o.ip LIMIT 1");
  const std::string ct_ip = db_->Scalar(
      "SELECT host(o.ip) FROM device_own_addresses o WHERE auscult_device_group(o.device_id, 'type') = 'ct'"
      " ORDER BY o.ip LIMIT 1");
  ASSERT_FALSE(pacs_ip.empty());
  ASSERT_FALSE(ct_ip.empty());
  const int64_t last_event = std::stoll(db_->Scalar("SELECT COALESCE(max(event_id), 0) FROM events"));

  // Two new edges to the PACS: SMB from an unknown host (not in the policy) and DICOM on a new
  // port from the CT (not in it either: only the ports it used are).
  v1::ObservationBatch b;
  b.mutable_sensor()->set_sensor_id("ward-1-later");
  b.mutable_sensor()->set_site("test-site");
  b.mutable_sensor()->set_wing("test-wing");
  b.mutable_sensor()->set_version("test");
  b.set_epoch(1);
  b.set_sequence(1);
  auto flow = [&](uint64_t id, const std::string& from, uint32_t port, const std::string& app) {
    v1::FlowObservation* f = b.add_flows();
    f->set_flow_id(id);
    f->mutable_initiator()->set_ip(from);
    f->mutable_initiator()->set_port(40000 + static_cast<uint32_t>(id));
    f->mutable_responder()->set_ip(pacs_ip);
    f->mutable_responder()->set_port(port);
    f->set_transport(6);
    f->set_application(app);
    f->set_state(v1::FLOW_STATE_CLOSED);
    f->mutable_to_responder()->set_packets(4);
    f->mutable_to_responder()->set_bytes(400);
    f->mutable_first_seen()->set_seconds(1790000000);
    f->mutable_last_seen()->set_seconds(1790000001);
  };
  flow(1, "10.99.0.77", 445, "smb");
  flow(2, ct_ip, 104, "dicom");  // an edge that exists: allowed, and not new anyway
  const StreamResult sent = StreamBatches(target(), {b});
  ASSERT_EQ(sent.status_code, 0) << sent.status_message;

  ASSERT_TRUE(
      WaitUntil([&] { return db_->Scalar("SELECT count(*) FROM policy_violations") != "0"; }, absl::Seconds(30)));
  EXPECT_EQ(db_->Scalar("SELECT string_agg(direction || ' ' || src_node || ' ' || port || ' ' || application, ';')"
                        " FROM policy_violations"),
            "in a:10.99.0.77 445 smb");

  // In the Watch stream, with the device and its risk.
  const CommandResult watch = Cli({"watch", "--kinds=policy_violation", absl::StrCat("--after=", last_event),
                                   "--count=1", "--json", "--timeout=20s"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  const Value event = ParseJson(watch.out.substr(0, watch.out.find('\n')));
  EXPECT_EQ(Str(event, "kind"), "policy_violation");
  const auto& detail = event.struct_value().fields().at("detail").struct_value().fields();
  EXPECT_EQ(detail.at("port").string_value(), "445");
  EXPECT_EQ(detail.at("group").string_value(), "type=pacs");
  EXPECT_EQ(detail.at("src").string_value(), "a:10.99.0.77");
  EXPECT_FALSE(detail.at("risk").string_value().empty());
  // The CLI and the dashboard view, with the device's risk.
  const Value listed = CliJson({"policy", "violations"});
  ASSERT_EQ(listed.struct_value().fields().at("violations").list_value().values_size(), 1);
  EXPECT_EQ(db_->Scalar("SELECT peer_ips || ' ' || port || ' ' || (risk_score IS NOT NULL) || ' ' || device_type"
                        " FROM dashboard.policy_violations"),
            "10.99.0.77 445 true pacs");
  const Value policies = CliJson({"policy", "list"});
  const Value& first = policies.struct_value().fields().at("policies").list_value().values(0);
  EXPECT_EQ(first.struct_value().fields().at("violations").string_value(), "1");  // int64 as JSON text

  // Accepting again replaces the policy; the same edge is not reported twice.
  ASSERT_EQ(Cli({"policy", "accept", "--type=pacs"}).exit_code, 0);
  EXPECT_EQ(db_->Scalar("SELECT count(*) FILTER (WHERE active) || '/' || count(*) FROM policies"), "1/2");
}

}  // namespace
}  // namespace auscult::testing
