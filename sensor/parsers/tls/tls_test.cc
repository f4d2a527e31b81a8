// TLS: facts against tshark on every corpus capture with TLS; hellos, certificate lists and X.509
// certificates (made here with OpenSSL) on bytes, cut and damaged; the flow parser on hand-built
// streams; the malformed captures.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "sensor/decode/decoder.h"
#include "sensor/parsers/oracle.h"
#include "sensor/parsers/tls/tls_message.h"
#include "sensor/parsers/tls/tls_parser.h"
#include "sensor/parsers/tls/x509.h"

namespace auscult::sensor {
namespace {

using ::auscult::sensor::testing::CapturesWith;
using ::auscult::sensor::testing::DeviceKeys;
using ::auscult::sensor::testing::FactKey;
using ::auscult::sensor::testing::FactsOf;
using ::auscult::sensor::testing::OracleTally;
using ::auscult::sensor::testing::RunSensor;
using ::auscult::sensor::testing::SensorRun;
using ::auscult::testing::HaveTshark;
using ::auscult::testing::TsharkAllFields;
using ::auscult::testing::TsharkFields;

// ---- the oracle ----

// What tshark's PDML says of the first (leaf) certificate of each Certificate message.
struct TsharkCertificate {
  std::string device;
  std::string subject_cn, subject_o, issuer_cn, issuer_o;
  bool has_subject_cn = false, has_subject_o = false, has_issuer_cn = false, has_issuer_o = false;
  std::string not_before, not_after;  // YYYY-MM-DD

  std::string Summary() const {
    auto name = [](bool has_cn, const std::string& cn, bool has_o, const std::string& o) {
      std::string s;
      if (has_cn) s += "CN=" + cn;
      if (has_o) s += (s.empty() ? "O=" : ",O=") + o;
      return s;
    };
    return "subject=" + name(has_subject_cn, subject_cn, has_subject_o, subject_o) +
           "; issuer=" + name(has_issuer_cn, issuer_cn, has_issuer_o, issuer_o) + "; not_before=" + not_before +
           "; not_after=" + not_after;
  }
};

std::string XmlAttribute(const std::string& line, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const size_t at = line.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  const std::string raw = line.substr(start, line.find('"', start) - start);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    const size_t semi = raw.find(';', i);
    const std::string entity = raw.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    if (entity == "lt") out += '<';
    if (entity == "gt") out += '>';
    if (entity == "quot") out += '"';
    if (entity == "apos") out += '\'';
    if (entity.size() > 2 && entity[0] == '#') {
      uint32_t cp = 0;
      if (entity[1] == 'x' ? absl::SimpleHexAtoi(entity.substr(2), &cp) : absl::SimpleAtoi(entity.substr(1), &cp)) {
        out += static_cast<char>(cp);  // tshark escapes only ASCII this way
      }
    }
    i = semi;
  }
  return out;
}

// tshark's PDML nests fields as the dissection tree does: within each tls.handshake.certificates
// list, the first tls.handshake.certificate's x509af.issuer and x509af.subject hold x509if.oid
// (2.5.4.3 CN, 2.5.4.10 O) each followed by its value's x509sat string field; x509af.notBefore and
// x509af.notAfter hold the times ("2014-04-09 12:05:08 (UTC)").
template <typename Key>
std::vector<TsharkCertificate> TsharkLeafCertificates(const std::string& path, const Key& key) {
  const auto r = ::auscult::testing::RunCommand(
      {"tshark", "-n", "-r", path, "-Y", "tls.handshake.type == 11 && !_ws.malformed", "-T", "pdml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<TsharkCertificate> out;
  std::vector<std::string> stack;  // names of the open elements
  std::string eth_src, ip_src;
  int certificate_index = -1;  // within the current list
  std::string pending;         // "subject_cn", ... : the attribute whose value comes next
  for (absl::string_view view : absl::StrSplit(r.out, '\n')) {
    std::string line(absl::StripAsciiWhitespace(view));
    if (line.rfind("<packet>", 0) == 0) {
      eth_src.clear();
      ip_src.clear();
      stack.clear();
      continue;
    }
    if (line.rfind("</field>", 0) == 0 || line.rfind("</proto>", 0) == 0) {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    if (line.rfind("<field", 0) != 0 && line.rfind("<proto", 0) != 0) continue;
    const std::string name = XmlAttribute(line, "name");
    const std::string show = XmlAttribute(line, "show");
    const bool leaf = line.size() >= 2 && line.substr(line.size() - 2) == "/>";
    auto inside = [&](const std::string& n) { return std::find(stack.begin(), stack.end(), n) != stack.end(); };
    if (name == "eth.src" && eth_src.empty()) eth_src = show;
    if ((name == "ip.src" || name == "ipv6.src") && ip_src.empty()) ip_src = show;
    if (name == "tls.handshake.certificates") certificate_index = -1;
    if (name == "tls.handshake.certificate") {
      if (++certificate_index == 0) {
        out.emplace_back();
        out.back().device = key(eth_src, ip_src);
      }
    }
    if (certificate_index == 0 && inside("tls.handshake.certificate") && !out.empty()) {
      TsharkCertificate& c = out.back();
      const bool subject = inside("x509af.subject");
      const bool issuer = inside("x509af.issuer");
      if (name == "x509if.oid" && (subject || issuer)) {
        pending.clear();
        if (show == "2.5.4.3") pending = subject ? "subject_cn" : "issuer_cn";
        if (show == "2.5.4.10") pending = subject ? "subject_o" : "issuer_o";
      } else if (!pending.empty() && leaf && name.rfind("x509sat.", 0) == 0) {
        // The first of each, as the sensor reports.
        auto take = [&](const char* which, std::string& value, bool& has) {
          if (pending == which && !has) {
            value = show;
            has = true;
          }
        };
        take("subject_cn", c.subject_cn, c.has_subject_cn);
        take("subject_o", c.subject_o, c.has_subject_o);
        take("issuer_cn", c.issuer_cn, c.has_issuer_cn);
        take("issuer_o", c.issuer_o, c.has_issuer_o);
        pending.clear();
      } else if ((name == "x509af.utcTime" || name == "x509af.generalizedTime") && show.size() >= 10) {
        if (inside("x509af.notBefore")) c.not_before = show.substr(0, 10);
        if (inside("x509af.notAfter")) c.not_after = show.substr(0, 10);
      }
    }
    if (!leaf) stack.push_back(name);
  }
  return out;
}

// The name the sensor gives a version number; tshark prints the numbers.
std::string VersionNameFromHex(const std::string& hex) {
  uint32_t v = 0;
  if (!absl::SimpleHexAtoi(hex, &v)) return "";
  static const std::map<uint32_t, std::string> kNames = {
      {0x0300, "SSL 3.0"}, {0x0301, "TLS 1.0"}, {0x0302, "TLS 1.1"}, {0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"}};
  if (auto it = kNames.find(v); it != kNames.end()) return it->second;
  if ((v & 0xff00) == 0x7f00) return "TLS 1.3 (draft " + std::to_string(v & 0xff) + ")";
  return "";
}

// Highest of a client's supported_versions ("0x3a3a,0x0304,0x0303"): GREASE and unknown skipped,
// drafts of 1.3 above 1.2 and below 1.3.
std::string HighestVersionName(const std::string& list, const std::string& legacy) {
  uint32_t best = 0, best_rank = 0;
  for (absl::string_view item : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    uint32_t v = 0;
    if (!absl::SimpleHexAtoi(item, &v)) continue;
    const uint32_t rank = v >= 0x0300 && v <= 0x0304 ? v << 8 : (v & 0xff00) == 0x7f00 ? 0x0303u << 8 | (v & 0xff) : 0;
    if (rank > best_rank) best = v, best_rank = rank;
  }
  if (best == 0) return VersionNameFromHex(legacy);
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%04x", best);
  return VersionNameFromHex(hex);
}

// SNI on the server, JA3 and the offered ALPN and highest version on the client, JA3S and the
// picked ALPN and version on the server, and the leaf certificate's subject CN and summary on the
// server: each on its own tally.
TEST(Tls, FactsMatchTshark) {
  if (!HaveTshark()) GTEST_SKIP() << "tshark is not installed (tests/run.sh installs it)";
  OracleTally sni("tls sni"), ja3("tls ja3"), ja3s("tls ja3s"), cn("tls certificate_cn"), cert("tls certificate"),
      alpn("tls alpn"), version("tls version");
  int unseen_servers = 0;
  for (const std::string& path :
       CapturesWith("tls", {"tls/ecdhe.pcap", "tls/cert-no-cn.pcap", "tls/tls_grease.pcap"})) {
    if (path.find("malformed/") != std::string::npos) continue;  // checked for survival below
    const DeviceKeys keys(path);
    const SensorRun sensor = RunSensor(path);
    // DeviceKeys counts a router's addresses; the sensor also knows routers from the TTLs they
    // forward (pcap-formats/many_interfaces-1.pcapng: a gateway with four addresses, at the count
    // threshold).
    auto key = [&](const std::string& mac, const std::string& ip) { return sensor.Device(keys, mac, ip); };
    // The first frame each MAC sent: the device table makes no device of a MAC only ever seen as a
    // destination (hosts behind a router are made from their addresses), so a fact about a local
    // server that had not sent a frame by the time of the ClientHello (a capture that starts with
    // it, or joins mid-connection) has nowhere to land. Those SNI values are left out (and counted).
    std::map<std::string, int> first_sent;
    for (const auto& r : TsharkFields(path, {"frame.number", "eth.src"}, "eth")) {
      int n = 0;
      if (absl::SimpleAtoi(r[0], &n) && !first_sent.count(r[1])) first_sent[r[1]] = n;
    }
    std::set<FactKey> by_kind[7];
    for (const auto& r : TsharkAllFields(
             path,
             {"frame.number", "eth.src", "ip.src", "ipv6.src", "eth.dst", "ip.dst", "ipv6.dst",
              "tls.handshake.extensions_server_name", "tls.handshake.ja3", "tls.handshake.extensions_alpn_str",
              "tls.handshake.extensions.supported_version", "tls.handshake.version"},
             "tls.handshake.type == 1 && !_ws.malformed", ',')) {
      const std::string client = key(r[1], r[2].empty() ? r[3] : r[2]);
      const std::string server = key(r[4], r[5].empty() ? r[6] : r[5]);
      int frame = 0;
      const bool server_spoke =
          server != r[4] || (absl::SimpleAtoi(r[0], &frame) && first_sent.count(server) && first_sent[server] < frame);
      if (!r[7].empty()) {
        if (server_spoke) {
          by_kind[0].insert({server, Attribute::kServedName, r[7]});
        } else {
          ++unseen_servers;
        }
      }
      if (!r[8].empty()) by_kind[1].insert({client, Attribute::kTlsClientFingerprint, r[8]});
      if (!r[9].empty()) by_kind[5].insert({client, Attribute::kTlsAlpn, r[9]});
      const std::string v = HighestVersionName(r[10], r[11]);
      if (!v.empty()) by_kind[6].insert({client, Attribute::kTlsVersion, v});
    }
    for (const auto& r :
         TsharkFields(path,
                      {"eth.src", "ip.src", "ipv6.src", "tls.handshake.ja3s", "tls.handshake.extensions_alpn_str",
                       "tls.handshake.extensions.supported_version", "tls.handshake.version"},
                      "tls.handshake.type == 2 && !_ws.malformed")) {
      const std::string server = key(r[0], r[1].empty() ? r[2] : r[1]);
      if (!r[3].empty()) by_kind[2].insert({server, Attribute::kTlsServerFingerprint, r[3]});
      if (!r[4].empty()) by_kind[5].insert({server, Attribute::kTlsAlpn, r[4]});
      const std::string v = VersionNameFromHex(r[5].empty() ? r[6] : r[5]);
      if (!v.empty()) by_kind[6].insert({server, Attribute::kTlsVersion, v});
    }
    for (const TsharkCertificate& c : TsharkLeafCertificates(path, key)) {
      if (c.has_subject_cn) by_kind[3].insert({c.device, Attribute::kServedName, c.subject_cn});
      by_kind[4].insert({c.device, Attribute::kTlsCertificate, c.Summary()});
    }
    sni.Compare(path, by_kind[0], sensor.facts);
    ja3.Compare(path, by_kind[1], sensor.facts);
    ja3s.Compare(path, by_kind[2], sensor.facts);
    cn.Compare(path, by_kind[3], sensor.facts);
    cert.Compare(path, by_kind[4], sensor.facts);
    alpn.Compare(path, by_kind[5], sensor.facts);
    version.Compare(path, by_kind[6], sensor.facts);
  }
  std::printf("oracle tls sni: %d ClientHellos to servers not yet seen left out\n", unseen_servers);
  EXPECT_GT(sni.expected(), 0);
  EXPECT_GT(ja3.expected(), 0);
  EXPECT_GT(ja3s.expected(), 0);
  EXPECT_GT(cn.expected(), 0);
}

// ---- bytes ----

// A byte string built field by field, with length prefixes filled in afterwards.
class Builder {
 public:
  Builder& U8(uint32_t v) {
    bytes_.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Builder& U16(uint32_t v) { return U8(v >> 8).U8(v); }
  Builder& U24(uint32_t v) { return U8(v >> 16).U16(v); }
  Builder& Text(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  Builder& Raw(const std::vector<uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  // Opens a length field of `size` bytes, closed by End().
  Builder& Begin(int size) {
    open_.push_back({bytes_.size(), size});
    bytes_.insert(bytes_.end(), static_cast<size_t>(size), 0);
    return *this;
  }
  Builder& End() {
    const auto [at, size] = open_.back();
    open_.pop_back();
    const size_t n = bytes_.size() - at - static_cast<size_t>(size);
    for (int i = 0; i < size; ++i)
      bytes_[at + static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * (size - 1 - i)));
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  std::vector<std::pair<size_t, int>> open_;
};

std::vector<uint8_t> Handshake(uint8_t type, const std::vector<uint8_t>& body) {
  return Builder().U8(type).Begin(3).Raw(body).End().bytes();
}
std::vector<uint8_t> Record(uint8_t type, const std::vector<uint8_t>& fragment, uint16_t version = 0x0303) {
  return Builder().U8(type).U16(version).Begin(2).Raw(fragment).End().bytes();
}
std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A browser-like ClientHello with GREASE in every list (RFC 8701).
std::vector<uint8_t> ClientHelloBody(std::string_view sni = "pacs.example") {
  Builder b;
  b.U16(0x0303);
  for (int i = 0; i < 32; ++i) b.U8(0x11);
  b.U8(0);                                               // session id
  b.Begin(2).U16(0x1a1a).U16(0x1301).U16(0xc02f).End();  // cipher suites
  b.U8(1).U8(0);                                         // compression: null
  b.Begin(2);
  b.U16(0x2a2a).U16(0);                                                             // GREASE extension
  b.U16(0).Begin(2).Begin(2).U8(0).Begin(2).Text(sni).End().End().End();            // server_name
  b.U16(16).Begin(2).Begin(2).U8(2).Text("h2").U8(8).Text("http/1.1").End().End();  // ALPN
  b.U16(43).Begin(2).Begin(1).U16(0x3a3a).U16(0x0304).U16(0x0303).End().End();      // supported_versions
  b.U16(10).Begin(2).Begin(2).U16(0x4a4a).U16(29).U16(23).End().End();              // supported_groups
  b.U16(11).Begin(2).Begin(1).U8(0).End().End();                                    // ec_point_formats
  b.End();
  return b.bytes();
}

std::vector<uint8_t> ServerHelloBody(uint16_t version, bool tls13, std::string_view alpn) {
  Builder b;
  b.U16(version);
  for (int i = 0; i < 32; ++i) b.U8(0x22);
  b.U8(0).U16(tls13 ? 0x1301 : 0xc02f).U8(0);
  b.Begin(2);
  if (tls13) b.U16(43).Begin(2).U16(0x0304).End();
  if (!alpn.empty()) b.U16(16).Begin(2).Begin(2).U8(static_cast<uint32_t>(alpn.size())).Text(alpn).End().End();
  b.End();
  return b.bytes();
}

TEST(TlsMessage, ClientHello) {
  const auto body = ClientHelloBody();
  tls::ClientHello h;
  tls::Error e;
  ASSERT_TRUE(tls::ParseClientHello(body, h, e)) << tls::ErrorName(e);
  EXPECT_EQ(h.server_name, "pacs.example");
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(tls::HighestOfferedVersion(h), 0x0304);
  EXPECT_EQ(tls::VersionName(tls::HighestOfferedVersion(h)), "TLS 1.3");
  EXPECT_EQ(tls::Ja3String(h), "771,4865-49199,0-16-43-10-11,29-23,0");
  // Without supported_versions, the legacy version is the highest offered.
  h.supported_versions.clear();
  EXPECT_EQ(tls::HighestOfferedVersion(h), 0x0303);
  // A TLS 1.0 ClientHello may end after the compression methods (RFC 5246 §7.4.1.2).
  const std::vector<uint8_t> old =
      Builder().U16(0x0301).Raw(std::vector<uint8_t>(32, 1)).U8(0).U16(2).U16(0x002f).U8(1).U8(0).bytes();
  tls::ClientHello o;
  ASSERT_TRUE(tls::ParseClientHello(old, o, e));
  EXPECT_EQ(tls::Ja3String(o), "769,47,,,");
  EXPECT_EQ(tls::VersionName(0x0300), "SSL 3.0");
  EXPECT_EQ(tls::VersionName(0x7f1c), "TLS 1.3 (draft 28)");
  EXPECT_EQ(tls::VersionName(0xfb1a), "0xfb1a");
  EXPECT_TRUE(tls::IsGrease(0xfafa));
  EXPECT_FALSE(tls::IsGrease(0x0a1a));
  EXPECT_FALSE(tls::IsGrease(0x1301));
}

TEST(TlsMessage, ClientHelloCutAndDamaged) {
  const auto body = ClientHelloBody();
  for (size_t n = 0; n < body.size(); ++n) {
    tls::ClientHello h;
    tls::Error e = tls::Error::kNone;
    const bool ok = tls::ParseClientHello(std::span(body).first(n), h, e);
    EXPECT_EQ(ok, e == tls::Error::kNone) << n;
    // Only a cut right after the compression methods (no extensions at all) is still a hello.
    EXPECT_EQ(ok, n == 2 + 32 + 1 + 8 + 2) << n;
  }
  for (size_t i = 0; i < body.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      auto bad = body;
      bad[i] ^= flip;
      tls::ClientHello h;
      tls::Error e = tls::Error::kNone;
      const bool ok = tls::ParseClientHello(bad, h, e);
      EXPECT_EQ(ok, e == tls::Error::kNone);
      EXPECT_LE(h.server_name.size(), bad.size());
    }
  }
  // An extension whose inner list runs past it (as in malformed/ssl-malformed1.pcap).
  auto bad = body;
  const size_t sni_list = 2 + 32 + 1 + 8 + 2 + 2 + 4 + 4;  // the server_name list's length field
  bad[sni_list] = 0x40;
  tls::ClientHello h;
  tls::Error e;
  EXPECT_FALSE(tls::ParseClientHello(bad, h, e));
  EXPECT_EQ(e, tls::Error::kBadExtension);
  EXPECT_STREQ(tls::ErrorName(e), "tls_bad_extension");
}

TEST(TlsMessage, ServerHello) {
  tls::ServerHello h;
  tls::Error e;
  ASSERT_TRUE(tls::ParseServerHello(ServerHelloBody(0x0303, true, "h2"), h, e)) << tls::ErrorName(e);
  EXPECT_EQ(tls::SelectedVersion(h), 0x0304);
  EXPECT_EQ(h.alpn, "h2");
  EXPECT_FALSE(h.hello_retry_request);
  EXPECT_EQ(tls::Ja3sString(h), "771,4865,43-16");
  tls::ServerHello old;
  ASSERT_TRUE(tls::ParseServerHello(ServerHelloBody(0x0302, false, ""), old, e));
  EXPECT_EQ(tls::SelectedVersion(old), 0x0302);
  EXPECT_EQ(tls::Ja3sString(old), "770,49199,");
  // HelloRetryRequest: the random of RFC 8446 §4.1.3.
  auto hrr = ServerHelloBody(0x0303, true, "");
  const uint8_t random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
                              0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
                              0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
  std::copy(std::begin(random), std::end(random), hrr.begin() + 2);
  tls::ServerHello r;
  ASSERT_TRUE(tls::ParseServerHello(hrr, r, e));
  EXPECT_TRUE(r.hello_retry_request);
  // ALPN in a ServerHello names exactly one protocol (RFC 7301 §3.1).
  auto two = Builder().U16(0x0303).Raw(std::vector<uint8_t>(32, 0)).U8(0).U16(0xc02f).U8(0);
  two.Begin(2).U16(16).Begin(2).Begin(2).U8(2).Text("h2").U8(2).Text("h3").End().End().End();
  EXPECT_FALSE(tls::ParseServerHello(two.bytes(), r, e));
  EXPECT_EQ(e, tls::Error::kBadExtension);
  const auto body = ServerHelloBody(0x0303, true, "h2");
  for (size_t n = 0; n < body.size(); ++n) {
    tls::ServerHello c;
    EXPECT_EQ(tls::ParseServerHello(std::span(body).first(n), c, e), n == 2 + 32 + 1 + 2 + 1) << n;
  }
}

TEST(TlsMessage, Md5) {
  EXPECT_EQ(tls::Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  // tls/SSL-ClientHello1.pcap: tshark's tls.handshake.ja3_full and tls.handshake.ja3.
  EXPECT_EQ(tls::Md5Hex("771,49195-49199-49162-49161-49171-49172-51-57-47-53-10,0-65281-10-11-35-13172-16-5-13,"
                        "23-24-25,0"),
            "07b4162d4db57554961824a21c4a0fde");
}

TEST(TlsMessage, CertificateList) {
  const std::vector<uint8_t> leaf = {0x30, 0x00};
  const auto body = Builder().Begin(3).Begin(3).Raw(leaf).End().Begin(3).U8(0x30).U8(0).End().End().bytes();
  std::span<const uint8_t> der;
  tls::Error e;
  ASSERT_TRUE(tls::FirstCertificate(body, der, e));
  EXPECT_EQ(std::vector<uint8_t>(der.begin(), der.end()), leaf);
  ASSERT_TRUE(tls::FirstCertificate(Builder().U24(0).bytes(), der, e));  // a client with none
  EXPECT_TRUE(der.empty());
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(tls::FirstCertificate(std::span(body).first(n), der, e)) << n;
    EXPECT_EQ(e, tls::Error::kBadCertificateList);
  }
}

// ---- X.509, with certificates OpenSSL makes ----

struct CertSpec {
  std::string subject_cn = "Infusion Pump 7";
  std::string subject_o = "Acme Médical";
  std::string issuer_cn = "Hospital CA";
  std::string issuer_o = "General Hospital";
  bool no_cn = false;
  bool bmp_cn = false;              // the subject CN as a BMPString
  bool self_signed = false;         // issuer = subject
  int64_t not_before = 1700000000;  // 2023-11-14
  int64_t not_after = 2556057600;   // 2050-12-31: GeneralizedTime (RFC 5280 §4.1.2.5)
};

std::vector<uint8_t> MakeCertificate(const CertSpec& spec) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                          &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  // ASN1_TIME_set writes UTCTime for 1950-2049 and GeneralizedTime otherwise, as RFC 5280 asks.
  ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(spec.not_after));
  auto text = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.c_str()); };
  X509_NAME* subject = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(subject, "C", MBSTRING_ASC, text("US"), -1, -1, 0);
  if (spec.bmp_cn) {
    std::string ucs2;
    for (char c : spec.subject_cn) ucs2 += std::string{'\0', c};
    ucs2 += std::string{'\x26', '\x3a'};  // U+263A
    X509_NAME_add_entry_by_NID(subject, NID_commonName, V_ASN1_BMPSTRING, text(ucs2), static_cast<int>(ucs2.size()), -1,
                               0);
  } else if (!spec.no_cn) {
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, text(spec.subject_cn), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, text(spec.subject_o), -1, -1, 0);
  if (spec.self_signed) {
    X509_set_issuer_name(x.get(), subject);
  } else {
    X509_NAME* issuer = X509_get_issuer_name(x.get());
    X509_NAME_add_entry_by_txt(issuer, "O", MBSTRING_UTF8, text(spec.issuer_o), -1, -1, 0);
    X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_UTF8, text(spec.issuer_cn), -1, -1, 0);
  }
  X509_set_pubkey(x.get(), key.get());
  EXPECT_GT(X509_sign(x.get(), key.get(), EVP_sha256()), 0);
  unsigned char* der = nullptr;
  const int n = i2d_X509(x.get(), &der);
  std::vector<uint8_t> out(der, der + std::max(n, 0));
  OPENSSL_free(der);
  return out;
}

TEST(X509, Fields) {
  const auto der = MakeCertificate({});
  tls::CertificateSummary c;
  tls::X509Error e;
  ASSERT_TRUE(tls::ParseCertificate(der, c, e)) << tls::X509ErrorName(e);
  EXPECT_EQ(c.subject.common_name, "Infusion Pump 7");
  EXPECT_EQ(c.subject.organization, "Acme Médical");
  EXPECT_EQ(c.issuer.common_name, "Hospital CA");
  EXPECT_FALSE(c.self_issued);
  EXPECT_EQ(c.not_before, 1700000000);
  EXPECT_EQ(c.not_after, 2556057600);
  EXPECT_EQ(tls::FormatCertificate(c),
            "subject=CN=Infusion Pump 7,O=Acme Médical; issuer=CN=Hospital CA,O=General Hospital; "
            "not_before=2023-11-14; not_after=2050-12-31");

  CertSpec self;
  self.self_signed = true;
  self.no_cn = true;
  tls::CertificateSummary s;
  ASSERT_TRUE(tls::ParseCertificate(MakeCertificate(self), s, e));
  EXPECT_TRUE(s.self_issued);
  EXPECT_FALSE(s.subject.has_common_name);
  EXPECT_EQ(tls::FormatName(s.subject), "O=Acme Médical");

  CertSpec bmp;
  bmp.bmp_cn = true;
  bmp.subject_cn = "ECG";
  bmp.not_before = -86400 * 365;  // 1969: UTCTime's 19xx century
  tls::CertificateSummary b;
  ASSERT_TRUE(tls::ParseCertificate(MakeCertificate(bmp), b, e));
  EXPECT_EQ(b.subject.common_name, "ECG\u263a");
  EXPECT_EQ(b.not_before_date, "1969-01-01");
}

TEST(X509, CutAndDamaged) {
  const auto der = MakeCertificate({});
  for (size_t n = 0; n < der.size(); ++n) {
    tls::CertificateSummary c;
    tls::X509Error e;
    EXPECT_FALSE(tls::ParseCertificate(std::span(der).first(n), c, e)) << n;
    EXPECT_NE(e, tls::X509Error::kNone);
  }
  int parsed = 0;
  for (size_t i = 0; i < der.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      auto bad = der;
      bad[i] ^= flip;
      tls::CertificateSummary c;
      tls::X509Error e = tls::X509Error::kNone;
      const bool ok = tls::ParseCertificate(bad, c, e);
      EXPECT_EQ(ok, e == tls::X509Error::kNone);
      parsed += ok;
    }
  }
  EXPECT_GT(parsed, 0);  // damage in the key or signature goes unnoticed, as it should
  // Time fields: months, days and hours out of range; BER's indefinite length.
  tls::CertificateSummary c;
  tls::X509Error e;
  auto bad_time = der;
  const std::string stamp = "231114";  // the notBefore date in UTCTime
  auto at = std::search(bad_time.begin(), bad_time.end(), stamp.begin(), stamp.end());
  ASSERT_NE(at, bad_time.end());
  at[2] = '1', at[3] = '3';  // month 13
  EXPECT_FALSE(tls::ParseCertificate(bad_time, c, e));
  EXPECT_EQ(e, tls::X509Error::kBadTime);
  auto indefinite = der;
  indefinite[1] = 0x80;
  EXPECT_FALSE(tls::ParseCertificate(indefinite, c, e));
  EXPECT_EQ(e, tls::X509Error::kBadDer);
}

// ---- the flow parser ----

class RecordingOutput : public ParserOutput {
 public:
  struct Recorded {
    Party party;
    Attribute attribute;
    std::string value;
    std::string field;
  };
  void SetApplication(std::string_view name) override { application = std::string(name); }
  void AddFact(Party party, const Fact& f) override {
    facts.push_back({party, f.attribute, std::string(f.value), std::string(f.field)});
  }
  void AddFactForMac(const MacAddress&, const Fact&) override {}
  void AddFactForAddress(const IpAddress&, const Fact&) override {}
  void BindAddress(const MacAddress&, const IpAddress&, AddressSource) override {}
  void CountAnomaly(std::string_view name) override { ++anomalies[std::string(name)]; }
  void MarkEncrypted() override { encrypted = true; }

  bool Has(Party party, Attribute attribute, const std::string& value) const {
    return std::any_of(facts.begin(), facts.end(), [&](const Recorded& r) {
      return r.party == party && r.attribute == attribute && r.value == value;
    });
  }
  std::string application;
  bool encrypted = false;
  std::vector<Recorded> facts;
  std::map<std::string, int> anomalies;
};

FlowContext Flow(uint16_t port) {
  FlowContext f;
  f.transport = kIpProtoTcp;
  f.initiator.port = 50000;
  f.responder.port = port;
  return f;
}

constexpr auto kToServer = Direction::kToResponder;
constexpr auto kToClient = Direction::kToInitiator;
constexpr TimeNs k2024 = 1704067200 * kNanosPerSecond;

void FeedBytewise(FlowParser& p, Direction d, const std::vector<uint8_t>& bytes, TimeNs t, ParserOutput& out) {
  for (uint8_t b : bytes) p.OnData(d, std::span(&b, 1), t, out);
}

TEST(TlsParser, Wants) {
  const ParserFactory* f = tls::Factory();
  const auto hello = Record(22, Handshake(1, ClientHelloBody()), 0x0301);
  EXPECT_TRUE(f->Wants(Flow(8443), kToServer, hello));
  EXPECT_TRUE(f->Wants(Flow(2762), kToClient, Record(22, Handshake(2, ServerHelloBody(0x0303, false, "")))));
  FlowContext udp = Flow(443);
  udp.transport = kIpProtoUdp;
  EXPECT_FALSE(f->Wants(udp, kToServer, hello));
  const std::string http = "GET / HTTP/1.1\r\n";
  EXPECT_FALSE(f->Wants(Flow(443), kToServer, std::span(reinterpret_cast<const uint8_t*>(http.data()), http.size())));
  EXPECT_FALSE(f->Wants(Flow(443), kToServer, Record(23, {1, 2, 3, 4, 5})));  // mid-session: nothing to learn
  EXPECT_FALSE(f->Wants(Flow(443), kToServer, std::span(hello).first(8)));
  EXPECT_TRUE(f->Wants(Flow(25), kToClient, std::span(reinterpret_cast<const uint8_t*>(http.data()), http.size())));
}

// A hello marks the flow encrypted; on a TLS-wrapped service's port (DICOM over TLS, 2762) the
// flow keeps the service's name, which says more than "tls".
TEST(TlsParser, EncryptedAndWrappedServices) {
  const auto hello = Record(22, Handshake(1, ClientHelloBody()), 0x0301);
  for (const auto& [port, application] : std::vector<std::pair<uint16_t, std::string>>{
           {443, "tls"}, {2762, "dicom-tls"}, {8883, "mqtt-tls"}, {50000, "tls"}}) {
    auto parser = tls::Factory()->Create(Flow(port));
    RecordingOutput out;
    parser->OnData(kToServer, hello, k2024, out);
    EXPECT_EQ(out.application, application) << port;
    EXPECT_TRUE(out.encrypted) << port;
  }
  auto parser = tls::Factory()->Create(Flow(443));
  RecordingOutput out;
  const std::string http = "GET / HTTP/1.1\r\n\r\n";
  parser->OnData(kToServer, std::span(reinterpret_cast<const uint8_t*>(http.data()), http.size()), k2024, out);
  EXPECT_FALSE(out.encrypted);
}

// A full TLS 1.2 handshake's cleartext, the ClientHello split over two records and every byte
// delivered alone.
TEST(TlsParser, Tls12Handshake) {
  auto parser = tls::Factory()->Create(Flow(443));
  RecordingOutput out;
  const auto ch = Handshake(1, ClientHelloBody());
  const size_t half = ch.size() / 2;
  FeedBytewise(*parser, kToServer,
               Concat({Record(22, std::vector<uint8_t>(ch.begin(), ch.begin() + half), 0x0301),
                       Record(22, std::vector<uint8_t>(ch.begin() + half, ch.end()), 0x0301)}),
               k2024, out);
  EXPECT_EQ(out.application, "tls");
  EXPECT_TRUE(out.Has(Party::kReceiver, Attribute::kServedName, "pacs.example"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsAlpn, "h2,http/1.1"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsVersion, "TLS 1.3"));
  EXPECT_TRUE(
      out.Has(Party::kSender, Attribute::kTlsClientFingerprint, tls::Md5Hex("771,4865-49199,0-16-43-10-11,29-23,0")));
  EXPECT_FALSE(parser->Done());

  CertSpec expired;
  expired.self_signed = true;
  expired.subject_cn = "pacs.example";
  expired.not_after = 1600000000;  // 2020
  const auto cert = MakeCertificate(expired);
  const auto certificate = Handshake(11, Builder().Begin(3).Begin(3).Raw(cert).End().End().bytes());
  // ServerHello, Certificate and ServerHelloDone in one record, then the certificate split over two.
  const auto flight =
      Concat({Handshake(2, ServerHelloBody(0x0303, false, "http/1.1")), certificate, Handshake(14, {})});
  const size_t cut = flight.size() - 300;
  parser->OnData(kToClient,
                 Concat({Record(22, std::vector<uint8_t>(flight.begin(), flight.begin() + cut)),
                         Record(22, std::vector<uint8_t>(flight.begin() + cut, flight.end()))}),
                 k2024, out);
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsVersion, "TLS 1.2"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsAlpn, "http/1.1"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsServerFingerprint, tls::Md5Hex("771,49199,16")));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kServedName, "pacs.example"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kRisk, "tls_self_signed_certificate"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kRisk, "tls_expired_certificate"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsCertificate,
                      "subject=CN=pacs.example,O=Acme Médical; issuer=CN=pacs.example,O=Acme Médical; "
                      "not_before=2023-11-14; not_after=2020-09-13"));
  EXPECT_TRUE(out.anomalies.empty());
  // Nothing more is of interest: no certificate was asked of the client.
  EXPECT_TRUE(parser->Done());

  // The same certificate at a time it was valid is no risk.
  auto again = tls::Factory()->Create(Flow(443));
  RecordingOutput early;
  again->OnData(kToClient, Record(22, flight), 1590000000 * kNanosPerSecond, early);
  EXPECT_TRUE(early.Has(Party::kSender, Attribute::kRisk, "tls_self_signed_certificate"));
  EXPECT_FALSE(early.Has(Party::kSender, Attribute::kRisk, "tls_expired_certificate"));
  EXPECT_FALSE(again->Done());  // the client has not spoken yet
}

// A client certificate (mutual TLS) is the client's identity.
TEST(TlsParser, ClientCertificate) {
  auto parser = tls::Factory()->Create(Flow(443));
  RecordingOutput out;
  parser->OnData(kToServer, Record(22, Handshake(1, ClientHelloBody())), k2024, out);
  parser->OnData(kToClient,
                 Record(22, Concat({Handshake(2, ServerHelloBody(0x0303, false, "")), Handshake(13, {0, 0, 0, 0}),
                                    Handshake(14, {})})),
                 k2024, out);
  EXPECT_FALSE(parser->Done());
  CertSpec device;
  device.subject_cn = "monitor-12";
  parser->OnData(
      kToServer,
      Record(22, Handshake(11, Builder().Begin(3).Begin(3).Raw(MakeCertificate(device)).End().End().bytes())), k2024,
      out);
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kServedName, "monitor-12"));
  EXPECT_TRUE(parser->Done());
}

TEST(TlsParser, Tls13StopsAtServerHello) {
  auto parser = tls::Factory()->Create(Flow(443));
  RecordingOutput out;
  parser->OnData(kToServer, Record(22, Handshake(1, ClientHelloBody()), 0x0301), k2024, out);
  parser->OnData(kToClient, Record(22, Handshake(2, ServerHelloBody(0x0303, true, "h2"))), k2024, out);
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsVersion, "TLS 1.3"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsAlpn, "h2"));
  EXPECT_TRUE(parser->Done());
}

TEST(TlsParser, ChangeCipherSpecEndsEachSide) {
  auto parser = tls::Factory()->Create(Flow(443));
  RecordingOutput out;
  parser->OnData(kToServer, Record(22, Handshake(1, ClientHelloBody())), k2024, out);
  // An abbreviated handshake: the server resumes a session.
  parser->OnData(kToClient, Concat({Record(22, Handshake(2, ServerHelloBody(0x0303, false, ""))), Record(20, {1})}),
                 k2024, out);
  EXPECT_FALSE(parser->Done());
  parser->OnData(kToServer, Record(20, {1}), k2024, out);
  EXPECT_TRUE(parser->Done());
}

TEST(TlsParser, Anomalies) {
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    const char* anomaly;
  };
  auto bad_ext = ClientHelloBody();
  bad_ext[2 + 32 + 1 + 8 + 2 + 2 + 4 + 4] = 0x40;
  const std::vector<Case> cases = {
      {"record too large", Builder().U8(22).U16(0x0303).U16(0x5000).bytes(), "tls_record_too_large"},
      {"unknown content type", Builder().U8(99).U16(0x0303).U16(1).U8(0).bytes(), "tls_bad_record"},
      {"bad extension", Record(22, Handshake(1, bad_ext)), "tls_bad_extension"},
      {"short hello", Record(22, Handshake(1, {3, 3, 0})), "tls_bad_handshake"},
      {"hello with trailing bytes", Record(22, Handshake(1, Concat({ClientHelloBody(), {0}}))),
       "tls_handshake_trailing_bytes"},
      {"huge handshake message", Record(22, Builder().U8(11).U24(0x100000).bytes()), "tls_handshake_too_large"},
      {"bad certificate list", Record(22, Handshake(11, {0, 0, 9, 0, 0, 1})), "tls_bad_certificate_list"},
      {"bad certificate",
       Record(22, Handshake(11, Builder().Begin(3).Begin(3).U8(0x30).U8(1).U8(5).End().End().bytes())),
       "tls_bad_certificate"},
  };
  for (const Case& c : cases) {
    auto parser = tls::Factory()->Create(Flow(443));
    RecordingOutput out;
    parser->OnData(kToServer, c.bytes, k2024, out);
    EXPECT_EQ(out.anomalies[c.anomaly], 1) << c.name;
  }
  // A hole in the middle of a record.
  auto parser = tls::Factory()->Create(Flow(443));
  RecordingOutput out;
  const auto hello = Record(22, Handshake(1, ClientHelloBody()));
  parser->OnData(kToServer, std::span(hello).first(20), k2024, out);
  parser->OnGap(kToServer, 100, out);
  parser->OnData(kToServer, hello, k2024, out);
  EXPECT_EQ(out.anomalies["tls_truncated_record"], 1);
  EXPECT_TRUE(out.facts.empty());
}

// TLS after a plaintext start (SMTP STARTTLS, RFC 3207): found, but the flow stays SMTP.
TEST(TlsParser, Upgrade) {
  auto parser = tls::Factory()->Create(Flow(25));
  RecordingOutput out;
  const std::string banner = "220 mail.hospital.example ESMTP\r\n250 STARTTLS\r\n220 Ready to start TLS\r\n";
  const std::string commands = "EHLO pump\r\nSTARTTLS\r\n";
  FeedBytewise(
      *parser, kToServer,
      Concat({std::vector<uint8_t>(commands.begin(), commands.end()), Record(22, Handshake(1, ClientHelloBody()))}),
      k2024, out);
  parser->OnData(kToClient,
                 Concat({std::vector<uint8_t>(banner.begin(), banner.end()),
                         Record(22, Handshake(2, ServerHelloBody(0x0303, true, "")))}),
                 k2024, out);
  EXPECT_TRUE(out.Has(Party::kReceiver, Attribute::kServedName, "pacs.example"));
  EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsVersion, "TLS 1.3"));
  EXPECT_EQ(out.application, "");
  EXPECT_TRUE(parser->Done());
  // Plain SMTP that never upgrades: given up after a while.
  auto plain = tls::Factory()->Create(Flow(25));
  const std::vector<uint8_t> text(40 * 1024, 'a');
  plain->OnData(kToServer, text, k2024, out);
  plain->OnData(kToClient, text, k2024, out);
  EXPECT_TRUE(plain->Done());
}

// The TCP payloads of a capture's frames, in order.
std::vector<std::vector<uint8_t>> TcpPayloads(const std::string& path) {
  std::vector<std::vector<uint8_t>> out;
  ::auscult::sensor::testing::ForEachFrame(path, [&](const RawFrame& f) {
    Decoder d;
    PacketView v;
    if (d.Decode(f, v) && v.ip_protocol == kIpProtoTcp && !v.payload.empty()) {
      out.emplace_back(v.payload.begin(), v.payload.end());
    }
  });
  return out;
}

// A real ClientHello (values as tshark gives them), then cut at every length and damaged.
TEST(TlsParser, RealClientHelloCutAndDamaged) {
  const auto path = ::auscult::testing::CapturePath("tls/tls_grease.pcap");
  ASSERT_TRUE(path);
  const auto payloads = TcpPayloads(*path);
  ASSERT_EQ(payloads.size(), 1u);
  const auto& hello = payloads[0];
  {
    auto parser = tls::Factory()->Create(Flow(443));
    RecordingOutput out;
    parser->OnData(kToServer, hello, k2024, out);
    EXPECT_TRUE(out.Has(Party::kReceiver, Attribute::kServedName, "secure.adnxs.com"));
    EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsClientFingerprint, "b32309a26951912be7dba376398abc3b"));
    EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsAlpn, "h2,http/1.1"));
    EXPECT_TRUE(out.Has(Party::kSender, Attribute::kTlsVersion, "TLS 1.3"));
  }
  for (size_t n = 0; n < hello.size(); ++n) {
    auto parser = tls::Factory()->Create(Flow(443));
    RecordingOutput out;
    parser->OnData(kToServer, std::span(hello).first(n), k2024, out);
    EXPECT_TRUE(out.facts.empty()) << n;  // the hello is never complete
  }
  for (size_t i = 0; i < hello.size(); ++i) {
    auto bad = hello;
    bad[i] ^= 0xff;
    auto parser = tls::Factory()->Create(Flow(443));
    RecordingOutput out;
    parser->OnData(kToServer, bad, k2024, out);
    parser->OnData(kToServer, hello, k2024, out);
  }
}

// A real certificate chain (tls/ecdhe.pcap: Google's, 2014) through the whole packet path.
TEST(TlsParser, RealCertificate) {
  const auto path = ::auscult::testing::CapturePath("tls/ecdhe.pcap");
  ASSERT_TRUE(path);
  const auto facts = FactsOf(*path);
  EXPECT_TRUE(facts.count({"64:66:b3:0b:8f:82", Attribute::kServedName, "*.google.com"}));
  EXPECT_TRUE(facts.count({"64:66:b3:0b:8f:82", Attribute::kTlsCertificate,
                           "subject=CN=*.google.com,O=Google Inc; issuer=CN=Google Internet Authority G2,O=Google Inc; "
                           "not_before=2014-04-09; not_after=2014-07-08"}));
  const auto no_cn = ::auscult::testing::CapturePath("tls/cert-no-cn.pcap");
  ASSERT_TRUE(no_cn);
  bool self_signed = false, certificate = false;
  for (const auto& [device, attribute, value] : FactsOf(*no_cn)) {
    self_signed |= attribute == Attribute::kRisk && value == "tls_self_signed_certificate";
    certificate |= attribute == Attribute::kTlsCertificate &&
                   value == "subject=O=TestCorp; issuer=O=TestCorp; not_before=2015-03-04; not_after=2016-03-03";
    EXPECT_FALSE(attribute == Attribute::kRisk && value == "tls_expired_certificate");  // captured in 2015
  }
  EXPECT_TRUE(self_signed);
  EXPECT_TRUE(certificate);
}

// ---- malformed captures ----

// Every malformed capture runs through; the one tshark flags in TLS counts our anomaly.
TEST(TlsParser, MalformedCaptures) {
  std::vector<std::string> files;
  for (const std::string& f : ::auscult::testing::SharedCaptureFiles()) {
    if (f.rfind("malformed/", 0) == 0) files.push_back(f);
  }
  if (files.empty()) files.push_back("malformed/ssl-malformed1.pcap");
  bool saw_tls = false;
  for (const std::string& name : files) {
    const auto path = ::auscult::testing::CapturePath(name);
    ASSERT_TRUE(path) << name;
    EngineOptions options;
    options.flows.parsers = Parsers();
    options.frame_parsers = FrameParsers();
    ::auscult::sensor::testing::RecordingSink sink;
    Engine engine(options, nullptr, &sink);
    ::auscult::sensor::testing::ForEachFrame(*path, [&](const RawFrame& f) { engine.Process(f); });
    engine.Finish();
    if (name == "malformed/ssl-malformed1.pcap") {
      saw_tls = true;
      const auto& anomalies = engine.devices().parser_anomalies();
      auto it = anomalies.find("tls_bad_extension");
      ASSERT_NE(it, anomalies.end());
      EXPECT_EQ(it->second, 1u);
    }
  }
  EXPECT_TRUE(saw_tls);
}

}  // namespace
}  // namespace auscult::sensor
