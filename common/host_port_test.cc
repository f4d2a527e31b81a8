#include "common/host_port.h"

#include <gtest/gtest.h>

namespace auscult {
namespace {

TEST(HostPort, ParsesNamesAddressesAndSockets) {
  auto a = ParseHostPort("collector.example.org:7740", "collector");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "collector.example.org");
  EXPECT_EQ(a->port, 7740);
  auto b = ParseHostPort("[fd00::1]:7740", "collector");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "fd00::1");
  EXPECT_EQ(b->ToString(), "[fd00::1]:7740");
  auto c = ParseHostPort("unix:/run/auscult.sock", "collector");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "unix:/run/auscult.sock");
}

TEST(HostPort, RejectsWithTheFlagNamed) {
  for (const char* bad :
       {"", "nohost", ":7740", "host:", "host:70000", "host:12ab", "fd00::1:7740", "[fd00::1]7740", "unix:"}) {
    auto r = ParseHostPort(bad, "collector");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--collector"), std::string::npos) << r.status();
  }
}

}  // namespace
}  // namespace auscult
