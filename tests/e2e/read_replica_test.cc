// Dashboards on a read replica (issue 9, docs/scale-out.md): a private primary and a hot standby
// streaming from it, made by deploy/lib/pg.sh as an operator would make them (a replication role,
// pg_basebackup -R, hot_standby_feedback); the collector and the CLI use the primary, and a login
// in role auscult_dashboard reads every dashboard view on the standby and finds the rows the
// primary holds once the standby has replayed the primary's WAL. A collector pointed at the
// standby, or at a login that is read-only, stops at once with a message naming the server; one
// given both servers with target_session_attrs=read-write finds the primary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;

const char* const kCaptures[] = {"clinical/hl7_mllp.pcap",     "clinical/dicom_store_worklist.pcap",
                                 "clinical/fhir_http.pcap",    "clinical/dicom_user_identity.pcap",
                                 "lldp-cdp/LLDP_and_CDP.pcap", "dhcp/dhcp.pcap"};

// The views the migrations grant to auscult_dashboard (docs/schema.md, "Dashboard views").
const char* const kViews[] = {"devices", "connections", "clinical_flows", "device_risk", "sensors", "departments"};

// Columns computed from the clock of the moment they are read: equal rows still differ there.
bool ReadsTheClock(const std::string& view, const std::string& column) {
  return view == "sensors" && (column == "age" || column == "age_seconds");
}

std::string PgBin() {
  const char* bin = std::getenv("AUSCULT_PG_BIN");
  return bin != nullptr && *bin != '\0' ? bin : "/usr/lib/postgresql/15/bin";
}

// A view's rows as a dashboard login sees them on one server, each a line of its columns (those
// that do not read the clock), in one order whatever the plan.
std::vector<std::string> ViewRows(const std::string& uri, const std::string& view) {
  pqxx::connection c(uri);
  pqxx::read_transaction t(c);
  std::vector<std::string> columns;
  for (const auto& r : t.exec_params("SELECT column_name FROM information_schema.columns"
                                     " WHERE table_schema = 'dashboard' AND table_name = $1 ORDER BY ordinal_position",
                                     view)) {
    if (!ReadsTheClock(view, r[0].as<std::string>())) columns.push_back(c.quote_name(r[0].as<std::string>()));
  }
  EXPECT_GT(columns.size(), 3u) << view;
  std::vector<std::string> order;
  for (size_t i = 1; i <= columns.size(); ++i) order.push_back(std::to_string(i));
  std::vector<std::string> rows;
  for (const auto& r : t.exec(absl::StrCat("SELECT ", absl::StrJoin(columns, ", "), " FROM dashboard.", view,
                                           " ORDER BY ", absl::StrJoin(order, ", ")))) {
    std::vector<std::string> fields;
    for (const auto& f : r) fields.push_back(f.is_null() ? "\\N" : f.as<std::string>());
    rows.push_back(absl::StrJoin(fields, "|"));
  }
  return rows;
}

class ReadReplicaTest : public CollectorTest {
 protected:
  void SetUp() override {
    if (access((PgBin() + "/pg_basebackup").c_str(), X_OK) != 0) {
      GTEST_SKIP() << "no pg_basebackup in " << PgBin() << " (Debian's postgresql-15)";
    }
    dir_ = "/tmp/auscult-replica." + std::to_string(getpid());
    primary_port_ = FreeTcpPort();
    standby_port_ = FreeTcpPort();
    started_ = true;  // from here TearDown stops whatever started and removes the folder
    Pg(absl::StrCat("auscult_pg_start ", dir_, "/primary -c fsync=off"), primary_port_);
    if (HasFatalFailure()) return;
    primary_admin_ = Uri("primary", primary_port_, "postgres", "postgres");
    // The replication role of docs/scale-out.md: it may stream WAL and log in, nothing more.
    pqxx::connection c(primary_admin_);
    pqxx::nontransaction(c).exec("CREATE ROLE auscult_replica LOGIN REPLICATION");
    // The standby is made before the database: everything the test reads on it came by streaming.
    Pg(absl::StrCat("auscult_pg_start_standby ", dir_, "/standby 'host=", dir_, "/primary port=", primary_port_,
                    " user=auscult_replica application_name=dashboards'",
                    " -c hot_standby_feedback=on -c max_standby_streaming_delay=5min"),
       standby_port_);
    if (HasFatalFailure()) return;
    db_ = std::make_unique<TestDatabase>(primary_admin_);
    StartCollector();
  }
  void TearDown() override {
    CollectorTest::TearDown();  // the collector stops, the test database and its roles go
    if (!started_) return;
    Pg(absl::StrCat("auscult_pg_stop ", dir_, "/standby; auscult_pg_stop ", dir_, "/primary"), primary_port_);
    fs::remove_all(dir_);
  }

  void Pg(const std::string& command, int port) {
    const std::string pg_sh = std::string(AUSCULT_SOURCE_DIR) + "/deploy/lib/pg.sh";
    const CommandResult r = RunCommand(
        {"bash", "-c", absl::StrCat("set -e; source '", pg_sh, "'; export AUSCULT_PG_PORT=", port, "; ", command)});
    ASSERT_EQ(r.exit_code, 0) << command << ":\n" << r.err;
  }
  std::string Uri(const std::string& server, int port, const std::string& login, const std::string& database) const {
    return absl::StrCat("postgresql://", login, "@/", database, "?host=", dir_, "/", server, "&port=", port);
  }
  // The same login and database on the standby: a test database's URIs end in the server's
  // host and port (tests/support/test_support.cc), which are swapped.
  std::string OnStandby(const std::string& uri) const {
    const std::string primary = absl::StrCat("?host=", dir_, "/primary&port=", primary_port_);
    EXPECT_TRUE(absl::EndsWith(uri, primary)) << uri;
    return absl::StrReplaceAll(uri, {{primary, absl::StrCat("?host=", dir_, "/standby&port=", standby_port_)}});
  }
  std::string Scalar(const std::string& uri, const std::string& sql) const {
    pqxx::connection c(uri);
    return pqxx::nontransaction(c).exec1(sql)[0].as<std::string>("");
  }
  // A collector on the given database URI, expected to refuse it: its exit code and log.
  std::pair<int, std::string> CollectorRefuses(const std::string& uri) {
    Process p({BinaryPath("auscult-collector"), "--listen=127.0.0.1:" + std::to_string(FreeTcpPort()), "--db=" + uri,
               "--insecure", "--log_level=warn"});
    const int code = p.Wait(absl::Seconds(60));  // -1: still running (it started, or hangs)
    return {code, p.Stderr()};
  }

  std::string dir_;
  int primary_port_ = 0, standby_port_ = 0;
  bool started_ = false;
  std::string primary_admin_;
};

TEST_F(ReadReplicaTest, DashboardsReadTheStandbyAndSeeThePrimarysRows) {
  const auto captures = CapturePaths(kCaptures);
  if (!captures) GTEST_SKIP() << "bundled captures missing under tests/data/captures";
  // The primary streams to the standby (its WAL sender names it), which is in recovery.
  EXPECT_EQ(Scalar(primary_admin_, "SELECT string_agg(application_name || ' ' || state, ',') FROM pg_stat_replication"),
            "dashboards streaming");
  const std::string standby_admin = Uri("standby", standby_port_, "postgres", "postgres");
  EXPECT_EQ(Scalar(standby_admin, "SELECT pg_is_in_recovery()::text"), "true");

  // The collector and the CLI use the primary: a sensor's captures, and a segment map.
  const CommandResult sensor = RunSensor(*captures, "replica-wing");
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  const std::string map = ::testing::TempDir() + "replica_segments.csv";
  std::ofstream(map) << "site,cidr,vlan,wing,department\ntest-site,10.99.0.0/24,,north,Radiology\n";
  const CommandResult imported = Cli({"segments", "import", map});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  // A dashboard's login, made on the primary as docs/dashboards.md makes it (a standby takes no
  // writes): before the WAL position below, or the standby may not have it yet.
  const std::string on_primary = db_->DashboardUri();
  // Nothing writes from here on (the collector's classifier and housekeeping stop with it), so
  // the primary's WAL position is final; the standby has every row once it has replayed that far.
  ASSERT_EQ(collector_->Stop(), 0) << collector_->Stderr();
  const std::string primary_lsn = Scalar(primary_admin_, "SELECT pg_current_wal_lsn()::text");
  std::string replayed;
  ASSERT_TRUE(WaitUntil(
      [&] {
        replayed = Scalar(standby_admin, "SELECT pg_last_wal_replay_lsn()::text");
        return Scalar(standby_admin, "SELECT (pg_last_wal_replay_lsn() >= '" + primary_lsn + "'::pg_lsn)::text") ==
               "true";
      },
      absl::Seconds(120)))
      << "the standby replayed up to " << replayed << ", the primary is at " << primary_lsn;
  std::cout << "primary at " << primary_lsn << ", standby replayed " << replayed << "\n";

  // As a dashboard logs in: a login in role auscult_dashboard, on each server.
  const std::string on_standby = OnStandby(on_primary);
  EXPECT_EQ(Scalar(on_standby, "SELECT pg_is_in_recovery()::text"), "true");
  for (const char* view : kViews) {
    SCOPED_TRACE(view);
    const std::vector<std::string> primary_rows = ViewRows(on_primary, view);
    const std::vector<std::string> standby_rows = ViewRows(on_standby, view);
    std::cout << "[ replica ] dashboard." << view << ": " << standby_rows.size() << " rows on the standby, "
              << primary_rows.size() << " on the primary\n";
    EXPECT_GT(primary_rows.size(), 0u) << "nothing to compare";
    EXPECT_EQ(standby_rows, primary_rows);
  }
  // The role reads the views and nothing else there too (the grants came with the WAL).
  pqxx::connection c(on_standby);
  pqxx::read_transaction t(c);
  EXPECT_THROW(t.exec("SELECT count(*) FROM devices"), pqxx::insufficient_privilege);
}

TEST_F(ReadReplicaTest, TheCollectorRefusesAReadOnlyServerAndFindsThePrimaryAmongSeveral) {
  // The standby: an error at start that names it, not a migration failure, a hang or a crash.
  const auto [standby_code, standby_log] = CollectorRefuses(OnStandby(db_->uri()));
  EXPECT_EQ(standby_code, 2) << standby_log;
  EXPECT_NE(standby_log.find("a read-only server"), std::string::npos) << standby_log;
  EXPECT_NE(standby_log.find(dir_ + "/standby:" + std::to_string(standby_port_)), std::string::npos) << standby_log;
  EXPECT_NE(standby_log.find("pg_is_in_recovery"), std::string::npos) << standby_log;
  EXPECT_EQ(standby_log.find("migration"), std::string::npos) << standby_log;

  // The primary, through a login whose transactions are read-only by default.
  const auto [read_only_code, read_only_log] =
      CollectorRefuses(db_->uri() + "&options=-c%20default_transaction_read_only%3Don");
  EXPECT_EQ(read_only_code, 2) << read_only_log;
  EXPECT_NE(read_only_log.find("default_transaction_read_only is on"), std::string::npos) << read_only_log;

  // Both servers, the standby first: libpq skips it for the primary, and the collector starts and
  // stores a sensor's batches there.
  const std::string primary_query = absl::StrCat("?host=", dir_, "/primary&port=", primary_port_);
  const std::string both = absl::StrReplaceAll(
      db_->uri(), {{primary_query, absl::StrCat("?host=", dir_, "/standby,", dir_, "/primary&port=", standby_port_, ",",
                                                primary_port_, "&target_session_attrs=read-write")}});
  ASSERT_NE(both, db_->uri());
  collector_->Stop();
  StartCollector({"--db=" + both});
  const auto capture = CapturePath("clinical/hl7_mllp.pcap");
  if (!capture) GTEST_SKIP() << "bundled captures missing under tests/data/captures";
  const CommandResult sensor = RunSensor({*capture}, "replica-wing");
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
  EXPECT_GT(std::stoll(db_->Scalar("SELECT count(*) FROM ingested_batches")), 0);
}

}  // namespace
}  // namespace auscult::testing
