#ifndef AUSCULT_COMMON_FLAGS_H_
#define AUSCULT_COMMON_FLAGS_H_

#include <string>
#include <vector>

namespace auscult {

// Parses the command line of one of our binaries (absl flags: --help, --helpfull, --version and
// --flagfile included) and returns the positional arguments, argv[0] first. --help lists the flags
// defined in the binary's main.cc (Abseil's default only matches files named after the binary).
std::vector<char*> ParseFlags(int argc, char** argv, const char* program, const char* usage);

}  // namespace auscult

#endif  // AUSCULT_COMMON_FLAGS_H_
