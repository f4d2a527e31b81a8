#include "collector/classify/classifier_loop.h"

#include <pqxx/pqxx>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {

ClassifierLoop::~ClassifierLoop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ClassifierLoop::RequestReload() {
  {
    std::lock_guard lock(mu_);
    reload_ = true;
  }
  cv_.notify_all();
}

void ClassifierLoop::Run() {
  bool first = true;
  for (;;) {
    bool force = false;
    {
      std::unique_lock lock(mu_);
      if (!first) cv_.wait_for(lock, std::chrono::seconds(2), [&] { return stopping_ || reload_; });
      if (stopping_) return;
      force = reload_;
      reload_ = false;
    }
    ConnectionPool::Lease lease = pool_->Acquire();
    try {
      // Cleared first: after an error the loop waits before it tries again, whatever failed.
      const bool adopt = first;
      first = false;
      if (adopt) classifier_->AdoptRules(lease.get());
      if (auto reloaded = classifier_->Reload(lease.get(), force); !reloaded.ok()) {
        // The rules in force stay; said once per change of the file.
        spdlog::error("device rules not reloaded, the previous rules stay in force: {}", reloaded.status().message());
      }
      classifier_->ReloadAdvisories(lease.get());
      const absl::Time start = absl::Now();
      size_t done = 0;
      for (size_t n; (n = classifier_->ProcessQueue(lease.get(), 2000)) > 0;) {
        done += n;
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      if (done >= 100) {
        spdlog::info("classified and scored {} devices in {} ms", done, absl::ToInt64Milliseconds(absl::Now() - start));
      }
    } catch (const pqxx::broken_connection& e) {
      lease.MarkBroken();
      spdlog::warn("device classification: {}", e.what());
    } catch (const std::exception& e) {
      spdlog::warn("device classification: {}", e.what());
    }
  }
}

}  // namespace auscult::collector
