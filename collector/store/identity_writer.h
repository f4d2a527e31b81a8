#ifndef AUSCULT_COLLECTOR_STORE_IDENTITY_WRITER_H_
#define AUSCULT_COLLECTOR_STORE_IDENTITY_WRITER_H_

// The ingest transaction's part of device identity (collector/store/identity.h decides; this
// loads what it needs and carries the decisions out in SQL).

#include <pqxx/pqxx>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace auscult::collector {

// MACs (canonical text) of devices merged into others, and the device each lives in now.
absl::flat_hash_map<std::string, int64_t> MergedMacs(pqxx::work& w, const std::vector<std::string>& macs);

// Hosts a sensor at `site` saw only behind a router: the device each address means at the time of
// the sighting. Creates the devices that are new and retires addresses that no longer identify
// their device (silent for longer than --ip_identity_ttl).
struct RoutedSighting {
  std::string ip;  // canonical text
  int64_t first_seen = 0;
  int64_t last_seen = 0;
};
absl::flat_hash_map<std::string, int64_t> ResolveRoutedHosts(pqxx::work& w, const std::string& site,
                                                             const std::string& wing,
                                                             const std::vector<RoutedSighting>& sightings);

// Records the strong identifiers of the devices a batch touched and merges the devices that turn
// out to be one (locking them lowest id first). Must come after everything else the batch writes
// about those devices: merged devices no longer exist afterwards.
void MergeIdentities(pqxx::work& w, const std::string& site, const std::vector<int64_t>& touched);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_IDENTITY_WRITER_H_
