#include "sensor/parsers/snmp/snmp_message.h"

#include <string_view>

#include "sensor/parsers/snmp/ber.h"

namespace auscult::sensor::snmp {
namespace {

Error FromBer(ber::Error e) {
  switch (e) {
    case ber::Error::kNone:
      return Error::kNone;
    case ber::Error::kTruncated:
      return Error::kTruncated;
    case ber::Error::kBadLength:
      return Error::kBadLength;
    case ber::Error::kBadTag:
      return Error::kBadTag;
    case ber::Error::kBadInteger:
      return Error::kBadInteger;
    case ber::Error::kBadOid:
      return Error::kBadOid;
  }
  return Error::kBadTag;
}

bool Fail(const ber::Reader& r, Error& error) {
  error = FromBer(r.error());
  return false;
}

bool Oid(ber::Reader& r, std::string& dotted) {
  ber::Tlv t;
  if (!r.Expect(ber::kObjectIdentifier, t)) return false;
  if (!ber::DecodeOid(t.value, dotted)) return r.Fail(ber::Error::kBadOid);
  return true;
}

// VarBind ::= SEQUENCE { name OBJECT IDENTIFIER, value }: the value's tag is kept, and its text
// for the two types identity is carried in (OCTET STRING, OBJECT IDENTIFIER).
bool ReadBindings(ber::Reader& list, Message& m) {
  while (!list.AtEnd()) {  // every pass consumes at least two bytes
    ber::Tlv seq, value;
    if (!list.Expect(ber::kSequence, seq)) return false;
    ber::Reader bind(seq.value);
    VarBind vb;
    if (!Oid(bind, vb.name) || !bind.Next(value)) {
      list.Fail(bind.error());
      return false;
    }
    vb.value_tag = value.tag;
    if (value.tag == ber::kOctetString) {
      vb.value.assign(reinterpret_cast<const char*>(value.value.data()), value.value.size());
    } else if (value.tag == ber::kObjectIdentifier && !ber::DecodeOid(value.value, vb.value)) {
      return list.Fail(ber::Error::kBadOid);
    }
    if (m.bindings.size() < kMaxBindings) m.bindings.push_back(std::move(vb));
  }
  return true;
}

// A PDU (any of the nine), given its TLV.
bool ReadPdu(const ber::Tlv& pdu, Message& m, Error& error) {
  if (pdu.tag < kGetRequest || pdu.tag > kReport) {
    error = Error::kBadPdu;
    return false;
  }
  m.pdu_type = pdu.tag;
  m.has_pdu = true;
  ber::Reader r(pdu.value);
  ber::Tlv skipped, list;
  int64_t ignored;
  if (pdu.tag == kTrapV1) {
    if (!Oid(r, m.enterprise) || !r.Expect(ber::kIpAddress, skipped) || !r.Integer(ignored) || !r.Integer(ignored) ||
        !r.Expect(ber::kTimeTicks, skipped)) {
      return Fail(r, error);
    }
  } else if (!r.Integer(ignored) || !r.Integer(ignored) || !r.Integer(ignored)) {
    return Fail(r, error);
  }
  if (!r.Expect(ber::kSequence, list)) return Fail(r, error);
  ber::Reader bindings(list.value);
  if (!ReadBindings(bindings, m)) return Fail(bindings, error);
  return true;
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kTruncated:
      return "snmp_truncated";
    case Error::kBadLength:
      return "snmp_bad_length";
    case Error::kBadTag:
      return "snmp_unexpected_tag";
    case Error::kBadInteger:
      return "snmp_bad_integer";
    case Error::kBadOid:
      return "snmp_bad_oid";
    case Error::kBadVersion:
      return "snmp_unknown_version";
    case Error::kBadPdu:
      return "snmp_unknown_pdu";
  }
  return "snmp_unknown";
}

bool Parse(std::span<const uint8_t> payload, Message& m, Error& error) {
  error = Error::kNone;
  ber::Reader top(payload);
  ber::Tlv message;
  if (!top.Expect(ber::kSequence, message)) {
    // Cut short (by the capture's snap length, or by a lying length): the version still tells
    // v3, which the caller does not judge, from the rest.
    std::span<const uint8_t> available;
    if (ber::ClippedContent(payload, ber::kSequence, available)) {
      ber::Reader peek(available);
      peek.Integer(m.version);
    }
    return Fail(top, error);
  }
  ber::Reader r(message.value);
  if (!r.Integer(m.version)) return Fail(r, error);
  ber::Tlv pdu;
  if (m.version == 0 || m.version == 1) {
    std::span<const uint8_t> community;
    if (!r.OctetString(community)) return Fail(r, error);
    const std::string_view c(reinterpret_cast<const char*>(community.data()), community.size());
    m.default_community = c == "public" || c == "private";
    if (!r.Next(pdu)) return Fail(r, error);
    return ReadPdu(pdu, m, error);
  }
  if (m.version != 3) {
    error = Error::kBadVersion;
    return false;
  }
  ber::Tlv global, data;
  std::span<const uint8_t> security;
  if (!r.Expect(ber::kSequence, global) || !r.OctetString(security) || !r.Next(data)) return Fail(r, error);
  if (data.tag == ber::kOctetString) return true;  // encryptedPDU: nothing more to read
  if (data.tag != ber::kSequence) {
    error = Error::kBadTag;
    return false;
  }
  ber::Reader scoped(data.value);
  std::span<const uint8_t> context_engine, context_name;
  if (!scoped.OctetString(context_engine) || !scoped.OctetString(context_name) || !scoped.Next(pdu)) {
    return Fail(scoped, error);
  }
  return ReadPdu(pdu, m, error);
}

}  // namespace auscult::sensor::snmp
