#ifndef AUSCULT_SENSOR_CAPTURE_PCAP_SOURCE_H_
#define AUSCULT_SENSOR_CAPTURE_PCAP_SOURCE_H_

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sensor/capture/raw_frame.h"

namespace auscult::sensor {

struct LiveCaptureOptions {
  int snap_length = 65535;
  int buffer_size_mb = 64;  // kernel ring buffer; bigger rides out bursts
  bool promiscuous = true;
  int timeout_ms = 250;  // how often Next() returns kTimeout on an idle interface
};

struct CaptureDrops {
  uint64_t kernel = 0;     // ps_drop: no room in the kernel buffer
  uint64_t interface = 0;  // ps_ifdrop: dropped by the interface or its driver
};

// A libpcap capture: an offline file (pcap or pcapng, any byte order, micro- or nanosecond
// timestamps) or a live interface. Only ever reads: the sensor never sends on a monitored link.
class PcapSource {
 public:
  enum class ReadResult { kFrame, kTimeout, kEnd };

  static absl::StatusOr<std::unique_ptr<PcapSource>> OpenFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<PcapSource>> OpenLive(const std::string& interface,
                                                              const LiveCaptureOptions& options);
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // Reads the next frame into `frame` (valid until the next call). A read error (a file truncated
  // in the middle of a record, an interface that went away) is returned as a status.
  absl::StatusOr<ReadResult> Next(RawFrame& frame);

  const std::string& name() const { return name_; }
  int link_type() const { return link_type_; }
  bool is_file() const { return is_file_; }
  // For files: bytes read so far and the file's size (for progress), else zeros.
  uint64_t bytes_read() const;
  uint64_t file_size() const { return file_size_; }
  CaptureDrops Drops() const;

 private:
  PcapSource(pcap_t* handle, std::string name, bool is_file);

  pcap_t* handle_;
  std::string name_;
  bool is_file_;
  int link_type_;
  bool nanosecond_;
  uint64_t file_size_ = 0;
  int selectable_fd_ = -1;  // live captures: polled for readiness
  int timeout_ms_ = 0;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_CAPTURE_PCAP_SOURCE_H_
