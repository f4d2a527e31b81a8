#ifndef AUSCULT_SENSOR_PARSERS_SSH_SSH_MESSAGE_H_
#define AUSCULT_SENSOR_PARSERS_SSH_SSH_MESSAGE_H_

#include <string>
#include <string_view>

namespace auscult::sensor::ssh {

// The identification string each side sends first (RFC 4253 §4.2):
//   SSH-protoversion-softwareversion SP comments CR LF
//   e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"; protoversion "2.0" (or "1.99" for a server that
//   also speaks SSH 1, RFC 4253 §5.1); softwareversion printable US-ASCII without space or '-';
//   comments optional. At most 255 bytes with the CR LF, no NUL. A server may send other lines
//   before it (they do not begin with "SSH-"); the binary packet protocol follows it.
struct Identification {
  std::string line;  // the whole string, without CR LF (what tshark shows as ssh.protocol)
  std::string protocol_version;
  std::string software_version;
  std::string comments;
};

inline constexpr size_t kMaxIdentification = 255;  // with CR LF

enum class Error { kNone, kNotIdentification, kTooLong, kMalformed };
const char* ErrorName(Error e);

// Parses one line without its line end (a trailing CR is ignored). kNotIdentification for a line
// that does not begin with "SSH-" (one of the lines a server may send before).
bool ParseIdentification(std::string_view line, Identification& out, Error& error);

}  // namespace auscult::sensor::ssh

#endif  // AUSCULT_SENSOR_PARSERS_SSH_SSH_MESSAGE_H_
