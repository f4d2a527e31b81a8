#ifndef AUSCULT_SENSOR_PARSERS_WSD_WSD_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_WSD_WSD_MESSAGE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace auscult::sensor::wsd {

// A WS-Discovery message (OASIS WS-Discovery 1.1 §4-6; the 2005/04 draft Windows speaks is laid out
// the same): a SOAP 1.2 envelope in one UDP datagram (SOAP-over-UDP 1.1), to 239.255.255.250 or
// [ff02::c] port 3702 when multicast.
//
//   <s:Envelope xmlns:s=... xmlns:a=... xmlns:d=...>
//     <s:Header><a:Action>.../Hello</a:Action><a:MessageID>urn:uuid:...</a:MessageID>...</s:Header>
//     <s:Body>
//       <d:Hello>                                     §4.1; also Bye §4.2, ProbeMatches §5.3 (one
//         <a:EndpointReference>...</a:EndpointReference>   <d:ProbeMatch> each), ResolveMatches §6.3
//         <d:Types>wsdp:Device wprt:PrintDeviceType</d:Types>     QNames: what the endpoint is
//         <d:Scopes>onvif://www.onvif.org/hardware/M3045 ...</d:Scopes>   URIs, space separated
//         <d:XAddrs>http://10.1.2.3:5357/...</d:XAddrs>   where its metadata is (never fetched)
//         <d:MetadataVersion>1</d:MetadataVersion>
//       </d:Hello>
//     </s:Body>
//   </s:Envelope>
//
// A Probe (§5.2) carries Types and Scopes too, but as what a client looks for; a Resolve (§6.2)
// only an endpoint address.
//
// Namespace prefixes are the sender's choice, so elements are found by local name. This is a
// bounded tag scanner, not an XML parser: no entities beyond the predefined five, no DTDs.
struct Message {
  enum class Kind { kOther, kHello, kBye, kProbe, kProbeMatches, kResolve, kResolveMatches };
  Kind kind = Kind::kOther;
  std::vector<std::string> types;   // every QName of every <Types>
  std::vector<std::string> scopes;  // every URI of every <Scopes>
  bool mdpws_namespace = false;     // the message declares IEEE 11073-20702's namespace (kMdpwsNamespace)

  // Whether the sender describes itself (Hello, Bye, ProbeMatches, ResolveMatches).
  bool AboutSender() const {
    return kind == Kind::kHello || kind == Kind::kBye || kind == Kind::kProbeMatches || kind == Kind::kResolveMatches;
  }
};

enum class Error { kNone, kNotSoap, kNoBody, kTooManyElements };
const char* ErrorName(Error e);

bool Parse(std::span<const uint8_t> payload, Message& out, Error& error);

// Whether `bytes` begin like XML (after an optional UTF-8 byte order mark and white space).
bool LooksLikeXml(std::span<const uint8_t> bytes);

// What an ONVIF scope (ONVIF Core Specification §7.3.2.2) says of the device:
// onvif://www.onvif.org/hardware/<model>, .../type/<device type>, .../name/<name>. The value is
// percent-decoded; `key` is empty when the scope is not one of these.
struct OnvifScope {
  std::string_view key;  // "hardware", "type", "name"
  std::string value;
};
OnvifScope ParseOnvifScope(std::string_view scope);

// IEEE 11073 SDC discovery (IEEE 11073-20702 MDPWS, 11073-20701 §9): an SDC medical device
// announces itself (Hello, ProbeMatches, ResolveMatches) with the types `dpws:Device
// mdpws:MedicalDevice` and the key purpose scope `sdc.mds.pkp:1.2.840.10004.20701.1.1`; a
// consumer probes for them. Context scopes may follow:
//   sdc.ctxt.loc:/sdc.ctxt.loc.detail/HOSP1%2F%2F%2FICU1%2F%2FBed42?fac=HOSP1&poc=ICU1&bed=Bed42
//   sdc.ctxt.pat:/[root]/[extension]       a patient's identifier, in multicast
// Neither is kept: the patient scope is counted as patient data, the location left out (it
// names a bed, and facts have no place for a location).
inline constexpr std::string_view kMdpwsNamespace = "http://standards.ieee.org/downloads/11073/11073-20702-2016";
struct Sdc {
  // Types holds MedicalDevice (in a message that declares the MDPWS namespace), or Scopes an
  // sdc.mds.pkp: key purpose.
  bool medical_device = false;
  std::string_view evidence;  // "types" or "scopes": where medical_device was read
  bool patient = false;       // Scopes holds an sdc.ctxt.pat: scope
};
Sdc ReadSdc(const Message& m);

}  // namespace auscult::sensor::wsd

#endif  // AUSCULT_SENSOR_PARSERS_WSD_WSD_MESSAGE_H_
