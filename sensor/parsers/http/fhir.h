#ifndef AUSCULT_SENSOR_PARSERS_HTTP_FHIR_H_
#define AUSCULT_SENSOR_PARSERS_HTTP_FHIR_H_

// HL7 FHIR's RESTful API (https://hl7.org/fhir/R4/http.html) as it shows in an HTTP/1.x request:
//
//   [base]/[type]                  search (GET) or create (POST)     [base]/[type]/_search   search
//   [base]/[type]/[id]             read, update, patch, delete       [base]/[type]/_history  history
//   [base]/[type]/[id]/_history[/[vid]]                              [base]/metadata  capabilities
//   [base]/[type]/$[operation]     [base]/[type]/[id]/$[operation]   [base]/Patient/[id]/[type]
//                                                                    (a search in a patient's compartment)
//   ...?[parameter]=[value]&...    search parameters (hold patient ids, names, dates: never kept)
//
// [base] is any path (`/fhir`, `/baseR4`, `/api/FHIR/R4`, or none). Media types
// `application/fhir+json`, `application/fhir+xml` (R4) and `application/json+fhir`,
// `application/xml+fhir` (DSTU2) in Content-Type or Accept also say FHIR.
//
// Only a resource type from the fixed list below ever leaves this file: never an id, a parameter
// or a body. What the decoder returns are views into that list (static storage), not into the
// request.

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "sensor/observations.h"

namespace auscult::sensor::http::fhir {

// Every resource type of FHIR R4 (4.0.1), sorted (as generated in HAPI's org.hl7.fhir.r4 ResourceType).
inline constexpr auto kResourceTypes = std::to_array<std::string_view>({
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
});
static_assert(kResourceTypes.size() == 146);
static_assert(std::is_sorted(kResourceTypes.begin(), kResourceTypes.end()));

// The resource type `segment` is (compared exactly: FHIR types are case-sensitive), as a view into
// kResourceTypes; empty when it is none.
std::string_view ResourceType(std::string_view segment);

// Whether a Content-Type value, or any media range of an Accept list, is a FHIR media type.
bool IsFhirMediaType(std::string_view header_value);

// What a request target says of a FHIR interaction.
struct Interaction {
  std::string_view resource;  // a type from kResourceTypes ("CapabilityStatement" for metadata); empty: none
  bool metadata = false;      // [base]/metadata
  // The request picks patients: a search in a patient's compartment, or a search parameter that
  // names patients or their records (patient, subject, identifier, _id, name, family, given,
  // birthdate, with any modifier or chain).
  bool names_patient = false;
};

// Reads a request target (origin form "/a/b?q", or absolute form "http://host/a/b?q"). False when
// its path has no FHIR REST shape (above): no known resource type followed by what the API allows.
bool ParseTarget(std::string_view target, Interaction& out);

// The kind of patient data a resource type holds, if any (see docs/parsers.md, "FHIR"):
// demographics (Patient, Person, RelatedPerson), visits (Encounter, EpisodeOfCare, Appointment),
// insurance (Coverage, CoverageEligibilityRequest/Response, Claim, ClaimResponse,
// ExplanationOfBenefit), diagnoses (Condition, AllergyIntolerance, Procedure, FamilyMemberHistory,
// ClinicalImpression), orders and results (Observation, DiagnosticReport, ServiceRequest,
// MedicationRequest, MedicationAdministration, MedicationDispense, MedicationStatement,
// Immunization, Specimen, ImagingStudy, Media, DocumentReference, Composition, CarePlan,
// QuestionnaireResponse). Definitional and administrative types (CapabilityStatement, Device,
// Organization, ValueSet, ...) hold none.
std::optional<PhiKind> PhiOf(std::string_view resource);

// The name an interaction is counted under: "GET Patient", "POST Observation", "GET metadata", or
// the method alone when the target names no type (a transaction Bundle POSTed to [base]).
std::string MessageName(std::string_view method, const Interaction& interaction);

}  // namespace auscult::sensor::http::fhir

#endif  // AUSCULT_SENSOR_PARSERS_HTTP_FHIR_H_
