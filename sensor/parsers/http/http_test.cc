// HTTP: facts against tshark on every corpus capture with HTTP over TCP; heads and bodies on bytes.
#include <gtest/gtest.h>

#include "sensor/parsers/http/http_message.h"
#include "sensor/parsers/oracle.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkFields;

// Every User-Agent on its client, every Server header on its server.
TEST(Http, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally tally("http");
  for (const std::string& path : CapturesWith("http", {"http/get.pcap", "ethernet-vlan/twovlan.pcap"})) {
    if (path.find("malformed/") != std::string::npos) continue;
    const DeviceKeys key(path);
    std::set<FactKey> theirs;
    for (const auto& r : TsharkFields(path, {"eth.src", "ip.src", "ipv6.src", "http.user_agent", "http.server"},
                                      "tcp && (http.user_agent || http.server) && !_ws.malformed")) {
      const std::string device = key(r[0], r[1].empty() ? r[2] : r[1]);
      if (!r[3].empty()) theirs.insert({device, Attribute::kUserAgent, r[3]});
      if (!r[4].empty()) theirs.insert({device, Attribute::kServerSoftware, r[4]});
    }
    tally.Compare(path, theirs, FactsOf(path));
  }
  EXPECT_GT(tally.expected(), 0);
}

TEST(Http, Heads) {
  http::Head h;
  ASSERT_TRUE(http::ParseHead("GET /index.html HTTP/1.1\r\nHost: pacs.example\r\nUser-Agent:  Pump/2.1 \r\n", h));
  EXPECT_TRUE(h.request);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(*h.Get("host"), "pacs.example");
  EXPECT_EQ(*h.Get("user-agent"), "Pump/2.1");
  EXPECT_EQ(*h.Get("USER-AGENT"), "Pump/2.1");  // field names are case-insensitive (RFC 9110 5.1)
  EXPECT_EQ(h.target, "/index.html");
  EXPECT_FALSE(h.Get("cookie"));
  // A line that is not a field ends the head (as for Wireshark); a folded continuation does not.
  http::Head cut;
  ASSERT_TRUE(http::ParseHead("HTTP/1.1 403 Forbidden\r\nX-Id: 1\r\n  folded\r\nx-amz-id2 CA4\r\nServer: S3\r\n", cut));
  EXPECT_TRUE(cut.bad_field_line);
  EXPECT_EQ(cut.header_count, 1u);
  EXPECT_FALSE(cut.Get("server"));
  EXPECT_FALSE(h.bad_field_line);
  // Fields beyond the cap are ignored, not an error.
  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < http::Head::kMaxHeaders + 5; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "User-Agent: late\r\n";
  http::Head m;
  ASSERT_TRUE(http::ParseHead(many, m));
  EXPECT_EQ(m.header_count, http::Head::kMaxHeaders);
  EXPECT_FALSE(m.Get("user-agent"));
  http::Head r;
  ASSERT_TRUE(http::ParseHead("HTTP/1.0 404 Not Found\r\nServer: Apache\r\nX: 1", r));
  EXPECT_FALSE(r.request);
  EXPECT_EQ(r.status, 404);
  for (const char* bad : {"", "hello world", "GET / FTP/1.0", "HTTP/1.1 abc OK", "get / HTTP/1.1"}) {
    http::Head b;
    EXPECT_FALSE(http::ParseHead(bad, b)) << bad;
  }
  EXPECT_TRUE(http::LooksLikeHttp("POST /api HTTP/1.1"));
  EXPECT_TRUE(http::LooksLikeHttp("HTTP/1.1 200 OK"));
  EXPECT_FALSE(http::LooksLikeHttp("\x16\x03\x01\x02\x00"));
  EXPECT_FALSE(http::LooksLikeHttp("MSH|^~\\&|"));
}

}  // namespace
}  // namespace auscult::sensor
