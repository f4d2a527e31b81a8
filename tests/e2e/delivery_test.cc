// Delivery through faults (issue 8): a capture replayed through a sensor while the collector is
// killed, PostgreSQL restarts, the sensor itself is killed, or the connection between them is cut,
// leaves the database exactly as an undisturbed replay does: the same devices, evidence, flows,
// graph edges and byte and packet totals. Each test replays the same two capture sets (A, then B,
// as two sensor runs), first undisturbed into one database, then disturbed into a fresh one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;

// Two sets of bundled captures: clinical (DICOM, HL7, FHIR), identity (DHCP, DNS, LLDP/CDP) and
// plain web traffic. With --batch_size=1 set A makes some 250 batches, so that faults land mid-replay.
constexpr const char* kSetA[] = {"clinical/dicom_store_worklist.pcap",
                                 "clinical/hl7_mllp.pcap",
                                 "clinical/fhir_http.pcap",
                                 "clinical/dicom_user_identity.pcap",
                                 "dns/DnsPackets.pcap",
                                 "dhcp/dhcp.pcap",
                                 "lldp-cdp/LLDP_and_CDP.pcap",
                                 "http/get.pcap",
                                 "tls/ecdhe.pcap"};
constexpr const char* kSetB[] = {"mixed/wikipedia.pcap", "clinical/hl7_mllp_port.pcap",
                                 "clinical/dicom_reject_abort.pcap", "ethernet-vlan/twovlan.pcap"};

size_t SpoolFiles(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) n += e.path().extension() == ".batch";
  return n;
}

// A TCP relay between the sensor and the collector that can cut every connection through it and
// refuse new ones for a while: what a switch reboot or a pulled cable does to the sensor's stream.
class CuttableLink {
 public:
  explicit CuttableLink(int backend_port) : backend_port_(backend_port) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), len);
    listen(listener_, 16);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~CuttableLink() {
    stop_ = true;
    acceptor_.join();
    Cut();
    for (std::thread& t : relays_) t.join();
    close(listener_);
  }
  int port() const { return port_; }
  // Breaks every open connection.
  void Cut() {
    std::lock_guard lock(mu_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);
    ++cuts_;
  }
  // While down, connections are accepted and closed at once.
  void SetDown(bool down) { down_ = down; }
  int cuts() const { return cuts_; }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      if (down_) {
        close(client);
        continue;
      }
      const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(backend_port_));
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(server);
        close(client);
        continue;
      }
      std::lock_guard lock(mu_);
      open_.push_back(client);
      open_.push_back(server);
      relays_.emplace_back([this, client, server] { Relay(client, server); });
    }
  }
  // Copies both ways until either side ends (or is cut), then closes both.
  void Relay(int a, int b) {
    char buffer[65536];
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    bool open = true;
    while (open && !stop_) {
      if (poll(fds, 2, 100) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if (fds[i].revents == 0) continue;
        const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
        if (n <= 0) {
          open = false;
          break;
        }
        for (ssize_t done = 0; done < n;) {
          const ssize_t w = send(fds[1 - i].fd, buffer + done, static_cast<size_t>(n - done), MSG_NOSIGNAL);
          if (w <= 0) {
            open = false;
            break;
          }
          done += w;
        }
      }
    }
    std::lock_guard lock(mu_);
    std::erase(open_, a);
    std::erase(open_, b);
    close(a);
    close(b);
  }

  const int backend_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> down_{false};
  std::atomic<int> cuts_{0};
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> relays_;
  std::thread acceptor_;
};

class DeliveryTest : public CollectorTest {
 protected:
  void SetUp() override {
    CollectorTest::SetUp();
    if (IsSkipped()) return;
    auto a = CapturePaths(kSetA);
    auto b = CapturePaths(kSetB);
    if (!a || !b) GTEST_SKIP() << "bundled captures missing under tests/data/captures";
    set_a_ = *a;
    set_b_ = *b;
    char dir[] = "/tmp/auscult-spool.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    spool_ = dir;
  }
  void TearDown() override {
    CollectorTest::TearDown();
    if (!spool_.empty()) fs::remove_all(spool_);
  }

  std::vector<std::string> SensorArgv(const std::vector<std::string>& captures, int port,
                                      const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> argv = {BinaryPath("auscult-sensor"), "--collector=127.0.0.1:" + std::to_string(port),
                                     "--insecure", "--sensor_id=wing-3", "--site=test-site", "--wing=test-wing",
                                     "--batch_size=1", "--log_level=warn", "--connect_timeout=60s",
                                     "--ack_timeout=300s"};
    if (!captures.empty()) argv.push_back("--pcap=" + absl::StrJoin(captures, ","));
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  int64_t Batches() const { return std::stoll(db_->Scalar("SELECT count(*) FROM ingested_batches")); }
  std::string Totals() const { return DatabaseTotals(*db_); }

  // The undisturbed replay (A, then B) into this test's first database; then a fresh database and
  // collector for the disturbed one. Sets batches_a_.
  std::string Undisturbed() {
    const CommandResult a = RunCommand(SensorArgv(set_a_, port_));
    EXPECT_EQ(a.exit_code, 0) << a.err;
    batches_a_ = Batches();
    const CommandResult b = RunCommand(SensorArgv(set_b_, port_));
    EXPECT_EQ(b.exit_code, 0) << b.err;
    const std::string totals = Totals();
    std::cout << "undisturbed: " << totals << "\n";
    return totals;
  }
  void FreshDatabase(const std::string& admin_uri) {
    collector_->Stop();
    db_ = std::make_unique<TestDatabase>(admin_uri);
    StartCollector();
  }
  // The sensor's run of set A was disturbed; set B is replayed as before, and the totals compared.
  void FinishAndCompare(Process& sensor, const std::string& undisturbed, const std::vector<std::string>& extra = {}) {
    ASSERT_EQ(sensor.Wait(absl::Seconds(300)), 0) << sensor.Stderr();
    const CommandResult b = RunCommand(SensorArgv(set_b_, port_, extra));
    ASSERT_EQ(b.exit_code, 0) << b.err;
    const std::string disturbed = Totals();
    std::cout << "disturbed:   " << disturbed << "\n";
    EXPECT_EQ(disturbed, undisturbed);
  }

  std::vector<std::string> set_a_, set_b_;
  std::string spool_;
  int64_t batches_a_ = 0;
};

// (1) The collector is killed (SIGKILL: no cleanup, a transaction may be cut off mid-way or between
// commit and acknowledgment) and restarted three times during the replay.
TEST_F(DeliveryTest, CollectorKilledThreeTimesMidReplayLosesAndDoublesNothing) {
  const std::string undisturbed = Undisturbed();
  ASSERT_GT(batches_a_, 100);
  FreshDatabase(*AdminUri());
  Process sensor(SensorArgv(set_a_, port_));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WaitUntil([&] { return Batches() >= batches_a_ * i / 4; }, absl::Seconds(120)))
        << "stuck at " << Batches() << " batches\n"
        << sensor.Stderr();
    ASSERT_TRUE(sensor.Running()) << "the replay finished before fault " << i;
    EXPECT_EQ(collector_->Kill(), 128 + SIGKILL);
    StartCollector({}, /*same_port=*/true);
  }
  FinishAndCompare(sensor, undisturbed);
  EXPECT_NE(sensor.Stderr().find("to resend"), std::string::npos) << "the sensor never saw its stream break";
}

// (2) PostgreSQL restarts under the collector: once abruptly (immediate shutdown: crash recovery,
// a commit may be in doubt) and once with three seconds down (longer than the collector's retries,
// so that the sensor's batches are refused as unavailable and sent again).
TEST_F(DeliveryTest, PostgresRestartedTwiceMidReplayLosesAndDoublesNothing) {
  const std::string undisturbed = Undisturbed();
  // A cluster of this test's own: restarting the shared one would disturb every other test.
  const std::string dir = "/tmp/auscult-pgfault." + std::to_string(getpid());
  const std::string pg_sh = std::string(AUSCULT_SOURCE_DIR) + "/deploy/lib/pg.sh";
  const int pg_port = FreeTcpPort();
  auto pg = [&](const std::string& command) {
    const CommandResult r = RunCommand({"bash", "-c",
                                        absl::StrCat("set -e; source '", pg_sh, "'; export AUSCULT_PG_PORT=", pg_port,
                                                     "; ", command)});
    EXPECT_EQ(r.exit_code, 0) << command << ":\n" << r.err;
  };
  struct ClusterGuard {
    std::function<void()> stop;
    ~ClusterGuard() { stop(); }
  } guard{[&] {
    collector_->Stop();
    db_.reset();
    pg("auscult_pg_stop " + dir);
    fs::remove_all(dir);
  }};
  const std::string start = absl::StrCat("auscult_pg_start ", dir, " -c fsync=off");
  pg(start);
  const std::string admin = absl::StrCat("postgresql://postgres@/postgres?host=", dir, "&port=", pg_port);
  FreshDatabase(admin);

  Process sensor(SensorArgv(set_a_, port_));
  ASSERT_TRUE(WaitUntil([&] { return Batches() >= batches_a_ / 3; }, absl::Seconds(120))) << sensor.Stderr();
  pg("auscult_pg_as_owner \"$AUSCULT_PG_BIN/pg_ctl\" -D " + dir + "/data -m immediate -w restart >/dev/null");
  ASSERT_TRUE(WaitUntil([&] { return Batches() >= batches_a_ * 2 / 3; }, absl::Seconds(120))) << sensor.Stderr();
  ASSERT_TRUE(sensor.Running()) << "the replay finished before the second fault";
  pg("auscult_pg_stop " + dir);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  pg(start);
  FinishAndCompare(sensor, undisturbed);
  EXPECT_TRUE(collector_->Running()) << collector_->Stderr();
  EXPECT_NE(collector_->Stderr().find("database"), std::string::npos) << "the collector never saw the database go";
}

// (3) The sensor is killed while the collector has stopped answering (SIGSTOP: a database so slow
// that nothing is acknowledged): what it had read waits in its spool, and the restarted sensor,
// given the next captures, sends the spool first with the batches' original ids.
TEST_F(DeliveryTest, SensorKilledWithUnacknowledgedBatchesResendsThemFromItsSpool) {
  const std::string undisturbed = Undisturbed();
  FreshDatabase(*AdminUri());
  const std::vector<std::string> spool = {"--spool_dir=" + spool_};
  Process sensor(SensorArgv(set_a_, port_, spool));
  ASSERT_TRUE(WaitUntil([&] { return Batches() >= batches_a_ / 3; }, absl::Seconds(120))) << sensor.Stderr();
  collector_->Signal(SIGSTOP);
  // The sensor reads on and stores every batch; it is done when the spool stops growing.
  size_t last = 0;
  absl::Time changed = absl::Now();
  ASSERT_TRUE(WaitUntil(
      [&] {
        const size_t n = SpoolFiles(spool_);
        if (n != last) {
          last = n;
          changed = absl::Now();
        }
        return absl::Now() - changed > absl::Seconds(1);
      },
      absl::Seconds(60)));
  ASSERT_TRUE(sensor.Running());
  EXPECT_EQ(sensor.Kill(), 128 + SIGKILL);
  const size_t left = SpoolFiles(spool_);
  const int64_t applied = Batches();
  collector_->Signal(SIGCONT);
  std::cout << "spool after the kill: " << left << " batches; applied before it: " << applied << " of " << batches_a_
            << "\n";
  ASSERT_GT(left, 0u);
  // Every batch not applied is in the spool (and perhaps some applied but not yet acknowledged).
  ASSERT_GE(static_cast<int64_t>(left), batches_a_ - applied) << "batches missing from the spool";
  // The restart replays set B: the spool's batches go first.
  const CommandResult b = RunCommand(SensorArgv(set_b_, port_, spool));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find(absl::StrCat("spool: ", left, " batches from earlier runs, 0 left, 0 dropped")),
            std::string::npos)
      << b.err;
  EXPECT_EQ(SpoolFiles(spool_), 0u);
  const std::string disturbed = Totals();
  std::cout << "disturbed:   " << disturbed << "\n";
  EXPECT_EQ(disturbed, undisturbed);
}

// (4) The connection is cut three times mid-replay and stays down for a second each time.
TEST_F(DeliveryTest, LinkCutThreeTimesMidReplayLosesAndDoublesNothing) {
  const std::string undisturbed = Undisturbed();
  FreshDatabase(*AdminUri());
  CuttableLink link(port_);
  Process sensor(SensorArgv(set_a_, link.port(), {"--spool_dir=" + spool_}));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(WaitUntil([&] { return Batches() >= batches_a_ * i / 4; }, absl::Seconds(120)))
        << "stuck at " << Batches() << " batches\n"
        << sensor.Stderr();
    ASSERT_TRUE(sensor.Running()) << "the replay finished before cut " << i;
    link.SetDown(true);
    link.Cut();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    link.SetDown(false);
  }
  FinishAndCompare(sensor, undisturbed, {"--spool_dir=" + spool_});
  EXPECT_EQ(link.cuts(), 3);
  EXPECT_EQ(SpoolFiles(spool_), 0u);
}

}  // namespace
}  // namespace auscult::testing
