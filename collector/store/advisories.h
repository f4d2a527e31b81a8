#ifndef AUSCULT_COLLECTOR_STORE_ADVISORIES_H_
#define AUSCULT_COLLECTOR_STORE_ADVISORIES_H_

// Security advisories in the database (migration 024, docs/advisories.md): import of CSAF 2.0
// documents, the match catalog the classifier reads from them, and the queries of the API.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"
#include "collector/advisories/matcher.h"

namespace pqxx {
class connection_base;
class transaction_base;
}  // namespace pqxx

namespace auscult::collector {

inline constexpr size_t kMaxAdvisoryDocumentsPerImport = 1000;

// Applies each document in a transaction of its own: a bad one is refused with the reason and the
// others still go in. The same document again changes nothing; an older version of an advisory
// already there is kept out. `who` is recorded in admin_actions with what changed.
absl::StatusOr<v1::ImportAdvisoriesResponse> ImportAdvisories(pqxx::connection_base& c,
                                                              const v1::ImportAdvisoriesRequest& request,
                                                              const std::string& who);

absl::StatusOr<v1::ListAdvisoriesResponse> ListAdvisories(pqxx::connection_base& c,
                                                          const v1::ListAdvisoriesRequest& request);
absl::StatusOr<v1::Advisory> GetAdvisory(pqxx::connection_base& c, const v1::GetAdvisoryRequest& request);

// The matches of one device, with their CVEs and remediations (GetDevice).
std::vector<v1::AdvisoryMatch> DeviceAdvisories(pqxx::transaction_base& t, int64_t device_id);

// The catalog of every imported advisory's products, and the advisories_version it was read at.
struct AdvisoryCatalog {
  std::string version;
  advisories::Catalog catalog{{}};
  // Per tracking id and product id: the highest CVSS base score of its vulnerabilities that name
  // it affected, and the CVEs behind it (the risk factor's detail).
  struct Severity {
    double max_cvss = 0;
    std::vector<std::string> cves;
  };
  std::map<std::pair<std::string, std::string>, Severity> severity;
};

// The stored advisories_version (cheap: read every pass of the classifier).
std::string AdvisoriesVersion(pqxx::connection_base& c);
// Reads and prepares every stored advisory. A stored document that no longer parses (a reader
// made stricter since) is logged and left out.
std::shared_ptr<const AdvisoryCatalog> LoadAdvisoryCatalog(pqxx::connection_base& c);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_ADVISORIES_H_
