#!/usr/bin/env bash
# Fuzzes every registered parser in turn under ASan/UBSan and prints executions and findings.
#
#   sensor/fuzz/fuzz_parsers.sh [SECONDS_PER_PARSER] [PARSER ...]
#
# Now a shorthand for tests/fuzz/campaign.sh, which runs the other fuzz targets too and says where
# seeds, corpora and crashes go ($FUZZ_DIR/corpus/PARSER, $FUZZ_DIR/crashes/PARSER, as before).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-180}
shift || true
if [[ $# -eq 0 ]]; then set -- parsers; fi
exec tests/fuzz/campaign.sh "$seconds" "$@"
