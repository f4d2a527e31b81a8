#include "sensor/parsers/hl7/hl7_message.h"

#include <algorithm>

namespace auscult::sensor::hl7 {
namespace {

// The n-th field of a segment (0: the segment's name), or empty.
std::string_view Field(std::string_view segment, char separator, size_t n) {
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t next = segment.find(separator, start);
    if (next == std::string_view::npos) return {};
    start = next + 1;
  }
  const size_t end = segment.find(separator, start);
  return segment.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "ADT^A01^ADT_A01" -> "ADT^A01": message code and trigger event, without the structure.
std::string_view TypeAndTrigger(std::string_view field, char component) {
  const size_t first = field.find(component);
  if (first == std::string_view::npos) return field;
  const size_t second = field.find(component, first + 1);
  std::string_view both = field.substr(0, second);
  if (both.size() == first + 1) both = field.substr(0, first);  // "ACK^" -> "ACK"
  return both;
}

}  // namespace

bool PhiSegment(std::string_view name, PhiKind& kind) {
  struct Entry {
    std::string_view name;
    PhiKind kind;
  };
  static constexpr Entry kSegments[] = {
      {"PID", PhiKind::kDemographics},  {"PD1", PhiKind::kDemographics},  {"NK1", PhiKind::kNextOfKin},
      {"PV1", PhiKind::kVisit},         {"PV2", PhiKind::kVisit},         {"GT1", PhiKind::kInsurance},
      {"IN1", PhiKind::kInsurance},     {"IN2", PhiKind::kInsurance},     {"IN3", PhiKind::kInsurance},
      {"DG1", PhiKind::kDiagnoses},     {"AL1", PhiKind::kDiagnoses},     {"PR1", PhiKind::kDiagnoses},
      {"ORC", PhiKind::kOrdersResults}, {"OBR", PhiKind::kOrdersResults}, {"OBX", PhiKind::kOrdersResults},
      {"RXO", PhiKind::kOrdersResults}, {"RXE", PhiKind::kOrdersResults}, {"RXA", PhiKind::kOrdersResults},
      {"SPM", PhiKind::kOrdersResults}, {"TQ1", PhiKind::kOrdersResults},
  };
  for (const Entry& e : kSegments) {
    if (e.name == name) {
      kind = e.kind;
      return true;
    }
  }
  return false;
}

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "hl7_ok";
    case Error::kNoMsh:
      return "hl7_no_msh";
    case Error::kBadMsh:
      return "hl7_bad_msh";
  }
  return "hl7_unknown";
}

bool Parse(std::string_view text, Message& out, Error& error) {
  out = Message{};
  error = Error::kNone;
  bool have_msh = false;
  size_t pos = 0;
  while (pos < text.size() && out.segments < kMaxSegments) {
    size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(pos, end - pos);
    pos = end + 1;
    if (segment.empty()) continue;  // the LF of CR LF, or a blank line
    ++out.segments;
    const std::string_view name = segment.substr(0, 3);
    if (!have_msh) {
      // A batch (HL7 v2 Appendix: FHS, BHS, messages, BTS, FTS) in one frame: its first message is read.
      if (name == "FHS" || name == "BHS") continue;
      // | "MSH" | separator | encoding characters (at least the component separator) | separator | ...
      if (name != "MSH") {
        error = Error::kNoMsh;
        return false;
      }
      if (segment.size() < 5) {
        error = Error::kBadMsh;
        return false;
      }
      const char sep = segment[3];
      if (sep == '\r' || sep == '\n' || sep == ' ' || (sep >= '0' && sep <= '9') || (sep >= 'A' && sep <= 'Z')) {
        error = Error::kBadMsh;
        return false;
      }
      out.field_separator = sep;
      out.encoding = Field(segment, sep, 1);
      if (out.encoding.empty() || out.encoding.find(sep) != std::string_view::npos) {
        error = Error::kBadMsh;
        return false;
      }
      const char component = out.encoding[0];
      // Field(k) is MSH-(k+1): the separator itself is MSH-1.
      out.sending_application = Trim(Field(segment, sep, 2));
      out.sending_facility = Trim(Field(segment, sep, 3));
      out.receiving_application = Trim(Field(segment, sep, 4));
      out.receiving_facility = Trim(Field(segment, sep, 5));
      out.message_type = Trim(TypeAndTrigger(Field(segment, sep, 8), component));
      out.control_id = Trim(Field(segment, sep, 9));
      out.processing_id = Trim(Field(segment, sep, 10));
      out.version = Trim(Field(segment, sep, 11));
      have_msh = true;
      continue;
    }
    const char sep = out.field_separator;
    if (segment.size() > 3 && segment[3] != sep) continue;  // not a segment we can read (a Z-segment is fine)
    if (name == "MSA") {
      out.ack_code = Trim(Field(segment, sep, 1));
      out.ack_control_id = Trim(Field(segment, sep, 2));
    } else if (name == "OBX") {
      // OBX-18 names the equipment; the rest of OBX is the patient's observation and stays unread.
      if (const std::string_view equipment = Trim(Field(segment, sep, 18)); !equipment.empty()) {
        out.equipment.push_back(equipment);
      }
    }
    PhiKind kind;
    if (PhiSegment(name, kind)) ++out.phi_segments[PhiIndex(kind)];
  }
  if (!have_msh) {
    error = Error::kNoMsh;
    return false;
  }
  return true;
}

bool LooksLikeMllp(std::span<const uint8_t> b) {
  return b.size() >= 5 && b[0] == kStartBlock && b[1] == 'M' && b[2] == 'S' && b[3] == 'H' && b[4] != '\r';
}

void Deframer::Feed(std::span<const uint8_t> bytes, const std::function<void(std::string_view, bool)>& on_message) {
  size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::kAfterEnd:
        state_ = State::kOutside;
        if (bytes[i] == kCarriageReturn) ++i;  // the CR that ends the frame (some senders omit it)
        break;
      case State::kOutside: {
        const uint8_t* start = std::find(bytes.data() + i, bytes.data() + bytes.size(), kStartBlock);
        const size_t found = static_cast<size_t>(start - bytes.data());
        for (size_t k = i; k < found; ++k) stray_bytes_ += bytes[k] != '\r' && bytes[k] != '\n';
        i = found;
        if (i < bytes.size()) {
          ++i;
          message_.clear();
          truncated_ = false;
          state_ = State::kInside;
        }
        break;
      }
      case State::kInside: {
        // The message runs to the end block; a start block inside it means the sender began again.
        size_t end = i;
        while (end < bytes.size() && bytes[end] != kEndBlock && bytes[end] != kStartBlock) ++end;
        const size_t take = std::min(end - i, max_message_ - message_.size());
        message_.append(reinterpret_cast<const char*>(bytes.data() + i), take);
        if (take < end - i && !truncated_) {
          truncated_ = true;
          ++oversized_;
        }
        i = end;
        if (i == bytes.size()) break;
        if (bytes[i] == kStartBlock) {
          ++abandoned_;
          message_.clear();
          truncated_ = false;
          ++i;
          break;
        }
        ++i;  // the end block
        Deliver(on_message);
        state_ = State::kAfterEnd;
        break;
      }
    }
  }
}

void Deframer::Deliver(const std::function<void(std::string_view, bool)>& on_message) {
  on_message(message_, truncated_);
  message_.clear();
  // A big message's buffer is not kept for the rest of a long-lived connection.
  if (message_.capacity() > 16 * 1024) message_.shrink_to_fit();
}

void Deframer::Gap() {
  if (state_ == State::kInside) ++abandoned_;
  message_.clear();
  state_ = State::kOutside;
}

}  // namespace auscult::sensor::hl7
