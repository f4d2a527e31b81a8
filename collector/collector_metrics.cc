#include "collector/collector_metrics.h"

#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "collector/store/queries.h"
#include "common/metrics.h"
#include "common/version.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {

void CollectorMetrics::RefreshInventory() {
  if (absl::Now() - counted_ < absl::Seconds(15)) return;
  std::optional<ConnectionPool::Lease> lease = pool_->TryAcquire();
  if (!lease) return;
  try {
    const InventoryCounts counts = CountInventory(lease->get());
    devices_ = counts.devices;
    edges_ = counts.graph_edges;
    sensors_ = counts.sensors;
    sensors_down_ = counts.sensors_down;
    database_up_ = true;
    counted_ = absl::Now();
  } catch (const pqxx::broken_connection& e) {
    lease->MarkBroken();
    database_up_ = false;
    spdlog::warn("metrics: counting the inventory: {}", e.what());
  } catch (const std::exception& e) {
    database_up_ = false;
    spdlog::warn("metrics: counting the inventory: {}", e.what());
  }
}

std::string CollectorMetrics::Render() {
  std::lock_guard lock(mu_);
  RefreshInventory();
  MetricsText m;
  m.Gauge("auscult_collector_info", "This collector's version (always 1)", 1, {{"version", kVersion}});
  m.Gauge("auscult_collector_start_time_seconds", "When this collector process started, seconds since the Unix epoch",
          absl::ToDoubleSeconds(started_ - absl::UnixEpoch()));
  m.Gauge("auscult_collector_ingest_streams", "Sensor streams open now", ingest_->active_streams());
  m.Gauge("auscult_collector_watchers", "Watch streams open now", events_->subscribers());
  const ApplierStats s = applier_->stats();
  m.Family("auscult_collector_batches_total", "counter",
           "Sensor batches by result: applied, duplicate (resent, stored before), failed (the sensor resends), "
           "refused (revoked sensor or certificate)");
  m.Sample("auscult_collector_batches_total", static_cast<double>(s.applied), {{"result", "applied"}});
  m.Sample("auscult_collector_batches_total", static_cast<double>(s.duplicates), {{"result", "duplicate"}});
  m.Sample("auscult_collector_batches_total", static_cast<double>(s.failed), {{"result", "failed"}});
  m.Sample("auscult_collector_batches_total", static_cast<double>(s.refused), {{"result", "refused"}});
  m.Counter("auscult_collector_batch_retries_total",
            "Batch transactions tried again (deadlock, conflict, lost connection)", static_cast<double>(s.retries));
  m.Counter("auscult_collector_database_errors_total",
            "Database statements that failed, whether or not a retry then succeeded",
            static_cast<double>(s.database_errors));
  m.Gauge("auscult_collector_batches_queued", "Batches waiting for a database worker", static_cast<double>(s.queued));
  m.Gauge("auscult_collector_batches_settling", "Batches committed, waiting for the round that acknowledges them",
          static_cast<double>(s.settling));
  applier_->WriteLatency(m);
  m.Gauge("auscult_collector_database_up", "Whether the last count of the inventory succeeded", database_up_ ? 1 : 0);
  if (counted_ != absl::InfinitePast()) {
    m.Gauge("auscult_collector_inventory_time_seconds",
            "When the counts below were taken, seconds since the Unix epoch",
            absl::ToDoubleSeconds(counted_ - absl::UnixEpoch()));
    m.Gauge("auscult_collector_devices", "Devices in the inventory (all sites)", static_cast<double>(devices_));
    m.Gauge("auscult_collector_graph_edges", "Edges of the communication graph (all sites)",
            static_cast<double>(edges_));
    m.Gauge("auscult_collector_sensors", "Sensors known", static_cast<double>(sensors_));
    m.Gauge("auscult_collector_sensors_down", "Sensors reported down (silent longer than --sensor_silent_after)",
            static_cast<double>(sensors_down_));
  }
  return m.str();
}

}  // namespace auscult::collector
