#include "sensor/parsers/poct1a/poct1a_parser.h"

#include <string>

#include "common/text.h"
#include "sensor/decode/packet_view.h"

namespace auscult::sensor::poct1a {
namespace {

constexpr std::string_view kProtocol = "poct1a";
// A message is kept until its end tag: a device's hello or status is a few KiB; a message larger
// than this is skipped (counted) rather than buffered.
constexpr size_t kMaxMessage = 64 * 1024;
// Devices stay connected to upload results for as long as they are docked: read the whole flow.
constexpr uint64_t kByteBudget = UINT64_MAX;

bool Upper(char c) { return c >= 'A' && c <= 'Z'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }

bool Reportable(std::string_view v) { return !v.empty() && v.size() <= 256 && !HasControlCharacter(v); }

}  // namespace

std::string_view RootType(std::string_view t) {
  // "<" A A A "." "R" D D then ">" or whitespace or "/"
  if (t.size() < 9 || t[0] != '<') return {};
  if (!Upper(t[1]) || !Upper(t[2]) || !Upper(t[3]) || t[4] != '.' || t[5] != 'R' || !Digit(t[6]) || !Digit(t[7])) {
    return {};
  }
  const char next = t[8];
  if (next != '>' && next != ' ' && next != '\t' && next != '\r' && next != '\n') return {};
  return t.substr(1, 7);
}

std::string_view ValueOf(std::string_view text, std::string_view element) {
  std::string open = "<";
  open += element;
  size_t at = 0;
  for (;;) {
    at = text.find(open, at);
    if (at == std::string_view::npos) return {};
    const size_t after = at + open.size();
    if (after < text.size() && (text[after] == ' ' || text[after] == '\t' || text[after] == '/' || text[after] == '>' ||
                                text[after] == '\r' || text[after] == '\n')) {
      break;
    }
    at = after;  // a longer name that starts the same ("DEV.device_id_x")
  }
  const size_t end = text.find('>', at);
  if (end == std::string_view::npos) return {};
  const std::string_view tag = text.substr(at, end - at);
  for (std::string_view q : {"V=\"", "V='"}) {
    size_t v = tag.find(q);
    // The attribute is V itself, not one whose name ends in V.
    while (v != std::string_view::npos && v > 0 && tag[v - 1] != ' ' && tag[v - 1] != '\t') v = tag.find(q, v + 1);
    if (v == std::string_view::npos) continue;
    const size_t start = v + q.size();
    const size_t close = tag.find(q.back(), start);
    if (close == std::string_view::npos) return {};
    return tag.substr(start, close - start);
  }
  return {};
}

bool LooksLikePoct1a(std::span<const uint8_t> first) {
  std::string_view t(reinterpret_cast<const char*>(first.data()), first.size());
  if (t.starts_with("<?xml")) {
    const size_t end = t.find("?>");
    if (end == std::string_view::npos) return false;
    t.remove_prefix(end + 2);
    while (!t.empty() && (t.front() == '\r' || t.front() == '\n' || t.front() == ' ' || t.front() == '\t')) {
      t.remove_prefix(1);
    }
  }
  return !RootType(t).empty();
}

namespace {

class Parser : public FlowParser {
 public:
  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs, ParserOutput& out) override {
    Side& side = sides_[static_cast<int>(d)];
    if (side.skipping) {
      // Inside an oversized message: look for its end only.
      side.buffer.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      const size_t end = side.buffer.find(side.end_tag);
      if (end == std::string::npos) {
        // Keep only what could be the start of the end tag.
        if (side.buffer.size() > side.end_tag.size()) side.buffer.erase(0, side.buffer.size() - side.end_tag.size());
        return;
      }
      side.buffer.erase(0, end + side.end_tag.size());
      side.skipping = false;
    } else {
      side.buffer.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    Messages(side, out);
  }
  void OnGap(Direction d, uint64_t, ParserOutput&) override {
    Side& side = sides_[static_cast<int>(d)];
    side.buffer.clear();
    side.root.clear();
    side.skipping = false;
  }
  bool Done() const override { return false; }

 private:
  struct Side {
    std::string buffer;   // from the start of the message under way (or of what may start one)
    std::string root;     // its type once its root element was seen ("HEL.R01"), else empty
    std::string end_tag;  // "</HEL.R01>"
    size_t scanned = 0;   // bytes of the buffer already searched for the end tag
    bool skipping = false;
  };

  // Every complete message in the buffer; what is left is the start of the next one. Each byte is
  // looked at a bounded number of times however the stream is cut (a hostile sender of one-byte
  // segments must not make the search quadratic).
  void Messages(Side& side, ParserOutput& out) {
    for (;;) {
      if (side.root.empty()) {
        size_t from = 0;
        for (;;) {
          const size_t open = side.buffer.find('<', from);
          if (open == std::string::npos) {
            side.buffer.clear();
            return;
          }
          const std::string_view rest = std::string_view(side.buffer).substr(open);
          if (rest.size() < 9) {  // too short to tell yet
            side.buffer.erase(0, open);
            return;
          }
          if (const std::string_view type = RootType(rest); !type.empty()) {
            side.root = std::string(type);
            side.end_tag = "</" + side.root + ">";
            side.buffer.erase(0, open);
            side.scanned = 0;
            break;
          }
          from = open + 1;  // an XML declaration or anything else: not a message root
        }
      }
      // The end tag may straddle what was searched and what is new.
      const size_t from = side.scanned > side.end_tag.size() ? side.scanned - side.end_tag.size() : 0;
      const size_t end = side.buffer.find(side.end_tag, from);
      if (end == std::string::npos) {
        side.scanned = side.buffer.size();
        if (side.buffer.size() > kMaxMessage) {
          out.CountAnomaly("poct1a_message_too_long");
          side.skipping = true;
          side.buffer.clear();
          side.root.clear();
        }
        return;
      }
      Message(side.root, std::string_view(side.buffer).substr(0, end), out);
      side.buffer.erase(0, end + side.end_tag.size());
      side.root.clear();
    }
  }

  void Message(std::string_view type, std::string_view text, ParserOutput& out) {
    if (!seen_) {
      seen_ = true;
      out.SetApplication(kProtocol);
      out.MarkClinical();
    }
    out.CountMessage(type);
    if (type == "OBS.R01") {
      // Patient results: counted, never read; a patient id marks demographics.
      out.CountPhi(PhiKind::kOrdersResults);
      if (text.find("<PT.patient_id") != std::string_view::npos) out.CountPhi(PhiKind::kDemographics);
      return;
    }
    if (type != "HEL.R01") return;
    auto fact = [&](Attribute attribute, std::string_view element, float confidence) {
      const std::string_view v = ValueOf(text, element);
      if (Reportable(v)) out.AddFact(Party::kSender, Fact{attribute, v, kProtocol, element, confidence});
    };
    fact(Attribute::kEquipmentId, "DEV.device_id", 0.8f);
    fact(Attribute::kVendor, "DEV.manufacturer_name", 0.8f);
    fact(Attribute::kVendor, "DEV.vendor_id", 0.6f);
    fact(Attribute::kModel, "DEV.model_id", 0.8f);
    fact(Attribute::kSerialNumber, "DEV.serial_id", 0.9f);
    fact(Attribute::kSoftwareVersion, "DEV.sw_version", 0.8f);
    out.AddFact(Party::kSender, Fact{Attribute::kClinicalRole, "poct-device", kProtocol, "HEL.R01", 0.9f});
    out.AddFact(Party::kReceiver, Fact{Attribute::kClinicalRole, "poct-data-manager", kProtocol, "HEL.R01", 0.8f});
  }

  Side sides_[2];
  bool seen_ = false;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    return flow.transport == kIpProtoTcp && LooksLikePoct1a(first);
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
  uint64_t byte_budget() const override { return kByteBudget; }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::poct1a
