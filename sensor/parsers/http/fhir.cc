#include "sensor/parsers/http/fhir.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/logging.h"

namespace auscult::sensor::http::fhir {
namespace {

// Path segments looked at: a FHIR path is a base of a few segments and at most five more.
constexpr size_t kMaxSegments = 16;

struct PhiEntry {
  std::string_view resource;
  PhiKind kind;
};

// Sorted by resource for binary search.
constexpr auto kPhi = std::to_array<PhiEntry>({
    {"AllergyIntolerance", PhiKind::kDiagnoses},
    {"Appointment", PhiKind::kVisit},
    {"CarePlan", PhiKind::kOrdersResults},
    {"Claim", PhiKind::kInsurance},
    {"ClaimResponse", PhiKind::kInsurance},
    {"ClinicalImpression", PhiKind::kDiagnoses},
    {"Composition", PhiKind::kOrdersResults},
    {"Condition", PhiKind::kDiagnoses},
    {"Coverage", PhiKind::kInsurance},
    {"CoverageEligibilityRequest", PhiKind::kInsurance},
    {"CoverageEligibilityResponse", PhiKind::kInsurance},
    {"DiagnosticReport", PhiKind::kOrdersResults},
    {"DocumentReference", PhiKind::kOrdersResults},
    {"Encounter", PhiKind::kVisit},
    {"EpisodeOfCare", PhiKind::kVisit},
    {"ExplanationOfBenefit", PhiKind::kInsurance},
    {"FamilyMemberHistory", PhiKind::kDiagnoses},
    {"ImagingStudy", PhiKind::kOrdersResults},
    {"Immunization", PhiKind::kOrdersResults},
    {"Media", PhiKind::kOrdersResults},
    {"MedicationAdministration", PhiKind::kOrdersResults},
    {"MedicationDispense", PhiKind::kOrdersResults},
    {"MedicationRequest", PhiKind::kOrdersResults},
    {"MedicationStatement", PhiKind::kOrdersResults},
    {"Observation", PhiKind::kOrdersResults},
    {"Patient", PhiKind::kDemographics},
    {"Person", PhiKind::kDemographics},
    {"Procedure", PhiKind::kDiagnoses},
    {"QuestionnaireResponse", PhiKind::kOrdersResults},
    {"RelatedPerson", PhiKind::kDemographics},
    {"ServiceRequest", PhiKind::kOrdersResults},
    {"Specimen", PhiKind::kOrdersResults},
});
static_assert(std::is_sorted(kPhi.begin(), kPhi.end(),
                             [](const PhiEntry& a, const PhiEntry& b) { return a.resource < b.resource; }));

// Search parameters that pick patients or their records (FHIR R4 search parameter names).
constexpr std::string_view kPatientParameters[] = {"patient", "subject", "identifier", "_id",
                                                   "name",    "family",  "given",      "birthdate"};

// An id (FHIR R4 2.24.0.3 "id": [A-Za-z0-9\-\.]{1,64}). Version ids have the same form.
bool IsId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsOperation(std::string_view s) { return s.size() > 1 && s.front() == '$'; }

// Whether what follows [type] in a path is what the REST API allows there.
bool RestShape(const std::string_view* rest, size_t n, Interaction& out) {
  if (n == 0) return true;  // search, create
  if (n == 1) return rest[0] == "_search" || rest[0] == "_history" || IsOperation(rest[0]) || IsId(rest[0]);
  if (!IsId(rest[0])) return false;
  if (n == 2) {
    if (rest[1] == "_history" || IsOperation(rest[1])) return true;
    // [base]/Patient/[id]/[type]: a search in the patient's compartment (other compartments too).
    if (const std::string_view type = ResourceType(rest[1]); !type.empty()) {
      out.names_patient = out.resource == "Patient";
      out.resource = type;
      return true;
    }
    return false;
  }
  return n == 3 && rest[1] == "_history" && IsId(rest[2]);
}

bool NamesPatient(std::string_view query) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    // The parameter's name without modifier (":exact", ":Patient") or chain (".identifier").
    const std::string_view name = pair.substr(0, pair.find_first_of("=:."));
    for (std::string_view p : kPatientParameters) {
      if (name == p) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view ResourceType(std::string_view segment) {
  const auto it = std::lower_bound(kResourceTypes.begin(), kResourceTypes.end(), segment);
  return it != kResourceTypes.end() && *it == segment ? *it : std::string_view();
}

bool IsFhirMediaType(std::string_view value) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view range = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    range = range.substr(0, range.find(';'));
    const absl::string_view type = absl::StripAsciiWhitespace(AsAbsl(range));
    for (std::string_view fhir :
         {"application/fhir+json", "application/fhir+xml", "application/json+fhir", "application/xml+fhir"}) {
      if (absl::EqualsIgnoreCase(type, AsAbsl(fhir))) return true;
    }
  }
  return false;
}

bool ParseTarget(std::string_view target, Interaction& out) {
  out = Interaction{};
  // Absolute form (to a proxy): drop the scheme and authority.
  if (!target.starts_with("/")) {
    const size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    const size_t path = target.find('/', scheme_end + 3);
    if (path == std::string_view::npos) return false;
    target.remove_prefix(path);
  }
  const size_t query_start = target.find_first_of("?#");
  const std::string_view path = target.substr(0, query_start);
  std::string_view query;
  if (query_start != std::string_view::npos && target[query_start] == '?') {
    query = target.substr(query_start + 1);
    query = query.substr(0, query.find('#'));
  }
  std::string_view segments[kMaxSegments];
  size_t n = 0;
  for (std::string_view rest = path; !rest.empty();) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty()) continue;
    if (n == kMaxSegments) return false;
    segments[n++] = segment;
  }
  for (size_t i = 0; i < n; ++i) {
    if (segments[i] == "metadata" && i + 1 == n) {
      out.resource = ResourceType("CapabilityStatement");
      out.metadata = true;
      return true;
    }
    const std::string_view type = ResourceType(segments[i]);
    if (type.empty()) continue;  // part of the base
    Interaction candidate;
    candidate.resource = type;
    if (!RestShape(segments + i + 1, n - i - 1, candidate)) continue;
    candidate.names_patient = candidate.names_patient || NamesPatient(query);
    out = candidate;
    return true;
  }
  return false;
}

std::optional<PhiKind> PhiOf(std::string_view resource) {
  const auto it = std::lower_bound(kPhi.begin(), kPhi.end(), resource,
                                   [](const PhiEntry& e, std::string_view r) { return e.resource < r; });
  if (it == kPhi.end() || it->resource != resource) return std::nullopt;
  return it->kind;
}

std::string MessageName(std::string_view method, const Interaction& interaction) {
  std::string name(method);
  if (interaction.metadata) {
    name += " metadata";
  } else if (!interaction.resource.empty()) {
    name += ' ';
    name += interaction.resource;
  }
  return name;
}

}  // namespace auscult::sensor::http::fhir
