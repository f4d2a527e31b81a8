// libFuzzer target: a whole capture file through the sensor's reader and packet path (capture
// file parser, decoder, device table, flow table, every parser). Seeds: any pcap/pcapng file.
//
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DAUSCULT_FUZZ=ON
//   ninja -C build-fuzz capture_fuzz
//   build-fuzz/bin/capture_fuzz -max_total_time=600 -max_len=65536 corpus/ tests/data/captures/*/
#include <sys/mman.h>
#include <unistd.h>

#include "sensor/capture/capture_file.h"
#include "sensor/engine.h"
#include "sensor/parsers/registry.h"

namespace {

class DiscardingSink : public auscult::sensor::ObservationSink {
 public:
  void OnFlow(const auscult::sensor::FlowRecord&) override {}
  void OnDevice(const auscult::sensor::DeviceRecord&) override {}
  void OnWindowEnd() override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The reader takes a descriptor; an in-memory file gives it one without touching the disk.
  const int fd = memfd_create("fuzz-capture", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size) || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return 0;
  }
  auto file = auscult::sensor::CaptureFile::FromDescriptor(fd, "fuzz");
  if (!file.ok()) return 0;
  // Small caps so that eviction and forgetting are exercised too.
  auscult::sensor::EngineOptions options;
  options.flows.max_flows = 16;
  options.devices.max_devices = 16;
  options.flows.parsers = auscult::sensor::Parsers();
  options.frame_parsers = auscult::sensor::FrameParsers();
  options.tcp_os = auscult::sensor::tcp_os::ShippedDatabase();
  DiscardingSink sink;
  auscult::sensor::Engine engine(options, nullptr, &sink);
  auscult::sensor::RawFrame frame;
  for (;;) {
    auto r = (*file)->Next(frame);
    if (!r.ok() || *r != auscult::sensor::PacketSource::ReadResult::kFrame) break;
    engine.Process(frame);
  }
  engine.Finish();
  return 0;
}
