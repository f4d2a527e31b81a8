#ifndef AUSCULT_SENSOR_PARSERS_DICOM_DICOM_PDU_H_
#define AUSCULT_SENSOR_PARSERS_DICOM_DICOM_PDU_H_

// The DICOM upper layer (PS3.8 section 9), read for what it says about the systems talking, never
// for what it says about patients: association negotiation (AE titles, SOP classes offered and
// accepted, implementation class UID and version name), rejects, aborts, releases, and the DIMSE
// command sets (PS3.7 section 9) inside P-DATA. Data sets (the images, reports and worklist entries
// themselves: patient data) are skipped by count and never copied; user identity credentials are
// reduced to their type and lengths.
//
// Every PDU begins with a 6-byte header, all fields big-endian (PS3.8 9.3.1):
//   | PDU-type (1) | reserved (1) | PDU-length (4): bytes after this field |
//
// A-ASSOCIATE-RQ (0x01) and -AC (0x02), PS3.8 9.3.2 and 9.3.3 (offsets from the PDU's start):
//   0  | 0x01/0x02 | 0x00 | PDU-length (4) |
//   6  | Protocol-version (2) = 0x0001 | reserved (2) |
//   10 | Called-AE-title (16, space padded) |
//   26 | Calling-AE-title (16, space padded) |          (the AC echoes both; not to be tested)
//   42 | reserved (32) |
//   74 | variable items ... |
// Each item and sub-item: | Item-type (1) | reserved (1) | Item-length (2) | value (Item-length) |
//   0x10 Application Context:  the application context name (1.2.840.10008.3.1.1.1)
//   0x20 Presentation Context (RQ): | ID (1) | reserved (3) | sub-items: one 0x30, one or more 0x40 |
//   0x21 Presentation Context (AC): | ID (1) | reserved (1) | Result/Reason (1) | reserved (1) | one 0x40 |
//        0x30 Abstract Syntax: the SOP class UID;  0x40 Transfer Syntax: a transfer syntax UID
//   0x50 User Information: sub-items (PS3.7 Annex D.3.3, PS3.8 Annex D):
//        0x51 Maximum Length:  | Maximum-length-received (4) |
//        0x52 Implementation Class UID;  0x55 Implementation Version Name (up to 16 characters)
//        0x53 Asynchronous Operations Window: | max invoked (2) | max performed (2) |
//        0x54 SCP/SCU Role Selection: | UID-length (2) | SOP class UID | SCU-role (1) | SCP-role (1) |
//        0x56, 0x57 SOP Class (Common) Extended Negotiation: counted only
//        0x58 User Identity (RQ): | type (1) | positive-response-requested (1) |
//             | primary-field-length (2) | primary field | secondary-field-length (2) | secondary field |
//        0x59 User Identity (AC): | server-response-length (2) | server response |
// UIDs are ASCII digits and dots, sometimes padded with one NUL to an even length.
//
// A-ASSOCIATE-RJ (0x03), PDU-length 4: | reserved (1) | Result (1) | Source (1) | Reason/Diag. (1) |
// A-RELEASE-RQ (0x05) and -RP (0x06), PDU-length 4: | reserved (4) |
// A-ABORT (0x07), PDU-length 4: | reserved (1) | reserved (1) | Source (1) | Reason/Diag. (1) |
//
// P-DATA-TF (0x04), PS3.8 9.3.5, is a list of presentation data value items:
//   | Item-length (4): bytes after this field | Presentation-context-ID (1) |
//   | Message control header (1): bit 0 1=command 0=data set, bit 1 1=last fragment | fragment |
// A DIMSE message is its command set's fragments, then (if the command says so) its data set's.
// Command sets are always implicit VR little endian (PS3.7 6.3.1), elements of group 0000:
//   | group (2, LE) | element (2, LE) | value length (4, LE) | value |

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace auscult::sensor::dicom {

enum class PduType : uint8_t {
  kAssociateRq = 0x01,
  kAssociateAc = 0x02,
  kAssociateRj = 0x03,
  kPData = 0x04,
  kReleaseRq = 0x05,
  kReleaseRp = 0x06,
  kAbort = 0x07,
};
// "A-ASSOCIATE-RQ", ..., "A-ABORT"; "unknown" for any other byte.
const char* PduTypeName(uint8_t type);

inline constexpr size_t kPduHeaderSize = 6;
inline constexpr size_t kAssociateFixedSize = 74;  // header to the end of the reserved 32 bytes
inline constexpr size_t kAeTitleSize = 16;
inline constexpr size_t kMaxUidLength = 64;              // PS3.5 9.1
inline constexpr size_t kMaxVersionNameLength = 16;      // SH
inline constexpr size_t kMaxPresentationContexts = 128;  // PS3.8 allows 128 (odd IDs 1..255)
inline constexpr size_t kMaxTransferSyntaxes = 32;       // kept per presentation context
inline constexpr size_t kMaxRoleSelections = 128;

enum class Error : uint8_t {
  kNone,
  kTruncated,       // shorter than its fixed fields, or than an element says
  kWrongType,       // not the PDU type the function parses
  kBadLength,       // PDU-length disagrees with the bytes given
  kBadItem,         // an item or sub-item runs past the one that holds it
  kNoCommandField,  // a command set without (0000,0100) CommandField
};
const char* ErrorName(Error e);

// Presentation context result/reason (AC only, PS3.8 Table 9-18).
enum class PresentationResult : uint8_t {
  kAcceptance = 0,
  kUserRejection = 1,
  kNoReason = 2,
  kAbstractSyntaxNotSupported = 3,
  kTransferSyntaxesNotSupported = 4,
};
const char* PresentationResultName(uint8_t result);

struct PresentationContext {
  uint8_t id = 0;                              // odd, 1..255
  uint8_t result = 0;                          // AC only: PresentationResult
  std::string abstract_syntax;                 // RQ only: the SOP class (the AC does not repeat it)
  std::vector<std::string> transfer_syntaxes;  // RQ: those proposed; AC: the one chosen
  uint32_t transfer_syntaxes_dropped = 0;      // beyond kMaxTransferSyntaxes
  bool accepted() const { return result == static_cast<uint8_t>(PresentationResult::kAcceptance); }
};

struct RoleSelection {
  std::string sop_class_uid;
  bool scu = false;
  bool scp = false;
};

// User identity negotiation (PS3.7 D.3.3.7): what kind of credential was offered and how long it
// was, never the credential. The username, passcode, Kerberos ticket, SAML assertion or JWT is
// skipped unread and not copied anywhere.
enum class UserIdentityType : uint8_t { kUsername = 1, kUsernamePasscode = 2, kKerberos = 3, kSaml = 4, kJwt = 5 };
const char* UserIdentityTypeName(uint8_t type);
struct UserIdentity {
  bool present = false;  // a 0x58 sub-item was seen
  uint8_t type = 0;      // UserIdentityType
  bool positive_response_requested = false;
  uint16_t primary_length = 0;    // bytes of the username (or ticket, assertion, token)
  uint16_t secondary_length = 0;  // bytes of the passcode (type 2)
  bool malformed = false;         // its lengths do not add up to the sub-item's
  bool has_passcode() const { return secondary_length > 0; }
};

struct UserInformation {
  bool has_max_length = false;
  uint32_t max_length = 0;  // Maximum-length-received (0: no limit)
  std::string implementation_class_uid;
  std::string implementation_version_name;
  bool has_async_window = false;
  uint16_t max_operations_invoked = 0;
  uint16_t max_operations_performed = 0;
  std::vector<RoleSelection> roles;
  uint32_t roles_dropped = 0;           // beyond kMaxRoleSelections
  uint32_t extended_negotiations = 0;   // 0x56 and 0x57 sub-items
  UserIdentity user_identity;           // RQ: 0x58
  bool user_identity_response = false;  // AC: a 0x59 sub-item was seen (the server accepted the identity)
  uint16_t server_response_length = 0;  // AC: its length (a Kerberos or SAML response; not kept)
  uint32_t malformed_sub_items = 0;     // of a known type, but of the wrong size
  uint32_t unknown_sub_items = 0;
};

// An A-ASSOCIATE-RQ or -AC: the RQ names the SOP classes wanted; the AC answers each presentation
// context by ID (match them with the RQ's).
struct Associate {
  uint8_t type = 0;  // PduType::kAssociateRq or kAssociateAc
  uint16_t protocol_version = 0;
  std::string called_ae;  // trimmed; non-printable bytes become '?'
  std::string calling_ae;
  std::string application_context;
  std::vector<PresentationContext> contexts;
  uint32_t contexts_dropped = 0;  // beyond kMaxPresentationContexts
  uint32_t bad_context_ids = 0;   // even or zero IDs (not kept)
  UserInformation user;
  uint32_t unknown_items = 0;  // item types not expected in this PDU
  bool request() const { return type == static_cast<uint8_t>(PduType::kAssociateRq); }
};

// Parses a whole A-ASSOCIATE-RQ or -AC PDU, header included. False on a structural error (`error`
// says which); `out` then holds what was read before it.
bool ParseAssociate(std::span<const uint8_t> pdu, Associate& out, Error& error);

struct Reject {
  uint8_t result = 0;  // 1 rejected-permanent, 2 rejected-transient
  uint8_t source = 0;  // 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation)
  uint8_t reason = 0;  // meaning depends on the source (PS3.8 Table 9-21)
};
bool ParseReject(std::span<const uint8_t> pdu, Reject& out, Error& error);
const char* RejectResultName(uint8_t result);
const char* RejectSourceName(uint8_t source);
const char* RejectReasonName(uint8_t source, uint8_t reason);

struct Abort {
  uint8_t source = 0;  // 0 service-user, 2 service-provider
  uint8_t reason = 0;  // significant only from the provider (PS3.8 Table 9-26)
};
bool ParseAbort(std::span<const uint8_t> pdu, Abort& out, Error& error);
const char* AbortSourceName(uint8_t source);
const char* AbortReasonName(uint8_t source, uint8_t reason);

// A DIMSE command set. Only the fields that say who does what are kept; the affected SOP instance
// UID and everything outside group 0000 are not read.
struct Command {
  uint8_t context_id = 0;  // set by PduReader: the presentation context it came on
  bool has_command_field = false;
  uint16_t command_field = 0;           // (0000,0100)
  std::string affected_sop_class_uid;   // (0000,0002)
  std::string requested_sop_class_uid;  // (0000,0003)
  bool has_message_id = false;
  uint16_t message_id = 0;  // (0000,0110)
  bool has_responded_to = false;
  uint16_t message_id_responded_to = 0;  // (0000,0120)
  std::string move_destination;          // (0000,0600): the AE a C-MOVE sends to
  uint16_t priority = 0;                 // (0000,0700)
  uint16_t data_set_type = 0;            // (0000,0800): 0x0101 means no data set follows
  bool has_status = false;
  uint16_t status = 0;  // (0000,0900), responses only
  bool has_data_set() const { return data_set_type != kNoDataSet; }
  bool response() const { return command_field & 0x8000; }
  // The SOP class the command is about: affected, else requested.
  const std::string& sop_class_uid() const {
    return affected_sop_class_uid.empty() ? requested_sop_class_uid : affected_sop_class_uid;
  }
  static constexpr uint16_t kNoDataSet = 0x0101;
};

// Parses a command set (the command fragments of one message, put together). Elements outside
// group 0000 end it: nothing past them is read. False without a CommandField or on a truncated element.
bool ParseCommand(std::span<const uint8_t> command_set, Command& out, Error& error);
// "C-STORE-RQ", "C-FIND-RSP", "N-ACTION-RQ", "C-CANCEL-RQ", ...; nullptr when unknown.
const char* CommandName(uint16_t command_field);
// The kind of a DIMSE status (PS3.7 Annex C): "success", "pending", "cancel", "warning", "failure".
const char* StatusCategory(uint16_t status);

// Whether a flow's first payload looks like the start of a DICOM association: an A-ASSOCIATE-RQ
// header with reserved byte 0, a plausible length (68 bytes to 1 MiB), protocol version 1 and
// printable AE titles. Needs the first 42 bytes (both AE titles).
bool LooksLikeDicom(std::span<const uint8_t> first_bytes);

// What PduReader found, by kind. Callbacks left empty are not called.
struct PduCallbacks {
  std::function<void(const Associate&)> on_associate;  // RQ or AC
  std::function<void(const Reject&)> on_reject;
  std::function<void(PduType)> on_release;  // kReleaseRq or kReleaseRp
  std::function<void(const Abort&)> on_abort;
  std::function<void(const Command&)> on_command;
  // A data set's last fragment went by: its presentation context and size. Its bytes never reach here.
  std::function<void(uint8_t context_id, uint64_t bytes)> on_data_set;
};

// Why a PduReader stopped.
enum class StreamError : uint8_t {
  kNone,
  kUnknownPduType,  // a PDU type outside 1..7: not DICOM, or out of step
  kBadPduLength,    // a PDU-length impossible for its type
  kBadPdvLength,    // a PDV item that does not fit its P-DATA PDU
  kGap,             // bytes lost where the reader cannot tell what they held
};
const char* StreamErrorName(StreamError e);

struct PduCounters {
  std::array<uint64_t, 8> pdus{};  // PDU headers read, by type (index 1..7)
  uint64_t oversized = 0;          // control PDUs longer than the limit, skipped unread
  uint64_t malformed = 0;          // control PDUs and command sets their parser refused
  uint64_t errors = 0;             // stream errors (each stops the reader)
  uint64_t pdv_items = 0;
  uint64_t bad_context_ids = 0;     // PDVs on an even or zero presentation context ID
  uint64_t commands = 0;            // command sets parsed and handed out
  uint64_t oversized_commands = 0;  // command sets longer than the limit, dropped
  uint64_t lost_commands = 0;       // command sets cut by a gap or left unfinished
  uint64_t data_sets = 0;           // data sets seen to their last fragment
  uint64_t data_set_bytes = 0;      // skipped by count, never copied
  uint64_t out_of_order = 0;        // a command fragment inside a data set, or the reverse
  uint64_t gaps_skipped = 0;        // gaps inside a fragment or a skipped PDU, stepped over
};

inline constexpr size_t kDefaultMaxControlPdu = 64 * 1024;
inline constexpr size_t kDefaultMaxCommandSet = 4 * 1024;

// Splits one direction of a DICOM connection into PDUs, fed in chunks of any size. Association,
// release, reject and abort PDUs are buffered whole (up to a limit) and parsed; P-DATA is never
// buffered: it is walked PDV by PDV, command fragments are gathered (up to a limit) until the last
// one and parsed, data set fragments are skipped by count. The first framing error stops the
// reader for good (failed()); it never reads outside the bytes it is given.
class PduReader {
 public:
  explicit PduReader(size_t max_control_pdu = kDefaultMaxControlPdu, size_t max_command_set = kDefaultMaxCommandSet)
      : max_control_pdu_(max_control_pdu), max_command_set_(max_command_set) {}

  void Feed(std::span<const uint8_t> bytes, const PduCallbacks& callbacks);
  // `bytes` of the stream were lost. Inside a data set or command fragment, or a PDU being skipped
  // or buffered, the reader knows what they held and steps over them (a cut command set or control
  // PDU is dropped); anywhere else it stops.
  void Gap(uint64_t bytes);

  bool failed() const { return state_ == State::kFailed; }
  StreamError error() const { return error_; }
  const PduCounters& counters() const { return counters_; }

 private:
  enum class State : uint8_t { kPduHeader, kControlBody, kSkipPdu, kPdvHeader, kPdvBody, kFailed };

  void StartPdu();
  void EndControlPdu(const PduCallbacks& callbacks);
  void StartPdv(const PduCallbacks& callbacks);
  void EndPdv(const PduCallbacks& callbacks);
  void AfterPdv();
  void Fail(StreamError e);

  size_t max_control_pdu_;
  size_t max_command_set_;
  State state_ = State::kPduHeader;
  StreamError error_ = StreamError::kNone;
  std::array<uint8_t, kPduHeaderSize> header_{};
  size_t header_size_ = 0;
  uint8_t pdu_type_ = 0;
  uint64_t pdu_remaining_ = 0;    // bytes of the current PDU after those consumed
  std::vector<uint8_t> control_;  // the control PDU being gathered, header included

  // P-DATA: the PDV under way and the message being assembled.
  std::array<uint8_t, 6> pdv_header_{};
  size_t pdv_header_size_ = 0;
  uint64_t fragment_remaining_ = 0;
  uint8_t pdv_context_ = 0;
  bool pdv_command_ = false;
  bool pdv_last_ = false;
  bool command_open_ = false;     // command fragments seen, the last one not yet
  bool command_dropped_ = false;  // too long or cut by a gap: the rest is skipped
  uint8_t command_context_ = 0;
  std::vector<uint8_t> command_;  // command fragments only; data set bytes never come here
  bool data_set_open_ = false;
  uint64_t data_set_size_ = 0;

  PduCounters counters_;
};

}  // namespace auscult::sensor::dicom

#endif  // AUSCULT_SENSOR_PARSERS_DICOM_DICOM_PDU_H_
