#ifndef AUSCULT_SENSOR_EXPORT_BATCH_EXPORTER_H_
#define AUSCULT_SENSOR_EXPORT_BATCH_EXPORTER_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "auscult/v1/observation.pb.h"
#include "sensor/export/batch_transport.h"
#include "sensor/observations.h"

namespace auscult::sensor {

struct BatchExporterOptions {
  v1::SensorInfo sensor;
  uint64_t epoch = 0;
  size_t max_observations = 1000;   // devices + flows per batch
  bool send_empty_batches = false;  // live mode: a window with nothing new still reports health
};

// Turns the packet path's observations into sequenced ObservationBatch messages and hands them to a
// transport: a batch is sealed when it is full or when a report window ends.
class BatchExporter : public ObservationSink {
 public:
  using StatsProvider = std::function<void(v1::SensorStats&)>;

  BatchExporter(BatchExporterOptions options, BatchTransport* transport, StatsProvider stats);

  void OnFlow(const FlowRecord& flow) override;
  void OnDevice(const DeviceRecord& device) override;
  void OnWindowEnd() override;
  // At the end of input: if no batch went out at all, one with just the sensor's health does, so
  // that the collector learns of the sensor and what it counted (e.g. a file of unsupported frames).
  void EnsureOneBatch();

  // The first transport error (sending is abandoned after it), or OK.
  const absl::Status& status() const { return status_; }
  uint64_t batches_sealed() const { return sequence_; }
  uint64_t flows_exported() const { return flows_exported_; }
  uint64_t devices_exported() const { return devices_exported_; }

 private:
  void Seal();
  v1::ObservationBatch& Current();

  BatchExporterOptions options_;
  BatchTransport* transport_;
  StatsProvider stats_;
  std::unique_ptr<v1::ObservationBatch> current_;
  size_t current_size_ = 0;
  uint64_t sequence_ = 0;
  uint64_t flows_exported_ = 0;
  uint64_t devices_exported_ = 0;
  absl::Status status_;
};

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_EXPORT_BATCH_EXPORTER_H_
