#!/usr/bin/env bash
# Scanning what is deployed: a large directory and a large container image.
#
#   benches/deployed.sh        # ~5 minutes; needs ~4 GB of free disk in $TMPDIR, cc, gzip, umoci
#   CASES=dir benches/deployed.sh   # only the directory case (~1 minute, 1.3 GB, no umoci)
#
# Cases (each printed with ratios measured in the same run):
#   dir     >= 5,000 files and >= 1 GB (binaries mixed with other files), scanned by binaudit vs
#           the floor (a C loop that opens every file and reads its first 4 KiB) and vs
#           `cargo audit bin` given the same binaries;
#   image   an OCI image of >= 500 MB (gzip layers) scanned by binaudit vs `gzip -dc` of its
#           layers to /dev/null;
#   memory  binaudit's peak RSS on the directory and the image, and on versions twice as large.
# binaudit runs offline against the shared RustSec snapshot with its index cached; wall time is
# the median of RUNS runs (default 3) with a warm page cache, after a `sync`; binaudit and the
# floor run in turns.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
db="$repo/../shared/advisory-db"
runs=${RUNS:-3}
cases=" ${CASES:-dir image memory} "
has() { [[ $cases == *" $1 "* ]]; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v cargo-audit >/dev/null || cargo install --locked cargo-audit
if has image || has memory; then
  command -v umoci >/dev/null || { echo "needs umoci (Debian package 'umoci')" >&2; exit 1; }
fi
cd "$repo"
cargo build --release --locked --bin binaudit >&2
bin="$repo/target/release/binaudit"

# The floor: open every regular file under a directory and read its first 4 KiB.
cat > "$work/floor.c" <<'EOF'
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>
static char buf[4096];
static int visit(const char *path, const struct stat *st, int type, struct FTW *f) {
    (void)st; (void)f;
    if (type == FTW_F) { int fd = open(path, O_RDONLY); if (fd >= 0) { (void)!read(fd, buf, sizeof buf); close(fd); } }
    return 0;
}
int main(int argc, char **argv) { return argc > 1 ? nftw(argv[1], visit, 64, FTW_PHYS) : 1; }
EOF
cc -O2 -o "$work/floor" "$work/floor.c"

# A directory tree: `scale` x (520 copies of the sample binaries + 4,600 small text files
# + 40 incompressible 24 MiB data files), in nested directories.
make_tree() {
  local root=$1 scale=$2 i j
  for s in $(seq 1 "$scale"); do
    for i in $(seq 1 40); do
      mkdir -p "$root/$s/d$i/sub"
      j=0
      for f in sample-binaries/*; do
        [ -f "$f" ] || continue
        case "$(basename "$f")" in build.sh | README.md | *no-manifest) continue ;; esac
        j=$((j + 1))
        cp "$f" "$root/$s/d$i/sub/bin$j-$(basename "$f")"
      done
      for k in $(seq 1 115); do echo "text file $k of $i" > "$root/$s/d$i/t$k.txt"; done
      head -c $((24 << 20)) /dev/urandom > "$root/$s/d$i/data.bin"
    done
  done
}
echo "making the directory trees…" >&2
make_tree "$work/dir1" 1
if has memory; then make_tree "$work/dir2" 2; fi

# An OCI image: binaries and compressible data in one gzip layer; `scale` doubles it.
make_image() {
  local out=$1 scale=$2 rootfs
  umoci init --layout "$out" >/dev/null
  umoci new --image "$out:big" >/dev/null
  rootfs="$work/unpack-$(basename "$out")"
  umoci unpack --rootless --image "$out:big" "$rootfs" >/dev/null 2>&1
  mkdir -p "$rootfs/rootfs/usr/local/bin" "$rootfs/rootfs/data"
  cp -r "$work/dir1/1/d1/sub/." "$rootfs/rootfs/usr/local/bin/"
  # Real machine code (this system's shared libraries) behind a text line, so it compresses
  # like a real image layer (LZ77 matches and Huffman codes to decode) and is not itself taken
  # for an executable. Random bytes would be stored uncompressed and make inflating a copy.
  # (`head` closing the pipe early is expected: `|| true` keeps pipefail from stopping the run.)
  cat /usr/lib/x86_64-linux-gnu/*.so* 2>/dev/null | head -c $((64 << 20)) > "$work/corpus" || true
  for i in $(seq 1 $((32 * scale))); do
    { echo "data blob $i"; tail -c +$((i * 4096 + 1)) "$work/corpus"; cat "$work/corpus"; } 2>/dev/null |
      head -c $((24 << 20)) > "$rootfs/rootfs/data/blob$i" || true
  done
  umoci repack --image "$out:big" "$rootfs" >/dev/null 2>&1
  rm -rf "$rootfs"
}
if has image || has memory; then
  echo "making the images…" >&2
  make_image "$work/img1" 1
fi
if has memory; then make_image "$work/img2" 2; fi

# The trees and images were just written: let the kernel write them back now, so that the
# write-back of a gigabyte does not land on whichever tool happens to be timed first.
sync
export XDG_CACHE_HOME="$work/cache"
"$bin" scan --offline --no-yanked --no-stale-warning --db "$db" sample-binaries/x86_64-linux-gnu >/dev/null 2>&1 || true

python3 - "$runs" "$work" "$bin" "$db" "$cases" <<'EOF'
import glob, os, statistics, subprocess, sys, time

runs, work, binaudit, db = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cases = sys.argv[5].split()
print(f"load average before the runs: {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min)")
ours = [binaudit, "scan", "--offline", "--no-yanked", "--no-stale-warning", "--no-progress", "--format", "json", "--db", db]

def once(cmd, ok=(0, 1), shell=False):
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, shell=shell)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.exit(f"{cmd} failed with {code}: {p.stderr.read().decode()[:400]}")
    return wall, usage.ru_maxrss

def measure(cmd, **kw):
    r = [once(cmd, **kw) for _ in range(runs)]
    return statistics.median(w for w, _ in r), max(m for _, m in r)

def measure_alternating(a, b, ok_b=(0,)):
    """Runs a and b in turns, so that a change of load on a shared machine hits both alike."""
    ra, rb = [], []
    for _ in range(runs):
        ra.append(once(a))
        rb.append(once(b, ok=ok_b))
    return (statistics.median(w for w, _ in ra), max(m for _, m in ra)), (statistics.median(w for w, _ in rb), max(m for _, m in rb))

def tree_stats(root):
    files = size = 0
    for d, _, fs in os.walk(root):
        for f in fs:
            files += 1
            size += os.path.getsize(os.path.join(d, f))
    return files, size

if "dir" in cases or "memory" in cases:
    files, size = tree_stats(f"{work}/dir1")
    binaries = sorted(glob.glob(f"{work}/dir1/**/sub/*", recursive=True))
    print(f"\ndirectory: {files} files, {size / 1e9:.2f} GB, {len(binaries)} binaries; median of {runs} runs\n")
    (t_ours, rss_dir1), (t_floor, _) = measure_alternating(ours + [f"{work}/dir1"], [f"{work}/floor", f"{work}/dir1"])
    t_cargo, _ = measure(["cargo", "audit", "--no-fetch", "--stale", "--no-yanked", "--db", db, "--json", "bin"] + binaries)
    print("| tool | time | vs binaudit |")
    print("|---|---:|---:|")
    print(f"| binaudit scan DIR | {t_ours:.3f} s | 1.0x |")
    print(f"| floor: open + read 4 KiB of every file (C, one thread) | {t_floor:.3f} s | binaudit takes {t_ours / t_floor:.2f}x the floor |")
    print(f"| cargo audit bin (the {len(binaries)} binaries) | {t_cargo:.3f} s | binaudit is {t_cargo / t_ours:.1f}x faster |")

def layers(layout):
    import json
    index = json.load(open(f"{layout}/index.json"))
    manifest = json.load(open(f"{layout}/blobs/" + index["manifests"][0]["digest"].replace(":", "/")))
    return [f"{layout}/blobs/" + l["digest"].replace(":", "/") for l in manifest["layers"]]

if "image" in cases or "memory" in cases:
    img1_size = sum(os.path.getsize(l) for l in layers(f"{work}/img1"))
    print(f"\nimage: OCI layout, {len(layers(f'{work}/img1'))} gzip layers, {img1_size / 1e6:.0f} MB compressed\n")
    t_img, rss_img1 = measure(ours + [f"{work}/img1"])
    gz = "gzip -dc " + " ".join(layers(f"{work}/img1")) + " > /dev/null"
    t_gz, _ = measure(gz, ok=(0,), shell=True)
    print("| tool | time | ratio |")
    print("|---|---:|---:|")
    print(f"| binaudit scan IMAGE | {t_img:.3f} s | {t_img / t_gz:.2f}x gzip -dc |")
    print(f"| gzip -dc of its layers | {t_gz:.3f} s | 1.0x |")

if "memory" in cases:
    _, rss_dir2 = measure(ours + [f"{work}/dir2"])
    _, rss_img2 = measure(ours + [f"{work}/img2"])
    f2, s2 = tree_stats(f"{work}/dir2")
    i2 = sum(os.path.getsize(l) for l in layers(f"{work}/img2"))
    print("\n| input | size | binaudit peak RSS |")
    print("|---|---:|---:|")
    print(f"| directory | {size / 1e9:.2f} GB | {rss_dir1 / 1024:.1f} MiB |")
    print(f"| directory, doubled | {s2 / 1e9:.2f} GB | {rss_dir2 / 1024:.1f} MiB |")
    print(f"| image | {img1_size / 1e6:.0f} MB | {rss_img1 / 1024:.1f} MiB |")
    print(f"| image, doubled | {i2 / 1e6:.0f} MB | {rss_img2 / 1024:.1f} MiB |")
EOF
