#include "sensor/parsers/http/http_parser.h"

#include <algorithm>
#include <deque>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/logging.h"
#include "sensor/decode/packet_view.h"
#include "sensor/parsers/http/fhir.h"
#include "sensor/parsers/http/http_message.h"

namespace auscult::sensor::http {
namespace {

constexpr std::string_view kProtocol = "http";
constexpr std::string_view kFhir = "fhir";
constexpr size_t kMaxHead = 16 * 1024;
constexpr int kMaxMessages = 32;       // per direction: the identity is in the first few
constexpr int kMaxFhirMessages = 256;  // per direction on a FHIR connection, whose messages are counted
// Requests waiting for their responses (HTTP/1.1 pipelining). Beyond this, responses are no longer
// matched to requests on the connection: every request is then counted without a response time.
constexpr size_t kMaxPending = 32;

class Parser;

// One direction of a connection: heads parsed, bodies skipped, until it cannot tell where the next
// message starts (a body that runs to the close, a gap) or has seen enough.
class Stream {
 public:
  bool done() const { return done_; }

  void Feed(std::span<const uint8_t> bytes, sensor::Direction direction, TimeNs now, Parser& parser,
            ParserOutput& out) {
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
      Message(direction, now, parser, out);
      head_.clear();
      if (!rest.empty() && !done_) {
        Feed(std::span(reinterpret_cast<const uint8_t*>(rest.data()), rest.size()), direction, now, parser, out);
      }
    }
  }

  void Gap() {
    // Where the next message starts is unknown now.
    done_ = true;
  }

 private:
  void Message(sensor::Direction direction, TimeNs now, Parser& parser, ParserOutput& out);

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

// What a request said that its exchange needs once the response comes: no target, no values.
struct Request {
  std::string method;
  fhir::Interaction interaction;  // views into the fixed list of resource types only
  bool fhir_path = false;         // the target has FHIR's REST shape
  bool fhir_media = false;        // Content-Type or Accept is a FHIR media type
  bool has_body = false;
  bool head = false;  // a HEAD request: its response has no body, whatever Content-Length says
  TimeNs time = 0;
};

struct Response {
  bool fhir_media = false;
  bool html = false;        // a web page: a path that looked like FHIR was not (an ASP.NET /Account/Login)
  bool structured = false;  // a JSON or XML body, as a FHIR server answers with
  bool ok_with_body = false;
  TimeNs time = 0;
};

class Parser : public FlowParser {
 public:
  void OnData(sensor::Direction d, std::span<const uint8_t> bytes, TimeNs now, ParserOutput& out) override {
    streams_[static_cast<int>(d)].Feed(bytes, d, now, *this, out);
    AfterInput(d, out);
  }
  void OnGap(sensor::Direction d, uint64_t, ParserOutput& out) override {
    streams_[static_cast<int>(d)].Gap();
    AfterInput(d, out);
  }
  void OnEnd(ParserOutput& out) override { AnswerNone(sensor::Direction::kToResponder, out); }
  bool Done() const override { return streams_[0].done() && streams_[1].done() && pending_.empty(); }

  int message_limit() const { return fhir_ ? kMaxFhirMessages : kMaxMessages; }
  // Whether the next response answers a HEAD request.
  bool AnswersHead() const { return !pending_.empty() && pending_.front().head; }

  // A message head, and whether a body follows it.
  void OnMessage(sensor::Direction d, const Head& h, bool has_body, TimeNs now, ParserOutput& out) {
    out.SetApplication(fhir_ ? kFhir : kProtocol);
    if (h.request) {
      if (auto ua = h.Get("user-agent"); ua && !ua->empty()) {
        out.AddFact(Party::kSender, Fact{Attribute::kUserAgent, *ua, kProtocol, "user_agent", 0.7f});
      }
      if (auto host = h.Get("host"); host && !host->empty()) {
        out.AddFact(Party::kReceiver, Fact{Attribute::kServedName, *host, kProtocol, "host", 0.6f});
      }
      Credentials(h, out);
      OnRequest(d, h, has_body, now, out);
      return;
    }
    if (auto server = h.Get("server"); server && !server->empty()) {
      out.AddFact(Party::kSender, Fact{Attribute::kServerSoftware, *server, kProtocol, "server", 0.8f});
    }
    // A server that asks for a password in clear (plain HTTP is all this parser reads).
    if (auto challenge = h.Get("www-authenticate"); challenge && Scheme(*challenge) == "basic") {
      out.AddFact(Party::kSender,
                  Fact{Attribute::kRisk, "http_basic_auth_offered", kProtocol, "www-authenticate", 0.8f});
    }
    // 1xx but 101 are interim: the final response is still to come.
    if (h.status < 200 && h.status != 101) return;
    if (pending_.empty()) return;  // the capture began after the request, or matching was given up
    const Request request = std::move(pending_.front());
    pending_.pop_front();
    Response response;
    response.time = now;
    if (auto type = h.Get("content-type")) {
      response.fhir_media = fhir::IsFhirMediaType(*type);
      response.html = absl::StartsWithIgnoreCase(AsAbsl(*type), "text/html");
      const std::string lower = absl::AsciiStrToLower(std::string(*type));
      response.structured = absl::StrContains(lower, "json") || absl::StrContains(lower, "xml");
    }
    response.ok_with_body = h.status >= 200 && h.status < 300 && has_body;
    Exchange(request, &response, d, out);
  }

 private:
  // The authentication scheme of an Authorization or WWW-Authenticate value, lower case: "basic".
  static std::string Scheme(std::string_view value) {
    const size_t space = value.find(' ');
    return absl::AsciiStrToLower(std::string(value.substr(0, std::min<size_t>(space, 16))));
  }

  // Credentials a client sends in clear: a Basic password (base64 is no protection) or a bearer
  // token, either of which whoever sees the packet can replay. Reported as a risk of the client and a
  // tag on the flow; the header's value is never read past its scheme. Digest sends no password.
  static void Credentials(const Head& h, ParserOutput& out) {
    for (std::string_view field : {"authorization", "proxy-authorization"}) {
      const auto value = h.Get(field);
      if (!value) continue;
      const std::string scheme = Scheme(*value);
      const std::string_view provenance = scheme == "basic"    ? std::string_view("authorization-basic")
                                          : scheme == "bearer" ? std::string_view("authorization-bearer")
                                                               : std::string_view();
      if (provenance.empty()) continue;
      out.MarkCleartextCredentials();
      out.AddFact(Party::kSender, Fact{Attribute::kRisk, "http_cleartext_credentials", kProtocol, provenance, 0.9f});
    }
  }

  void OnRequest(sensor::Direction d, const Head& h, bool has_body, TimeNs now, ParserOutput& out) {
    request_direction_ = d;
    Request r;
    r.method = std::string(h.method);
    r.fhir_path = fhir::ParseTarget(h.target, r.interaction);
    for (std::string_view field : {"content-type", "accept"}) {
      if (auto v = h.Get(field); v && fhir::IsFhirMediaType(*v)) r.fhir_media = true;
    }
    r.has_body = has_body;
    r.head = h.method == "HEAD";
    r.time = now;
    if (matching_lost_) {
      Exchange(r, nullptr, d, out);
      return;
    }
    if (pending_.size() >= kMaxPending) {
      out.CountAnomaly("http_too_many_pending_requests");
      AnswerNone(d, out);
      matching_lost_ = true;
      Exchange(r, nullptr, d, out);
      return;
    }
    pending_.push_back(std::move(r));
  }

  // Once the responses' direction can say no more, the requests still waiting will not be answered.
  void AfterInput(sensor::Direction d, ParserOutput& out) {
    if (pending_.empty()) return;
    const int responses = 1 - static_cast<int>(request_direction_);
    if (streams_[responses].done()) AnswerNone(d, out);
  }

  // Counts the requests still waiting, without a response. `current`: the direction `out` speaks of.
  void AnswerNone(sensor::Direction current, ParserOutput& out) {
    while (!pending_.empty()) {
      const Request r = std::move(pending_.front());
      pending_.pop_front();
      Exchange(r, nullptr, current, out);
    }
  }

  // A request and its response (null: none came). FHIR when either carries a FHIR media type, or
  // the target has FHIR's shape and the response is JSON or XML (or, unanswered, on a connection
  // already known to be FHIR). Reports the roles, the
  // resource type, the interaction with its response time, and the kind of patient data it moved.
  void Exchange(const Request& request, const Response* response, sensor::Direction current, ParserOutput& out) {
    const bool by_media = request.fhir_media || (response != nullptr && response->fhir_media);
    // A path alone is not enough (/Media/logo.png, /Person/42 of some JSON API, an unanswered
    // /Account/Login): its answer must be JSON or XML too, or the connection must have shown
    // itself FHIR already (a FHIR media type or an earlier such exchange).
    const bool answered_structured = response != nullptr && !response->html && response->structured;
    const bool by_path = request.fhir_path && (answered_structured || (fhir_ && response == nullptr));
    if (!by_media && !by_path) return;
    fhir_ = true;
    out.SetApplication(kFhir);
    out.MarkClinical();
    const Party client = current == request_direction_ ? Party::kSender : Party::kReceiver;
    const Party server = client == Party::kSender ? Party::kReceiver : Party::kSender;
    const std::string_view evidence = by_path ? "request-path" : "content-type";
    out.AddFact(server, Fact{Attribute::kClinicalRole, "fhir-server", kFhir, evidence, 0.8f});
    out.AddFact(client, Fact{Attribute::kClinicalRole, "fhir-client", kFhir, evidence, 0.8f});
    const fhir::Interaction& interaction = request.interaction;  // empty unless the path had FHIR's shape
    if (!interaction.resource.empty()) {
      out.AddFact(server, Fact{Attribute::kFhirResource, interaction.resource, kFhir, "request-path", 0.8f});
    }
    out.CountMessage(fhir::MessageName(request.method, interaction),
                     response != nullptr ? std::max<TimeNs>(0, response->time - request.time) : -1);
    // Patient data crossed when a body about patients did, or the request itself picked patients.
    if (const auto kind = fhir::PhiOf(interaction.resource)) {
      if (request.has_body || (response != nullptr && response->ok_with_body) || interaction.names_patient) {
        out.CountPhi(*kind);
      }
    }
  }

  Stream streams_[2];
  std::deque<Request> pending_;
  sensor::Direction request_direction_ = sensor::Direction::kToResponder;
  bool matching_lost_ = false;
  bool fhir_ = false;
};

void Stream::Message(sensor::Direction direction, TimeNs now, Parser& parser, ParserOutput& out) {
  Head h;
  if (!ParseHead(head_, h)) {
    out.CountAnomaly("http_not_http");
    done_ = true;
    return;
  }
  if (h.bad_field_line) out.CountAnomaly("http_bad_field_line");
  // Where does this message's body end?
  const bool bodiless = !h.request && (h.status < 200 || h.status == 204 || h.status == 304 || parser.AnswersHead());
  bool has_body = false;
  if (bodiless) {
    // No body, whatever the fields say (RFC 9112 6.3).
  } else if (auto te = h.Get("transfer-encoding");
             te && absl::StrContains(absl::AsciiStrToLower(std::string(*te)), "chunked")) {
    chunked_ = true;
    has_body = true;
  } else if (auto cl = h.Get("content-length")) {
    uint64_t n = 0;
    if (!absl::SimpleAtoi(AsAbsl(*cl), &n)) {
      out.CountAnomaly("http_bad_content_length");
      done_ = true;
    }
    body_left_ = n;
    has_body = n > 0;
  } else if (!h.request) {
    done_ = true;  // the body runs until the connection closes
    has_body = true;
  }
  parser.OnMessage(direction, h, has_body, now, out);
  if (++messages_ >= parser.message_limit()) done_ = true;
}

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
