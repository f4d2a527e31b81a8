#include "sensor/flow/service_ports.h"

#include <algorithm>
#include <array>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "sensor/decode/packet_view.h"

namespace auscult::sensor {
namespace {

struct PortService {
  uint16_t port;
  std::string_view name;
};

// IANA registrations plus the ports clinical systems use by convention (see
// docs/architecture.md). Sorted by port for binary search.
constexpr auto kTcp = std::to_array<PortService>({
    {21, "ftp"},      {22, "ssh"},         {23, "telnet"},  {25, "smtp"},    {53, "dns"},          {80, "http"},
    {88, "kerberos"}, {104, "dicom"},      {110, "pop3"},   {135, "msrpc"},  {139, "netbios-ssn"}, {143, "imap"},
    {389, "ldap"},    {443, "tls"},        {445, "smb"},    {465, "smtps"},  {514, "rsh"},         {587, "smtp"},
    {636, "ldaps"},   {993, "imaps"},      {995, "pop3s"},  {1433, "mssql"}, {1521, "oracle"},     {1883, "mqtt"},
    {2575, "hl7"},    {2762, "dicom-tls"}, {3306, "mysql"}, {3389, "rdp"},   {4242, "dicom"},      {5432, "postgresql"},
    {5900, "vnc"},    {5985, "winrm"},     {8080, "http"},  {8443, "tls"},   {8883, "mqtt-tls"},   {11112, "dicom"},
});

constexpr auto kUdp = std::to_array<PortService>({
    {53, "dns"},
    {67, "dhcp"},
    {68, "dhcp"},
    {69, "tftp"},
    {123, "ntp"},
    {137, "nbns"},
    {138, "netbios-dgm"},
    {161, "snmp"},
    {162, "snmp-trap"},
    {443, "quic"},
    {514, "syslog"},
    {546, "dhcpv6"},
    {547, "dhcpv6"},
    {1900, "ssdp"},
    {3702, "ws-discovery"},
    {5353, "mdns"},
    {5355, "llmnr"},
});

constexpr bool ByPort(const PortService& a, const PortService& b) { return a.port < b.port; }
static_assert(std::is_sorted(kTcp.begin(), kTcp.end(), ByPort));
static_assert(std::is_sorted(kUdp.begin(), kUdp.end(), ByPort));

template <size_t N>
std::string_view Find(const std::array<PortService, N>& table, uint16_t port) {
  auto it =
      std::lower_bound(table.begin(), table.end(), port, [](const PortService& s, uint16_t p) { return s.port < p; });
  return it != table.end() && it->port == port ? it->name : std::string_view();
}

}  // namespace

std::string_view ServiceForPort(uint8_t transport, uint16_t port) {
  if (transport == kIpProtoTcp) return Find(kTcp, port);
  if (transport == kIpProtoUdp) return Find(kUdp, port);
  return {};
}

namespace {
struct ApplicationNames {
  std::mutex mu;
  std::vector<std::string_view> names{""};  // 0: none
  std::deque<std::string> copies;           // interned names (a deque never moves its elements)
};
ApplicationNames& Names() {
  static ApplicationNames* names = new ApplicationNames();  // never destroyed: used until exit
  return *names;
}
}  // namespace

uint8_t ApplicationId(std::string_view name) {
  if (name.empty()) return 0;
  ApplicationNames& n = Names();
  std::lock_guard lock(n.mu);
  for (size_t i = 1; i < n.names.size(); ++i) {
    if (n.names[i] == name) return static_cast<uint8_t>(i);
  }
  if (n.names.size() == 256) return 0;  // full: unnamed rather than wrong
  n.names.push_back(name);
  return static_cast<uint8_t>(n.names.size() - 1);
}

uint8_t InternApplication(std::string_view name) {
  if (name.empty()) return 0;
  ApplicationNames& n = Names();
  std::lock_guard lock(n.mu);
  for (size_t i = 1; i < n.names.size(); ++i) {
    if (n.names[i] == name) return static_cast<uint8_t>(i);
  }
  if (n.names.size() == 256) return 0;
  n.names.push_back(n.copies.emplace_back(name));
  return static_cast<uint8_t>(n.names.size() - 1);
}

std::string_view ApplicationName(uint8_t id) {
  ApplicationNames& n = Names();
  std::lock_guard lock(n.mu);
  return id < n.names.size() ? n.names[id] : std::string_view();
}

bool IsServicePort(uint8_t transport, uint16_t port) { return port < 1024 || !ServiceForPort(transport, port).empty(); }

bool IsClientPort(uint8_t transport, uint16_t port) { return transport == 17 && (port == 68 || port == 546); }

}  // namespace auscult::sensor
