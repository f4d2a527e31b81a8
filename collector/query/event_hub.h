#ifndef AUSCULT_COLLECTOR_QUERY_EVENT_HUB_H_
#define AUSCULT_COLLECTOR_QUERY_EVENT_HUB_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace auscult::collector {

// Watches the events table (migration 013) for the Watch RPC, and keeps it: on a connection of its
// own it LISTENs for the ingest's notifications and wakes the waiting subscribers, so that a
// hundred subscribers do not poll the database. Every `tick` it also reports sensors that fell
// silent (--sensor_silent_after, as ListSensors judges "up") and those that came back as events, and deletes events
// older than `retention`. It is also where the flow history is kept in shape: at start and every hour it makes the
// daily partitions of the coming days and drops those past `flow_retention` (migration 014). A lost connection is
// retried every tick; subscribers then fall back to the tick.
class EventHub {
 public:
  struct Options {
    absl::Duration retention = absl::Hours(24 * 30);
    absl::Duration flow_retention = absl::Hours(24 * 30);
    absl::Duration tick = absl::Seconds(2);
    int max_subscribers = 16;
  };
  EventHub(std::string uri, Options options);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // A subscriber slot, or false when max_subscribers are watching (the caller answers
  // RESOURCE_EXHAUSTED). Leave() gives it back.
  bool Join();
  void Leave();
  int subscribers() {
    std::lock_guard lock(mu_);
    return subscribers_;
  }

  // Waits until an event newer than `after` may exist, `timeout` passes or the hub stops.
  // Returns false once the hub is stopping (the subscriber should end its stream).
  bool Wait(int64_t after, absl::Duration timeout);

  // Ends every wait (server shutdown).
  void Stop();

 private:
  void Run();

  const std::string uri_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t last_event_ = -1;  // guarded by mu_; -1: not known yet (waiters fall back to polling)
  int subscribers_ = 0;      // guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  std::thread thread_;       // last: starts once the members above exist
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_QUERY_EVENT_HUB_H_
