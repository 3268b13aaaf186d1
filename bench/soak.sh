#!/usr/bin/env bash
# Determinism under load: the output of `netlab run --all` must be the same bytes whatever the
# machine is doing. Makes a reference run per language, then, while BUSY loops keep the cores
# busy (`while :; do :; done`), runs ROUNDS rounds of PARALLEL `run --all` at once and compares
# every output with the reference; then REPEAT runs of each lab in a row, en and zh, compared
# with its snapshot. Prints the failures and exits 1 if any. Not part of `cargo test`.
#
#   bench/soak.sh                         # 2 busy loops, 5 rounds of 8, 50 runs per lab
#   ROUNDS=2 REPEAT=10 bench/soak.sh
#   NETLAB=path/to/netlab bench/soak.sh   # soak another build
set -euo pipefail
cd "$(dirname "$0")/.."
BUSY="${BUSY:-2}"
ROUNDS="${ROUNDS:-5}"
PARALLEL="${PARALLEL:-8}"
REPEAT="${REPEAT:-50}"
if [[ -z "${NETLAB:-}" ]]; then
  cargo build --release --quiet
  NETLAB=target/release/netlab
fi
out=$(mktemp -d)
busy=()
cleanup() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$out"
}
trap cleanup EXIT

for lang in en zh; do
  "$NETLAB" --no-progress --lang "$lang" run --all >"$out/ref.$lang"
done

for _ in $(seq "$BUSY"); do
  bash -c 'while :; do :; done' &
  busy+=($!)
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) with $BUSY busy loops"

failures=0
for round in $(seq "$ROUNDS"); do
  pids=()
  for i in $(seq "$PARALLEL"); do
    lang=en; ((i % 2)) || lang=zh
    "$NETLAB" --no-progress --lang "$lang" run --all >"$out/run.$round.$i.$lang" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  for i in $(seq "$PARALLEL"); do
    lang=en; ((i % 2)) || lang=zh
    if ! cmp -s "$out/ref.$lang" "$out/run.$round.$i.$lang"; then
      failures=$((failures + 1))
      echo "round $round run $i ($lang) differs:"
      diff "$out/ref.$lang" "$out/run.$round.$i.$lang" | head -8
    fi
  done
done
echo "parallel: $ROUNDS rounds of $PARALLEL run --all under load, $failures differing"

lab_failures=0
for snap in snapshots/*.snap; do
  name=$(basename "$snap" .snap)
  # Only the plain traces: .wire needs --wire, .ladder another format.
  [[ $name == *.wire* || $name == *.ladder* ]] && continue
  lab=${name%.zh}
  lang=en; [[ $name == *.zh ]] && lang=zh
  tail -n +4 "$snap" >"$out/snap"
  for n in $(seq "$REPEAT"); do
    if ! "$NETLAB" --no-progress --lang "$lang" run "${lab%%-*}" 2>&1 | cmp -s "$out/snap" -; then
      lab_failures=$((lab_failures + 1))
      echo "$name run $n differs from its snapshot"
    fi
  done
done
echo "in a row: $REPEAT runs of each lab in en and zh under load, $lab_failures differing"
((failures + lab_failures == 0))
