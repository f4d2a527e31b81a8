#include "sensor/capture/bpf_filter.h"

#include <pcap/dlt.h>

#include "absl/strings/str_cat.h"

namespace auscult::sensor {

absl::StatusOr<std::unique_ptr<BpfFilter>> BpfFilter::Create(const std::string& expression) {
  auto filter = std::unique_ptr<BpfFilter>(new BpfFilter(expression));
  if (filter->ProgramFor(DLT_EN10MB) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--bpf='", expression, "': ", filter->failures_[DLT_EN10MB]));
  }
  return filter;
}

BpfFilter::~BpfFilter() {
  for (auto& [link_type, program] : programs_) pcap_freecode(program.get());
}

const bpf_program* BpfFilter::ProgramFor(int link_type) {
  if (auto it = programs_.find(link_type); it != programs_.end()) return it->second.get();
  if (failures_.count(link_type)) return nullptr;
  pcap_t* dead = pcap_open_dead(link_type, 262144);
  if (dead == nullptr) {
    failures_[link_type] = "cannot compile for this link type";
    return nullptr;
  }
  auto program = std::make_unique<bpf_program>();
  if (pcap_compile(dead, program.get(), expression_.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    failures_[link_type] = pcap_geterr(dead);
    pcap_close(dead);
    return nullptr;
  }
  pcap_close(dead);
  return (programs_[link_type] = std::move(program)).get();
}

bool BpfFilter::Matches(const RawFrame& frame) {
  const bpf_program* program = ProgramFor(frame.link_type);
  if (program == nullptr) return false;
  pcap_pkthdr header{};
  header.caplen = frame.captured_length;
  header.len = frame.wire_length;
  return pcap_offline_filter(program, &header, frame.data) != 0;
}

}  // namespace auscult::sensor
