#include "collector/ingest/batch_applier.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "collector/store/batch_writer.h"
#include "collector/store/revocations.h"
#include "common/logging.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {

BatchApplier::BatchApplier(ConnectionPool* pool, size_t threads, AfterApply after_apply)
    : pool_(pool), after_apply_(std::move(after_apply)) {
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
  settler_ = std::thread([this] { Settle(); });
}

BatchApplier::~BatchApplier() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  {
    std::lock_guard lock(mu_);
    workers_stopped_ = true;  // the settler acknowledges what they committed, then stops
  }
  settle_cv_.notify_all();
  settler_.join();
}

void BatchApplier::Submit(std::shared_ptr<const v1::ObservationBatch> batch, std::string certificate_sha256,
                          Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Job{std::move(batch), std::move(certificate_sha256), std::move(done), absl::Now()});
  }
  cv_.notify_one();
}

ApplierStats BatchApplier::stats() const {
  std::lock_guard lock(mu_);
  ApplierStats out = stats_;
  out.queued = queue_.size();
  out.settling = committed_.size();
  return out;
}

void BatchApplier::WriteLatency(MetricsText& out) const {
  latency_.Write(out, "auscult_collector_batch_latency_seconds",
                 "From a batch's arrival to its acknowledgment: queue, transaction, the settling round");
}

void BatchApplier::Work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    int64_t started_us = 0;
    auto result = ApplyWithRetries(*job.batch, job.certificate_sha256, &started_us);
    {
      std::lock_guard lock(mu_);
      if (absl::IsPermissionDenied(result.status())) {
        ++stats_.refused;
      } else if (!result.ok()) {
        ++stats_.failed;
      } else if (*result == v1::BatchAck::RESULT_DUPLICATE) {
        ++stats_.duplicates;
      } else {
        ++stats_.applied;
      }
      if (result.ok()) {
        committed_.push_back(Committed{std::move(job.batch), *result, started_us, std::move(job.done), job.submitted});
      }
    }
    if (result.ok()) {
      settle_cv_.notify_one();
    } else {
      job.done(std::move(result));
    }
  }
}

void BatchApplier::Settle() {
  // Also every few seconds when idle: edge deltas of batches whose collector died between commit
  // and merge (their sensors' resends come back as duplicates, which merge too, but a sensor may
  // never come back) are not left pending for long.
  constexpr auto kIdleMerge = std::chrono::seconds(5);
  std::vector<Committed> batches;
  for (;;) {
    batches.clear();
    bool last = false;
    {
      std::unique_lock lock(mu_);
      settle_cv_.wait_for(lock, kIdleMerge, [&] { return workers_stopped_ || !committed_.empty(); });
      batches.swap(committed_);
      last = workers_stopped_;
    }
    SettleRound(batches);
    if (last) return;
  }
}

void BatchApplier::SettleRound(std::vector<Committed>& batches) {
  // Committed already: a failure here never fails the batches (their edge deltas stay pending for
  // the next round, their edges stay on an address until a later batch naming it moves them, their
  // devices stay queued for the classifier's own loop), but deadlocks with concurrent batches are
  // tried again.
  auto log = [&](const char* step, const std::exception& e) {
    spdlog::warn("{} after {} batches: {}", step, batches.size(), e.what());
    std::lock_guard lock(mu_);
    ++stats_.database_errors;
  };
  ConnectionPool::Lease lease = pool_->Acquire();
  // False when the connection was lost: the round's remaining steps are skipped.
  auto attempt = [&](const char* step, const std::function<void()>& body) -> bool {
    constexpr int kAttempts = 3;
    for (int i = 1; i <= kAttempts; ++i) {
      try {
        body();
        return true;
      } catch (const pqxx::transaction_rollback& e) {
        if (i == kAttempts) log(step, e);
      } catch (const pqxx::broken_connection& e) {
        lease.MarkBroken();
        log(step, e);
        return false;
      } catch (const std::exception& e) {
        log(step, e);
        return true;
      }
    }
    return true;
  };
  const absl::Time start = absl::Now();
  int merged = 0;
  bool connected = attempt("merging graph edges", [&] { merged = MergePendingEdges(lease.get()); });
  const absl::Time after_merge = absl::Now();
  if (connected && !batches.empty()) {
    std::vector<const v1::ObservationBatch*> named;
    named.reserve(batches.size());
    for (const Committed& c : batches) named.push_back(c.batch.get());
    connected = attempt("moving edges off held addresses", [&] { AbsorbHeldAddresses(lease.get(), named); });
  }
  const absl::Time after_absorb = absl::Now();
  int64_t since_us = -1;
  for (const Committed& c : batches) {
    if (c.result == v1::BatchAck::RESULT_APPLIED && (since_us < 0 || c.started_us < since_us)) since_us = c.started_us;
  }
  if (connected && since_us >= 0 && after_apply_) {
    try {
      after_apply_(lease.get(), since_us);
    } catch (const pqxx::broken_connection& e) {
      lease.MarkBroken();
      log("classifying", e);
    } catch (const std::exception& e) {
      log("classifying", e);
    }
  }
  // The round's cost, for an operator who wonders where an acknowledgment's time goes.
  if (!batches.empty() || merged > 0) {
    spdlog::debug("settled {} batches: {} edges merged in {} ms, addresses {} ms, classification {} ms", batches.size(),
                  merged, absl::ToInt64Milliseconds(after_merge - start),
                  absl::ToInt64Milliseconds(after_absorb - after_merge),
                  absl::ToInt64Milliseconds(absl::Now() - after_absorb));
  }
  const absl::Time now = absl::Now();
  for (Committed& c : batches) {
    latency_.Observe(now - c.submitted);
    c.done(c.result);
  }
}

void BatchApplier::CountDatabaseError() {
  std::lock_guard lock(mu_);
  ++stats_.database_errors;
}

absl::StatusOr<v1::BatchAck::Result> BatchApplier::ApplyWithRetries(const v1::ObservationBatch& batch,
                                                                    const std::string& certificate_sha256,
                                                                    int64_t* started_us) {
  constexpr int kAttempts = 5;
  std::string last_error;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    if (attempt > 1) {
      std::lock_guard lock(mu_);
      ++stats_.retries;
    }
    ConnectionPool::Lease lease = pool_->Acquire();
    try {
      const v1::BatchAck::Result result = ApplyBatch(lease.get(), batch, certificate_sha256, started_us);
      return result;
    } catch (const SensorRevoked& e) {  // the same again would be refused again
      AUSCULT_LOG_LIMITED(spdlog::level::warn, "refused batch {}/{} of sensor {}: {} ({})", batch.epoch(),
                          batch.sequence(), batch.sensor().sensor_id(), e.what(), e.detail());
      return absl::PermissionDeniedError(e.what());
    } catch (const pqxx::broken_connection& e) {
      CountDatabaseError();
      lease.MarkBroken();
      last_error = absl::StrCat("database connection lost: ", e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt * attempt));
    } catch (const pqxx::transaction_rollback& e) {  // deadlock or serialization failure: retry
      CountDatabaseError();
      last_error = e.what();
    } catch (const pqxx::foreign_key_violation& e) {
      // A device the batch names was merged into another by a concurrent batch (docs/schema.md,
      // "Identity and merge"): applied again, the batch finds the survivor.
      CountDatabaseError();
      last_error = e.what();
    } catch (const pqxx::in_doubt_error& e) {
      // The commit may or may not have happened; a retry is safe because the batch id is recorded
      // in the same transaction, so a committed batch comes back as a duplicate.
      CountDatabaseError();
      lease.MarkBroken();
      last_error = e.what();
    } catch (const std::exception& e) {
      CountDatabaseError();
      spdlog::error("sensor {} batch {}/{}: {}", batch.sensor().sensor_id(), batch.epoch(), batch.sequence(), e.what());
      return absl::InternalError(absl::StrCat("database error applying batch ", batch.sequence(), ": ", e.what()));
    }
  }
  while (!last_error.empty() && last_error.back() == '\n') last_error.pop_back();
  AUSCULT_LOG_LIMITED(spdlog::level::warn, "sensor {} batch {}/{} not applied after {} attempts: {}",
                      batch.sensor().sensor_id(), batch.epoch(), batch.sequence(), kAttempts, last_error);
  return absl::UnavailableError(absl::StrCat("database unavailable: ", last_error));
}

}  // namespace auscult::collector
