#include "sensor/export/sensor_metrics.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "common/metrics.h"

namespace auscult::sensor {

std::string RenderSensorMetrics(const SensorMetricsInput& in) {
  MetricsText m;
  const v1::SensorStats& s = in.stats;
  m.Gauge("auscult_sensor_info", "This sensor: its id, site, wing and version (always 1)", 1,
          {{"sensor_id", in.info.sensor_id()},
           {"site", in.info.site()},
           {"wing", in.info.wing()},
           {"version", in.info.version()},
           {"mode", in.live ? "live" : "file"}});
  m.Gauge("auscult_sensor_start_time_seconds", "When this sensor process started, seconds since the Unix epoch",
          in.start_time_seconds);
  m.Gauge("auscult_sensor_metrics_time_seconds",
          "When the packet thread last rendered these metrics (a stale value: it is stuck or starved)", in.now_seconds);
  m.Counter("auscult_sensor_packets_total", "Frames captured or read", static_cast<double>(s.packets_received()));
  m.Counter("auscult_sensor_bytes_total", "Bytes of the frames captured or read, as on the wire",
            static_cast<double>(s.bytes_received()));
  m.Family("auscult_sensor_packets_dropped_total", "counter",
           "Frames lost before the sensor saw them, by cause: kernel (capture buffer full), interface (the NIC), "
           "sensor (the sensor's own limits)");
  m.Sample("auscult_sensor_packets_dropped_total", static_cast<double>(s.packets_dropped_kernel()),
           {{"cause", "kernel"}});
  m.Sample("auscult_sensor_packets_dropped_total", static_cast<double>(s.packets_dropped_interface()),
           {{"cause", "interface"}});
  m.Sample("auscult_sensor_packets_dropped_total", static_cast<double>(s.packets_dropped_sensor()),
           {{"cause", "sensor"}});
  m.Counter("auscult_sensor_packets_malformed_total", "Frames with at least one malformation",
            static_cast<double>(s.packets_malformed()));
  // Sorted by name, so that the page does not depend on the order of a hash map.
  std::vector<std::pair<std::string, uint64_t>> anomalies(s.anomalies().begin(), s.anomalies().end());
  std::sort(anomalies.begin(), anomalies.end());
  m.Family("auscult_sensor_anomalies_total", "counter",
           "Named anomalies: malformed headers by kind, parser anomalies by protocol, limits reached");
  for (const auto& [name, n] : anomalies) {
    m.Sample("auscult_sensor_anomalies_total", static_cast<double>(n), {{"name", name}});
  }
  m.Gauge("auscult_sensor_flows_active", "Flows tracked now", static_cast<double>(s.flows_active()));
  m.Counter("auscult_sensor_flows_total", "Flows seen", static_cast<double>(in.flows_created));
  m.Counter("auscult_sensor_flows_evicted_total", "Flows reported early because the flow table was full",
            static_cast<double>(s.flows_evicted()));
  m.Gauge("auscult_sensor_devices", "Devices (MAC addresses) tracked now", static_cast<double>(in.devices_tracked));
  m.Counter("auscult_sensor_devices_seen_total", "Distinct MAC addresses seen", static_cast<double>(in.devices_seen));
  m.Counter("auscult_sensor_inputs_done_total", "Capture files read to their end", static_cast<double>(in.inputs_done));
  const TransportStats& t = in.transport;
  m.Counter("auscult_sensor_batches_sent_total", "Batches sent to the collector (a resend counts again)",
            static_cast<double>(t.batches_sent));
  m.Counter("auscult_sensor_batches_acknowledged_total", "Batches the collector acknowledged",
            static_cast<double>(t.batches_acknowledged));
  m.Counter("auscult_sensor_batches_rejected_total", "Batches the collector refused as invalid (dropped, logged)",
            static_cast<double>(t.batches_rejected));
  m.Gauge("auscult_sensor_batches_unacknowledged", "Batches sent and not yet acknowledged",
          static_cast<double>(t.batches_sent >= t.batches_acknowledged + t.batches_rejected
                                  ? t.batches_sent - t.batches_acknowledged - t.batches_rejected
                                  : 0));
  m.Counter("auscult_sensor_reconnects_total", "Streams to the collector opened again after one broke",
            static_cast<double>(t.reconnects));
  if (in.spool) {
    m.Gauge("auscult_sensor_spool_batches", "Batches held in the spool folder (sent or not, unacknowledged)",
            static_cast<double>(t.spool_batches));
    m.Gauge("auscult_sensor_spool_bytes", "Bytes held in the spool folder", static_cast<double>(t.spool_bytes));
    m.Counter("auscult_sensor_spool_dropped_total", "Batches the spool gave up: full (oldest first) or unreadable",
              static_cast<double>(t.spool_dropped));
  }
  return m.str();
}

}  // namespace auscult::sensor
