// The dashboard interface end to end: a database filled by the real sensor and collector from the
// clinical captures, and every SQL query of the shipped Grafana dashboards (deploy/grafana/) run
// as role auscult_dashboard, which may read the dashboard views and nothing else.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

const std::vector<std::string> kCaptures = {
    "clinical/hl7_mllp.pcap",
    "clinical/hl7_mllp_port.pcap",
    "clinical/dicom_store_worklist.pcap",
    "clinical/fhir_http.pcap",
    "clinical/dicom_user_identity.pcap",
    "medical/hl7.pcap",
    "lldp-cdp/LLDP_and_CDP.pcap",
    "dhcp/dhcp.pcap",
};

// The views the migrations grant to auscult_dashboard.
const std::set<std::string> kViews = {"devices",          "connections", "clinical_flows", "device_risk",
                                      "sensors",          "departments", "advisories",     "device_vulnerabilities",
                                      "policy_violations"};

// Grafana replaces these with the dashboard's time range; the test asks for all time.
constexpr char kFrom[] = "'1970-01-01T00:00:00Z'";
constexpr char kTo[] = "'2100-01-01T00:00:00Z'";

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// One SQL query of a dashboard: the panel (or variable, or annotation) it belongs to.
struct DashboardQuery {
  std::string file;
  std::string owner;   // the title or name of the object holding the query
  std::string format;  // "table", "time_series" or ""
  std::string datasource_uid;
  std::string sql;
};

// Every rawSql anywhere in the dashboard (panels, panels inside rows, annotations, variables), and
// the text queries of template variables.
// The nearest datasource uid (the query's own, else its panel's) goes with each query.
void CollectQueries(const google::protobuf::Value& v, const std::string& file, const std::string& owner,
                    const std::string& datasource, bool in_templating, std::vector<DashboardQuery>& out) {
  if (v.has_list_value()) {
    for (const auto& x : v.list_value().values()) CollectQueries(x, file, owner, datasource, in_templating, out);
    return;
  }
  if (!v.has_struct_value()) return;
  const auto& f = v.struct_value().fields();
  std::string here = owner;
  for (const char* key : {"title", "name"}) {
    if (auto it = f.find(key); it != f.end() && it->second.has_string_value()) {
      here = it->second.string_value();
      break;
    }
  }
  std::string uid = datasource;
  if (auto it = f.find("datasource"); it != f.end() && it->second.has_struct_value()) {
    const auto& ds = it->second.struct_value().fields();
    if (auto u = ds.find("uid"); u != ds.end()) uid = u->second.string_value();
  }
  if (auto it = f.find("rawSql"); it != f.end() && it->second.has_string_value()) {
    const auto format = f.find("format");
    out.push_back({file, here, format != f.end() ? format->second.string_value() : "", uid, it->second.string_value()});
  }
  if (auto it = f.find("query"); in_templating && it != f.end() && it->second.has_string_value()) {
    out.push_back({file, here, "", uid, it->second.string_value()});
  }
  for (const auto& [key, child] : f) {
    if (key != "rawSql" && key != "datasource") {
      CollectQueries(child, file, here, uid, in_templating || key == "templating", out);
    }
  }
}

// Seconds of a Grafana interval such as '1d', '6h', '5m', '30s'; 0 if it is not one.
int64_t IntervalSeconds(std::string text) {
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') text = text.substr(1, text.size() - 2);
  if (text.size() < 2) return 0;
  int64_t n = 0;
  if (!absl::SimpleAtoi(text.substr(0, text.size() - 1), &n) || n <= 0) return 0;
  switch (text.back()) {
    case 's':
      return n;
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    case 'd':
      return n * 86400;
    case 'w':
      return n * 604800;
    default:
      return 0;
  }
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// Grafana's PostgreSQL macros, expanded as Grafana expands them for the range kFrom..kTo.
// Unknown macros and template variables are errors: Grafana would send them on unexpanded or
// expanded in a way this test does not know, so the query would not be the one tested.
std::string ExpandMacros(const std::string& sql, std::string& error) {
  std::string out;
  size_t i = 0;
  while (i < sql.size()) {
    if (sql[i] != '$') {
      out += sql[i++];
      continue;
    }
    size_t name_end = i + 1;
    while (name_end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[name_end])) || sql[name_end] == '_')) {
      ++name_end;
    }
    const std::string name = sql.substr(i + 1, name_end - i - 1);
    std::vector<std::string> args;
    size_t next = name_end;
    if (next < sql.size() && sql[next] == '(') {
      int depth = 0;
      std::string arg;
      for (; next < sql.size(); ++next) {
        const char c = sql[next];
        if (c == '(' && depth++ == 0) continue;
        if (c == ')' && --depth == 0) break;
        if (c == ',' && depth == 1) {
          args.push_back(Trim(arg));
          arg.clear();
          continue;
        }
        arg += c;
      }
      if (next == sql.size()) {
        error = "unbalanced parentheses after $" + name;
        return "";
      }
      ++next;  // past ')'
      if (!Trim(arg).empty() || !args.empty()) args.push_back(Trim(arg));
    }
    auto group = [&](const std::string& column, const std::string& interval) {
      const int64_t s = IntervalSeconds(interval);
      if (s == 0) error = "$" + name + ": interval " + interval + " is not like '1d'";
      return absl::StrCat("floor(extract(epoch from ", column, ")/", s, ")*", s);
    };
    if (name == "__timeFilter" && args.size() == 1) {
      out += absl::StrCat(args[0], " BETWEEN ", kFrom, " AND ", kTo);
    } else if (name == "__timeFrom" && args.empty()) {
      out += kFrom;
    } else if (name == "__timeTo" && args.empty()) {
      out += kTo;
    } else if (name == "__time" && args.size() == 1) {
      out += absl::StrCat(args[0], " AS \"time\"");
    } else if (name == "__timeGroup" && (args.size() == 2 || args.size() == 3)) {
      out += group(args[0], args[1]);
    } else if (name == "__timeGroupAlias" && (args.size() == 2 || args.size() == 3)) {
      out += group(args[0], args[1]) + " AS \"time\"";
    } else {
      error = "unknown macro or template variable $" + name;
      return "";
    }
    i = next;
  }
  return out;
}

struct QueryResult {
  bool ok = false;
  std::string error;
  pqxx::result rows;
};

// Runs `sql` in a subtransaction of `t` (as the role `t` runs as), so that a failure leaves the
// transaction usable for the next query.
QueryResult RunQuery(pqxx::dbtransaction& t, const std::string& sql) {
  QueryResult r;
  try {
    pqxx::subtransaction s(t, "query");
    r.rows = s.exec(sql);
    s.commit();
    r.ok = true;
  } catch (const pqxx::sql_error& e) {
    r.error = e.what();
  }
  return r;
}

class DashboardTest : public CollectorTest {
 protected:
  // The database as the sensor and collector leave it after the captures, with a segment map
  // that places the clinical fixtures' hosts in Radiology.
  void Populate() {
    std::vector<std::string> paths;
    for (const std::string& c : kCaptures) {
      const auto p = CapturePath(c);
      ASSERT_TRUE(p) << c;
      paths.push_back(*p);
    }
    const CommandResult sensor = RunSensor(paths, "dash-sensor");
    ASSERT_EQ(sensor.exit_code, 0) << sensor.err;
    const std::string map = ::testing::TempDir() + "dashboard_segments.csv";
    std::ofstream(map) << "site,cidr,vlan,wing,department\ntest-site,10.99.0.0/24,,north,Radiology\n";
    const CommandResult imported = Cli({"segments", "import", map});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    // An advisory of our own making (CISA's ICSMA-22-174-01 names 3.6.7, the fixtures' DCMTK, as
    // fixed) for the fixtures' DICOM hosts, so that the vulnerability panel has rows.
    const std::string advisory = ::testing::TempDir() + "dashboard_advisory.json";
    std::ofstream(advisory) << R"json({
      "document": {"csaf_version": "2.0", "title": "Test fixture: DCMTK up to 3.6.7",
        "publisher": {"name": "Auscult tests"},
        "tracking": {"id": "AUSCULT-TEST-0001", "version": "1", "initial_release_date": "2026-01-01T00:00:00Z",
                     "current_release_date": "2026-01-01T00:00:00Z"}},
      "product_tree": {"branches": [{"category": "vendor", "name": "OFFIS", "branches": [
        {"category": "product_name", "name": "DCMTK", "branches": [
          {"category": "product_version_range", "name": "<= 3.6.7",
           "product": {"name": "DCMTK <= 3.6.7", "product_id": "P1"}}]}]}]},
      "vulnerabilities": [{"cve": "CVE-2026-0002",
        "scores": [{"products": ["P1"], "cvss_v3": {"version": "3.1", "baseScore": 7.5, "baseSeverity": "HIGH",
          "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}],
        "product_status": {"known_affected": ["P1"]},
        "remediations": [{"category": "vendor_fix", "details": "Update DCMTK.", "product_ids": ["P1"]}]}]})json";
    const CommandResult advised = Cli({"advisories", "import", advisory});
    ASSERT_EQ(advised.exit_code, 0) << advised.err;
    ASSERT_TRUE(
        WaitUntil([&] { return db_->Scalar("SELECT count(*) FROM device_advisories") != "0"; }, absl::Seconds(30)));
  }

  std::vector<DashboardQuery> Queries() {
    std::vector<DashboardQuery> out;
    const std::filesystem::path dir = std::filesystem::path(AUSCULT_GRAFANA_DIR) / "dashboards";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      const google::protobuf::Value dashboard = ParseJson(ReadFile(entry.path()));
      const auto& f = dashboard.struct_value().fields();
      EXPECT_TRUE(f.count("uid") == 1 && f.count("schemaVersion") == 1) << entry.path();
      CollectQueries(dashboard, entry.path().filename(), "", "", false, out);
    }
    return out;
  }
};

TEST_F(DashboardTest, EveryDashboardQueryRunsAsTheDashboardRole) {
  Populate();
  const std::vector<DashboardQuery> queries = Queries();
  ASSERT_GE(queries.size(), 10u) << "the dashboards hold fewer queries than the shipped one";

  // Every panel reads the provisioned data source.
  const std::string datasources = ReadFile(std::string(AUSCULT_GRAFANA_DIR) + "/provisioning/datasources/auscult.yaml");
  ASSERT_NE(datasources.find("uid: auscult-postgres"), std::string::npos);
  for (const DashboardQuery& q : queries) EXPECT_EQ(q.datasource_uid, "auscult-postgres") << q.file << ": " << q.owner;

  // Panels that must show something on this database (the risk factors need computed risk, which
  // the second pass below provides).
  const std::set<std::string> must_have_rows = {"Inventory",
                                                "Devices by category",
                                                "Devices by type",
                                                "Highest-risk devices",
                                                "Departments",
                                                "Medical devices by department",
                                                "Sensors",
                                                "New devices",
                                                "Patient data sent unencrypted",
                                                "Clinical connections",
                                                "Devices with published vulnerabilities"};
  std::set<std::string> seen;

  {
    // As a dashboard logs in: a login in role auscult_dashboard.
    pqxx::connection c(db_->DashboardUri());
    pqxx::read_transaction t(c);
    for (const DashboardQuery& q : queries) {
      SCOPED_TRACE(q.file + ": " + q.owner);
      std::string error;
      const std::string sql = ExpandMacros(q.sql, error);
      EXPECT_TRUE(error.empty()) << error << "\n" << q.sql;
      if (!error.empty()) continue;
      const QueryResult r = RunQuery(t, sql);
      EXPECT_TRUE(r.ok) << r.error << "\n" << sql;
      if (!r.ok) continue;
      std::cout << "[ dashboard ] " << q.owner << ": " << r.rows.size() << " rows\n";
      seen.insert(q.owner);
      if (must_have_rows.contains(q.owner)) {
        EXPECT_GT(r.rows.size(), 0u) << sql;
      }
      if (q.format == "time_series" && r.rows.columns() > 0) {
        EXPECT_STREQ(r.rows.column_name(0), "time");
      }
    }
    for (const std::string& title : must_have_rows) EXPECT_TRUE(seen.contains(title)) << "no panel " << title;

    // What the panels rest on: the clinical fixtures' hosts are in Radiology and send patient
    // data in clear; no text column is ever NULL, and an unclassified device's patient
    // connection is 'unknown'.
    EXPECT_EQ(RunQuery(t, "SELECT 1 FROM dashboard.departments WHERE department = 'Radiology' AND phi_devices >= 2")
                  .rows.size(),
              1u);
    EXPECT_GT(
        RunQuery(t, "SELECT 1 FROM dashboard.clinical_flows WHERE phi_in_clear AND application = 'hl7'").rows.size(),
        0u);
    const QueryResult columns = RunQuery(t,
                                         "SELECT table_name, column_name FROM information_schema.columns"
                                         " WHERE table_schema = 'dashboard' AND data_type = 'text'");
    ASSERT_TRUE(columns.ok) << columns.error;
    ASSERT_GT(columns.rows.size(), 20u);
    for (const auto& row : columns.rows) {
      const std::string table = row[0].as<std::string>(), column = row[1].as<std::string>();
      EXPECT_EQ(RunQuery(t, absl::StrCat("SELECT count(*) FROM dashboard.", table, " WHERE ", column, " IS NULL"))
                    .rows[0][0]
                    .as<std::string>(),
                "0")
          << table << "." << column;
    }
    EXPECT_EQ(RunQuery(t, "SELECT count(*) FROM dashboard.devices WHERE patient_connection = ''")
                  .rows[0][0]
                  .as<std::string>(),
              "0");
    // Every view of the schema reads as the role, also those no panel uses.
    for (const std::string& view : kViews) {
      const QueryResult r = RunQuery(t, "SELECT * FROM dashboard." + view);
      EXPECT_TRUE(r.ok) << view << ": " << r.error;
    }
  }

  // Second pass: with a device classified and its risk computed (as the classifier would write
  // them; rolled back afterwards), every panel shows rows and the views expand the risk factors.
  {
    // The rows are written and read in one transaction, rolled back, so the role is taken with SET
    // ROLE, which the database's owner may not do (it is no member of auscult_dashboard).
    pqxx::connection c(db_->superuser_uri());
    pqxx::work t(c);
    const std::string id = t.exec1(
                                "SELECT min(d.device_id) FROM devices d JOIN device_own_addresses o USING (device_id)"
                                " WHERE o.ip = '10.99.0.2'")[0]
                               .as<std::string>();
    const std::string other =
        t.exec1("SELECT min(device_id) FROM devices WHERE device_id <> " + id)[0].as<std::string>();
    t.exec("INSERT INTO device_classification (device_id, key, value, confidence, rule_id, rules_version) VALUES " +
           absl::StrCat("(", id, ", 'category', 'medical', 0.9, 'test', 'test'),", "(", id,
                        ", 'device_type', 'infusion_pump', 0.9, 'test', 'test'),", "(", id,
                        ", 'patient_connection', 'direct', 0.9, 'test', 'test'),", "(", id,
                        ", 'fda_class', 'II', 0.9, 'test', 'test')") +
           " ON CONFLICT (device_id, key) DO UPDATE SET value = excluded.value");
    t.exec("INSERT INTO device_risk (device_id, score, factors) VALUES (" + id +
           ", 100, '[{\"factor\": \"patient_connection\", \"group\": \"clinical\", \"points\": 40, \"detail\": "
           "\"direct\"}, {\"factor\": \"phi_in_clear\", \"group\": \"protocols\", \"points\": 25.5, \"detail\": "
           "\"HL7 without TLS\"}]'), (" +
           other +
           ", 0, '[]') ON CONFLICT (device_id) DO UPDATE SET score = excluded.score, factors = excluded.factors");
    t.exec("SET LOCAL ROLE auscult_dashboard");
    for (const DashboardQuery& q : queries) {
      SCOPED_TRACE(q.file + ": " + q.owner);
      std::string error;
      const QueryResult r = RunQuery(t, ExpandMacros(q.sql, error));
      EXPECT_TRUE(r.ok) << r.error;
      if (!r.ok) continue;
      std::cout << "[ dashboard ] with risk: " << q.owner << ": " << r.rows.size() << " rows\n";
      EXPECT_GT(r.rows.size(), 0u) << q.sql;
      if (q.owner == "Highest-risk devices") {
        ASSERT_GT(r.rows.size(), 0u);
        EXPECT_EQ(r.rows[0]["risk"].as<std::string>(), "100");
        bool listed = false;
        for (const auto& row : r.rows) {
          if (row["id"].as<std::string>() != id) continue;
          listed = true;
          EXPECT_EQ(row["factors"].as<std::string>(), "patient_connection +40, phi_in_clear +25.5");
        }
        EXPECT_TRUE(listed) << "device " << id << " (risk 100) is not among the highest-risk devices";
      }
    }
    const pqxx::row device = t.exec1(
        "SELECT category, device_type, patient_connection, fda_class, risk_score, department, handles_phi, clinical"
        " FROM dashboard.devices WHERE device_id = " +
        id);
    EXPECT_EQ(device[0].as<std::string>(), "medical");
    EXPECT_EQ(device[1].as<std::string>(), "infusion_pump");
    EXPECT_EQ(device[2].as<std::string>(), "direct");
    EXPECT_EQ(device[3].as<std::string>(), "II");
    EXPECT_EQ(device[4].as<int>(), 100);
    EXPECT_EQ(device[5].as<std::string>(), "Radiology");
    EXPECT_TRUE(device[6].as<bool>());
    EXPECT_TRUE(device[7].as<bool>());
    const pqxx::result factors = t.exec(
        "SELECT factor_index, factor, factor_group, points, detail FROM dashboard.device_risk WHERE device_id = " + id +
        " ORDER BY factor_index");
    ASSERT_EQ(factors.size(), 2u);
    EXPECT_EQ(factors[0][1].as<std::string>() + "/" + factors[0][2].as<std::string>() + "/" +
                  factors[0][3].as<std::string>() + "/" + factors[0][4].as<std::string>(),
              "patient_connection/clinical/40/direct");
    EXPECT_EQ(factors[1][3].as<std::string>(), "25.5");
    // A score without factors is one row with factor ''.
    const pqxx::result none = t.exec("SELECT factor, points FROM dashboard.device_risk WHERE device_id = " + other);
    ASSERT_EQ(none.size(), 1u);
    EXPECT_EQ(none[0][0].as<std::string>(), "");
    EXPECT_TRUE(none[0][1].is_null());
    const pqxx::row radiology =
        t.exec1("SELECT medical_devices, max_risk FROM dashboard.departments WHERE department = 'Radiology'");
    EXPECT_GE(radiology[0].as<int>(), 1);
    EXPECT_EQ(radiology[1].as<int>(), 100);
    t.abort();
  }
}

TEST_F(DashboardTest, TheRoleReadsTheDashboardViewsAndNothingElse) {
  Populate();
  pqxx::connection owner(db_->uri());
  pqxx::work t(owner);
  // It is a group role: a login is given it with IN ROLE (docs/dashboards.md).
  EXPECT_EQ(t.exec1("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = 'auscult_dashboard'")[0].as<std::string>(),
            "false");
  // SELECT on exactly the dashboard views, on no table or view of the collector's schema.
  std::set<std::string> readable;
  for (const auto& row :
       t.exec("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
              " WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
              " AND has_table_privilege('auscult_dashboard', c.oid, 'SELECT')")) {
    readable.insert(row[0].as<std::string>());
  }
  std::set<std::string> expected;
  for (const std::string& v : kViews) expected.insert("dashboard." + v);
  EXPECT_EQ(readable, expected);
  EXPECT_EQ(t.exec1("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'dashboard' AND (has_table_privilege('auscult_dashboard', c.oid, 'INSERT')"
                    " OR has_table_privilege('auscult_dashboard', c.oid, 'UPDATE')"
                    " OR has_table_privilege('auscult_dashboard', c.oid, 'DELETE'))")[0]
                .as<int>(),
            0);
  t.abort();

  // A dashboard's login (docs/dashboards.md) reads the views and nothing else.
  pqxx::connection dashboard(db_->DashboardUri());
  pqxx::work d(dashboard);
  EXPECT_GT(RunQuery(d, "SELECT * FROM dashboard.devices").rows.size(), 0u);
  for (const char* denied :
       {"SELECT * FROM devices", "SELECT * FROM public.devices", "SELECT * FROM flows", "SELECT * FROM device_evidence",
        "SELECT * FROM connections", "SELECT dashboard_private.display(1, 'vendor')",
        "SELECT auscult_display(1, 'vendor')", "UPDATE dashboard.sensors SET wing = 'x'",
        "CREATE VIEW dashboard.mine AS SELECT 1", "CREATE TABLE public.mine (x int)"}) {
    const QueryResult r = RunQuery(d, denied);
    EXPECT_FALSE(r.ok) << denied;
    EXPECT_NE(r.error.find("permission denied"), std::string::npos) << denied << ": " << r.error;
  }
}

}  // namespace
}  // namespace auscult::testing
