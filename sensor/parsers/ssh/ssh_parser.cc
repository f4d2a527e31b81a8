#include "sensor/parsers/ssh/ssh_parser.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/ssh/ssh_message.h"

namespace auscult::sensor::ssh {
namespace {

constexpr std::string_view kProtocol = "ssh";
constexpr size_t kMaxLine = 1024;    // lines before the identification have no limit in the RFC
constexpr int kMaxLinesBefore = 16;  // nor does their number; real servers send a few at most
constexpr uint32_t kByteBudget = 16 * 1024;

// One direction: lines until the identification string, then nothing.
class Side {
 public:
  bool done() const { return done_; }
  void Stop() { done_ = true; }

  // Calls on_identification(id) once, when the identification string is complete.
  template <typename OnIdentification>
  void Feed(std::span<const uint8_t> bytes, ParserOutput& out, OnIdentification&& on_identification) {
    size_t i = 0;
    while (i < bytes.size() && !done_) {  // every pass consumes at least one byte
      const uint8_t* start = bytes.data() + i;
      const void* lf = std::memchr(start, '\n', bytes.size() - i);
      const size_t take = lf ? static_cast<size_t>(static_cast<const uint8_t*>(lf) - start) : bytes.size() - i;
      line_.append(reinterpret_cast<const char*>(start), std::min(take, kMaxLine + 1 - line_.size()));
      i += take;
      if (line_.size() > kMaxLine) {  // no line end in sight: not SSH, or a runaway banner
        out.CountAnomaly(line_.starts_with("SSH-") ? "ssh_identification_too_long" : "ssh_no_identification");
        done_ = true;
        return;
      }
      if (!lf) return;
      ++i;
      Line(out, on_identification);
      line_.clear();
    }
  }

 private:
  template <typename OnIdentification>
  void Line(ParserOutput& out, OnIdentification& on_identification) {
    Identification id;
    Error error;
    if (ParseIdentification(line_, id, error)) {
      on_identification(id);
      done_ = true;
    } else if (error != Error::kNotIdentification) {
      out.CountAnomaly(ErrorName(error));
      done_ = true;
    } else if (++lines_before_ > kMaxLinesBefore) {
      out.CountAnomaly(ErrorName(error));
      done_ = true;
    }
  }

  std::string line_;
  int lines_before_ = 0;
  bool done_ = false;
};

class Parser : public FlowParser {
 public:
  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    // The responder accepted the connection: it is the server (RFC 4253 §4: the client initiates).
    const bool from_server = d == Direction::kToInitiator;
    sides_[static_cast<int>(d)].Feed(bytes, out, [&](const Identification& id) {
      out.SetApplication(kProtocol);
      if (from_server) {
        out.AddFact(Party::kSender, Fact{Attribute::kServerSoftware, id.line, kProtocol, "banner", 0.9f});
        out.AddFact(Party::kSender, Fact{Attribute::kService, "ssh-server", kProtocol, "banner", 0.9f});
      } else {
        out.AddFact(Party::kSender, Fact{Attribute::kSoftware, id.line, kProtocol, "banner", 0.7f});
      }
    });
  }
  // The identification is at the start of each direction: after a hole it is lost.
  void OnGap(Direction d, uint64_t, ParserOutput&) override { sides_[static_cast<int>(d)].Stop(); }
  bool Done() const override { return sides_[0].done() && sides_[1].done(); }

 private:
  Side sides_[2];
};

bool Printable(std::span<const uint8_t> b) {
  if (b.empty()) return false;
  for (uint8_t c : b.first(std::min<size_t>(b.size(), 4))) {
    if ((c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\t') return false;
  }
  return true;
}

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  // "SSH-" on any port; on port 22 also a line of text, which may be one a server sends before
  // its identification. Encrypted packets (a capture that starts mid-session) begin with a
  // binary length and are not taken.
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    if (flow.transport != kIpProtoTcp) return false;
    static constexpr uint8_t kMagic[4] = {'S', 'S', 'H', '-'};
    if (first.size() >= 4 && std::equal(first.begin(), first.begin() + 4, kMagic)) return true;
    return EitherPort(flow, {22}) && Printable(first);
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
  uint64_t byte_budget() const override { return kByteBudget; }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::ssh
