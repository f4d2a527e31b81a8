#ifndef AUSCULT_SENSOR_CAPTURE_BPF_FILTER_H_
#define AUSCULT_SENSOR_CAPTURE_BPF_FILTER_H_

#include <pcap/pcap.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sensor/capture/raw_frame.h"

namespace auscult::sensor {

// A BPF capture filter (tcpdump syntax) for frames read from files, where the kernel cannot filter.
// It is compiled once per link type met, since a pcapng file may mix them.
class BpfFilter {
 public:
  // Fails with a message naming --bpf if the expression does not compile for Ethernet.
  static absl::StatusOr<std::unique_ptr<BpfFilter>> Create(const std::string& expression);
  ~BpfFilter();

  bool Matches(const RawFrame& frame);
  // Link types for which the expression did not compile (their frames never match).
  const std::map<int, std::string>& failures() const { return failures_; }

 private:
  explicit BpfFilter(std::string expression) : expression_(std::move(expression)) {}
  const bpf_program* ProgramFor(int link_type);

  std::string expression_;
  std::map<int, std::unique_ptr<bpf_program>> programs_;
  std::map<int, std::string> failures_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_CAPTURE_BPF_FILTER_H_
