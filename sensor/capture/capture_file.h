#ifndef AUSCULT_SENSOR_CAPTURE_CAPTURE_FILE_H_
#define AUSCULT_SENSOR_CAPTURE_CAPTURE_FILE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sensor/capture/packet_source.h"

namespace auscult::sensor {

// Reads capture files: classic pcap (either byte order, micro- or nanosecond timestamps) and
// pcapng (any number of sections and interfaces, each with its own link type, timestamp
// resolution and offset; enhanced, simple and obsolete packet blocks). libpcap cannot read a
// pcapng file whose interfaces differ in link type or snap length, which tcpdump-rotated and
// merged captures often are; this reader can, and it reads faster for doing less.
//
// Untrusted input: every length is checked against the block and a hard limit before use; a
// damaged file ends with an error naming the byte offset, after every good frame before it.
class CaptureFile : public PacketSource {
 public:
  static constexpr uint32_t kMaxFrameBytes = 256 * 1024;        // larger than any snap length in use
  static constexpr uint32_t kMaxBlockBytes = 16 * 1024 * 1024;  // pcapng blocks (options included)

  static absl::StatusOr<std::unique_ptr<CaptureFile>> Open(const std::string& path);
  // Reads from an open descriptor (taken over and closed by the reader); `name` is for messages.
  static absl::StatusOr<std::unique_ptr<CaptureFile>> FromDescriptor(int fd, const std::string& name);
  ~CaptureFile() override;

  absl::StatusOr<ReadResult> Next(RawFrame& frame) override;
  const std::string& name() const override { return path_; }
  bool is_file() const override { return true; }
  uint64_t bytes_read() const override { return offset_; }
  uint64_t file_size() const override { return file_size_; }

  // Called before a read that would wait for data: a pipe or FIFO (`tcpdump -w - | auscult-sensor
  // --pcap=/dev/stdin`) whose writer is slower than the sensor, never a regular file. The sensor
  // renders its metrics then, so that they are current while it waits.
  void set_wait_hook(std::function<void()> hook) { wait_hook_ = std::move(hook); }

  bool is_pcapng() const { return pcapng_; }
  // Link types (DLT values) of the interfaces seen so far; one entry for classic pcap.
  const std::vector<int>& link_types() const { return link_types_; }

 private:
  struct Interface {
    int link_type = 0;
    uint32_t snap_length = 0;
    // Timestamp units: ticks per second as 10^n or 2^n, and an offset in seconds.
    bool binary_resolution = false;
    uint8_t resolution_exponent = 6;
    int64_t offset_seconds = 0;
  };

  CaptureFile(int fd, std::string path, uint64_t size);
  // Makes `n` bytes available at buf_ + pos_; false at a clean end of file or on a read error.
  absl::StatusOr<bool> Fill(size_t n);
  absl::Status Corrupt(const std::string& what) const;
  absl::StatusOr<ReadResult> NextPcap(RawFrame& frame);
  absl::StatusOr<ReadResult> NextPcapng(RawFrame& frame);
  absl::Status ReadSectionHeader();
  absl::Status ReadInterface(const uint8_t* body, uint32_t length);
  uint16_t U16(const uint8_t* p) const;
  uint32_t U32(const uint8_t* p) const;
  TimeNs PcapngTime(const Interface& i, uint64_t ticks) const;

  int fd_;
  std::string path_;
  uint64_t file_size_;
  bool regular_ = true;
  std::function<void()> wait_hook_;
  uint64_t offset_ = 0;  // file offset of buf_[pos_]
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool pcapng_ = false;
  bool swapped_ = false;  // file byte order differs from little endian
  bool nanosecond_ = false;
  int pcap_link_type_ = 0;
  std::vector<Interface> interfaces_;
  std::vector<int> link_types_;
};

// Maps a LINKTYPE_ value from a file to libpcap's DLT_ value (they differ for a few types).
int DltFromLinkType(uint32_t link_type);

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_CAPTURE_CAPTURE_FILE_H_
