#include "sensor/parsers/lldp/lldp.h"

#include "absl/strings/str_cat.h"
#include "common/mac_address.h"

namespace auscult::sensor::lldp {
namespace {

constexpr std::string_view kProtocol = "lldp";

// Chassis and port ids: a MAC (subtype 4 for chassis, 3 for port) or an address (5 / 4) are bytes;
// the other subtypes are text.
std::string Id(const uint8_t* v, size_t n, uint8_t mac_subtype, uint8_t address_subtype) {
  if (n < 1) return "";
  const uint8_t subtype = v[0];
  if (subtype == mac_subtype && n == 7) return MacAddress::FromBytes(v + 1).ToString();
  if (subtype == address_subtype && n >= 2) {
    if (v[1] == 1 && n == 6) return IpAddress::V4(v + 2).ToString();
    if (v[1] == 2 && n == 18) return IpAddress::V6(v + 2).ToString();
  }
  return std::string(reinterpret_cast<const char*>(v + 1), n - 1);
}

constexpr const char* kCapabilityNames[] = {
    "other",   "repeater", "bridge", "wlan-access-point", "router", "telephone", "docsis-cable-device",
    "station", "c-vlan",   "s-vlan", "two-port-mac-relay"};

class FrameParserImpl : public FrameParser {
 public:
  std::string_view name() const override { return kProtocol; }
  void OnFrame(const PacketView& view, FactSink& facts) override {
    if (view.ethertype != 0x88cc || !view.has_mac) return;
    Unit u;
    Error error;
    if (!Parse(view.link_payload, u, error)) {
      facts.CountAnomaly(ErrorName(error));
      if (error != Error::kMissingMandatory) return;
    }
    const MacAddress& sender = view.src_mac;
    // Some stacks end text TLVs with a C string's NUL (Extreme's port descriptions do): not part of
    // the text. The switch port joins id and description, so trim before joining.
    for (std::string* text : {&u.port_description, &u.system_name, &u.system_description, &u.port_id}) {
      while (!text->empty() && text->back() == '\0') text->pop_back();
    }
    auto fact = [&](Attribute a, const std::string& value, std::string_view field, float confidence) {
      if (!value.empty())
        facts.OnFact(&sender, IpAddress{}, Fact{a, value, kProtocol, field, confidence}, view.timestamp);
    };
    fact(Attribute::kHostname, u.system_name, "system_name", 0.9f);
    fact(Attribute::kSystemDescription, u.system_description, "system_description", 0.9f);
    fact(Attribute::kChassisId, u.chassis_id, "chassis_id", 0.9f);
    if (!u.port_id.empty()) {
      fact(Attribute::kSwitchPort,
           u.port_description.empty() || u.port_description == u.port_id
               ? u.port_id
               : absl::StrCat(u.port_id, " (", u.port_description, ")"),
           "port_id", 0.9f);
    }
    for (const std::string& c : u.capabilities) fact(Attribute::kCapability, c, "capabilities", 0.9f);
    fact(Attribute::kHardwareVersion, u.hardware_revision, "med_hardware_revision", 0.9f);
    fact(Attribute::kFirmwareVersion, u.firmware_revision, "med_firmware_revision", 0.9f);
    fact(Attribute::kSoftwareVersion, u.software_revision, "med_software_revision", 0.9f);
    fact(Attribute::kSerialNumber, u.serial_number, "med_serial_number", 0.9f);
    fact(Attribute::kVendor, u.manufacturer, "med_manufacturer", 0.8f);
    fact(Attribute::kModel, u.model, "med_model", 0.9f);
    if (u.port_vlan != 0) fact(Attribute::kPortVlan, absl::StrCat(u.port_vlan), "port_vlan", 0.9f);
    for (const IpAddress& ip : u.management_addresses)
      facts.OnBinding(sender, ip, AddressSource::kLldp, view.timestamp);
  }
};

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kTruncated:
      return "lldp_truncated";
    case Error::kBadTlv:
      return "lldp_bad_tlv";
    case Error::kMissingMandatory:
      return "lldp_missing_mandatory_tlv";
  }
  return "unknown";
}

bool Parse(std::span<const uint8_t> payload, Unit& u, Error& error) {
  error = Error::kNone;
  const uint8_t* p = payload.data();
  const size_t n = payload.size();
  bool chassis = false, port = false;
  for (size_t i = 0; i < n;) {
    if (i + 2 > n) {
      error = Error::kTruncated;
      return false;
    }
    const uint8_t type = p[i] >> 1;
    const size_t length = static_cast<size_t>(p[i] & 1) << 8 | p[i + 1];
    if (i + 2 + length > n) {
      error = Error::kTruncated;
      return false;
    }
    const uint8_t* v = p + i + 2;
    const std::string text(reinterpret_cast<const char*>(v), length);
    i += 2 + length;
    switch (type) {
      case 0:
        return chassis && port ? true : (error = Error::kMissingMandatory, false);
      case 1:
        if (length < 2) return (error = Error::kBadTlv, false);
        u.chassis_id = Id(v, length, 4, 5);
        chassis = true;
        break;
      case 2:
        if (length < 2) return (error = Error::kBadTlv, false);
        u.port_id = Id(v, length, 3, 4);
        port = true;
        break;
      case 4:
        u.port_description = text;
        break;
      case 5:
        u.system_name = text;
        break;
      case 6:
        u.system_description = text;
        break;
      case 7:
        if (length == 4) {
          const uint16_t enabled = static_cast<uint16_t>(v[2] << 8 | v[3]);
          for (int bit = 0; bit < 11; ++bit) {
            if (enabled & (1 << bit)) u.capabilities.push_back(kCapabilityNames[bit]);
          }
        }
        break;
      case 8: {
        if (length < 2) return (error = Error::kBadTlv, false);
        const uint8_t address_length = v[0];  // includes the family byte
        if (address_length < 2 || 1u + address_length > length) return (error = Error::kBadTlv, false);
        if (v[1] == 1 && address_length == 5) u.management_addresses.push_back(IpAddress::V4(v + 2));
        if (v[1] == 2 && address_length == 17) u.management_addresses.push_back(IpAddress::V6(v + 2));
        break;
      }
      case 127: {
        if (length < 4) break;
        const uint32_t oui = static_cast<uint32_t>(v[0]) << 16 | v[1] << 8 | v[2];
        const uint8_t subtype = v[3];
        const std::string value(reinterpret_cast<const char*>(v + 4), length - 4);
        if (oui == 0x0012bb) {  // TIA TR-41: LLDP-MED inventory
          switch (subtype) {
            case 5:
              u.hardware_revision = value;
              break;
            case 6:
              u.firmware_revision = value;
              break;
            case 7:
              u.software_revision = value;
              break;
            case 8:
              u.serial_number = value;
              break;
            case 9:
              u.manufacturer = value;
              break;
            case 10:
              u.model = value;
              break;
            default:
              break;
          }
        } else if (oui == 0x0080c2 && subtype == 1 && length == 6) {  // IEEE 802.1 port VLAN id
          u.port_vlan = static_cast<uint16_t>(v[4] << 8 | v[5]);
        }
        break;
      }
      default:
        break;
    }
  }
  // No end TLV: many stacks omit it or pad; what was read is sound.
  if (!chassis || !port) {
    error = Error::kMissingMandatory;
    return false;
  }
  return true;
}

FrameParser* Parser() {
  static FrameParserImpl parser;
  return &parser;
}

}  // namespace auscult::sensor::lldp
