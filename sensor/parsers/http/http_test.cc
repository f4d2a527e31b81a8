// HTTP: facts against tshark on every corpus capture with HTTP over TCP; heads and bodies on bytes.
#include <gtest/gtest.h>

#include "sensor/parsers/http/http_message.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/parser_testing.h"

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

// Credentials in clear: a Basic password and a bearer token make the client's risk and tag the flow;
// a server that offers Basic is a risk of its own; Digest is neither. tshark reads the same
// headers from the same capture; neither the password nor the token reaches any output.
TEST(Http, CleartextCredentials) {
  using ::auscult::sensor::testing::Host;
  using ::auscult::sensor::testing::SyntheticCapture;
  const Host pump{{0x00, 0x0b, 0x2a, 0x00, 0x00, 0x01}, {10, 2, 0, 11}};
  const Host digest_client{{0x00, 0x0b, 0x2a, 0x00, 0x00, 0x03}, {10, 2, 0, 13}};
  const Host server{{0x00, 0x50, 0x56, 0x00, 0x00, 0x02}, {10, 2, 0, 12}};
  SyntheticCapture capture;
  SyntheticCapture::Tcp basic(capture, pump, 40100, server, 80);
  basic.Send(true, "GET /status HTTP/1.1\r\nHost: gw\r\n\r\n");
  basic.Send(false, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"pump\"\r\nContent-Length: 0\r\n\r\n");
  // "synthuser:SYNTHPASS"
  basic.Send(true, "GET /status HTTP/1.1\r\nHost: gw\r\nAuthorization: Basic c3ludGh1c2VyOlNZTlRIUEFTUw==\r\n\r\n");
  basic.Close();
  SyntheticCapture::Tcp bearer(capture, pump, 40101, server, 8080);
  bearer.Send(true, "GET /api HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer SYNTHTOKEN123\r\n\r\n");
  bearer.Close();
  SyntheticCapture::Tcp digest(capture, digest_client, 40102, server, 80);
  digest.Send(true, "GET / HTTP/1.1\r\nHost: gw\r\nAuthorization: Digest username=\"x\", response=\"abc\"\r\n\r\n");
  digest.Close();
  const std::string path = ::auscult::sensor::testing::SyntheticCapturePath("http_credentials");
  capture.Write(path);

  ::auscult::sensor::testing::EngineRun run;
  EngineOptions options;
  options.flows.parsers = Parsers();
  ::auscult::sensor::testing::RunEngine(path, options, nullptr, run);
  std::set<FactKey> risks;
  for (const DeviceRecord& d : run.sink.devices) {
    for (const FactRecord& f : d.facts) {
      if (f.attribute == Attribute::kRisk) risks.insert({d.mac.ToString(), f.attribute, f.value});
      for (const char* secret : {"c3ludGh1c2VyOlNZTlRIUEFTUw", "SYNTHPASS", "SYNTHTOKEN123"}) {
        EXPECT_EQ(f.value.find(secret), std::string::npos) << f.value;
      }
    }
  }
  EXPECT_EQ(risks, (std::set<FactKey>{{"00:0b:2a:00:00:01", Attribute::kRisk, "http_cleartext_credentials"},
                                      {"00:50:56:00:00:02", Attribute::kRisk, "http_basic_auth_offered"}}));
  std::map<uint16_t, bool> tagged;
  for (const FlowRecord& f : run.sink.flows)
    tagged[f.initiator.port] = tagged[f.initiator.port] || f.cleartext_credentials;
  EXPECT_EQ(tagged, (std::map<uint16_t, bool>{{40100, true}, {40101, true}, {40102, false}}));
  if (HaveTshark()) {
    // tshark's own reading: the frames that carry Basic or Bearer credentials, and the Basic challenge.
    std::set<std::string> senders;
    for (const auto& r : TsharkFields(path, {"eth.src", "http.authorization", "http.www_authenticate"},
                                      "http.authorization || http.www_authenticate")) {
      const bool cleartext = r[1].rfind("Basic", 0) == 0 || r[1].rfind("Bearer", 0) == 0;
      if (cleartext || r[2].rfind("Basic", 0) == 0) senders.insert(r[0]);
    }
    EXPECT_EQ(senders, (std::set<std::string>{"00:0b:2a:00:00:01", "00:50:56:00:00:02"}));
  }
}

}  // namespace
}  // namespace auscult::sensor
