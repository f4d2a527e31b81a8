// Scale-out on standard parts (issue 9): collectors keep nothing of their own, so two behind nginx
// (grpc_pass, the configuration shipped in deploy/nginx) on one database store exactly what one
// collector stores from the same sensors: the same devices, evidence, flows, graph edges and
// totals. Also when one of the two is killed mid-stream and its sensors carry on through nginx to
// the other. Through nginx with mutual TLS the collector acts on the client certificate nginx
// forwards, only from a proxy: certificate, and verifies it itself.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "auscult/v1/ingest.grpc.pb.h"
#include "auscult/v1/query.grpc.pb.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;

// Four sensors with different capture sets, some seeing the same devices: ward-1 and ward-2 the
// same DICOM modality and archive, ward-1 and ward-4 the same HL7 feed. With --batch_size=1 they
// make some 300 batches between them, so that a collector dies mid-way.
// Left out: captures in which two devices hold the same address (ethernet-vlan/twovlan.pcap and
// dns/DnsPackets.pcap both have 10.0.0.1 and 10.0.0.2). A flow's end, and a fact reported by
// address, go to the device that held the address when they were stored, so which one gets them
// depends on the order of the batches, which varies from run to run with one collector as with two
// (also within one sensor: the order in which it reports a window's devices and flows varies).
struct SensorRun {
  const char* id;
  std::vector<const char*> captures;
};
const std::vector<SensorRun>& Sensors() {
  static const auto* const kSensors = new std::vector<SensorRun>{
      {"ward-1", {"clinical/dicom_store_worklist.pcap", "clinical/hl7_mllp.pcap", "dhcp/dhcp.pcap"}},
      {"ward-2", {"clinical/dicom_store_worklist.pcap", "clinical/fhir_http.pcap", "dns/DnsPackets.pcap"}},
      {"ward-3", {"mixed/wikipedia.pcap", "http/get.pcap", "lldp-cdp/LLDP_and_CDP.pcap"}},
      {"ward-4",
       {"clinical/hl7_mllp_port.pcap", "clinical/dicom_reject_abort.pcap", "tls/ecdhe.pcap", "clinical/hl7_mllp.pcap"}},
  };
  return *kSensors;
}

// nginx from the PATH or where Debian puts it, with HTTP/2 and gRPC proxying; "" when absent.
std::string NginxPath() {
  for (const char* candidate : {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"}) {
    if (access(candidate, X_OK) == 0) {
      const CommandResult v = RunCommand({candidate, "-V"});
      if (v.exit_code == 0 && v.err.find("--with-http_v2_module") != std::string::npos &&
          v.err.find("--without-http_grpc_module") == std::string::npos) {
        return candidate;
      }
    }
  }
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The shipped configuration with the test's ports and paths: each `from` must be in it (else the
// shipped file changed under the test, and the test says so rather than testing something else).
std::string Substitute(std::string text, const std::vector<std::pair<std::string, std::string>>& substitutions) {
  for (const auto& [from, to] : substitutions) {
    EXPECT_NE(text.find(from), std::string::npos) << "'" << from << "' is no longer in the shipped nginx config";
    text = absl::StrReplaceAll(text, {{from, to}});
  }
  return text;
}

// An nginx of the test's own: one process (no workers to leave behind), its pid, logs and
// temporary files in a folder, so that it needs no root; the shipped server block included.
class Nginx {
 public:
  Nginx(const std::string& binary, const std::string& dir, const std::string& server_config, int port) : dir_(dir) {
    fs::create_directories(dir);
    std::ofstream(dir + "/auscult-collectors.conf") << server_config;
    std::ofstream(dir + "/nginx.conf") << absl::StrCat(
        "master_process off;\n", "pid ", dir, "/nginx.pid;\n", "error_log ", dir, "/error.log info;\n",
        "events { worker_connections 512; }\n", "http {\n", "  access_log ", dir,
        "/access.log;\n"
        "  client_body_temp_path ",
        dir, "/body;\n  proxy_temp_path ", dir, "/proxy;\n  fastcgi_temp_path ", dir, "/fastcgi;\n",
        "  uwsgi_temp_path ", dir, "/uwsgi;\n  scgi_temp_path ", dir, "/scgi;\n", "  include ", dir,
        "/auscult-collectors.conf;\n}\n");
    process_ = std::make_unique<Process>(std::vector<std::string>{binary, "-p", dir + "/", "-e", dir + "/error.log",
                                                                  "-c", dir + "/nginx.conf", "-g", "daemon off;"});
    started_ = WaitForPort(port, absl::Seconds(20));
  }
  ~Nginx() {
    if (process_->Running()) process_->Stop();
  }
  bool started() const { return started_; }
  std::string Log() const { return process_->Stderr() + ReadFile(dir_ + "/error.log"); }

 private:
  std::string dir_;
  std::unique_ptr<Process> process_;
  bool started_ = false;
};

// The sensors a collector's log (--log_level=info) saw connect, and from where ("sensor ward-1
// connected from 127.0.0.1 via proxy:auscult-lb").
std::set<std::string> ConnectedSensors(const std::string& log, std::string* how = nullptr) {
  std::set<std::string> ids;
  static const std::regex kConnected(R"(sensor (\S+) connected from (.*))");
  for (std::sregex_iterator it(log.begin(), log.end(), kConnected), end; it != end; ++it) {
    ids.insert((*it)[1]);
    if (how != nullptr) *how = (*it)[2];
  }
  return ids;
}

// The sensors whose streams a collector holds now, by its log: connected and not yet disconnected.
std::set<std::string> ActiveSensors(const std::string& log) {
  std::set<std::string> ids;
  static const std::regex kEvent(R"(sensor (\S+) (connected from|disconnected) )");
  for (std::sregex_iterator it(log.begin(), log.end(), kEvent), end; it != end; ++it) {
    if ((*it)[2] == "disconnected") {
      ids.erase((*it)[1]);
    } else {
      ids.insert((*it)[1]);
    }
  }
  return ids;
}

// The batches a stopped collector's last log line says it applied.
int64_t AppliedBatches(const std::string& log) {
  static const std::regex kStopped(R"(stopped: (\d+) batches applied)");
  std::smatch m;
  return std::regex_search(log, m, kStopped) ? std::stoll(m[1]) : -1;
}

// A PEM as nginx's $ssl_client_escaped_cert writes it (URL-escaped), for clients that play nginx.
std::string EscapeLikeNginx(const std::string& pem) {
  std::string out;
  for (unsigned char c : pem) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

// A certificate's SHA-256 as openssl prints it, in the collector's form (lower case, no colons).
std::string Sha256Of(const std::string& pem) {
  const CommandResult r = RunCommand({"openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", pem});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string sha = absl::AsciiStrToLower(r.out.substr(r.out.find('=') + 1));
  absl::StrReplaceAll({{":", ""}, {"\n", ""}}, &sha);
  return sha;
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto admin = AdminUri();
    if (!admin) GTEST_SKIP() << "AUSCULT_TEST_PG_URI is not set: run the suite with tests/run.sh";
    admin_uri_ = *admin;
    nginx_binary_ = NginxPath();
    if (nginx_binary_.empty()) {
      GTEST_SKIP() << "nginx (with http_v2 and grpc) is not installed: apt-get install nginx (deploy/install-deps.sh)";
    }
    for (const SensorRun& s : Sensors()) {
      std::vector<std::string> paths;
      for (const char* c : s.captures) {
        const auto p = CapturePath(c);
        if (!p) GTEST_SKIP() << "bundled capture " << c << " missing under tests/data/captures";
        paths.push_back(*p);
      }
      captures_.push_back(absl::StrJoin(paths, ","));
    }
    dir_ = (fs::temp_directory_path() / absl::StrCat("auscult-scale-", getpid())).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    nginx_.reset();
    for (auto& c : collectors_) {
      if (c->Running()) c->Kill();
    }
    collectors_.clear();
    db_.reset();
    single_db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // The site's certificates: CA, the collectors' (one for both, on this host; it names the
  // grpc_ssl_name of the shipped config), nginx's proxy certificate, the four sensors', an
  // analyst's and an admin's; and a rogue CA's sensor.
  void MakePki() {
    const std::string pki = std::string(AUSCULT_SOURCE_DIR) + "/deploy/pki.sh";
    const std::string rogue = dir_ + "/rogue";
    std::vector<std::vector<std::string>> steps = {{dir_, "init"},
                                                   {dir_, "collector", "localhost", "auscult-collectors"},
                                                   {dir_, "proxy", "auscult-lb"},
                                                   {dir_, "analyst", "alice"},
                                                   {dir_, "admin", "bob"},
                                                   {rogue, "init"},
                                                   {rogue, "sensor", "ward-1"}};
    for (const SensorRun& s : Sensors()) steps.push_back({dir_, "sensor", s.id});
    for (const std::vector<std::string>& args : steps) {
      std::vector<std::string> argv = {pki};
      argv.insert(argv.end(), args.begin(), args.end());
      const CommandResult r = RunCommand(argv);
      ASSERT_EQ(r.exit_code, 0) << absl::StrJoin(args, " ") << ": " << r.err;
    }
    tls_ = true;
  }
  std::vector<std::string> As(const std::string& who, const std::string& dir = "") const {
    const std::string d = dir.empty() ? dir_ : dir;
    return {"--tls_ca=" + dir_ + "/ca.pem", "--tls_cert=" + d + "/" + who + ".pem",
            "--tls_key=" + d + "/" + who + ".key"};
  }

  // A collector on the test's current database, logging at info (the tests read who connected).
  std::unique_ptr<Process> StartCollector(int port) {
    std::vector<std::string> argv = {BinaryPath("auscult-collector"), absl::StrCat("--listen=127.0.0.1:", port),
                                     "--db=" + db_->uri(), "--log_level=info"};
    if (tls_) {
      for (std::string& flag : As("collector")) argv.push_back(std::move(flag));
    } else {
      argv.push_back("--insecure");
    }
    auto collector = std::make_unique<Process>(argv);
    EXPECT_TRUE(WaitForPort(port, absl::Seconds(60))) << "collector did not start:\n" << collector->Stderr();
    return collector;
  }

  // The four sensors at once, to `port` (a collector or nginx); nothing waited for.
  std::vector<std::unique_ptr<Process>> StartSensors(int port) {
    std::vector<std::unique_ptr<Process>> sensors;
    for (size_t i = 0; i < Sensors().size(); ++i) {
      const std::string id = Sensors()[i].id;
      std::vector<std::string> argv = {BinaryPath("auscult-sensor"),
                                       "--pcap=" + captures_[i],
                                       absl::StrCat("--collector=127.0.0.1:", port),
                                       "--sensor_id=" + id,
                                       "--site=test-site",
                                       "--wing=" + id,
                                       "--batch_size=1",
                                       "--log_level=warn",
                                       "--connect_timeout=60s",
                                       "--ack_timeout=300s"};
      if (tls_) {
        for (std::string& flag : As("sensor-" + id)) argv.push_back(std::move(flag));
      } else {
        argv.push_back("--insecure");
      }
      sensors.push_back(std::make_unique<Process>(argv));
    }
    return sensors;
  }
  static void WaitForSensors(std::vector<std::unique_ptr<Process>>& sensors) {
    for (size_t i = 0; i < sensors.size(); ++i) {
      EXPECT_EQ(sensors[i]->Wait(absl::Seconds(300)), 0) << Sensors()[i].id << ":\n" << sensors[i]->Stderr();
    }
  }
  int64_t Batches() const { return std::stoll(db_->Scalar("SELECT count(*) FROM ingested_batches")); }

  // The four sensors straight into one collector on a fresh database: what the balanced runs
  // must equal. Leaves the test on a fresh database for the next run.
  std::string SingleCollectorTotals() {
    db_ = std::make_unique<TestDatabase>(admin_uri_);
    const int port = FreeTcpPort();
    std::unique_ptr<Process> collector = StartCollector(port);
    std::vector<std::unique_ptr<Process>> sensors = StartSensors(port);
    WaitForSensors(sensors);
    single_batches_ = Batches();
    const std::string totals = DatabaseTotals(*db_);
    std::cout << "one collector:      " << totals << "\n";
    EXPECT_EQ(collector->Stop(), 0) << collector->Stderr();
    EXPECT_EQ(ConnectedSensors(collector->Stderr()).size(), Sensors().size()) << collector->Stderr();
    single_db_ = std::move(db_);
    db_ = std::make_unique<TestDatabase>(admin_uri_);
    return totals;
  }

  // The balanced run's totals equal the single collector's; when not, the edges that differ.
  void ExpectTotalsOfSingleCollector(const std::string& single, const std::string& balanced) {
    EXPECT_EQ(balanced, single);
    if (balanced == single) return;
    auto differ = [](const std::vector<std::string>& one, const std::vector<std::string>& two) {
      for (const std::string& line : one) {
        if (std::find(two.begin(), two.end(), line) == two.end())
          std::cout << "  only with one collector: " << line << "\n";
      }
      for (const std::string& line : two) {
        if (std::find(one.begin(), one.end(), line) == one.end())
          std::cout << "  only behind nginx:       " << line << "\n";
      }
    };
    differ(DatabaseEdgeLines(*single_db_), DatabaseEdgeLines(*db_));
    constexpr char kEvidence[] =
        "SELECT concat_ws(' ', coalesce(d.mac::text, host(d.identity_ip)), e.attribute, e.value, e.protocol, "
        "e.field, e.sensor_id, e.count) FROM device_evidence e JOIN devices d USING (device_id) ORDER BY 1";
    auto lines = [&](const TestDatabase& db) {
      std::vector<std::string> out;
      for (const auto& row : db.Rows(kEvidence)) out.push_back(row.at(0));
      return out;
    };
    differ(lines(*single_db_), lines(*db_));
  }

  // Two collectors on the current database, and nginx in front of them with the shipped
  // configuration (mutual TLS or plain text); returns nginx's port.
  int StartBalancedCollectors() {
    const int a = FreeTcpPort();
    const int b = FreeTcpPort();
    const int front = FreeTcpPort();
    collectors_.push_back(StartCollector(a));
    collectors_.push_back(StartCollector(b));
    std::string config;
    if (tls_) {
      config = Substitute(ReadFile(std::string(AUSCULT_SOURCE_DIR) + "/deploy/nginx/auscult-collectors.conf"),
                          {{"/etc/auscult/pki/", dir_ + "/"},
                           {"server 10.0.0.11:7740", absl::StrCat("server 127.0.0.1:", a)},
                           {"server 10.0.0.12:7740", absl::StrCat("server 127.0.0.1:", b)},
                           {"listen 7740 ", absl::StrCat("listen 127.0.0.1:", front, " ")}});
    } else {
      config = Substitute(ReadFile(std::string(AUSCULT_SOURCE_DIR) + "/deploy/nginx/auscult-collectors-insecure.conf"),
                          {{"server 127.0.0.1:7741", absl::StrCat("server 127.0.0.1:", a)},
                           {"server 127.0.0.1:7742", absl::StrCat("server 127.0.0.1:", b)},
                           {"listen 127.0.0.1:7740 ", absl::StrCat("listen 127.0.0.1:", front, " ")}});
    }
    nginx_ = std::make_unique<Nginx>(nginx_binary_, dir_ + "/nginx", config, front);
    EXPECT_TRUE(nginx_->started()) << "nginx did not start:\n" << nginx_->Log();
    return front;
  }

  std::string admin_uri_;
  std::string nginx_binary_;
  std::vector<std::string> captures_;  // each sensor's, comma-separated
  std::string dir_;
  bool tls_ = false;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<TestDatabase> single_db_;  // the single collector's, for the differences
  std::vector<std::unique_ptr<Process>> collectors_;
  std::unique_ptr<Nginx> nginx_;
  int64_t single_batches_ = 0;
};

// (1) Mutual TLS end to end: sensors -> nginx (verifies them, forwards their certificates) ->
// two collectors (verify nginx as proxy:auscult-lb and each forwarded certificate) -> one database.
TEST_F(ScaleOutTest, TwoCollectorsBehindNginxStoreExactlyWhatOneStores) {
  MakePki();
  const std::string single = SingleCollectorTotals();
  ASSERT_GT(single_batches_, 200);
  const int front = StartBalancedCollectors();
  ASSERT_TRUE(nginx_->started());
  std::vector<std::unique_ptr<Process>> sensors = StartSensors(front);
  WaitForSensors(sensors);
  const std::string balanced = DatabaseTotals(*db_);
  std::cout << "two behind nginx:   " << balanced << "\n";
  ExpectTotalsOfSingleCollector(single, balanced);

  // Roles hold through nginx: the analyst's forwarded certificate may list the sensors; a
  // sensor's may not, even when the client sends an admin's certificate in the header itself
  // (nginx replaces it with the one it verified).
  const CommandResult analyst = RunCommand([&] {
    std::vector<std::string> argv = {BinaryPath("auscult"), absl::StrCat("--collector=127.0.0.1:", front), "sensors"};
    for (std::string& flag : As("analyst-alice")) argv.push_back(std::move(flag));
    return argv;
  }());
  EXPECT_EQ(analyst.exit_code, 0) << analyst.err;
  for (const SensorRun& s : Sensors()) EXPECT_NE(analyst.out.find(s.id), std::string::npos) << analyst.out;
  {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(dir_ + "/ca.pem");
    options.pem_cert_chain = ReadFile(dir_ + "/sensor-ward-1.pem");
    options.pem_private_key = ReadFile(dir_ + "/sensor-ward-1.key");
    auto stub =
        v1::Query::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", front), grpc::SslCredentials(options)));
    grpc::ClientContext context;
    context.AddMetadata("x-auscult-client-cert", EscapeLikeNginx(ReadFile(dir_ + "/admin-bob.pem")));
    v1::ListSensorsResponse response;
    const grpc::Status s = stub->ListSensors(&context, v1::ListSensorsRequest(), &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  }

  // Both collectors took streams, and between them applied every batch once; each sensor's row
  // names its own certificate (forwarded), not nginx's.
  std::set<std::string> all;
  int64_t applied = 0;
  for (auto& c : collectors_) {
    ASSERT_EQ(c->Stop(), 0) << c->Stderr();
    std::string how;
    const std::set<std::string> ids = ConnectedSensors(c->Stderr(), &how);
    EXPECT_FALSE(ids.empty()) << "a collector behind nginx received no stream:\n" << c->Stderr();
    EXPECT_NE(how.find("via proxy:auscult-lb"), std::string::npos) << how;
    all.insert(ids.begin(), ids.end());
    const int64_t n = AppliedBatches(c->Stderr());
    EXPECT_GT(n, 0) << c->Stderr();
    std::cout << "a collector behind nginx applied " << n << " batches of " << absl::StrJoin(ids, ", ") << "\n";
    applied += n;
  }
  EXPECT_EQ(all.size(), Sensors().size());
  EXPECT_EQ(applied, Batches());
  for (const SensorRun& s : Sensors()) {
    EXPECT_EQ(db_->Scalar(absl::StrCat("SELECT certificate_sha256 FROM sensors WHERE sensor_id = '", s.id, "'")),
              Sha256Of(dir_ + "/sensor-" + s.id + ".pem"))
        << s.id;
  }
}

// (2) Plain text (--insecure, the shipped lab config): one of the two collectors is killed
// (SIGKILL) while it holds streams; its sensors reconnect through nginx to the other and resend
// what was not acknowledged. Nothing is lost or doubled.
TEST_F(ScaleOutTest, ACollectorKilledMidStreamLeavesItsSensorsToTheOther) {
  const std::string single = SingleCollectorTotals();
  const int front = StartBalancedCollectors();
  ASSERT_TRUE(nginx_->started());
  std::vector<std::unique_ptr<Process>> sensors = StartSensors(front);
  // Both collectors took streams (least_conn spreads the four), and a third of the batches is in.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return !ConnectedSensors(collectors_[0]->Stderr()).empty() &&
               !ConnectedSensors(collectors_[1]->Stderr()).empty() && Batches() >= single_batches_ / 3;
      },
      absl::Seconds(120)))
      << "batches: " << Batches() << "\n"
      << collectors_[0]->Stderr() << collectors_[1]->Stderr();
  // The victim is the collector holding more streams now (a sensor with short captures may be done).
  if (ActiveSensors(collectors_[1]->Stderr()).size() > ActiveSensors(collectors_[0]->Stderr()).size()) {
    std::swap(collectors_[0], collectors_[1]);
  }
  const std::set<std::string> on_killed = ActiveSensors(collectors_[0]->Stderr());
  ASSERT_FALSE(on_killed.empty()) << "the sensors finished before the kill";
  EXPECT_EQ(collectors_[0]->Kill(), 128 + SIGKILL);
  const int64_t at_kill = Batches();
  WaitForSensors(sensors);
  const std::string balanced = DatabaseTotals(*db_);
  std::cout << "killed at " << at_kill << " of " << single_batches_ << " batches: " << balanced << "\n";
  ExpectTotalsOfSingleCollector(single, balanced);
  // The streams of the killed collector broke, and their sensors finished on the other.
  std::string resent;
  for (auto& s : sensors) {
    if (s->Stderr().find("to resend") != std::string::npos) resent += s->Stderr();
  }
  EXPECT_FALSE(resent.empty()) << "no sensor saw its stream break";
  ASSERT_EQ(collectors_[1]->Stop(), 0) << collectors_[1]->Stderr();
  const std::set<std::string> on_survivor = ConnectedSensors(collectors_[1]->Stderr());
  std::vector<std::string> moved;
  for (const std::string& id : on_killed) {
    if (on_survivor.contains(id)) moved.push_back(id);
  }
  EXPECT_FALSE(moved.empty()) << "no sensor of the killed collector reconnected to the other:\n"
                              << collectors_[1]->Stderr();
  std::cout << "moved to the surviving collector: " << absl::StrJoin(moved, ", ") << "\n";
}

// (3) What a collector takes from a proxy, talking to it directly as nginx would (gRPC with the
// header): a forwarded certificate is honoured only on a proxy: connection, and only once the
// collector verified it against its own CA; a proxy by itself has no role.
TEST_F(ScaleOutTest, ACollectorHonoursForwardedCertificatesOnlyFromAProxyAndVerifiesThem) {
  MakePki();
  db_ = std::make_unique<TestDatabase>(admin_uri_);
  const int port = FreeTcpPort();
  collectors_.push_back(StartCollector(port));
  const std::string target = absl::StrCat("127.0.0.1:", port);
  auto channel_as = [&](const std::string& who) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(dir_ + "/ca.pem");
    options.pem_cert_chain = ReadFile(dir_ + "/" + who + ".pem");
    options.pem_private_key = ReadFile(dir_ + "/" + who + ".key");
    return grpc::CreateChannel(target, grpc::SslCredentials(options));
  };
  // ListSensors as `who`, forwarding `forwarded` (a header value; none when empty).
  auto list_sensors = [&](const std::string& who, const std::string& forwarded) {
    auto stub = v1::Query::NewStub(channel_as(who));
    grpc::ClientContext context;
    if (!forwarded.empty()) context.AddMetadata("x-auscult-client-cert", forwarded);
    v1::ListSensorsResponse response;
    return stub->ListSensors(&context, v1::ListSensorsRequest(), &response);
  };
  auto cert = [&](const std::string& path) { return EscapeLikeNginx(ReadFile(path)); };
  struct Case {
    const char* what;
    std::string who, forwarded;
    grpc::StatusCode expected;
  };
  const std::vector<Case> cases = {
      {"an analyst forwarded by the proxy", "proxy-auscult-lb", cert(dir_ + "/analyst-alice.pem"), grpc::OK},
      {"the analyst directly", "analyst-alice", "", grpc::OK},
      {"the proxy by itself", "proxy-auscult-lb", "", grpc::PERMISSION_DENIED},
      {"a sensor forwarded by the proxy", "proxy-auscult-lb", cert(dir_ + "/sensor-ward-1.pem"),
       grpc::PERMISSION_DENIED},
      {"an analyst claiming an admin", "analyst-alice", cert(dir_ + "/admin-bob.pem"), grpc::PERMISSION_DENIED},
      {"a rogue CA's certificate forwarded", "proxy-auscult-lb", cert(dir_ + "/rogue/sensor-ward-1.pem"),
       grpc::PERMISSION_DENIED},
      {"the proxy forwarding itself", "proxy-auscult-lb", cert(dir_ + "/proxy-auscult-lb.pem"),
       grpc::PERMISSION_DENIED},
      {"the collector's server certificate forwarded", "proxy-auscult-lb", cert(dir_ + "/collector.pem"),
       grpc::PERMISSION_DENIED},
      {"a malformed escape", "proxy-auscult-lb", "-----BEGIN%ZZ", grpc::PERMISSION_DENIED},
      {"not a certificate", "proxy-auscult-lb", "hello", grpc::PERMISSION_DENIED},
  };
  for (const Case& c : cases) {
    const grpc::Status s = list_sensors(c.who, c.forwarded);
    EXPECT_EQ(s.error_code(), c.expected) << c.what << ": " << s.error_message();
  }

  // A sensor's stream forwarded by the proxy: applied as that sensor, its certificate recorded
  // (and so revocable); the same batch of another sensor id is refused.
  std::vector<v1::ObservationBatch> batches = SensorBatches(*CapturePath("clinical/hl7_mllp.pcap"), {});
  ASSERT_FALSE(batches.empty());
  batches[0].mutable_sensor()->set_sensor_id("ward-1");
  auto stream_as = [&](const std::string& who, const std::string& forwarded, const v1::ObservationBatch& batch) {
    auto stub = v1::Ingest::NewStub(channel_as(who));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!forwarded.empty()) context.AddMetadata("x-auscult-client-cert", forwarded);
    auto stream = stub->Stream(&context);
    v1::BatchAck ack;
    const bool acked = stream->Write(batch) && stream->Read(&ack);
    stream->WritesDone();
    const grpc::Status s = stream->Finish();
    return acked && s.ok() ? grpc::Status::OK : s;
  };
  EXPECT_TRUE(stream_as("proxy-auscult-lb", cert(dir_ + "/sensor-ward-1.pem"), batches[0]).ok());
  EXPECT_EQ(db_->Scalar("SELECT certificate_sha256 FROM sensors WHERE sensor_id = 'ward-1'"),
            Sha256Of(dir_ + "/sensor-ward-1.pem"));
  v1::ObservationBatch other = batches[0];
  other.mutable_sensor()->set_sensor_id("ward-2");
  EXPECT_EQ(stream_as("proxy-auscult-lb", cert(dir_ + "/sensor-ward-1.pem"), other).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stream_as("proxy-auscult-lb", "", batches[0]).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Batches(), 1);
}

// (4) Two collectors make the coming days' flow partitions at once (each does at start and every
// hour): the second waits for the first and finds them made, instead of failing "already exists"
// (which stopped a collector starting beside another; migration 017).
TEST_F(ScaleOutTest, TwoCollectorsMakingTheSameFlowPartitionsAtOnceBothSucceed) {
  db_ = std::make_unique<TestDatabase>(admin_uri_);
  {
    const int port = FreeTcpPort();
    std::unique_ptr<Process> collector = StartCollector(port);  // migrates the database
    ASSERT_EQ(collector->Stop(), 0) << collector->Stderr();
  }
  pqxx::connection first(db_->uri());
  pqxx::connection second(db_->uri());
  const int second_pid = second.backendpid();
  pqxx::work w(first);
  // Days 4 and 5 from now: the collector made 0 to 3.
  EXPECT_EQ(w.exec1("SELECT auscult_make_flow_partitions(5)").at(0).as<int>(), 2);
  std::future<std::string> racing = std::async(std::launch::async, [&]() -> std::string {
    try {
      pqxx::work w2(second);
      const int made = w2.exec1("SELECT auscult_make_flow_partitions(5)").at(0).as<int>();
      w2.commit();
      return absl::StrCat("made ", made);
    } catch (const std::exception& e) {
      return e.what();
    }
  });
  // The second is blocked on the first's uncommitted work before the first commits.
  pqxx::connection observer(db_->uri());
  ASSERT_TRUE(WaitUntil(
      [&] {
        pqxx::nontransaction n(observer);
        return n.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                              second_pid)
                   .at(0)
                   .as<int>() == 1;
      },
      absl::Seconds(30)));
  w.commit();
  EXPECT_EQ(racing.get(), "made 0");
}

}  // namespace
}  // namespace auscult::testing
