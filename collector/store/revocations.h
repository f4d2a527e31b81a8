#ifndef AUSCULT_COLLECTOR_STORE_REVOCATIONS_H_
#define AUSCULT_COLLECTOR_STORE_REVOCATIONS_H_

// Sensors and sensor certificates withdrawn before they expire (migration 016, docs/security.md):
// the check every batch passes, and the admins' changes.

#include <stdexcept>
#include <string>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace pqxx {
class connection_base;
class transaction_base;
}  // namespace pqxx

namespace auscult::collector {

// A batch of a revoked sensor, or sent with a revoked certificate. what() is for the sensor: it
// says what is revoked and what to do; `detail` (who revoked it, when, why) is for the log.
class SensorRevoked : public std::runtime_error {
 public:
  SensorRevoked(const std::string& message, std::string detail)
      : std::runtime_error(message), detail_(std::move(detail)) {}
  const std::string& detail() const { return detail_; }

 private:
  std::string detail_;
};

// In `t`, before anything of a batch is stored: throws SensorRevoked when `sensor_id`, or the
// certificate of SHA-256 `certificate_sha256` ("" without TLS), is revoked.
void ThrowIfRevoked(pqxx::transaction_base& t, const std::string& sensor_id, const std::string& certificate_sha256);

// Revokes (or with unrevoke lifts) in one transaction with its admin_actions row; `who` is the
// admin. INVALID_ARGUMENT for a malformed sensor id, fingerprint or reason.
absl::StatusOr<v1::RevokeSensorResponse> RevokeSensor(pqxx::connection_base& c, const v1::RevokeSensorRequest& request,
                                                      const std::string& who);
absl::StatusOr<v1::ListSensorRevocationsResponse> ListSensorRevocations(pqxx::connection_base& c,
                                                                        const v1::ListSensorRevocationsRequest&);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_REVOCATIONS_H_
