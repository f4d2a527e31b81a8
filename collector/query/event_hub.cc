#include "collector/query/event_hub.h"

#include <pqxx/pqxx>

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "collector/store/database.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {
namespace {

// Sensors whose last batch is older than --sensor_silent_after are reported down once (the batch
// that shows one back reports it up: collector/store/batch_writer.cc).
constexpr char kSensorHealth[] = R"sql(
WITH down AS (
  UPDATE sensors SET reported_down = true
  WHERE NOT reported_down AND last_seen < now() - auscult_sensor_silent_after()
  RETURNING sensor_id, last_seen)
INSERT INTO events (kind, sensor_id, detail)
SELECT 'sensor_down', sensor_id, jsonb_build_object('last_seen', auscult_us(last_seen))
FROM down ORDER BY sensor_id)sql";

constexpr char kExpire[] = "DELETE FROM events WHERE at < now() - $1::bigint * interval '1 second'";

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, bool* woken) : pqxx::notification_receiver(c, "auscult_events"), woken_(woken) {}
  void operator()(const std::string&, int) override { *woken_ = true; }

 private:
  bool* woken_;
};

}  // namespace

EventHub::EventHub(std::string uri, Options options)
    : uri_(std::move(uri)), options_(options), thread_([this] { Run(); }) {}

EventHub::~EventHub() {
  Stop();
  thread_.join();
}

bool EventHub::Join() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || subscribers_ >= options_.max_subscribers) return false;
  ++subscribers_;
  return true;
}

void EventHub::Leave() {
  std::lock_guard<std::mutex> lock(mu_);
  --subscribers_;
}

bool EventHub::Wait(int64_t after, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return stopping_ || (last_event_ >= 0 && last_event_ > after); });
  return !stopping_;
}

void EventHub::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void EventHub::Run() {
  std::unique_ptr<pqxx::connection> connection;
  std::unique_ptr<Receiver> receiver;
  bool woken = false;
  absl::Time next_housekeeping = absl::InfinitePast();
  absl::Time next_expiry = absl::InfinitePast();
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    try {
      if (connection == nullptr) {
        receiver.reset();
        connection = std::make_unique<pqxx::connection>(uri_);
        receiver = std::make_unique<Receiver>(*connection, &woken);
        woken = true;  // read the newest id once connected
      }
      const absl::Time now = absl::Now();
      if (now >= next_housekeeping) {
        next_housekeeping = now + options_.tick;
        pqxx::work w(*connection);
        w.exec(kSensorHealth);
        if (now >= next_expiry) {
          next_expiry = now + absl::Hours(1);
          w.exec_params(kExpire, absl::ToInt64Seconds(options_.retention));
          const int made = w.exec1("SELECT auscult_make_flow_partitions(3)").at(0).as<int>();
          const int64_t expired = w.exec_params1("SELECT auscult_expire_flows($1::bigint * interval '1 second')",
                                                 absl::ToInt64Seconds(options_.flow_retention))
                                      .at(0)
                                      .as<int64_t>();
          // The kinds of patient data an address's flows carried follow the kept flows.
          const int64_t kinds = expired > 0 ? w.exec1("SELECT auscult_expire_address_phi()").at(0).as<int64_t>() : 0;
          if (made > 0 || expired > 0) {
            spdlog::info(
                "flow history: {} daily partitions made, {} flows past --flow_retention removed ({} address "
                "patient-data kinds with them)",
                made, expired, kinds);
          }
        }
        w.commit();
      }
      if (woken) {
        woken = false;
        pqxx::read_transaction t(*connection);
        const int64_t last = t.exec1("SELECT COALESCE(max(event_id), 0) FROM events").at(0).as<int64_t>();
        t.commit();
        {
          std::lock_guard<std::mutex> lock(mu_);
          last_event_ = last;
        }
        cv_.notify_all();
      }
      // Short waits: the loop must notice Stop() and the next housekeeping tick.
      connection->await_notification(0, 200000);
    } catch (const std::exception& e) {
      spdlog::warn("events: {} (retrying in {})", e.what(), absl::FormatDuration(options_.tick));
      receiver.reset();
      connection.reset();
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_event_ = -1;  // unknown: subscribers poll at their timeout
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.tick), [&] { return stopping_; });
    }
  }
  receiver.reset();
}

}  // namespace auscult::collector
