#include "sensor/parsers/smb/smb_parser.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sensor/decode/packet_view.h"
#include "sensor/parsers/smb/ntlmssp.h"
#include "sensor/parsers/smb/smb_message.h"

namespace auscult::sensor::smb {
namespace {

constexpr std::string_view kProtocol = "smb";
// The session setup exchange fits in far less; bigger messages (reads, writes) are skipped unread.
constexpr uint32_t kMaxMessage = 32 * 1024;
// Per direction: negotiate, session setup rounds, and a few more when the capture starts late.
constexpr int kMaxMessages = 16;
constexpr uint32_t kStatusMoreProcessingRequired = 0xC0000016;
constexpr size_t kMaxDialects = 32;

// One direction of the connection: NetBIOS session messages cut out of the byte stream.
struct Stream {
  uint8_t header[kSessionHeaderSize] = {};
  size_t header_have = 0;
  SessionHeader current;
  std::vector<uint8_t> body;
  uint64_t skip = 0;  // bytes left of a message too big to keep
  int messages = 0;
  bool stopped = false;
};

class Parser : public FlowParser {
 public:
  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    Stream& s = streams_[static_cast<int>(d)];
    while (!bytes.empty() && !done_ && !s.stopped) {
      if (s.skip > 0) {
        const size_t n = std::min<uint64_t>(s.skip, bytes.size());
        s.skip -= n;
        bytes = bytes.subspan(n);
        continue;
      }
      if (s.header_have < kSessionHeaderSize) {
        const size_t n = std::min(kSessionHeaderSize - s.header_have, bytes.size());
        std::copy_n(bytes.begin(), n, s.header + s.header_have);
        s.header_have += n;
        bytes = bytes.subspan(n);
        if (s.header_have < kSessionHeaderSize) return;
        s.current = ReadSessionHeader(s.header);
        if (!KnownSessionType(s.current.type)) {
          // Not NetBIOS session framing (or lost track of it): nothing more to read here.
          out.CountAnomaly("smb_bad_session_header");
          s.stopped = true;
          return;
        }
        s.body.clear();
        if (s.current.length > kMaxMessage) {
          s.skip = s.current.length;
          s.header_have = 0;
          Counted(s);
          continue;
        }
      }
      const size_t n = std::min<size_t>(s.current.length - s.body.size(), bytes.size());
      s.body.insert(s.body.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      bytes = bytes.subspan(n);
      if (s.body.size() < s.current.length) return;
      s.header_have = 0;
      Message(s, out);
      Counted(s);
    }
  }

  void OnGap(Direction d, uint64_t, ParserOutput&) override {
    // Where the next message starts is lost; the identity is in the first messages anyway.
    streams_[static_cast<int>(d)].stopped = true;
  }

  bool Done() const override { return done_ || (streams_[0].stopped && streams_[1].stopped); }

 private:
  static void Counted(Stream& s) {
    if (++s.messages >= kMaxMessages) s.stopped = true;
    if (s.stopped) s.body = {};
  }

  void Message(Stream& s, ParserOutput& out) {
    const std::span<const uint8_t> body(s.body);
    if (s.current.type == 0x81) {
      SessionRequest request;
      Error error;
      if (!ParseSessionRequest(body, request, error)) {
        out.CountAnomaly(ErrorName(error));
        return;
      }
      // The client's own name, and the name it calls the server by (unless the wildcard).
      Add(out, Party::kSender, Attribute::kHostname, request.calling, "nbss_calling_name", 0.8f);
      if (request.called.rfind('*', 0) != 0) {
        Add(out, Party::kReceiver, Attribute::kHostname, request.called, "nbss_called_name", 0.6f);
      }
      return;
    }
    if (s.current.type != 0x00) return;  // session responses, retargets, keepalives
    std::vector<Command> commands;
    bool encrypted = false;
    Error error;
    const bool ok = ParseMessage(body, commands, encrypted, error);
    if (!ok) {
      out.CountAnomaly(ErrorName(error));
      if (s.messages == 0 && commands.empty()) {
        s.stopped = true;  // the first message is not SMB: this is another protocol
        return;
      }
    }
    if (encrypted) {
      out.SetApplication(kProtocol);
      done_ = true;  // nothing readable follows
      return;
    }
    for (const Command& c : commands) Facts(c, out);
  }

  void Facts(const Command& c, ParserOutput& out) {
    out.SetApplication(kProtocol);
    if (c.response && !server_noted_) {
      server_noted_ = true;
      out.AddFact(Party::kSender, Fact{Attribute::kService, "smb-server", kProtocol, "response", 0.9f});
    }
    if (c.negotiate) {
      if (c.version == 1 && !c.response) {
        dialects_.assign(c.dialects.begin(), c.dialects.begin() + std::min(c.dialects.size(), kMaxDialects));
      } else if (c.version == 1 && c.dialect_index < dialects_.size()) {
        const std::string dialect = absl::StrCat("SMB 1 (", dialects_[c.dialect_index], ")");
        Add(out, Party::kSender, Attribute::kSoftware, dialect, "dialect", 0.9f);
      } else if (c.version == 2 && c.response) {
        Add(out, Party::kSender, Attribute::kSoftware, DialectName(c.dialect_revision), "dialect", 0.9f);
      }
      Add(out, Party::kReceiver, Attribute::kServedName, c.netname, "netname", 0.6f);
      Add(out, Party::kSender, Attribute::kHostname, c.server_name, "server_name", 0.8f);
    }
    Add(out, Party::kSender, Attribute::kOs, c.native_os, "native_os", 0.9f);
    Add(out, Party::kSender, Attribute::kSoftware, c.native_lanman, "native_lanman", 0.9f);
    // A server states its own domain; a client's is the account's, usually but not always its own.
    Add(out, Party::kSender, Attribute::kDomain, c.primary_domain, "primary_domain", c.response ? 0.8f : 0.6f);
    if (!c.security_blob.empty()) Ntlm(c.security_blob, out);
    if (c.session_setup && c.response && c.status != kStatusMoreProcessingRequired) {
      done_ = true;  // the session is set up (or refused): what follows is file traffic
    }
  }

  void Ntlm(std::span<const uint8_t> blob, ParserOutput& out) {
    const auto message = FindNtlmssp(blob);
    if (!message) return;  // Kerberos, or SPNEGO without a token
    NtlmMessage m;
    NtlmError error;
    if (!ParseNtlmssp(*message, m, error)) out.CountAnomaly(NtlmErrorName(error));
    if (m.type == 2) {  // CHALLENGE, from the server
      Add(out, Party::kSender, Attribute::kHostname, m.nb_computer, "ntlm_nb_computer", 0.9f);
      Add(out, Party::kSender, Attribute::kDomain, m.nb_domain, "ntlm_nb_domain", 0.9f);
      Add(out, Party::kSender, Attribute::kFqdn, m.dns_computer, "ntlm_dns_computer", 0.9f);
      Add(out, Party::kSender, Attribute::kDomain, m.dns_domain, "ntlm_dns_domain", 0.9f);
      Add(out, Party::kSender, Attribute::kDomain, m.dns_tree, "ntlm_dns_tree", 0.7f);
      if (m.target_is_domain()) {
        Add(out, Party::kSender, Attribute::kDomain, m.target_name, "ntlm_target_name", 0.8f);
      } else if (m.target_is_server()) {
        Add(out, Party::kSender, Attribute::kHostname, m.target_name, "ntlm_target_name", 0.8f);
      }
    } else if (m.type == 1 || m.type == 3) {  // NEGOTIATE, AUTHENTICATE, from the client
      Add(out, Party::kSender, Attribute::kHostname, m.workstation, "ntlm_workstation", 0.9f);
      // The account's domain: the client's own for domain and local accounts, the server's
      // name when the client logs on with one of the server's local accounts.
      Add(out, Party::kSender, Attribute::kDomain, m.domain, "ntlm_domain", 0.6f);
    }
    if (m.version.present) {
      Add(out, Party::kSender, Attribute::kOsVersion, VersionText(m.version), "ntlm_version", 0.8f);
    }
  }

  static void Add(ParserOutput& out, Party party, Attribute attribute, const std::string& value, std::string_view field,
                  float confidence) {
    if (!value.empty()) out.AddFact(party, Fact{attribute, value, kProtocol, field, confidence});
  }

  Stream streams_[2];
  std::vector<std::string> dialects_;  // the client's SMB1 NEGOTIATE offer, for the server's choice
  bool server_noted_ = false;
  bool done_ = false;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    if (flow.transport != kIpProtoTcp) return false;
    if (EitherPort(flow, {445, 139})) return true;
    return LooksLikeSmb(first);
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
  uint64_t byte_budget() const override { return 64 * 1024; }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::smb
