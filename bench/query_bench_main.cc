// Queries at hospital scale (issue 9, benchmark 3). Two modes:
//
//   --mode=generate  fills a database the collector has already migrated (start it once against an
//                    empty database first) with a hospital: devices over sites, wings, departments
//                    and VLANs, their evidence, addresses, classification and risk, the
//                    communication graph (hubs included) and 30 days of raw flows in the daily
//                    partitions. Rows go in with COPY; triggers are off while they do
//                    (session_replication_role = replica), as a restore would do.
//   --mode=run       asks a running collector the questions an analyst asks, over gRPC on loopback
//                    (what the CLI sees), and the same store functions directly on one database
//                    connection (the SQL alone, no gRPC), plus a primary-key round trip (the floor),
//                    and prints p50/p99/max per kind as a Markdown table.
//
// bench/run_query_bench.sh does both against a private PostgreSQL cluster. See docs/performance.md,
// "Queries at hospital scale".

#include <grpcpp/grpcpp.h>

#include <libpq-fe.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "auscult/v1/query.grpc.pb.h"
#include "bench/pg.h"
#include "collector/store/enum_names.h"
#include "collector/store/graph.h"
#include "collector/store/queries.h"
#include "common/flags.h"

ABSL_FLAG(std::string, db, "", "PostgreSQL URI of the benchmark database");
ABSL_FLAG(std::string, mode, "run", "generate | run");
ABSL_FLAG(int32_t, devices, 100000, "generate: devices");
ABSL_FLAG(int64_t, edges, 2000000, "generate: graph edges (about)");
ABSL_FLAG(int64_t, flows, 3000000, "generate: raw flows over --days");
ABSL_FLAG(int32_t, days, 30, "generate: days of flow history, ending now");
ABSL_FLAG(uint64_t, seed, 9, "random seed (the same seed makes the same hospital)");
ABSL_FLAG(std::string, collector, "127.0.0.1:7799", "run: the collector's query address (--insecure)");
ABSL_FLAG(int32_t, requests, 200, "run: requests per query kind (hub kinds: a quarter of it)");
ABSL_FLAG(std::string, only, "", "run: only the query kinds whose name holds this text");
ABSL_FLAG(int32_t, warmup, 8,
          "run: requests of each kind made and not counted first (the first statements on each of the "
          "collector's connections load PostgreSQL's catalog caches)");

namespace auscult::bench {
namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// The hospital.

constexpr const char* kSites[] = {"st-mary", "riverside", "north-campus", "childrens"};
constexpr int kSiteCount = 4;
constexpr const char* kWings[] = {"A", "B", "C", "D", "E"};
constexpr int kWingCount = 5;
constexpr int kDeptCount = 32;  // per site; department 0 is the data centre (the servers)
constexpr const char* kDeptNames[] = {
    "Data Centre", "Emergency", "ICU 1",          "ICU 2",        "Cardiology", "Radiology",   "Oncology",
    "Surgery",     "Theatres",  "Maternity",      "Neonatal ICU", "Pediatrics", "Laboratory",  "Pharmacy",
    "Outpatients", "Dialysis",  "Neurology",      "Orthopaedics", "Endoscopy",  "Day Surgery", "Ward 1",
    "Ward 2",      "Ward 3",    "Ward 4",         "Ward 5",       "Ward 6",     "Ward 7",      "Ward 8",
    "Ward 9",      "Ward 10",   "Administration", "Facilities"};

struct Model {
  const char* vendor;
  const char* model;
};

struct TypeProfile {
  const char* type;
  const char* category;
  const char* connection;
  const char* fda;
  int weight;  // per 1000 client devices
  std::vector<Model> models;
  const char* os;
};

// Vendors and models as the fact sheet (docs/medical-device-facts.md) and the rules file
// (collector/data/device_rules.txt) name them; weights roughly a general hospital's inventory.
const std::vector<TypeProfile>& Profiles() {
  static const std::vector<TypeProfile> kProfiles = {
      {"workstation",
       "it",
       "none",
       "",
       260,
       {{"Dell", "OptiPlex 7090"}, {"HP", "EliteDesk 800 G6"}, {"Lenovo", "ThinkCentre M90q"}},
       "Windows 10"},
      {"medical-workstation",
       "clinical-it",
       "none",
       "",
       30,
       {{"Siemens Healthineers", "syngo.via"}, {"Philips", "IntelliSpace Portal"}, {"GE Healthcare", "AW Server"}},
       "Windows 10"},
      {"infusion-pump",
       "medical",
       "direct",
       "II",
       180,
       {{"B. Braun", "Space Infusomat"},
        {"ICU Medical", "Plum 360"},
        {"Smiths Medical", "Medfusion 4000"},
        {"Terumo", "TE-LM800"}},
       ""},
      {"patient-monitor",
       "medical",
       "indirect",
       "II",
       130,
       {{"Philips", "IntelliVue MX450"},
        {"Philips", "IntelliVue MX800"},
        {"GE Healthcare", "CARESCAPE B650"},
        {"Mindray", "BeneVision N12"},
        {"Nihon Kohden", "Life Scope G5"},
        {"Spacelabs", "Xprezzon"}},
       ""},
      {"ventilator",
       "medical",
       "direct",
       "II",
       20,
       {{"Hamilton Medical", "HAMILTON-C6"}, {"Maquet (Getinge)", "Servo-u"}, {"ResMed", "Astral 150"}},
       ""},
      {"anesthesia-machine",
       "medical",
       "direct",
       "II",
       8,
       {{"Maquet (Getinge)", "Flow-i"}, {"GE Healthcare", "Aisys CS2"}},
       ""},
      {"dialysis-machine", "medical", "direct", "II", 6, {{"Nikkiso", "DBB-EXA"}, {"B. Braun", "Dialog+"}}, ""},
      {"ct",
       "medical",
       "indirect",
       "II",
       3,
       {{"Siemens Healthineers", "SOMATOM go.Top"}, {"GE Healthcare", "Revolution EVO"}, {"Philips", "Incisive CT"}},
       "Windows 10"},
      {"mr",
       "medical",
       "indirect",
       "II",
       2,
       {{"Siemens Healthineers", "MAGNETOM Vida"}, {"GE Healthcare", "SIGNA Premier"}},
       "Windows 10"},
      {"ultrasound",
       "medical",
       "indirect",
       "II",
       10,
       {{"Hitachi Aloka", "ARIETTA 65"}, {"Philips", "EPIQ 7"}, {"GE Healthcare", "LOGIQ E10"}},
       ""},
      {"x-ray", "medical", "indirect", "", 6, {{"Fujifilm", "FDR Go PLUS"}, {"Siemens Healthineers", "Ysio Max"}}, ""},
      {"poc-analyzer",
       "medical",
       "none",
       "II",
       20,
       {{"Roche Diagnostics", "Accu-Chek Inform II"}, {"Roche Diagnostics", "cobas b 123"}},
       ""},
      {"lab-analyzer",
       "medical",
       "none",
       "",
       10,
       {{"Sysmex", "XN-1000"}, {"bioMerieux", "VITEK 2"}, {"Roche Diagnostics", "cobas 6000"}},
       ""},
      {"ip-phone", "it", "none", "", 100, {{"Cisco", "IP Phone 8845"}, {"Polycom", "VVX 450"}}, ""},
      {"mobile-device", "it", "none", "", 60, {{"Vocera", "B3000n"}, {"Apple", "iPhone 13"}, {"Zebra", "TC52"}}, ""},
      {"printer", "it", "none", "", 40, {{"HP", "LaserJet M507"}, {"Lexmark", "MS826"}, {"Zebra", "ZD620"}}, ""},
      {"building-automation",
       "iot-building",
       "none",
       "",
       40,
       {{"Siemens", "Desigo PXC"}, {"Johnson Controls", "Metasys NAE"}, {"Honeywell", "WEB-8000"}},
       ""},
      {"camera", "it", "none", "", 30, {{"Axis", "P3245"}, {"Hanwha", "XNV-6080"}}, ""},
      {"nurse-call", "clinical-it", "none", "", 10, {{"Hill-Rom", "Voalte"}, {"Ascom", "Telligence"}}, ""},
      {"switch", "network", "none", "", 20, {{"Cisco", "Catalyst 9300"}, {"Aruba", "CX 6300"}}, ""},
      {"wireless-ap", "network", "none", "", 15, {{"Cisco", "Catalyst 9120AX"}, {"Aruba", "AP-515"}}, ""},
  };
  return kProfiles;
}

// The servers of each site and what they are: clients reach them, so some have tens of
// thousands of peers (the hubs of the graph).
enum Role {
  kDns,
  kNtp,
  kAd,
  kHl7,
  kPacs,
  kMwl,
  kEhr,
  kFile,
  kPrint,
  kWsus,
  kSyslog,
  kPumpServer,
  kCentral,
  kVoip,
  kPoctDm,
  kLis,
  kNms,
  kBms,
  kVms,
  kAv,
  kApp,
  kDmz,
  kRoleCount
};
struct RoleInfo {
  const char* name;
  int count;
  const char* type;
  const char* category;
  Model model;
};
constexpr RoleInfo kRoles[kRoleCount] = {
    {"dns", 2, "server", "it", {"Microsoft", "Windows Server 2019"}},
    {"ntp", 1, "server", "it", {"Meinberg", "LANTIME M300"}},
    {"ad", 2, "server", "it", {"Microsoft", "Windows Server 2019"}},
    {"hl7", 1, "hl7-interface-engine", "clinical-it", {"Lyniate", "Rhapsody"}},
    {"pacs", 2, "pacs", "clinical-it", {"GE Healthcare", "Centricity PACS"}},
    {"mwl", 1, "modality-worklist-server", "clinical-it", {"Siemens Healthineers", "syngo Workflow"}},
    {"ehr", 6, "server", "clinical-it", {"Dell", "PowerEdge R750"}},
    {"file", 4, "server", "it", {"Dell", "PowerEdge R740"}},
    {"print", 2, "server", "it", {"HPE", "ProLiant DL360"}},
    {"wsus", 1, "server", "it", {"HPE", "ProLiant DL380"}},
    {"syslog", 1, "server", "it", {"Dell", "PowerEdge R650"}},
    {"pumpsrv", 1, "medical-device-gateway", "medical", {"B. Braun", "Space Online Suite"}},
    {"central", 3, "medical-device-gateway", "medical", {"Philips", "IntelliVue PIC iX"}},
    {"voip", 1, "server", "it", {"Cisco", "Unified CM"}},
    {"poctdm", 1, "poct-data-manager", "clinical-it", {"Roche Diagnostics", "cobas infinity"}},
    {"lis", 1, "server", "clinical-it", {"Dell", "PowerEdge R750"}},
    {"nms", 1, "server", "it", {"Dell", "PowerEdge R650"}},
    {"bms", 1, "server", "iot-building", {"Siemens", "Desigo CC"}},
    {"vms", 1, "server", "it", {"Milestone", "Husky X8"}},
    {"av", 1, "server", "it", {"Dell", "PowerEdge R650"}},
    {"app", 16, "server", "it", {"HPE", "ProLiant DL380"}},
    {"dmz", 2, "server", "it", {"Dell", "PowerEdge R650"}},
};

struct Device {
  int64_t id = 0;
  int site = 0;
  int dept = 0;
  int profile = -1;  // index into Profiles(), or -1 for a server
  int role = -1;
  int model = 0;
  std::string ip;
  std::string mac;
  int64_t first_us = 0;
  int64_t last_us = 0;
  int vlan() const { return 100 + dept; }
  int wing() const { return dept % kWingCount; }
  std::string sensor() const { return absl::StrCat("sensor-", kSites[site], "-", kWings[wing()]); }
  Model vendor_model() const {
    return profile >= 0 ? Profiles()[static_cast<size_t>(profile)].models[static_cast<size_t>(model)]
                        : kRoles[std::max(role, 0)].model;
  }
  const char* type() const {
    return profile >= 0 ? Profiles()[static_cast<size_t>(profile)].type : kRoles[std::max(role, 0)].type;
  }
};

struct Edge {
  std::string src, dst;  // stored nodes: "d:<id>" or "a:<ip>"
  int transport = 6;
  int port = 0;
  const char* app = "";
  int64_t src_dev = 0, dst_dev = 0;  // 0: an address no device holds
  std::string src_ip, dst_ip;
  int64_t bytes_to_dst = 0, bytes_to_src = 0, packets_to_dst = 0, packets_to_src = 0, flows = 0;
  int64_t first_us = 0, last_us = 0;
  bool clinical = false, phi = false, encrypted = false, credentials = false;
  std::string sensor, site;  // the sensor that saw it, and its site
};

std::string Ts(int64_t us) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

// The generator speaks libpq directly: COPY with rows it formats itself (libpqxx 6's stream_to
// takes tuples only, and these rows have NULLs here and there).
// COPY rows; a field marked null is NULL.
class Copy {
 public:
  Copy(Pg& pg, const std::string& table, const std::vector<std::string>& columns) : pg_(pg) {
    PGresult* r =
        PQexec(pg_.get(), absl::StrCat("COPY ", table, " (", absl::StrJoin(columns, ", "), ") FROM STDIN").c_str());
    const bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    const std::string e = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) throw std::runtime_error(absl::StrCat("COPY ", table, ": ", e));
  }
  void Row(const std::vector<std::string>& fields, const std::vector<bool>& nulls = {}) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) buffer_ += '\t';
      if (i < nulls.size() && nulls[i]) {
        buffer_ += "\\N";
        continue;
      }
      for (char ch : fields[i]) {
        if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') buffer_ += '\\';
        buffer_ += ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : ch;
      }
    }
    buffer_ += '\n';
    ++rows_;
    if (buffer_.size() > (1 << 20)) Flush();
  }
  int64_t Complete() {
    Flush();
    if (PQputCopyEnd(pg_.get(), nullptr) != 1) throw std::runtime_error(PQerrorMessage(pg_.get()));
    PGresult* r = PQgetResult(pg_.get());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string e = PQresultErrorMessage(r);
    PQclear(r);
    while ((r = PQgetResult(pg_.get())) != nullptr) PQclear(r);
    if (!ok) throw std::runtime_error(absl::StrCat("COPY: ", e));
    return rows_;
  }

 private:
  void Flush() {
    if (!buffer_.empty() && PQputCopyData(pg_.get(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
      throw std::runtime_error(PQerrorMessage(pg_.get()));
    }
    buffer_.clear();
  }
  Pg& pg_;
  std::string buffer_;
  int64_t rows_ = 0;
};

class Generator {
 public:
  Generator(uint64_t seed, int devices, int64_t edges, int64_t flows, int days)
      : rng_(seed), n_devices_(devices), n_edges_(edges), n_flows_(flows), days_(days) {
    end_us_ = absl::ToUnixMicros(absl::Now()) / 3600000000LL * 3600000000LL;  // this hour
    start_us_ = end_us_ - int64_t{days} * 86400000000LL;
  }

  void Run(Pg& w) {
    const auto t0 = Clock::now();
    MakeDevices();
    MakeEdges();
    std::printf("generated in memory: %zu devices, %zu edges (%.1f s)\n", devices_.size(), edges_.size(), Since(t0));
    w.Exec("BEGIN");
    w.Exec("SET LOCAL session_replication_role = replica");  // no triggers (no 100 000 device_new events)
    w.Exec("SET LOCAL synchronous_commit = off");
    if (!w.Exec("SELECT 1 FROM devices LIMIT 1").empty()) {
      throw std::runtime_error("the database already holds devices: generate into a freshly migrated one");
    }
    rules_version_ = w.Exec("SELECT value FROM collector_settings WHERE name = 'rules_version'");
    if (rules_version_.empty()) {
      throw std::runtime_error("no rules_version: start the collector once against this database first");
    }
    Timed("sensors, segments", [&] { return WriteSensorsAndSegments(w); });
    Timed("devices", [&] { return WriteDevices(w); });
    Timed("addresses, vlans, device sensors", [&] { return WriteDeviceLinks(w); });
    Timed("evidence", [&] { return WriteEvidence(w); });
    Timed("classification, risk", [&] { return WriteClassification(w); });
    Timed("graph edges", [&] { return WriteEdges(w); });
    Timed("flow partitions", [&] { return MakePartitions(w); });
    Timed("flows, flow_phi", [&] { return WriteFlows(w); });
    // What the batches that wrote these flows would have written (migration 021).
    Timed("address_phi", [&] {
      int64_t n = 0;
      absl::SimpleAtoi(w.Exec("WITH x AS (INSERT INTO address_phi (site, ip, kind) SELECT site, ip, kind FROM "
                              "auscult_flow_address_phi() RETURNING 1) SELECT count(*) FROM x"),
                       &n);
      return n;
    });
    w.Exec("SELECT setval(pg_get_serial_sequence('devices', 'device_id'), (SELECT max(device_id) FROM devices))");
    Timed("commit", [&] {
      w.Exec("COMMIT");
      return int64_t{0};
    });
    Timed("VACUUM ANALYZE", [&] {
      w.Exec("VACUUM ANALYZE");
      return int64_t{0};
    });
    std::printf("generation took %.1f s in all\n", Since(t0));
  }

 private:
  static double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
  void Timed(const char* what, const std::function<int64_t()>& fn) {
    const auto t = Clock::now();
    const int64_t rows = fn();
    std::printf("  %-34s %10lld rows %7.1f s\n", what, static_cast<long long>(rows), Since(t));
    std::fflush(stdout);
  }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int64_t Below(int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(rng_); }
  int64_t LogNormal(double mu, double sigma) {
    return static_cast<int64_t>(std::exp(std::normal_distribution<double>(mu, sigma)(rng_)));
  }

  // Devices: per site, its servers first (data centre), then the clients spread over 31
  // departments; addresses 10.<site*40+dept+1>.<n/250>.<n%250+2> (one /20 and one VLAN per department).
  void MakeDevices() {
    int weight_total = 0;
    for (const TypeProfile& p : Profiles()) weight_total += p.weight;
    const int per_site = n_devices_ / kSiteCount;
    int64_t id = 0;
    for (int s = 0; s < kSiteCount; ++s) {
      std::vector<int> next_host(kDeptCount, 0);
      auto place = [&](Device& d) {
        const int n = next_host[static_cast<size_t>(d.dept)]++;
        d.ip = absl::StrCat("10.", s * 40 + d.dept + 1, ".", n / 250, ".", n % 250 + 2);
      };
      const int site_total = s + 1 == kSiteCount ? n_devices_ - per_site * (kSiteCount - 1) : per_site;
      const int64_t site_start = id;
      for (int r = 0; r < kRoleCount; ++r) {
        for (int k = 0; k < kRoles[r].count; ++k) {
          Device d;
          d.id = ++id;
          d.site = s;
          d.dept = 0;
          d.role = r;
          place(d);
          // The DMZ servers are reachable from outside: a public address of their own.
          if (r == kDmz) d.ip = absl::StrCat("198.51.100.", s * 8 + k + 10);
          servers_[s][r].push_back(d.id);
          devices_.push_back(std::move(d));
        }
      }
      const int clients = site_total - static_cast<int>(id - site_start);
      for (int i = 0; i < clients; ++i) {
        Device d;
        d.id = ++id;
        d.site = s;
        d.dept = 1 + static_cast<int>(static_cast<int64_t>(i) * (kDeptCount - 1) / clients);
        int w = static_cast<int>(Below(weight_total));
        for (size_t p = 0; p < Profiles().size(); ++p) {
          w -= Profiles()[p].weight;
          if (w < 0) {
            d.profile = static_cast<int>(p);
            break;
          }
        }
        d.model =
            static_cast<int>(Below(static_cast<int64_t>(Profiles()[static_cast<size_t>(d.profile)].models.size())));
        place(d);
        devices_.push_back(std::move(d));
      }
    }
    for (Device& d : devices_) {
      // A pseudo-OUI per vendor is not needed (evidence names the vendor): the MAC is unique by id.
      d.mac = absl::StrFormat("00:1b:%02x:%02x:%02x:%02x", (d.id >> 24) & 0xff, (d.id >> 16) & 0xff, (d.id >> 8) & 0xff,
                              d.id & 0xff);
      // Most devices were there when monitoring started (seen within its first two days); 5 % came later.
      d.first_us = Uniform() < 0.95 ? start_us_ + Below(2 * 86400000000LL) : start_us_ + Below(end_us_ - start_us_);
      // 92 % are active (seen this hour); the rest went quiet some time after they appeared.
      d.last_us = Uniform() < 0.92 || d.role >= 0 ? end_us_ - Below(3600000000LL)
                                                  : d.first_us + Below(std::max<int64_t>(1, end_us_ - d.first_us));
    }
  }

  const Device& Dev(int64_t id) const { return devices_[static_cast<size_t>(id - 1)]; }
  int64_t Server(int site, Role r, int64_t pick) const {
    const auto& list = servers_[site][r];
    return list[static_cast<size_t>(pick % static_cast<int64_t>(list.size()))];
  }
  // A public address: vendor clouds and internet hosts (40 networks).
  std::string PublicIp() {
    static constexpr int kFirst[] = {13, 20, 23, 34, 35, 40, 52, 54, 104, 151};
    const int64_t net = Below(40);
    return absl::StrCat(kFirst[net % 10], ".", 64 + net, ".", net * 3 % 200, ".", 1 + Below(250));
  }

  bool AddEdge(int64_t src, int64_t dst, int transport, int port, const char* app, bool clinical = false,
               bool phi = false, bool encrypted = false, const std::string& outside_src = "",
               const std::string& outside_dst = "") {
    Edge e;
    e.src_dev = src;
    e.dst_dev = dst;
    e.src = src > 0 ? absl::StrCat("d:", src) : absl::StrCat("a:", outside_src);
    e.dst = dst > 0 ? absl::StrCat("d:", dst) : absl::StrCat("a:", outside_dst);
    if (src == dst && src > 0) return false;
    e.transport = transport;
    e.port = port;
    e.app = app;
    const std::string key = absl::StrCat(e.src, "|", e.dst, "|", transport, "|", port, "|", app);
    if (!keys_.insert(key).second) return false;
    e.src_ip = src > 0 ? Dev(src).ip : outside_src;
    e.dst_ip = dst > 0 ? Dev(dst).ip : outside_dst;
    e.clinical = clinical;
    e.phi = phi;
    e.encrypted = encrypted || port == 443;
    e.credentials = !e.encrypted && (port == 80 || port == 21 || port == 23) && Uniform() < 0.2;
    int64_t first = start_us_, last = end_us_;
    for (int64_t d : {src, dst}) {
      if (d > 0) {
        first = std::max(first, Dev(d).first_us);
        last = std::min(last, Dev(d).last_us);
      }
    }
    if (last < first) last = first;
    // Most edges show up within hours of their devices; 3 % much later (new behaviour).
    e.first_us = Uniform() < 0.97 ? std::min(last, first + Below(6 * 3600000000LL)) : first + Below(last - first + 1);
    e.last_us = std::max(e.first_us, last - Below(3600000000LL));
    e.flows = 1 + LogNormal(3, 1.5);
    e.packets_to_dst = e.flows * (2 + LogNormal(2, 1));
    e.packets_to_src = e.flows * (1 + LogNormal(1.8, 1));
    e.bytes_to_dst = e.packets_to_dst * (60 + Below(900));
    e.bytes_to_src = e.packets_to_src * (60 + Below(1400));
    e.sensor = Dev(src > 0 ? src : dst).sensor();
    e.site = kSites[Dev(src > 0 ? src : dst).site];
    edges_.push_back(std::move(e));
    return true;
  }

  // The structured part: who a device of each kind talks to. Then peer-to-peer and application
  // edges with a long tail up to --edges.
  void MakeEdges() {
    edges_.reserve(static_cast<size_t>(n_edges_ + n_edges_ / 10));
    const auto& P = Profiles();
    for (const Device& d : devices_) {
      const int s = d.site;
      const int64_t i = d.id;
      AddEdge(i, Server(s, kDns, i), 17, 53, "dns");
      // Service discovery to multicast groups: addresses no device holds, with huge degree.
      if (d.role < 0 && Uniform() < 0.3) AddEdge(i, 0, 17, 5353, "mdns", false, false, false, "", "224.0.0.251");
      if (d.role < 0 && Uniform() < 0.2) AddEdge(i, 0, 17, 1900, "ssdp", false, false, false, "", "239.255.255.250");
      if (Uniform() < 0.7) AddEdge(i, Server(s, kNtp, 0), 17, 123, "ntp");
      if (d.role >= 0) {
        if (d.role != kAd) AddEdge(i, Server(s, kAd, i), 6, 389, "ldap");
        if (d.role != kSyslog) AddEdge(i, Server(s, kSyslog, 0), 17, 514, "syslog");
        if (d.role != kAv) AddEdge(i, Server(s, kAv, 0), 6, 443, "tls");
        if (d.role != kWsus) AddEdge(i, Server(s, kWsus, 0), 6, 8530, "http");
        if (d.role == kCentral) AddEdge(i, Server(s, kHl7, 0), 6, 2575, "hl7", true, true);
        if (d.role == kHl7) {
          for (int64_t k = 0; k < 6; ++k) AddEdge(i, Server(s, kEhr, k), 6, 2575, "hl7", true, true);
          AddEdge(Server(s, kLis, 0), i, 6, 2575, "hl7", true, true);
        }
        if (d.role == kDmz) {  // scanned and used from the internet
          for (int k = 0; k < 150; ++k) AddEdge(0, i, 6, 443, "tls", false, false, true, PublicIp());
        }
        continue;
      }
      const std::string type = P[static_cast<size_t>(d.profile)].type;
      if (type == "workstation" || type == "medical-workstation") {
        AddEdge(i, Server(s, kAd, i), 6, 389, "ldap");
        AddEdge(i, Server(s, kAd, i), 6, 88, "kerberos");
        AddEdge(i, Server(s, kAd, i), 6, 445, "smb");
        AddEdge(i, Server(s, kFile, Below(4)), 6, 445, "smb");
        if (Uniform() < 0.5) AddEdge(i, Server(s, kFile, Below(4)), 6, 445, "smb");
        AddEdge(i, Server(s, kPrint, i), 6, 445, "smb");
        AddEdge(i, Server(s, kWsus, 0), 6, 8530, "http");
        AddEdge(i, Server(s, kAv, 0), 6, 443, "tls");
        for (int k = 0, n = 2 + static_cast<int>(Below(3)); k < n; ++k)
          AddEdge(i, Server(s, kEhr, Below(6)), 6, 443, "tls");
        if (type == "medical-workstation" || Uniform() < 0.2) {
          AddEdge(i, Server(s, kPacs, i), 6, 104, "dicom", true, true);
        }
        if (type == "medical-workstation") AddEdge(i, Server(s, kMwl, 0), 6, 104, "dicom", true, true);
        if (Uniform() < 0.03) AddEdge(i, 0, 6, 443, "tls", false, false, true, "", PublicIp());
      } else if (type == "infusion-pump") {
        if (Uniform() < 0.7) {
          AddEdge(i, Server(s, kPumpServer, 0), 6, 443, "tls");
        } else {
          AddEdge(i, Server(s, kPumpServer, 0), 6, 80, "http");
        }
      } else if (type == "patient-monitor") {
        AddEdge(i, Server(s, kCentral, d.dept), 17, 24105, "");
        AddEdge(i, Server(s, kCentral, d.dept), 6, 2575, "hl7", true, true);
      } else if (type == "ventilator" || type == "anesthesia-machine" || type == "dialysis-machine") {
        AddEdge(i, Server(s, kCentral, d.dept), 6, 2575, "hl7", true, true);
        if (Uniform() < 0.02) AddEdge(i, 0, 6, 443, "tls", false, false, true, "", PublicIp());
      } else if (type == "ct" || type == "mr" || type == "ultrasound" || type == "x-ray") {
        AddEdge(i, Server(s, kMwl, 0), 6, 104, "dicom", true, true);
        AddEdge(i, Server(s, kPacs, i), 6, 104, "dicom", true, true);
        if (Uniform() < 0.3) AddEdge(i, 0, 6, 443, "tls", false, false, true, "", PublicIp());  // remote service
      } else if (type == "poc-analyzer") {
        AddEdge(i, Server(s, kPoctDm, 0), 6, 4000, "poct1a", true, true);
      } else if (type == "lab-analyzer") {
        AddEdge(i, Server(s, kLis, 0), 6, 2575, "hl7", true, true);
      } else if (type == "ip-phone") {
        AddEdge(i, Server(s, kVoip, 0), 17, 5060, "sip");
        AddEdge(i, Server(s, kVoip, 0), 6, 6970, "http");
      } else if (type == "mobile-device") {
        AddEdge(i, Server(s, kVoip, 0), 17, 5060, "sip");
        if (Uniform() < 0.5) AddEdge(i, Server(s, kEhr, Below(6)), 6, 443, "tls");
        if (Uniform() < 0.15) AddEdge(i, 0, 6, 443, "tls", false, false, true, "", PublicIp());
      } else if (type == "printer") {
        AddEdge(Server(s, kPrint, i), i, 6, 9100, "");
        AddEdge(Server(s, kNms, 0), i, 17, 161, "snmp");
      } else if (type == "building-automation") {
        AddEdge(i, Server(s, kBms, 0), 17, 47808, "bacnet");
        if (Uniform() < 0.05) AddEdge(i, 0, 6, 443, "tls", false, false, true, "", PublicIp());
      } else if (type == "camera") {
        AddEdge(Server(s, kVms, 0), i, 6, 554, "rtsp");
      } else if (type == "nurse-call") {
        AddEdge(i, Server(s, kApp, 0), 6, 443, "tls");
      } else if (type == "switch" || type == "wireless-ap") {
        AddEdge(Server(s, kNms, 0), i, 17, 161, "snmp");
        AddEdge(i, Server(s, kSyslog, 0), 17, 514, "syslog");
      }
    }
    // The tail: workstations and phones talking among themselves within a department (file
    // sharing, remote desktop, SSH), and applications on the site's application servers (a
    // few of them very popular). The source's degree follows a long tail.
    static constexpr struct {
      int transport, port;
      const char* app;
    } kPeer[] = {{6, 445, "smb"}, {6, 3389, "rdp"}, {6, 22, "ssh"}, {6, 8080, "http"}, {6, 139, "smb"}},
      kAppPorts[] = {{6, 443, "tls"}, {6, 8443, "tls"}, {6, 80, "http"}, {6, 1433, "tds"}, {6, 5432, "postgresql"}};
    const int64_t n = static_cast<int64_t>(devices_.size());
    for (int64_t guard = 0; static_cast<int64_t>(edges_.size()) < n_edges_ && guard < n_edges_ * 4; ++guard) {
      const Device& a = Dev(1 + Below(n));
      if (a.role >= 0) continue;
      const std::string type = Profiles()[static_cast<size_t>(a.profile)].type;
      const bool chatty = type == "workstation" || type == "medical-workstation" || type == "mobile-device";
      if (!chatty && Uniform() < 0.9) continue;
      if (Uniform() < 0.6) {
        // A peer in the same department: neighbours by id (devices are numbered by department).
        const int64_t b = std::clamp<int64_t>(a.id + Below(1201) - 600, 1, n);
        if (Dev(b).site != a.site || Dev(b).dept != a.dept) continue;
        const auto& p = kPeer[Below(5)];
        AddEdge(a.id, b, p.transport, p.port, p.app);
      } else {
        // Zipf-like: application server k with weight ~ 1/(k+1).
        const int k = std::min(15, static_cast<int>(std::pow(16.0, Uniform())) - 1);
        const auto& p = kAppPorts[Below(5)];
        AddEdge(a.id, Server(a.site, kApp, k), p.transport, p.port, p.app);
      }
    }
  }

  int64_t WriteSensorsAndSegments(Pg& w) {
    int64_t rows = 0;
    {
      Copy c(w, "sensors", {"sensor_id", "site", "wing", "version", "hostname", "first_seen", "last_seen"});
      for (int s = 0; s < kSiteCount; ++s) {
        for (int k = 0; k < kWingCount; ++k) {
          c.Row({absl::StrCat("sensor-", kSites[s], "-", kWings[k]), kSites[s], kWings[k], "bench",
                 absl::StrCat("span-", kSites[s], "-", kWings[k]), Ts(start_us_), Ts(end_us_)});
        }
      }
      rows += c.Complete();
    }
    Copy c(w, "segments", {"site", "cidr", "vlan", "wing", "department"});
    for (int s = 0; s < kSiteCount; ++s) {
      for (int d = 0; d < kDeptCount; ++d) {
        c.Row({kSites[s], absl::StrCat("10.", s * 40 + d + 1, ".0.0/20"), absl::StrCat(100 + d), kWings[d % kWingCount],
               kDeptNames[d]});
      }
    }
    return rows + c.Complete();
  }

  int64_t WriteDevices(Pg& w) {
    // device_id is GENERATED ALWAYS: COPY cannot override it, so go through a staging table.
    w.Exec("CREATE TEMP TABLE bench_devices (LIKE devices) ON COMMIT DROP");
    Copy c(w, "bench_devices",
           {"device_id", "mac", "site", "wing", "first_seen", "last_seen", "packets_sent", "bytes_sent",
            "routes_traffic"});
    for (const Device& d : devices_) {
      const int64_t packets = LogNormal(12, 1.5);
      c.Row({absl::StrCat(d.id), d.mac, kSites[d.site], kWings[d.wing()], Ts(d.first_us), Ts(d.last_us),
             absl::StrCat(packets), absl::StrCat(packets * (80 + Below(900))), "f"});
    }
    const int64_t rows = c.Complete();
    w.Exec("INSERT INTO devices OVERRIDING SYSTEM VALUE SELECT * FROM bench_devices");
    return rows;
  }

  int64_t WriteDeviceLinks(Pg& w) {
    int64_t rows = 0;
    {
      Copy c(w, "device_addresses", {"device_id", "ip", "source", "first_seen", "last_seen", "packets", "locality"});
      for (const Device& d : devices_) {
        c.Row({absl::StrCat(d.id), d.ip, d.role >= 0 ? "arp" : "dhcp", Ts(d.first_us), Ts(d.last_us), "100", "local"});
        if (d.id % 3 == 0) {  // and an IPv6 link-local address from neighbour discovery
          c.Row({absl::StrCat(d.id), absl::StrFormat("fe80::21b:%x:%x", (d.id >> 16) & 0xffff, d.id & 0xffff), "ndp",
                 Ts(d.first_us), Ts(d.last_us), "10", "local"});
        }
      }
      rows += c.Complete();
    }
    {
      Copy c(w, "device_vlans", {"device_id", "vlan", "first_seen", "last_seen"});
      for (const Device& d : devices_)
        c.Row({absl::StrCat(d.id), absl::StrCat(d.vlan()), Ts(d.first_us), Ts(d.last_us)});
      rows += c.Complete();
    }
    Copy c(w, "device_sensors", {"device_id", "sensor_id", "first_seen", "last_seen", "packets"});
    for (const Device& d : devices_) c.Row({absl::StrCat(d.id), d.sensor(), Ts(d.first_us), Ts(d.last_us), "100"});
    return rows + c.Complete();
  }

  int64_t WriteEvidence(Pg& w) {
    Copy c(w, "device_evidence",
           {"device_id", "attribute", "value", "protocol", "field", "sensor_id", "confidence", "first_seen",
            "last_seen", "count"});
    for (const Device& d : devices_) {
      const Model m = d.vendor_model();
      const std::string id = absl::StrCat(d.id), sensor = d.sensor(), first = Ts(d.first_us), last = Ts(d.last_us);
      auto row = [&](const char* attribute, const std::string& value, const char* protocol, const char* field,
                     const char* confidence) {
        c.Row({id, attribute, value, protocol, field, sensor, confidence, first, last, absl::StrCat(1 + Below(500))});
      };
      row("vendor", m.vendor, "oui", "mac", "0.5");
      std::string host =
          absl::StrCat(d.role >= 0 ? kRoles[std::max(d.role, 0)].name : d.type(), "-", kSites[d.site], "-", d.id);
      row("hostname", host, "dhcp", "hostname", "0.8");
      if (d.id % 4 != 0) row("model", m.model, d.role >= 0 ? "snmp" : "lldp", "system_description", "0.8");
      const char* os = d.profile >= 0 ? Profiles()[static_cast<size_t>(d.profile)].os : "Windows Server 2019";
      if (*os != '\0') row("os", os, "smb", "native_os", "0.8");
      if (d.profile >= 0 && std::string(Profiles()[static_cast<size_t>(d.profile)].category) == "medical") {
        row("firmware_version", absl::StrCat(1 + d.id % 4, ".", d.id % 10, ".", d.id % 7), "lldp", "firmware", "0.7");
      }
      const std::string type = d.type();
      if (type == "ct" || type == "mr" || type == "ultrasound" || type == "x-ray") {
        row("clinical_role", "dicom-scu", "dicom", "association", "0.9");
        row("dicom_ae_title", absl::StrCat(type == "x-ray" ? "DX" : type, "_", d.id), "dicom", "calling_ae", "0.9");
      }
      if (type == "pacs") row("clinical_role", "dicom-scp", "dicom", "association", "0.9");
    }
    return c.Complete();
  }

  int64_t WriteClassification(Pg& w) {
    int64_t rows = 0;
    {
      Copy c(w, "device_classification",
             {"device_id", "key", "value", "confidence", "rule_id", "rules_version", "evidence", "classified_at"});
      for (const Device& d : devices_) {
        const std::string id = absl::StrCat(d.id), at = Ts(end_us_);
        const char* category =
            d.profile >= 0 ? Profiles()[static_cast<size_t>(d.profile)].category : kRoles[std::max(d.role, 0)].category;
        const char* connection = d.profile >= 0 ? Profiles()[static_cast<size_t>(d.profile)].connection : "none";
        const char* fda = d.profile >= 0 ? Profiles()[static_cast<size_t>(d.profile)].fda : "";
        const std::string evidence = absl::StrCat("[{\"attribute\":\"vendor\",\"value\":\"", d.vendor_model().vendor,
                                                  "\",\"protocol\":\"oui\",\"field\":\"mac\"}]");
        auto row = [&](const char* key, const std::string& value, const char* confidence) {
          c.Row({id, key, value, confidence, absl::StrCat("bench-", d.type()), rules_version_, evidence, at});
        };
        row("device_type", d.type(), "0.7");
        row("category", category, "0.7");
        row("patient_connection", connection, "0.6");
        if (*fda != '\0') row("fda_class", fda, "0.6");
      }
      rows += c.Complete();
    }
    Copy c(w, "device_risk", {"device_id", "score", "factors", "computed_at"});
    for (const Device& d : devices_) {
      const std::string type = d.type();
      const std::string connection = d.profile >= 0 ? Profiles()[static_cast<size_t>(d.profile)].connection : "none";
      int impact = connection == "direct" ? 40 : connection == "indirect" ? 25 : 5;
      int weakness = static_cast<int>(Below(41));
      int exposure = static_cast<int>(Below(21));
      std::string factors = absl::StrCat(
          "[{\"factor\":\"patient_connection_", connection, "\",\"group\":\"impact\",\"points\":", impact,
          ",\"detail\":\"", type, "\"},{\"factor\":\"outdated_firmware\",\"group\":\"weakness\",\"points\":", weakness,
          ",\"detail\":\"generated\"},{\"factor\":\"reachable_networks\",\"group\":\"exposure\",\"points\":", exposure,
          ",\"detail\":\"generated\"}]");
      c.Row({absl::StrCat(d.id), absl::StrCat(std::min(100, impact + weakness + exposure)), factors, Ts(end_us_)});
    }
    return rows + c.Complete();
  }

  int64_t WriteEdges(Pg& w) {
    Copy c(w, "graph_edges",
           {"src_node", "dst_node", "transport", "port", "application", "bytes_to_dst", "bytes_to_src",
            "packets_to_dst", "packets_to_src", "flows", "first_seen", "last_seen", "clinical", "phi", "encrypted",
            "cleartext_credentials", "sensors", "site"});
    for (const Edge& e : edges_) {
      c.Row({e.src, e.dst, absl::StrCat(e.transport), absl::StrCat(e.port), e.app, absl::StrCat(e.bytes_to_dst),
             absl::StrCat(e.bytes_to_src), absl::StrCat(e.packets_to_dst), absl::StrCat(e.packets_to_src),
             absl::StrCat(e.flows), Ts(e.first_us), Ts(e.last_us), e.clinical ? "t" : "f", e.phi ? "t" : "f",
             e.encrypted ? "t" : "f", e.credentials ? "t" : "f", absl::StrCat("{", e.sensor, "}"), e.site});
    }
    return c.Complete();
  }

  int64_t MakePartitions(Pg& w) {
    // The collector makes today's and the coming days' partitions; the past days' are made here,
    // named and bounded as auscult_make_flow_partitions names them (migration 014).
    int64_t made = 0;
    for (int64_t day = start_us_ / 86400000000LL; day <= end_us_ / 86400000000LL; ++day) {
      const absl::Time t = absl::FromUnixSeconds(day * 86400);
      const std::string name = absl::StrCat("flows_p", absl::FormatTime("%Y%m%d", t, absl::UTCTimeZone()));
      w.Exec(absl::StrCat("CREATE TABLE IF NOT EXISTS ", name, " PARTITION OF flows FOR VALUES FROM ('",
                          Ts(day * 86400000000LL), "') TO ('", Ts((day + 1) * 86400000000LL), "')"));
      ++made;
    }
    return made;
  }

  int64_t WriteFlows(Pg& w) {
    int64_t rows = 0;
    std::vector<std::tuple<std::string, std::string, int64_t>> phi;  // sensor, site, flow id
    {
      Copy c(w, "flows", {"sensor_id",    "epoch",
                          "flow_id",      "vlan",
                          "inner_vlan",   "transport",
                          "application",  "src_mac",
                          "src_ip",       "src_port",
                          "dst_mac",      "dst_ip",
                          "dst_port",     "packets_to_dst",
                          "bytes_to_dst", "packets_to_src",
                          "bytes_to_src", "first_seen",
                          "last_seen",    "state",
                          "clinical",     "phi",
                          "encrypted",    "cleartext_credentials",
                          "stored_at",    "site"});
      const int64_t n = static_cast<int64_t>(edges_.size());
      for (int64_t f = 1; f <= n_flows_; ++f) {
        // Busy edges have more flows: pick one of two random edges, the one with more flows.
        const Edge& a = edges_[static_cast<size_t>(Below(n))];
        const Edge& b = edges_[static_cast<size_t>(Below(n))];
        const Edge& e = a.flows >= b.flows ? a : b;
        const int64_t first = e.first_us + Below(std::max<int64_t>(1, e.last_us - e.first_us));
        const int64_t last = first + 100000 + Below(600000000LL);
        const int64_t packets_to_dst = 2 + LogNormal(2, 1), packets_to_src = 1 + LogNormal(1.8, 1);
        const std::string src_mac = e.src_dev > 0 ? Dev(e.src_dev).mac : "",
                          dst_mac = e.dst_dev > 0 ? Dev(e.dst_dev).mac : "";
        const int vlan = e.src_dev > 0 ? Dev(e.src_dev).vlan() : Dev(e.dst_dev).vlan();
        c.Row({e.sensor,
               "1",
               absl::StrCat(f),
               absl::StrCat(vlan),
               "0",
               absl::StrCat(e.transport),
               e.app,
               src_mac,
               e.src_ip,
               absl::StrCat(32768 + Below(28000)),
               dst_mac,
               e.dst_ip,
               absl::StrCat(e.port),
               absl::StrCat(packets_to_dst),
               absl::StrCat(packets_to_dst * (60 + Below(900))),
               absl::StrCat(packets_to_src),
               absl::StrCat(packets_to_src * (60 + Below(1400))),
               Ts(first),
               Ts(last),
               "closed",
               e.clinical ? "t" : "f",
               e.phi ? "t" : "f",
               e.encrypted ? "t" : "f",
               e.credentials ? "t" : "f",
               Ts(last),
               e.site},
              {false, false, false, false, false, false, false, src_mac.empty(), false, false, dst_mac.empty()});
        if (e.phi) phi.emplace_back(e.sensor, e.site, f);
      }
      rows += c.Complete();
    }
    static constexpr const char* kKinds[] = {"demographics", "visit", "orders_results", "images", "worklist"};
    Copy c(w, "flow_phi", {"site", "sensor_id", "epoch", "flow_id", "kind", "messages"});
    for (const auto& [sensor, site, id] : phi) {
      c.Row({site, sensor, "1", absl::StrCat(id), kKinds[id % 5], absl::StrCat(1 + id % 40)});
      if (id % 3 == 0)
        c.Row({site, sensor, "1", absl::StrCat(id),
               "demographics" == std::string(kKinds[id % 5]) ? "visit" : "demographics", "1"});
    }
    return rows + c.Complete();
  }

  std::mt19937_64 rng_;
  int n_devices_;
  int64_t n_edges_, n_flows_;
  int days_;
  int64_t start_us_ = 0, end_us_ = 0;
  std::string rules_version_;
  std::vector<Device> devices_;
  std::vector<int64_t> servers_[kSiteCount][kRoleCount];
  std::vector<Edge> edges_;
  std::unordered_set<std::string> keys_;
};

// ---------------------------------------------------------------------------------------------
// The measurement.

struct Sample {
  std::vector<double> api_ms, sql_ms;
  int64_t items = 0;  // devices, nodes or edges returned (API), summed
  int64_t truncated = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

template <typename Fn>
double TimeMs(Fn&& fn) {
  const auto t = Clock::now();
  fn();
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// One request through the API and the same through the store functions, in turns first: the
// first of the two finds the device's pages colder in PostgreSQL's cache.
template <typename Api, typename Sql>
void Both(Sample& s, Api&& api, Sql&& sql) {
  if (s.api_ms.size() % 2 == 0) {
    s.api_ms.push_back(TimeMs(api));
    s.sql_ms.push_back(TimeMs(sql));
  } else {
    s.sql_ms.push_back(TimeMs(sql));
    s.api_ms.push_back(TimeMs(api));
  }
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "auscult-bench-queries: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> r, const char* what) {
  if (!r.ok()) Fail(absl::StrCat(what, ": ", r.status().ToString()));
  return *std::move(r);
}

void CheckRpc(const grpc::Status& s, const char* what) {
  if (!s.ok()) Fail(absl::StrCat(what, ": ", s.error_message()));
}

int RunBench(const std::string& uri, const std::string& target, int requests) {
  pqxx::connection c(uri);
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30))) {
    Fail(absl::StrCat("no collector at ", target));
  }
  auto stub = v1::Query::NewStub(channel);
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  auto below = [&](int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(rng); };

  // What the database holds, and the hubs: the nodes with the most edges.
  std::vector<int64_t> ids;
  std::vector<std::string> sites;
  std::vector<std::pair<std::string, int>> site_vlans;
  std::vector<std::pair<int64_t, int64_t>> hubs;
  int64_t max_us = 0;
  {
    pqxx::read_transaction t(c);
    for (const pqxx::row& r : t.exec("SELECT device_id FROM devices ORDER BY 1")) ids.push_back(r.at(0).as<int64_t>());
    for (const pqxx::row& r : t.exec("SELECT DISTINCT site FROM devices ORDER BY 1"))
      sites.push_back(r.at(0).as<std::string>());
    for (const pqxx::row& r :
         t.exec("SELECT DISTINCT d.site, v.vlan FROM devices d JOIN device_vlans v USING (device_id) ORDER BY 1, 2")) {
      site_vlans.emplace_back(r.at(0).as<std::string>(), r.at(1).as<int>());
    }
    for (const pqxx::row& r :
         t.exec("SELECT substr(node, 3)::bigint, count(*) FROM (SELECT src_node AS node FROM graph_edges UNION ALL"
                " SELECT dst_node FROM graph_edges) x WHERE node LIKE 'd:%' GROUP BY 1 ORDER BY 2 DESC LIMIT 10")) {
      hubs.emplace_back(r.at(0).as<int64_t>(), r.at(1).as<int64_t>());
    }
    max_us = t.exec1("SELECT auscult_us(max(last_seen)) FROM devices").at(0).as<int64_t>();
    const pqxx::row counts = t.exec1(
        "SELECT (SELECT count(*) FROM devices), (SELECT count(*) FROM graph_edges), (SELECT count(*) FROM flows),"
        " (SELECT count(*) FROM device_evidence), (SELECT count(*) FROM pg_inherits WHERE inhparent = "
        "'flows'::regclass),"
        " pg_size_pretty(pg_database_size(current_database()))");
    std::printf("database: %s devices, %s edges, %s flows in %s partitions, %s evidence rows, %s\n",
                counts.at(0).c_str(), counts.at(1).c_str(), counts.at(2).c_str(), counts.at(4).c_str(),
                counts.at(3).c_str(), counts.at(5).c_str());
  }
  if (ids.empty() || hubs.empty()) Fail("the database holds no devices or no graph: run --mode=generate first");
  std::printf("hubs (device id: edges):");
  for (const auto& [id, n] : hubs) std::printf(" %lld:%lld", static_cast<long long>(id), static_cast<long long>(n));
  std::printf("\n");
  static constexpr const char* kVendorWords[] = {"braun",   "philips", "mindray", "ge health",
                                                 "siemens", "dell",    "cisco",   "icu med"};

  struct Kind {
    std::string name;
    int n;
    std::function<void(Sample&, int)> run;  // one request: fills api_ms, sql_ms, items
    bool api_only = false;                  // no store function to compare with
  };
  std::vector<Kind> kinds;
  const int hub_n = std::max(1, requests / 4);
  auto random_id = [&] { return ids[static_cast<size_t>(below(static_cast<int64_t>(ids.size())))]; };
  auto hub_id = [&](int i) { return hubs[static_cast<size_t>(i) % hubs.size()].first; };

  // Primary-key lookup: the floor of any answer from this database over this connection.
  kinds.push_back({"primary-key lookup (libpq, no gRPC)", requests, [&](Sample& s, int) {
                     const int64_t id = random_id();
                     s.sql_ms.push_back(TimeMs([&] {
                       pqxx::read_transaction t(c);
                       t.exec_params1("SELECT device_id FROM devices WHERE device_id = $1::bigint", id);
                     }));
                     s.api_ms.push_back(s.sql_ms.back());
                   }});
  // The API's floor: a call the collector refuses before it asks the database (id 0 is not a
  // device id), through the same gRPC server, threads and handler as the calls below. Paced, one
  // every 10 ms, so that the run spans seconds: a stall of the server's network threads that comes
  // once a second shows in its p99 (docs/performance.md).
  kinds.push_back({"gRPC round trip (GetDevice id 0: INVALID_ARGUMENT, no SQL)", requests,
                   [&](Sample& s, int) {
                     v1::GetDeviceRequest req;
                     v1::Device d;
                     grpc::ClientContext ctx;
                     s.api_ms.push_back(TimeMs([&] {
                       if (stub->GetDevice(&ctx, req, &d).error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
                         Fail("GetDevice with id 0: expected INVALID_ARGUMENT");
                       }
                     }));
                     s.sql_ms.push_back(0);
                     std::this_thread::sleep_for(std::chrono::milliseconds(10));
                   },
                   true});
  auto get_device = [&](Sample& s, int64_t id) {
    v1::GetDeviceRequest req;
    req.set_id(id);
    v1::Device d;
    grpc::ClientContext ctx;
    Both(
        s, [&] { CheckRpc(stub->GetDevice(&ctx, req, &d), "GetDevice"); },
        [&] { Check(collector::GetDevice(c, req), "GetDevice (SQL)"); });
    s.items += 1;
  };
  kinds.push_back({"device detail, random device", requests, [&](Sample& s, int) { get_device(s, random_id()); }});
  kinds.push_back({"device detail, hub (top 10 by edges)", hub_n, [&](Sample& s, int i) { get_device(s, hub_id(i)); }});

  // A filtered list, page after page as an analyst pages (3 pages of 100, then a fresh filter).
  auto list = [&](Sample& s, int i, int page_size, bool narrow) {
    static v1::ListDevicesRequest req;
    if (i % 3 == 0) {
      req.Clear();
      const auto& [site, vlan] = site_vlans[static_cast<size_t>(below(static_cast<int64_t>(site_vlans.size())))];
      req.set_site(site);
      req.set_order(v1::ListDevicesRequest::ORDER_RISK);
      req.set_page_size(page_size);
      collector::FromMicros(max_us - (below(2) == 0 ? 86400 : 7 * 86400) * int64_t{1000000}, req.mutable_seen_since());
      if (narrow) {
        req.set_vlan(static_cast<uint32_t>(vlan));
        req.set_vendor(kVendorWords[below(8)]);
      }
    }
    v1::ListDevicesResponse r;
    grpc::ClientContext ctx;
    Both(
        s, [&] { CheckRpc(stub->ListDevices(&ctx, req, &r), "ListDevices"); },
        [&] { Check(collector::ListDevices(c, req), "ListDevices (SQL)"); });
    s.items += r.devices_size();
    req.set_page_token(r.next_page_token());
    if (r.next_page_token().empty()) req.set_page_token("");
  };
  kinds.push_back({"device list: site+vlan+vendor+seen_since, by risk, pages 1-3 of 100", requests,
                   [&](Sample& s, int i) { list(s, i, 100, true); }});
  kinds.push_back({"device list: site+seen_since, by risk, pages 1-3 of 100", requests,
                   [&](Sample& s, int i) { list(s, i, 100, false); }});
  kinds.push_back({"device list: site+seen_since, by risk, pages 1-3 of 1000 (the CLI's page)", hub_n,
                   [&](Sample& s, int i) { list(s, i, 1000, false); }});

  auto graph = [&](Sample& s, int64_t id) {
    v1::GetGraphRequest req;
    req.set_device_id(id);
    req.set_hops(2);
    v1::Graph g;
    grpc::ClientContext ctx;
    Both(
        s, [&] { CheckRpc(stub->GetGraph(&ctx, req, &g), "GetGraph"); },
        [&] { Check(collector::GetGraph(c, req), "GetGraph (SQL)"); });
    s.items += g.nodes_size();
    s.truncated += g.truncated() ? 1 : 0;
  };
  kinds.push_back(
      {"2-hop neighbourhood, random device (max_nodes 500)", requests, [&](Sample& s, int) { graph(s, random_id()); }});
  kinds.push_back({"2-hop neighbourhood, hub (max_nodes 500)", hub_n, [&](Sample& s, int i) { graph(s, hub_id(i)); }});

  auto edges = [&](Sample& s, int i, bool external, int limit) {
    v1::ListEdgesRequest req;
    if (i % 2 == 1) req.set_site(sites[static_cast<size_t>(below(static_cast<int64_t>(sites.size())))]);
    req.set_external(external);
    req.set_only_new(!external);
    req.set_limit(limit);
    v1::ListEdgesResponse r;
    grpc::ClientContext ctx;
    Both(
        s, [&] { CheckRpc(stub->ListEdges(&ctx, req, &r), "ListEdges"); },
        [&] { Check(collector::ListEdges(c, req), "ListEdges (SQL)"); });
    s.items += r.edges_size();
    s.truncated += r.truncated() ? 1 : 0;
  };
  kinds.push_back({"exposure: ListEdges external, limit 1000 (all sites / one site)", hub_n,
                   [&](Sample& s, int i) { edges(s, i, true, 1000); }});
  kinds.push_back({"exposure: ListEdges external, limit 10000 (the CLI's)", hub_n,
                   [&](Sample& s, int i) { edges(s, i, true, 10000); }});
  kinds.push_back({"new edges: ListEdges only_new, limit 1000 (all sites / one site)", hub_n,
                   [&](Sample& s, int i) { edges(s, i, false, 1000); }});

  std::printf(
      "\n| query (%d requests; hub and CLI-sized kinds %d) | API p50 | API p99 | API max | SQL alone p50 | SQL alone "
      "p99 | items per answer |\n",
      requests, hub_n);
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (Kind& k : kinds) {
    if (k.name.find(absl::GetFlag(FLAGS_only)) == std::string::npos) continue;
    Sample warm;
    for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) k.run(warm, i);
    Sample s;
    for (int i = 0; i < k.n; ++i) k.run(s, i);
    std::string items = absl::StrFormat("%.0f", static_cast<double>(s.items) / k.n);
    if (s.truncated > 0) absl::StrAppend(&items, absl::StrFormat(" (%lld cut)", static_cast<long long>(s.truncated)));
    const std::string sql_p50 = k.api_only ? "–" : absl::StrFormat("%.1f ms", Percentile(s.sql_ms, 0.5));
    const std::string sql_p99 = k.api_only ? "–" : absl::StrFormat("%.1f ms", Percentile(s.sql_ms, 0.99));
    std::printf("| %s | %.1f ms | %.1f ms | %.1f ms | %s | %s | %s |\n", k.name.c_str(), Percentile(s.api_ms, 0.5),
                Percentile(s.api_ms, 0.99), *std::max_element(s.api_ms.begin(), s.api_ms.end()), sql_p50.c_str(),
                sql_p99.c_str(),
                k.name.rfind("primary", 0) == 0 ? "1"
                : k.api_only                    ? "0"
                                                : items.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace auscult::bench

int main(int argc, char** argv) {
  auscult::ParseFlags(argc, argv, "auscult-bench-queries",
                      "Generates a hospital-sized database (--mode=generate) or measures the query API against the "
                      "same store functions on a bare connection (--mode=run). bench/run_query_bench.sh runs both.");
  const std::string uri = absl::GetFlag(FLAGS_db);
  if (uri.empty()) auscult::bench::Fail("--db=URI is needed");
  try {
    if (absl::GetFlag(FLAGS_mode) == "generate") {
      auscult::bench::Pg c(uri);
      auscult::bench::Generator g(absl::GetFlag(FLAGS_seed), absl::GetFlag(FLAGS_devices), absl::GetFlag(FLAGS_edges),
                                  absl::GetFlag(FLAGS_flows), absl::GetFlag(FLAGS_days));
      g.Run(c);
      return 0;
    }
    if (absl::GetFlag(FLAGS_mode) == "run") {
      return auscult::bench::RunBench(uri, absl::GetFlag(FLAGS_collector), absl::GetFlag(FLAGS_requests));
    }
    auscult::bench::Fail("--mode: generate or run");
  } catch (const std::exception& e) {
    auscult::bench::Fail(e.what());
  }
}
