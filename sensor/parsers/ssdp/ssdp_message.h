#ifndef AUSCULT_SENSOR_PARSERS_SSDP_SSDP_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_SSDP_SSDP_MESSAGE_H_

#include <cstdint>
#include <span>
#include <string>

namespace auscult::sensor::ssdp {

// An SSDP message (UPnP Device Architecture 2.0 §1): an HTTP/1.1 head in one UDP datagram (HTTPU,
// HTTPMU), no body. Three kinds carry identity:
//
//   NOTIFY * HTTP/1.1            (§1.2.2, multicast to 239.255.255.250:1900 or [ff02::c]:1900)
//   HOST: 239.255.255.250:1900
//   NT: urn:schemas-upnp-org:device:MediaServer:1     notification type: upnp:rootdevice, uuid:...,
//   NTS: ssdp:alive                                   or a device or service type URN
//   SERVER: Windows/10.0 UPnP/2.0 Product/1.0         OS/version UPnP/2.0 product/version
//   LOCATION: http://10.1.2.3:2869/desc.xml           the description (never fetched: passive)
//   USN: uuid:...::urn:schemas-upnp-org:device:MediaServer:1
//
//   M-SEARCH * HTTP/1.1          (§1.3.2, a control point searching)
//   ST: urn:dial-multiscreen-org:service:dial:1       what it searches for
//   USER-AGENT: Chrome/99 Mac OS X                    OS/version UPnP/2.0 product/version
//
//   HTTP/1.1 200 OK              (§1.3.3, a device's unicast answer to the searcher)
//   ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1    the type that matched
//   SERVER: ..., LOCATION: ..., USN: ...
struct Message {
  enum class Kind { kNotify, kSearch, kResponse };
  Kind kind = Kind::kNotify;
  std::string server;        // SERVER (notifications and responses)
  std::string user_agent;    // USER-AGENT (searches)
  std::string x_user_agent;  // X-User-Agent, sent by some control points besides or instead
  // NT of a NOTIFY or ST of a response when it is a device or service type URN
  // ("urn:domain:device:type:version", "urn:domain:service:type:version"); root device and UUID
  // notifications say nothing of the kind of device and are left empty.
  std::string device_or_service_type;
  bool has_nt = false;  // a NOTIFY with an NT header at all
};

enum class Error { kNone, kNotHttp, kUnexpectedMethod, kHeadTooLarge };
const char* ErrorName(Error e);

// Parses a UDP payload.
bool Parse(std::span<const uint8_t> payload, Message& out, Error& error);

// Whether `bytes` begin like an SSDP message (NOTIFY, M-SEARCH or an HTTP/1.x response).
bool LooksLikeSsdp(std::span<const uint8_t> bytes);

// Whether `value` is a device or service type URN.
bool IsTypeUrn(std::string_view value);

}  // namespace auscult::sensor::ssdp

#endif  // AUSCULT_SENSOR_PARSERS_SSDP_SSDP_MESSAGE_H_
