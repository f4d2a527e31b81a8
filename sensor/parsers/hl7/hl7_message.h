#ifndef AUSCULT_SENSOR_PARSERS_HL7_HL7_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_HL7_HL7_MESSAGE_H_

// HL7 v2 messages over MLLP, read for what they say about the systems exchanging them, never for
// what they say about patients. MLLP (HL7 v2.5 Appendix C) frames each message as
//   | 0x0B (VT) | message | 0x1C (FS) | 0x0D (CR) |
// with no length field. A message is segments ended by CR (some senders use LF or CR LF); the
// first is MSH, whose fourth byte is the field separator and whose next four are the encoding
// characters (component, repetition, escape, subcomponent; usually "^~\&"). MSH-n is the n-th
// field counting the separator itself as MSH-1.
//
// Read: MSH-3/4 sending application and facility, MSH-5/6 receiving application and facility,
// MSH-9 message type and trigger, MSH-10 control id (kept only to pair an ACK with its message),
// MSH-11 processing id, MSH-12 version; MSA-1/2 acknowledgment code and the control id it answers;
// OBX-18 equipment instance identifiers (the device that produced an observation, IHE PCD-01).
// Segments that carry patient data (PID, NK1, PV1, ...) are counted by kind; nothing in them is read.
// Every value is a view into the message text, valid as long as it is.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sensor/observations.h"

namespace auscult::sensor::hl7 {

// Segments counted by kind of patient data: index kind - 1.
inline size_t PhiIndex(PhiKind kind) { return static_cast<size_t>(kind) - 1; }

inline constexpr uint8_t kStartBlock = 0x0B;
inline constexpr uint8_t kEndBlock = 0x1C;
inline constexpr uint8_t kCarriageReturn = 0x0D;

// The kind of patient data segment `name` ("PID") carries (the fact sheet's list: demographics, next
// of kin, visits, guarantors and insurance, diagnoses, allergies and procedures, orders and
// results), or false when it carries none we know of.
bool PhiSegment(std::string_view name, PhiKind& kind);

struct Message {
  char field_separator = '|';
  std::string_view encoding;  // MSH-2
  std::string_view sending_application, sending_facility, receiving_application, receiving_facility;
  std::string_view message_type;                   // MSH-9's first two components: "ADT^A01", "ORU^R01", "ACK"
  std::string_view control_id;                     // MSH-10
  std::string_view processing_id;                  // MSH-11: P production, T training, D debugging
  std::string_view version;                        // MSH-12: "2.3", "2.6"
  std::string_view ack_code;                       // MSA-1: AA, AE, AR (CA, CE, CR for commit acknowledgments)
  std::string_view ack_control_id;                 // MSA-2: MSH-10 of the message acknowledged
  std::vector<std::string_view> equipment;         // OBX-18, each as sent ("0012345678ABCDEF^^0012345678ABCDEF^EUI-64")
  std::array<uint32_t, kPhiKinds> phi_segments{};  // segments by kind (index kind - 1)
  uint32_t segments = 0;
};

inline constexpr size_t kMaxSegments = 4096;  // later segments are not looked at

enum class Error { kNone, kNoMsh, kBadMsh };
const char* ErrorName(Error e);

// Parses one message (the bytes between VT and FS). False when it does not begin with a usable MSH.
bool Parse(std::string_view text, Message& out, Error& error);

// Whether `bytes` begin like an MLLP-framed HL7 message: VT then "MSH" and a separator.
bool LooksLikeMllp(std::span<const uint8_t> bytes);

// Puts MLLP frames back together from a byte stream (one direction of a connection). Bytes outside
// a frame are skipped and counted. Of a message longer than the limit only the first `max_message`
// bytes are kept (MSH and the segments after it, where what is read lives); it is handed over
// marked truncated when its end comes. A gap in the stream abandons the message under way.
class Deframer {
 public:
  explicit Deframer(size_t max_message) : max_message_(max_message) {}
  void Feed(std::span<const uint8_t> bytes,
            const std::function<void(std::string_view message, bool truncated)>& on_message);
  void Gap();

  uint64_t stray_bytes() const { return stray_bytes_; }
  uint64_t oversized() const { return oversized_; }
  uint64_t abandoned() const { return abandoned_; }

 private:
  enum class State : uint8_t { kOutside, kInside, kAfterEnd };
  void Deliver(const std::function<void(std::string_view, bool)>& on_message);

  size_t max_message_;
  State state_ = State::kOutside;
  bool truncated_ = false;
  std::string message_;
  uint64_t stray_bytes_ = 0;
  uint64_t oversized_ = 0;
  uint64_t abandoned_ = 0;
};

}  // namespace auscult::sensor::hl7

#endif  // AUSCULT_SENSOR_PARSERS_HL7_HL7_MESSAGE_H_
