#!/usr/bin/env bash
# Builds the seed corpora under fuzz/corpus/<target>/ from what the repository already has:
# sample-binaries/, tests/fixtures/ and a few files of ../shared/advisory-db when present.
# Corpora are not committed; rerun this after a clean checkout. Needs python3 (and zstd for a
# zstd layer seed, skipped without it).
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz")"
corpus="$fuzz/corpus"
samples="$root/sample-binaries"
fixtures="$root/tests/fixtures"
advisory_db="${ADVISORY_DB:-$root/../shared/advisory-db}"

mkdir -p "$corpus"
seed() { mkdir -p "$corpus/$1"; cp "$2" "$corpus/$1/${3:-$(basename "$2")}"; }

# Binaries: all of them for the format-agnostic target, each format for its own target.
for f in "$samples"/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in README.md | build.sh) continue ;; esac
  seed extract "$f"
  case "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" in
    7f454c46) seed extract_elf "$f" ;;
    cffaedfe | cafebabe) seed extract_macho "$f" ;;
    0061736d) seed extract_wasm "$f" ;;
    4d5a*) seed extract_pe "$f" ;;
  esac
done
# Binaries without a manifest are what panic-path recovery is for; whole ones are slow to
# mutate, so mostly the bytes around the source paths they embed.
seed recover_panic_paths "$samples/wasm32-unknown-unknown.wasm"
python3 - "$samples" "$corpus/recover_panic_paths" <<'PY'
import os, sys
samples, out = sys.argv[1:]
anchors = [b"index.crates.io-", b"github.com-", b"registry/", b"registry\\", b"/rust/deps", b"/rustc/"]
snippets = []
for name in ["x86_64-linux-gnu-no-manifest", "x86_64-windows-gnu.exe", "aarch64-macos"]:
    data = open(os.path.join(samples, name), "rb").read()
    for anchor in anchors:
        at = data.find(anchor)
        for _ in range(4):
            if at < 0:
                break
            snippets.append(data[max(0, at - 80):at + 300])
            at = data.find(anchor, at + 1)
for i, s in enumerate(dict.fromkeys(snippets)):
    open(os.path.join(out, f"paths-{i:02}"), "wb").write(s)
open(os.path.join(out, "paths-all"), "wb").write(b"\0".join(dict.fromkeys(snippets)))
PY

# Manifest sections: the compressed bytes (mode byte 1) and the JSON (mode byte 0).
python3 - "$samples" "$corpus/decode_manifest" <<'PY'
import os, subprocess, sys, zlib
samples, out = sys.argv[1:]
os.makedirs(out, exist_ok=True)
for name in ["x86_64-linux-gnu", "aarch64-linux-gnu", "x86_64-linux-gnu-lto"]:
    path = os.path.join(samples, name)
    # The section is not loaded, so objcopy -O binary would skip it: read it at its offset.
    line = next(l for l in subprocess.run(["objdump", "-h", path], check=True, capture_output=True,
                                          text=True).stdout.splitlines() if " .dep-v0 " in l)
    size, offset = int(line.split()[2], 16), int(line.split()[5], 16)
    section = open(path, "rb").read()[offset:offset + size]
    open(os.path.join(out, name + ".zlib"), "wb").write(b"\x01" + section)
    open(os.path.join(out, name + ".json"), "wb").write(b"\x00" + zlib.decompress(section))
PY

# Advisories: the small fixture database and a few files of the real one.
for f in "$fixtures"/advisory-db-small/crates/*/*.md; do
  seed advisory_rustsec "$f"
done
if [ -d "$advisory_db/crates" ]; then
  find "$advisory_db/crates" -name 'RUSTSEC-*.md' | sort | awk 'NR % 50 == 1' | head -20 |
    while read -r f; do seed advisory_rustsec "$f"; done
fi
mkdir -p "$corpus/advisory_osv"
cat > "$corpus/advisory_osv/smallvec.json" <<'JSON'
{"schema_version":"1.4.0","id":"RUSTSEC-2021-0003","modified":"2021-10-19T22:14:35Z",
 "published":"2021-01-08T12:00:00Z","aliases":["CVE-2021-25900"],
 "summary":"Buffer overflow in SmallVec::insert_many","details":"A bug in insert_many.",
 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
 "affected":[{"package":{"ecosystem":"crates.io","name":"smallvec","purl":"pkg:cargo/smallvec"},
   "ecosystem_specific":{"affects":{"arch":[],"os":["linux"],"functions":["smallvec::SmallVec::insert_many"]}},
   "database_specific":{"categories":["memory-corruption"],"informational":null},
   "ranges":[{"type":"SEMVER","events":[{"introduced":"0.6.3"},{"fixed":"0.6.14"},{"introduced":"1.0.0"},{"fixed":"1.6.1"}]}]}],
 "references":[{"type":"PACKAGE","url":"https://crates.io/crates/smallvec"},
   {"type":"ADVISORY","url":"https://rustsec.org/advisories/RUSTSEC-2021-0003.html"}]}
JSON
cat > "$corpus/advisory_osv/unmaintained.json" <<'JSON'
{"id":"RUSTSEC-2024-0375","published":"2024-09-25T12:00:00Z","withdrawn":"2024-10-01T00:00:00Z",
 "summary":"","details":"\n  atty is unmaintained\n",
 "affected":[{"package":{"ecosystem":"crates.io","name":"atty"},
   "database_specific":{"informational":"unmaintained"},
   "ranges":[{"type":"SEMVER","events":[{"introduced":"0.0.0-0"},{"last_affected":"0.2.14"}]}]}]}
JSON

# Sparse-index files: our cache body (mode byte 1) and cargo's cache format (mode byte 0).
mkdir -p "$corpus/yanked_index"
for f in $(find "$fixtures/sparse-index" -type f ! -name README.md); do
  { printf '\001'; cat "$f"; } > "$corpus/yanked_index/ours-$(basename "$f")"
done
python3 - "$fixtures/sparse-index/sm/al/smallvec" "$corpus/yanked_index/cargo-smallvec" <<'PY'
import struct, sys
lines = [l for l in open(sys.argv[1], "rb").read().split(b"\n") if l.strip()]
body = b"\x03" + struct.pack("<I", 2) + b'"etag-1"\x00'
for line in lines[:20]:
    import json
    body += json.loads(line)["vers"].encode() + b"\x00" + line + b"\x00"
open(sys.argv[2], "wb").write(b"\x00" + body)
PY

# Install records: .crates2.json, NUL, .crates.toml.
mkdir -p "$corpus/install_records"
{
  printf '%s' '{"installs":{"ripgrep 14.1.0 (registry+https://github.com/rust-lang/crates.io-index)":{"version_req":null,"bins":["rg"],"features":[],"all_features":false,"no_default_features":false,"profile":"release","target":"x86_64-unknown-linux-gnu","rustc":"rustc 1.80.0"},"tool 0.1.0 (git+https://example.invalid/tool?branch=main#0123456789abcdef)":{"bins":["tool.exe"]},"local 0.2.0 (path+file:///home/u/my%20src/local)":{"bins":["local"]}}}'
  printf '\000'
  printf '%s\n' '[v1]' '"ripgrep 14.1.0 (registry+https://github.com/rust-lang/crates.io-index)" = ["rg"]' '"alt 1.0.0 (sparse+https://example.invalid/index/)" = ["alt"]'
} > "$corpus/install_records/both"

# audit.toml and lock files.
mkdir -p "$corpus/audit_toml"
cat > "$corpus/audit_toml/audit.toml" <<'TOML'
[advisories]
ignore = ["RUSTSEC-2021-0145"]
informational_warnings = ["unmaintained", "unsound"]
severity_threshold = "medium"

[database]
path = "~/.cargo/advisory-db"
url = "https://github.com/RustSec/advisory-db.git"
fetch = true
stale = false

[output]
deny = ["warnings", "unmaintained"]
format = "json"
quiet = false

[yanked]
enabled = true
update_index = false
TOML
seed lockfile "$root/Cargo.lock" root.lock
seed lockfile "$fixtures/app-workspace/Cargo.lock" app-workspace.lock
seed lockfile "$fixtures/vendored-app/Cargo.lock" vendored-app.lock

# Images and layers: a small docker-archive and OCI archive around a layer holding the wasm
# sample, a whiteout, a hard link and a symlink; the layer alone, plain, gzip and zstd.
python3 - "$samples/wasm32-unknown-unknown.wasm" "$corpus" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
exe, corpus = sys.argv[1:]
def tar_of(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode = kind, link, 0o755
            if data is not None:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
    return buf.getvalue()
R, D, L, S = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.LNKTYPE, tarfile.SYMTYPE
layer = tar_of([("usr/", None, D, ""), ("usr/bin/", None, D, ""),
                ("usr/bin/app", open(exe, "rb").read(), R, ""),
                ("usr/bin/app2", None, L, "usr/bin/app"), ("usr/bin/sh", None, S, "app"),
                ("etc/.wh.gone", b"", R, ""), ("opt/.wh..wh..opq", b"", R, ""),
                ("./usr/lib/../share/readme", b"text", R, "")])
os.makedirs(f"{corpus}/image_layer", exist_ok=True)
open(f"{corpus}/image_layer/plain.tar", "wb").write(layer)
open(f"{corpus}/image_layer/layer.tar.gz", "wb").write(gzip.compress(layer, mtime=0))
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
docker = tar_of([("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["app:1"],
                                                "Layers": ["layer/layer.tar"]}]).encode(), R, ""),
                 ("config.json", config, R, ""), ("layer/layer.tar", layer, R, "")])
os.makedirs(f"{corpus}/image_archive", exist_ok=True)
open(f"{corpus}/image_archive/docker-archive.tar", "wb").write(docker)
def blob(data): return "sha256:" + hashlib.sha256(data).hexdigest(), data
gz = gzip.compress(layer, mtime=0)
cfg_d, _ = blob(config); lay_d, _ = blob(gz)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_d, "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": lay_d, "size": len(gz)}]}).encode()
man_d, _ = blob(manifest)
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": man_d, "size": len(manifest), "platform": {"os": "linux", "architecture": "amd64"},
    "annotations": {"org.opencontainers.image.ref.name": "1"}}]}).encode()
oci = tar_of([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}', R, ""), ("index.json", index, R, "")] +
             [("blobs/sha256/" + d.split(":")[1], data, R, "") for d, data in
              [(cfg_d, config), (lay_d, gz), (man_d, manifest)]])
open(f"{corpus}/image_archive/oci-archive.tar", "wb").write(oci)
PY
if command -v zstd >/dev/null; then
  zstd -q -f "$corpus/image_layer/plain.tar" -o "$corpus/image_layer/layer.tar.zst"
fi

for d in "$corpus"/*/; do
  printf '%-22s %4d files\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done
