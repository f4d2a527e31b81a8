#!/usr/bin/env bash
# Builds the benchmark input (the corpus's mixed/ captures, concatenated and replicated to at least
# a million packets, as classic pcap) and runs the packet-path benchmark and the flood measurement.
#   bench/run_packet_path_bench.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
corpus=../shared/captures/mixed
if [[ ! -d $corpus ]]; then
  echo "run_packet_path_bench: $corpus is not here (the corpus sits beside the clone in the workplace)" >&2
  exit 1
fi
cmake --build "$build" --target auscult-bench-packet-path >/dev/null
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
