#include "collector/ingest/ingest_service.h"

#include "absl/strings/str_cat.h"
#include "collector/ingest/batch_validator.h"
#include "common/logging.h"
#include "common/text.h"
#include "common/tls.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

class StreamReactor final : public grpc::ServerBidiReactor<v1::ObservationBatch, v1::BatchAck> {
 public:
  StreamReactor(BatchApplier* applier, std::atomic<int>* active_streams, int max_streams,
                const CertificateVerifier* verifier, grpc::CallbackServerContext* context)
      : applier_(applier), active_streams_(active_streams), peer_(context->peer()) {
    const int already = active_streams_->fetch_add(1);  // OnDone gives it back, whatever happens
    // Over mutual TLS the stream speaks for the sensor its certificate names, and only for it
    // (directly, or forwarded by a balancer's proxy: connection).
    absl::StatusOr<std::optional<Caller>> caller = IdentifyCaller(*context, verifier);
    if (!caller.ok()) {
      AUSCULT_LOG_LIMITED(spdlog::level::warn, "refused a sensor stream from {}: {}", peer_,
                          Printable(AsStd(caller.status().message()), 256));
      Finish(ToGrpc(caller.status()));
      return;
    }
    if (caller->has_value()) {
      peer_ = (*caller)->address;
      if ((*caller)->identity.role != "sensor") {
        AUSCULT_LOG_LIMITED(spdlog::level::warn, "refused a sensor stream from {}: certificate of {}:{}", peer_,
                            (*caller)->identity.role, Printable((*caller)->identity.name, 64));
        Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                            "only a sensor certificate (common name sensor:<id>) may send observations"));
        return;
      }
      certified_id_ = (*caller)->identity.name;
      // Revocations name certificates by this (collector/store/revocations.h).
      certificate_sha256_ = (*caller)->certificate_sha256;
    }
    if (already >= max_streams) {
      Finish(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrCat("the collector serves at most ", max_streams, " sensor streams (--max_sensors)")));
      return;
    }
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the sensor closed its side (or went away); nothing of ours is in flight
      Finish(grpc::Status::OK);
      return;
    }
    if (absl::Status s = ValidateBatch(incoming_); !s.ok()) {
      // The id is unchecked here: cut and defuse it before it reaches a log line.
      AUSCULT_LOG_LIMITED(spdlog::level::warn, "refused a batch from '{}' ({}): {}",
                          Printable(incoming_.sensor().sensor_id(), 64), peer_, Printable(AsStd(s.message()), 512));
      Finish(ToGrpc(s));
      return;
    }
    if (!certified_id_.empty() && incoming_.sensor().sensor_id() != certified_id_) {
      AUSCULT_LOG_LIMITED(spdlog::level::warn,
                          "refused a batch from {}: its certificate is for sensor {}, the batch says '{}'", peer_,
                          certified_id_, Printable(incoming_.sensor().sensor_id(), 64));
      Finish(grpc::Status(
          grpc::StatusCode::PERMISSION_DENIED,
          absl::StrCat("this connection's certificate is for sensor '", certified_id_, "'; a batch of sensor '",
                       Printable(incoming_.sensor().sensor_id(), 64), "' is refused")));
      return;
    }
    // A stream speaks for one sensor; a second id on it is a broken or lying sensor.
    if (sensor_id_.empty()) {
      sensor_id_ = incoming_.sensor().sensor_id();
      spdlog::info("sensor {} connected from {}", sensor_id_, peer_);
    } else if (incoming_.sensor().sensor_id() != sensor_id_) {
      Finish(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrCat("batch ", incoming_.sequence(), ": sensor id changed from '", sensor_id_, "' to '",
                                    Printable(incoming_.sensor().sensor_id(), 64), "' within one stream")));
      return;
    }
    auto batch = std::make_shared<v1::ObservationBatch>();
    batch->Swap(&incoming_);
    ack_.set_epoch(batch->epoch());
    ack_.set_sequence(batch->sequence());
    // A revoked sensor or certificate is refused here, with PERMISSION_DENIED, also in the middle
    // of a stream: the check is in every batch's transaction.
    applier_->Submit(batch, certificate_sha256_, [this](absl::StatusOr<v1::BatchAck::Result> result) {
      if (!result.ok()) {
        Finish(ToGrpc(result.status()));
        return;
      }
      ack_.set_result(*result);
      StartWrite(&ack_);
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "sensor went away before its acknowledgment"));
      return;
    }
    StartRead(&incoming_);
  }

  void OnDone() override {
    if (!sensor_id_.empty()) spdlog::info("sensor {} disconnected ({})", sensor_id_, peer_);
    active_streams_->fetch_sub(1);
    delete this;
  }

 private:
  BatchApplier* applier_;
  std::atomic<int>* active_streams_;
  std::string peer_;                // the sensor's address (through a balancer: as it reported it, and which one)
  std::string certified_id_;        // the sensor id its TLS certificate names ("" without TLS)
  std::string certificate_sha256_;  // and that certificate's SHA-256 ("" without TLS)
  std::string sensor_id_;
  v1::ObservationBatch incoming_;
  v1::BatchAck ack_;
};

}  // namespace

grpc::ServerBidiReactor<v1::ObservationBatch, v1::BatchAck>* IngestService::Stream(
    grpc::CallbackServerContext* context) {
  return new StreamReactor(applier_, &active_streams_, max_streams_, verifier_, context);
}

}  // namespace auscult::collector
