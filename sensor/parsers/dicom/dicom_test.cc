// The DICOM upper layer on bytes: association, reject, abort, release and P-DATA PDUs built field by
// field from PS3.8, and one real exchange (DCMTK 3.6.7 storescu sending a synthetic CT image to
// storescp, with a username and passcode). Patient data (DOE^JANE, SYNTH123) and credentials never
// come out of the decoder; every split of a stream decodes alike; garbage, truncation and gaps are
// counted, never a crash. (Not yet registered as a flow parser: the wiring comes separately.)
#include "sensor/parsers/dicom/dicom_pdu.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sensor/parsers/dicom/sop_classes.h"

namespace auscult::sensor::dicom {
namespace {

// Byte vectors are built by push_back only: GCC 12 warns falsely (-Warray-bounds) on range inserts
// into small vectors.
using Bytes = std::vector<uint8_t>;

void Append(Bytes& out, const Bytes& more) {
  for (uint8_t b : more) out.push_back(b);
}
void Put16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v));
}
void PutLe16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void PutLe32(Bytes& out, uint32_t v) {
  PutLe16(out, static_cast<uint16_t>(v));
  PutLe16(out, static_cast<uint16_t>(v >> 16));
}
void PutText(Bytes& out, std::string_view s) {
  for (char c : s) out.push_back(static_cast<uint8_t>(c));
}
Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) Append(out, p);
  return out;
}

// | type | 0 | length (2) | value |: items and sub-items of A-ASSOCIATE PDUs.
Bytes Item(uint8_t type, const Bytes& value) {
  Bytes out;
  out.push_back(type);
  out.push_back(0);
  Put16(out, static_cast<uint16_t>(value.size()));
  Append(out, value);
  return out;
}
Bytes Text(std::string_view s) {
  Bytes out;
  PutText(out, s);
  return out;
}
// | type | 0 | length (4) | body |
Bytes Pdu(uint8_t type, const Bytes& body) {
  Bytes out;
  out.push_back(type);
  out.push_back(0);
  Put32(out, static_cast<uint32_t>(body.size()));
  Append(out, body);
  return out;
}
Bytes AeTitle(std::string_view title) {
  Bytes out;
  PutText(out, title);
  while (out.size() < kAeTitleSize) out.push_back(' ');
  return out;
}
Bytes AssociatePdu(uint8_t type, std::string_view called, std::string_view calling, const Bytes& items) {
  Bytes body;
  Put16(body, 0x0001);  // protocol version
  Put16(body, 0);
  Append(body, AeTitle(called));
  Append(body, AeTitle(calling));
  for (int i = 0; i < 32; ++i) body.push_back(0);
  Append(body, items);
  return Pdu(type, body);
}
Bytes ContextRq(uint8_t id, std::string_view abstract_syntax, std::initializer_list<std::string_view> syntaxes) {
  Bytes value = {id, 0, 0, 0};
  Append(value, Item(0x30, Text(abstract_syntax)));
  for (std::string_view ts : syntaxes) Append(value, Item(0x40, Text(ts)));
  return Item(0x20, value);
}
Bytes ContextAc(uint8_t id, uint8_t result, std::string_view syntax) {
  Bytes value = {id, 0, result, 0};
  Append(value, Item(0x40, Text(syntax)));
  return Item(0x21, value);
}
Bytes MaxLength(uint32_t n) {
  Bytes v;
  Put32(v, n);
  return Item(0x51, v);
}
Bytes RoleSelectionItem(std::string_view uid, bool scu, bool scp) {
  Bytes v;
  Put16(v, static_cast<uint16_t>(uid.size()));
  PutText(v, uid);
  v.push_back(scu);
  v.push_back(scp);
  return Item(0x54, v);
}
Bytes UserIdentityRq(uint8_t type, bool positive, std::string_view primary, std::string_view secondary) {
  Bytes v = {type, static_cast<uint8_t>(positive)};
  Put16(v, static_cast<uint16_t>(primary.size()));
  PutText(v, primary);
  Put16(v, static_cast<uint16_t>(secondary.size()));
  PutText(v, secondary);
  return Item(0x58, v);
}

// Implicit VR little endian elements of group 0000.
Bytes Element(uint16_t group, uint16_t element, const Bytes& value) {
  Bytes out;
  PutLe16(out, group);
  PutLe16(out, element);
  PutLe32(out, static_cast<uint32_t>(value.size()));
  Append(out, value);
  return out;
}
Bytes Us(uint16_t element, uint16_t v) {
  Bytes value;
  PutLe16(value, v);
  return Element(0x0000, element, value);
}
Bytes Ui(uint16_t element, std::string_view uid) {
  Bytes value = Text(uid);
  if (value.size() % 2) value.push_back(0);  // UIDs are padded to even length with a NUL
  return Element(0x0000, element, value);
}
// | item length (4) | context ID | control header | fragment |
Bytes Pdv(uint8_t context, bool command, bool last, const Bytes& fragment) {
  Bytes out;
  Put32(out, static_cast<uint32_t>(fragment.size() + 2));
  out.push_back(context);
  out.push_back(static_cast<uint8_t>((command ? 1 : 0) | (last ? 2 : 0)));
  Append(out, fragment);
  return out;
}
Bytes PData(std::initializer_list<Bytes> pdvs) { return Pdu(0x04, Concat(pdvs)); }

constexpr std::string_view kCtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
constexpr std::string_view kModalityWorklist = "1.2.840.10008.5.1.4.31";
constexpr std::string_view kVerification = "1.2.840.10008.1.1";
constexpr std::string_view kImplicitLe = "1.2.840.10008.1.2";
constexpr std::string_view kExplicitLe = "1.2.840.10008.1.2.1";
constexpr std::string_view kDcmtkClassUid = "1.2.276.0.7230010.3.0.3.6.7";

// Synthetic patient data and credentials: none of these may come out of the decoder.
constexpr std::string_view kSecrets[] = {"DOE^JANE", "SYNTH123", "19700101", "synthuser", "Synth-Passcode"};

// A C-STORE-RQ command set as DCMTK writes it (group length first, NUL-padded UIDs).
Bytes StoreRqCommand(uint16_t message_id) {
  Bytes elements = Concat({Ui(0x0002, kCtImageStorage), Us(0x0100, 0x0001), Us(0x0110, message_id), Us(0x0700, 0x0000),
                           Us(0x0800, 0x0000), Ui(0x1000, "1.2.826.0.1.3680043.9.9999.1.1.1")});
  Bytes length;
  PutLe32(length, static_cast<uint32_t>(elements.size()));
  return Concat({Element(0x0000, 0x0000, length), elements});
}
// A data set holding a patient's name and ID, as a C-STORE carries it (explicit VR little endian).
Bytes PatientDataSet() {
  Bytes out;
  PutLe16(out, 0x0010);
  PutLe16(out, 0x0010);
  PutText(out, "PN");
  PutLe16(out, 8);
  PutText(out, "DOE^JANE");
  PutLe16(out, 0x0010);
  PutLe16(out, 0x0020);
  PutText(out, "LO");
  PutLe16(out, 8);
  PutText(out, "SYNTH123");
  for (int i = 0; i < 64; ++i) out.push_back(static_cast<uint8_t>(i));  // "pixels"
  return out;
}

// Every string the decoder hands out, to search for what must never be there.
std::vector<std::string> AllText(const Associate& a) {
  std::vector<std::string> out = {a.called_ae, a.calling_ae, a.application_context, a.user.implementation_class_uid,
                                  a.user.implementation_version_name};
  for (const PresentationContext& c : a.contexts) {
    out.push_back(c.abstract_syntax);
    for (const std::string& ts : c.transfer_syntaxes) out.push_back(ts);
  }
  for (const RoleSelection& r : a.user.roles) out.push_back(r.sop_class_uid);
  return out;
}
std::vector<std::string> AllText(const Command& c) {
  return {c.affected_sop_class_uid, c.requested_sop_class_uid, c.move_destination};
}
void ExpectNoSecrets(const std::vector<std::string>& texts) {
  for (const std::string& t : texts) {
    for (std::string_view secret : kSecrets) EXPECT_EQ(t.find(secret), std::string::npos) << t;
  }
}

// What a PduReader reported, in order, as text (and the structures, for closer looks).
struct Recorder {
  std::vector<std::string> events;
  std::vector<Associate> associates;
  std::vector<Command> commands;
  std::vector<uint64_t> data_sets;
  std::vector<Reject> rejects;
  std::vector<Abort> aborts;
  PduCallbacks callbacks() {
    PduCallbacks cb;
    cb.on_associate = [this](const Associate& a) {
      associates.push_back(a);
      events.push_back(std::string(a.request() ? "RQ " : "AC ") + a.calling_ae + "->" + a.called_ae);
    };
    cb.on_reject = [this](const Reject& r) {
      rejects.push_back(r);
      events.push_back("RJ");
    };
    cb.on_release = [this](PduType t) { events.push_back(PduTypeName(static_cast<uint8_t>(t))); };
    cb.on_abort = [this](const Abort& a) {
      aborts.push_back(a);
      events.push_back("ABORT");
    };
    cb.on_command = [this](const Command& c) {
      commands.push_back(c);
      const char* name = CommandName(c.command_field);
      events.push_back(std::string(name ? name : "?") + " " + std::to_string(c.message_id) + " ctx " +
                       std::to_string(c.context_id));
    };
    cb.on_data_set = [this](uint8_t context, uint64_t bytes) {
      data_sets.push_back(bytes);
      events.push_back("data set " + std::to_string(bytes) + " ctx " + std::to_string(context));
    };
    return cb;
  }
  void ExpectNoSecrets() const {
    for (const Associate& a : associates) dicom::ExpectNoSecrets(AllText(a));
    for (const Command& c : commands) dicom::ExpectNoSecrets(AllText(c));
    dicom::ExpectNoSecrets(events);
  }
};

Bytes SampleRq() {
  const Bytes user = Item(0x50, Concat({MaxLength(16384), Item(0x52, Text(std::string(kDcmtkClassUid) + '\0')),
                                        Item(0x53, Bytes{0, 1, 0, 1}), RoleSelectionItem(kCtImageStorage, true, false),
                                        Item(0x55, Text("OFFIS_DCMTK_367")), Item(0x56, Bytes{0, 2, 'x', 'y'}),
                                        UserIdentityRq(2, true, "synthuser", "Synth-Passcode-42")}));
  return AssociatePdu(
      0x01, "PACS_SYNTH", "CT_SYNTH_01",
      Concat({Item(0x10, Text("1.2.840.10008.3.1.1.1")), ContextRq(1, kCtImageStorage, {kExplicitLe, kImplicitLe}),
              ContextRq(3, kModalityWorklist, {kImplicitLe}), ContextRq(5, kVerification, {kImplicitLe}), user}));
}

Bytes SampleAc() {
  const Bytes user = Item(0x50, Concat({MaxLength(0), Item(0x52, Text("1.2.40.0.13.1.3")),
                                        Item(0x55, Text("dcm4che-5.31")), Item(0x59, Bytes{0, 0})}));
  return AssociatePdu(0x02, "PACS_SYNTH", "CT_SYNTH_01",
                      Concat({Item(0x10, Text("1.2.840.10008.3.1.1.1")), ContextAc(1, 0, kExplicitLe),
                              ContextAc(3, 3, kImplicitLe), ContextAc(5, 4, kImplicitLe), user}));
}

// The user identity keeps a type, a flag and two lengths: no room for a credential.
static_assert(std::is_trivially_copyable_v<UserIdentity>, "UserIdentity must not hold text");

TEST(DicomAssociate, RequestContextsAndUserInformation) {
  Associate a;
  Error e;
  ASSERT_TRUE(ParseAssociate(SampleRq(), a, e)) << ErrorName(e);
  EXPECT_TRUE(a.request());
  EXPECT_EQ(a.protocol_version, 1);
  EXPECT_EQ(a.called_ae, "PACS_SYNTH");
  EXPECT_EQ(a.calling_ae, "CT_SYNTH_01");
  EXPECT_EQ(a.application_context, kApplicationContextName);
  ASSERT_EQ(a.contexts.size(), 3u);
  EXPECT_EQ(a.contexts[0].id, 1);
  EXPECT_EQ(a.contexts[0].abstract_syntax, kCtImageStorage);
  EXPECT_EQ(a.contexts[0].transfer_syntaxes,
            (std::vector<std::string>{std::string(kExplicitLe), std::string(kImplicitLe)}));
  EXPECT_EQ(a.contexts[1].id, 3);
  EXPECT_EQ(a.contexts[1].abstract_syntax, kModalityWorklist);
  EXPECT_EQ(a.contexts[2].abstract_syntax, kVerification);
  EXPECT_EQ(a.bad_context_ids, 0u);
  EXPECT_EQ(a.unknown_items, 0u);

  const UserInformation& u = a.user;
  EXPECT_TRUE(u.has_max_length);
  EXPECT_EQ(u.max_length, 16384u);
  EXPECT_EQ(u.implementation_class_uid, kDcmtkClassUid);  // the NUL pad trimmed
  EXPECT_EQ(u.implementation_version_name, "OFFIS_DCMTK_367");
  EXPECT_TRUE(u.has_async_window);
  EXPECT_EQ(u.max_operations_invoked, 1);
  EXPECT_EQ(u.max_operations_performed, 1);
  ASSERT_EQ(u.roles.size(), 1u);
  EXPECT_EQ(u.roles[0].sop_class_uid, kCtImageStorage);
  EXPECT_TRUE(u.roles[0].scu);
  EXPECT_FALSE(u.roles[0].scp);
  EXPECT_EQ(u.extended_negotiations, 1u);
  EXPECT_EQ(u.malformed_sub_items, 0u);

  const UserIdentity& id = u.user_identity;
  EXPECT_TRUE(id.present);
  EXPECT_EQ(id.type, static_cast<uint8_t>(UserIdentityType::kUsernamePasscode));
  EXPECT_STREQ(UserIdentityTypeName(id.type), "username_and_passcode");
  EXPECT_TRUE(id.positive_response_requested);
  EXPECT_EQ(id.primary_length, 9u);     // "synthuser"
  EXPECT_EQ(id.secondary_length, 17u);  // "Synth-Passcode-42"
  EXPECT_TRUE(id.has_passcode());
  EXPECT_FALSE(id.malformed);
  ExpectNoSecrets(AllText(a));
}

TEST(DicomAssociate, OtherUserIdentityTypes) {
  for (uint8_t type : {1, 3, 4, 5}) {
    Associate a;
    Error e;
    const Bytes rq = AssociatePdu(0x01, "A", "B",
                                  Concat({ContextRq(1, kVerification, {kImplicitLe}),
                                          Item(0x50, UserIdentityRq(type, false, "synthuser-or-token", ""))}));
    ASSERT_TRUE(ParseAssociate(rq, a, e)) << ErrorName(e);
    EXPECT_EQ(a.user.user_identity.type, type);
    EXPECT_FALSE(a.user.user_identity.positive_response_requested);
    EXPECT_EQ(a.user.user_identity.primary_length, 18u);
    EXPECT_FALSE(a.user.user_identity.has_passcode());
    ExpectNoSecrets(AllText(a));
  }
  // Lengths that do not add up: flagged, still nothing copied.
  Bytes bad = {2, 1};
  Put16(bad, 40);  // primary length past the end
  PutText(bad, "synthuser");
  Associate a;
  Error e;
  ASSERT_TRUE(ParseAssociate(AssociatePdu(0x01, "A", "B", Item(0x50, Item(0x58, bad))), a, e));
  EXPECT_TRUE(a.user.user_identity.malformed);
  EXPECT_EQ(a.user.user_identity.secondary_length, 0u);
}

TEST(DicomAssociate, AcceptAnswersEachContext) {
  Associate a;
  Error e;
  ASSERT_TRUE(ParseAssociate(SampleAc(), a, e)) << ErrorName(e);
  EXPECT_FALSE(a.request());
  EXPECT_EQ(a.called_ae, "PACS_SYNTH");
  ASSERT_EQ(a.contexts.size(), 3u);
  EXPECT_EQ(a.contexts[0].id, 1);
  EXPECT_TRUE(a.contexts[0].accepted());
  EXPECT_TRUE(a.contexts[0].abstract_syntax.empty());  // the AC does not repeat it
  EXPECT_EQ(a.contexts[0].transfer_syntaxes, std::vector<std::string>{std::string(kExplicitLe)});
  EXPECT_EQ(a.contexts[1].id, 3);
  EXPECT_FALSE(a.contexts[1].accepted());
  EXPECT_STREQ(PresentationResultName(a.contexts[1].result), "abstract_syntax_not_supported");
  EXPECT_STREQ(PresentationResultName(a.contexts[2].result), "transfer_syntaxes_not_supported");
  EXPECT_STREQ(PresentationResultName(1), "user_rejection");
  EXPECT_STREQ(PresentationResultName(2), "no_reason");
  EXPECT_STREQ(PresentationResultName(9), "unknown");
  EXPECT_EQ(a.user.implementation_class_uid, "1.2.40.0.13.1.3");
  EXPECT_EQ(a.user.implementation_version_name, "dcm4che-5.31");
  EXPECT_TRUE(a.user.user_identity_response);
  EXPECT_EQ(a.user.server_response_length, 0u);
  EXPECT_FALSE(a.user.user_identity.present);
}

TEST(DicomAssociate, TitlesAreTrimmedAndPrintable) {
  Bytes called = Text("  CT\x01SCAN");
  while (called.size() < kAeTitleSize) called.push_back(0);
  Bytes body;
  Put16(body, 1);
  Put16(body, 0);
  Append(body, called);
  Append(body, AeTitle("WS"));
  for (int i = 0; i < 32; ++i) body.push_back(0);
  Associate a;
  Error e;
  ASSERT_TRUE(ParseAssociate(Pdu(0x01, body), a, e)) << ErrorName(e);
  EXPECT_EQ(a.called_ae, "CT?SCAN");
  EXPECT_EQ(a.calling_ae, "WS");
  EXPECT_TRUE(a.contexts.empty());
}

TEST(DicomAssociate, BadAndSurplusContexts) {
  Bytes items;
  Append(items, ContextRq(0, kVerification, {kImplicitLe}));  // IDs are odd: 0 and 2 are refused
  Append(items, ContextRq(2, kVerification, {kImplicitLe}));
  for (int i = 0; i < 130; ++i)
    Append(items, ContextRq(static_cast<uint8_t>(2 * i + 1), kCtImageStorage, {kImplicitLe}));
  Bytes ts_items = {7, 0, 0, 0};
  Append(ts_items, Item(0x30, Text(kCtImageStorage)));
  for (size_t i = 0; i < kMaxTransferSyntaxes + 3; ++i) Append(ts_items, Item(0x40, Text(kImplicitLe)));
  Associate a;
  Error e;
  ASSERT_TRUE(ParseAssociate(AssociatePdu(0x01, "A", "B", Concat({Item(0x20, ts_items), items})), a, e))
      << ErrorName(e);
  EXPECT_EQ(a.bad_context_ids, 2u);
  EXPECT_EQ(a.contexts.size(), kMaxPresentationContexts);
  EXPECT_EQ(a.contexts_dropped, 3u);  // 1 + 130 contexts, 128 kept
  EXPECT_EQ(a.contexts[0].transfer_syntaxes.size(), kMaxTransferSyntaxes);
  EXPECT_EQ(a.contexts[0].transfer_syntaxes_dropped, 3u);
  // An RQ item in an AC, and unknown items, are counted and stepped over.
  ASSERT_TRUE(ParseAssociate(
      AssociatePdu(0x02, "A", "B", Concat({ContextRq(1, kVerification, {kImplicitLe}), Item(0x77, Bytes{1, 2, 3})})), a,
      e));
  EXPECT_EQ(a.unknown_items, 2u);
  EXPECT_TRUE(a.contexts.empty());
}

TEST(DicomAssociate, Refused) {
  const Bytes rq = SampleRq();
  Associate a;
  Error e;
  EXPECT_FALSE(ParseAssociate(Bytes(rq.begin(), rq.begin() + 73), a, e));
  EXPECT_EQ(e, Error::kTruncated);
  Bytes wrong = rq;
  wrong[0] = 0x03;
  EXPECT_FALSE(ParseAssociate(wrong, a, e));
  EXPECT_EQ(e, Error::kWrongType);
  Bytes longer = rq;
  longer.push_back(0);
  EXPECT_FALSE(ParseAssociate(longer, a, e));
  EXPECT_EQ(e, Error::kBadLength);
  // An item longer than what is left.
  Bytes item_past_end = AssociatePdu(0x01, "A", "B", Bytes{0x10, 0, 0, 50, '1', '.', '2'});
  EXPECT_FALSE(ParseAssociate(item_past_end, a, e));
  EXPECT_EQ(e, Error::kBadItem);
  // A sub-item longer than its presentation context.
  Bytes sub = {1, 0, 0, 0, 0x30, 0, 0, 200, '1'};
  EXPECT_FALSE(ParseAssociate(AssociatePdu(0x01, "A", "B", Item(0x20, sub)), a, e));
  EXPECT_EQ(e, Error::kBadItem);
  // A presentation context too short for its fixed fields.
  EXPECT_FALSE(ParseAssociate(AssociatePdu(0x01, "A", "B", Item(0x20, Bytes{1, 0})), a, e));
  EXPECT_EQ(e, Error::kBadItem);
  // Wrong-sized user information sub-items are counted, not fatal.
  ASSERT_TRUE(ParseAssociate(
      AssociatePdu(0x01, "A", "B",
                   Item(0x50, Concat({Item(0x51, Bytes{1, 2}), Item(0x53, Bytes{1}), Item(0x54, Bytes{0, 9, '1'}),
                                      Item(0x59, Bytes{0, 9}), Item(0x5F, Bytes{})}))),
      a, e));
  EXPECT_EQ(a.user.malformed_sub_items, 4u);
  EXPECT_EQ(a.user.unknown_sub_items, 1u);
  EXPECT_FALSE(a.user.has_max_length);
}

// Every prefix of an association PDU, with its length left as it was and with its length made to
// match: parsed or refused, never a read past the end (the copies let ASan see one).
TEST(DicomAssociate, EveryTruncation) {
  for (const Bytes& pdu : {SampleRq(), SampleAc()}) {
    for (size_t n = 0; n <= pdu.size(); ++n) {
      Bytes cut(pdu.begin(), pdu.begin() + static_cast<std::ptrdiff_t>(n));
      Associate a;
      Error e;
      const bool ok = ParseAssociate(cut, a, e);
      EXPECT_EQ(ok, n == pdu.size()) << n;
      if (n >= kPduHeaderSize) {
        const uint32_t length = static_cast<uint32_t>(n - kPduHeaderSize);
        cut[2] = static_cast<uint8_t>(length >> 24);
        cut[3] = static_cast<uint8_t>(length >> 16);
        cut[4] = static_cast<uint8_t>(length >> 8);
        cut[5] = static_cast<uint8_t>(length);
        if (ParseAssociate(cut, a, e)) {
          ExpectNoSecrets(AllText(a));
        } else {
          EXPECT_TRUE(e == Error::kTruncated || e == Error::kBadItem) << n << " " << ErrorName(e);
        }
      }
    }
  }
}

TEST(DicomPdu, RejectAndAbort) {
  Reject r;
  Error e;
  ASSERT_TRUE(ParseReject(Pdu(0x03, Bytes{0, 1, 1, 7}), r, e)) << ErrorName(e);
  EXPECT_EQ(r.result, 1);
  EXPECT_STREQ(RejectResultName(r.result), "rejected_permanent");
  EXPECT_STREQ(RejectSourceName(r.source), "service_user");
  EXPECT_STREQ(RejectReasonName(r.source, r.reason), "called_ae_title_not_recognized");
  EXPECT_STREQ(RejectReasonName(1, 3), "calling_ae_title_not_recognized");
  EXPECT_STREQ(RejectReasonName(2, 2), "protocol_version_not_supported");
  EXPECT_STREQ(RejectReasonName(3, 1), "temporary_congestion");
  EXPECT_STREQ(RejectResultName(2), "rejected_transient");
  EXPECT_STREQ(RejectSourceName(3), "service_provider_presentation");
  EXPECT_FALSE(ParseReject(Pdu(0x03, Bytes{0, 1, 1}), r, e));
  EXPECT_EQ(e, Error::kTruncated);
  EXPECT_FALSE(ParseReject(Pdu(0x03, Bytes{0, 1, 1, 7, 0}), r, e));
  EXPECT_EQ(e, Error::kBadLength);
  EXPECT_FALSE(ParseReject(Pdu(0x07, Bytes{0, 1, 1, 7}), r, e));
  EXPECT_EQ(e, Error::kWrongType);

  Abort a;
  ASSERT_TRUE(ParseAbort(Pdu(0x07, Bytes{0, 0, 2, 6}), a, e)) << ErrorName(e);
  EXPECT_EQ(a.source, 2);
  EXPECT_STREQ(AbortSourceName(a.source), "service_provider");
  EXPECT_STREQ(AbortReasonName(a.source, a.reason), "invalid_pdu_parameter_value");
  EXPECT_STREQ(AbortReasonName(2, 2), "unexpected_pdu");
  EXPECT_STREQ(AbortReasonName(0, 5), "not_significant");
  EXPECT_STREQ(AbortSourceName(0), "service_user");
  EXPECT_FALSE(ParseAbort(Pdu(0x03, Bytes{0, 0, 2, 6}), a, e));
  EXPECT_EQ(e, Error::kWrongType);
  EXPECT_STREQ(PduTypeName(0x04), "P-DATA-TF");
  EXPECT_STREQ(PduTypeName(0x09), "unknown");
}

TEST(DicomCommand, StoreRequestAndResponse) {
  Command c;
  Error e;
  ASSERT_TRUE(ParseCommand(StoreRqCommand(7), c, e)) << ErrorName(e);
  EXPECT_EQ(c.command_field, 0x0001);
  EXPECT_STREQ(CommandName(c.command_field), "C-STORE-RQ");
  EXPECT_FALSE(c.response());
  EXPECT_EQ(c.affected_sop_class_uid, kCtImageStorage);  // NUL pad trimmed
  EXPECT_EQ(c.sop_class_uid(), kCtImageStorage);
  EXPECT_TRUE(c.has_message_id);
  EXPECT_EQ(c.message_id, 7);
  EXPECT_TRUE(c.has_data_set());
  EXPECT_FALSE(c.has_status);

  const Bytes rsp = Concat({Ui(0x0002, kCtImageStorage), Us(0x0100, 0x8001), Us(0x0120, 7),
                            Us(0x0800, Command::kNoDataSet), Us(0x0900, 0x0000)});
  ASSERT_TRUE(ParseCommand(rsp, c, e)) << ErrorName(e);
  EXPECT_STREQ(CommandName(c.command_field), "C-STORE-RSP");
  EXPECT_TRUE(c.response());
  EXPECT_TRUE(c.has_responded_to);
  EXPECT_EQ(c.message_id_responded_to, 7);
  EXPECT_FALSE(c.has_data_set());
  EXPECT_TRUE(c.has_status);
  EXPECT_STREQ(StatusCategory(c.status), "success");

  // C-FIND on the worklist (requested SOP class from an N- service would be (0000,0003)).
  const Bytes find = Concat({Ui(0x0003, kModalityWorklist), Us(0x0100, 0x0020), Us(0x0110, 9)});
  ASSERT_TRUE(ParseCommand(find, c, e));
  EXPECT_EQ(c.sop_class_uid(), kModalityWorklist);
  const Bytes move = Concat({Us(0x0100, 0x0021), Element(0, 0x0600, Text("ARCHIVE_SYNTH   "))});
  ASSERT_TRUE(ParseCommand(move, c, e));
  EXPECT_EQ(c.move_destination, "ARCHIVE_SYNTH");
}

TEST(DicomCommand, StatusCategories) {
  EXPECT_STREQ(StatusCategory(0x0000), "success");
  EXPECT_STREQ(StatusCategory(0xFF00), "pending");
  EXPECT_STREQ(StatusCategory(0xFF01), "pending");
  EXPECT_STREQ(StatusCategory(0xFE00), "cancel");
  EXPECT_STREQ(StatusCategory(0xB000), "warning");
  EXPECT_STREQ(StatusCategory(0x0107), "warning");
  EXPECT_STREQ(StatusCategory(0xA700), "failure");
  EXPECT_STREQ(StatusCategory(0xC001), "failure");
  EXPECT_STREQ(StatusCategory(0x0122), "failure");
}

TEST(DicomCommand, Names) {
  const std::pair<uint16_t, const char*> names[] = {
      {0x0001, "C-STORE-RQ"},  {0x8001, "C-STORE-RSP"},  {0x0020, "C-FIND-RQ"},         {0x8020, "C-FIND-RSP"},
      {0x0010, "C-GET-RQ"},    {0x8010, "C-GET-RSP"},    {0x0021, "C-MOVE-RQ"},         {0x8021, "C-MOVE-RSP"},
      {0x0030, "C-ECHO-RQ"},   {0x8030, "C-ECHO-RSP"},   {0x0100, "N-EVENT-REPORT-RQ"}, {0x8100, "N-EVENT-REPORT-RSP"},
      {0x0110, "N-GET-RQ"},    {0x8110, "N-GET-RSP"},    {0x0120, "N-SET-RQ"},          {0x8120, "N-SET-RSP"},
      {0x0130, "N-ACTION-RQ"}, {0x8130, "N-ACTION-RSP"}, {0x0140, "N-CREATE-RQ"},       {0x8140, "N-CREATE-RSP"},
      {0x0150, "N-DELETE-RQ"}, {0x8150, "N-DELETE-RSP"}, {0x0FFF, "C-CANCEL-RQ"},
  };
  for (const auto& [field, name] : names) EXPECT_STREQ(CommandName(field), name) << field;
  EXPECT_EQ(CommandName(0x0002), nullptr);
  EXPECT_EQ(CommandName(0x8FFF), nullptr);
}

// Elements outside group 0000 end the command set: a patient's name after it is never read.
TEST(DicomCommand, StopsBeforeOtherGroups) {
  Bytes value = Text("DOE^JANE");
  const Bytes cs = Concat({Us(0x0100, 0x0030), Us(0x0110, 1), Element(0x0010, 0x0010, value), Us(0x0900, 0xC000)});
  Command c;
  Error e;
  ASSERT_TRUE(ParseCommand(cs, c, e));
  EXPECT_EQ(c.command_field, 0x0030);
  EXPECT_FALSE(c.has_status);  // after the foreign element: not read
  ExpectNoSecrets(AllText(c));
}

TEST(DicomCommand, Refused) {
  Command c;
  Error e;
  EXPECT_FALSE(ParseCommand(Bytes{}, c, e));
  EXPECT_EQ(e, Error::kNoCommandField);
  EXPECT_FALSE(ParseCommand(Us(0x0110, 1), c, e));
  EXPECT_EQ(e, Error::kNoCommandField);
  // A CommandField of the wrong size does not count.
  EXPECT_FALSE(ParseCommand(Element(0, 0x0100, Bytes{1, 0, 0, 0}), c, e));
  EXPECT_EQ(e, Error::kNoCommandField);
  const Bytes good = StoreRqCommand(3);
  for (size_t n = 0; n < good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    if (ParseCommand(cut, c, e)) {
      EXPECT_EQ(c.command_field, 1);
    } else {
      EXPECT_TRUE(e == Error::kTruncated || e == Error::kNoCommandField) << n;
    }
  }
  // A value length larger than the command set.
  Bytes huge;
  PutLe16(huge, 0);
  PutLe16(huge, 0x0002);
  PutLe32(huge, 0xFFFFFFFF);
  EXPECT_FALSE(ParseCommand(Concat({Us(0x0100, 1), huge}), c, e));
  EXPECT_EQ(e, Error::kTruncated);
}

// One requester's side of a C-STORE: association, a command set split over two PDVs in two PDUs,
// a data set holding a patient's name split likewise, a C-ECHO, and a release.
Bytes SampleRequesterStream() {
  const Bytes command = StoreRqCommand(5);
  const Bytes data_set = PatientDataSet();
  const Bytes command_1(command.begin(), command.begin() + 20);
  const Bytes command_2(command.begin() + 20, command.end());
  const Bytes data_1(data_set.begin(), data_set.begin() + 11);
  const Bytes data_2(data_set.begin() + 11, data_set.end());
  const Bytes echo = Concat({Ui(0x0002, kVerification), Us(0x0100, 0x0030), Us(0x0110, 6), Us(0x0800, 0x0101)});
  return Concat({SampleRq(), PData({Pdv(1, true, false, command_1)}),
                 PData({Pdv(1, true, true, command_2), Pdv(1, false, false, data_1)}),
                 PData({Pdv(1, false, true, data_2)}), PData({Pdv(5, true, true, echo)}),
                 Pdu(0x05, Bytes{0, 0, 0, 0})});
}

const std::vector<std::string> kSampleEvents = {"RQ CT_SYNTH_01->PACS_SYNTH", "C-STORE-RQ 5 ctx 1", "data set 96 ctx 1",
                                                "C-ECHO-RQ 6 ctx 5", "A-RELEASE-RQ"};

TEST(DicomReader, RequesterStreamAtEverySplit) {
  const Bytes stream = SampleRequesterStream();
  for (size_t split = 0; split <= stream.size(); ++split) {
    PduReader reader;
    Recorder rec;
    const PduCallbacks cb = rec.callbacks();
    reader.Feed(std::span(stream).first(split), cb);
    reader.Feed(std::span(stream).subspan(split), cb);
    ASSERT_EQ(rec.events, kSampleEvents) << split;
    EXPECT_FALSE(reader.failed());
    EXPECT_EQ(reader.counters().data_set_bytes, PatientDataSet().size());
    rec.ExpectNoSecrets();
  }
}

TEST(DicomReader, RequesterStreamByteByByteAndInThrees) {
  const Bytes stream = SampleRequesterStream();
  for (size_t chunk : {1, 3, 7}) {
    PduReader reader;
    Recorder rec;
    const PduCallbacks cb = rec.callbacks();
    for (size_t i = 0; i < stream.size(); i += chunk) {
      reader.Feed(std::span(stream).subspan(i, std::min(chunk, stream.size() - i)), cb);
    }
    EXPECT_EQ(rec.events, kSampleEvents) << chunk;
    const PduCounters& c = reader.counters();
    EXPECT_EQ(c.pdus[1], 1u);
    EXPECT_EQ(c.pdus[4], 4u);
    EXPECT_EQ(c.pdus[5], 1u);
    EXPECT_EQ(c.pdv_items, 5u);
    EXPECT_EQ(c.commands, 2u);
    EXPECT_EQ(c.data_sets, 1u);
    EXPECT_EQ(c.errors, 0u);
    ASSERT_EQ(rec.associates.size(), 1u);
    EXPECT_EQ(rec.associates[0].user.user_identity.secondary_length, 17u);
    rec.ExpectNoSecrets();
  }
}

TEST(DicomReader, AcceptorSideRejectAbortRelease) {
  const Bytes rsp =
      Concat({Ui(0x0002, kCtImageStorage), Us(0x0100, 0x8001), Us(0x0120, 5), Us(0x0800, 0x0101), Us(0x0900, 0xA700)});
  const Bytes stream = Concat({SampleAc(), PData({Pdv(1, true, true, rsp)}), Pdu(0x06, Bytes{0, 0, 0, 0}),
                               Pdu(0x03, Bytes{0, 2, 3, 1}), Pdu(0x07, Bytes{0, 0, 0, 0})});
  PduReader reader;
  Recorder rec;
  reader.Feed(stream, rec.callbacks());
  EXPECT_EQ(rec.events, (std::vector<std::string>{"AC CT_SYNTH_01->PACS_SYNTH", "C-STORE-RSP 0 ctx 1", "A-RELEASE-RP",
                                                  "RJ", "ABORT"}));
  ASSERT_EQ(rec.commands.size(), 1u);
  EXPECT_EQ(rec.commands[0].message_id_responded_to, 5);
  EXPECT_STREQ(StatusCategory(rec.commands[0].status), "failure");
  ASSERT_EQ(rec.rejects.size(), 1u);
  EXPECT_EQ(rec.rejects[0].result, 2);
  EXPECT_STREQ(RejectReasonName(rec.rejects[0].source, rec.rejects[0].reason), "temporary_congestion");
  ASSERT_EQ(rec.aborts.size(), 1u);
  EXPECT_EQ(rec.aborts[0].source, 0);
}

TEST(DicomReader, OversizedControlPduIsSkipped) {
  PduReader reader(/*max_control_pdu=*/128);
  Recorder rec;
  reader.Feed(Concat({SampleRq(), Pdu(0x05, Bytes{0, 0, 0, 0})}), rec.callbacks());
  EXPECT_EQ(rec.events, std::vector<std::string>{"A-RELEASE-RQ"});
  EXPECT_EQ(reader.counters().oversized, 1u);
  EXPECT_EQ(reader.counters().pdus[1], 1u);
  EXPECT_FALSE(reader.failed());
}

TEST(DicomReader, OversizedCommandIsDropped) {
  PduReader reader(kDefaultMaxControlPdu, /*max_command_set=*/40);
  Recorder rec;
  const Bytes big = StoreRqCommand(1);  // longer than 40 bytes
  const Bytes small = Concat({Us(0x0100, 0x0030), Us(0x0110, 2)});
  reader.Feed(
      Concat({PData({Pdv(1, true, false, Bytes(big.begin(), big.begin() + 30))}),
              PData({Pdv(1, true, true, Bytes(big.begin() + 30, big.end()))}), PData({Pdv(3, true, true, small)})}),
      rec.callbacks());
  EXPECT_EQ(rec.events, std::vector<std::string>{"C-ECHO-RQ 2 ctx 3"});
  EXPECT_EQ(reader.counters().oversized_commands, 1u);
  EXPECT_EQ(reader.counters().commands, 1u);
}

TEST(DicomReader, MalformedControlPdusAndCommandsAreCounted) {
  PduReader reader;
  Recorder rec;
  // An association whose item runs past its PDU, and a command set without a CommandField.
  reader.Feed(Concat({AssociatePdu(0x01, "A", "B", Bytes{0x10, 0, 0, 50, '1'}),
                      PData({Pdv(1, true, true, Us(0x0110, 1))}), Pdu(0x05, Bytes{0, 0, 0, 0})}),
              rec.callbacks());
  EXPECT_EQ(rec.events, std::vector<std::string>{"A-RELEASE-RQ"});
  EXPECT_EQ(reader.counters().malformed, 2u);
  EXPECT_FALSE(reader.failed());
}

TEST(DicomReader, StopsOnFramingErrors) {
  struct Case {
    const char* what;
    Bytes stream;
    StreamError error;
  };
  Bytes pdv_too_long;
  Put32(pdv_too_long, 100);
  pdv_too_long.push_back(1);
  pdv_too_long.push_back(3);
  const Case cases[] = {
      {"unknown type", Pdu(0x08, Bytes{0, 0, 0, 0}), StreamError::kUnknownPduType},
      {"type zero", Bytes{0, 0, 0, 0, 0, 0}, StreamError::kUnknownPduType},
      {"http", Text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), StreamError::kUnknownPduType},
      {"release of length 5", Pdu(0x05, Bytes{0, 0, 0, 0, 0}), StreamError::kBadPduLength},
      {"reject of length 3", Pdu(0x03, Bytes{0, 1, 1}), StreamError::kBadPduLength},
      {"short associate", Pdu(0x01, Bytes(20, 0)), StreamError::kBadPduLength},
      {"empty p-data", Pdu(0x04, Bytes{}), StreamError::kBadPduLength},
      {"pdv past its pdu", Pdu(0x04, pdv_too_long), StreamError::kBadPdvLength},
      {"pdv length 1", Pdu(0x04, Bytes{0, 0, 0, 1, 1, 3}), StreamError::kBadPdvLength},
      {"pdu tail too short for a pdv", PData({Pdv(1, true, true, Us(0x0100, 0x30)), Bytes{0, 0, 0}}),
       StreamError::kBadPdvLength},
  };
  for (const Case& c : cases) {
    PduReader reader;
    Recorder rec;
    reader.Feed(c.stream, rec.callbacks());
    EXPECT_TRUE(reader.failed()) << c.what;
    EXPECT_EQ(reader.error(), c.error) << c.what << ": " << StreamErrorName(reader.error());
    EXPECT_EQ(reader.counters().errors, 1u) << c.what;
    // Once stopped, it stays stopped.
    reader.Feed(SampleRequesterStream(), rec.callbacks());
    EXPECT_TRUE(rec.associates.empty()) << c.what;
    EXPECT_EQ(reader.counters().errors, 1u) << c.what;
  }
}

TEST(DicomReader, OutOfOrderFragmentsAndBadContextIds) {
  PduReader reader;
  Recorder rec;
  const Bytes command = StoreRqCommand(1);
  // A command cut short by a data set, then a data set cut short by a command on context 2.
  reader.Feed(Concat({PData({Pdv(1, true, false, Bytes(command.begin(), command.begin() + 10)),
                             Pdv(1, false, false, PatientDataSet())}),
                      PData({Pdv(2, true, true, Concat({Us(0x0100, 0x0030), Us(0x0110, 4)}))})}),
              rec.callbacks());
  EXPECT_EQ(rec.events, std::vector<std::string>{"C-ECHO-RQ 4 ctx 2"});
  EXPECT_EQ(reader.counters().out_of_order, 2u);
  EXPECT_EQ(reader.counters().lost_commands, 1u);
  EXPECT_EQ(reader.counters().bad_context_ids, 1u);
  rec.ExpectNoSecrets();
}

TEST(DicomReader, GapsInsideFragmentsAreSteppedOver) {
  const Bytes stream = SampleRequesterStream();
  const Bytes data_set = PatientDataSet();
  // Where the second data set fragment (data_2) begins in the stream.
  const Bytes data_2(data_set.begin() + 11, data_set.end());
  size_t at = 0;
  for (size_t i = 0; i + data_2.size() <= stream.size(); ++i) {
    if (std::equal(data_2.begin(), data_2.end(), stream.begin() + static_cast<std::ptrdiff_t>(i))) at = i;
  }
  ASSERT_NE(at, 0u);
  for (size_t lost : {size_t{1}, size_t{10}, data_2.size()}) {
    PduReader reader;
    Recorder rec;
    const PduCallbacks cb = rec.callbacks();
    reader.Feed(std::span(stream).first(at), cb);
    reader.Gap(lost);
    reader.Feed(std::span(stream).subspan(at + lost), cb);
    EXPECT_EQ(rec.events, kSampleEvents) << lost;
    EXPECT_EQ(reader.counters().gaps_skipped, 1u);
    EXPECT_EQ(reader.counters().data_set_bytes, data_set.size());
    EXPECT_FALSE(reader.failed());
  }
  // A gap running past the fragment, or in a header: the reader stops.
  PduReader reader;
  Recorder rec;
  reader.Feed(std::span(stream).first(at), rec.callbacks());
  reader.Gap(data_2.size() + 1);
  EXPECT_TRUE(reader.failed());
  EXPECT_EQ(reader.error(), StreamError::kGap);
  PduReader at_start;
  at_start.Gap(3);
  EXPECT_TRUE(at_start.failed());
}

TEST(DicomReader, GapsInCommandsAndControlPdus) {
  const Bytes command = StoreRqCommand(1);
  const Bytes echo = Concat({Us(0x0100, 0x0030), Us(0x0110, 8)});
  const Bytes first = PData({Pdv(1, true, true, command)});
  const Bytes stream = Concat({first, PData({Pdv(3, true, true, echo)})});
  PduReader reader;
  Recorder rec;
  reader.Feed(std::span(stream).first(20), rec.callbacks());  // into the command fragment
  reader.Gap(5);
  reader.Feed(std::span(stream).subspan(25), rec.callbacks());
  EXPECT_EQ(rec.events, std::vector<std::string>{"C-ECHO-RQ 8 ctx 3"});  // the cut command is lost
  EXPECT_EQ(reader.counters().lost_commands, 1u);

  // A gap inside an association PDU: that PDU is dropped, what follows is read.
  const Bytes rq = SampleRq();
  const Bytes both = Concat({rq, Pdu(0x05, Bytes{0, 0, 0, 0})});
  PduReader control;
  Recorder rec2;
  control.Feed(std::span(both).first(100), rec2.callbacks());
  control.Gap(50);
  control.Feed(std::span(both).subspan(150), rec2.callbacks());
  EXPECT_EQ(rec2.events, std::vector<std::string>{"A-RELEASE-RQ"});
  EXPECT_FALSE(control.failed());
}

// A real association: DCMTK 3.6.7 storescu (with --user/--password and -R) sending a synthetic CT
// image (PatientName DOE^JANE, PatientID SYNTH123) to storescp, both directions as sent on the wire.
constexpr uint8_t kDcmtkRequester[] = {
    0x01, 0x00, 0x00, 0x00, 0x01, 0x4c, 0x00, 0x01, 0x00, 0x00, 0x50, 0x41, 0x43, 0x53, 0x5f, 0x53, 0x59, 0x4e, 0x54,
    0x48, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x43, 0x54, 0x5f, 0x53, 0x59, 0x4e, 0x54, 0x48, 0x5f, 0x30, 0x31, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
    0x00, 0x15, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x33, 0x2e, 0x31,
    0x2e, 0x31, 0x2e, 0x31, 0x20, 0x00, 0x00, 0x38, 0x01, 0x00, 0xff, 0x00, 0x30, 0x00, 0x00, 0x19, 0x31, 0x2e, 0x32,
    0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x35, 0x2e, 0x31, 0x2e, 0x34, 0x2e, 0x31, 0x2e,
    0x31, 0x2e, 0x32, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30,
    0x38, 0x2e, 0x31, 0x2e, 0x32, 0x2e, 0x31, 0x20, 0x00, 0x00, 0x4d, 0x03, 0x00, 0xff, 0x00, 0x30, 0x00, 0x00, 0x19,
    0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x35, 0x2e, 0x31, 0x2e, 0x34,
    0x2e, 0x31, 0x2e, 0x31, 0x2e, 0x32, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31,
    0x30, 0x30, 0x30, 0x38, 0x2e, 0x31, 0x2e, 0x32, 0x2e, 0x32, 0x40, 0x00, 0x00, 0x11, 0x31, 0x2e, 0x32, 0x2e, 0x38,
    0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x31, 0x2e, 0x32, 0x50, 0x00, 0x00, 0x5e, 0x51, 0x00, 0x00,
    0x04, 0x00, 0x00, 0x40, 0x00, 0x52, 0x00, 0x00, 0x1b, 0x31, 0x2e, 0x32, 0x2e, 0x32, 0x37, 0x36, 0x2e, 0x30, 0x2e,
    0x37, 0x32, 0x33, 0x30, 0x30, 0x31, 0x30, 0x2e, 0x33, 0x2e, 0x30, 0x2e, 0x33, 0x2e, 0x36, 0x2e, 0x37, 0x55, 0x00,
    0x00, 0x0f, 0x4f, 0x46, 0x46, 0x49, 0x53, 0x5f, 0x44, 0x43, 0x4d, 0x54, 0x4b, 0x5f, 0x33, 0x36, 0x37, 0x58, 0x00,
    0x00, 0x20, 0x02, 0x00, 0x00, 0x09, 0x73, 0x79, 0x6e, 0x74, 0x68, 0x75, 0x73, 0x65, 0x72, 0x00, 0x11, 0x53, 0x79,
    0x6e, 0x74, 0x68, 0x2d, 0x50, 0x61, 0x73, 0x73, 0x63, 0x6f, 0x64, 0x65, 0x2d, 0x34, 0x32, 0x04, 0x00, 0x00, 0x00,
    0x00, 0x84, 0x00, 0x00, 0x00, 0x80, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x72, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30,
    0x30, 0x30, 0x38, 0x2e, 0x35, 0x2e, 0x31, 0x2e, 0x34, 0x2e, 0x31, 0x2e, 0x31, 0x2e, 0x32, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x20, 0x00, 0x00, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x32, 0x36, 0x2e, 0x30, 0x2e, 0x31, 0x2e,
    0x33, 0x36, 0x38, 0x30, 0x30, 0x34, 0x33, 0x2e, 0x39, 0x2e, 0x39, 0x39, 0x39, 0x39, 0x2e, 0x31, 0x2e, 0x31, 0x2e,
    0x31, 0x04, 0x00, 0x00, 0x00, 0x01, 0x78, 0x00, 0x00, 0x01, 0x74, 0x01, 0x02, 0x08, 0x00, 0x16, 0x00, 0x55, 0x49,
    0x1a, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x35, 0x2e, 0x31,
    0x2e, 0x34, 0x2e, 0x31, 0x2e, 0x31, 0x2e, 0x32, 0x00, 0x08, 0x00, 0x18, 0x00, 0x55, 0x49, 0x20, 0x00, 0x31, 0x2e,
    0x32, 0x2e, 0x38, 0x32, 0x36, 0x2e, 0x30, 0x2e, 0x31, 0x2e, 0x33, 0x36, 0x38, 0x30, 0x30, 0x34, 0x33, 0x2e, 0x39,
    0x2e, 0x39, 0x39, 0x39, 0x39, 0x2e, 0x31, 0x2e, 0x31, 0x2e, 0x31, 0x08, 0x00, 0x60, 0x00, 0x43, 0x53, 0x02, 0x00,
    0x43, 0x54, 0x08, 0x00, 0x70, 0x00, 0x4c, 0x4f, 0x12, 0x00, 0x53, 0x59, 0x4e, 0x54, 0x48, 0x45, 0x54, 0x49, 0x43,
    0x20, 0x4d, 0x45, 0x44, 0x49, 0x43, 0x41, 0x4c, 0x20, 0x10, 0x00, 0x10, 0x00, 0x50, 0x4e, 0x08, 0x00, 0x44, 0x4f,
    0x45, 0x5e, 0x4a, 0x41, 0x4e, 0x45, 0x10, 0x00, 0x20, 0x00, 0x4c, 0x4f, 0x08, 0x00, 0x53, 0x59, 0x4e, 0x54, 0x48,
    0x31, 0x32, 0x33, 0x10, 0x00, 0x30, 0x00, 0x44, 0x41, 0x08, 0x00, 0x31, 0x39, 0x37, 0x30, 0x30, 0x31, 0x30, 0x31,
    0x20, 0x00, 0x0d, 0x00, 0x55, 0x49, 0x1e, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x32, 0x36, 0x2e, 0x30, 0x2e, 0x31,
    0x2e, 0x33, 0x36, 0x38, 0x30, 0x30, 0x34, 0x33, 0x2e, 0x39, 0x2e, 0x39, 0x39, 0x39, 0x39, 0x2e, 0x31, 0x2e, 0x31,
    0x20, 0x00, 0x0e, 0x00, 0x55, 0x49, 0x20, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x32, 0x36, 0x2e, 0x30, 0x2e, 0x31,
    0x2e, 0x33, 0x36, 0x38, 0x30, 0x30, 0x34, 0x33, 0x2e, 0x39, 0x2e, 0x39, 0x39, 0x39, 0x39, 0x2e, 0x31, 0x2e, 0x31,
    0x2e, 0x32, 0x28, 0x00, 0x02, 0x00, 0x55, 0x53, 0x02, 0x00, 0x01, 0x00, 0x28, 0x00, 0x04, 0x00, 0x43, 0x53, 0x0c,
    0x00, 0x4d, 0x4f, 0x4e, 0x4f, 0x43, 0x48, 0x52, 0x4f, 0x4d, 0x45, 0x32, 0x20, 0x28, 0x00, 0x10, 0x00, 0x55, 0x53,
    0x02, 0x00, 0x04, 0x00, 0x28, 0x00, 0x11, 0x00, 0x55, 0x53, 0x02, 0x00, 0x04, 0x00, 0x28, 0x00, 0x00, 0x01, 0x55,
    0x53, 0x02, 0x00, 0x10, 0x00, 0x28, 0x00, 0x01, 0x01, 0x55, 0x53, 0x02, 0x00, 0x0c, 0x00, 0x28, 0x00, 0x02, 0x01,
    0x55, 0x53, 0x02, 0x00, 0x0b, 0x00, 0x28, 0x00, 0x03, 0x01, 0x55, 0x53, 0x02, 0x00, 0x00, 0x00, 0xe0, 0x7f, 0x10,
    0x00, 0x4f, 0x57, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00,
    0x05, 0x00, 0x06, 0x00, 0x07, 0x00, 0x08, 0x00, 0x09, 0x00, 0x0a, 0x00, 0x0b, 0x00, 0x0c, 0x00, 0x0d, 0x00, 0x0e,
    0x00, 0x0f, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};
constexpr uint8_t kDcmtkAcceptor[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0xd9, 0x00, 0x01, 0x00, 0x00, 0x50, 0x41, 0x43, 0x53, 0x5f, 0x53, 0x59, 0x4e, 0x54,
    0x48, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x43, 0x54, 0x5f, 0x53, 0x59, 0x4e, 0x54, 0x48, 0x5f, 0x30, 0x31, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
    0x00, 0x15, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x33, 0x2e, 0x31,
    0x2e, 0x31, 0x2e, 0x31, 0x21, 0x00, 0x00, 0x1b, 0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2e, 0x32,
    0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30, 0x30, 0x38, 0x2e, 0x31, 0x2e, 0x32, 0x2e, 0x31, 0x21, 0x00, 0x00,
    0x1b, 0x03, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x13, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30,
    0x30, 0x30, 0x38, 0x2e, 0x31, 0x2e, 0x32, 0x2e, 0x32, 0x50, 0x00, 0x00, 0x3a, 0x51, 0x00, 0x00, 0x04, 0x00, 0x00,
    0x40, 0x00, 0x52, 0x00, 0x00, 0x1b, 0x31, 0x2e, 0x32, 0x2e, 0x32, 0x37, 0x36, 0x2e, 0x30, 0x2e, 0x37, 0x32, 0x33,
    0x30, 0x30, 0x31, 0x30, 0x2e, 0x33, 0x2e, 0x30, 0x2e, 0x33, 0x2e, 0x36, 0x2e, 0x37, 0x55, 0x00, 0x00, 0x0f, 0x4f,
    0x46, 0x46, 0x49, 0x53, 0x5f, 0x44, 0x43, 0x4d, 0x54, 0x4b, 0x5f, 0x33, 0x36, 0x37, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x84, 0x00, 0x00, 0x00, 0x80, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x72, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x34, 0x30, 0x2e, 0x31, 0x30, 0x30,
    0x30, 0x38, 0x2e, 0x35, 0x2e, 0x31, 0x2e, 0x34, 0x2e, 0x31, 0x2e, 0x31, 0x2e, 0x32, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x20, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x10, 0x20, 0x00, 0x00, 0x00, 0x31, 0x2e, 0x32, 0x2e, 0x38, 0x32, 0x36, 0x2e, 0x30, 0x2e, 0x31, 0x2e, 0x33,
    0x36, 0x38, 0x30, 0x30, 0x34, 0x33, 0x2e, 0x39, 0x2e, 0x39, 0x39, 0x39, 0x39, 0x2e, 0x31, 0x2e, 0x31, 0x2e, 0x31,
    0x06, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

TEST(DicomReader, RealDcmtkExchange) {
  for (size_t split = 0; split <= sizeof(kDcmtkRequester); ++split) {
    PduReader requester;
    Recorder rec;
    const PduCallbacks cb = rec.callbacks();
    const std::span<const uint8_t> stream(kDcmtkRequester);
    requester.Feed(stream.first(split), cb);
    requester.Feed(stream.subspan(split), cb);
    ASSERT_EQ(rec.events, (std::vector<std::string>{"RQ CT_SYNTH_01->PACS_SYNTH", "C-STORE-RQ 1 ctx 1",
                                                    "data set 370 ctx 1", "A-RELEASE-RQ"}))
        << split;
    rec.ExpectNoSecrets();
    if (split != 0) continue;
    const Associate& rq = rec.associates[0];
    ASSERT_EQ(rq.contexts.size(), 2u);
    EXPECT_EQ(rq.contexts[0].id, 1);
    EXPECT_EQ(rq.contexts[0].abstract_syntax, kCtImageStorage);
    EXPECT_EQ(rq.contexts[1].id, 3);
    EXPECT_EQ(rq.user.max_length, 16384u);
    EXPECT_EQ(rq.user.implementation_class_uid, kDcmtkClassUid);
    EXPECT_EQ(rq.user.implementation_version_name, "OFFIS_DCMTK_367");
    const ImplementationRoot* root = FindImplementation(rq.user.implementation_class_uid);
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(root->name, "DCMTK");
    EXPECT_EQ(rq.user.user_identity.type, 2);
    EXPECT_EQ(rq.user.user_identity.primary_length, 9u);
    EXPECT_EQ(rq.user.user_identity.secondary_length, 17u);
    const Command& store = rec.commands[0];
    EXPECT_EQ(store.affected_sop_class_uid, kCtImageStorage);
    EXPECT_TRUE(store.has_data_set());
    const SopClass* sop = FindSopClass(store.sop_class_uid());
    ASSERT_NE(sop, nullptr);
    EXPECT_EQ(sop->name, "CT Image Storage");
    EXPECT_EQ(requester.counters().data_set_bytes, 370u);
  }
  PduReader acceptor;
  Recorder rec;
  acceptor.Feed(kDcmtkAcceptor, rec.callbacks());
  EXPECT_EQ(rec.events,
            (std::vector<std::string>{"AC CT_SYNTH_01->PACS_SYNTH", "C-STORE-RSP 0 ctx 1", "A-RELEASE-RP"}));
  ASSERT_EQ(rec.associates.size(), 1u);
  ASSERT_EQ(rec.associates[0].contexts.size(), 2u);
  EXPECT_TRUE(rec.associates[0].contexts[0].accepted());
  EXPECT_EQ(rec.associates[0].contexts[0].transfer_syntaxes, std::vector<std::string>{std::string(kExplicitLe)});
  ASSERT_EQ(rec.commands.size(), 1u);
  EXPECT_EQ(rec.commands[0].message_id_responded_to, 1);
  EXPECT_STREQ(StatusCategory(rec.commands[0].status), "success");
  EXPECT_EQ(acceptor.counters().errors, 0u);
}

TEST(DicomReader, RealExchangeBytesNeverReachTheCallbacks) {
  // The data set carries the patient's name; it is counted and dropped, so no callback sees it even
  // when every byte arrives in its own Feed().
  PduReader reader;
  Recorder rec;
  const PduCallbacks cb = rec.callbacks();
  for (uint8_t b : kDcmtkRequester) reader.Feed(std::span(&b, 1), cb);
  EXPECT_EQ(rec.events.size(), 4u);
  rec.ExpectNoSecrets();
}

// Random bytes, and the real exchange with bytes flipped, in random chunks: never a crash or a read
// out of bounds (run under ASan), and the reader either goes on or stops with a named error.
TEST(DicomReader, RandomAndMutatedInput) {
  std::mt19937 rng(20240101);
  for (int round = 0; round < 2000; ++round) {
    Bytes input;
    if (round % 2) {
      for (uint8_t b : kDcmtkRequester) input.push_back(b);
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) input[rng() % input.size()] = static_cast<uint8_t>(rng());
    } else {
      const size_t n = rng() % 300;
      input.push_back(static_cast<uint8_t>(1 + rng() % 7));  // a plausible PDU type first
      for (size_t i = 1; i < n; ++i) input.push_back(static_cast<uint8_t>(rng()));
    }
    PduReader reader(/*max_control_pdu=*/1024, /*max_command_set=*/256);
    Recorder rec;
    const PduCallbacks cb = rec.callbacks();
    size_t i = 0;
    while (i < input.size()) {
      const size_t take = std::min<size_t>(1 + rng() % 64, input.size() - i);
      const Bytes chunk(input.begin() + static_cast<std::ptrdiff_t>(i),
                        input.begin() + static_cast<std::ptrdiff_t>(i + take));  // a copy: ASan sees overreads
      reader.Feed(chunk, cb);
      i += take;
      if (rng() % 50 == 0) reader.Gap(rng() % 100);
    }
    EXPECT_EQ(reader.failed(), reader.error() != StreamError::kNone);
    rec.ExpectNoSecrets();
    // The parse functions alone, on the same bytes.
    Associate a;
    Command c;
    Reject r;
    Abort ab;
    Error e;
    ParseAssociate(input, a, e);
    ParseCommand(input, c, e);
    ParseReject(input, r, e);
    ParseAbort(input, ab, e);
    LooksLikeDicom(input);
  }
}

TEST(DicomDetect, LooksLikeDicom) {
  EXPECT_TRUE(LooksLikeDicom(kDcmtkRequester));
  EXPECT_TRUE(LooksLikeDicom(SampleRq()));
  EXPECT_FALSE(LooksLikeDicom(std::span(kDcmtkRequester).first(41)));
  EXPECT_FALSE(LooksLikeDicom(kDcmtkAcceptor));  // an AC is an answer, not a start
  const Bytes http = Text("GET /wado?studyUID=1.2.3 HTTP/1.1\r\nHost: pacs\r\nAccept: */*\r\n\r\n");
  EXPECT_FALSE(LooksLikeDicom(http));
  Bytes rq = SampleRq();
  Bytes bad = rq;
  bad[1] = 1;  // reserved byte
  EXPECT_FALSE(LooksLikeDicom(bad));
  bad = rq;
  bad[7] = 2;  // protocol version
  EXPECT_FALSE(LooksLikeDicom(bad));
  bad = rq;
  bad[12] = 0x07;  // a control character in the called AE title
  EXPECT_FALSE(LooksLikeDicom(bad));
  bad = rq;
  bad[2] = 0x10;  // 256 MiB long
  EXPECT_FALSE(LooksLikeDicom(bad));
  bad = rq;
  bad[2] = bad[3] = bad[4] = 0;
  bad[5] = 20;  // shorter than the fixed fields
  EXPECT_FALSE(LooksLikeDicom(bad));
}

TEST(DicomSopClasses, Lookups) {
  struct Case {
    std::string_view uid, name;
    SopCategory category;
    bool enhanced;
  };
  const Case cases[] = {
      {"1.2.840.10008.1.1", "Verification", SopCategory::kVerification, false},
      {"1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", SopCategory::kImageCt, false},
      {"1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image Storage", SopCategory::kImageCt, true},
      {"1.2.840.10008.5.1.4.1.1.4", "MR Image Storage", SopCategory::kImageMr, false},
      {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage", SopCategory::kImageUs, false},
      {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage", SopCategory::kImageCr, false},
      {"1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage - For Presentation", SopCategory::kImageDx, false},
      {"1.2.840.10008.5.1.4.1.1.1.2", "Digital Mammography X-Ray Image Storage - For Presentation",
       SopCategory::kImageMg, false},
      {"1.2.840.10008.5.1.4.1.1.13.1.3", "Breast Tomosynthesis Image Storage", SopCategory::kImageMg, false},
      {"1.2.840.10008.5.1.4.1.1.20", "Nuclear Medicine Image Storage", SopCategory::kImageNm, false},
      {"1.2.840.10008.5.1.4.1.1.128", "Positron Emission Tomography Image Storage", SopCategory::kImagePet, false},
      {"1.2.840.10008.5.1.4.1.1.12.1", "X-Ray Angiographic Image Storage", SopCategory::kImageXa, false},
      {"1.2.840.10008.5.1.4.1.1.12.2", "X-Ray Radiofluoroscopic Image Storage", SopCategory::kImageRf, false},
      {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage", SopCategory::kImageSc, false},
      {"1.2.840.10008.5.1.4.1.1.481.5", "RT Plan Storage", SopCategory::kRadiotherapy, false},
      {"1.2.840.10008.5.1.4.1.1.9.1.1", "12-lead ECG Waveform Storage", SopCategory::kWaveform, false},
      {"1.2.840.10008.5.1.4.1.1.88.67", "X-Ray Radiation Dose SR Storage", SopCategory::kStructuredReport, false},
      {"1.2.840.10008.5.1.4.1.1.11.1", "Grayscale Softcopy Presentation State Storage", SopCategory::kPresentationState,
       false},
      {"1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage", SopCategory::kEncapsulatedDocument, false},
      {"1.2.840.10008.5.1.4.31", "Modality Worklist Information Model - FIND", SopCategory::kModalityWorklist, false},
      {"1.2.840.10008.3.1.2.3.3", "Modality Performed Procedure Step", SopCategory::kMpps, false},
      {"1.2.840.10008.1.20.1", "Storage Commitment Push Model", SopCategory::kStorageCommitment, false},
      {"1.2.840.10008.5.1.4.1.2.1.1", "Patient Root Query/Retrieve Information Model - FIND", SopCategory::kQueryFind,
       false},
      {"1.2.840.10008.5.1.4.1.2.2.2", "Study Root Query/Retrieve Information Model - MOVE", SopCategory::kRetrieveMove,
       false},
      {"1.2.840.10008.5.1.4.1.2.2.3", "Study Root Query/Retrieve Information Model - GET", SopCategory::kRetrieveGet,
       false},
      {"1.2.840.10008.5.1.1.9", "Basic Grayscale Print Management Meta", SopCategory::kPrint, false},
  };
  for (const Case& c : cases) {
    const SopClass* s = FindSopClass(c.uid);
    ASSERT_NE(s, nullptr) << c.uid;
    EXPECT_EQ(s->name, c.name);
    EXPECT_EQ(s->category, c.category) << c.uid;
    EXPECT_EQ(s->enhanced, c.enhanced) << c.uid;
  }
  EXPECT_TRUE(FindSopClass("1.2.840.10008.5.1.4.1.1.6")->retired);  // old ultrasound systems still send it
  EXPECT_EQ(FindSopClass(""), nullptr);
  EXPECT_EQ(FindSopClass("1.2.840.10008.5.1.4.1.1"), nullptr);  // a prefix, not a class
  EXPECT_EQ(FindSopClass("1.2.840.10008.5.1.4.1.1.2.9"), nullptr);
  EXPECT_EQ(FindSopClass("1.2.840.113619.4.2"), nullptr);  // private (GE)
  EXPECT_STREQ(SopCategoryName(SopCategory::kImageCt), "image_ct");
  EXPECT_STREQ(SopCategoryName(SopCategory::kModalityWorklist), "modality_worklist");
  EXPECT_TRUE(IsStorage(SopCategory::kImageUs));
  EXPECT_TRUE(IsStorage(SopCategory::kStructuredReport));
  EXPECT_FALSE(IsStorage(SopCategory::kVerification));
  EXPECT_FALSE(IsStorage(SopCategory::kQueryFind));
}

TEST(DicomSopClasses, TablesAreSortedAndNamed) {
  const auto sop = SopClasses();
  ASSERT_GT(sop.size(), 150u);
  for (size_t i = 0; i < sop.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(sop[i - 1].uid, sop[i].uid);
    }
    EXPECT_NE(sop[i].category, SopCategory::kUnknown) << sop[i].uid;
    EXPECT_STRNE(SopCategoryName(sop[i].category), "unknown") << sop[i].uid;
    EXPECT_EQ(FindSopClass(sop[i].uid), &sop[i]);
    EXPECT_TRUE(sop[i].uid.starts_with("1.2.840.10008.")) << sop[i].uid;
  }
  const auto ts = TransferSyntaxes();
  for (size_t i = 0; i < ts.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(ts[i - 1].uid, ts[i].uid);
    }
    EXPECT_EQ(FindTransferSyntax(ts[i].uid), &ts[i]);
  }
}

TEST(DicomSopClasses, TransferSyntaxes) {
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.1.2")->name, "Implicit VR Little Endian");
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.1.2.1")->name, "Explicit VR Little Endian");
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.1.2.4.50")->name, "JPEG Baseline (Process 1)");
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.1.2.4.90")->name, "JPEG 2000 Image Compression (Lossless Only)");
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.1.2.5")->name, "RLE Lossless");
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.1.2.4"), nullptr);
  EXPECT_EQ(FindTransferSyntax("1.2.840.10008.5.1.4.1.1.2"), nullptr);
}

TEST(DicomSopClasses, ImplementationRoots) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"1.2.276.0.7230010.3.0.3.6.7", "DCMTK"},     {"1.2.826.0.1.3680043.9.3811.2.0.0", "pynetdicom"},
      {"1.2.826.0.1.3680043.8.498.1", "pydicom"},   {"1.2.40.0.13.1.3", "dcm4che"},
      {"1.3.6.1.4.1.30071.8", "fo-dicom"},          {"1.2.826.0.1.3680043.2.1143.107.104.103.115.2.8.4", "GDCM"},
      {"1.2.840.113619.6.144", "GE Healthcare"},    {"1.3.12.2.1107.5.1.4", "Siemens Healthineers"},
      {"1.3.46.670589.11.0.0.51.4.4.1", "Philips"}, {"1.2.392.200036.9116.2", "Canon Medical (Toshiba)"},
  };
  for (const auto& [uid, name] : cases) {
    const ImplementationRoot* root = FindImplementation(uid);
    ASSERT_NE(root, nullptr) << uid;
    EXPECT_EQ(root->name, name);
  }
  EXPECT_EQ(FindImplementation("1.2.840.1136190.1"), nullptr);  // whole components only
  EXPECT_EQ(FindImplementation("1.2.826.0.1.3680043.9.38110"), nullptr);
  EXPECT_EQ(FindImplementation("1.2.3.4"), nullptr);
  EXPECT_EQ(FindImplementation(""), nullptr);
  EXPECT_EQ(FindImplementation("1.2.276.0.7230010.3")->kind, ImplementationKind::kToolkit);
  EXPECT_EQ(FindImplementation("1.3.46.670589")->kind, ImplementationKind::kVendor);
}

}  // namespace
}  // namespace auscult::sensor::dicom
