#ifndef AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_
#define AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_

#include <atomic>

#include "auscult/v1/ingest.grpc.pb.h"
#include "collector/ingest/batch_applier.h"
#include "common/tls.h"

namespace auscult::collector {

// The gRPC ingest service (callback API): per stream, read a batch, validate it, apply it on the
// applier's threads, acknowledge it after commit, read the next. One batch per stream is in flight,
// which bounds the collector's memory by the number of connected sensors.
class IngestService final : public v1::Ingest::CallbackService {
 public:
  // `max_streams` is this process's limit (--max_sensors): each collector behind a balancer has
  // its own. `verifier` checks certificates a proxy forwards (null without TLS).
  IngestService(BatchApplier* applier, int max_streams, const CertificateVerifier* verifier = nullptr)
      : applier_(applier), max_streams_(max_streams), verifier_(verifier) {}
  grpc::ServerBidiReactor<v1::ObservationBatch, v1::BatchAck>* Stream(grpc::CallbackServerContext* context) override;

  int active_streams() const { return active_streams_.load(); }

 private:
  BatchApplier* applier_;
  const int max_streams_;
  const CertificateVerifier* const verifier_;
  std::atomic<int> active_streams_{0};
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_INGEST_INGEST_SERVICE_H_
