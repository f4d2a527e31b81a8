#!/usr/bin/env bash
# Builds the benchmark input (the corpus's mixed/ captures, concatenated and replicated to at least
# a million packets, as classic pcap) and runs the packet-path benchmark and the flood measurement;
# then the whole auscult-sensor binary against two independent readers of the same file, ndpiReader
# (nDPI's flow classifier, Debian libndpi-bin) and `tshark -q` (Wireshark's full dissection), each
# the best wall clock of three runs, as packets per second and as ratios.
#   bench/run_packet_path_bench.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
corpus=../shared/captures/mixed
if [[ ! -d $corpus ]]; then
  echo "run_packet_path_bench: $corpus is not here (the corpus sits beside the clone in the workplace)" >&2
  exit 1
fi
cmake --build "$build" --target auscult-bench-packet-path auscult-sensor >/dev/null
input=$(mktemp /tmp/auscult-bench-XXXXXX.pcap)
trap 'rm -f "$input" "$input.one"' EXIT
mergecap -F pcap -a -w "$input.one" "$corpus"/*.pcap
per_copy=$(capinfos -c -M "$input.one" | awk '/Number of packets/ {print $NF}')
copies=$(( (1000000 + per_copy - 1) / per_copy ))
files=()
for _ in $(seq "$copies"); do files+=("$input.one"); done
mergecap -F pcap -a -w "$input" "${files[@]}"
echo "input: $copies copies of $(ls "$corpus"/*.pcap | wc -l) mixed captures ($per_copy packets each)"
"$build/bin/auscult-bench-packet-path" --input="$input" --repeat=3
"$build/bin/auscult-bench-packet-path" --flood=1000000

packets=$(capinfos -c -M "$input" | awk '/Number of packets/ {print $NF}')
# Best wall-clock seconds of three runs of a command, its output discarded.
best_of_three() {
  local best= start end t
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "run_packet_path_bench: failed: $*" >&2; exit 1; }
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}')
    if [[ -z $best ]] || awk -v t="$t" -v b="$best" 'BEGIN {exit !(t < b)}'; then best=$t; fi
  done
  echo "$best"
}
echo
echo "whole binaries on the same $packets packets (best of 3, wall clock, one core each):"
sensor_s=$(best_of_three "$build/bin/auscult-sensor" --pcap="$input" --output=null --progress=never)
awk -v n="$packets" -v t="$sensor_s" \
  'BEGIN {printf "  %-40s %7.2f s  %6.3f M packets/s\n", "auscult-sensor --output=null", t, n / t / 1e6}'
# tshark -q alone dissects without building protocol trees (nothing asks for them); with the
# protocol hierarchy statistics (-z io,phs) every frame is dissected into a tree, as when reading.
for tool in "ndpiReader -q -i" "tshark -q -n -r" "tshark -q -n -z io,phs -r"; do
  name=${tool%% *}
  if ! command -v "$name" >/dev/null; then
    echo "  $name: not installed (deploy/install-deps.sh installs it); skipped"
    continue
  fi
  # shellcheck disable=SC2086  # the tool's flags are split on purpose
  t=$(best_of_three $tool "$input")
  awk -v n="$packets" -v t="$t" -v s="$sensor_s" -v tool="$tool FILE" -v name="$name" \
    'BEGIN {printf "  %-40s %7.2f s  %6.3f M packets/s   sensor/%s %.2f\n", tool, t, n / t / 1e6, name, t / s}'
done
