#include "sensor/parsers/tls/tls_parser.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_join.h"
#include "sensor/decode/packet_view.h"
#include "sensor/flow/service_ports.h"
#include "sensor/parsers/tls/tls_message.h"
#include "sensor/parsers/tls/x509.h"

namespace auscult::sensor::tls {
namespace {

constexpr std::string_view kProtocol = "tls";
// Per direction: the hellos and a TLS 1.2 certificate chain fit in far less (a chain of three
// certificates is 3-6 KiB); a longer handshake message is not kept.
constexpr uint32_t kByteBudget = 64 * 1024;
constexpr size_t kMaxHandshakeMessage = 60 * 1024;
// Plaintext looked through for the start of a handshake on ports where TLS starts inside another
// protocol's session (a STARTTLS command, MySQL's SSLRequest); past this, the flow is not TLS.
constexpr size_t kMaxScan = 16 * 1024;

// Where TLS commonly begins after a plaintext exchange: FTP (RFC 4217), SMTP and submission
// (RFC 3207), POP3 and IMAP (RFC 2595), LDAP (RFC 4511 §4.14), XMPP (RFC 6120 §5), MySQL,
// PostgreSQL.
constexpr uint16_t kUpgradePorts[] = {21, 25, 110, 143, 389, 587, 3306, 5222, 5432};

// What one direction has sent, as a sequence of records whose handshake messages are reassembled.
class Side {
 public:
  enum class State { kScanning, kRecords, kDone };

  explicit Side(bool scanning) : state_(scanning ? State::kScanning : State::kRecords) {}

  bool done() const { return state_ == State::kDone; }
  void Stop() {
    state_ = State::kDone;
    buffer_.clear();
    buffer_.shrink_to_fit();
    handshake_.clear();
    handshake_.shrink_to_fit();
  }
  // Whether the handshake began where the stream did (not after a plaintext upgrade).
  bool from_start() const { return scanned_ == 0; }

  // Appends bytes; calls on_message(type, body) for each complete handshake message.
  template <typename OnMessage>
  void Feed(std::span<const uint8_t> bytes, ParserOutput& out, OnMessage&& on_message) {
    if (done()) return;
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    if (state_ == State::kScanning) Scan();
    size_t pos = 0;
    while (state_ == State::kRecords && buffer_.size() - pos >= kRecordHeaderSize) {
      RecordHeader h;
      Error e;
      if (!ParseRecordHeader(std::span(buffer_).subspan(pos), h, e)) {
        out.CountAnomaly(ErrorName(e));
        Stop();
        return;
      }
      if (buffer_.size() - pos < kRecordHeaderSize + h.length) break;  // the rest is still to come
      const auto fragment = std::span(buffer_).subspan(pos + kRecordHeaderSize, h.length);
      pos += kRecordHeaderSize + h.length;
      Record(h, fragment, out, on_message);
    }
    if (state_ == State::kRecords) buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(pos));
  }

  void Gap(ParserOutput& out) {
    if (state_ == State::kScanning) {  // plaintext: keep looking after the hole
      buffer_.clear();
      return;
    }
    if (state_ == State::kRecords && (!buffer_.empty() || !handshake_.empty())) {
      out.CountAnomaly("tls_truncated_record");  // the hole cut a record or message short
    }
    Stop();  // where the next record starts is unknown
  }

 private:
  // Looks for a handshake record carrying a hello; drops the plaintext before it.
  void Scan() {
    const size_t before = buffer_.size();
    size_t at = 0;
    for (; at + kRecordHeaderSize + kHandshakeHeaderSize <= buffer_.size(); ++at) {
      if (buffer_[at] == kHandshake && LooksLikeHello(std::span(buffer_).subspan(at))) break;
    }
    // Without a match, keep the tail that may be the start of a header split across segments.
    scanned_ += at;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(at));
    if (at + kRecordHeaderSize + kHandshakeHeaderSize <= before) {
      state_ = State::kRecords;
    } else if (scanned_ > kMaxScan) {
      Stop();
    }
  }

  template <typename OnMessage>
  void Record(const RecordHeader& h, std::span<const uint8_t> fragment, ParserOutput& out, OnMessage&& on_message) {
    switch (h.type) {
      case kHandshake:
        handshake_.insert(handshake_.end(), fragment.begin(), fragment.end());
        Messages(out, on_message);
        return;
      case kChangeCipherSpec:  // what follows is encrypted
      case kApplicationData:
        Stop();
        return;
      default:  // alerts, heartbeats: nothing to learn
        return;
    }
  }

  // Handshake messages (RFC 8446 §4): | msg_type (1) | length (3) | body |, any number to a record
  // and any one spread over several.
  template <typename OnMessage>
  void Messages(ParserOutput& out, OnMessage&& on_message) {
    size_t pos = 0;
    while (!done() && handshake_.size() - pos >= kHandshakeHeaderSize) {
      const uint8_t type = handshake_[pos];
      const size_t length =
          static_cast<size_t>(handshake_[pos + 1]) << 16 | handshake_[pos + 2] << 8 | handshake_[pos + 3];
      if (length > kMaxHandshakeMessage) {
        out.CountAnomaly("tls_handshake_too_large");
        Stop();
        return;
      }
      if (handshake_.size() - pos < kHandshakeHeaderSize + length) break;
      const auto body = std::span(handshake_).subspan(pos + kHandshakeHeaderSize, length);
      pos += kHandshakeHeaderSize + length;
      on_message(type, body);
    }
    if (!done()) handshake_.erase(handshake_.begin(), handshake_.begin() + static_cast<ptrdiff_t>(pos));
  }

  State state_;
  std::vector<uint8_t> buffer_;     // stream bytes not yet consumed: at most a partial record
  std::vector<uint8_t> handshake_;  // handshake bytes of a message not yet complete
  size_t scanned_ = 0;
};

class Parser : public FlowParser {
 public:
  // `application`: what the flow is called once TLS is seen: "tls", or the TLS-wrapped service its
  // port names ("dicom-tls" on 2762), which says more.
  Parser(bool may_upgrade, std::string_view application)
      : sides_{Side(may_upgrade), Side(may_upgrade)}, application_(application) {}

  void OnData(sensor::Direction d, std::span<const uint8_t> bytes, TimeNs timestamp, ParserOutput& out) override {
    const int i = static_cast<int>(d);
    sides_[i].Feed(bytes, out,
                   [&](uint8_t type, std::span<const uint8_t> body) { Message(i, type, body, timestamp, out); });
  }
  void OnGap(sensor::Direction d, uint64_t, ParserOutput& out) override { sides_[static_cast<int>(d)].Gap(out); }
  bool Done() const override { return sides_[0].done() && sides_[1].done(); }

 private:
  void Message(int i, uint8_t type, std::span<const uint8_t> body, TimeNs timestamp, ParserOutput& out) {
    Side& self = sides_[i];
    Side& peer = sides_[1 - i];
    switch (type) {
      case kClientHello:
        ClientHelloFacts(body, self.from_start(), out);
        sent_client_hello_[i] = true;
        if (peer_finished_clear_[i]) self.Stop();
        return;
      case kServerHello: {
        sent_server_hello_[i] = true;
        const bool tls13 = ServerHelloFacts(body, self.from_start(), out);
        if (tls13) {  // everything after the ServerHello is encrypted, client certificates too
          self.Stop();
          if (sent_client_hello_[1 - i]) peer.Stop();
        }
        return;
      }
      case kCertificate:
        CertificateFacts(body, timestamp, out);
        if (!sent_server_hello_[i]) self.Stop();  // a client's certificate: nothing more from it
        return;
      case kCertificateRequest:
        certificate_requested_ = true;
        return;
      case kServerHelloDone:
        // The server's flight is over; unless it asked for the client's certificate, nothing the
        // client sends from now on is of interest either.
        self.Stop();
        if (!certificate_requested_) {
          peer_finished_clear_[1 - i] = true;
          if (sent_client_hello_[1 - i]) peer.Stop();
        }
        return;
      default:
        return;
    }
  }

  void ClientHelloFacts(std::span<const uint8_t> body, bool from_start, ParserOutput& out) {
    ClientHello h;
    Error e;
    if (!ParseClientHello(body, h, e)) {
      out.CountAnomaly(ErrorName(e));
      return;
    }
    Encrypted(from_start, out);
    if (!h.server_name.empty()) {
      out.AddFact(Party::kReceiver, Fact{Attribute::kServedName, h.server_name, kProtocol, "sni", 0.6f});
    }
    if (!h.alpn.empty()) {
      const std::string alpn = absl::StrJoin(h.alpn, ",");
      out.AddFact(Party::kSender, Fact{Attribute::kTlsAlpn, alpn, kProtocol, "alpn", 0.9f});
    }
    const std::string version = VersionName(HighestOfferedVersion(h));
    out.AddFact(Party::kSender, Fact{Attribute::kTlsVersion, version, kProtocol, "version", 0.9f});
    const std::string ja3 = Md5Hex(Ja3String(h));
    if (!ja3.empty()) out.AddFact(Party::kSender, Fact{Attribute::kTlsClientFingerprint, ja3, kProtocol, "ja3", 0.8f});
  }

  // Returns whether the server picked TLS 1.3 (or a draft of it).
  bool ServerHelloFacts(std::span<const uint8_t> body, bool from_start, ParserOutput& out) {
    ServerHello h;
    Error e;
    if (!ParseServerHello(body, h, e)) {
      out.CountAnomaly(ErrorName(e));
      return false;
    }
    Encrypted(from_start, out);
    const uint16_t selected = SelectedVersion(h);
    out.AddFact(Party::kSender, Fact{Attribute::kTlsVersion, VersionName(selected), kProtocol, "version", 0.9f});
    if (!h.alpn.empty()) out.AddFact(Party::kSender, Fact{Attribute::kTlsAlpn, h.alpn, kProtocol, "alpn", 0.9f});
    const std::string ja3s = Md5Hex(Ja3sString(h));
    if (!ja3s.empty()) {
      out.AddFact(Party::kSender, Fact{Attribute::kTlsServerFingerprint, ja3s, kProtocol, "ja3s", 0.8f});
    }
    return !h.hello_retry_request && (selected == 0x0304 || (selected & 0xff00) == 0x7f00);
  }

  void CertificateFacts(std::span<const uint8_t> body, TimeNs timestamp, ParserOutput& out) {
    std::span<const uint8_t> der;
    Error e;
    if (!FirstCertificate(body, der, e)) {
      out.CountAnomaly(ErrorName(e));
      return;
    }
    if (der.empty()) return;  // a client with no certificate to give
    CertificateSummary cert;
    X509Error xe;
    if (!ParseCertificate(der, cert, xe)) {
      out.CountAnomaly("tls_bad_certificate");
      return;
    }
    const std::string summary = FormatCertificate(cert);
    out.AddFact(Party::kSender, Fact{Attribute::kTlsCertificate, summary, kProtocol, "certificate", 0.9f});
    if (cert.subject.has_common_name && !cert.subject.common_name.empty()) {
      out.AddFact(Party::kSender,
                  Fact{Attribute::kServedName, cert.subject.common_name, kProtocol, "certificate_cn", 0.8f});
    }
    if (cert.self_issued) {
      out.AddFact(Party::kSender,
                  Fact{Attribute::kRisk, "tls_self_signed_certificate", kProtocol, "certificate", 0.9f});
    }
    if (cert.not_after < timestamp / kNanosPerSecond) {
      out.AddFact(Party::kSender, Fact{Attribute::kRisk, "tls_expired_certificate", kProtocol, "certificate", 0.9f});
    }
  }

  // A hello opened the session: what follows it is encrypted, whoever started it.
  void Encrypted(bool from_start, ParserOutput& out) {
    out.MarkEncrypted();
    if (from_start) out.SetApplication(application_);
  }

  Side sides_[2];
  std::string_view application_;
  bool sent_client_hello_[2] = {false, false};
  // The peer of this side ended its cleartext flight without asking for a certificate.
  bool peer_finished_clear_[2] = {false, false};
  bool sent_server_hello_[2] = {false, false};
  bool certificate_requested_ = false;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, sensor::Direction, std::span<const uint8_t> first) const override {
    if (flow.transport != kIpProtoTcp) return false;
    return LooksLikeHello(first) || MayUpgrade(flow);
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override {
    const std::string_view service = ServiceForPort(kIpProtoTcp, flow.responder.port);
    return std::make_unique<Parser>(MayUpgrade(flow), service.ends_with("-tls") ? service : kProtocol);
  }
  uint64_t byte_budget() const override { return kByteBudget; }

 private:
  static bool MayUpgrade(const FlowContext& flow) {
    return std::find(std::begin(kUpgradePorts), std::end(kUpgradePorts), flow.responder.port) !=
           std::end(kUpgradePorts);
  }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::tls
