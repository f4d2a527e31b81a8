#ifndef AUSCULT_SENSOR_ENGINE_H_
#define AUSCULT_SENSOR_ENGINE_H_

#include <cstdint>
#include <vector>

#include "common/oui_database.h"
#include "sensor/capture/raw_frame.h"
#include "sensor/decode/decoder.h"
#include "sensor/flow/flow_table.h"
#include "sensor/flow/fragment_table.h"
#include "sensor/inventory/device_table.h"
#include "sensor/observations.h"
#include "sensor/parsers/tcp_os/tcp_os.h"

namespace auscult::sensor {

struct EngineOptions {
  FlowTableOptions flows;
  DeviceTableOptions devices;
  TimeNs report_interval = 10 * kNanosPerSecond;  // length of a report window, in packet time
  std::vector<uint16_t> vlans;                    // only these outer VLAN ids (0 = untagged); empty: all
  std::vector<FrameParser*> frame_parsers;        // link-layer protocols (LLDP, CDP)
  // SYN/SYN-ACK signatures are always reported; with a database, OS families too.
  const tcp_os::Database* tcp_os = nullptr;
};

struct EngineStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t malformed = 0;    // frames with at least one malformation counted
  uint64_t undecodable = 0;  // frames whose link layer could not be decoded at all
  uint64_t filtered = 0;     // frames outside the VLANs asked for
};

// The packet path of one sensor: decode → device table and flow table → observations to a sink.
// Single-threaded; packet time drives every timeout and window.
class Engine {
 public:
  Engine(const EngineOptions& options, const OuiDatabase* oui, ObservationSink* sink);

  void Process(const RawFrame& frame);
  // Lets time pass without a packet (an idle live interface), so windows and timeouts still end.
  void Tick(TimeNs now);
  // End of input: every flow and device is reported and the last window closed.
  void Finish();

  const EngineStats& stats() const { return stats_; }
  const AnomalyCounters& anomalies() const { return decoder_.anomalies(); }
  const FlowTable& flows() const { return flows_; }
  const DeviceTable& devices() const { return devices_; }

 private:
  void AdvanceTime(TimeNs now);

  EngineOptions options_;
  ObservationSink* sink_;
  Decoder decoder_;
  FlowTable flows_;
  FragmentTable fragments_;
  DeviceTable devices_;
  tcp_os::Fingerprinter fingerprinter_;
  PacketView view_;
  EngineStats stats_;
  TimeNs window_start_ = 0;
  TimeNs last_expire_ = 0;
  TimeNs latest_ = 0;
  bool started_ = false;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_ENGINE_H_
