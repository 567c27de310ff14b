#!/usr/bin/env bash
# Runs fuzz targets one after the other, each for a time, and prints executions and crashes
# per target.
#
#   fuzz/run.sh [SECONDS-PER-TARGET] [TARGET...]     (default 60 seconds, every target)
#
# Builds with the stable toolchain and no sanitizer (the code is safe Rust; see README.md);
# set FUZZ_TOOLCHAIN=nightly FUZZ_SANITIZER=address to use AddressSanitizer instead. Seeds
# the corpora with seed.sh when fuzz/corpus/ is missing. Crashes, out-of-memory inputs
# (over 2 GiB RSS or a 1 GiB allocation) and hangs (10 s for one input) are written to
# fuzz/artifacts/<target>/ and counted; each run stops at its first one. Logs: fuzz/logs/.
# Seconds are wall-clock time of the fuzzer alone (the build comes first).
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
cd "$fuzz"
seconds="${1:-60}"
shift || true
toolchain="+${FUZZ_TOOLCHAIN:-stable}"
sanitizer="${FUZZ_SANITIZER:-none}"
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo "$toolchain" fuzz list); fi

[ -d corpus ] || ./seed.sh >/dev/null
cargo "$toolchain" fuzz build --sanitizer "$sanitizer"
bin="target/$(rustc "$toolchain" -vV | sed -n 's/^host: //p')/release"
mkdir -p logs

rows=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before="$(find "artifacts/$t" -type f | wc -l)"
  start="$(date +%s)"
  status=0
  # The binary cargo fuzz built, run directly so that nothing is rebuilt between targets.
  "$bin/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 >"logs/$t.log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  execs="$(grep -ao 'stat::number_of_executed_units: [0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*$' || true)"
  [ -n "$execs" ] || execs="$(grep -aoE '^#[0-9]+' "logs/$t.log" | tail -1 | tr -d '#' || true)"
  found=$(($(find "artifacts/$t" -type f | wc -l) - before))
  new="$(find "artifacts/$t" -type f -newermt "@$start" -printf '%f ' 2>/dev/null || true)"
  rows+=("$(printf '%-22s %7s %12s %7s  %s' "$t" "$elapsed" "${execs:-?}" "$found" "${new:-}")")
  [ "$status" = 0 ] || [ "$found" -gt 0 ] || echo "warning: $t exited with $status; see fuzz/logs/$t.log" >&2
done

printf '%-22s %7s %12s %7s  %s\n' target seconds executions crashes artifacts
printf '%s\n' "${rows[@]}"
