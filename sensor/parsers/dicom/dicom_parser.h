#ifndef AUSCULT_SENSOR_PARSERS_DICOM_DICOM_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_DICOM_DICOM_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::dicom {

// The DICOM upper layer on any TCP port, recognised by an A-ASSOCIATE-RQ at the start of the flow
// (or, on 104, 11112 and 4242, any PDU header). Tags the flow clinical; counts association PDUs
// and DIMSE commands (with response times), and the patient data they move (C-STORE of an
// instance: images; worklist and query matches: worklist) by kind, never reading a data set.
// Reports about the devices their AE titles, roles (dicom-scu, dicom-scp), the SOP classes they
// were accepted for (as SCU or SCP), their implementation class UID and version name (and the
// toolkit or vendor it names), and user identity sent in clear (a risk; never the credential).
const ParserFactory* Factory();

}  // namespace auscult::sensor::dicom

#endif  // AUSCULT_SENSOR_PARSERS_DICOM_DICOM_PARSER_H_
