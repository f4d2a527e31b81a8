#include "sensor/parsers/tcp_os/tcp_os.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/text.h"
#include "common/data_files.h"

namespace auscult::sensor::tcp_os {
namespace {

constexpr std::string_view kProtocol = "tcp";
// Option kinds (IANA "TCP Option Kind Numbers").
constexpr uint8_t kEol = 0, kNop = 1, kMss = 2, kWindowScale = 3, kSackPermitted = 4, kSack = 5, kTimestamps = 8;
// A data file is a few hundred lines; anything far larger is not one.
constexpr size_t kMaxFileBytes = 1 << 20;

void AppendOption(std::string& out, std::string_view name) {
  if (!out.empty()) out += ',';
  out += name;
}

std::string_view OptionName(uint8_t kind) {
  switch (kind) {
    case kEol:
      return "eol";
    case kNop:
      return "nop";
    case kMss:
      return "mss";
    case kWindowScale:
      return "ws";
    case kSackPermitted:
      return "sok";
    case kSack:
      return "sack";
    case kTimestamps:
      return "ts";
    default:
      return {};
  }
}

// A number field of the data file: "*" any, "-" absent (when allowed), else 0..max.
bool ParseNumberField(std::string_view field, bool absent_allowed, int64_t max, int32_t& out) {
  if (field == "*") {
    out = Entry::kAnyValue;
    return true;
  }
  if (field == "-" && absent_allowed) {
    out = Entry::kAbsent;
    return true;
  }
  int64_t v = 0;
  if (!absl::SimpleAtoi(AsAbsl(field), &v) || v < 0 || v > max) return false;
  out = static_cast<int32_t>(v);
  return true;
}

bool ValidOptions(std::string_view list) {
  for (absl::string_view name : absl::StrSplit(AsAbsl(list), ',')) {
    if (name.empty()) return false;
    if (name[0] == '?') {
      int kind = 0;
      if (!absl::SimpleAtoi(name.substr(1), &kind) || kind < 0 || kind > 255) return false;
      // Kinds with a name are written by it (Text() never writes "?2"): such a line could never match.
      if (!OptionName(static_cast<uint8_t>(kind)).empty()) return false;
      continue;
    }
    bool known = false;
    for (int k = 0; k < 256 && !known; ++k) known = OptionName(static_cast<uint8_t>(k)) == AsStd(name);
    if (!known) return false;
  }
  return true;
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "tcp_ok";
    case Error::kNotSyn:
      return "tcp_not_syn";
    case Error::kIncompleteHeader:
      return "tcp_header_incomplete";
    case Error::kBadOptionLength:
      return "tcp_option_bad_length";
    case Error::kCutOptions:
      return "tcp_options_cut";
  }
  return "tcp_unknown";
}

uint8_t InitialTtl(uint8_t ttl) {
  if (ttl <= 32) return 32;
  if (ttl <= 64) return 64;
  if (ttl <= 128) return 128;
  return 255;
}

bool Read(const PacketView& view, Signature& out, Error& error) {
  error = Error::kNone;
  if (!view.has_ip || !view.has_transport || view.ip_protocol != kIpProtoTcp || (view.tcp_flags & kTcpSyn) == 0 ||
      (view.tcp_flags & (kTcpRst | kTcpFin)) != 0) {
    error = Error::kNotSyn;
    return false;
  }
  if (view.tcp_header_length < 20) {
    error = Error::kIncompleteHeader;  // the decoder counted why
    return false;
  }
  if (view.tcp_options.size() < view.tcp_header_length - 20u) {
    error = Error::kCutOptions;
    return false;
  }
  out.syn_ack = (view.tcp_flags & kTcpAck) != 0;
  out.ttl = view.ttl;
  out.initial_ttl = InitialTtl(view.ttl);
  out.window = view.tcp_window;
  out.mss = -1;
  out.window_scale = -1;
  out.options.clear();
  const std::span<const uint8_t> o = view.tcp_options;
  size_t i = 0;
  while (i < o.size()) {
    const uint8_t kind = o[i];
    if (kind == kEol) {
      AppendOption(out.options, "eol");
      break;  // the rest is padding
    }
    if (kind == kNop) {
      AppendOption(out.options, "nop");
      ++i;
      continue;
    }
    // | kind | length (counting both bytes) | value |
    if (i + 1 >= o.size() || o[i + 1] < 2 || i + o[i + 1] > o.size()) {
      error = Error::kBadOptionLength;  // the whole header is here: the sender's fault
      return false;
    }
    const uint8_t length = o[i + 1];
    if (std::string_view name = OptionName(kind); !name.empty()) {
      AppendOption(out.options, name);
    } else {
      AppendOption(out.options, absl::StrCat("?", kind));
    }
    if (kind == kMss && length == 4) out.mss = o[i + 2] << 8 | o[i + 3];
    if (kind == kWindowScale && length == 3) out.window_scale = o[i + 2];
    i += length;
  }
  return true;
}

std::string Text(const Signature& s) {
  return absl::StrCat(s.syn_ack ? "syn-ack" : "syn", ":", s.initial_ttl, ":", s.window, ":",
                      s.mss < 0 ? "-" : absl::StrCat(s.mss), ":",
                      s.window_scale < 0 ? "-" : absl::StrCat(s.window_scale), ":", s.options);
}

bool Entry::Matches(const Signature& s) const {
  if (kind == Kind::kSyn && s.syn_ack) return false;
  if (kind == Kind::kSynAck && !s.syn_ack) return false;
  if (initial_ttl != 0 && initial_ttl != s.initial_ttl) return false;
  if (mss != kAnyValue && mss != s.mss) return false;
  if (window_scale != kAnyValue && window_scale != s.window_scale) return false;
  switch (window_rule) {
    case WindowRule::kAny:
      break;
    case WindowRule::kExact:
      if (s.window != window) return false;
      break;
    case WindowRule::kMssMultiple:
      if (s.mss <= 0 || static_cast<uint64_t>(s.mss) * window != s.window) return false;
      break;
  }
  return options.empty() || options == s.options;
}

float Entry::Confidence() const { return window_rule != WindowRule::kAny && !options.empty() ? 0.5f : 0.3f; }

absl::StatusOr<std::unique_ptr<Database>> Database::Load(const std::string& path) {
  const absl::StatusOr<std::string> text = ReadFileAtMost(path, kMaxFileBytes, "TCP fingerprint file");
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

absl::StatusOr<std::unique_ptr<Database>> Database::Parse(std::string_view text, std::string_view source) {
  auto db = std::make_unique<Database>();
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(AsAbsl(text), '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(AsAbsl(source), ":", line_number, ": ", AsAbsl(why)));
    };
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() < 8) return bad("expected KIND ITTL WINDOW MSS WSCALE OPTIONS FAMILY LABEL");
    Entry e;
    e.line = line_number;
    if (f[0] == "syn") {
      e.kind = Entry::Kind::kSyn;
    } else if (f[0] == "syn-ack") {
      e.kind = Entry::Kind::kSynAck;
    } else if (f[0] == "*") {
      e.kind = Entry::Kind::kAny;
    } else {
      return bad("KIND must be syn, syn-ack or *");
    }
    if (f[1] != "*") {
      if (!absl::SimpleAtoi(f[1], &e.initial_ttl) ||
          (e.initial_ttl != 32 && e.initial_ttl != 64 && e.initial_ttl != 128 && e.initial_ttl != 255)) {
        return bad("ITTL must be 32, 64, 128, 255 or *");
      }
    }
    if (f[2] == "*") {
      e.window_rule = Entry::WindowRule::kAny;
    } else if (absl::ConsumePrefix(&f[2], "mss*")) {
      if (!absl::SimpleAtoi(f[2], &e.window) || e.window == 0 || e.window > 65535) return bad("bad mss*N window");
      e.window_rule = Entry::WindowRule::kMssMultiple;
    } else {
      if (!absl::SimpleAtoi(f[2], &e.window) || e.window > 65535) return bad("WINDOW must be 0..65535, mss*N or *");
      e.window_rule = Entry::WindowRule::kExact;
    }
    if (!ParseNumberField(AsStd(f[3]), true, 65535, e.mss)) return bad("MSS must be 0..65535, - or *");
    if (!ParseNumberField(AsStd(f[4]), true, 255, e.window_scale)) return bad("WSCALE must be 0..255, - or *");
    if (f[5] != "*") {
      if (!ValidOptions(AsStd(f[5]))) return bad("OPTIONS must be *, or names among eol nop mss ws sok sack ts ?N");
      e.options = std::string(f[5]);
    }
    e.family = std::string(f[6]);
    // The label is the rest of the line, as written.
    e.label = std::string(absl::StripAsciiWhitespace(line.substr(static_cast<size_t>(f[7].data() - line.data()))));
    db->entries_.push_back(std::move(e));
  }
  return db;
}

const Entry* Database::Match(const Signature& s) const {
  for (const Entry& e : entries_) {
    if (e.Matches(s)) return &e;
  }
  return nullptr;
}

std::string DefaultDatabasePath() { return ShippedDataFile("tcp_os_fingerprints.txt", AUSCULT_SENSOR_DATA_DIR); }

const Database* ShippedDatabase() {
  static const Database* const db = [] {
    auto loaded = Database::Load(DefaultDatabasePath());
    return loaded.ok() ? loaded->release() : nullptr;  // kept for the process
  }();
  return db;
}

void Fingerprinter::OnTcp(const PacketView& view, FactSink& facts) {
  if ((view.tcp_flags & kTcpSyn) == 0) return;
  Error error;
  if (!Read(view, signature_, error)) {
    if (error == Error::kBadOptionLength || error == Error::kCutOptions) facts.CountAnomaly(ErrorName(error));
    return;
  }
  const std::string_view field = signature_.syn_ack ? "syn_ack" : "syn";
  text_ = Text(signature_);
  facts.OnAddressFact(view.src_ip, Fact{Attribute::kTcpFingerprint, text_, kProtocol, field, 0.9f}, view.timestamp);
  if (database_ == nullptr) return;
  if (const Entry* e = database_->Match(signature_)) {
    facts.OnAddressFact(view.src_ip, Fact{Attribute::kOsFamily, e->family, kProtocol, field, e->Confidence()},
                        view.timestamp);
  }
}

}  // namespace auscult::sensor::tcp_os
