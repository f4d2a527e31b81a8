#ifndef AUSCULT_SENSOR_EXPORT_BATCH_TRANSPORT_H_
#define AUSCULT_SENSOR_EXPORT_BATCH_TRANSPORT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auscult/v1/observation.pb.h"
#include "common/tls.h"
#include "sensor/export/spool.h"

namespace auscult::sensor {

struct TransportStats {
  uint64_t batches_sent = 0;
  uint64_t batches_acknowledged = 0;
  uint64_t batches_rejected = 0;  // refused by the collector as invalid; dropped after logging
  uint64_t reconnects = 0;
  // With a spool (--spool_dir):
  uint64_t spool_recovered = 0;  // batches of earlier runs found at start, to send first
  uint64_t spool_dropped = 0;    // given up unsent: oldest first when the spool was full, or unreadable
  uint64_t spool_batches = 0;    // held now (sent or not, unacknowledged)
  uint64_t spool_bytes = 0;
};

// Where sealed batches go: the collector over gRPC, JSON lines on stdout, or nowhere.
class BatchTransport {
 public:
  virtual ~BatchTransport() = default;
  // Takes a sealed batch. May block while too many batches await acknowledgment (backpressure).
  virtual absl::Status Send(std::unique_ptr<v1::ObservationBatch> batch) = 0;
  // Waits until every batch sent so far is acknowledged or `timeout` passes.
  virtual absl::Status Close(absl::Duration timeout) = 0;
  virtual TransportStats stats() const = 0;
};

// --output=jsonl: one batch per line in protobuf's JSON mapping (proto field names), on stdout.
std::unique_ptr<BatchTransport> MakeJsonLinesTransport();
// --output=null: discards batches (for benchmarks).
std::unique_ptr<BatchTransport> MakeNullTransport();

struct GrpcTransportOptions {
  std::string target;     // HOST:PORT of the collector
  bool insecure = false;  // plain text, unauthenticated (a trusted network); else `tls`
  TlsFiles tls;           // mutual TLS: the site CA, this sensor's certificate (sensor:<id>) and key
  absl::Duration connect_timeout = absl::Seconds(10);
  size_t max_unacknowledged = 64;  // batches in flight before Send() blocks
  // How long Send() may block on a collector that does not acknowledge (file mode gives up; a live
  // sensor waits, since the kernel buffer and its drop counters take the overflow).
  absl::Duration send_timeout = absl::InfiniteDuration();
  // Set (from a signal handler) when the sensor is asked to stop: a Send() blocked on a collector
  // that does not answer gives up, so that the sensor can still exit.
  const std::atomic<bool>* stop_requested = nullptr;
  // The disk spool (not owned; may be null). With it, Send() stores each batch there first and
  // returns without waiting for the collector; only max_unacknowledged batches are in memory and on
  // the wire at once, the rest wait on disk. The batches an earlier run left are sent first.
  Spool* spool = nullptr;
  uint64_t spool_max_bytes = 1ull << 30;
  // When the spool is full: a live sensor drops the oldest batch not yet on the wire (counted and
  // logged; packets it cannot buffer are lost anyway), a file replay waits (up to send_timeout).
  bool drop_when_spool_full = true;
};
// Connects to the collector (failing if it cannot within connect_timeout, unless there is a spool to
// hold the batches meanwhile) and streams batches, resending unacknowledged ones after a broken stream.
absl::StatusOr<std::unique_ptr<BatchTransport>> MakeGrpcTransport(const GrpcTransportOptions& options);

}  // namespace auscult::sensor

#endif  // AUSCULT_SENSOR_EXPORT_BATCH_TRANSPORT_H_
