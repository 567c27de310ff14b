#!/usr/bin/env bash
# Rebuilds every committed sample binary from ./fixture with binaudit's own build helper.
# Needs network access to crates.io (the fixture's dependencies), the rustup targets below,
# ziglang + cargo-zigbuild from PyPI, gcc-mingw-w64-x86-64 from Debian and GNU binutils.
# Usage: sample-binaries/build.sh            (from anywhere)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
fixture="$here/fixture"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rustup target add aarch64-unknown-linux-gnu i686-unknown-linux-gnu s390x-unknown-linux-gnu \
  x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu wasm32-unknown-unknown >/dev/null
command -v cargo-zigbuild >/dev/null || python3 -m pip install --quiet ziglang cargo-zigbuild
command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "install gcc-mingw-w64-x86-64" >&2; exit 1; }

cargo build --release --locked --manifest-path "$repo/Cargo.toml" --bin binaudit --bin cargo-binaudit
bin="$repo/target/release"
export PATH="$bin:$PATH"
export CARGO_TARGET_DIR="$work/target"
cd "$fixture"

# cargo-zigbuild pins a glibc for Linux targets with a suffix; keep the default here.
helper() { "$bin/cargo-binaudit" binaudit "$@" --locked; }
out() { cp "$1" "$here/$2"; chmod 0644 "$here/$2"; echo "  $2"; }

echo "building samples:"
helper build --release
out "$CARGO_TARGET_DIR/release/binaudit-fixture" x86_64-linux-gnu
out "$CARGO_TARGET_DIR/release/libbinaudit_fixture.so" x86_64-linux-gnu.so

# The same binary after GNU strip --strip-all: the non-loaded section must survive it.
cp "$CARGO_TARGET_DIR/release/binaudit-fixture" "$work/stripped"
strip --strip-all "$work/stripped"
out "$work/stripped" x86_64-linux-gnu-stripped

helper build --profile release-lto
out "$CARGO_TARGET_DIR/release-lto/binaudit-fixture" x86_64-linux-gnu-lto

for t in aarch64-unknown-linux-gnu i686-unknown-linux-gnu s390x-unknown-linux-gnu; do
  helper zigbuild --release --target "$t"
  out "$CARGO_TARGET_DIR/$t/release/binaudit-fixture" "${t/-unknown/}"
done

for t in x86_64-apple-darwin aarch64-apple-darwin; do
  helper zigbuild --release --target "$t" --bin binaudit-fixture
  out "$CARGO_TARGET_DIR/$t/release/binaudit-fixture" "${t/-apple-darwin/-macos}"
done
helper zigbuild --release --target universal2-apple-darwin --bin binaudit-fixture
out "$CARGO_TARGET_DIR/universal2-apple-darwin/release/binaudit-fixture" universal2-macos

helper build --release --target x86_64-pc-windows-gnu
out "$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/release/binaudit-fixture.exe" x86_64-windows-gnu.exe
out "$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/release/binaudit_fixture.dll" x86_64-windows-gnu.dll

helper build --release --target wasm32-unknown-unknown --lib
out "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/binaudit_fixture.wasm" wasm32-unknown-unknown.wasm

# A plain cargo build: a valid binary without a manifest.
CARGO_TARGET_DIR="$work/plain" cargo build --release --locked
out "$work/plain/release/binaudit-fixture" x86_64-linux-gnu-no-manifest

echo "done; now run: BINAUDIT_UPDATE_SNAPSHOTS=1 cargo test --test it samples"
