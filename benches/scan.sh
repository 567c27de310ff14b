#!/usr/bin/env bash
# binaudit scan vs cargo audit bin, same database, same binaries.
#
#   benches/scan.sh            # about 3 minutes the first time (builds), then about a minute
#
# Cases:
#   large  one binary over 20 MB that carries a manifest: binaudit itself (debug build, ~90 MB,
#          ~150 crates) built through binaudit's own build helper;
#   many   every committed sample binary with a manifest copied 10 times (130 files), one call;
#   memory peak RSS on a 0.3 MB and on the large binary, to show whether it grows with size.
# binaudit runs with its database index already cached (one warm-up run), as a repeated scan
# would; both tools run offline (no database fetch, no yanked check), on the shared RustSec
# snapshot. Wall time is the median of RUNS runs (default 7); peak RSS from GNU time.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
db="$repo/../shared/advisory-db"
runs=${RUNS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v cargo-audit >/dev/null || cargo install --locked cargo-audit
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; Debian package 'time')" >&2; exit 1; }

cd "$repo"
cargo build --release --locked --bin binaudit --bin cargo-binaudit >&2
bin="$repo/target/release/binaudit"

# The large binary: binaudit itself, debug, built by its own helper in a separate target dir.
large="$repo/target/bench-large/debug/binaudit"
if [ ! -f "$large" ]; then
  CARGO_TARGET_DIR="$repo/target/bench-large" "$repo/target/release/cargo-binaudit" binaudit \
    --no-audit build --locked --bin binaudit >&2
fi

mkdir -p "$work/many"
for i in $(seq 1 10); do
  for f in sample-binaries/*; do
    case "$(basename "$f")" in build.sh | README.md | *no-manifest) continue ;; esac
    [ -f "$f" ] &&
      cp "$f" "$work/many/$i-$(basename "$f")"
  done
done
small="sample-binaries/x86_64-linux-gnu"

export XDG_CACHE_HOME="$work/cache"
ours=("$bin" scan --offline --no-yanked --no-stale-warning --db "$db" --format json)
theirs=(cargo audit --no-fetch --stale --no-yanked --db "$db" --json bin)
"${ours[@]}" "$small" >/dev/null || true # builds the index cache: later runs load it

python3 - "$runs" "$large" "$small" "$work/many" "${#ours[@]}" "${ours[@]}" "${theirs[@]}" <<'EOF'
import json, os, statistics, subprocess, sys, time

runs, large, small, many = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
n = int(sys.argv[5])
ours, theirs = sys.argv[6:6 + n], sys.argv[6 + n:]
many_files = sorted(os.path.join(many, f) for f in os.listdir(many))

def once(cmd):
    """Wall seconds and peak RSS (KiB) of one run; exit status 0 or 1 (findings) only."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{cmd[0]} failed with {code}: {p.stderr.read().decode()[:500]}")
    return wall, usage.ru_maxrss

def measure(cmd):
    results = [once(cmd) for _ in range(runs)]
    return statistics.median(w for w, _ in results), max(r for _, r in results)

def fmt(seconds):
    return f"{seconds * 1000:.1f} ms"

version = subprocess.run(["cargo", "audit", "--version"], capture_output=True, text=True).stdout.strip()
print(f"\n{version}, shared RustSec snapshot, median of {runs} runs, peak RSS per process\n")
print("| case | binaudit | binaudit peak RSS | cargo audit | cargo audit peak RSS | speed-up |")
print("|---|---:|---:|---:|---:|---:|")
cases = [
    (f"large: 1 binary, {os.path.getsize(large) / 2**20:.0f} MiB", "large", [large]),
    (f"many: {len(many_files)} binaries in one call", "many", many_files),
    (f"small: 1 binary, {os.path.getsize(small) / 2**20:.1f} MiB", "small", [small]),
]
rss = {}
for name, key, files in cases:
    (ot, orss), (tt, trss) = measure(ours + files), measure(theirs + files)
    rss[key] = (orss, trss)
    print(f"| {name} | {fmt(ot)} | {orss / 1024:.1f} MiB | {fmt(tt)} | {trss / 1024:.1f} MiB | {tt / ot:.1f}x |")

doc = json.loads(subprocess.run(ours + [large], capture_output=True, text=True).stdout)
unit = doc["inputs"][0]["units"][0]
print(f"\nThe large binary embeds {len(unit['packages'])} packages; binaudit reports {len(unit['findings'])} findings in it.")
(ol, tl), (osm, tsm) = rss["large"], rss["small"]
print(f"Peak RSS from the small to the large binary: binaudit {osm / 1024:.1f} -> {ol / 1024:.1f} MiB, "
      f"cargo audit {tsm / 1024:.1f} -> {tl / 1024:.1f} MiB.")
EOF
