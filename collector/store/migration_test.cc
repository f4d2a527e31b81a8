// Migrations on databases that already hold data: what a running hospital's database goes through
// when its collector is upgraded. Real PostgreSQL (AUSCULT_TEST_PG_URI or a private cluster).
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <string>

#include "collector/store/database.h"
#include "tests/support/test_support.h"

namespace auscult::collector {
namespace {

using testing::AdminUri;
using testing::TestDatabase;

// The columns of a table's primary key, in key order, joined by commas.
std::string PrimaryKey(const TestDatabase& db, const std::string& table) {
  return db.Scalar("SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_index i"
                   " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
                   " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                   " WHERE i.indrelid = '" + table + "'::regclass AND i.indisprimary");
}

// Migration 022 puts `site` in the keys of what sensors' batches write (docs/scale-out.md). Rows
// stored before it take their sensor's site; a sensor without a site keeps ''.
TEST(MigrationTest, SiteKeysOfFlowsAreFilledFromTheirSensorsOnUpgrade) {
  const std::optional<std::string> admin = AdminUri();
  ASSERT_TRUE(admin) << "no PostgreSQL to test against";
  TestDatabase db(*admin);
  pqxx::connection c(db.uri());
  ASSERT_TRUE(ApplyMigrations(c, 21).ok());
  ASSERT_EQ(db.Scalar("SELECT max(version) FROM schema_migrations"), "21");
  {
    pqxx::work w(c);
    w.exec("INSERT INTO sensors (sensor_id, site) VALUES ('north-1', 'north'), ('lab-1', '')");
    w.exec("INSERT INTO ingested_batches (sensor_id, epoch, sequence, devices, flows)"
           " VALUES ('north-1', 7, 1, 0, 2), ('lab-1', 3, 1, 0, 1)");
    // (The old flow is in the default partition: no daily one was made for its day.)
    w.exec("INSERT INTO flows (sensor_id, epoch, flow_id, vlan, inner_vlan, transport, application, src_ip, src_port,"
           " dst_ip, dst_port, packets_to_dst, bytes_to_dst, packets_to_src, bytes_to_src, first_seen, last_seen,"
           " state, phi, stored_at) VALUES"
           " ('north-1', 7, 1, 0, 0, 6, 'hl7', '10.1.0.5', 40000, '10.1.0.9', 2575, 4, 900, 4, 300, now(), now(),"
           "  'closed', true, now()),"
           " ('north-1', 7, 2, 0, 0, 6, 'hl7', '10.1.0.5', 40001, '10.1.0.9', 2575, 1, 90, 1, 30,"
           "  now() - interval '40 days', now() - interval '40 days', 'closed', false, now() - interval '40 days'),"
           " ('lab-1', 3, 1, 0, 0, 6, 'dicom', '10.2.0.5', 40000, '10.2.0.9', 104, 9, 9000, 9, 500, now(), now(),"
           "  'closed', true, now())");
    w.exec("INSERT INTO flow_phi (sensor_id, epoch, flow_id, kind, messages)"
           " VALUES ('north-1', 7, 1, 'demographics', 4), ('lab-1', 3, 1, 'images', 1)");
    w.exec("INSERT INTO flow_messages (sensor_id, epoch, flow_id, name, count)"
           " VALUES ('north-1', 7, 1, 'ADT^A01', 4), ('north-1', 7, 2, 'QRY^A19', 1)");
    w.exec("INSERT INTO address_phi (ip, kind) SELECT ip, kind FROM auscult_flow_address_phi()");
    w.commit();
  }
  ASSERT_EQ(db.Scalar("SELECT count(*) FROM address_phi"), "4");

  const absl::StatusOr<int> applied = ApplyMigrations(c);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_GE(*applied, 1);
  EXPECT_EQ(db.Scalar("SELECT string_agg(sensor_id || '@' || site, ',' ORDER BY sensor_id) FROM ingested_batches"),
            "lab-1@,north-1@north");
  EXPECT_EQ(db.Scalar("SELECT string_agg(sensor_id || ':' || flow_id || '@' || site, ',' ORDER BY sensor_id, flow_id)"
                      " FROM flows"),
            "lab-1:1@,north-1:1@north,north-1:2@north");
  EXPECT_EQ(db.Scalar("SELECT string_agg(kind || '@' || site, ',' ORDER BY kind) FROM flow_phi"),
            "demographics@north,images@");
  EXPECT_EQ(db.Scalar("SELECT string_agg(name || '@' || site, ',' ORDER BY name) FROM flow_messages"),
            "ADT^A01@north,QRY^A19@north");
  EXPECT_EQ(db.Scalar("SELECT string_agg(host(ip) || ' ' || kind || '@' || site, ',' ORDER BY ip) FROM address_phi"),
            "10.1.0.5 demographics@north,10.1.0.9 demographics@north,10.2.0.5 images@,10.2.0.9 images@");
  for (const char* table : {"ingested_batches", "flows", "flow_phi", "flow_messages", "address_phi"}) {
    EXPECT_EQ(PrimaryKey(db, table).rfind("site,", 0), 0u) << table << ": " << PrimaryKey(db, table);
  }
  EXPECT_EQ(PrimaryKey(db, "flows"), "site,sensor_id,epoch,flow_id,first_seen");

  // Expiry finds a flow's messages by the whole key: the 40-day-old flow goes with its own and
  // nothing else; every address's kinds are still backed by a kept flow.
  {
    pqxx::work w(c);
    EXPECT_EQ(w.exec1("SELECT auscult_expire_flows(interval '30 days')").at(0).as<std::string>(), "1");
    EXPECT_EQ(w.exec1("SELECT auscult_expire_address_phi()").at(0).as<std::string>(), "0");
    w.commit();
  }
  EXPECT_EQ(db.Scalar("SELECT string_agg(sensor_id || ':' || flow_id, ',' ORDER BY sensor_id) FROM flows"),
            "lab-1:1,north-1:1");
  EXPECT_EQ(db.Scalar("SELECT string_agg(name, ',') FROM flow_messages"), "ADT^A01");
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM flow_phi"), "2");
}

// Migration 023 puts `site` in graph_edges' key: an edge stored before it takes the site of the
// first sensor that saw it (`sensors` is sorted), whole, since its counters cannot be split.
TEST(MigrationTest, EdgesTakeTheSiteOfTheirFirstSensorOnUpgrade) {
  const std::optional<std::string> admin = AdminUri();
  ASSERT_TRUE(admin) << "no PostgreSQL to test against";
  TestDatabase db(*admin);
  pqxx::connection c(db.uri());
  ASSERT_TRUE(ApplyMigrations(c, 22).ok());
  {
    pqxx::work w(c);
    w.exec("INSERT INTO sensors (sensor_id, site) VALUES ('a-north', 'north'), ('b-south', 'south'), ('c-lab', '')");
    w.exec("INSERT INTO graph_edges (src_node, dst_node, transport, port, application, bytes_to_dst, first_seen,"
           " last_seen, sensors) VALUES"
           " ('d:1', 'd:2', 6, 443, 'tls', 100, now(), now(), '{a-north,b-south}'),"
           " ('d:1', 'd:3', 6, 443, 'tls', 200, now(), now(), '{b-south}'),"
           " ('d:2', 'd:3', 17, 53, 'dns', 300, now(), now(), '{c-lab}')");
    w.commit();
  }
  const absl::StatusOr<int> applied = ApplyMigrations(c);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(db.Scalar("SELECT string_agg(src_node || '-' || dst_node || '@' || site || ':' || bytes_to_dst, ' '"
                      " ORDER BY src_node, dst_node) FROM graph_edges"),
            "d:1-d:2@north:100 d:1-d:3@south:200 d:2-d:3@:300");
  EXPECT_EQ(PrimaryKey(db, "graph_edges"), "site,src_node,dst_node,transport,port,application");
}

// A collector older than its database (a rolling upgrade begun at the wrong end) refuses to start,
// naming both versions, rather than write rows a newer schema does not expect; once it knows them
// all, it starts again.
TEST(MigrationTest, ACollectorOlderThanItsDatabaseRefusesIt) {
  const std::optional<std::string> admin = AdminUri();
  ASSERT_TRUE(admin) << "no PostgreSQL to test against";
  TestDatabase db(*admin);
  pqxx::connection c(db.uri());
  ASSERT_TRUE(ApplyMigrations(c).ok());
  ASSERT_EQ(ApplyMigrations(c).value_or(-1), 0) << "a second start applies nothing and starts";
  {
    pqxx::work w(c);
    w.exec("INSERT INTO schema_migrations (version, name, fingerprint) VALUES (999, '999_from_the_future.sql', 'x')");
    w.commit();
  }
  const absl::StatusOr<int> refused = ApplyMigrations(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("schema version 999 (999_from_the_future.sql)"), absl::string_view::npos)
      << refused.status();
  const std::string known = std::string(Migrations().back().name).substr(0, 3);
  EXPECT_NE(refused.status().message().find("this collector knows (" + std::to_string(std::stoi(known)) + ")"),
            absl::string_view::npos)
      << refused.status();
  // The advisory lock was given back: another start is refused the same way, not left waiting
  // (a lock still held would fail it after 10 s with a lock timeout instead).
  pqxx::connection other(db.uri());
  pqxx::nontransaction(other).exec("SET lock_timeout = '10s'");
  const absl::StatusOr<int> again = ApplyMigrations(other);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("schema version 999"), absl::string_view::npos) << again.status();
}

}  // namespace
}  // namespace auscult::collector
