#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a private PostgreSQL cluster, runs every
# test with ctest, and stops what it started. Exits non-zero on any failure. CI runs exactly this.
#
#   tests/run.sh [ctest arguments...]      e.g. tests/run.sh -R e2e
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

deploy/install-deps.sh --test

source deploy/lib/build.sh
source deploy/lib/pg.sh
build=${AUSCULT_BUILD_DIR:-$root/build}
auscult_build "$build"
# The fuzz targets need clang's libFuzzer: a second tree of them alone, where the main tree's fuzz
# tests look for it (tests/fuzz/CMakeLists.txt).
auscult_fuzz_build "$build-fuzz"

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
