#!/usr/bin/env bash
# Recall and precision of crate recovery from panic paths (src/recover.rs), with the embedded
# manifest as the truth.
#
#   benches/recall.sh                          # ~10 minutes on 2 cores; needs crates.io access
#   PROGRAMS="ripgrep@15.2.0" DEBUG=0 benches/recall.sh
#
# Each program is built twice from the same sources with the same target directory: once with
# plain `cargo install --locked` (no manifest), once with `cargo binaudit install --locked` (with
# one). Only the program's own crate is recompiled the second time (binaudit's wrapper is a
# workspace wrapper), so every dependency is the very same object code in both binaries. The
# committed sample pair (sample-binaries/x86_64-linux-gnu and -no-manifest) is measured too.
# DEBUG=1 (the default) adds a `--debug` build of the first program.
#
# For every pair it prints: the runtime crates.io packages of the manifest (build-only
# packages such as proc-macros never reach the binary), how many were recovered from the
# binary without a manifest, true and false positives, recall and precision. The numbers come
# from the ignored test `recover::recall_report` in tests/it/recover.rs, which reads the cases
# from BINAUDIT_RECALL_CASES.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
programs=${PROGRAMS:-"ripgrep@15.2.0 fd-find@10.5.0 hyperfine@1.20.0"}
debug=${DEBUG:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$repo"
target=${CARGO_TARGET_DIR:-$repo/target}
echo "building binaudit (release)..." >&2
cargo build --release --locked --quiet --bin binaudit --bin cargo-binaudit
helper="$target/release/cargo-binaudit"

tab=$'\t'
cases="fixture: committed sample pair (opt-level z, panic=abort)${tab}$repo/sample-binaries/x86_64-linux-gnu${tab}$repo/sample-binaries/x86_64-linux-gnu-no-manifest"

# build SPEC PROFILE-LABEL [extra cargo install args]: both binaries of one program.
build() {
  local spec=$1 label=$2
  shift 2
  local name=${spec%@*}
  local t="$work/target-$name-$label"
  echo "building $spec ($label), without and with a manifest..." >&2
  CARGO_TARGET_DIR="$t" cargo install --locked --quiet --root "$work/plain-$name-$label" "$@" "$spec"
  CARGO_TARGET_DIR="$t" "$helper" binaudit --no-audit install --locked --quiet \
    --root "$work/audited-$name-$label" "$@" "$spec"
  local bin
  for bin in "$work/audited-$name-$label"/bin/*; do
    cases+=$'\n'"$spec $label ($(basename "$bin"))${tab}$bin${tab}$work/plain-$name-$label/bin/$(basename "$bin")"
  done
  rm -rf "$t"
}

first=
for spec in $programs; do
  build "$spec" release
  first=${first:-$spec}
done
if [ "$debug" = 1 ] && [ -n "$first" ]; then
  build "$first" debug --debug
fi

# Recovery time on the largest binary built here and, when installed, rustc's driver library
# (an ELF of ~150 MB whose crates all sit under /rust/deps: nothing recovered, all scanned).
speed_files=$(ls -S "$work"/plain-*/bin/* | head -1)
driver=$(ls -S "$(rustc --print sysroot)"/lib/librustc_driver-*.so 2>/dev/null | head -1 || true)
[ -n "$driver" ] && speed_files+=$'\n'"$driver"

echo "measuring (the test binary is built with --release for meaningful times)..." >&2
echo
echo "Recall of panic-path recovery ($(rustc --version), $(date +%F)):"
echo
BINAUDIT_RECALL_CASES="$cases" BINAUDIT_RECALL_SPEED_FILES="$speed_files" \
  cargo test --release --locked --quiet --test it recover::recall_report \
  -- --ignored --exact --nocapture 2>&1 | grep -v -E '^(running [0-9]+ tests?|test result: .*|\.+)$'
