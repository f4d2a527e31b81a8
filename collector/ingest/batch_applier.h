#ifndef AUSCULT_COLLECTOR_INGEST_BATCH_APPLIER_H_
#define AUSCULT_COLLECTOR_INGEST_BATCH_APPLIER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auscult/v1/ingest.pb.h"
#include "collector/store/database.h"
#include "common/metrics.h"

namespace auscult::collector {

struct ApplierStats {
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  uint64_t failed = 0;
  uint64_t refused = 0;  // of revoked sensors or certificates
  uint64_t retries = 0;
  uint64_t database_errors = 0;  // statements that failed (retried or not), settling rounds included
  size_t queued = 0;             // waiting for a worker now
  size_t settling = 0;           // committed, waiting for the settling thread's round
};

// Applies batches to PostgreSQL on a fixed set of worker threads (one pool connection each), so
// that gRPC's threads never block on the database. Deadlocks and serialization failures are
// retried; a lost connection is reopened and retried; what still fails is reported to the caller,
// whose sensor will resend.
//
// A committed batch is not acknowledged at once: a settling thread of its own (one more pool
// connection) takes every batch committed since its last round and, once for all of them, merges
// the graph edge deltas they appended (MergePendingEdges), moves edges off the addresses they name
// (AbsorbHeldAddresses) and classifies the devices they queued; then it acknowledges them. So an
// acknowledged batch is fully visible, as when each batch did this itself, but under load one
// merge serves many batches and no two batches contend for the same edges (docs/performance.md).
class BatchApplier {
 public:
  using Done = std::function<void(absl::StatusOr<v1::BatchAck::Result>)>;
  // Runs on the settling thread's connection after batches committed and their edges merged, before
  // their sensors hear of them, with the earliest of their transactions' start times (the collector
  // classifies the devices they queued, so an acknowledged batch is fully visible). Its errors are
  // logged; they never fail the batches.
  using AfterApply = std::function<void(pqxx::connection_base&, int64_t batch_started_us)>;

  // `pool` needs `threads` + 1 connections: one for each worker and one for the settling thread.
  BatchApplier(ConnectionPool* pool, size_t threads, AfterApply after_apply = nullptr);
  ~BatchApplier();  // finishes queued work, then stops

  // `certificate_sha256`: of the certificate the batch came with ("" without TLS). A batch of a
  // revoked sensor or certificate is done with PERMISSION_DENIED, not retried.
  void Submit(std::shared_ptr<const v1::ObservationBatch> batch, std::string certificate_sha256, Done done);
  ApplierStats stats() const;
  // Writes the time from a batch's arrival to its acknowledgment (applied or duplicate) as a
  // Prometheus histogram.
  void WriteLatency(MetricsText& out) const;

 private:
  struct Job {
    std::shared_ptr<const v1::ObservationBatch> batch;
    std::string certificate_sha256;
    Done done;
    absl::Time submitted;
  };
  // A batch that committed (or was a duplicate), waiting for the settling thread.
  struct Committed {
    std::shared_ptr<const v1::ObservationBatch> batch;
    v1::BatchAck::Result result;
    int64_t started_us = 0;
    Done done;
    absl::Time submitted;
  };

  void Work();
  void Settle();
  // One round of the settling thread for `batches` (possibly none: a merge of what other
  // collectors, or a collector that died, left pending).
  void SettleRound(std::vector<Committed>& batches);
  void CountDatabaseError();
  absl::StatusOr<v1::BatchAck::Result> ApplyWithRetries(const v1::ObservationBatch& batch,
                                                        const std::string& certificate_sha256, int64_t* started_us);

  ConnectionPool* pool_;
  const AfterApply after_apply_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::condition_variable settle_cv_;
  std::vector<Committed> committed_;  // guarded by mu_
  bool workers_stopped_ = false;      // guarded by mu_
  ApplierStats stats_;                // guarded by mu_
  LatencyHistogram latency_{{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60}};
  std::vector<std::thread> workers_;
  std::thread settler_;
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_INGEST_BATCH_APPLIER_H_
