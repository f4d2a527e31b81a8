// PostgreSQL roles: the collector runs as the owner of its database, no superuser (every
// CollectorTest does: tests/support makes each database owned by a role of its own), refuses a
// superuser unless told it is for development, and a database a superuser filled can be handed
// over to its role (deploy/db-hand-over.sql).
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every object of the database's own schemas that the querying role does not own ("" when none):
// the collector's role must own all it made to alter, partition and grant them.
std::string NotOwnedByMe(const TestDatabase& db) {
  return db.Scalar(
      "WITH me AS (SELECT oid FROM pg_roles WHERE rolname = current_user),"
      " own AS (SELECT oid FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema')"
      " SELECT string_agg(what, ', ' ORDER BY what) FROM ("
      "  SELECT 'schema ' || nspname AS what FROM pg_namespace"
      "   WHERE oid IN (SELECT oid FROM own) AND nspname <> 'public' AND nspowner <> (SELECT oid FROM me)"
      "  UNION ALL SELECT 'relation ' || c.oid::regclass::text FROM pg_class c"
      "   WHERE c.relnamespace IN (SELECT oid FROM own) AND c.relowner <> (SELECT oid FROM me)"
      "  UNION ALL SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p"
      "   WHERE p.pronamespace IN (SELECT oid FROM own) AND p.proowner <> (SELECT oid FROM me)) x");
}

class RolesTest : public CollectorTest {};

TEST_F(RolesTest, TheCollectorRunsAsTheOwnerOfItsDatabaseAndNothingMore) {
  // The role the harness made for this database, as the quickstart makes "auscult".
  EXPECT_EQ(db_->Scalar("SELECT current_user"), db_->owner());
  EXPECT_EQ(db_->Scalar("SELECT rolsuper::text || rolcreaterole::text || rolcreatedb::text FROM pg_roles"
                        " WHERE rolname = current_user"),
            "falsefalsefalse");
  EXPECT_EQ(db_->Scalar("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"),
            db_->owner());
  // Every migration ran as it: it owns all it made (tables, partitions, views, the SECURITY
  // DEFINER wrappers of the dashboard views), and it granted the dashboard views.
  EXPECT_GT(std::stoi(db_->Scalar("SELECT count(*) FROM schema_migrations")), 14);
  EXPECT_EQ(NotOwnedByMe(*db_), "");
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM pg_inherits WHERE inhparent = 'flows'::regclass"), "5")
      << "today's and the next three days' flow partitions, and the default one";
  EXPECT_EQ(db_->Scalar("SELECT has_table_privilege('auscult_dashboard', 'dashboard.devices', 'SELECT')"), "t");
  // It takes a sensor's batches, serves queries and keeps the graph as a superuser's would.
  const auto capture = CapturePath("clinical/hl7_mllp.pcap");
  ASSERT_TRUE(capture);
  const CommandResult sensor = RunSensor({*capture}, "ward-1");
  ASSERT_EQ(sensor.exit_code, 0) << sensor.err << collector_->Stderr();
  EXPECT_NE(db_->Scalar("SELECT count(*) FROM graph_edges"), "0");
  EXPECT_EQ(CliJson({"devices"}).list_value().values_size(), 2);
  EXPECT_FALSE(Contains(collector_->Stderr(), "permission denied")) << collector_->Stderr();
}

TEST_F(RolesTest, ASuperuserIsRefusedUnlessForDevelopmentAndItsDatabaseCanBeHandedOver) {
  // A database of its own that no collector has touched yet.
  collector_->Stop();
  collector_.reset();
  db_ = std::make_unique<TestDatabase>(*AdminUri());
  const std::string collector = BinaryPath("auscult-collector");

  // Refused at start, naming the fix, before anything is written.
  const CommandResult refused =
      RunCommand({collector, "--db=" + db_->superuser_uri(), "--insecure", "--listen=127.0.0.1:0"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  for (const char* part : {"a PostgreSQL superuser", "CREATE ROLE auscult LOGIN", "deploy/db-hand-over.sql",
                           "docs/security.md", "--allow_superuser"}) {
    EXPECT_TRUE(Contains(refused.err, part)) << part << " in " << refused.err;
  }
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM pg_class WHERE relname = 'schema_migrations'"), "0");

  // Allowed for development, with a warning. (A flag given twice takes its last value.)
  const auto capture = CapturePath("clinical/hl7_mllp.pcap");
  ASSERT_TRUE(capture);
  StartCollector({"--db=" + db_->superuser_uri(), "--allow_superuser"});
  const CommandResult first = RunSensor({*capture}, "ward-1");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(collector_->Stop(), 0);
  EXPECT_TRUE(Contains(collector_->Stderr(), "(--allow_superuser): for development only")) << collector_->Stderr();
  collector_.reset();
  const auto as_superuser = [&](const std::string& sql) {
    pqxx::connection c(db_->superuser_uri());
    return pqxx::nontransaction(c).exec1(sql)[0].as<std::string>();
  };
  EXPECT_EQ(as_superuser("SELECT count(*) FROM devices"), "2");
  EXPECT_NE(as_superuser("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'devices'::regclass"),
            db_->owner());

  // Its objects are the superuser's, so the database's owner cannot run the collector on it ...
  const CommandResult owner_refused =
      RunCommand({collector, "--db=" + db_->uri(), "--insecure", "--listen=127.0.0.1:0"});
  EXPECT_EQ(owner_refused.exit_code, 1);
  EXPECT_TRUE(Contains(owner_refused.err, "permission denied")) << owner_refused.err;
  // ... until they are handed over (as a superuser, the collector stopped).
  const std::string script = std::string(AUSCULT_SOURCE_DIR) + "/deploy/db-hand-over.sql";
  const CommandResult without_role = RunCommand({"psql", "-X", "-q", "-d", db_->superuser_uri(), "-f", script});
  EXPECT_NE(without_role.exit_code, 0);
  EXPECT_TRUE(Contains(without_role.err, "name the role")) << without_role.err;
  for (int run = 0; run < 2; ++run) {  // the second changes nothing
    const CommandResult handed =
        RunCommand({"psql", "-X", "-q", "-v", "owner=" + db_->owner(), "-d", db_->superuser_uri(), "-f", script});
    ASSERT_EQ(handed.exit_code, 0) << handed.err;
  }
  EXPECT_EQ(NotOwnedByMe(*db_), "");

  // Now as its owner: what the superuser stored is there, and more is added.
  StartCollector();
  const auto more = CapturePath("dhcp/dhcp.pcap");
  ASSERT_TRUE(more);
  const CommandResult second = RunSensor({*more}, "ward-2");
  ASSERT_EQ(second.exit_code, 0) << second.err << collector_->Stderr();
  EXPECT_GT(std::stoi(db_->Scalar("SELECT count(*) FROM devices")), 2);
  EXPECT_EQ(db_->Scalar("SELECT string_agg(sensor_id, ',' ORDER BY sensor_id) FROM sensors"), "ward-1,ward-2");
  // The grant of the dashboard views passed to the new owner with them.
  pqxx::connection dashboard(db_->DashboardUri());
  EXPECT_EQ(pqxx::nontransaction(dashboard).exec1("SELECT count(*) FROM dashboard.sensors")[0].as<std::string>(), "2");
}

}  // namespace
}  // namespace auscult::testing
