#ifndef AUSCULT_SENSOR_PARSERS_HTTP_HTTP_PARSER_H_
#define AUSCULT_SENSOR_PARSERS_HTTP_HTTP_PARSER_H_

#include "sensor/parsers/parser.h"

namespace auscult::sensor::http {

// HTTP/1.x over TCP, recognised by content on any port: the client's User-Agent, the name it asks
// for (Host, a fact about the server), and the server's Server header. Message bodies are skipped
// by Content-Length or chunk sizes and never looked at.
const ParserFactory* Factory();

}  // namespace auscult::sensor::http

#endif  // AUSCULT_SENSOR_PARSERS_HTTP_HTTP_PARSER_H_
