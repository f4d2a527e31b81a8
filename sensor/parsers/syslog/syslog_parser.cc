#include "sensor/parsers/syslog/syslog_parser.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/syslog/syslog_message.h"

namespace auscult::sensor::syslog {
namespace {

constexpr std::string_view kProtocol = "syslog";
constexpr size_t kMaxHead = 1024;        // a header fits; the rest of a message is skipped unread
constexpr uint64_t kMaxFrame = 1 << 20;  // an octet count beyond any real message
constexpr int kMaxMessages = 32;         // per direction: a sender's identity is in the first

bool IsDigit(uint8_t c) { return c >= '0' && c <= '9'; }

// Whether a TCP stream begins like syslog: "<PRI>..." (newline framing) or "LEN <PRI>..." (octet
// counting), RFC 6587 §3.4. TCP 514 is also rsh, which starts otherwise.
bool LooksLikeSyslog(std::span<const uint8_t> b) {
  size_t i = 0;
  while (i < b.size() && i < 7 && IsDigit(b[i])) ++i;
  if (i > 0) {
    if (i >= b.size() || b[i] != ' ') return false;
    ++i;
  }
  return i < b.size() && b[i] == '<';
}

// One direction of a TCP connection, split into messages (RFC 6587 §3.4): each either
//   octet-counted:  MSG-LEN SP SYSLOG-MSG   (MSG-LEN decimal, no leading zero)
//   or non-transparent: SYSLOG-MSG LF        (some senders end with NUL or CR LF instead)
// decided per message by its first byte, since senders mix them (a digit cannot start a message,
// which begins with '<'). Only the first kMaxHead bytes of a message are kept.
class Stream {
 public:
  bool done() const { return done_; }
  void Stop() { done_ = true; }

  // Calls on_message(head) for each complete message.
  template <typename OnMessage>
  void Feed(std::span<const uint8_t> bytes, ParserOutput& out, OnMessage&& on_message) {
    size_t i = 0;
    while (i < bytes.size() && !done_) {  // every pass consumes at least one byte
      const uint8_t c = bytes[i];
      switch (state_) {
        case State::kStart:
          ++i;
          if (IsDigit(c) && c != '0') {
            count_ = c - '0';
            state_ = State::kCount;
          } else if (c == '<') {
            head_.assign(1, '<');
            state_ = State::kLine;
          } else if (c != '\n' && c != '\r' && c != '\0') {
            out.CountAnomaly("syslog_bad_framing");
            done_ = true;
          }
          break;
        case State::kCount:
          ++i;
          if (IsDigit(c) && count_ * 10 + (c - '0') <= kMaxFrame) {
            count_ = count_ * 10 + (c - '0');
          } else if (c == ' ') {
            head_.clear();
            state_ = State::kCounted;
          } else {
            out.CountAnomaly("syslog_bad_framing");
            done_ = true;
          }
          break;
        case State::kCounted: {
          const size_t take = static_cast<size_t>(std::min<uint64_t>(count_, bytes.size() - i));
          Keep(bytes.subspan(i, take));
          i += take;
          count_ -= take;
          if (count_ == 0) Complete(on_message);
          break;
        }
        case State::kLine: {
          const uint8_t* start = bytes.data() + i;
          const void* lf = std::memchr(start, '\n', bytes.size() - i);
          const size_t take = lf ? static_cast<size_t>(static_cast<const uint8_t*>(lf) - start) : bytes.size() - i;
          Keep(bytes.subspan(i, take));
          i += take;
          if (lf) {
            ++i;
            Complete(on_message);
          }
          break;
        }
      }
    }
  }

 private:
  enum class State { kStart, kCount, kCounted, kLine };

  void Keep(std::span<const uint8_t> bytes) {
    const size_t room = kMaxHead - std::min(kMaxHead, head_.size());
    head_.append(reinterpret_cast<const char*>(bytes.data()), std::min(room, bytes.size()));
  }
  template <typename OnMessage>
  void Complete(OnMessage& on_message) {
    on_message(std::string_view(head_));
    head_.clear();
    state_ = State::kStart;
    if (++messages_ >= kMaxMessages) done_ = true;
  }

  State state_ = State::kStart;
  uint64_t count_ = 0;
  std::string head_;
  int messages_ = 0;
  bool done_ = false;
};

class Parser : public FlowParser {
 public:
  explicit Parser(const FlowContext& flow) : tcp_(flow.transport == kIpProtoTcp) {}

  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    const int side = static_cast<int>(d);
    auto on_message = [&](std::string_view text) { Message(side, text, out); };
    if (tcp_) {
      streams_[side].Feed(bytes, out, on_message);
      return;
    }
    // UDP: a datagram is one message (RFC 5426 §3.1).
    on_message(std::string_view(reinterpret_cast<const char*>(bytes.data()), std::min(bytes.size(), kMaxHead)));
    if (++datagrams_ >= kMaxMessages) {
      streams_[0].Stop();
      streams_[1].Stop();
    }
  }
  // Where the next message starts after a hole is unknown.
  void OnGap(Direction d, uint64_t, ParserOutput&) override { streams_[static_cast<int>(d)].Stop(); }
  bool Done() const override { return streams_[0].done() && streams_[1].done(); }

 private:
  void Message(int side, std::string_view text, ParserOutput& out) {
    syslog::Message m;
    Error error;
    if (!Parse(text, m, error)) {
      out.CountAnomaly(ErrorName(error));
      return;
    }
    out.SetApplication(kProtocol);
    out.AddFact(Party::kReceiver, Fact{Attribute::kService, "syslog-server", kProtocol, "message", 0.7f});
    // HOSTNAME names the originator; a relay forwards others' messages under their names, so a
    // direction that carries a second name is a relay and no name is taken from it any more.
    if (!m.hostname.empty() && !relay_[side]) {
      if (hostname_[side].empty()) hostname_[side] = m.hostname;
      if (hostname_[side] != m.hostname) {
        relay_[side] = true;
      } else if (!IsIpAddress(m.hostname) && m.hostname != "localhost") {
        out.AddFact(Party::kSender, Fact{Attribute::kHostname, m.hostname, kProtocol, "hostname", 0.6f});
      }
    }
    if (!m.app_name.empty() && !relay_[side]) {
      out.AddFact(Party::kSender, Fact{Attribute::kSoftware, m.app_name, kProtocol,
                                       m.version == 1 ? std::string_view("app_name") : std::string_view("tag"), 0.4f});
    }
  }

  const bool tcp_;
  Stream streams_[2];
  int datagrams_ = 0;
  std::string hostname_[2];
  bool relay_[2] = {false, false};
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    if (flow.transport == kIpProtoUdp) return EitherPort(flow, {514});
    return flow.transport == kIpProtoTcp && EitherPort(flow, {514, 601}) && LooksLikeSyslog(first);
  }
  std::unique_ptr<FlowParser> Create(const FlowContext& flow) const override { return std::make_unique<Parser>(flow); }
  uint64_t byte_budget() const override { return 32 * 1024; }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::syslog
