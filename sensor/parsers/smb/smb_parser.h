#ifndef AUSCULT_SENSOR_PARSERS_SMB_SMB_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_SMB_SMB_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::smb {

// SMB1 and SMB2/3 over TCP 445 (direct) and 139 (NetBIOS session service), up to the end of the
// session setup: the OS and LAN manager each side names (SMB1), the dialect a server picks, the
// NetBIOS names of a session request, and what NTLMSSP inside the security blobs says of the
// server (NetBIOS and DNS names and domain, OS version) and of the client (workstation name,
// domain, OS version). Never the user name, never a response or hash, never a file.
const ParserFactory* Factory();

}  // namespace auscult::sensor::smb

#endif  // AUSCULT_SENSOR_PARSERS_SMB_SMB_PARSER_H_
