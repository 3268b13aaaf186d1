#!/usr/bin/env bash
# How fast netlab is, and where it still waits. For `netlab list`, each lab and `run --all`:
# the median wall time over RUNS runs and the peak memory (/usr/bin/time -f %M); then, for
# each lab, the waits it still makes (strace: time spent in poll/sleep calls that waited at
# least 1 ms in total, grouped by the trace line they follow), next to the waits this file
# declares (which kernel timer, and why). A wait of 5 ms or more that is not declared is
# flagged. Not part of `cargo test`: timings belong here; results go to bench/RESULTS.md.
#
#   bench/speed.sh              # 15 runs each
#   RUNS=5 bench/speed.sh
#   NETLAB=path/to/netlab bench/speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-15}"
if [[ -z "${NETLAB:-}" ]]; then
  cargo build --release --quiet
  NETLAB=target/release/netlab
fi
export NETLAB RUNS
exec python3 - <<'PY'
import os, re, shutil, statistics, subprocess, sys, time

netlab = os.environ["NETLAB"]
runs = int(os.environ["RUNS"])

# The waits each lab still makes, and why: every other wait is on the kernel's evidence
# and ends at once. Keyed by lab number.
DECLARED = {
    "08": "delayed ACK (40 ms, at most TCP_DELACK_MAX 200 ms): after the split header the "
          "server sends b'\\x00\\x00' and b'hello\\n'; Nagle holds the second until the client "
          "acknowledges the first, and the client's kernel delays that ACK",
    "09": "delayed ACK, twice (40 ms each, at most 200 ms): in the second and third replies "
          "Nagle holds the JSON header and data behind the unacknowledged 4-byte length until "
          "the client's delayed ACK",
    "14": "delayed ACK (up to 40 ms): the send-queue probe waits until the server has "
          "acknowledged every byte that went out before its window closed, so OUTQ equals the "
          "untransmitted bytes the lab describes",
    "17": "delayed ACK, twice (about 40 ms each, at most 200 ms): after the client's close() and "
          "after its shutdown(SHUT_WR), the lab shows FIN_WAIT2, which the client's end reaches "
          "only when the server's kernel acknowledges the FIN, and a FIN switches the receiver "
          "to delayed ACKs",
    "19": "delayed ACK (up to 40 ms): as in lab 14, the send-queue probe after the non-blocking "
          "send() to the slow reader waits until client 3 has acknowledged every byte that went "
          "out before its window closed",
}


def timed(args):
    """Wall time of one run in seconds (stdout discarded)."""
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def median_ms(args):
    timed(args)  # warm the page cache
    return statistics.median(timed(args) for _ in range(runs)) * 1000


def peak_kib(args):
    if not os.path.exists("/usr/bin/time"):
        return "?"
    done = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    return done.stderr.strip().splitlines()[-1]


def waits(lab):
    """Groups of waiting syscalls (>= 1 ms in total) and the trace line each follows."""
    if not shutil.which("strace"):
        return None
    done = subprocess.run(
        ["strace", "-f", "-T", "-e",
         "trace=poll,ppoll,nanosleep,clock_nanosleep,write,execve", netlab, "run", lab],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    groups, after, total, commands = [], "(start)", 0.0, set()
    for line in done.stderr.splitlines():
        pid = re.match(r"^\[pid +(\d+)\] ", line)
        pid = pid.group(1) if pid else None
        line = re.sub(r"^\[pid +\d+\] ", "", line)
        if line.startswith("execve(") and pid:
            commands.add(pid)  # a command the lab runs: its own writes are not trace lines
        if pid in commands:
            continue
        if line.startswith("write(1,"):
            if total >= 0.001:
                groups.append((total, after))
            after = re.sub(r'^write\(1, "\s*|\\n.*$|"\.\.\..*$', "", line)[:60]
            total = 0.0
            continue
        spent = re.search(r"<(\d+\.\d+)>$", line)
        if spent and not line.startswith("write"):
            total += float(spent.group(1))
    if total >= 0.001:
        groups.append((total, after))
    return groups


print(f"netlab {netlab}: median of {runs} runs, peak memory of one run")
print(f"{'command':<26} {'median':>9} {'peak':>9}")
list_ms = median_ms([netlab, "list"])
print(f"{'list':<26} {list_ms:7.1f}ms {peak_kib([netlab, 'list']):>7}KB")
labs = subprocess.run([netlab, "list"], capture_output=True, text=True,
                      check=True).stdout.split()
labs = [word for word in labs if re.fullmatch(r"\d\d-[a-z0-9-]+", word)]
for lab in labs:
    ms = median_ms([netlab, "run", lab])
    print(f"{'run ' + lab:<26} {ms:7.1f}ms {peak_kib([netlab, 'run', lab]):>7}KB")
all_ms = median_ms([netlab, "run", "--all"])
print(f"{'run --all':<26} {all_ms:7.1f}ms {peak_kib([netlab, 'run', '--all']):>7}KB")
print(f"load average: {open('/proc/loadavg').read().split()[:3]}")

print("\nwaits per lab (strace: poll/sleep time >= 1 ms, by the trace line it follows;")
print("waits for the commands that labs 07-09 run are included)")
undeclared = []
for lab in labs:
    number = lab[:2]
    groups = waits(lab)
    if groups is None:
        print("strace not found: waits not measured")
        break
    shown = [f"{t * 1000:.1f} ms after '{after}'" for t, after in groups]
    print(f"{lab}: {'; '.join(shown) if shown else 'none'}")
    if number in DECLARED:
        print(f"    declared: {DECLARED[number]}")
    elif any(t >= 0.005 for t, _ in groups):
        undeclared.append(lab)
if undeclared:
    print(f"undeclared waits of 5 ms or more: {', '.join(undeclared)}")
    sys.exit(1)
PY
