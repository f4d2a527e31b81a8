#!/usr/bin/env bash
# Fuzzes every registered parser in turn under ASan/UBSan and prints executions and findings.
#
#   sensor/fuzz/fuzz_parsers.sh [SECONDS_PER_PARSER] [PARSER ...]
#
# Builds build-fuzz/ (clang, -DAUSCULT_FUZZ=ON) if needed, writes seeds from the real captures
# (sensor/fuzz/make_seeds.py) into $FUZZ_DIR/seeds/PARSER, keeps each parser's growing corpus in
# $FUZZ_DIR/corpus/PARSER and any crash in $FUZZ_DIR/crashes/PARSER (FUZZ_DIR defaults to
# /tmp/auscult-fuzz). Exit status 1 when any parser crashed.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-180}
shift || true
fuzz_dir=${FUZZ_DIR:-/tmp/auscult-fuzz}
if [[ ! -x build-fuzz/bin/parser_fuzz ]]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_COMPILER=clang -DAUSCULT_FUZZ=ON >/dev/null
fi
cmake --build build-fuzz --target parser_fuzz >/dev/null
parsers=("$@")
if [[ ${#parsers[@]} -eq 0 ]]; then
  mapfile -t parsers < <(python3 -c 'import importlib.util,sys
spec = importlib.util.spec_from_file_location("m", "sensor/fuzz/make_seeds.py"); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m); print("\n".join(m.SEEDS))')
fi
failed=0
for p in "${parsers[@]}"; do
  mkdir -p "$fuzz_dir/seeds/$p" "$fuzz_dir/corpus/$p" "$fuzz_dir/crashes/$p"
  [[ -n "$(ls -A "$fuzz_dir/seeds/$p")" ]] || sensor/fuzz/make_seeds.py "$p" "$fuzz_dir/seeds/$p" >/dev/null
  log="$fuzz_dir/$p.log"
  status=0
  AUSCULT_FUZZ_PARSER=$p build-fuzz/bin/parser_fuzz -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$fuzz_dir/crashes/$p/" \
    "$fuzz_dir/corpus/$p" "$fuzz_dir/seeds/$p" >"$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  crashes=$(ls -A "$fuzz_dir/crashes/$p" | wc -l)
  echo "$p: $execs executions in ${seconds} s, seeds $(ls "$fuzz_dir/seeds/$p" | wc -l), corpus $(ls "$fuzz_dir/corpus/$p" | wc -l), crashes $crashes, exit $status"
  if [[ $status -ne 0 || $crashes -ne 0 ]]; then failed=1; fi
done
exit $failed
