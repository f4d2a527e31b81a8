// libFuzzer target: a whole capture file through libpcap's reader and the sensor's packet path
// (decoder, device table, flow table). Seeds: any pcap/pcapng file, e.g. tests/data/captures.
//
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DAUSCULT_FUZZ=ON
//   ninja -C build-fuzz capture_fuzz
//   build-fuzz/bin/capture_fuzz -max_total_time=600 corpus/ tests/data/captures/*/
#include <pcap/pcap.h>

#include <cstdio>

#include "sensor/decode/decoder.h"
#include "sensor/engine.h"

namespace {

class DiscardingSink : public auscult::sensor::ObservationSink {
 public:
  void OnFlow(const auscult::sensor::FlowRecord&) override {}
  void OnDevice(const auscult::sensor::DeviceRecord&) override {}
  void OnWindowEnd() override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* file = fmemopen(const_cast<uint8_t*>(data), size, "rb");
  if (file == nullptr) return 0;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, err);
  if (pcap == nullptr) {
    std::fclose(file);
    return 0;
  }
  // Small caps so that eviction and forgetting are exercised too.
  auscult::sensor::EngineOptions options;
  options.flows.max_flows = 16;
  options.devices.max_devices = 16;
  DiscardingSink sink;
  auscult::sensor::Engine engine(options, nullptr, &sink);
  const int link_type = pcap_datalink(pcap);
  struct pcap_pkthdr* header;
  const u_char* bytes;
  while (pcap_next_ex(pcap, &header, &bytes) == 1) {
    auscult::sensor::RawFrame frame;
    frame.data = bytes;
    frame.captured_length = header->caplen;
    frame.wire_length = header->len < header->caplen ? header->caplen : header->len;
    frame.timestamp = static_cast<int64_t>(header->ts.tv_sec) * 1000000000 + header->ts.tv_usec;
    frame.link_type = link_type;
    engine.Process(frame);
  }
  engine.Finish();
  pcap_close(pcap);  // closes the FILE too
  return 0;
}
