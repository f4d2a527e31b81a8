#ifndef AUSCULT_SENSOR_PARSERS_SSH_SSH_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_SSH_SSH_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::ssh {

// SSH on any TCP port, recognised by its identification string: each side's software as it
// announces itself ("SSH-2.0-OpenSSH_9.2p1 Debian-2"), the responder's as a server's. Everything
// after the two strings is encrypted and not read.
const ParserFactory* Factory();

}  // namespace auscult::sensor::ssh

#endif  // AUSCULT_SENSOR_PARSERS_SSH_SSH_PARSER_H_
