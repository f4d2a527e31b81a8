#include "collector/store/segments.h"

#include <pqxx/pqxx>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "collector/store/pg_array.h"
#include "common/cidr.h"
#include "common/logging.h"
#include "common/text.h"

namespace auscult::collector {
namespace {

constexpr size_t kMaxText = 128;

absl::Status Bad(int i, std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("segments[", i, "].", AsAbsl(field), ": ", AsAbsl(why)));
}

absl::Status CheckText(int i, std::string_view field, const std::string& v) {
  if (v.size() > kMaxText) return Bad(i, field, absl::StrCat("longer than ", kMaxText, " bytes"));
  if (HasControlCharacter(v)) return Bad(i, field, "contains a control character");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSegments(const v1::ImportSegmentsRequest& request) {
  if (request.segments_size() > kMaxSegmentsPerImport) {
    return absl::InvalidArgumentError(absl::StrCat("segments: more than ", kMaxSegmentsPerImport, " in one import"));
  }
  std::set<std::tuple<std::string, std::string, uint32_t>> seen;
  for (int i = 0; i < request.segments_size(); ++i) {
    const v1::Segment& s = request.segments(i);
    for (const auto& [field, value] : {std::pair<std::string_view, const std::string*>{"site", &s.site()},
                                       {"wing", &s.wing()},
                                       {"department", &s.department()}}) {
      if (auto st = CheckText(i, field, *value); !st.ok()) return st;
    }
    std::string network;
    if (!s.cidr().empty()) {
      const auto cidr = Cidr::Parse(s.cidr());
      if (!cidr || s.cidr().find('/') == std::string::npos) {
        return Bad(i, "cidr", absl::StrCat("'", s.cidr().substr(0, 64), "' is not a network such as 10.20.0.0/16"));
      }
      network = cidr->ToString();
    }
    if (s.vlan() > 4094) return Bad(i, "vlan", absl::StrCat(s.vlan(), " is not a VLAN id (1-4094)"));
    if (network.empty() && s.vlan() == 0) return Bad(i, "cidr", "a segment needs a network, a VLAN or both");
    if (!seen.insert({s.site(), network, s.vlan()}).second) {
      return Bad(i, "cidr", "the same site, network and VLAN appear twice in the import");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ImportSegmentsResponse> ImportSegments(pqxx::connection_base& c,
                                                          const v1::ImportSegmentsRequest& request,
                                                          const std::string& who) {
  if (auto st = ValidateSegments(request); !st.ok()) return st;
  PgArray site, cidr, vlan, wing, department, sites;
  std::set<std::string> named_sites;
  for (const v1::Segment& s : request.segments()) {
    site.Add(s.site());
    cidr.Add(s.cidr().empty() ? std::string() : Cidr::Parse(s.cidr())->ToString());
    vlan.Add(int64_t{s.vlan()});
    wing.Add(s.wing());
    department.Add(s.department());
    named_sites.insert(s.site());
  }
  for (const std::string& s : named_sites) sites.Add(s);
  pqxx::work w(c);
  v1::ImportSegmentsResponse out;
  if (request.replace()) {
    out.set_removed(w.exec_params("DELETE FROM segments WHERE site = ANY($1::text[])", sites.str()).affected_rows());
  }
  if (request.segments_size() > 0) {
    const pqxx::result r = w.exec_params(
        "INSERT INTO segments (site, cidr, vlan, wing, department)"
        " SELECT t.site, NULLIF(t.cidr, '')::cidr, t.vlan, t.wing, t.department"
        " FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[])"
        " AS t(site, cidr, vlan, wing, department)"
        " ON CONFLICT (site, cidr, vlan) DO UPDATE SET wing = excluded.wing, department = excluded.department,"
        " imported_at = now()",
        site.str(), cidr.str(), vlan.str(), wing.str(), department.str());
    out.set_imported(r.affected_rows());
  }
  // The map also says which addresses are the hospital's own, which risk's exposure factors read
  // (auscult_internal): every device is scored again (the collector's loop does it in the background).
  w.exec(
      "INSERT INTO device_reclassify (device_id) SELECT device_id FROM devices ORDER BY 1"
      " ON CONFLICT (device_id) DO UPDATE SET queued_at = excluded.queued_at");
  w.exec_params(
      "INSERT INTO admin_actions (who, action, detail) VALUES ($1::text, 'import_segments',"
      " jsonb_build_object('sites', $2::text[], 'imported', $3::bigint, 'removed', $4::bigint, 'replace', "
      "$5::boolean))",
      who.substr(0, 128), sites.str(), out.imported(), out.removed(), request.replace());
  w.commit();
  return out;
}

absl::StatusOr<v1::ListSegmentsResponse> ListSegments(pqxx::connection_base& c, const v1::ListSegmentsRequest&) {
  pqxx::read_transaction t(c);
  v1::ListSegmentsResponse out;
  for (const pqxx::row& r : t.exec(
           "SELECT site, COALESCE(cidr::text, ''), vlan, wing, department FROM segments ORDER BY site, cidr, vlan")) {
    v1::Segment* s = out.add_segments();
    s->set_site(r.at(0).as<std::string>());
    s->set_cidr(r.at(1).as<std::string>());
    s->set_vlan(r.at(2).as<uint32_t>());
    s->set_wing(r.at(3).as<std::string>());
    s->set_department(r.at(4).as<std::string>());
  }
  return out;
}

}  // namespace auscult::collector
