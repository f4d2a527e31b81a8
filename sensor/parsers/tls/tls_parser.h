#ifndef AUSCULT_SENSOR_PARSERS_TLS_TLS_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_TLS_TLS_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::tls {

// TLS over TCP, recognised by content on any port (and looked for after the plaintext start of
// protocols that upgrade to TLS, such as SMTP STARTTLS or MySQL): from the ClientHello the server
// name (SNI, a fact about the server), the ALPN protocols and highest version offered and a JA3
// fingerprint of the client; from the ServerHello the version and protocol picked and a JA3S
// fingerprint; from a TLS 1.2-or-earlier Certificate message the leaf certificate's subject,
// issuer and validity, with self-signed and expired certificates as risks. Stops reading once
// the handshake is encrypted.
const ParserFactory* Factory();

}  // namespace auscult::sensor::tls

#endif  // AUSCULT_SENSOR_PARSERS_TLS_TLS_PARSER_H_
