#ifndef AUSCULT_SENSOR_PARSERS_BROWSER_BROWSER_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_BROWSER_BROWSER_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::browser {

// Windows browser announcements on UDP 138 (NetBIOS datagrams to \MAILSLOT\BROWSE): the host's
// NetBIOS name, OS version, server roles (workstation, server, master browser, SQL server, ...),
// comment and workgroup, on the announcing host.
const ParserFactory* Factory();

}  // namespace auscult::sensor::browser

#endif  // AUSCULT_SENSOR_PARSERS_BROWSER_BROWSER_PARSER_H_
