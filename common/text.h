#ifndef AUSCULT_COMMON_TEXT_H_
#define AUSCULT_COMMON_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace auscult {

// Length of the valid UTF-8 sequence that starts at s[i], or 0 if none does (overlong forms,
// surrogates and code points past U+10FFFF are not valid).
size_t Utf8SequenceLength(std::string_view s, size_t i);

// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD. Protobuf string fields
// must hold valid UTF-8 (a peer refuses the whole message otherwise), and text from the wire or
// from file names need not be.
std::string ToValidUtf8(std::string_view s);

// `s` as a fact's value for the wire: valid UTF-8 (see ToValidUtf8), without NUL bytes (which
// PostgreSQL text cannot hold; C strings on the wire often end in one), cut to at most `max_bytes`
// bytes at a character boundary.
std::string FactValue(std::string_view s, size_t max_bytes);

// `s` made safe to print on a terminal or in a log line: valid UTF-8, control characters (which
// could move the cursor or retitle the window) shown as '?', at most `max_chars` characters with
// "…" marking a cut.
std::string Printable(std::string_view s, size_t max_chars = 256);

// Whether `s` holds a C0 control character or DEL: text an operator or analyst gives (names,
// departments, values) that would garble a log line or a terminal.
bool HasControlCharacter(std::string_view s);

// The whole of a file an operator gives (a data file, a CSV import), refused when it cannot be read
// or is larger than `max_bytes` (a wrong path must not make us read a disk image). `what` names the
// file in the message ("TCP fingerprint file").
absl::StatusOr<std::string> ReadFileAtMost(const std::string& path, size_t max_bytes, std::string_view what);

}  // namespace auscult

#endif  // AUSCULT_COMMON_TEXT_H_
