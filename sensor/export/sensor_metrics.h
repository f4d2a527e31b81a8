#ifndef AUSCULT_SENSOR_EXPORT_SENSOR_METRICS_H_
#define AUSCULT_SENSOR_EXPORT_SENSOR_METRICS_H_

// The sensor's Prometheus metrics (--metrics_listen; docs/deploy.md lists them). The packet thread
// owns every counter and is never slowed by a scrape: it renders a page from its counters now and
// then (about once a second, and before it waits for input) and the metrics server's thread serves
// the latest page.

#include <cstdint>
#include <mutex>
#include <string>

#include "auscult/v1/observation.pb.h"
#include "sensor/export/batch_transport.h"

namespace auscult::sensor {

struct SensorMetricsInput {
  v1::SensorInfo info;
  v1::SensorStats stats;  // as the next batch will carry them (anomalies by name included)
  TransportStats transport;
  bool live = false;
  bool spool = false;
  uint64_t flows_created = 0;
  uint64_t devices_tracked = 0;  // MACs in the device table now
  uint64_t devices_seen = 0;     // distinct MACs over the sensor's life
  uint64_t inputs_done = 0;      // capture files read to their end
  double start_time_seconds = 0;
  double now_seconds = 0;
};

std::string RenderSensorMetrics(const SensorMetricsInput& in);

// The latest page, shared between the packet thread and the metrics server's.
class MetricsPage {
 public:
  void Set(std::string page) {
    std::lock_guard lock(mu_);
    page_ = std::move(page);
  }
  std::string Get() const {
    std::lock_guard lock(mu_);
    return page_;
  }

 private:
  mutable std::mutex mu_;
  std::string page_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_EXPORT_SENSOR_METRICS_H_
