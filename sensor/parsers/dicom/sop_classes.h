#ifndef AUSCULT_SENSOR_PARSERS_DICOM_SOP_CLASSES_H_
#define AUSCULT_SENSOR_PARSERS_DICOM_SOP_CLASSES_H_

// What the UIDs of an association mean: SOP classes (what a device does: a CT sending images, a
// modality querying its worklist, a workstation printing film), transfer syntaxes, and the
// implementation class UID roots that name the toolkit or vendor behind an application entity.
// Sources are cited in sop_classes.cc.

#include <cstdint>
#include <span>
#include <string_view>

namespace auscult::sensor::dicom {

inline constexpr std::string_view kApplicationContextName = "1.2.840.10008.3.1.1.1";  // PS3.7 Annex A.2.1

// What a SOP class is for, with image storage split by the modality that produces it.
enum class SopCategory : uint8_t {
  kUnknown,
  kVerification,  // C-ECHO
  // Image storage, by modality.
  kImageCr,
  kImageDx,
  kImageMg,  // mammography, breast tomosynthesis
  kImageIo,  // intra-oral X-ray
  kImageCt,
  kImageMr,
  kImageUs,
  kImageNm,
  kImagePet,
  kImageXa,  // X-ray angiography
  kImageRf,  // radiofluoroscopy
  kImageSc,  // secondary capture
  kImageVl,  // visible light: endoscopy, microscopy, photography, whole slide
  kImageOther,
  // Other storage.
  kOphthalmic,  // ophthalmic images and measurements
  kRadiotherapy,
  kWaveform,  // ECG, hemodynamic, EEG, audio
  kStructuredReport,
  kPresentationState,
  kEncapsulatedDocument,  // PDF, CDA, STL, ...
  kOtherStorage,          // registration, segmentation, raw data, hanging protocols, ...
  // Services.
  kQueryFind,  // query/retrieve C-FIND
  kRetrieveMove,
  kRetrieveGet,
  kModalityWorklist,
  kMpps,  // modality performed procedure step
  kUnifiedProcedureStep,
  kStorageCommitment,
  kPrint,
  kOtherService,
};
// A short label: "verification", "image_ct", "modality_worklist", "mpps", ...
const char* SopCategoryName(SopCategory c);
// Whether the category is a storage SOP class (its data sets are instances: images, reports, ...).
bool IsStorage(SopCategory c);

struct SopClass {
  std::string_view uid;
  std::string_view name;  // the PS3.6 name, without a trailing "SOP Class": "CT Image Storage"
  SopCategory category;
  bool enhanced;  // an enhanced (or legacy converted enhanced) multi-frame image IOD
  bool retired;
};
// The SOP class with this UID, or nullptr.
const SopClass* FindSopClass(std::string_view uid);
// The whole table, sorted by UID.
std::span<const SopClass> SopClasses();

struct TransferSyntax {
  std::string_view uid;
  std::string_view name;  // PS3.6: "Implicit VR Little Endian", "JPEG Baseline (Process 1)", ...
};
const TransferSyntax* FindTransferSyntax(std::string_view uid);
std::span<const TransferSyntax> TransferSyntaxes();

// An implementation class UID root and whose it is.
enum class ImplementationKind : uint8_t { kToolkit, kVendor };
struct ImplementationRoot {
  std::string_view prefix;  // matched on whole components: "1.2.840.113619" does not match "1.2.840.1136190"
  std::string_view name;    // "DCMTK", "GE Healthcare", ...
  ImplementationKind kind;
};
// The longest known root `class_uid` falls under, or nullptr.
const ImplementationRoot* FindImplementation(std::string_view class_uid);
std::span<const ImplementationRoot> ImplementationRoots();

}  // namespace auscult::sensor::dicom

#endif  // AUSCULT_SENSOR_PARSERS_DICOM_SOP_CLASSES_H_
