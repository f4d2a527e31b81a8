#ifndef AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_
#define AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_

#include <atomic>

#include "auscult/v1/ingest.grpc.pb.h"
#include "collector/ingest/batch_applier.h"

namespace auscult::collector {

// The gRPC ingest service (callback API): per stream, read a batch, validate it, apply it on the
// applier's threads, acknowledge it after commit, read the next. One batch per stream is in flight,
// which bounds the collector's memory by the number of connected sensors.
class IngestService final : public v1::Ingest::CallbackService {
 public:
  IngestService(BatchApplier* applier, int max_streams) : applier_(applier), max_streams_(max_streams) {}
  grpc::ServerBidiReactor<v1::ObservationBatch, v1::BatchAck>* Stream(grpc::CallbackServerContext* context) override;

  int active_streams() const { return active_streams_.load(); }

 private:
  BatchApplier* applier_;
  const int max_streams_;
  std::atomic<int> active_streams_{0};
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_
