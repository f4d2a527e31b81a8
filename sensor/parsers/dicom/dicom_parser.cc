#include "sensor/parsers/dicom/dicom_parser.h"

#include <map>
#include <string>

#include "sensor/decode/packet_view.h"
#include "sensor/parsers/dicom/dicom_pdu.h"
#include "sensor/parsers/dicom/sop_classes.h"

namespace auscult::sensor::dicom {
namespace {

constexpr std::string_view kProtocol = "dicom";
// Associations move gigabytes of images; the reader skips data sets by count, so reading the whole
// flow costs a few comparisons per segment and no memory beyond the command set under way.
constexpr uint64_t kByteBudget = UINT64_MAX;
// Requests awaiting their response, per direction (DIMSE message ids are 16-bit; a peer that never
// answers must not grow the map).
constexpr size_t kMaxPending = 256;
// SOP classes reported per association: storescu without -R proposes ~120 storage classes; a
// device's evidence need not list every one of them from every association.
constexpr int kMaxSopFactsPerAssociation = 32;

// The SOP class as people name it, or its UID when the table does not know it.
std::string_view SopName(const std::string& uid) {
  const SopClass* c = FindSopClass(uid);
  return c != nullptr ? c->name : std::string_view(uid);
}

// Credentials that travel in the clear: a username, a username and passcode, a bearer SAML
// assertion or JWT (replayable by whoever captures them). A Kerberos ticket is bound to a session key.
const char* CleartextCredentialField(uint8_t type) {
  switch (static_cast<UserIdentityType>(type)) {
    case UserIdentityType::kUsername:
      return "user-identity.username";
    case UserIdentityType::kUsernamePasscode:
      return "user-identity.username-passcode";
    case UserIdentityType::kSaml:
      return "user-identity.saml";
    case UserIdentityType::kJwt:
      return "user-identity.jwt";
    case UserIdentityType::kKerberos:
      break;
  }
  return nullptr;
}

class Parser : public FlowParser {
 public:
  void OnData(Direction d, std::span<const uint8_t> bytes, TimeNs timestamp, ParserOutput& out) override {
    const int side = static_cast<int>(d);
    PduReader& reader = readers_[side];
    if (reader.failed()) return;
    const PduCounters before = reader.counters();
    PduCallbacks callbacks;
    callbacks.on_associate = [&](const Associate& a) { OnAssociate(side, a, out); };
    callbacks.on_reject = [&](const Reject&) { Seen(out, "A-ASSOCIATE-RJ"); };
    callbacks.on_release = [&](PduType t) {
      Seen(out, t == PduType::kReleaseRq ? "A-RELEASE-RQ" : "A-RELEASE-RP");
      if (t == PduType::kReleaseRp) EndAssociation();
    };
    callbacks.on_abort = [&](const Abort&) {
      Seen(out, "A-ABORT");
      EndAssociation();
    };
    callbacks.on_command = [&](const Command& c) { OnCommand(side, c, timestamp, out); };
    reader.Feed(bytes, callbacks);
    const PduCounters& after = reader.counters();
    if (after.malformed > before.malformed) out.CountAnomaly("dicom_malformed_pdu");
    if (after.oversized > before.oversized) out.CountAnomaly("dicom_oversized_pdu");
    if (after.oversized_commands > before.oversized_commands) out.CountAnomaly("dicom_oversized_command");
    if (reader.failed() && seen_) out.CountAnomaly(StreamErrorName(reader.error()));
  }

  void OnGap(Direction d, uint64_t bytes, ParserOutput& out) override {
    PduReader& reader = readers_[static_cast<int>(d)];
    if (reader.failed()) return;
    reader.Gap(bytes);
    if (reader.failed() && seen_) out.CountAnomaly(StreamErrorName(reader.error()));
  }

  bool Done() const override { return readers_[0].failed() && readers_[1].failed(); }

 private:
  void Seen(ParserOutput& out, std::string_view message) {
    if (!seen_) {
      seen_ = true;
      out.SetApplication(kProtocol);
      out.MarkClinical();
    }
    out.CountMessage(message);
  }

  void EndAssociation() {
    proposed_.clear();
    called_ae_.clear();
    for (auto& p : pending_) p.clear();
  }

  void OnAssociate(int side, const Associate& a, ParserOutput& out) {
    Seen(out, a.request() ? "A-ASSOCIATE-RQ" : "A-ASSOCIATE-AC");
    auto fact = [&](Attribute attribute, std::string_view value, std::string_view field, float confidence) {
      if (!value.empty()) out.AddFact(Party::kSender, Fact{attribute, value, kProtocol, field, confidence});
    };
    // The implementation: a toolkit or a vendor's own stack, and its version name.
    const UserInformation& u = a.user;
    if (!u.implementation_class_uid.empty()) {
      const std::string implementation = u.implementation_version_name.empty()
                                             ? u.implementation_class_uid
                                             : u.implementation_class_uid + " " + u.implementation_version_name;
      fact(Attribute::kDicomImplementation, implementation, "implementation", 0.9f);
      if (const ImplementationRoot* root = FindImplementation(u.implementation_class_uid)) {
        if (root->kind == ImplementationKind::kToolkit) {
          fact(Attribute::kSoftware, root->name, "implementation-class-uid", 0.7f);
        } else {
          fact(Attribute::kVendor, root->name, "implementation-class-uid", 0.7f);
        }
      }
    }
    fact(Attribute::kSoftwareVersion, u.implementation_version_name, "implementation-version-name", 0.5f);

    if (a.request()) {
      fact(Attribute::kDicomAeTitle, a.calling_ae, "calling-ae", 0.9f);
      called_ae_ = a.called_ae;
      fact(Attribute::kClinicalRole, "dicom-scu", "a-associate-rq", 0.8f);
      proposed_.clear();
      for (const PresentationContext& c : a.contexts) proposed_[c.id] = c.abstract_syntax;
      if (u.user_identity.present) {
        if (const char* field = CleartextCredentialField(u.user_identity.type)) {
          out.MarkCleartextCredentials();
          fact(Attribute::kRisk, "dicom_cleartext_credentials", field, 0.9f);
        }
      }
      return;
    }
    // The acceptor answers to the title the request called (a permissive SCP answers to any, hence
    // less sure). The AC is to echo it, but not every implementation does: the request's counts.
    fact(Attribute::kDicomAeTitle, called_ae_.empty() ? a.called_ae : called_ae_, "called-ae", 0.7f);
    fact(Attribute::kClinicalRole, "dicom-scp", "a-associate-ac", 0.8f);
    // What the association was accepted for: the requester uses those SOP classes (as SCU), the
    // acceptor provides them (as SCP). Role selection can swap them (C-GET's storage); rare enough
    // to leave to the default roles here.
    int reported = 0;
    for (const PresentationContext& c : a.contexts) {
      if (!c.accepted() || reported >= kMaxSopFactsPerAssociation) continue;
      const auto it = proposed_.find(c.id);
      if (it == proposed_.end() || it->second.empty()) continue;
      ++reported;
      const std::string_view name = SopName(it->second);
      out.AddFact(Party::kSender, Fact{Attribute::kDicomSopClass, name, kProtocol, "accepted-as-scp", 0.9f});
      out.AddFact(Party::kReceiver, Fact{Attribute::kDicomSopClass, name, kProtocol, "accepted-as-scu", 0.9f});
    }
  }

  void OnCommand(int side, const Command& c, TimeNs timestamp, ParserOutput& out) {
    if (!c.has_command_field) return;
    const char* name = CommandName(c.command_field);
    std::string uid = c.sop_class_uid();
    if (uid.empty()) {
      if (const auto it = proposed_.find(c.context_id); it != proposed_.end()) uid = it->second;
    }
    const SopClass* sop = FindSopClass(uid);
    const SopCategory category = sop != nullptr ? sop->category : SopCategory::kUnknown;
    const bool find = category == SopCategory::kModalityWorklist || category == SopCategory::kQueryFind;
    if (!c.response()) {
      if (!seen_)
        Seen(out, name != nullptr ? name : "DIMSE-other");
      else
        out.CountMessage(name != nullptr ? name : "DIMSE-other");
      if (c.has_message_id) {
        auto& waiting = pending_[side];
        if (waiting.size() < kMaxPending) waiting[c.message_id] = timestamp;
      }
      // Patient data moves: a composite instance stored (every one has a patient module, whether or
      // not its SOP class is in our table: private and new storage classes too); a worklist or
      // query/retrieve request (its identifier names the patient or study sought); a performed
      // procedure step created or updated (it carries the patient's identifiers).
      if (c.command_field == 0x0001 && c.has_data_set()) out.CountPhi(PhiKind::kImages);
      const bool query = c.command_field == 0x0020 || c.command_field == 0x0021 || c.command_field == 0x0010;
      if (query && c.has_data_set() &&
          (find || category == SopCategory::kRetrieveMove || category == SopCategory::kRetrieveGet)) {
        out.CountPhi(PhiKind::kWorklist);
      }
      const bool mpps = category == SopCategory::kMpps && (c.command_field == 0x0140 || c.command_field == 0x0120);
      if (mpps && c.has_data_set()) out.CountPhi(PhiKind::kWorklist);
      return;
    }
    // A response answers a request that went the other way. C-FIND and C-GET send "pending"
    // responses before the final one: the response time is the final one's.
    const bool pending = c.has_status && (c.status == 0xFF00 || c.status == 0xFF01);
    TimeNs response_time = -1;
    if (!pending && c.has_responded_to) {
      auto& waiting = pending_[1 - side];
      if (const auto it = waiting.find(c.message_id_responded_to); it != waiting.end()) {
        response_time = std::max<TimeNs>(0, timestamp - it->second);
        waiting.erase(it);
      }
    }
    out.CountMessage(name != nullptr ? name : "DIMSE-other", response_time);
    // A match to a worklist or query carries the patient's identifiers.
    if (c.command_field == 0x8020 && pending && c.has_data_set() && find) out.CountPhi(PhiKind::kWorklist);
  }

  PduReader readers_[2];
  std::string called_ae_;                    // of the association's request
  std::map<uint8_t, std::string> proposed_;  // presentation context id -> abstract syntax
  std::map<uint16_t, TimeNs> pending_[2];    // message id -> request time, by the request's direction
  bool seen_ = false;
};

class ParserFactoryImpl : public ParserFactory {
 public:
  std::string_view name() const override { return kProtocol; }
  bool Wants(const FlowContext& flow, Direction, std::span<const uint8_t> first) const override {
    if (flow.transport != kIpProtoTcp) return false;
    if (LooksLikeDicom(first)) return true;
    // On the usual ports a capture may begin mid-association: any PDU header.
    return EitherPort(flow, {104, 11112, 4242}) && first.size() >= kPduHeaderSize && first[0] >= 0x01 &&
           first[0] <= 0x07 && first[1] == 0;
  }
  std::unique_ptr<FlowParser> Create(const FlowContext&) const override { return std::make_unique<Parser>(); }
  uint64_t byte_budget() const override { return kByteBudget; }
};

}  // namespace

const ParserFactory* Factory() {
  static const ParserFactoryImpl factory;
  return &factory;
}

}  // namespace auscult::sensor::dicom
