#ifndef AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_
#define AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_

#include "auscult/v1/ingest.grpc.pb.h"
#include "collector/ingest/batch_applier.h"

namespace auscult::collector {

// The gRPC ingest service (callback API): per stream, read a batch, validate it, apply it on the
// applier's threads, acknowledge it after commit, read the next. One batch per stream is in flight,
// which bounds the collector's memory by the number of connected sensors.
class IngestService final : public v1::Ingest::CallbackService {
 public:
  explicit IngestService(BatchApplier* applier) : applier_(applier) {}
  grpc::ServerBidiReactor<v1::ObservationBatch, v1::BatchAck>* Stream(grpc::CallbackServerContext* context) override;

 private:
  BatchApplier* applier_;
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_
