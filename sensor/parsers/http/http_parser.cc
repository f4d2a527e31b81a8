#include "sensor/parsers/http/http_parser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/logging.h"
#include "sensor/decode/packet_view.h"
#include "sensor/parsers/http/http_message.h"

namespace auscult::sensor::http {
namespace {

constexpr std::string_view kProtocol = "http";
constexpr size_t kMaxHead = 16 * 1024;
constexpr int kMaxMessages = 32;  // per direction: the identity is in the first few

// One direction of a connection: heads parsed, bodies skipped, until it cannot tell where the next
// message starts (a body that runs to the close, a gap) or has seen enough.
class Direction {
 public:
  bool done() const { return done_; }

  void Feed(std::span<const uint8_t> bytes, Party about_sender, ParserOutput& out) {
    std::string_view data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    while (!data.empty() && !done_) {
      if (body_left_ > 0) {  // inside a body of known length
        const size_t skip = std::min<uint64_t>(body_left_, data.size());
        body_left_ -= skip;
        data.remove_prefix(skip);
        continue;
      }
      if (chunked_) {
        if (!Chunk(data)) return;
        continue;
      }
      const size_t room = kMaxHead - head_.size();
      const size_t take = std::min(room, data.size());
      head_.append(data.substr(0, take));
      data.remove_prefix(take);
      const size_t end = head_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (head_.size() >= kMaxHead) {
          out.CountAnomaly("http_head_too_large");
          done_ = true;
        }
        return;
      }
      // Bytes after the head belong to what follows it.
      std::string rest = head_.substr(end + 4);
      head_.resize(end);
      Message(about_sender, out);
      head_.clear();
      if (!rest.empty() && !done_) {
        Feed(std::span(reinterpret_cast<const uint8_t*>(rest.data()), rest.size()), about_sender, out);
      }
    }
  }

  void Gap() {
    // Where the next message starts is unknown now.
    done_ = true;
  }

 private:
  void Message(Party party, ParserOutput& out) {
    Head h;
    if (!ParseHead(head_, h)) {
      out.CountAnomaly("http_not_http");
      done_ = true;
      return;
    }
    out.SetApplication(kProtocol);
    if (h.bad_field_line) out.CountAnomaly("http_bad_field_line");
    if (h.request) {
      if (auto ua = h.Get("user-agent"); ua && !ua->empty()) {
        out.AddFact(party, Fact{Attribute::kUserAgent, *ua, kProtocol, "user_agent", 0.7f});
      }
      if (auto host = h.Get("host"); host && !host->empty()) {
        out.AddFact(party == Party::kSender ? Party::kReceiver : Party::kSender,
                    Fact{Attribute::kServedName, *host, kProtocol, "host", 0.6f});
      }
    } else if (auto server = h.Get("server"); server && !server->empty()) {
      out.AddFact(party, Fact{Attribute::kServerSoftware, *server, kProtocol, "server", 0.8f});
    }
    // Where does this message's body end?
    const bool bodiless = !h.request && (h.status < 200 || h.status == 204 || h.status == 304);
    if (auto te = h.Get("transfer-encoding");
        te && absl::StrContains(absl::AsciiStrToLower(std::string(*te)), "chunked")) {
      chunked_ = true;
    } else if (auto cl = h.Get("content-length")) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(AsAbsl(*cl), &n)) {
        out.CountAnomaly("http_bad_content_length");
        done_ = true;
      }
      body_left_ = n;
    } else if (!h.request && !bodiless) {
      done_ = true;  // the body runs until the connection closes
    }
    if (++messages_ >= kMaxMessages) done_ = true;
  }

  // Reads up to the end of a line into line_ (without CRLF); false when the line is not complete.
  bool ReadLine(std::string_view& data) {
    const size_t eol = data.find('\n');
    if (eol == std::string_view::npos) {
      line_.append(data);
      data = {};
      if (line_.size() > 1024) done_ = true;  // no chunk-size line is that long
      return false;
    }
    line_.append(data.substr(0, eol));
    data.remove_prefix(eol + 1);
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    return true;
  }

  // Chunked body: | size in hex [;ext] CRLF | data CRLF | ... | 0 CRLF | trailers | CRLF |.
  // Returns false when more bytes are needed.
  bool Chunk(std::string_view& data) {
    if (!ReadLine(data)) return false;
    const std::string line = std::move(line_);
    line_.clear();
    if (in_trailers_) {
      if (line.empty()) {
        chunked_ = false;
        in_trailers_ = false;
      }
      return true;
    }
    if (expect_crlf_) {  // the CRLF after a chunk's data
      expect_crlf_ = false;
      return true;
    }
    uint64_t size = 0;
    const std::string hex = line.substr(0, line.find(';'));
    if (hex.empty() || !absl::SimpleHexAtoi(absl::StripAsciiWhitespace(hex), &size)) {
      done_ = true;
      return false;
    }
    if (size == 0) {
      in_trailers_ = true;
    } else {
      body_left_ = size;
      expect_crlf_ = true;
    }
    return true;
  }

  std::string head_;
  std::string line_;
  uint64_t body_left_ = 0;
  bool chunked_ = false;
  bool expect_crlf_ = false;
  bool in_trailers_ = false;
  bool done_ = false;
  int messages_ = 0;
};

class Parser : public FlowParser {
 public:
  void OnData(sensor::Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    directions_[static_cast<int>(d)].Feed(bytes, Party::kSender, out);
  }
  void OnGap(sensor::Direction d, uint64_t, ParserOutput&) override { directions_[static_cast<int>(d)].Gap(); }
  bool Done() const override { return directions_[0].done() && directions_[1].done(); }

 private:
  Direction directions_[2];
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, sensor::Direction, std::span<const uint8_t> first) const override {
    return flow.transport == kIpProtoTcp &&
           LooksLikeHttp(std::string_view(reinterpret_cast<const char*>(first.data()), first.size()));
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::http
