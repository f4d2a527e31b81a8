#ifndef AUSCULT_SENSOR_CAPTURE_LIVE_CAPTURE_H_
#define AUSCULT_SENSOR_CAPTURE_LIVE_CAPTURE_H_

#include <pcap/pcap.h>
#include <poll.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sensor/capture/packet_source.h"

namespace auscult::sensor {

struct LiveCaptureOptions {
  int snap_length = 65535;
  int buffer_size_mb = 64;  // kernel ring buffer per interface; bigger rides out bursts
  bool promiscuous = true;
  int timeout_ms = 250;  // how often Next() returns kTimeout when every interface is idle
  std::string bpf;       // capture filter, compiled for each interface and run in the kernel
};

// Live capture on one or more interfaces (a sensor may watch several SPAN ports). Frames come
// from whichever interface has them, in turn, so that a busy interface cannot starve another.
// Promiscuous, immediate mode, a sized kernel buffer, and nothing ever sent.
class LiveCapture : public PacketSource {
 public:
  static absl::StatusOr<std::unique_ptr<LiveCapture>> Open(const std::vector<std::string>& interfaces,
                                                           const LiveCaptureOptions& options);
  ~LiveCapture() override;

  absl::StatusOr<ReadResult> Next(RawFrame& frame) override;
  const std::string& name() const override { return name_; }
  bool is_file() const override { return false; }
  // Summed over the interfaces.
  CaptureDrops Drops() const override;

 private:
  struct Interface {
    pcap_t* handle = nullptr;
    std::string name;
    int fd = -1;
    int link_type = 0;
    bool nanosecond = false;
  };
  LiveCapture() = default;
  absl::Status Add(const std::string& interface, const LiveCaptureOptions& options);
  // Non-blocking read from one interface; false if it had nothing.
  absl::StatusOr<bool> TryRead(Interface& i, RawFrame& frame);

  std::vector<Interface> interfaces_;
  std::vector<pollfd> poll_fds_;
  std::string name_;
  size_t next_ = 0;  // where the round-robin continues
  int timeout_ms_ = 250;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_CAPTURE_LIVE_CAPTURE_H_
