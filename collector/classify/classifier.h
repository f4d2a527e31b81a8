#ifndef AUSCULT_COLLECTOR_CLASSIFY_CLASSIFIER_H_
#define AUSCULT_COLLECTOR_CLASSIFY_CLASSIFIER_H_

// Keeps device_classification and device_risk up to date: the ingest transaction queues the devices
// a batch touched (device_reclassify); the Classifier takes them from the queue, reads their
// evidence and flows, applies the rules file and the risk formula and writes the results. The rules
// file is read again when it changes (or on request, e.g. SIGHUP); a file that does not parse
// leaves the rules in force as they were.

#include <pqxx/pqxx>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/classify/rules.h"
#include "collector/store/advisories.h"

namespace auscult::collector {

// The rules file shipped with the collector (collector/data/device_rules.txt, or
// share/auscult/device_rules.txt beside an installed binary); empty when there is none.
std::string DefaultRulesPath();

class Classifier {
 public:
  // Reads and parses the rules file; an error names the file and line.
  static absl::StatusOr<std::unique_ptr<Classifier>> Load(std::string path);

  // Reads the file again if it changed since (or if `force`); when its content is new and parses,
  // it takes effect and every device is queued for classification. Returns whether it did; an
  // error leaves the rules as they were.
  absl::StatusOr<bool> Reload(pqxx::connection_base& c, bool force);

  // Queues every device when the database's devices were classified by other rules than those in
  // force (a file edited while the collector was down, a first start); records the version.
  void AdoptRules(pqxx::connection_base& c);

  // Classifies and scores up to `limit` queued devices (the lowest ids first), of those queued at or
  // after `since_us` (microseconds since the epoch; 0: all). Returns how many it took. Safe to call
  // from several threads and processes: each takes its own devices off the queue, and a result is
  // never written over one that read the database later. Throws pqxx connection and retryable
  // errors (the devices are put back first); a device that fails on its own is logged and skipped.
  size_t ProcessQueue(pqxx::connection_base& c, size_t limit, int64_t since_us = 0);

  // Reads the imported advisories again when their version in the database changed (an import),
  // and queues every device when the database's matches were made from another version than the
  // one now held. Returns whether it read them.
  bool ReloadAdvisories(pqxx::connection_base& c);

  std::shared_ptr<const RuleSet> rules() const;
  std::shared_ptr<const AdvisoryCatalog> advisories() const;
  const std::string& path() const { return path_; }

 private:
  explicit Classifier(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<std::shared_ptr<const RuleSet>> Read();
  void Classify(pqxx::connection_base& c, const std::vector<int64_t>& ids);
  void Requeue(pqxx::connection_base& c, const std::vector<int64_t>& ids);

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const RuleSet> rules_;  // guarded by mu_
  std::shared_ptr<const AdvisoryCatalog> advisories_;  // guarded by mu_; null until read
  int64_t mtime_ns_ = 0;                  // guarded by mu_
  int64_t size_ = -1;                     // guarded by mu_
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_CLASSIFY_CLASSIFIER_H_
