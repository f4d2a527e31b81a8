#include "collector/store/revocations.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "collector/store/enum_names.h"
#include "common/identifiers.h"
#include "common/text.h"
#include "common/tls.h"

namespace auscult::collector {
namespace {

constexpr char kColumns[] = "sensor_id, certificate_sha256, reason, revoked_by, auscult_us(revoked_at)";

void FillRevocation(const pqxx::row& r, v1::SensorRevocation& out) {
  out.set_sensor_id(r.at(0).as<std::string>());
  out.set_certificate_sha256(r.at(1).as<std::string>());
  out.set_reason(r.at(2).as<std::string>());
  out.set_revoked_by(r.at(3).as<std::string>());
  FromMicros(r.at(4).as<int64_t>(), out.mutable_revoked_at());
}

}  // namespace

void ThrowIfRevoked(pqxx::transaction_base& t, const std::string& sensor_id, const std::string& certificate_sha256) {
  const pqxx::result r =
      t.exec_params(absl::StrCat("SELECT ", kColumns, " FROM auscult_sensor_revocation($1::text, $2::text)"), sensor_id,
                    certificate_sha256);
  if (r.empty()) return;
  v1::SensorRevocation found;
  FillRevocation(r[0], found);
  const std::string detail = absl::StrCat(
      "revoked by ", found.revoked_by(), " at ",
      absl::FormatTime(absl::RFC3339_sec, absl::FromUnixMicros(r[0].at(4).as<int64_t>()), absl::UTCTimeZone()),
      found.reason().empty() ? "" : absl::StrCat(": ", Printable(found.reason(), 256)));
  if (found.certificate_sha256().empty()) {
    throw SensorRevoked(absl::StrCat("sensor '", sensor_id,
                                     "' is revoked at this collector: its batches are refused until an admin lifts "
                                     "it (auscult sensors unrevoke ",
                                     sensor_id, ")"),
                        detail);
  }
  throw SensorRevoked(absl::StrCat("this certificate of sensor '", sensor_id, "' (SHA-256 ", certificate_sha256,
                                   ") is revoked: the sensor needs a new certificate (deploy/pki.sh)"),
                      detail);
}

absl::StatusOr<v1::RevokeSensorResponse> RevokeSensor(pqxx::connection_base& c, const v1::RevokeSensorRequest& req,
                                                      const std::string& who) {
  if (!IsValidSensorId(req.sensor_id())) {
    return absl::InvalidArgumentError(absl::StrCat("sensor_id: '", Printable(req.sensor_id(), 64),
                                                   "' is not a sensor id (1-64 of letters, digits, '.', '_', '-')"));
  }
  std::string sha256;
  if (!req.certificate_sha256().empty()) {
    const std::optional<std::string> normal = NormalizeSha256(req.certificate_sha256());
    if (!normal) {
      return absl::InvalidArgumentError(absl::StrCat("certificate_sha256: '", Printable(req.certificate_sha256(), 100),
                                                     "' is not a SHA-256 fingerprint (64 hex digits, colons allowed)"));
    }
    sha256 = *normal;
  }
  if (req.reason().size() > 256) return absl::InvalidArgumentError("reason: longer than 256 bytes");
  if (HasControlCharacter(req.reason())) return absl::InvalidArgumentError("reason: contains a control character");

  v1::RevokeSensorResponse out;
  pqxx::work w(c);
  pqxx::result changed;
  if (req.unrevoke()) {
    changed = w.exec_params(absl::StrCat("DELETE FROM sensor_revocations WHERE sensor_id = $1::text AND "
                                         "certificate_sha256 = $2::text RETURNING ",
                                         kColumns),
                            req.sensor_id(), sha256);
  } else {
    // Either key may be taken already: the sensor's row, or the certificate's under another id.
    changed =
        w.exec_params(absl::StrCat("INSERT INTO sensor_revocations (sensor_id, certificate_sha256, reason, revoked_by)"
                                   " VALUES ($1::text, $2::text, $3::text, $4::text) ON CONFLICT DO NOTHING RETURNING ",
                                   kColumns),
                      req.sensor_id(), sha256, req.reason(), who.substr(0, 128));
  }
  out.set_changed(!changed.empty());
  if (!changed.empty()) {
    FillRevocation(changed[0], *out.mutable_revocation());
    w.exec_params(
        "INSERT INTO admin_actions (who, action, detail) VALUES ($1::text, $2::text,"
        " jsonb_strip_nulls(jsonb_build_object('sensor_id', $3::text, 'certificate_sha256', NULLIF($4::text, ''),"
        " 'reason', NULLIF($5::text, ''))))",
        who.substr(0, 128), req.unrevoke() ? "unrevoke_sensor" : "revoke_sensor", req.sensor_id(), sha256,
        req.unrevoke() ? std::string() : req.reason());
  } else if (!req.unrevoke()) {
    const pqxx::result existing = w.exec_params(
        absl::StrCat("SELECT ", kColumns,
                     " FROM sensor_revocations WHERE (sensor_id = $1::text AND certificate_sha256 = $2::text)"
                     " OR ($2::text <> '' AND certificate_sha256 = $2::text) LIMIT 1"),
        req.sensor_id(), sha256);
    if (!existing.empty()) FillRevocation(existing[0], *out.mutable_revocation());
  } else {
    out.mutable_revocation()->set_sensor_id(req.sensor_id());
    out.mutable_revocation()->set_certificate_sha256(sha256);
  }
  w.commit();
  return out;
}

absl::StatusOr<v1::ListSensorRevocationsResponse> ListSensorRevocations(pqxx::connection_base& c,
                                                                        const v1::ListSensorRevocationsRequest&) {
  pqxx::read_transaction t(c);
  v1::ListSensorRevocationsResponse out;
  for (const pqxx::row& r : t.exec(absl::StrCat(
           "SELECT ", kColumns, " FROM sensor_revocations ORDER BY revoked_at DESC, sensor_id, certificate_sha256"))) {
    FillRevocation(r, *out.add_revocations());
  }
  return out;
}

}  // namespace auscult::collector
