#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a private PostgreSQL cluster, runs every
# test with ctest, and stops what it started. Exits non-zero on any failure. CI runs exactly this.
#
#   tests/run.sh [ctest arguments...]      e.g. tests/run.sh -R e2e
#   AUSCULT_SANITIZE=address,undefined tests/run.sh
#       the same suite on a sanitizer build (build-sanitize/): every test binary, and the sensor,
#       collector and CLI they start, stop at the first memory error or undefined behaviour
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

deploy/install-deps.sh --test

source deploy/lib/build.sh
source deploy/lib/pg.sh
sanitize=${AUSCULT_SANITIZE:-}
if [[ -n $sanitize ]]; then
  build=${AUSCULT_BUILD_DIR:-$root/build-sanitize}
  fuzz_build=$root/build-fuzz  # the fuzz targets are sanitizer builds already: share the usual tree
  cmake -S . -B "$build" -G Ninja -DAUSCULT_SANITIZE="$sanitize" -DAUSCULT_FUZZ_BIN_DIR="$fuzz_build/bin" >/dev/null
  # UB must fail the test that meets it, not scroll past in a log.
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
else
  build=${AUSCULT_BUILD_DIR:-$root/build}
  fuzz_build=$build-fuzz
fi
auscult_build "$build"
# The fuzz targets need clang's libFuzzer: a second tree of them alone, where the main tree's fuzz
# tests look for it (tests/fuzz/CMakeLists.txt).
auscult_fuzz_build "$fuzz_build"

# Short and world-traversable, so that "postgres" can own it when we are root.
state=$(mktemp -d /tmp/auscult-test.XXXXXX)
chmod 0755 "$state"
cleanup() {
  auscult_pg_stop "$state/pg"
  rm -rf "$state"
}
trap cleanup EXIT
# fsync off: test data need not survive a power cut, and it halves the suite's time.
AUSCULT_PG_PORT=$((50000 + RANDOM % 10000)) auscult_pg_start "$state/pg" -c fsync=off -c max_connections=300
export AUSCULT_TEST_PG_URI=$AUSCULT_PG_ADMIN_URI
echo "tests/run.sh: PostgreSQL for tests at $AUSCULT_TEST_PG_URI" >&2

ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600 "$@"
