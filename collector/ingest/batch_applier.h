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
#include "auscult/v1/ingest.pb.h"
#include "collector/store/database.h"

namespace auscult::collector {

struct ApplierStats {
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  uint64_t failed = 0;
  uint64_t refused = 0;  // of revoked sensors or certificates
  uint64_t retries = 0;
};

// Applies batches to PostgreSQL on a fixed set of worker threads (one pool connection each), so
// that gRPC's threads never block on the database. Deadlocks and serialization failures are
// retried; a lost connection is reopened and retried; what still fails is reported to the caller,
// whose sensor will resend.
class BatchApplier {
 public:
  using Done = std::function<void(absl::StatusOr<v1::BatchAck::Result>)>;
  // Runs on the same connection after a batch is committed, before the sensor hears of it, with
  // the batch transaction's start time (the collector classifies the devices the batch queued, so
  // an acknowledged batch is fully visible). Its errors are logged; they never fail the batch.
  using AfterApply = std::function<void(pqxx::connection_base&, int64_t batch_started_us)>;

  BatchApplier(ConnectionPool* pool, size_t threads, AfterApply after_apply = nullptr);
  ~BatchApplier();  // finishes queued work, then stops

  // `certificate_sha256`: of the certificate the batch came with ("" without TLS). A batch of a
  // revoked sensor or certificate is done with PERMISSION_DENIED, not retried.
  void Submit(std::shared_ptr<const v1::ObservationBatch> batch, std::string certificate_sha256, Done done);
  ApplierStats stats() const;

 private:
  void Work();
  // Graph edges a concurrent batch left on an address this batch showed a device holds, or the
  // other way round (collector/store/batch_writer.h, AbsorbHeldAddresses).
  void AbsorbAfterCommit(ConnectionPool::Lease& lease, const v1::ObservationBatch& batch);
  absl::StatusOr<v1::BatchAck::Result> ApplyWithRetries(const v1::ObservationBatch& batch,
                                                        const std::string& certificate_sha256);

  struct Job {
    std::shared_ptr<const v1::ObservationBatch> batch;
    std::string certificate_sha256;
    Done done;
  };
  ConnectionPool* pool_;
  const AfterApply after_apply_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  ApplierStats stats_;
  std::vector<std::thread> workers_;
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_INGEST_BATCH_APPLIER_H_
