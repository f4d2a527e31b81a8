// Live capture: the sensor on a real interface (loopback) sees a TCP conversation this test makes,
// reports it while running, and stops cleanly on SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_split.h"
#include "auscult/v1/observation.pb.h"
#include "tests/support/test_support.h"

namespace auscult::testing {
namespace {

// A TCP exchange on 127.0.0.1: returns the server's port.
int TalkOverLoopback() {
  const int server = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(server, 1);
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int accepted = accept(server, nullptr, nullptr);
  const char hello[] = "MSH|^~\\&|no patient data here";
  EXPECT_EQ(write(client, hello, sizeof hello), static_cast<ssize_t>(sizeof hello));
  char buf[64];
  EXPECT_GT(read(accepted, buf, sizeof buf), 0);
  close(client);
  close(accepted);
  close(server);
  return ntohs(addr.sin_port);
}

TEST(LiveCapture, SeesLoopbackConversationAndStopsOnSigterm) {
  if (geteuid() != 0) GTEST_SKIP() << "live capture needs root (or cap_net_raw on auscult-sensor); not root here";
  Process sensor({BinaryPath("auscult-sensor"), "--interface=lo", "--output=jsonl", "--report_interval=1s",
                  "--flow_idle_timeout=1s", "--log_level=info"});
  // Wait until it captures (it logs "capturing on lo" once the interface is open).
  for (int i = 0; i < 100 && sensor.Stderr().find("capturing on lo") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(sensor.Stderr().find("capturing on lo"), std::string::npos) << sensor.Stderr();
  const int port = TalkOverLoopback();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past the idle timeout and a window
  EXPECT_EQ(sensor.Stop(), 0) << sensor.Stderr();

  uint64_t packets = 0;
  int batches = 0;
  for (absl::string_view line : absl::StrSplit(sensor.Stdout(), '\n', absl::SkipEmpty())) {
    v1::ObservationBatch b;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &b).ok()) << line;
    ++batches;
    for (const auto& f : b.flows()) {
      if (f.responder().port() == static_cast<uint32_t>(port) && f.transport() == 6) {
        packets += f.to_responder().packets() + f.to_initiator().packets();
        EXPECT_EQ(f.initiator().ip(), "127.0.0.1");
      }
    }
  }
  // SYN, SYN-ACK, ACK, data, ACK, and the FIN exchange: at least six frames.
  EXPECT_GE(packets, 6u);
  // In live mode every window reports, even an empty one: the collector knows the sensor lives.
  EXPECT_GE(batches, 2);
}

}  // namespace
}  // namespace auscult::testing
