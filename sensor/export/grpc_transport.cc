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
      : options_(std::move(options)), stub_(v1::Ingest::NewStub(channel)) {
    Recover();  // before the first Send(): an earlier run's batches go out first
    session_ = std::thread([this] { SessionLoop(); });
  }

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
    if (options_.spool != nullptr) return SendSpooled(std::move(batch));
    std::unique_lock lock(mu_);
    if (!refused_.ok()) return refused_;
    if (auto s = WaitFor(lock, [&] { return unacked_.size() < options_.max_unacknowledged; },
                         "batches are waiting");
        !s.ok()) {
      return s;
    }
    const uint64_t epoch = batch->epoch();
    const uint64_t sequence = batch->sequence();
    unacked_.push_back(Pending{epoch, sequence, 0, std::shared_ptr<const v1::ObservationBatch>(std::move(batch))});
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
    return absl::DeadlineExceededError(absl::StrCat(
        waiting, " batches were not acknowledged by collector ", options_.target, " within ",
        absl::FormatDuration(timeout), last_error_.empty() ? "" : " (last error: " + last_error_ + ")",
        options_.spool == nullptr ? ""
                                  : absl::StrCat("; they stay in spool ", options_.spool->dir(),
                                                 " and are sent at the next start with the same --spool_dir")));
  }

  TransportStats stats() const override {
    std::lock_guard lock(mu_);
    TransportStats out = stats_;
    if (options_.spool != nullptr) {
      out.spool_batches = unacked_.size();
      out.spool_bytes = spool_bytes_;
    }
    return out;
  }

 private:
  struct Pending {
    uint64_t epoch;
    uint64_t sequence;
    uint64_t bytes;  // in the spool (0 without one)
    // Null while the batch waits only on disk; loaded when its turn on the wire comes. Shared, so
    // that the session thread can write it to the stream without holding the lock.
    std::shared_ptr<const v1::ObservationBatch> batch;
  };

  // Waits (lock held) until `ready`, a stop request or send_timeout. Wakes up now and then to notice
  // a stop request: a signal handler cannot notify a condition.
  template <typename Ready>
  absl::Status WaitFor(std::unique_lock<std::mutex>& lock, Ready ready, const char* waiting_what) {
    const auto deadline = DeadlineAfter(options_.send_timeout);
    while (!ready()) {
      if (!refused_.ok()) return refused_;
      if (StopRequested()) return absl::CancelledError("stopping: the collector did not take the last batches");
      const auto slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(200));
      if (cv_.wait_until(lock, slice, ready)) break;
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat("collector ", options_.target, " acknowledged nothing for ",
                                                        absl::FormatDuration(options_.send_timeout), "; ",
                                                        unacked_.size(), " ", waiting_what));
      }
    }
    return absl::OkStatus();
  }

  // With a spool: make room (drop or wait), store the batch on disk, then queue it. Disk I/O happens
  // outside the lock; Send() has a single caller (the packet thread), so the room it made stays made.
  absl::Status SendSpooled(std::unique_ptr<v1::ObservationBatch> batch) {
    const uint64_t size = batch->ByteSizeLong();
    std::vector<Spool::Entry> dropped;
    {
      std::unique_lock lock(mu_);
      if (!refused_.ok()) return refused_;
      auto fits = [&] { return spool_bytes_ + size <= options_.spool_max_bytes || unacked_.empty(); };
      if (options_.drop_when_spool_full) {
        // Only batches not yet on the wire: those on it are acknowledged (or resent) soon.
        while (!fits() && written_ < unacked_.size()) dropped.push_back(DropLocked(written_));
        if (!dropped.empty()) {
          // Once a window while the collector is away: limited, the count since start says the rest.
          AUSCULT_LOG_LIMITED(
              spdlog::level::err,
              "spool {} is full ({} MB, --spool_max_mb): dropped the {} oldest unsent batches, {} dropped since start; "
              "collector {} is not keeping up or unreachable",
              options_.spool->dir(), options_.spool_max_bytes >> 20, dropped.size(), stats_.spool_dropped,
              options_.target);
        }
      } else if (auto s = WaitFor(lock, fits, "batches fill the spool"); !s.ok()) {
        return s;
      }
    }
    for (const Spool::Entry& e : dropped) options_.spool->Remove(e);
    auto stored = options_.spool->Write(*batch);
    if (!stored.ok()) return stored.status();  // a full or failing disk: say so rather than lose silently
    std::lock_guard lock(mu_);
    // Batches beyond the window on the wire wait on disk only: memory stays bounded however long
    // the collector is away.
    std::shared_ptr<const v1::ObservationBatch> in_memory;
    if (unacked_.size() < options_.max_unacknowledged) in_memory = std::move(batch);
    unacked_.push_back(Pending{stored->epoch, stored->sequence, stored->bytes, std::move(in_memory)});
    spool_bytes_ += stored->bytes;
    ++stats_.batches_sent;
    cv_.notify_all();
    return absl::OkStatus();
  }

  // Removes unacked_[index] (never one on the wire) from the queue and the accounting; the caller
  // deletes its file outside the lock.
  Spool::Entry DropLocked(size_t index) {
    const Pending& p = unacked_[index];
    Spool::Entry e{p.epoch, p.sequence, p.bytes};
    spool_bytes_ -= p.bytes;
    unacked_.erase(unacked_.begin() + static_cast<std::ptrdiff_t>(index));
    ++stats_.spool_dropped;
    cv_.notify_all();
    return e;
  }

  // Queues what earlier runs left in the spool, oldest first, ahead of anything new; over the bound,
  // the oldest go.
  void Recover() {
    if (options_.spool == nullptr) return;
    std::vector<Spool::Entry> dropped;
    {
      std::lock_guard lock(mu_);
      for (const Spool::Entry& e : options_.spool->recovered()) {
        unacked_.push_back(Pending{e.epoch, e.sequence, e.bytes, nullptr});
        spool_bytes_ += e.bytes;
      }
      stats_.spool_recovered = unacked_.size();
      while (spool_bytes_ > options_.spool_max_bytes && !unacked_.empty()) dropped.push_back(DropLocked(0));
      if (!unacked_.empty()) {
        spdlog::info("spool {}: {} unacknowledged batches ({:.1f} MB) of earlier runs to send first",
                     options_.spool->dir(), unacked_.size(), static_cast<double>(spool_bytes_) / 1e6);
      }
      if (!dropped.empty()) {
        spdlog::error("spool {} holds more than --spool_max_mb: dropped its {} oldest batches", options_.spool->dir(),
                      dropped.size());
      }
    }
    for (const Spool::Entry& e : dropped) options_.spool->Remove(e);
  }

  // Under the lock: the next batch to write, read back from the spool if it waits only on disk. An
  // unreadable file (a damaged disk) is dropped, counted and logged, and the next one is tried.
  std::shared_ptr<const v1::ObservationBatch> NextToWriteLocked() {
    while (written_ < unacked_.size()) {
      Pending& p = unacked_[written_];
      if (p.batch == nullptr) {
        auto loaded = options_.spool->Read(Spool::Entry{p.epoch, p.sequence, p.bytes});
        if (!loaded.ok()) {
          spdlog::error("{}; dropping it", loaded.status().message());
          options_.spool->Remove(DropLocked(written_));
          continue;
        }
        p.batch = std::shared_ptr<const v1::ObservationBatch>(*std::move(loaded));
      }
      ++written_;
      return p.batch;
    }
    return nullptr;
  }

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
        // With a spool, at most max_unacknowledged batches are on the wire (and in gRPC's buffers) at once.
        cv_.wait(lock, [&] {
          return stop_ || broken_ || (written_ < unacked_.size() && written_ < options_.max_unacknowledged) ||
                 (closing_ && unacked_.empty());
        });
        if (stop_ || broken_) break;
        if (closing_ && unacked_.empty()) {
          clean = true;
          break;
        }
        const std::shared_ptr<const v1::ObservationBatch> batch = NextToWriteLocked();
        if (batch == nullptr) continue;  // the rest was unreadable and dropped
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
        AUSCULT_LOG_LIMITED(spdlog::level::err, "collector {} refused batch {}: {}; dropping it", options_.target,
                            unacked_.front().sequence, status.error_message());
        if (options_.spool != nullptr) {
          options_.spool->Remove(Spool::Entry{unacked_.front().epoch, unacked_.front().sequence, 0});
        }
        spool_bytes_ -= unacked_.front().bytes;
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
      bool remove = false;
      {
        std::lock_guard lock(mu_);
        // The collector applies a stream's batches in order, and a batch on the wire is never dropped:
        // an acknowledgment is always for the oldest.
        if (!unacked_.empty() && unacked_.front().sequence == ack.sequence() &&
            unacked_.front().epoch == ack.epoch()) {
          spool_bytes_ -= unacked_.front().bytes;
          unacked_.pop_front();
          if (written_ > 0) --written_;
          ++stats_.batches_acknowledged;
          remove = options_.spool != nullptr;
          cv_.notify_all();
        } else {
          AUSCULT_LOG_LIMITED(spdlog::level::warn, "collector {} acknowledged batch {}-{} out of order; ignored",
                              options_.target, ack.epoch(), ack.sequence());
        }
      }
      // Deleted only now that the collector has committed it; a crash before this line resends it,
      // and the collector answers "duplicate".
      if (remove) options_.spool->Remove(Spool::Entry{ack.epoch(), ack.sequence(), 0});
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
  uint64_t spool_bytes_ = 0;
  bool broken_ = false;
  bool closing_ = false;
  bool stop_ = false;
  bool session_done_ = false;
  grpc::ClientContext* context_ = nullptr;
  std::string last_error_;
  absl::Status refused_;  // the collector refused our credentials: no more sending
  TransportStats stats_;
  std::thread session_;  // started in the constructor's body, after everything above is constructed
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
    if (options.spool != nullptr) {
      // The spool holds the batches until the collector is back: capture meanwhile.
      spdlog::warn("cannot reach collector at {} within {}; spooling to {} and retrying", options.target,
                   absl::FormatDuration(options.connect_timeout), options.spool->dir());
      return std::unique_ptr<BatchTransport>(new GrpcTransport(options, std::move(channel)));
    }
    return absl::UnavailableError(absl::StrCat("cannot reach collector at ", options.target, " within ",
                                               absl::FormatDuration(options.connect_timeout),
                                               " (is auscult-collector running and listening there?)"));
  }
  return std::unique_ptr<BatchTransport>(new GrpcTransport(options, std::move(channel)));
}

}  // namespace auscult::sensor
