// The only translation unit of the sensor that includes gRPC (it costs most of the build time).
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "auscult/v1/ingest.grpc.pb.h"
#include "common/logging.h"
#include "sensor/export/batch_transport.h"
#include "spdlog/spdlog.h"

namespace auscult::sensor {
namespace {

using Clock = std::chrono::steady_clock;

class GrpcTransport : public BatchTransport {
 public:
  GrpcTransport(GrpcTransportOptions options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)), stub_(v1::Ingest::NewStub(channel)), session_([this] { SessionLoop(); }) {}

  ~GrpcTransport() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    cv_.notify_all();
    session_.join();
  }

  absl::Status Send(std::unique_ptr<v1::ObservationBatch> batch) override {
    std::unique_lock lock(mu_);
    if (!refused_.ok()) return refused_;
    const auto deadline = DeadlineAfter(options_.send_timeout);
    // Wake up now and then to notice a stop request: a signal handler cannot notify a condition.
    while (unacked_.size() >= options_.max_unacknowledged) {
      if (StopRequested()) return absl::CancelledError("stopping: the collector did not take the last batches");
      const auto slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(200));
      if (cv_.wait_until(lock, slice, [&] { return unacked_.size() < options_.max_unacknowledged; })) break;
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat("collector ", options_.target, " acknowledged nothing for ",
                                                        absl::FormatDuration(options_.send_timeout), "; ",
                                                        unacked_.size(), " batches are waiting"));
      }
    }
    const uint64_t sequence = batch->sequence();
    unacked_.push_back(Pending{sequence, std::move(batch)});
    ++stats_.batches_sent;
    cv_.notify_all();
    return absl::OkStatus();
  }

  absl::Status Close(absl::Duration timeout) override {
    std::unique_lock lock(mu_);
    closing_ = true;
    cv_.notify_all();
    const bool done = cv_.wait_until(lock, DeadlineAfter(timeout), [&] { return session_done_; });
    if (!refused_.ok()) return refused_;
    if (done && unacked_.empty()) return absl::OkStatus();
    const size_t waiting = unacked_.size();
    stop_ = true;
    if (context_ != nullptr) context_->TryCancel();
    cv_.notify_all();
    return absl::DeadlineExceededError(absl::StrCat(waiting, " batches were not acknowledged by collector ",
                                                    options_.target, " within ", absl::FormatDuration(timeout),
                                                    last_error_.empty() ? "" : " (last error: " + last_error_ + ")"));
  }

  TransportStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  struct Pending {
    uint64_t sequence;
    std::unique_ptr<v1::ObservationBatch> batch;
  };

  bool StopRequested() const { return options_.stop_requested != nullptr && options_.stop_requested->load(); }

  static Clock::time_point DeadlineAfter(absl::Duration d) {
    if (d == absl::InfiniteDuration()) return Clock::time_point::max();
    return Clock::now() + absl::ToChronoNanoseconds(d);
  }

  // One stream per iteration: resend what is unacknowledged, then send new batches as they come;
  // a broken stream is reopened after a jittered, growing delay.
  void SessionLoop() {
    absl::BitGen random;
    absl::Duration backoff = absl::Milliseconds(200);
    for (;;) {
      grpc::ClientContext context;
      {
        std::lock_guard lock(mu_);
        if (stop_) break;
        context_ = &context;
        written_ = 0;
        broken_ = false;
      }
      const uint64_t acked_before = stats().batches_acknowledged;
      auto stream = stub_->Stream(&context);
      std::thread reader([&] { ReadAcks(stream.get()); });
      bool clean = false;
      for (;;) {
        std::unique_lock lock(mu_);
        cv_.wait(lock,
                 [&] { return stop_ || broken_ || written_ < unacked_.size() || (closing_ && unacked_.empty()); });
        if (stop_ || broken_) break;
        if (closing_ && unacked_.empty()) {
          clean = true;
          break;
        }
        // Deque elements keep their address when others are added or removed at the ends, and a
        // batch cannot be acknowledged (and popped) before it has been written.
        const v1::ObservationBatch* batch = unacked_[written_++].batch.get();
        lock.unlock();
        if (!stream->Write(*batch)) break;
      }
      bool stopping;
      {
        std::lock_guard lock(mu_);
        stopping = stop_;
      }
      // Cancel only when we are the ones giving up. When the collector ended the stream, half-close
      // instead (it fails at once on a dead call), so that Finish() returns the collector's status:
      // INVALID_ARGUMENT must be seen as such, or the refused batch would be resent forever.
      if (stopping) {
        context.TryCancel();
      } else {
        stream->WritesDone();
      }
      reader.join();
      const grpc::Status status = stream->Finish();
      std::unique_lock lock(mu_);
      context_ = nullptr;
      if (clean && status.ok()) break;
      if (stop_) break;
      if (!status.ok()) last_error_ = absl::StrCat(status.error_code(), ": ", status.error_message());
      if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
          status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
        // The collector will not take this sensor's batches with these credentials: resending
        // cannot help, and an operator must act (a certificate for this --sensor_id, of the site CA).
        refused_ = absl::PermissionDeniedError(
            absl::StrCat("collector ", options_.target, " refused this sensor: ", status.error_message()));
        stop_ = true;
        break;
      }
      if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && !unacked_.empty()) {
        // Batches are applied in order, so the refused one is the oldest unacknowledged. Sending it
        // again would be refused again: drop it, loudly.
        spdlog::error("collector {} refused batch {}: {}; dropping it", options_.target, unacked_.front().sequence,
                      status.error_message());
        unacked_.pop_front();
        ++stats_.batches_rejected;
        cv_.notify_all();
      } else {
        spdlog::warn("stream to collector {} ended ({}: {}); {} batches to resend", options_.target,
                     static_cast<int>(status.error_code()), status.error_message(), unacked_.size());
      }
      ++stats_.reconnects;
      if (stats_.batches_acknowledged > acked_before) backoff = absl::Milliseconds(200);
      const absl::Duration delay = backoff * absl::Uniform(random, 0.5, 1.5);
      backoff = std::min(backoff * 2, absl::Seconds(10));
      cv_.wait_for(lock, absl::ToChronoNanoseconds(delay), [&] { return stop_; });
      if (stop_) break;
    }
    std::lock_guard lock(mu_);
    session_done_ = true;
    cv_.notify_all();
  }

  void ReadAcks(grpc::ClientReaderWriter<v1::ObservationBatch, v1::BatchAck>* stream) {
    v1::BatchAck ack;
    while (stream->Read(&ack)) {
      std::lock_guard lock(mu_);
      if (!unacked_.empty() && unacked_.front().sequence == ack.sequence()) {
        unacked_.pop_front();
        if (written_ > 0) --written_;
        ++stats_.batches_acknowledged;
        cv_.notify_all();
      } else {
        spdlog::warn("collector {} acknowledged batch {} out of order; ignored", options_.target, ack.sequence());
      }
    }
    std::lock_guard lock(mu_);
    broken_ = true;
    cv_.notify_all();
  }

  const GrpcTransportOptions options_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> unacked_;
  size_t written_ = 0;  // unacked_[0, written_) went out on the current stream
  bool broken_ = false;
  bool closing_ = false;
  bool stop_ = false;
  bool session_done_ = false;
  grpc::ClientContext* context_ = nullptr;
  std::string last_error_;
  absl::Status refused_;  // the collector refused our credentials: no more sending
  TransportStats stats_;
  std::thread session_;  // last: starts after everything above is constructed
};

}  // namespace

absl::StatusOr<std::unique_ptr<BatchTransport>> MakeGrpcTransport(const GrpcTransportOptions& options) {
  if (options.insecure == !options.tls.empty()) {
    return absl::InvalidArgumentError(
        options.insecure ? "--insecure and --tls_*: choose one"
                         : "--collector: give --tls_ca, --tls_cert and --tls_key (deploy/pki.sh makes them), or "
                           "--insecure to send in plain text on a trusted network");
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(
      options.target, options.insecure ? grpc::InsecureChannelCredentials() : ClientTlsCredentials(options.tls), args);
  const auto deadline = std::chrono::system_clock::now() + absl::ToChronoNanoseconds(options.connect_timeout);
  if (!channel->WaitForConnected(deadline)) {
    return absl::UnavailableError(absl::StrCat("cannot reach collector at ", options.target, " within ",
                                               absl::FormatDuration(options.connect_timeout),
                                               " (is auscult-collector running and listening there?)"));
  }
  return std::unique_ptr<BatchTransport>(new GrpcTransport(options, std::move(channel)));
}

}  // namespace auscult::sensor
