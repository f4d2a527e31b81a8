#ifndef AUSCULT_SENSOR_CAPTURE_PACKET_SOURCE_H_
#define AUSCULT_SENSOR_CAPTURE_PACKET_SOURCE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "sensor/capture/raw_frame.h"

namespace auscult::sensor {

struct CaptureDrops {
  uint64_t kernel = 0;     // no room in the kernel buffer (pcap_stats ps_drop)
  uint64_t interface = 0;  // dropped by the interface or its driver (ps_ifdrop)
};

// Where frames come from: a capture file or live interfaces. Only ever reads: the sensor never
// sends on a monitored link.
class PacketSource {
 public:
  enum class ReadResult { kFrame, kTimeout, kEnd };
  virtual ~PacketSource() = default;

  // The next frame (valid until the next call), kTimeout when a live source had nothing for a
  // while, kEnd at the end of a file. A damaged file is an error status naming file and offset.
  virtual absl::StatusOr<ReadResult> Next(RawFrame& frame) = 0;

  virtual const std::string& name() const = 0;
  virtual bool is_file() const = 0;
  // Files: bytes consumed so far and the file's size, for progress.
  virtual uint64_t bytes_read() const { return 0; }
  virtual uint64_t file_size() const { return 0; }
  virtual CaptureDrops Drops() const { return {}; }
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_CAPTURE_PACKET_SOURCE_H_
