// Live capture on veth pairs. The frames of a bundled capture are sent into the sensor's interface
// from the far end of a veth pair that lives in a private network namespace, so the test knows
// exactly what crossed the wire: the sensor must count every frame, report the flows and devices
// those frames carry, and transmit nothing itself.
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "auscult/v1/observation.pb.h"
#include "sensor/testing.h"
#include "tests/support/test_support.h"

namespace auscult::testing {
namespace {

constexpr uint32_t kEthernetHeaderLength = 14;

// `ip ARGS...`: "" when it succeeded, else the command and what it said.
std::string Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = RunCommand(argv, absl::Seconds(20));
  if (r.exit_code == 0) return "";
  return absl::StrCat(absl::StrJoin(argv, " "), ": exit ", r.exit_code, ": ", absl::StripAsciiWhitespace(r.err));
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(s.str()));
}

// A number from /sys/class/net/<interface>/<name> (e.g. "mtu", "statistics/tx_packets"); -1 when
// it cannot be read.
int64_t InterfaceNumber(const std::string& interface, const std::string& name) {
  int64_t n = -1;
  if (!absl::SimpleAtoi(ReadText(absl::StrCat("/sys/class/net/", interface, "/", name)), &n)) return -1;
  return n;
}

// Turns IPv6 off on an interface of the calling thread's network namespace (sysctl files follow
// the thread's namespace). Without it the kernel sends router solicitations, duplicate address
// detection and MLD reports as soon as the link is up: frames that neither end of the test made.
std::string DisableIpv6(const std::string& interface) {
  // A kernel without IPv6 sends none of it either.
  if (!std::filesystem::exists("/proc/sys/net/ipv6")) return "";
  const std::string path = absl::StrCat("/proc/sys/net/ipv6/conf/", interface, "/disable_ipv6");
  std::ofstream out(path);
  out << "1\n";
  out.close();
  if (!out) return absl::StrCat("cannot write ", path);
  return "";
}

struct VethPair {
  std::string outer;  // in the root namespace: the sensor captures here
  std::string inner;  // in the lab's namespace: the test sends from here
};

// A network namespace of its own with veth pairs into it. Everything it made goes away with it,
// whatever the test's outcome: the root-side interfaces must not outlive the test.
class VethLab {
 public:
  VethLab() : serial_(next_serial_++), ns_(absl::StrCat("auscult-", getpid(), "-", serial_)) {}
  ~VethLab() {
    // Deleting one end of a veth pair deletes both; deleting the namespace would take the inner ends
    // (and so the pairs) with it too, but the root-side ends are what matters, so delete them first.
    for (const VethPair& p : pairs_) Ip({"link", "del", p.outer});
    if (created_) Ip({"netns", "del", ns_});
  }
  VethLab(const VethLab&) = delete;
  VethLab& operator=(const VethLab&) = delete;

  // "" once the namespace exists, else why not (then this host cannot run the test).
  std::string CreateNamespace() {
    std::string why = Ip({"netns", "add", ns_});
    created_ = why.empty();
    return why;
  }

  // A new veth pair, both ends up and silent. "" on success.
  std::string AddPair(VethPair& pair) {
    // The pid keeps names apart from concurrent runs (ctest runs tests in processes of their own);
    // interface names have 15 characters at most, "asc4194304-99b" is 14.
    pair.outer =
        absl::StrCat("asc", getpid(), "-", serial_ % 100, std::string(1, static_cast<char>('a' + pairs_.size())));
    pair.inner = absl::StrCat("in", pairs_.size());
    if (std::string why = Ip({"link", "add", pair.outer, "type", "veth", "peer", "name", pair.inner, "netns", ns_});
        !why.empty()) {
      return why;
    }
    pairs_.push_back(pair);
    // Both ends silent before they come up; ARP off on the capture end as well, so that the kernel
    // never answers an injected ARP request for an address this host happens to own.
    if (std::string why = DisableIpv6(pair.outer); !why.empty()) return why;
    if (std::string why = InNamespace([&] { return DisableIpv6(pair.inner); }); !why.empty()) return why;
    // The outer end first: an end that comes up when its peer already is gets its carrier, and with it
    // a working transmit queue, at once; otherwise the queue starts later, asynchronously, and frames
    // sent meanwhile are dropped.
    if (std::string why = Ip({"link", "set", pair.outer, "arp", "off", "up"}); !why.empty()) return why;
    if (std::string why = Ip({"-n", ns_, "link", "set", pair.inner, "up"}); !why.empty()) return why;
    for (int i = 0; i < 100 && ReadText("/sys/class/net/" + pair.outer + "/operstate") != "up"; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::string state = ReadText("/sys/class/net/" + pair.outer + "/operstate");
    if (state != "up") return absl::StrCat(pair.outer, " is ", state, ", not up");
    return "";
  }

  // A packet socket that sends on `inner`, an interface of the namespace; -1 and `why` on failure.
  int OpenSender(const std::string& inner, std::string& why) {
    int fd = -1;
    why = InNamespace([&]() -> std::string {
      // if_nametoindex() looks the name up in the thread's namespace: it must come after setns().
      const unsigned index = if_nametoindex(inner.c_str());
      if (index == 0) return absl::StrCat("if_nametoindex(", inner, "): ", strerror(errno));
      // Protocol 0: the socket only sends; it is never handed a frame that arrives on `inner`.
      fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
      if (fd < 0) return absl::StrCat("socket(AF_PACKET): ", strerror(errno));
      sockaddr_ll addr{};
      addr.sll_family = AF_PACKET;
      addr.sll_ifindex = static_cast<int>(index);
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string error = absl::StrCat("bind to ", inner, ": ", strerror(errno));
        close(fd);
        fd = -1;
        return error;
      }
      return "";
    });
    return fd;
  }

 private:
  // Runs fn on a thread that has entered the namespace. setns() moves only the calling thread, so
  // the test's own thread stays where it is; what fn makes there (a socket) stays in the namespace
  // after the thread has ended.
  std::string InNamespace(const std::function<std::string()>& fn) {
    std::string why;
    std::thread([&] {
      const std::string path = "/var/run/netns/" + ns_;
      const int ns_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns_fd < 0) {
        why = absl::StrCat("open ", path, ": ", strerror(errno));
        return;
      }
      const int rc = setns(ns_fd, CLONE_NEWNET);
      const int setns_errno = errno;
      close(ns_fd);
      if (rc != 0) {
        why = absl::StrCat("setns(", path, "): ", strerror(setns_errno));
        return;
      }
      why = fn();
    }).join();
    return why;
  }

  static inline int next_serial_ = 0;
  int serial_;
  std::string ns_;
  bool created_ = false;
  std::vector<VethPair> pairs_;
};

// What the sensor printed, added up over its batches.
struct SensorReport {
  int batches = 0;
  uint64_t flow_packets = 0;
  std::set<std::string> device_macs;
  std::set<std::string> ip_devices;  // devices known only by address, behind a router
  v1::SensorStats stats;  // of the last batch: the stats are cumulative
  std::set<std::vector<std::string>> sources;
};

// Adds up the batches of --output=jsonl.
SensorReport ParseBatches(const std::string& jsonl) {
  SensorReport report;
  for (absl::string_view line : absl::StrSplit(jsonl, '\n', absl::SkipEmpty())) {
    v1::ObservationBatch b;
    const auto status = google::protobuf::util::JsonStringToMessage(std::string(line), &b);
    EXPECT_TRUE(status.ok()) << status << ": " << line;
    ++report.batches;
    for (const auto& f : b.flows()) report.flow_packets += f.to_responder().packets() + f.to_initiator().packets();
    for (const auto& d : b.devices()) {
      if (d.mac().empty()) {
        report.ip_devices.insert(d.ip());
      } else {
        report.device_macs.insert(d.mac());
      }
    }
    report.stats = b.stats();
    report.sources.insert({b.sensor().sources().begin(), b.sensor().sources().end()});
  }
  return report;
}

// The packet count of the sensor's last "stats: N packets ..." line on stderr; 0 before the first.
uint64_t LoggedPackets(const std::string& log) {
  const size_t at = log.rfind("stats: ");
  if (at == std::string::npos) return 0;
  const absl::string_view rest = absl::string_view(log).substr(at + 7);
  uint64_t n = 0;
  if (!absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &n)) return 0;
  return n;
}

std::string MacText(const uint8_t* mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

// Runs the sensor on the pairs' outer ends, sends the capture's frames from their inner ends (frame
// i on pair i % n, so that the sensor reads several interfaces at once) and checks what it reports
// against what was sent.
void InjectAndCheck(VethLab& lab, const std::vector<VethPair>& pairs, const std::string& capture) {
  std::vector<std::string> outer;
  std::vector<int> senders;
  for (const VethPair& p : pairs) {
    outer.push_back(p.outer);
    std::string why;
    senders.push_back(lab.OpenSender(p.inner, why));
    ASSERT_GE(senders.back(), 0) << why;
  }
  struct Closer {
    std::vector<int>& fds;
    ~Closer() {
      for (int fd : fds) {
        if (fd >= 0) close(fd);
      }
    }
  } closer{senders};

  // Frames the veth cannot carry are left out of the expectation: longer than the MTU plus the
  // Ethernet header (the sending socket refuses them), or too short to have a header at all.
  // Both ends of a pair have the same MTU.
  int64_t mtu = -1;
  for (const std::string& o : outer) {
    const int64_t m = InterfaceNumber(o, "mtu");
    ASSERT_GT(m, 0) << "no MTU for " << o;
    if (mtu < 0 || m < mtu) mtu = m;
  }
  const uint32_t max_frame = static_cast<uint32_t>(mtu) + kEthernetHeaderLength;

  std::vector<int64_t> tx_before, rx_before;
  for (const std::string& o : outer) {
    tx_before.push_back(InterfaceNumber(o, "statistics/tx_packets"));
    rx_before.push_back(InterfaceNumber(o, "statistics/rx_packets"));
    ASSERT_GE(tx_before.back(), 0) << o;
    ASSERT_GE(rx_before.back(), 0) << o;
  }

  const std::string interfaces = absl::StrJoin(outer, ",");
  Process sensor({BinaryPath("auscult-sensor"), "--interface=" + interfaces, "--output=jsonl", "--report_interval=1s",
                  "--stats_interval=200ms", "--log_level=info"});
  // It logs "capturing on IF1,IF2" once every interface is open: frames sent before would be lost.
  const std::string ready = "capturing on " + interfaces;
  for (int i = 0; i < 200 && sensor.Running() && sensor.Stderr().find(ready) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(sensor.Stderr().find(ready), std::string::npos) << sensor.Stderr();

  std::map<int, uint32_t> sent;  // frame number (from 1, as tshark counts) -> length on the wire
  std::set<std::string> source_macs;
  std::vector<int64_t> sent_on(pairs.size(), 0);
  int skipped = 0;
  int number = 0;
  ASSERT_NO_FATAL_FAILURE(auscult::sensor::testing::ForEachFrame(capture, [&](const auscult::sensor::RawFrame& f) {
    ++number;
    if (::testing::Test::HasFatalFailure()) return;  // one failed send is enough to report
    ASSERT_EQ(f.link_type, 1) << "frame " << number << " is not Ethernet (DLT_EN10MB)";
    if (f.captured_length > max_frame || f.captured_length < kEthernetHeaderLength) {
      ++skipped;
      return;
    }
    const size_t k = sent.size() % pairs.size();
    const ssize_t n = send(senders[k], f.data, f.captured_length, 0);
    ASSERT_EQ(n, static_cast<ssize_t>(f.captured_length))
        << "frame " << number << " on " << pairs[k].inner << ": " << strerror(errno);
    sent[number] = f.wire_length;
    ++sent_on[k];
    // Only a unicast, non-zero source MAC makes a device.
    const uint8_t* src = f.data + 6;
    const bool group = (src[0] & 1) != 0;
    const bool zero = std::all_of(src, src + 6, [](uint8_t b) { return b == 0; });
    if (!group && !zero) source_macs.insert(MacText(src));
  }));
  ASSERT_FALSE(sent.empty());
  std::cerr << "sent " << sent.size() << " frames of " << capture << " on " << interfaces << ", skipped " << skipped
            << " too long for MTU " << mtu << "\n";

  // Every frame sent reached the capture end: what the sensor misses from here on, it missed itself.
  for (size_t k = 0; k < pairs.size(); ++k) {
    EXPECT_EQ(InterfaceNumber(outer[k], "statistics/rx_packets") - rx_before[k], sent_on[k])
        << "frames that reached " << outer[k]
        << " are not those sent: the kernel dropped some, or sent some of its own";
  }

  // Stop once the sensor has read them all, as its stats line says (--output=jsonl reaches stdout
  // only when a buffer fills or at exit, so its batches cannot tell), and a moment later, so that a
  // stray frame that came after them would be counted too. Stop anyway after a few seconds, and let
  // the assertions below say what is missing.
  const absl::Time deadline = absl::Now() + absl::Seconds(8);
  while (absl::Now() < deadline && sensor.Running() && LoggedPackets(sensor.Stderr()) < sent.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(sensor.Stop(), 0) << sensor.Stderr();
  const SensorReport report = ParseBatches(sensor.Stdout());
  ASSERT_GT(report.batches, 0) << sensor.Stderr();

  // Every frame counted, and nothing else: with IPv6 and ARP off, neither end of a pair sends a
  // frame of its own, so the count is exact rather than a lower bound.
  EXPECT_EQ(report.stats.packets_received(), sent.size())
      << "kernel drops " << report.stats.packets_dropped_kernel() << ", interface drops "
      << report.stats.packets_dropped_interface() << "\n"
      << sensor.Stderr();
  EXPECT_EQ(report.stats.packets_dropped_kernel(), 0u);

  // Every frame tshark finds IP in belongs to a flow, whichever interface it came in on. (The lengths
  // show that tshark and the test number the frames alike.)
  uint64_t ip_frames = 0;
  for (const auto& row : TsharkFields(capture, {"frame.number", "frame.len"}, "ip || ipv6")) {
    int n = 0;
    ASSERT_TRUE(absl::SimpleAtoi(row[0], &n)) << row[0];
    const auto it = sent.find(n);
    if (it == sent.end()) continue;
    EXPECT_EQ(row[1], std::to_string(it->second)) << "frame " << n;
    ++ip_frames;
  }
  ASSERT_GT(ip_frames, 0u);
  EXPECT_EQ(report.flow_packets, ip_frames);

  // One device per unicast source MAC that was sent, and no other. Devices the sensor placed behind
  // a router are known by an address that some frame came from.
  EXPECT_EQ(report.device_macs, source_macs);
  std::set<std::string> ip_sources;
  for (const auto& row : TsharkFields(capture, {"ip.src"}, "ip")) ip_sources.insert(row[0]);
  for (const std::string& ip : report.ip_devices) EXPECT_TRUE(ip_sources.count(ip)) << ip;

  // Each batch names the interfaces it came from.
  EXPECT_EQ(report.sources, (std::set<std::vector<std::string>>{outer}));

  // Passive: the sensor opened the interfaces in promiscuous mode and never sent a frame on them.
  for (size_t k = 0; k < pairs.size(); ++k) {
    EXPECT_EQ(InterfaceNumber(outer[k], "statistics/tx_packets"), tx_before[k]) << outer[k] << " transmitted";
  }
}

class NetnsCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "network namespaces and live capture need root; not root here";
    if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
    if (std::string why = lab_.CreateNamespace(); !why.empty()) {
      GTEST_SKIP() << "cannot create a network namespace here: " << why;
    }
    const auto path = CapturePath("mixed/wikipedia.pcap");
    ASSERT_TRUE(path);
    capture_ = *path;
  }

  VethLab lab_;
  std::string capture_;
};

TEST_F(NetnsCapture, CountsEveryInjectedFrameAndNeverTransmits) {
  VethPair pair;
  ASSERT_EQ(lab_.AddPair(pair), "");
  InjectAndCheck(lab_, {pair}, capture_);
}

// With --interface=A,B the sensor reads both interfaces at once: the frames of one capture, spread
// over the two, add up to what they would have been on one.
TEST_F(NetnsCapture, TwoInterfacesAddUp) {
  VethPair a, b;
  ASSERT_EQ(lab_.AddPair(a), "");
  ASSERT_EQ(lab_.AddPair(b), "");
  InjectAndCheck(lab_, {a, b}, capture_);
}

}  // namespace
}  // namespace auscult::testing
