#!/usr/bin/env bash
# Does a lab's time grow with the host's TCP table? Times `netlab run 06` (release build) in a
# private user + network namespace twice: idle, then with TW_COUNT connections in TIME_WAIT
# that have nothing to do with the lab (a small python3 program opens and closes them, client
# first, so each leaves its client end in TIME_WAIT for 60 s). Prints both medians over RUNS
# runs and exits 1 when the loaded median is more than MAX_RATIO times the idle one.
# Not part of `cargo test`: timings belong here.
#
#   bench/time_wait_load.sh                  # 5,000 TIME_WAIT sockets, 15 runs each
#   TW_COUNT=28500 RUNS=9 bench/time_wait_load.sh
#   NETLAB=path/to/netlab bench/time_wait_load.sh    # time another build
#
# Needs unshare(1) with user namespaces allowed, and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-15}"
TW_COUNT="${TW_COUNT:-5000}"
MAX_RATIO="${MAX_RATIO:-1.5}"
LAB="${LAB:-06}"
if [[ -z "${NETLAB:-}" ]]; then
  cargo build --release --quiet
  NETLAB=target/release/netlab
fi
NETLAB="$(realpath "$NETLAB")"
export RUNS TW_COUNT MAX_RATIO LAB NETLAB

if ! unshare -rn true 2>/dev/null; then
  echo "time_wait_load: unshare -rn is refused here (no user namespaces); nothing measured" >&2
  exit 2
fi

exec unshare -rn bash -euo pipefail -c '
ip link set lo up

# Median wall time of RUNS runs of the lab, in microseconds.
median_us() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(date +%s%N)
    "$NETLAB" run "$LAB" >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
  done
  printf "%s\n" "${times[@]}" | sort -n | awk "{ a[NR] = \$1 } END { print a[int((NR + 1) / 2)] }"
}

count_time_wait() { awk "NR > 1 && \$4 == \"06\"" /proc/net/tcp | wc -l; }

ms() { awk -v us="$1" "BEGIN { printf \"%.1f ms\", us / 1000 }"; }

idle=$(median_us)
echo "lab $LAB idle: median $(ms "$idle") over $RUNS runs ($(count_time_wait) TIME_WAIT sockets in this namespace)"

python3 - "$TW_COUNT" <<PY
import socket, sys
count = int(sys.argv[1])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(128)
for _ in range(count):
    client = socket.create_connection(listener.getsockname())
    conn, _ = listener.accept()
    client.close()   # the client closes first: its end stays in TIME_WAIT
    conn.close()
listener.close()
PY

loaded=$(median_us)
echo "lab $LAB beside $(count_time_wait) TIME_WAIT sockets: median $(ms "$loaded") over $RUNS runs"
awk -v idle="$idle" -v loaded="$loaded" -v max="$MAX_RATIO" "BEGIN {
  ratio = loaded / (idle > 0 ? idle : 1)
  printf \"ratio %.2f (limit %.2f)\n\", ratio, max
  exit (ratio > max) ? 1 : 0
}"
'
