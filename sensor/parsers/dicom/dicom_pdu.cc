#include "sensor/parsers/dicom/dicom_pdu.h"

#include <algorithm>

#include "common/byte_reader.h"

namespace auscult::sensor::dicom {
namespace {

// Text from a fixed or length-prefixed field: NUL and space padding trimmed from both ends,
// bytes outside printable ASCII replaced by '?', at most `max` characters kept.
std::string Text(std::span<const uint8_t> bytes, size_t max) {
  size_t begin = 0;
  size_t end = bytes.size();
  while (begin < end && (bytes[begin] == ' ' || bytes[begin] == 0)) ++begin;
  while (end > begin && (bytes[end - 1] == ' ' || bytes[end - 1] == 0)) --end;
  std::string out;
  out.reserve(std::min(end - begin, max));
  for (size_t i = begin; i < end && out.size() < max; ++i) {
    const uint8_t c = bytes[i];
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  return out;
}

uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}

// Reads the header of the next item or sub-item from `r` and returns its value, or false (and
// kBadItem) when the header or the value runs past the end.
bool NextItem(ByteReader& r, uint8_t& type, std::span<const uint8_t>& value, Error& error) {
  type = r.U8();
  r.Skip(1);
  const uint16_t length = r.U16();
  const uint8_t* p = r.Bytes(length);
  if (!r.ok()) {
    error = Error::kBadItem;
    return false;
  }
  value = {p, length};
  return true;
}

// 0x20 (RQ) or 0x21 (AC):  | ID | reserved | reserved (RQ) or Result/Reason (AC) | reserved | sub-items |
bool ParsePresentationContext(std::span<const uint8_t> item, bool request, Associate& out, Error& error) {
  ByteReader r(item);
  PresentationContext context;
  context.id = r.U8();
  r.Skip(1);
  const uint8_t result = r.U8();
  r.Skip(1);
  if (!r.ok()) {
    error = Error::kBadItem;
    return false;
  }
  if (!request) context.result = result;
  while (r.remaining() > 0) {
    uint8_t type;
    std::span<const uint8_t> value;
    if (!NextItem(r, type, value, error)) return false;
    if (type == 0x30) {
      context.abstract_syntax = Text(value, kMaxUidLength);
    } else if (type == 0x40) {
      if (context.transfer_syntaxes.size() < kMaxTransferSyntaxes) {
        context.transfer_syntaxes.push_back(Text(value, kMaxUidLength));
      } else {
        ++context.transfer_syntaxes_dropped;
      }
    }
  }
  // PS3.8 9.3.2.2: the ID is odd, 1 to 255. Others cannot be matched to anything: counted, not kept.
  if (context.id % 2 == 0) {
    ++out.bad_context_ids;
  } else if (out.contexts.size() >= kMaxPresentationContexts) {
    ++out.contexts_dropped;
  } else {
    out.contexts.push_back(std::move(context));
  }
  return true;
}

// 0x58: | type | positive-response-requested | primary length (2) | primary | secondary length (2) |
// secondary |. Only the type, the flag and the two lengths are read: the fields themselves (a
// username and passcode, a ticket, an assertion, a token) are stepped over, never copied.
void ReadUserIdentity(std::span<const uint8_t> value, UserIdentity& out) {
  ByteReader r(value);
  out.present = true;
  out.type = r.U8();
  out.positive_response_requested = r.U8() != 0;
  out.primary_length = r.U16();
  r.Skip(out.primary_length);
  out.secondary_length = r.U16();
  r.Skip(out.secondary_length);
  out.malformed = !r.ok() || r.remaining() != 0;
  if (!r.ok()) out.secondary_length = 0;  // a length read past the end means nothing
}

bool ParseUserInformation(std::span<const uint8_t> item, UserInformation& out, Error& error) {
  ByteReader r(item);
  while (r.remaining() > 0) {
    uint8_t type;
    std::span<const uint8_t> value;
    if (!NextItem(r, type, value, error)) return false;
    ByteReader v(value);
    switch (type) {
      case 0x51:
        if (value.size() != 4) {
          ++out.malformed_sub_items;
          break;
        }
        out.has_max_length = true;
        out.max_length = v.U32();
        break;
      case 0x52:
        out.implementation_class_uid = Text(value, kMaxUidLength);
        break;
      case 0x53:
        if (value.size() != 4) {
          ++out.malformed_sub_items;
          break;
        }
        out.has_async_window = true;
        out.max_operations_invoked = v.U16();
        out.max_operations_performed = v.U16();
        break;
      case 0x54: {
        // | UID-length (2) | UID | SCU-role (1) | SCP-role (1) |
        const uint16_t uid_length = v.U16();
        const uint8_t* uid = v.Bytes(uid_length);
        const uint8_t scu = v.U8();
        const uint8_t scp = v.U8();
        if (!v.ok() || v.remaining() != 0) {
          ++out.malformed_sub_items;
          break;
        }
        if (out.roles.size() >= kMaxRoleSelections) {
          ++out.roles_dropped;
          break;
        }
        out.roles.push_back({Text({uid, uid_length}, kMaxUidLength), scu != 0, scp != 0});
        break;
      }
      case 0x55:
        out.implementation_version_name = Text(value, kMaxVersionNameLength);
        break;
      case 0x56:
      case 0x57:
        ++out.extended_negotiations;
        break;
      case 0x58:
        ReadUserIdentity(value, out.user_identity);
        break;
      case 0x59: {
        // | server-response-length (2) | server response |: the response is not kept.
        out.user_identity_response = true;
        out.server_response_length = v.U16();
        v.Skip(out.server_response_length);
        if (!v.ok()) {
          out.server_response_length = 0;
          ++out.malformed_sub_items;
        }
        break;
      }
      default:
        ++out.unknown_sub_items;
        break;
    }
  }
  return true;
}

// The fixed 10 bytes of an A-ASSOCIATE-RJ or A-ABORT: header, then four one-byte fields.
bool ParseShortPdu(std::span<const uint8_t> pdu, PduType type, std::array<uint8_t, 4>& fields, Error& error) {
  error = Error::kNone;
  if (pdu.size() < kPduHeaderSize + 4) {
    error = Error::kTruncated;
    return false;
  }
  if (pdu[0] != static_cast<uint8_t>(type)) {
    error = Error::kWrongType;
    return false;
  }
  if (Be32(pdu.data() + 2) != 4 || pdu.size() != kPduHeaderSize + 4) {
    error = Error::kBadLength;
    return false;
  }
  std::copy_n(pdu.data() + kPduHeaderSize, 4, fields.begin());
  return true;
}

}  // namespace

const char* PduTypeName(uint8_t type) {
  switch (type) {
    case 0x01:
      return "A-ASSOCIATE-RQ";
    case 0x02:
      return "A-ASSOCIATE-AC";
    case 0x03:
      return "A-ASSOCIATE-RJ";
    case 0x04:
      return "P-DATA-TF";
    case 0x05:
      return "A-RELEASE-RQ";
    case 0x06:
      return "A-RELEASE-RP";
    case 0x07:
      return "A-ABORT";
  }
  return "unknown";
}

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "dicom_ok";
    case Error::kTruncated:
      return "dicom_truncated";
    case Error::kWrongType:
      return "dicom_wrong_pdu_type";
    case Error::kBadLength:
      return "dicom_bad_pdu_length";
    case Error::kBadItem:
      return "dicom_bad_item";
    case Error::kNoCommandField:
      return "dicom_no_command_field";
  }
  return "dicom_unknown";
}

const char* PresentationResultName(uint8_t result) {
  switch (result) {
    case 0:
      return "acceptance";
    case 1:
      return "user_rejection";
    case 2:
      return "no_reason";
    case 3:
      return "abstract_syntax_not_supported";
    case 4:
      return "transfer_syntaxes_not_supported";
  }
  return "unknown";
}

const char* UserIdentityTypeName(uint8_t type) {
  switch (type) {
    case 1:
      return "username";
    case 2:
      return "username_and_passcode";
    case 3:
      return "kerberos";
    case 4:
      return "saml";
    case 5:
      return "jwt";
  }
  return "unknown";
}

bool ParseAssociate(std::span<const uint8_t> pdu, Associate& out, Error& error) {
  out = Associate{};
  error = Error::kNone;
  if (pdu.size() < kAssociateFixedSize) {
    error = Error::kTruncated;
    return false;
  }
  if (pdu[0] != static_cast<uint8_t>(PduType::kAssociateRq) && pdu[0] != static_cast<uint8_t>(PduType::kAssociateAc)) {
    error = Error::kWrongType;
    return false;
  }
  if (Be32(pdu.data() + 2) != pdu.size() - kPduHeaderSize) {
    error = Error::kBadLength;
    return false;
  }
  out.type = pdu[0];
  out.protocol_version = static_cast<uint16_t>(pdu[6] << 8 | pdu[7]);
  out.called_ae = Text(pdu.subspan(10, kAeTitleSize), kAeTitleSize);
  out.calling_ae = Text(pdu.subspan(26, kAeTitleSize), kAeTitleSize);
  const bool request = out.request();
  ByteReader r(pdu.subspan(kAssociateFixedSize));
  while (r.remaining() > 0) {
    uint8_t type;
    std::span<const uint8_t> value;
    if (!NextItem(r, type, value, error)) return false;
    if (type == 0x10) {
      out.application_context = Text(value, kMaxUidLength);
    } else if ((type == 0x20 && request) || (type == 0x21 && !request)) {
      if (!ParsePresentationContext(value, request, out, error)) return false;
    } else if (type == 0x50) {
      if (!ParseUserInformation(value, out.user, error)) return false;
    } else {
      ++out.unknown_items;
    }
  }
  return true;
}

bool ParseReject(std::span<const uint8_t> pdu, Reject& out, Error& error) {
  out = Reject{};
  std::array<uint8_t, 4> f;
  if (!ParseShortPdu(pdu, PduType::kAssociateRj, f, error)) return false;
  out.result = f[1];
  out.source = f[2];
  out.reason = f[3];
  return true;
}

const char* RejectResultName(uint8_t result) {
  switch (result) {
    case 1:
      return "rejected_permanent";
    case 2:
      return "rejected_transient";
  }
  return "unknown";
}

const char* RejectSourceName(uint8_t source) {
  switch (source) {
    case 1:
      return "service_user";
    case 2:
      return "service_provider_acse";
    case 3:
      return "service_provider_presentation";
  }
  return "unknown";
}

const char* RejectReasonName(uint8_t source, uint8_t reason) {
  if (source == 1) {
    switch (reason) {
      case 1:
        return "no_reason_given";
      case 2:
        return "application_context_name_not_supported";
      case 3:
        return "calling_ae_title_not_recognized";
      case 7:
        return "called_ae_title_not_recognized";
    }
  } else if (source == 2) {
    switch (reason) {
      case 1:
        return "no_reason_given";
      case 2:
        return "protocol_version_not_supported";
    }
  } else if (source == 3) {
    switch (reason) {
      case 1:
        return "temporary_congestion";
      case 2:
        return "local_limit_exceeded";
    }
  }
  return "unknown";
}

bool ParseAbort(std::span<const uint8_t> pdu, Abort& out, Error& error) {
  out = Abort{};
  std::array<uint8_t, 4> f;
  if (!ParseShortPdu(pdu, PduType::kAbort, f, error)) return false;
  out.source = f[2];
  out.reason = f[3];
  return true;
}

const char* AbortSourceName(uint8_t source) {
  switch (source) {
    case 0:
      return "service_user";
    case 2:
      return "service_provider";
  }
  return "unknown";
}

const char* AbortReasonName(uint8_t source, uint8_t reason) {
  if (source != 2) return "not_significant";  // a service-user abort gives no reason
  switch (reason) {
    case 0:
      return "reason_not_specified";
    case 1:
      return "unrecognized_pdu";
    case 2:
      return "unexpected_pdu";
    case 4:
      return "unrecognized_pdu_parameter";
    case 5:
      return "unexpected_pdu_parameter";
    case 6:
      return "invalid_pdu_parameter_value";
  }
  return "unknown";
}

bool ParseCommand(std::span<const uint8_t> command_set, Command& out, Error& error) {
  out = Command{};
  error = Error::kNone;
  ByteReader r(command_set);
  while (r.remaining() > 0) {
    // | group (2) | element (2) | value length (4) |, little-endian: implicit VR, so no VR field.
    const uint16_t group = r.U16Le();
    const uint16_t element = r.U16Le();
    const uint32_t length = r.U32Le();
    if (!r.ok()) {
      error = Error::kTruncated;
      return false;
    }
    // A command set is group 0000 only (PS3.7 6.3.1). Anything else is not ours to read: stop.
    if (group != 0x0000) break;
    const uint8_t* p = r.Bytes(length);
    if (!r.ok()) {
      error = Error::kTruncated;
      return false;
    }
    const std::span<const uint8_t> value(p, length);
    const bool us = length == 2;  // US values are 2 bytes; a US of another size is ignored
    const uint16_t number = us ? static_cast<uint16_t>(p[0] | p[1] << 8) : 0;
    switch (element) {
      case 0x0002:
        out.affected_sop_class_uid = Text(value, kMaxUidLength);
        break;
      case 0x0003:
        out.requested_sop_class_uid = Text(value, kMaxUidLength);
        break;
      case 0x0100:
        if (us) {
          out.has_command_field = true;
          out.command_field = number;
        }
        break;
      case 0x0110:
        if (us) {
          out.has_message_id = true;
          out.message_id = number;
        }
        break;
      case 0x0120:
        if (us) {
          out.has_responded_to = true;
          out.message_id_responded_to = number;
        }
        break;
      case 0x0600:
        out.move_destination = Text(value, kAeTitleSize);
        break;
      case 0x0700:
        if (us) out.priority = number;
        break;
      case 0x0800:
        if (us) out.data_set_type = number;
        break;
      case 0x0900:
        if (us) {
          out.has_status = true;
          out.status = number;
        }
        break;
      default:
        break;  // group length, affected/requested SOP instance UIDs, attribute lists, ...: not read
    }
  }
  if (!out.has_command_field) {
    error = Error::kNoCommandField;
    return false;
  }
  return true;
}

const char* CommandName(uint16_t command_field) {
  switch (command_field) {
    case 0x0001:
      return "C-STORE-RQ";
    case 0x8001:
      return "C-STORE-RSP";
    case 0x0010:
      return "C-GET-RQ";
    case 0x8010:
      return "C-GET-RSP";
    case 0x0020:
      return "C-FIND-RQ";
    case 0x8020:
      return "C-FIND-RSP";
    case 0x0021:
      return "C-MOVE-RQ";
    case 0x8021:
      return "C-MOVE-RSP";
    case 0x0030:
      return "C-ECHO-RQ";
    case 0x8030:
      return "C-ECHO-RSP";
    case 0x0100:
      return "N-EVENT-REPORT-RQ";
    case 0x8100:
      return "N-EVENT-REPORT-RSP";
    case 0x0110:
      return "N-GET-RQ";
    case 0x8110:
      return "N-GET-RSP";
    case 0x0120:
      return "N-SET-RQ";
    case 0x8120:
      return "N-SET-RSP";
    case 0x0130:
      return "N-ACTION-RQ";
    case 0x8130:
      return "N-ACTION-RSP";
    case 0x0140:
      return "N-CREATE-RQ";
    case 0x8140:
      return "N-CREATE-RSP";
    case 0x0150:
      return "N-DELETE-RQ";
    case 0x8150:
      return "N-DELETE-RSP";
    case 0x0FFF:
      return "C-CANCEL-RQ";
  }
  return nullptr;
}

const char* StatusCategory(uint16_t status) {
  // PS3.7 Annex C: 0000 success; FF00/FF01 pending; FE00 cancel; 0001, Bxxx, 0107 and 0116
  // warnings; everything else (Axxx, Cxxx, 01xx, 02xx, ...) a failure.
  if (status == 0x0000) return "success";
  if (status == 0xFF00 || status == 0xFF01) return "pending";
  if (status == 0xFE00) return "cancel";
  if (status == 0x0001 || (status & 0xF000) == 0xB000 || status == 0x0107 || status == 0x0116) return "warning";
  return "failure";
}

bool LooksLikeDicom(std::span<const uint8_t> b) {
  constexpr size_t kNeeded = 26 + kAeTitleSize;  // through the calling AE title
  if (b.size() < kNeeded) return false;
  if (b[0] != static_cast<uint8_t>(PduType::kAssociateRq) || b[1] != 0) return false;
  const uint32_t length = Be32(b.data() + 2);
  if (length < kAssociateFixedSize - kPduHeaderSize || length >= (1u << 20)) return false;
  if (b[6] != 0x00 || b[7] != 0x01) return false;
  for (size_t i = 10; i < kNeeded; ++i) {
    if (b[i] < 0x20 || b[i] > 0x7E) return false;
  }
  return true;
}

const char* StreamErrorName(StreamError e) {
  switch (e) {
    case StreamError::kNone:
      return "dicom_stream_ok";
    case StreamError::kUnknownPduType:
      return "dicom_unknown_pdu_type";
    case StreamError::kBadPduLength:
      return "dicom_bad_pdu_length";
    case StreamError::kBadPdvLength:
      return "dicom_bad_pdv_length";
    case StreamError::kGap:
      return "dicom_gap";
  }
  return "dicom_stream_unknown";
}

void PduReader::Fail(StreamError e) {
  if (command_open_) ++counters_.lost_commands;
  error_ = e;
  ++counters_.errors;
  state_ = State::kFailed;
  control_.clear();
  control_.shrink_to_fit();
  command_.clear();
  command_.shrink_to_fit();
  command_open_ = false;
  data_set_open_ = false;
}

void PduReader::StartPdu() {
  pdu_type_ = header_[0];
  const uint32_t length = Be32(header_.data() + 2);
  if (pdu_type_ < 0x01 || pdu_type_ > 0x07) {
    Fail(StreamError::kUnknownPduType);
    return;
  }
  ++counters_.pdus[pdu_type_];
  pdu_remaining_ = length;
  switch (static_cast<PduType>(pdu_type_)) {
    case PduType::kPData:
      // At least one PDV item header (4 + 1 + 1).
      if (length < 6) {
        Fail(StreamError::kBadPduLength);
        return;
      }
      state_ = State::kPdvHeader;
      return;
    case PduType::kAssociateRq:
    case PduType::kAssociateAc:
      if (length < kAssociateFixedSize - kPduHeaderSize) {
        Fail(StreamError::kBadPduLength);
        return;
      }
      break;
    case PduType::kAssociateRj:
    case PduType::kReleaseRq:
    case PduType::kReleaseRp:
    case PduType::kAbort:
      if (length != 4) {
        Fail(StreamError::kBadPduLength);
        return;
      }
      break;
  }
  if (uint64_t{length} + kPduHeaderSize > max_control_pdu_) {
    ++counters_.oversized;
    state_ = State::kSkipPdu;
    return;
  }
  control_.assign(header_.begin(), header_.end());
  control_.reserve(kPduHeaderSize + length);
  state_ = State::kControlBody;
}

void PduReader::EndControlPdu(const PduCallbacks& callbacks) {
  const std::span<const uint8_t> pdu(control_);
  Error error;
  switch (static_cast<PduType>(pdu_type_)) {
    case PduType::kAssociateRq:
    case PduType::kAssociateAc: {
      Associate associate;
      if (!ParseAssociate(pdu, associate, error)) {
        ++counters_.malformed;
      } else if (callbacks.on_associate) {
        callbacks.on_associate(associate);
      }
      break;
    }
    case PduType::kAssociateRj: {
      Reject reject;
      if (!ParseReject(pdu, reject, error)) {
        ++counters_.malformed;
      } else if (callbacks.on_reject) {
        callbacks.on_reject(reject);
      }
      break;
    }
    case PduType::kReleaseRq:
    case PduType::kReleaseRp:
      if (callbacks.on_release) callbacks.on_release(static_cast<PduType>(pdu_type_));
      break;
    case PduType::kAbort: {
      Abort abort;
      if (!ParseAbort(pdu, abort, error)) {
        ++counters_.malformed;
      } else if (callbacks.on_abort) {
        callbacks.on_abort(abort);
      }
      break;
    }
    case PduType::kPData:
      break;
  }
  // Association PDUs come once per association: do not hold a large buffer for the rest of it.
  if (control_.capacity() > 1024) {
    std::vector<uint8_t>().swap(control_);
  } else {
    control_.clear();
  }
  state_ = State::kPduHeader;
}

void PduReader::StartPdv(const PduCallbacks& callbacks) {
  const uint32_t item_length = Be32(pdv_header_.data());
  // The item length counts the context ID and the control header; the rest must fit in the PDU.
  if (item_length < 2 || item_length - 2 > pdu_remaining_) {
    Fail(StreamError::kBadPdvLength);
    return;
  }
  ++counters_.pdv_items;
  pdv_context_ = pdv_header_[4];
  pdv_command_ = pdv_header_[5] & 0x01;
  pdv_last_ = pdv_header_[5] & 0x02;
  fragment_remaining_ = item_length - 2;
  if (pdv_context_ % 2 == 0) ++counters_.bad_context_ids;
  if (pdv_command_) {
    if (data_set_open_) {  // the data set of the previous message never ended
      ++counters_.out_of_order;
      data_set_open_ = false;
    }
    if (command_open_ && pdv_context_ != command_context_) {  // another message's command: start again
      ++counters_.out_of_order;
      ++counters_.lost_commands;
      command_open_ = false;
    }
    if (!command_open_) {
      command_open_ = true;
      command_dropped_ = false;
      command_context_ = pdv_context_;
      command_.clear();
    }
  } else {
    if (command_open_) {  // a data set before its command ended: that command is lost
      ++counters_.out_of_order;
      ++counters_.lost_commands;
      command_open_ = false;
      command_.clear();
    }
    if (!data_set_open_) {
      data_set_open_ = true;
      data_set_size_ = 0;
    }
  }
  state_ = State::kPdvBody;
  if (fragment_remaining_ == 0) EndPdv(callbacks);
}

void PduReader::EndPdv(const PduCallbacks& callbacks) {
  if (pdv_last_) {
    if (pdv_command_) {
      if (!command_dropped_) {
        Command command;
        Error error;
        if (ParseCommand(command_, command, error)) {
          command.context_id = command_context_;
          ++counters_.commands;
          if (callbacks.on_command) callbacks.on_command(command);
        } else {
          ++counters_.malformed;
        }
      }
      command_open_ = false;
      command_.clear();
    } else {
      ++counters_.data_sets;
      if (callbacks.on_data_set) callbacks.on_data_set(pdv_context_, data_set_size_);
      data_set_open_ = false;
      data_set_size_ = 0;
    }
  }
  AfterPdv();
}

void PduReader::AfterPdv() {
  if (pdu_remaining_ == 0) {
    state_ = State::kPduHeader;
  } else if (pdu_remaining_ < 6) {  // not even a PDV header left in the PDU
    Fail(StreamError::kBadPdvLength);
  } else {
    state_ = State::kPdvHeader;
  }
}

void PduReader::Feed(std::span<const uint8_t> bytes, const PduCallbacks& callbacks) {
  size_t i = 0;
  const size_t n = bytes.size();
  // A fragment a gap finished (see Gap()) ends here, before anything new.
  if (state_ == State::kPdvBody && fragment_remaining_ == 0) EndPdv(callbacks);
  while (i < n && state_ != State::kFailed) {
    const size_t available = n - i;
    switch (state_) {
      case State::kPduHeader: {
        const size_t take = std::min(kPduHeaderSize - header_size_, available);
        std::copy_n(bytes.data() + i, take, header_.begin() + header_size_);
        header_size_ += take;
        i += take;
        if (header_size_ == kPduHeaderSize) {
          header_size_ = 0;
          StartPdu();
        }
        break;
      }
      case State::kControlBody: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(pdu_remaining_, available));
        for (size_t k = 0; k < take; ++k) control_.push_back(bytes[i + k]);
        i += take;
        pdu_remaining_ -= take;
        if (pdu_remaining_ == 0) EndControlPdu(callbacks);
        break;
      }
      case State::kSkipPdu: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(pdu_remaining_, available));
        i += take;
        pdu_remaining_ -= take;
        if (pdu_remaining_ == 0) state_ = State::kPduHeader;
        break;
      }
      case State::kPdvHeader: {
        const size_t take = std::min(pdv_header_.size() - pdv_header_size_, available);
        std::copy_n(bytes.data() + i, take, pdv_header_.begin() + pdv_header_size_);
        pdv_header_size_ += take;
        pdu_remaining_ -= take;  // AfterPdv() and StartPdu() left at least 6 bytes in the PDU
        i += take;
        if (pdv_header_size_ == pdv_header_.size()) {
          pdv_header_size_ = 0;
          StartPdv(callbacks);
        }
        break;
      }
      case State::kPdvBody: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(fragment_remaining_, available));
        if (pdv_command_) {
          if (!command_dropped_) {
            if (command_.size() + take > max_command_set_) {
              ++counters_.oversized_commands;
              command_dropped_ = true;
              command_.clear();
            } else {
              for (size_t k = 0; k < take; ++k) command_.push_back(bytes[i + k]);
            }
          }
        } else {
          // A data set: counted, never copied.
          data_set_size_ += take;
          counters_.data_set_bytes += take;
        }
        i += take;
        fragment_remaining_ -= take;
        pdu_remaining_ -= take;
        if (fragment_remaining_ == 0) EndPdv(callbacks);
        break;
      }
      case State::kFailed:
        break;
    }
  }
}

void PduReader::Gap(uint64_t bytes) {
  if (state_ == State::kFailed || bytes == 0) return;
  switch (state_) {
    case State::kPdvBody:
      if (bytes <= fragment_remaining_) {
        if (pdv_command_) {
          if (!command_dropped_) ++counters_.lost_commands;
          command_dropped_ = true;
          command_.clear();
        } else {
          data_set_size_ += bytes;
          counters_.data_set_bytes += bytes;
        }
        fragment_remaining_ -= bytes;
        pdu_remaining_ -= bytes;
        ++counters_.gaps_skipped;
        return;  // a fragment the gap finished ends at the next Feed()
      }
      break;
    case State::kControlBody:
    case State::kSkipPdu:
      // The PDU's length is known: step over the rest of it (a cut control PDU is not parsed).
      if (bytes <= pdu_remaining_) {
        control_.clear();
        pdu_remaining_ -= bytes;
        ++counters_.gaps_skipped;
        state_ = pdu_remaining_ == 0 ? State::kPduHeader : State::kSkipPdu;
        return;
      }
      break;
    default:
      break;
  }
  Fail(StreamError::kGap);
}

}  // namespace auscult::sensor::dicom
