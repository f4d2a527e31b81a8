#include "sensor/flow/clinical_services.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/text.h"
#include "common/data_files.h"
#include "sensor/decode/packet_view.h"
#include "sensor/flow/service_ports.h"

namespace auscult::sensor {
namespace {

// A data file is a few dozen lines; anything far larger is not one.
constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxServices = 4096;
// Application names are kept per flow as one byte, shared with the built-in port table and the
// parsers (255 in all): a file may add at most this many.
constexpr size_t kMaxApplications = 100;
constexpr size_t kMaxApplicationName = 32;

int TransportIndex(uint8_t transport) {
  if (transport == kIpProtoTcp) return 0;
  if (transport == kIpProtoUdp) return 1;
  return -1;
}

bool ValidApplication(std::string_view name) {
  if (name.empty() || name.size() > kMaxApplicationName || !absl::ascii_isalnum(name.front())) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '.' || c == '_')) return false;
  }
  return true;
}

bool ParsePort(absl::string_view s, uint16_t& port) {
  uint32_t v = 0;
  if (!absl::SimpleAtoi(s, &v) || v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

ClinicalServices::ClinicalServices() : by_port_(std::make_unique<std::array<std::array<uint16_t, 65536>, 2>>()) {
  for (auto& ports : *by_port_) ports.fill(0);
}

absl::StatusOr<std::unique_ptr<ClinicalServices>> ClinicalServices::Load(const std::string& path) {
  const absl::StatusOr<std::string> text = ReadFileAtMost(path, kMaxFileBytes, "clinical services file");
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

absl::StatusOr<std::unique_ptr<ClinicalServices>> ClinicalServices::Parse(std::string_view text,
                                                                          std::string_view source) {
  std::unique_ptr<ClinicalServices> table(new ClinicalServices());
  std::vector<std::string_view> applications;  // distinct names
  std::vector<std::string_view> names;         // per line
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(AsAbsl(text), '\n')) {
    ++line_number;
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(AsAbsl(source), ":", line_number, ": ", AsAbsl(why)));
    };
    const std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() < 6) return bad("expected TRANSPORT PORTS APPLICATION CLINICAL OPTIONS DESCRIPTION");
    if (table->services_.size() == kMaxServices) return bad(absl::StrCat("more than ", kMaxServices, " lines"));
    ClinicalService s;
    s.line = line_number;
    if (f[0] == "tcp") {
      s.transport = kIpProtoTcp;
    } else if (f[0] == "udp") {
      s.transport = kIpProtoUdp;
    } else {
      return bad("TRANSPORT must be tcp or udp");
    }
    const std::vector<absl::string_view> range = absl::StrSplit(f[1], absl::MaxSplits('-', 1));
    if (!ParsePort(range[0], s.first_port)) return bad("PORTS must be a port 1-65535 or a range a-b");
    s.last_port = s.first_port;
    if (range.size() == 2 && (!ParsePort(range[1], s.last_port) || s.last_port < s.first_port)) {
      return bad("PORTS must be a port 1-65535 or a range a-b with a <= b");
    }
    if (!ValidApplication(AsStd(f[2]))) {
      return bad("APPLICATION must be 1-32 lowercase letters, digits, - . or _, starting with a letter or digit");
    }
    if (f[3] == "yes") {
      s.clinical = true;
    } else if (f[3] != "no") {
      return bad("CLINICAL must be yes or no");
    }
    if (f[4] != "-") {
      for (absl::string_view option : absl::StrSplit(f[4], ',')) {
        if (option == "weak") {
          s.weak = true;
        } else if (option == "encrypted") {
          s.encrypted = true;
        } else {
          return bad("OPTIONS must be - or a comma-separated list of weak, encrypted");
        }
      }
    }
    // The description is the rest of the line, as written.
    s.description =
        std::string(absl::StripAsciiWhitespace(line.substr(static_cast<size_t>(f[5].data() - line.data()))));
    const int t = TransportIndex(s.transport);
    for (uint32_t port = s.first_port; port <= s.last_port; ++port) {
      if (const uint16_t other = (*table->by_port_)[t][port]; other != 0) {
        return bad(absl::StrCat(f[0], " port ", port, " is already on line ", table->services_[other - 1].line));
      }
    }
    bool known = false;
    for (std::string_view a : applications) known = known || a == AsStd(f[2]);
    if (!known) {
      if (applications.size() == kMaxApplications) {
        return bad(absl::StrCat("more than ", kMaxApplications, " application names"));
      }
      applications.push_back(AsStd(f[2]));
    }
    names.push_back(AsStd(f[2]));
    table->services_.push_back(std::move(s));
    const auto index = static_cast<uint16_t>(table->services_.size());
    const ClinicalService& added = table->services_.back();
    for (uint32_t port = added.first_port; port <= added.last_port; ++port) (*table->by_port_)[t][port] = index;
  }
  // Names are kept for the process once the whole file is good (a flow refers to its name by id).
  for (size_t i = 0; i < names.size(); ++i) {
    ClinicalService& s = table->services_[i];
    s.application_id = InternApplication(names[i]);
    if (s.application_id == 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat(AsAbsl(source), ":", s.line, ": too many application names in the sensor"));
    }
    s.application = ApplicationName(s.application_id);
  }
  return table;
}

const ClinicalService* ClinicalServices::Find(uint8_t transport, uint16_t port) const {
  const int t = TransportIndex(transport);
  if (t < 0) return nullptr;
  const uint16_t index = (*by_port_)[t][port];
  return index == 0 ? nullptr : &services_[index - 1];
}

std::string DefaultClinicalServicesPath() { return ShippedDataFile("clinical_services.txt", AUSCULT_SENSOR_DATA_DIR); }

const ClinicalServices* ShippedClinicalServices() {
  static const ClinicalServices* const table = [] {
    auto loaded = ClinicalServices::Load(DefaultClinicalServicesPath());
    return loaded.ok() ? loaded->release() : nullptr;  // kept for the process
  }();
  return table;
}

}  // namespace auscult::sensor
