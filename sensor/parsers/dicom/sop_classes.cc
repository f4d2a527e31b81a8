#include "sensor/parsers/dicom/sop_classes.h"

#include <algorithm>

namespace auscult::sensor::dicom {
namespace {

// SOP classes, from the UID registry of PS3.6 (Table A-1) and the service classes of PS3.4. Each
// UID was checked on this machine against DCMTK 3.6.7's table (dcmFindNameOfUID() in libdcmdata,
// which DCMTK generates from PS3.6): every UID below is there, under a keyword that matches the name
// given here. Names are PS3.6's without the trailing "SOP Class". Retired image storage classes that
// old ultrasound and nuclear medicine systems still send are kept, marked retired; other retired
// classes, DICOS/DICONDE (security and industrial inspection) and rarely seen services (implant
// templates, protocol approval, relevant patient information query, ...) are left out: they come
// back as unknown. Sorted by UID for the binary search (checked at compile time below).
using enum SopCategory;
constexpr SopClass kSopClasses[] = {
    {"1.2.840.10008.1.1", "Verification", kVerification, false, false},
    {"1.2.840.10008.1.20.1", "Storage Commitment Push Model", kStorageCommitment, false, false},
    {"1.2.840.10008.3.1.2.3.3", "Modality Performed Procedure Step", kMpps, false, false},
    {"1.2.840.10008.3.1.2.3.4", "Modality Performed Procedure Step Retrieve", kMpps, false, false},
    {"1.2.840.10008.3.1.2.3.5", "Modality Performed Procedure Step Notification", kMpps, false, false},
    {"1.2.840.10008.5.1.1.1", "Basic Film Session", kPrint, false, false},
    {"1.2.840.10008.5.1.1.14", "Print Job", kPrint, false, false},
    {"1.2.840.10008.5.1.1.15", "Basic Annotation Box", kPrint, false, false},
    {"1.2.840.10008.5.1.1.16", "Printer", kPrint, false, false},
    {"1.2.840.10008.5.1.1.18", "Basic Color Print Management Meta", kPrint, false, false},
    {"1.2.840.10008.5.1.1.2", "Basic Film Box", kPrint, false, false},
    {"1.2.840.10008.5.1.1.22", "VOI LUT Box", kPrint, false, false},
    {"1.2.840.10008.5.1.1.23", "Presentation LUT", kPrint, false, false},
    {"1.2.840.10008.5.1.1.4", "Basic Grayscale Image Box", kPrint, false, false},
    {"1.2.840.10008.5.1.1.4.1", "Basic Color Image Box", kPrint, false, false},
    {"1.2.840.10008.5.1.1.9", "Basic Grayscale Print Management Meta", kPrint, false, false},
    {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage", kImageCr, false, false},
    {"1.2.840.10008.5.1.4.1.1.1.1", "Digital X-Ray Image Storage - For Presentation", kImageDx, false, false},
    {"1.2.840.10008.5.1.4.1.1.1.1.1", "Digital X-Ray Image Storage - For Processing", kImageDx, false, false},
    {"1.2.840.10008.5.1.4.1.1.1.2", "Digital Mammography X-Ray Image Storage - For Presentation", kImageMg, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.1.2.1", "Digital Mammography X-Ray Image Storage - For Processing", kImageMg, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.1.3", "Digital Intra-Oral X-Ray Image Storage - For Presentation", kImageIo, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.1.3.1", "Digital Intra-Oral X-Ray Image Storage - For Processing", kImageIo, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage", kEncapsulatedDocument, false, false},
    {"1.2.840.10008.5.1.4.1.1.104.2", "Encapsulated CDA Storage", kEncapsulatedDocument, false, false},
    {"1.2.840.10008.5.1.4.1.1.104.3", "Encapsulated STL Storage", kEncapsulatedDocument, false, false},
    {"1.2.840.10008.5.1.4.1.1.104.4", "Encapsulated OBJ Storage", kEncapsulatedDocument, false, false},
    {"1.2.840.10008.5.1.4.1.1.104.5", "Encapsulated MTL Storage", kEncapsulatedDocument, false, false},
    {"1.2.840.10008.5.1.4.1.1.11.1", "Grayscale Softcopy Presentation State Storage", kPresentationState, false, false},
    {"1.2.840.10008.5.1.4.1.1.11.10", "Segmented Volume Rendering Volumetric Presentation State Storage",
     kPresentationState, false, false},
    {"1.2.840.10008.5.1.4.1.1.11.11", "Multiple Volume Rendering Volumetric Presentation State Storage",
     kPresentationState, false, false},
    {"1.2.840.10008.5.1.4.1.1.11.2", "Color Softcopy Presentation State Storage", kPresentationState, false, false},
    {"1.2.840.10008.5.1.4.1.1.11.3", "Pseudo Color Softcopy Presentation State Storage", kPresentationState, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.11.4", "Blending Softcopy Presentation State Storage", kPresentationState, false, false},
    {"1.2.840.10008.5.1.4.1.1.11.5", "XA/XRF Grayscale Softcopy Presentation State Storage", kPresentationState, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.11.6", "Grayscale Planar MPR Volumetric Presentation State Storage", kPresentationState,
     false, false},
    {"1.2.840.10008.5.1.4.1.1.11.7", "Compositing Planar MPR Volumetric Presentation State Storage", kPresentationState,
     false, false},
    {"1.2.840.10008.5.1.4.1.1.11.8", "Advanced Blending Presentation State Storage", kPresentationState, false, false},
    {"1.2.840.10008.5.1.4.1.1.11.9", "Volume Rendering Volumetric Presentation State Storage", kPresentationState,
     false, false},
    {"1.2.840.10008.5.1.4.1.1.12.1", "X-Ray Angiographic Image Storage", kImageXa, false, false},
    {"1.2.840.10008.5.1.4.1.1.12.1.1", "Enhanced XA Image Storage", kImageXa, true, false},
    {"1.2.840.10008.5.1.4.1.1.12.2", "X-Ray Radiofluoroscopic Image Storage", kImageRf, false, false},
    {"1.2.840.10008.5.1.4.1.1.12.2.1", "Enhanced XRF Image Storage", kImageRf, true, false},
    {"1.2.840.10008.5.1.4.1.1.12.3", "X-Ray Angiographic Bi-Plane Image Storage (Retired)", kImageXa, false, true},
    {"1.2.840.10008.5.1.4.1.1.128", "Positron Emission Tomography Image Storage", kImagePet, false, false},
    {"1.2.840.10008.5.1.4.1.1.128.1", "Legacy Converted Enhanced PET Image Storage", kImagePet, true, false},
    {"1.2.840.10008.5.1.4.1.1.13.1.1", "X-Ray 3D Angiographic Image Storage", kImageXa, false, false},
    {"1.2.840.10008.5.1.4.1.1.13.1.2", "X-Ray 3D Craniofacial Image Storage", kImageOther, false, false},
    {"1.2.840.10008.5.1.4.1.1.13.1.3", "Breast Tomosynthesis Image Storage", kImageMg, false, false},
    {"1.2.840.10008.5.1.4.1.1.13.1.4", "Breast Projection X-Ray Image Storage - For Presentation", kImageMg, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.13.1.5", "Breast Projection X-Ray Image Storage - For Processing", kImageMg, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.130", "Enhanced PET Image Storage", kImagePet, true, false},
    {"1.2.840.10008.5.1.4.1.1.131", "Basic Structured Display Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.14.1", "Intravascular Optical Coherence Tomography Image Storage - For Presentation",
     kImageOther, false, false},
    {"1.2.840.10008.5.1.4.1.1.14.2", "Intravascular Optical Coherence Tomography Image Storage - For Processing",
     kImageOther, false, false},
    {"1.2.840.10008.5.1.4.1.1.2", "CT Image Storage", kImageCt, false, false},
    {"1.2.840.10008.5.1.4.1.1.2.1", "Enhanced CT Image Storage", kImageCt, true, false},
    {"1.2.840.10008.5.1.4.1.1.2.2", "Legacy Converted Enhanced CT Image Storage", kImageCt, true, false},
    {"1.2.840.10008.5.1.4.1.1.20", "Nuclear Medicine Image Storage", kImageNm, false, false},
    {"1.2.840.10008.5.1.4.1.1.200.1", "CT Defined Procedure Protocol Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.200.2", "CT Performed Procedure Protocol Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.200.3", "Protocol Approval Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.200.7", "XA Defined Procedure Protocol Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.200.8", "XA Performed Procedure Protocol Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.3", "Ultrasound Multi-frame Image Storage (Retired)", kImageUs, false, true},
    {"1.2.840.10008.5.1.4.1.1.3.1", "Ultrasound Multi-frame Image Storage", kImageUs, false, false},
    {"1.2.840.10008.5.1.4.1.1.30", "Parametric Map Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.4", "MR Image Storage", kImageMr, false, false},
    {"1.2.840.10008.5.1.4.1.1.4.1", "Enhanced MR Image Storage", kImageMr, true, false},
    {"1.2.840.10008.5.1.4.1.1.4.2", "MR Spectroscopy Storage", kImageMr, false, false},
    {"1.2.840.10008.5.1.4.1.1.4.3", "Enhanced MR Color Image Storage", kImageMr, true, false},
    {"1.2.840.10008.5.1.4.1.1.4.4", "Legacy Converted Enhanced MR Image Storage", kImageMr, true, false},
    {"1.2.840.10008.5.1.4.1.1.481.1", "RT Image Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.10", "RT Physician Intent Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.11", "RT Segment Annotation Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.12", "RT Radiation Set Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.13", "C-Arm Photon Electron Radiation Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.14", "Tomotherapeutic Radiation Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.15", "Robotic Arm Radiation Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.16", "RT Radiation Record Set Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.17", "RT Radiation Salvage Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.18", "Tomotherapeutic Radiation Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.19", "C-Arm Photon Electron Radiation Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.2", "RT Dose Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.20", "Robotic Radiation Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.21", "RT Radiation Set Delivery Instruction Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.22", "RT Treatment Preparation Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.4", "RT Beams Treatment Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.5", "RT Plan Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.6", "RT Brachy Treatment Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.7", "RT Treatment Summary Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.8", "RT Ion Plan Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.481.9", "RT Ion Beams Treatment Record Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.1.1.5", "Nuclear Medicine Image Storage (Retired)", kImageNm, false, true},
    {"1.2.840.10008.5.1.4.1.1.6", "Ultrasound Image Storage (Retired)", kImageUs, false, true},
    {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage", kImageUs, false, false},
    {"1.2.840.10008.5.1.4.1.1.6.2", "Enhanced US Volume Storage", kImageUs, true, false},
    {"1.2.840.10008.5.1.4.1.1.66", "Raw Data Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.66.1", "Spatial Registration Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.66.2", "Spatial Fiducials Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.66.3", "Deformable Spatial Registration Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.66.4", "Segmentation Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.66.5", "Surface Segmentation Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.66.6", "Tractography Results Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.67", "Real World Value Mapping Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.68.1", "Surface Scan Mesh Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.68.2", "Surface Scan Point Cloud Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage", kImageSc, false, false},
    {"1.2.840.10008.5.1.4.1.1.7.1", "Multi-frame Single Bit Secondary Capture Image Storage", kImageSc, false, false},
    {"1.2.840.10008.5.1.4.1.1.7.2", "Multi-frame Grayscale Byte Secondary Capture Image Storage", kImageSc, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.7.3", "Multi-frame Grayscale Word Secondary Capture Image Storage", kImageSc, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.7.4", "Multi-frame True Color Secondary Capture Image Storage", kImageSc, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1", "VL Image Storage - Trial (Retired)", kImageVl, false, true},
    {"1.2.840.10008.5.1.4.1.1.77.1.1", "VL Endoscopic Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.1.1", "Video Endoscopic Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.2", "VL Microscopic Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.2.1", "Video Microscopic Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.3", "VL Slide Coordinates Microscopic Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.4", "VL Photographic Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.4.1", "Video Photographic Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.1", "Ophthalmic Photography 8 Bit Image Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.2", "Ophthalmic Photography 16 Bit Image Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.3", "Stereometric Relationship Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.4", "Ophthalmic Tomography Image Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.5", "Wide Field Ophthalmic Photography Stereographic Projection Image Storage",
     kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.6", "Wide Field Ophthalmic Photography 3D Coordinates Image Storage", kOphthalmic,
     false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.7", "Ophthalmic Optical Coherence Tomography En Face Image Storage", kOphthalmic,
     false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.5.8", "Ophthalmic Optical Coherence Tomography B-scan Volume Analysis Storage",
     kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.6", "VL Whole Slide Microscopy Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.1.7", "Dermoscopic Photography Image Storage", kImageVl, false, false},
    {"1.2.840.10008.5.1.4.1.1.77.2", "VL Multi-frame Image Storage - Trial (Retired)", kImageVl, false, true},
    {"1.2.840.10008.5.1.4.1.1.78.1", "Lensometry Measurements Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.78.2", "Autorefraction Measurements Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.78.3", "Keratometry Measurements Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.78.4", "Subjective Refraction Measurements Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.78.5", "Visual Acuity Measurements Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.78.6", "Spectacle Prescription Report Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.78.7", "Ophthalmic Axial Measurements Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.78.8", "Intraocular Lens Calculations Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.79.1", "Macular Grid Thickness and Volume Report Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.80.1", "Ophthalmic Visual Field Static Perimetry Measurements Storage", kOphthalmic,
     false, false},
    {"1.2.840.10008.5.1.4.1.1.81.1", "Ophthalmic Thickness Map Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.82.1", "Corneal Topography Map Storage", kOphthalmic, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.34", "Comprehensive 3D SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.35", "Extensible SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.40", "Procedure Log Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.50", "Mammography CAD SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.59", "Key Object Selection Document Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.65", "Chest CAD SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.67", "X-Ray Radiation Dose SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.68", "Radiopharmaceutical Radiation Dose SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.69", "Colon CAD SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.70", "Implantation Plan SR Document Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.71", "Acquisition Context SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.72", "Simplified Adult Echo SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.73", "Patient Radiation Dose SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.88.74", "Planned Imaging Agent Administration SR Storage", kStructuredReport, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.88.75", "Performed Imaging Agent Administration SR Storage", kStructuredReport, false,
     false},
    {"1.2.840.10008.5.1.4.1.1.88.76", "Enhanced X-Ray Radiation Dose SR Storage", kStructuredReport, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.1.1", "12-lead ECG Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.1.2", "General ECG Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.1.3", "Ambulatory ECG Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.2.1", "Hemodynamic Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.3.1", "Cardiac Electrophysiology Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.4.1", "Basic Voice Audio Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.4.2", "General Audio Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.5.1", "Arterial Pulse Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.6.1", "Respiratory Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.6.2", "Multichannel Respiratory Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.7.1", "Routine Scalp Electroencephalogram Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.7.2", "Electromyogram Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.7.3", "Electrooculogram Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.7.4", "Sleep Electroencephalogram Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.9.8.1", "Body Position Waveform Storage", kWaveform, false, false},
    {"1.2.840.10008.5.1.4.1.1.90.1", "Content Assessment Results Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.1.91.1", "Microscopy Bulk Simple Annotations Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.1.2.1.1", "Patient Root Query/Retrieve Information Model - FIND", kQueryFind, false, false},
    {"1.2.840.10008.5.1.4.1.2.1.2", "Patient Root Query/Retrieve Information Model - MOVE", kRetrieveMove, false,
     false},
    {"1.2.840.10008.5.1.4.1.2.1.3", "Patient Root Query/Retrieve Information Model - GET", kRetrieveGet, false, false},
    {"1.2.840.10008.5.1.4.1.2.2.1", "Study Root Query/Retrieve Information Model - FIND", kQueryFind, false, false},
    {"1.2.840.10008.5.1.4.1.2.2.2", "Study Root Query/Retrieve Information Model - MOVE", kRetrieveMove, false, false},
    {"1.2.840.10008.5.1.4.1.2.2.3", "Study Root Query/Retrieve Information Model - GET", kRetrieveGet, false, false},
    {"1.2.840.10008.5.1.4.1.2.3.1", "Patient/Study Only Query/Retrieve Information Model - FIND (Retired)", kQueryFind,
     false, true},
    {"1.2.840.10008.5.1.4.1.2.3.2", "Patient/Study Only Query/Retrieve Information Model - MOVE (Retired)",
     kRetrieveMove, false, true},
    {"1.2.840.10008.5.1.4.1.2.3.3", "Patient/Study Only Query/Retrieve Information Model - GET (Retired)", kRetrieveGet,
     false, true},
    {"1.2.840.10008.5.1.4.1.2.4.2", "Composite Instance Root Retrieve - MOVE", kRetrieveMove, false, false},
    {"1.2.840.10008.5.1.4.1.2.4.3", "Composite Instance Root Retrieve - GET", kRetrieveGet, false, false},
    {"1.2.840.10008.5.1.4.1.2.5.3", "Composite Instance Retrieve Without Bulk Data - GET", kRetrieveGet, false, false},
    {"1.2.840.10008.5.1.4.31", "Modality Worklist Information Model - FIND", kModalityWorklist, false, false},
    {"1.2.840.10008.5.1.4.33", "Instance Availability Notification", kOtherService, false, false},
    {"1.2.840.10008.5.1.4.34.10", "RT Brachy Application Setup Delivery Instruction Storage", kRadiotherapy, false,
     false},
    {"1.2.840.10008.5.1.4.34.6.1", "Unified Procedure Step - Push", kUnifiedProcedureStep, false, false},
    {"1.2.840.10008.5.1.4.34.6.2", "Unified Procedure Step - Watch", kUnifiedProcedureStep, false, false},
    {"1.2.840.10008.5.1.4.34.6.3", "Unified Procedure Step - Pull", kUnifiedProcedureStep, false, false},
    {"1.2.840.10008.5.1.4.34.6.4", "Unified Procedure Step - Event", kUnifiedProcedureStep, false, false},
    {"1.2.840.10008.5.1.4.34.6.5", "Unified Procedure Step - Query", kUnifiedProcedureStep, false, false},
    {"1.2.840.10008.5.1.4.34.7", "RT Beams Delivery Instruction Storage", kRadiotherapy, false, false},
    {"1.2.840.10008.5.1.4.38.1", "Hanging Protocol Storage", kOtherStorage, false, false},
    {"1.2.840.10008.5.1.4.39.1", "Color Palette Storage", kOtherStorage, false, false},
};

// Transfer syntaxes, PS3.6 Table A-1 (names as there; the retired JPEG processes are left out).
// All but the three High-Throughput JPEG 2000 ones (2023) are also in DCMTK 3.6.7's table.
constexpr TransferSyntax kTransferSyntaxes[] = {
    {"1.2.840.10008.1.2", "Implicit VR Little Endian"},
    {"1.2.840.10008.1.2.1", "Explicit VR Little Endian"},
    {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian"},
    {"1.2.840.10008.1.2.2", "Explicit VR Big Endian (Retired)"},
    {"1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"},
    {"1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level"},
    {"1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"},
    {"1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1"},
    {"1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video"},
    {"1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video"},
    {"1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2"},
    {"1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1"},
    {"1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1"},
    {"1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"},
    {"1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)"},
    {"1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression"},
    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"},
    {"1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 and 4)"},
    {"1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"},
    {"1.2.840.10008.1.2.4.70",
     "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])"},
    {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression"},
    {"1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression"},
    {"1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)"},
    {"1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression"},
    {"1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)"},
    {"1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component Image Compression"},
    {"1.2.840.10008.1.2.4.94", "JPIP Referenced"},
    {"1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate"},
    {"1.2.840.10008.1.2.5", "RLE Lossless"},
};

// Implementation class UID roots (PS3.7 D.3.3.2: each implementation puts its class UID under a root
// its maker owns). Only roots with a source:
//   - DCMTK: `echoscu -d` of DCMTK 3.6.7 on this machine sends 1.2.276.0.7230010.3.0.3.6.7
//     ("OFFIS_DCMTK_367"); the root is OFFIS's (DCMTK dcuid.h, OFFIS_UID_ROOT).
//   - dcm4che 1.2.40.0.13.1 (dcm4che Implementation.java: .1.1 for dcm4che2, .1.3 for dcm4che3).
//   - pydicom 1.2.826.0.1.3680043.8.498 (pydicom config) and pynetdicom 1.2.826.0.1.3680043.9.3811
//     (pynetdicom __init__.py, "PYNETDICOM_<version>"), both Medical Connections free roots.
//   - fo-dicom 1.3.6.1.4.1.30071.8 (DicomImplementation.cs; conformance statements of products built
//     on it quote it with "fo-dicom x.y.z"); PEN 30071 is Colby Dillion's, author of mDCM, which
//     fo-dicom grew from.
//   - go-netdicom 1.2.826.0.1.3680043.10.786 (uid.go, "GONETDICOM_1_1").
//   - GDCM 1.2.826.0.1.3680043.2.1143 (its class UID is the root + ".107.104.103.115.<version>",
//     sent with "GDCM <version>" in the files it writes).
//   - MergeCOM-3 2.16.840.1.113669: the toolkit's sample configuration sets its class UID to
//     2.16.840.1.113669.2.1.1 with "MergeCOM3_<version>", and public sample files from products
//     that kept it carry both.
//   - ClearCanvas 1.3.6.1.4.1.25403: IANA PEN 25403 is ClearCanvas Inc. (Wireshark enterprises.tsv).
//   - GE 1.2.840.113619, Siemens 1.3.12.2.1107.5, Philips 1.3.46.670589: the fact sheet's samples
//     of vendor class UIDs (docs medical-device-facts.md, section 2).
//   - Agfa 1.2.124.113532, Fujifilm 1.2.392.200036.9125, Toshiba/Canon 1.2.392.200036.9116: the
//     vendors' roots as seen in their private SOP classes (same fact sheet).
// Carestream, Hologic and Orthanc are not here: no source we could check (Orthanc is built on DCMTK
// and shows as DCMTK unless configured otherwise).
constexpr ImplementationRoot kImplementationRoots[] = {
    {"1.2.276.0.7230010.3", "DCMTK", ImplementationKind::kToolkit},
    {"1.2.40.0.13.1", "dcm4che", ImplementationKind::kToolkit},
    {"1.2.826.0.1.3680043.8.498", "pydicom", ImplementationKind::kToolkit},
    {"1.2.826.0.1.3680043.9.3811", "pynetdicom", ImplementationKind::kToolkit},
    {"1.3.6.1.4.1.30071.8", "fo-dicom", ImplementationKind::kToolkit},
    {"1.2.826.0.1.3680043.10.786", "go-netdicom", ImplementationKind::kToolkit},
    {"1.2.826.0.1.3680043.2.1143", "GDCM", ImplementationKind::kToolkit},
    {"2.16.840.1.113669", "MergeCOM-3 (Merge Healthcare)", ImplementationKind::kToolkit},
    {"1.3.6.1.4.1.25403", "ClearCanvas", ImplementationKind::kToolkit},
    {"1.2.840.113619", "GE Healthcare", ImplementationKind::kVendor},
    {"1.3.12.2.1107.5", "Siemens Healthineers", ImplementationKind::kVendor},
    {"1.3.46.670589", "Philips", ImplementationKind::kVendor},
    {"1.2.124.113532", "Agfa", ImplementationKind::kVendor},
    {"1.2.392.200036.9125", "Fujifilm", ImplementationKind::kVendor},
    {"1.2.392.200036.9116", "Canon Medical (Toshiba)", ImplementationKind::kVendor},
};

constexpr bool SortedUnique(auto const& table) {
  for (size_t i = 1; i < std::size(table); ++i) {
    if (!(table[i - 1].uid < table[i].uid)) return false;
  }
  return true;
}
static_assert(SortedUnique(kSopClasses), "kSopClasses must stay sorted by UID");
static_assert(SortedUnique(kTransferSyntaxes), "kTransferSyntaxes must stay sorted by UID");

template <typename T, size_t N>
const T* FindByUid(const T (&table)[N], std::string_view uid) {
  const T* it = std::lower_bound(table, table + N, uid, [](const T& e, std::string_view u) { return e.uid < u; });
  return it != table + N && it->uid == uid ? it : nullptr;
}

}  // namespace

const char* SopCategoryName(SopCategory c) {
  switch (c) {
    case kUnknown:
      return "unknown";
    case kVerification:
      return "verification";
    case kImageCr:
      return "image_cr";
    case kImageDx:
      return "image_dx";
    case kImageMg:
      return "image_mg";
    case kImageIo:
      return "image_io";
    case kImageCt:
      return "image_ct";
    case kImageMr:
      return "image_mr";
    case kImageUs:
      return "image_us";
    case kImageNm:
      return "image_nm";
    case kImagePet:
      return "image_pet";
    case kImageXa:
      return "image_xa";
    case kImageRf:
      return "image_rf";
    case kImageSc:
      return "image_sc";
    case kImageVl:
      return "image_vl";
    case kImageOther:
      return "image_other";
    case kOphthalmic:
      return "ophthalmic";
    case kRadiotherapy:
      return "radiotherapy";
    case kWaveform:
      return "waveform";
    case kStructuredReport:
      return "structured_report";
    case kPresentationState:
      return "presentation_state";
    case kEncapsulatedDocument:
      return "encapsulated_document";
    case kOtherStorage:
      return "other_storage";
    case kQueryFind:
      return "query_find";
    case kRetrieveMove:
      return "retrieve_move";
    case kRetrieveGet:
      return "retrieve_get";
    case kModalityWorklist:
      return "modality_worklist";
    case kMpps:
      return "mpps";
    case kUnifiedProcedureStep:
      return "unified_procedure_step";
    case kStorageCommitment:
      return "storage_commitment";
    case kPrint:
      return "print";
    case kOtherService:
      return "other_service";
  }
  return "unknown";
}

bool IsStorage(SopCategory c) { return c >= kImageCr && c <= kOtherStorage; }

const SopClass* FindSopClass(std::string_view uid) { return FindByUid(kSopClasses, uid); }
std::span<const SopClass> SopClasses() { return kSopClasses; }

const TransferSyntax* FindTransferSyntax(std::string_view uid) { return FindByUid(kTransferSyntaxes, uid); }
std::span<const TransferSyntax> TransferSyntaxes() { return kTransferSyntaxes; }

const ImplementationRoot* FindImplementation(std::string_view class_uid) {
  const ImplementationRoot* best = nullptr;
  for (const ImplementationRoot& root : kImplementationRoots) {
    if (!class_uid.starts_with(root.prefix)) continue;
    if (class_uid.size() != root.prefix.size() && class_uid[root.prefix.size()] != '.') continue;
    if (!best || root.prefix.size() > best->prefix.size()) best = &root;
  }
  return best;
}
std::span<const ImplementationRoot> ImplementationRoots() { return kImplementationRoots; }

}  // namespace auscult::sensor::dicom
