# All dependencies come from Debian 12 packages (see docs/architecture.md and deploy/install-deps.sh).
find_package(Threads REQUIRED)
# Debian ships no protobuf-config.cmake: CMake's FindProtobuf module provides protobuf_generate().
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
# libcrypto (libssl-dev) for the MD5 of TLS fingerprints; gRPC loads it at run time anyway.
find_package(OpenSSL REQUIRED)
# libpqxx.pc does not name libpq, so both are needed.
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
# RE2 (a gRPC dependency already) for the operators' regular expressions in the device rules file:
# linear-time matching, so no rule and no evidence value can make classification hang.
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  find_package(GTest CONFIG REQUIRED)
endif()
