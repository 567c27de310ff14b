#!/usr/bin/env bash
# What exact manifests cost an incremental build.
#
#   benches/exact.sh          # ~3 minutes the first time (dependencies compile once per tool)
#
# A project with a realistic dependency graph (clap with derive, serde_json, regex, flate2,
# anyhow, semver: about 40 crates, resolved offline from cargo's local cache) is built once
# per tool, each in its own target directory. Then, RUNS times (default 9), its main.rs is
# touched and rebuilt by each tool in turn:
#   plain      cargo build --release
#   binaudit   cargo binaudit --no-audit build --release  (exact manifest, no post-build audit)
#   direct     binaudit build --no-audit --release        (the same without cargo's subcommand
#              dispatch, which costs every `cargo <plugin>` one more cargo process)
#   +audit     cargo binaudit build --release --offline    (the same plus the one-line audit)
#   auditable  cargo auditable build --release             (the reference writer)
# It prints the median wall time of each and the overhead over plain cargo, in milliseconds.
# Needs cargo-auditable (`cargo install cargo-auditable`) for the last row; skipped without it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-9}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$repo"
cargo build --release --locked --bin binaudit --bin cargo-binaudit >&2
export PATH="$repo/target/release:$PATH"
unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_TARGET_DIR

proj="$work/proj"
mkdir -p "$proj/src"
cat > "$proj/Cargo.toml" <<'EOF'
[package]
name = "bench-app"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
anyhow = "1"
clap = { version = "4", features = ["derive"] }
flate2 = "1"
regex = "1"
semver = "1"
serde = { version = "1", features = ["derive"] }
serde_json = "1"
EOF
cat > "$proj/src/main.rs" <<'EOF'
use clap::Parser;
#[derive(Parser, serde::Serialize)]
struct Args { pattern: String }
fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let re = regex::Regex::new(&a.pattern)?;
    let v = semver::Version::parse("1.2.3")?;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut z, serde_json::to_string(&a)?.as_bytes())?;
    println!("{} {} {}", re.is_match("x"), v, z.finish()?.len());
    Ok(())
}
EOF
(cd "$proj" && cargo generate-lockfile --offline -q)

tools=(plain binaudit direct +audit)
command -v cargo-auditable >/dev/null && tools+=(auditable)
build() { # tool
  local t=$1 dir="$work/target-${1#+}"
  case $t in
    plain) CARGO_TARGET_DIR=$dir cargo build --release --offline -q ;;
    binaudit) CARGO_TARGET_DIR=$dir cargo binaudit --no-audit build --release --offline -q ;;
    direct) CARGO_TARGET_DIR=$dir binaudit build --no-audit --release --offline -q ;;
    +audit) CARGO_TARGET_DIR=$dir cargo binaudit build --release --offline -q ;;
    auditable) CARGO_TARGET_DIR=$dir cargo auditable build --release --offline -q ;;
  esac
}
cd "$proj"
for t in "${tools[@]}"; do
  echo "first build: $t" >&2
  build "$t" >/dev/null 2>"$work/first-$t.err" || { cat "$work/first-$t.err" >&2; exit 1; }
done
crates=$(binaudit show --json "$work/target-binaudit/release/bench-app" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["files"][0]["images"][0]["manifest"]["packages"]))' 2>/dev/null || echo "?")

declare -A times
for i in $(seq 1 "$runs"); do
  for t in "${tools[@]}"; do
    touch src/main.rs
    s=$(date +%s%N)
    build "$t" >/dev/null 2>&1
    e=$(date +%s%N)
    times[$t]+="$(( (e - s) / 1000 )) "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${times[plain]}" | median)
echo
echo "Incremental rebuild after touching main.rs, median of $runs (load: $(cut -d' ' -f1-3 /proc/loadavg)); $crates packages in the manifest"
echo
printf '| %-10s | %10s | %14s |\n' tool "median ms" "overhead ms"
printf '|%s|%s|%s|\n' ------------ ------------ ----------------
for t in "${tools[@]}"; do
  m=$(echo "${times[$t]}" | median)
  printf '| %-10s | %10.1f | %+14.1f |\n' "$t" "$(echo "$m / 1000" | bc -l)" "$(echo "($m - $base) / 1000" | bc -l)"
done
