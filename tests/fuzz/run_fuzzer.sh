#!/usr/bin/env bash
# One fuzz target (or one parser of parser_fuzz) for a fixed number of executions, as a ctest test
# (tests/fuzz/CMakeLists.txt). Every seed and every regression input is run first, then libFuzzer
# mutates them until RUNS executions in all, with a fixed -seed (nearly the same inputs every run;
# a finding is saved as a file, and its bytes are in the report). Exit 0 clean, 77 (ctest: skipped)
# when the fuzz build is absent, else 1.
#
#   tests/fuzz/run_fuzzer.sh SOURCE_DIR FUZZ_BIN_DIR WORK_DIR RUNS TARGET [PARSER]
#
# AUSCULT_FUZZ_RUNS, when set, replaces RUNS (more executions by hand, same command).
set -uo pipefail
src=$1 bin=$2 work=$3 runs=${AUSCULT_FUZZ_RUNS:-$4} target=$5 parser=${6:-}
name=$target${parser:+/$parser}
exe=$bin/$target

if [[ ! -x $exe ]]; then
  echo "SKIPPED: $exe is not built. The fuzz targets need clang (libFuzzer), in a build tree of their own;"
  echo "tests/run.sh makes it, or by hand (deploy/lib/build.sh):"
  echo "  source deploy/lib/build.sh && auscult_fuzz_build ${bin%/bin}"
  exit 77
fi

# What each target starts from: inputs that exist in every clone (the workplace's ../shared is not
# read: the same seeds everywhere, whatever the machine has beside the clone).
if [[ $target == capture_fuzz ]]; then
  seeds=("$src/tests/data/captures")
else
  seeds=("$src/tests/data/fuzz-seeds/$name")
fi
regressions=$src/tests/data/fuzz-regressions/$name
[[ -d $regressions ]] && seeds+=("$regressions")
for d in "${seeds[@]}"; do
  [[ -d $d ]] || { echo "FAILED: no seed directory $d"; exit 1; }
done

out=$work/$name
rm -rf "$out"
mkdir -p "$out/corpus" "$out/crashes"
log=$out/log
# The first directory is where libFuzzer writes what it finds: a scratch one, never the tree.
# -timeout: an input that takes 10 s is a hang, a finding like a crash. -error_exitcode: libFuzzer's
# own is 77, ctest's code for a skipped test.
start=${EPOCHREALTIME//[.,]/}  # microseconds
AUSCULT_FUZZ_PARSER=$parser UBSAN_OPTIONS=print_stacktrace=1 "$exe" -runs="$runs" -seed=1 -timeout=10 \
  -error_exitcode=1 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/" \
  "$out/corpus" "${seeds[@]}" >"$log" 2>&1
status=$?
elapsed_ms=$(((${EPOCHREALTIME//[.,]/} - start) / 1000))

execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
count() { find "$@" -type f 2>/dev/null | wc -l; }
regression_count=0
[[ -d $regressions ]] && regression_count=$(count "$regressions")
printf '%s: %s executions in %d.%d s (seeds %s, regressions %s, new corpus inputs %s), exit %s\n' "$name" \
  "${execs:-?}" $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) "$(count "${seeds[0]}")" "$regression_count" \
  "$(count "$out/corpus")" "$status"
crashes=$(count "$out/crashes")
if [[ $status -ne 0 || $crashes -ne 0 || -z $execs ]]; then
  echo "FAILED: $name crashed or broke a contract; libFuzzer's report (the end of $log):"
  tail -n 60 "$log"
  for f in "$out"/crashes/*; do
    [[ -e $f ]] || continue
    echo "input: $f"
    echo "  reproduce: ${parser:+AUSCULT_FUZZ_PARSER=$parser }$exe $f"
    echo "  once fixed, keep it: cp $f $src/tests/data/fuzz-regressions/$name/ (docs/fuzzing.md)"
  done
  exit 1
fi
