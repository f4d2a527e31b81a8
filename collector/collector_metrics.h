#ifndef AUSCULT_COLLECTOR_COLLECTOR_METRICS_H_
#define AUSCULT_COLLECTOR_COLLECTOR_METRICS_H_

// The collector's Prometheus metrics (--metrics_listen; docs/deploy.md lists them): what this
// process did (streams, batches by result, the latency to an acknowledgment, database errors) and
// what the database holds (devices, edges, sensors), read at most every 15 s on a spare connection.

#include <cstdint>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "collector/ingest/batch_applier.h"
#include "collector/ingest/ingest_service.h"
#include "collector/query/event_hub.h"
#include "collector/store/database.h"

namespace auscult::collector {

class CollectorMetrics {
 public:
  // None owned; all outlive this.
  CollectorMetrics(ConnectionPool* pool, const BatchApplier* applier, const IngestService* ingest, EventHub* events,
                   absl::Time started)
      : pool_(pool), applier_(applier), ingest_(ingest), events_(events), started_(started) {}

  // The page; called on the metrics server's thread.
  std::string Render();

 private:
  // Counts what the database holds, unless that was done less than 15 s ago. Never waits for a
  // connection: with none free (the queries are busy) the last counts stay, with their time.
  void RefreshInventory();

  ConnectionPool* const pool_;
  const BatchApplier* const applier_;
  const IngestService* const ingest_;
  EventHub* const events_;
  const absl::Time started_;
  std::mutex mu_;  // one render at a time (the server is single-threaded; tests are not)
  absl::Time counted_ = absl::InfinitePast();
  bool database_up_ = false;
  int64_t devices_ = 0, edges_ = 0, sensors_ = 0, sensors_down_ = 0;
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_COLLECTOR_METRICS_H_
