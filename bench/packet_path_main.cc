// Benchmark of the sensor's packet path against the floor of a bare libpcap read loop, on the same
// file in the same run, plus the memory of a million concurrent flows and the allocations made per
// packet once flows are known. Not a test: it prints figures (see docs/performance.md).
//
//   bench/run_packet_path_bench.sh          builds the input from ../shared/captures/mixed
//   build/bin/auscult-bench-packet-path --input=big.pcap [--repeat=3]
//   build/bin/auscult-bench-packet-path --flood=1000000
#include <pcap/dlt.h>
#include <pcap/pcap.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "absl/flags/flag.h"
#include "common/flags.h"
#include "sensor/capture/capture_file.h"
#include "sensor/engine.h"
#include "sensor/export/batch_exporter.h"
#include "sensor/export/batch_transport.h"
#include "sensor/parsers/registry.h"

ABSL_FLAG(std::string, input, "", "Capture file to read (pcap or pcapng)");
ABSL_FLAG(int32_t, repeat, 3, "Runs of each measurement; the best is reported");
ABSL_FLAG(int64_t, flood, 0, "Instead: this many concurrent one-packet TCP flows, then report peak memory");

// Counts heap allocations, to show that the steady packet path makes none.
static std::atomic<uint64_t> g_allocations{0};
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace auscult::sensor {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// (a) The floor: libpcap reading the file and counting, nothing else.
uint64_t BarePcapLoop(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) {
    std::fprintf(stderr, "libpcap: %s\n", err);
    std::exit(1);
  }
  uint64_t n = 0;
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) ++n;
  pcap_close(p);
  return n;
}

// What auscult-sensor runs with: every parser, the frame parsers, the shipped TCP fingerprint file
// and Debian's OUI registries when installed.
EngineOptions SensorOptions() {
  EngineOptions options;
  options.flows.parsers = Parsers();
  options.frame_parsers = FrameParsers();
  options.tcp_os = tcp_os::ShippedDatabase();
  return options;
}
const OuiDatabase* Oui() {
  static const OuiDatabase* oui = [] {
    auto db = OuiDatabase::Load("/usr/share/ieee-data");
    return db.ok() ? db->release() : nullptr;
  }();
  return oui;
}

// (b) The sensor: our reader, decoding, device and flow tables, every shipped parser, batches built
// and handed to a null transport.
uint64_t SensorPath(const std::string& path, uint64_t* flows) {
  auto transport = MakeNullTransport();
  BatchExporterOptions export_options;
  export_options.sensor.set_sensor_id("bench");
  export_options.epoch = 1;
  BatchExporter exporter(export_options, transport.get(), nullptr);
  const EngineOptions options = SensorOptions();
  Engine engine(options, Oui(), &exporter);
  auto file = CaptureFile::Open(path);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", std::string(file.status().message()).c_str());
    std::exit(1);
  }
  RawFrame frame;
  while (*(*file)->Next(frame) == PacketSource::ReadResult::kFrame) engine.Process(frame);
  engine.Finish();
  *flows = engine.flows().stats().flows_created;
  return engine.stats().packets;
}

// Allocations per packet once every flow and device is known: the file's frames a second time
// through the same engine (its clock does not move backwards, so no window or timeout fires).
double SteadyAllocationsPerPacket(const std::string& path) {
  auto transport = MakeNullTransport();
  BatchExporterOptions export_options;
  export_options.sensor.set_sensor_id("bench");
  export_options.epoch = 1;
  BatchExporter exporter(export_options, transport.get(), nullptr);
  EngineOptions options = SensorOptions();
  options.flows.idle_timeout = options.flows.active_timeout = options.report_interval =
      1000LL * 24 * 3600 * kNanosPerSecond;
  Engine engine(options, Oui(), &exporter);
  uint64_t packets = 0;
  uint64_t allocations = 0;
  for (int pass = 0; pass < 2; ++pass) {
    auto file = CaptureFile::Open(path);
    RawFrame frame;
    // The reader's own buffer is allocated at open; count only the packet path.
    const uint64_t before = g_allocations.load();
    uint64_t n = 0;
    while (*(*file)->Next(frame) == PacketSource::ReadResult::kFrame) {
      engine.Process(frame);
      ++n;
    }
    if (pass == 1) {
      allocations = g_allocations.load() - before;
      packets = n;
    }
  }
  return packets ? static_cast<double>(allocations) / static_cast<double>(packets) : 0;
}

int Flood(int64_t count) {
  class Discard : public ObservationSink {
    void OnFlow(const FlowRecord&) override {}
    void OnDevice(const DeviceRecord&) override {}
    void OnWindowEnd() override {}
  } sink;
  EngineOptions options;  // defaults: --max_flows 1000000, --max_memory_mb 256
  options.flows.idle_timeout = 3600 * kNanosPerSecond;
  Engine engine(options, nullptr, &sink);
  const long before = PeakRssKb();
  // Ethernet/IPv4/TCP SYNs from 10.x.y.z:port to 192.0.2.1:80: every one a new flow.
  uint8_t f[54] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x08, 0x00,
                   0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10,   0,
                   0,    0,    192,  0,    2,    1,    0,    0,    0x00, 0x50, 0,    0,    0,    1,
                   0,    0,    0,    0,    0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
  const auto start = Clock::now();
  for (int64_t i = 0; i < count; ++i) {
    f[27] = static_cast<uint8_t>(i >> 16);
    f[28] = static_cast<uint8_t>(i >> 8);
    f[29] = static_cast<uint8_t>(i);
    f[34] = static_cast<uint8_t>(1024 + (i >> 24));
    RawFrame frame{f, sizeof f, sizeof f, 1700000000LL * kNanosPerSecond + i * 1000, DLT_EN10MB};
    engine.Process(frame);
  }
  const double seconds = Seconds(Clock::now() - start);
  std::printf("flood: %lld one-packet flows in %.2f s (%.0f flows/s)\n", static_cast<long long>(count), seconds,
              count / seconds);
  std::printf("flood: %zu flows held (capacity %zu), %llu evicted\n", engine.flows().size(), engine.flows().capacity(),
              static_cast<unsigned long long>(engine.flows().stats().flows_evicted));
  std::printf("flood: peak RSS %.1f MiB (%.1f MiB before), %zu bytes per flow slot\n", PeakRssKb() / 1024.0,
              before / 1024.0, FlowTable::BytesPerFlow());
  return 0;
}

int Run() {
  if (const int64_t flood = absl::GetFlag(FLAGS_flood); flood > 0) return Flood(flood);
  const std::string input = absl::GetFlag(FLAGS_input);
  if (input.empty()) {
    std::fprintf(stderr, "give --input=FILE or --flood=N\n");
    return 2;
  }
  double best_floor = 0, best_sensor = 0;
  uint64_t packets = 0, flows = 0;
  for (int i = 0; i < absl::GetFlag(FLAGS_repeat); ++i) {
    auto t0 = Clock::now();
    packets = BarePcapLoop(input);
    const double floor = packets / Seconds(Clock::now() - t0);
    t0 = Clock::now();
    const uint64_t seen = SensorPath(input, &flows);
    const double sensor = seen / Seconds(Clock::now() - t0);
    best_floor = std::max(best_floor, floor);
    best_sensor = std::max(best_sensor, sensor);
    std::printf("run %d: floor %.0f pps, sensor %.0f pps\n", i + 1, floor, sensor);
  }
  std::printf("input: %s, %llu packets, %llu flows, %zu parsers\n", input.c_str(),
              static_cast<unsigned long long>(packets), static_cast<unsigned long long>(flows), Parsers().size());
  std::printf("(a) bare libpcap loop: %.0f packets/s\n", best_floor);
  std::printf("(b) sensor packet path: %.0f packets/s\n", best_sensor);
  std::printf("ratio b/a: %.2f (one core)\n", best_sensor / best_floor);
  std::printf("steady path: %.4f heap allocations per packet (flows and devices known)\n",
              SteadyAllocationsPerPacket(input));
  std::printf("peak RSS: %.1f MiB\n", PeakRssKb() / 1024.0);
  return 0;
}

}  // namespace
}  // namespace auscult::sensor

int main(int argc, char** argv) {
  auscult::ParseFlags(argc, argv, "auscult-bench-packet-path",
                      "Sensor packet path vs a bare libpcap loop on the same file; or --flood=N for the memory of N "
                      "concurrent flows.");
  return auscult::sensor::Run();
}
