#!/usr/bin/env bash
# A fuzzing campaign: every fuzz target, and every parser of parser_fuzz, for SECONDS each, one
# after the other under ASan/UBSan, printing per target the executions, the corpus and the crashes,
# then the same as a Markdown table for docs/fuzzing.md. Exit status 1 when any target crashed.
#
#   tests/fuzz/campaign.sh SECONDS [TARGET|PARSER ...]
#   tests/fuzz/campaign.sh 600                          # everything, 10 minutes each
#   tests/fuzz/campaign.sh 60 decoder_fuzz tls smb      # targets by name, parsers by theirs
#   tests/fuzz/campaign.sh 180 parsers                  # every parser (sensor/fuzz/fuzz_parsers.sh)
#
# Builds the fuzz tree (FUZZ_BUILD_DIR, default build-fuzz; deploy/lib/build.sh) unless FUZZ_BIN
# names a directory with the targets already built. Each target starts from the seeds the test suite
# uses, its regressions, and what earlier campaigns found: the corpus grows in $FUZZ_DIR/corpus/NAME
# and crashes land in $FUZZ_DIR/crashes/NAME (FUZZ_DIR defaults to /tmp/auscult-fuzz; NAME is the
# target, or the parser's name for parser_fuzz). Parsers also get seeds from every capture under
# ../shared/captures, when it is there (sensor/fuzz/make_seeds.py, with tshark), once.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
seconds=${1:?usage: tests/fuzz/campaign.sh SECONDS [TARGET|PARSER ...]}
shift
fuzz_dir=${FUZZ_DIR:-/tmp/auscult-fuzz}
targets=(capture_fuzz decoder_fuzz reassembly_fuzz rules_fuzz batch_fuzz segments_fuzz)

if [[ -n ${FUZZ_BIN:-} ]]; then
  bin=$FUZZ_BIN
else
  source deploy/lib/build.sh
  auscult_fuzz_build "${FUZZ_BUILD_DIR:-build-fuzz}" >/dev/null
  bin=${FUZZ_BUILD_DIR:-build-fuzz}/bin
fi
parsers=()
mapfile -t parsers < <(AUSCULT_FUZZ_PARSER=list "$bin/parser_fuzz" -runs=1 2>/dev/null)

names=()
for a in "$@"; do
  if [[ $a == parsers ]]; then names+=("${parsers[@]}"); else names+=("$a"); fi
done
[[ ${#names[@]} -gt 0 ]] || names=("${targets[@]}" "${parsers[@]}")

rows=()
failed=0
for name in "${names[@]}"; do
  parser=
  target=$name
  if [[ " ${parsers[*]} " == *" $name "* ]]; then
    parser=$name
    target=parser_fuzz
  elif [[ " ${targets[*]} " != *" $name "* ]]; then
    echo "$name: neither a fuzz target (${targets[*]}) nor a parser (${parsers[*]})" >&2
    exit 2
  fi
  key=${parser:-$target}
  mkdir -p "$fuzz_dir/corpus/$key" "$fuzz_dir/crashes/$key"
  # Seeds as in tests/fuzz/run_fuzzer.sh, plus the workplace's captures where they are.
  case $target in
    capture_fuzz)
      seeds=("$root/tests/data/captures")
      [[ -d $root/../shared/captures ]] && seeds+=("$root/../shared/captures")
      ;;
    parser_fuzz)
      seeds=("$root/tests/data/fuzz-seeds/parser_fuzz/$parser")
      if [[ -d $root/../shared/captures ]]; then
        mkdir -p "$fuzz_dir/seeds/$parser"
        [[ -n "$(ls -A "$fuzz_dir/seeds/$parser")" ]] ||
          sensor/fuzz/make_seeds.py "$parser" "$fuzz_dir/seeds/$parser" >/dev/null
        seeds+=("$fuzz_dir/seeds/$parser")
      fi
      ;;
    *) seeds=("$root/tests/data/fuzz-seeds/$target") ;;
  esac
  regressions=$root/tests/data/fuzz-regressions/${parser:+parser_fuzz/}$key
  [[ -d $regressions ]] && seeds+=("$regressions")
  existing=()
  for d in "${seeds[@]}"; do [[ -d $d ]] && existing+=("$d"); done
  # Capture files and parser flows are larger than libFuzzer's default of 4 KiB.
  max_len=()
  [[ $target == capture_fuzz || $target == parser_fuzz ]] && max_len=(-max_len=65536)
  log=$fuzz_dir/$key.log
  status=0
  AUSCULT_FUZZ_PARSER=$parser UBSAN_OPTIONS=print_stacktrace=1 "$bin/$target" -max_total_time="$seconds" \
    "${max_len[@]}" -timeout=10 -error_exitcode=1 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$fuzz_dir/crashes/$key/" "$fuzz_dir/corpus/$key" "${existing[@]}" >"$log" 2>&1 || status=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  corpus=$(find "$fuzz_dir/corpus/$key" -type f | wc -l)
  crashes=$(find "$fuzz_dir/crashes/$key" -type f | wc -l)
  echo "$key: $execs executions in $seconds s, corpus $corpus, crashes $crashes, exit $status (log $log)"
  rows+=("| ${parser:+parser_fuzz: }$key | $seconds | $execs | $corpus | $crashes |")
  if [[ $status -ne 0 || $crashes -ne 0 ]]; then failed=1; fi
done

echo
echo "| target | seconds | executions | corpus | crashes |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
exit $failed
