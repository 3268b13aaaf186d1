#!/usr/bin/env bash
# Times every lab (release build): N runs each, mean and worst wall time, and the peak memory
# of one run. The target is a lab in well under 3 s (the trace contract); labs that exceed
# TARGET_MS are listed and the script exits 1. Not part of `cargo test`: timings belong here.
#
#   bench/labs.sh            # 20 runs per lab
#   RUNS=5 bench/labs.sh     # fewer
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-20}"
TARGET_MS="${TARGET_MS:-3000}"
cargo build --release --quiet
bin=target/release/netlab
slow=()
printf '%-24s %8s %8s %10s\n' lab mean_ms max_ms peak_kib
for lab in $("$bin" list | awk '{print $1}'); do
  total=0 max=0
  for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    "$bin" run "$lab" >/dev/null
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    total=$((total + ms))
    (( ms > max )) && max=$ms
  done
  peak=$( { /usr/bin/time -f '%M' "$bin" run "$lab" >/dev/null; } 2>&1 | tail -1 ) || peak='?'
  printf '%-24s %8d %8d %10s\n' "$lab" $((total / RUNS)) "$max" "$peak"
  (( max > TARGET_MS )) && slow+=("$lab")
done
if ((${#slow[@]})); then
  echo "over ${TARGET_MS} ms: ${slow[*]}"
  exit 1
fi
