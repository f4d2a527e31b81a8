#!/usr/bin/env bash
# Fails when a parser that parser_fuzz knows (sensor/parsers/registry.cc, and tcp_os) has no seed
# directory in tests/data/fuzz-seeds/parser_fuzz, and so no fuzz test. Exit 77 without the fuzz build.
#
#   tests/fuzz/check_parser_seeds.sh SOURCE_DIR FUZZ_BIN_DIR
set -uo pipefail
src=$1 exe=$2/parser_fuzz
if [[ ! -x $exe ]]; then
  echo "SKIPPED: $exe is not built (see tests/fuzz/run_fuzzer.sh)"
  exit 77
fi
if ! names=$(AUSCULT_FUZZ_PARSER=list "$exe" -runs=1 2>/dev/null); then
  echo "FAILED: $exe could not list its parsers"
  exit 1
fi
missing=0
for p in $names; do
  if [[ ! -d $src/tests/data/fuzz-seeds/parser_fuzz/$p ]]; then
    echo "FAILED: parser $p has no seeds in tests/data/fuzz-seeds/parser_fuzz/$p, so no fuzz test" \
      "(docs/fuzzing.md, Seeds)"
    missing=1
  fi
done
echo "parsers: $(echo $names | wc -w), each with seeds: $([[ $missing -eq 0 ]] && echo yes || echo no)"
exit $missing
