//! Container images: real images built with umoci and converted with skopeo, read by
//! `binaudit::targets::image` without a daemon.
//!
//! The base image `L:base` (an OCI layout, gzip layers) has three layers:
//! 1. (`umoci repack`) `/usr/bin/app`, `/usr/bin/arm`, `/usr/bin/keep`, `/usr/lib/libx.so`,
//!    `/opt/tool/t1`, and text files;
//! 2. (`umoci repack`) deletes `/usr/bin/arm` (a whiteout), replaces `/usr/bin/app`, adds
//!    `/usr/local/bin/tool`;
//! 3. (`umoci raw add-layer`) makes `/opt/tool` opaque and adds `/opt/tool/t2`,
//!    `/usr/bin/win.exe`, `/srv/app.wasm` and a text file named `/usr/bin/fake.exe`.
//!
//! It is converted to a docker-archive, an OCI archive, zstd and uncompressed layouts, and a
//! multi-platform index is assembled by hand around it and an arm64 variant.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use binaudit::targets::image::{is_image, walk_image, ImageError, ImageOptions, ImageSummary};

use crate::support::{copy_tree, require_tool, run, samples_dir};

/// Runs a tool and fails the test with its output when it fails.
fn tool(program: &str, args: &[&str], cwd: &Path) {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(cwd);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{program} {args:?} failed:\n{out}{err}");
}

fn umoci(args: &[&str], cwd: &Path) {
    tool("umoci", args, cwd);
}

fn skopeo(args: &[&str], cwd: &Path) {
    let mut all = vec!["--insecure-policy", "copy", "--quiet"];
    all.extend_from_slice(args);
    tool("skopeo", &all, cwd);
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(samples_dir().join(name)).unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    let (algo, hex) = digest.split_once(':').unwrap();
    layout.join("blobs").join(algo).join(hex)
}

/// The manifest of `tag` in a layout.
fn manifest(layout: &Path, tag: &str) -> serde_json::Value {
    let index = json(&layout.join("index.json"));
    let desc = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no tag {tag} in {}", layout.display()));
    json(&blob(layout, desc["digest"].as_str().unwrap()))
}

/// (digest, media type) of each layer of `tag`, bottom first.
fn layers(layout: &Path, tag: &str) -> Vec<(String, String)> {
    manifest(layout, tag)["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["digest"].as_str().unwrap().to_owned(),
                l["mediaType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn digests(layout: &Path, tag: &str) -> Vec<String> {
    layers(layout, tag).into_iter().map(|(d, _)| d).collect()
}

fn diff_ids(layout: &Path, tag: &str) -> Vec<String> {
    let m = manifest(layout, tag);
    let config = json(&blob(layout, m["config"]["digest"].as_str().unwrap()));
    config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

fn sha256(data: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    std::fs::write(&file, data).unwrap();
    let (code, out, err) = run(Command::new("sha256sum").arg(&file));
    assert_eq!(code, 0, "{err}");
    format!("sha256:{}", out.split_whitespace().next().unwrap())
}

/// One tar entry with exactly the name given (no normalisation, `..` allowed).
enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    /// A file whose name is longer than a header holds: a GNU long-name member.
    Long(&'a str, &'a [u8]),
    /// A file named by a PAX `path` record (the header has a placeholder name).
    Pax(&'a str, &'a [u8]),
}

fn layer_tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (name, kind, link, data): (&str, tar::EntryType, &str, &[u8]) = match e {
            E::File(n, d) => (n, tar::EntryType::Regular, "", d),
            E::Dir(n) => (n, tar::EntryType::Directory, "", &[]),
            E::Symlink(n, l) => (n, tar::EntryType::Symlink, l, &[]),
            E::HardLink(n, l) => (n, tar::EntryType::Link, l, &[]),
            E::Long(n, d) => {
                let mut h = tar::Header::new_gnu();
                h.set_size(d.len() as u64);
                h.set_mode(0o755);
                h.set_cksum();
                b.append_data(&mut h, n, *d).unwrap();
                continue;
            }
            E::Pax(n, d) => {
                let body = format!(" path={n}\n");
                let mut len = body.len() + 1;
                while format!("{len}{body}").len() != len {
                    len += 1;
                }
                let record = format!("{len}{body}");
                let mut h = tar::Header::new_ustar();
                h.set_path("PaxHeaders/entry").unwrap();
                h.set_entry_type(tar::EntryType::XHeader);
                h.set_size(record.len() as u64);
                h.set_cksum();
                b.append(&h, record.as_bytes()).unwrap();
                ("PaxHeaders/placeholder", tar::EntryType::Regular, "", d)
            }
        };
        let mut h = tar::Header::new_gnu();
        {
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_mtime(0);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Appends a layer (an uncompressed tar, gzip-compressed by umoci) to `layout:tag`.
fn add_layer(dir: &Path, layout: &str, tag: &str, entries: &[E<'_>]) {
    let file = dir.join("layer.tar");
    std::fs::write(&file, layer_tar(entries)).unwrap();
    umoci(
        &[
            "raw",
            "add-layer",
            "--image",
            &format!("{layout}:{tag}"),
            file.to_str().unwrap(),
        ],
        dir,
    );
    std::fs::remove_file(file).unwrap();
}

/// Unpacks `layout:tag`, lets `change` edit the root filesystem, and repacks it as a new layer.
fn repack(dir: &Path, layout: &str, tag: &str, change: impl FnOnce(&Path)) {
    let bundle = dir.join("bundle");
    let _ = std::fs::remove_dir_all(&bundle);
    let image = format!("{layout}:{tag}");
    umoci(&["unpack", "--rootless", "--image", &image, "bundle"], dir);
    change(&bundle.join("rootfs"));
    umoci(&["repack", "--image", &image, "bundle"], dir);
    std::fs::remove_dir_all(&bundle).unwrap();
}

fn put(root: &Path, path: &str, data: &[u8]) {
    let file = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, data).unwrap();
}

/// Images built once for the whole test binary.
struct Images {
    /// OCI layout, tag `base`, gzip layers.
    layout: PathBuf,
    /// The same image in other containers.
    docker_archive: PathBuf,
    oci_archive: PathBuf,
    zstd_layout: PathBuf,
    plain_layout: PathBuf,
    /// A layout with tags `arm` (arm64, one more layer) and `s390x` (config only).
    variants: PathBuf,
    /// A multi-platform index `multi` (amd64 = base, arm64 = arm) as a layout and an archive.
    multi: PathBuf,
    multi_archive: PathBuf,
    /// A multi-platform index without amd64 (arm64 and s390x).
    no_amd64: PathBuf,
    /// Hostile layers.
    hostile: PathBuf,
}

static IMAGES: OnceLock<Option<Images>> = OnceLock::new();

fn images() -> Option<&'static Images> {
    IMAGES
        .get_or_init(|| {
            if !require_tool("umoci", &["--version"]) || !require_tool("skopeo", &["--version"]) {
                return None;
            }
            Some(build_images())
        })
        .as_ref()
}

fn build_images() -> Images {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("binaudit-images");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.as_path();

    umoci(&["init", "--layout", "L"], d);
    umoci(&["new", "--image", "L:base"], d);
    repack(d, "L", "base", |root| {
        put(root, "usr/bin/app", &sample("x86_64-linux-gnu"));
        put(root, "usr/bin/arm", &sample("aarch64-linux-gnu"));
        put(root, "usr/bin/keep", &sample("i686-linux-gnu"));
        put(root, "usr/lib/libx.so", &sample("x86_64-linux-gnu.so"));
        put(root, "opt/tool/t1", &sample("x86_64-linux-gnu-stripped"));
        put(root, "opt/tool/readme", b"not a binary\n");
        put(root, "usr/share/doc/notes.txt", b"notes\n");
    });
    repack(d, "L", "base", |root| {
        std::fs::remove_file(root.join("usr/bin/arm")).unwrap();
        put(root, "usr/bin/app", &sample("x86_64-linux-gnu-lto"));
        put(root, "usr/local/bin/tool", &sample("s390x-linux-gnu"));
    });
    let t2 = sample("x86_64-linux-gnu-no-manifest");
    let exe = sample("x86_64-windows-gnu.exe");
    let wasm = sample("wasm32-unknown-unknown.wasm");
    add_layer(
        d,
        "L",
        "base",
        &[
            E::Dir("opt/tool/"),
            E::File("opt/tool/.wh..wh..opq", b""),
            E::File("opt/tool/t2", &t2),
            E::File("usr/bin/win.exe", &exe),
            E::File("usr/bin/fake.exe", b"#!/bin/sh\necho not a binary\n"),
            E::File("srv/app.wasm", &wasm),
        ],
    );

    skopeo(&["oci:L:base", "docker-archive:img.tar:example/app:1"], d);
    skopeo(&["oci:L:base", "oci-archive:img-oci.tar"], d);
    skopeo(
        &["--dest-compress-format", "zstd", "oci:L:base", "oci:Z:zst"],
        d,
    );
    // skopeo's oci destination compresses unless told otherwise, and only leaves layers as
    // they are when they are uncompressed already: decompress into a `dir:` first.
    skopeo(&["--dest-decompress", "oci:L:base", "dir:D"], d);
    skopeo(
        &[
            "--dest-oci-accept-uncompressed-layers",
            "dir:D",
            "oci:U:plain",
        ],
        d,
    );

    // Platform variants: arm64 with one more layer, s390x with only its config changed.
    skopeo(&["oci:L:base", "oci:P:arm"], d);
    umoci(
        &[
            "config",
            "--image",
            "P:arm",
            "--architecture",
            "arm64",
            "--os",
            "linux",
        ],
        d,
    );
    repack(d, "P", "arm", |root| {
        put(root, "usr/bin/arm-only", &sample("aarch64-linux-gnu"));
    });
    skopeo(&["oci:L:base", "oci:P:s390x"], d);
    umoci(
        &[
            "config",
            "--image",
            "P:s390x",
            "--architecture",
            "s390x",
            "--os",
            "linux",
        ],
        d,
    );
    let index_of = |parts: &[(&Path, &str, &str, Option<&str>)], name: &str, out: &str| {
        let out = d.join(out);
        std::fs::create_dir_all(out.join("blobs/sha256")).unwrap();
        let mut manifests = Vec::new();
        for (layout, tag, arch, variant) in parts {
            for entry in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(
                    entry.path(),
                    out.join("blobs/sha256").join(entry.file_name()),
                )
                .unwrap();
            }
            let index = json(&layout.join("index.json"));
            let desc = index["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == *tag)
                .unwrap()
                .clone();
            let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
            if let Some(v) = variant {
                platform["variant"] = serde_json::json!(v);
            }
            manifests.push(serde_json::json!({
                "mediaType": desc["mediaType"],
                "digest": desc["digest"],
                "size": desc["size"],
                "platform": platform,
            }));
        }
        let nested = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        }))
        .unwrap();
        let digest = sha256(&nested);
        std::fs::write(blob(&out, &digest), &nested).unwrap();
        let top = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": digest,
                "size": nested.len(),
                "annotations": {"org.opencontainers.image.ref.name": name},
            }],
        });
        std::fs::write(out.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
        std::fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        out
    };
    let l = d.join("L");
    let p = d.join("P");
    let multi = index_of(
        &[
            (&l, "base", "amd64", None),
            (&p, "arm", "arm64", Some("v8")),
        ],
        "multi",
        "M",
    );
    // skopeo accepting the hand-made index (it checks every digest) is part of the test.
    skopeo(&["--all", "oci:M:multi", "oci-archive:multi.tar"], d);
    let no_amd64 = index_of(
        &[(&p, "arm", "arm64", None), (&p, "s390x", "s390x", None)],
        "noamd",
        "N",
    );

    build_hostile(d);

    Images {
        layout: d.join("L"),
        docker_archive: d.join("img.tar"),
        oci_archive: d.join("img-oci.tar"),
        zstd_layout: d.join("Z"),
        plain_layout: d.join("U"),
        variants: d.join("P"),
        multi,
        multi_archive: d.join("multi.tar"),
        no_amd64,
        hostile: d.join("H"),
    }
}

/// Paths longer than the 100 bytes a tar header holds.
fn hostile_long_names() -> (String, String) {
    (
        format!("usr/lib/{}/long-elf", "d".repeat(120)),
        format!("usr/lib/pax/{}/pax-elf", "p".repeat(150)),
    )
}

/// Layout `H:h`, three hand-written layers added by umoci.
fn build_hostile(d: &Path) {
    let elf = sample("x86_64-linux-gnu");
    let elf32 = sample("i686-linux-gnu");
    let (long_name, pax_name) = hostile_long_names();
    umoci(&["init", "--layout", "H"], d);
    umoci(&["new", "--image", "H:h"], d);
    add_layer(
        d,
        "H",
        "h",
        &[
            E::File("usr/bin/evil", &elf),
            E::File("usr/bin/deleted-later", &elf32),
            E::File("srv/dir/bin1", &elf),
            E::File("srv/f", &elf),
        ],
    );
    add_layer(
        d,
        "H",
        "h",
        &[
            E::File("../etc/passwd", &elf),
            E::File("/abs/bin/x", &elf32),
            E::Symlink("usr/bin/evil", "/usr/bin/app2"),
            E::Symlink("loop/a", "b"),
            E::Symlink("loop/b", "a"),
            E::Symlink("loop/self", "self"),
            E::File("usr/bin/app2", &elf),
            E::HardLink("usr/bin/hl", "usr/bin/app2"),
            E::File("usr/bin/victim", &elf32),
            E::File("usr/bin/other", &elf),
            E::HardLink("usr/bin/hl-gone", "usr/bin/victim"),
            E::File("srv/dir", b"a file where a directory was\n"),
            E::Dir("srv/f/"),
            E::File("srv/f/inner", &elf),
            E::File("./usr/bin/dotted", &elf32),
            E::File("usr/bin/up/../app3", &elf32),
            E::HardLink("usr/bin/escape", "../../etc/shadow"),
            E::Long(&long_name, &elf),
            E::Pax(&pax_name, &elf32),
        ],
    );
    add_layer(
        d,
        "H",
        "h",
        &[
            E::File("usr/bin/.wh.victim", b""),
            E::File("usr/bin/.wh.deleted-later", b""),
        ],
    );
}

/// Everything a walk visited: (path, layer) pairs, and the bytes of each path.
struct Walked {
    visited: BTreeSet<(String, String)>,
    data: Vec<(String, usize)>,
    summary: ImageSummary,
}

fn walk_with(path: &Path, opts: &ImageOptions) -> Result<Walked, ImageError> {
    let mut visited = BTreeSet::new();
    let mut data = Vec::new();
    let mut references = BTreeSet::new();
    let summary = walk_image(path, opts, &mut |e| {
        assert!(
            visited.insert((e.path.to_owned(), e.layer.to_owned())),
            "{} visited twice",
            e.path
        );
        data.push((e.path.to_owned(), e.data.len()));
        references.insert(e.image.to_owned());
    })?;
    if !visited.is_empty() {
        assert_eq!(references, BTreeSet::from([summary.reference.clone()]));
    }
    Ok(Walked {
        visited,
        data,
        summary,
    })
}

fn walk(path: &Path) -> Walked {
    walk_with(path, &ImageOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn platform(p: &str) -> ImageOptions {
    ImageOptions {
        platform: Some(p.to_owned()),
        ..ImageOptions::default()
    }
}

/// The files of the base image's final filesystem, by the index of the layer that introduced
/// them, with their contents.
fn expected_base(layer_digests: &[String]) -> BTreeSet<(String, String)> {
    assert_eq!(layer_digests.len(), 3, "{layer_digests:?}");
    [
        ("/usr/bin/keep", 0),
        ("/usr/lib/libx.so", 0),
        ("/usr/bin/app", 1),
        ("/usr/local/bin/tool", 1),
        ("/opt/tool/t2", 2),
        ("/usr/bin/win.exe", 2),
        ("/srv/app.wasm", 2),
    ]
    .into_iter()
    .map(|(p, i)| (p.to_owned(), layer_digests[i].clone()))
    .collect()
}

fn check_base(w: &Walked, layer_digests: &[String], reference: &str, format: &str) {
    assert_eq!(w.visited, expected_base(layer_digests), "{format}");
    let paths: Vec<&str> = w.visited.iter().map(|(p, _)| p.as_str()).collect();
    // Deleted by a whiteout, hidden by the opaque directory, and a text file named .exe.
    for absent in ["/usr/bin/arm", "/opt/tool/t1", "/usr/bin/fake.exe"] {
        assert!(!paths.contains(&absent), "{format}: {absent} visited");
    }
    // The replaced file is visited once, from the upper layer, with the upper layer's bytes.
    let app: Vec<_> = w.data.iter().filter(|(p, _)| p == "/usr/bin/app").collect();
    assert_eq!(
        app,
        [&(
            "/usr/bin/app".to_owned(),
            sample("x86_64-linux-gnu-lto").len()
        )]
    );
    assert!(w
        .data
        .contains(&("/usr/bin/keep".to_owned(), sample("i686-linux-gnu").len())));
    assert_eq!(w.summary.reference, reference, "{format}");
    assert_eq!(w.summary.format, format);
    assert_eq!(w.summary.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(w.summary.layers, 3);
    assert_eq!(w.summary.binaries, 7);
    // Visible regular files: the seven binaries, readme is hidden, notes.txt and fake.exe.
    assert_eq!(w.summary.files, 9, "{format}");
    assert!(w.summary.skipped.is_empty(), "{:?}", w.summary.skipped);
}

#[test]
fn oci_layout_with_gzip_layers() {
    let Some(img) = images() else { return };
    let layers = layers(&img.layout, "base");
    assert!(
        layers.iter().all(|(_, m)| m.ends_with("tar+gzip")),
        "{layers:?}"
    );
    check_base(
        &walk(&img.layout),
        &digests(&img.layout, "base"),
        "base",
        "oci-layout",
    );
    assert!(is_image(&img.layout));
    // Naming the tag after the path, as skopeo does.
    let tagged = PathBuf::from(format!("{}:base", img.layout.display()));
    assert!(is_image(&tagged));
    check_base(
        &walk(&tagged),
        &digests(&img.layout, "base"),
        "base",
        "oci-layout",
    );
}

#[test]
fn docker_archive_from_skopeo() {
    let Some(img) = images() else { return };
    assert!(is_image(&img.docker_archive));
    // skopeo writes uncompressed layers and puts manifest.json last; the reported digests are
    // the config's diff_ids.
    check_base(
        &walk(&img.docker_archive),
        &diff_ids(&img.layout, "base"),
        "docker.io/example/app:1",
        "docker-archive",
    );
    let named = PathBuf::from(format!("{}:example/app:1", img.docker_archive.display()));
    assert_eq!(walk(&named).summary.reference, "docker.io/example/app:1");
    let wrong = PathBuf::from(format!("{}:example/app:2", img.docker_archive.display()));
    let err = walk_with(&wrong, &ImageOptions::default()).err().unwrap();
    assert!(
        matches!(&err, ImageError::ReferenceNotFound { available, .. } if available == &["docker.io/example/app:1"]),
        "{err}"
    );
}

#[test]
fn oci_archive_from_skopeo() {
    let Some(img) = images() else { return };
    assert!(is_image(&img.oci_archive));
    // skopeo copies the gzip blobs as they are, so the digests are the layout's.
    check_base(
        &walk(&img.oci_archive),
        &digests(&img.layout, "base"),
        "img-oci.tar",
        "oci-archive",
    );
}

#[test]
fn zstd_layers() {
    let Some(img) = images() else { return };
    let layers = layers(&img.zstd_layout, "zst");
    assert!(
        layers.iter().all(|(_, m)| m.ends_with("tar+zstd")),
        "{layers:?}"
    );
    check_base(
        &walk(&img.zstd_layout),
        &digests(&img.zstd_layout, "zst"),
        "zst",
        "oci-layout",
    );
}

#[test]
fn uncompressed_layers() {
    let Some(img) = images() else { return };
    let layers = layers(&img.plain_layout, "plain");
    assert!(
        layers.iter().all(|(_, m)| m.ends_with(".tar")),
        "{layers:?}"
    );
    // Uncompressed layers are named by their diff_ids.
    assert_eq!(
        digests(&img.plain_layout, "plain"),
        diff_ids(&img.layout, "base")
    );
    check_base(
        &walk(&img.plain_layout),
        &digests(&img.plain_layout, "plain"),
        "plain",
        "oci-layout",
    );
}

/// A docker-archive assembled by hand from the skopeo blobs, one layer per compression, all
/// named `.tar`: compression is detected by the bytes, not the name. `manifest.json` comes
/// first (as `docker save` writes it) and one layer is reached through a symlink member (as in
/// the pre-Docker-25 layout).
#[test]
fn docker_archive_with_mixed_compressions_is_detected_by_magic() {
    let Some(img) = images() else { return };
    let gzip = digests(&img.layout, "base");
    let zstd = digests(&img.zstd_layout, "zst");
    let plain = digests(&img.plain_layout, "plain");
    let base = manifest(&img.layout, "base");
    let config_digest = base["config"]["digest"].as_str().unwrap();
    let config = std::fs::read(blob(&img.layout, config_digest)).unwrap();
    let manifest_json = serde_json::to_vec(&serde_json::json!([{
        "Config": "config.json",
        "RepoTags": ["example/mixed:2"],
        "Layers": ["one.tar", "abc/layer.tar", "three.tar"],
    }]))
    .unwrap();

    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    add("manifest.json", &manifest_json);
    add("config.json", &config);
    add(
        "one.tar",
        &std::fs::read(blob(&img.layout, &gzip[0])).unwrap(),
    );
    add(
        "two.tar",
        &std::fs::read(blob(&img.zstd_layout, &zstd[1])).unwrap(),
    );
    add(
        "three.tar",
        &std::fs::read(blob(&img.plain_layout, &plain[2])).unwrap(),
    );
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "abc/layer.tar", "../two.tar")
        .unwrap();
    let archive = b.into_inner().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.tar");
    std::fs::write(&file, archive).unwrap();
    assert!(is_image(&file));
    check_base(
        &walk(&file),
        &diff_ids(&img.layout, "base"),
        "example/mixed:2",
        "docker-archive",
    );
}

/// Layer members that are symbolic links to each other, and a digest that would climb out of
/// the blob directory: errors, not loops or reads elsewhere.
#[test]
fn archive_link_loops_and_bad_digests_are_errors() {
    let Some(img) = images() else { return };
    let base = manifest(&img.layout, "base");
    let config_digest = base["config"]["digest"].as_str().unwrap();
    let config = json(&blob(&img.layout, config_digest));
    let diff_id = config["rootfs"]["diff_ids"][0].as_str().unwrap().to_owned();
    let one_layer = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    let manifest_json = serde_json::json!([{
        "Config": "c.json", "RepoTags": ["loop:1"], "Layers": ["a/layer.tar"],
    }]);
    add(
        "manifest.json",
        &serde_json::to_vec(&manifest_json).unwrap(),
    );
    add("c.json", &serde_json::to_vec(&one_layer).unwrap());
    for (link, target) in [
        ("a/layer.tar", "../b/layer.tar"),
        ("b/layer.tar", "../a/layer.tar"),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, link, target).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loop.tar");
    std::fs::write(&file, b.into_inner().unwrap()).unwrap();
    let err = walk_with(&file, &ImageOptions::default()).err().unwrap();
    assert!(
        matches!(&err, ImageError::BlobMissing { digest } if *digest == diff_id),
        "{err}"
    );

    let layout = dir.path().join("escape");
    copy_tree(&img.layout, &layout);
    let index = std::fs::read_to_string(layout.join("index.json")).unwrap();
    let digest = json(&layout.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let index = index.replace(&digest, "sha256:../../../../etc/passwd");
    std::fs::write(layout.join("index.json"), index).unwrap();
    let err = walk_with(&layout, &ImageOptions::default()).err().unwrap();
    assert!(
        matches!(&err, ImageError::Malformed { reason, .. } if reason.contains("invalid digest")),
        "{err}"
    );
}

#[test]
fn multi_platform_index() {
    let Some(img) = images() else { return };
    let amd64 = digests(&img.layout, "base");
    let arm = digests(&img.variants, "arm");
    for image in [&img.multi, &img.multi_archive] {
        // No platform asked for: linux/amd64.
        // skopeo's archive keeps the index, not the name given to it in the layout.
        let (reference, format) = if image == &img.multi {
            ("multi", "oci-layout")
        } else {
            ("multi.tar", "oci-archive")
        };
        check_base(&walk(image), &amd64, reference, format);
        for p in ["linux/arm64", "linux/arm64/v8", "linux/aarch64"] {
            let w = walk_with(image, &platform(p)).unwrap();
            assert_eq!(w.summary.platform.as_deref(), Some("linux/arm64"));
            let mut expected = expected_base(&arm[..3]);
            expected.insert(("/usr/bin/arm-only".to_owned(), arm[3].clone()));
            assert_eq!(w.visited, expected, "{p}");
            assert_eq!(w.summary.layers, 4);
        }
        let err = walk_with(image, &platform("linux/s390x")).err().unwrap();
        match &err {
            ImageError::PlatformNotFound { wanted, available } => {
                assert_eq!(wanted, "linux/s390x");
                assert_eq!(available, &["linux/amd64", "linux/arm64"]);
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string().contains("linux/amd64, linux/arm64"),
            "{err}"
        );
    }

    // Without amd64 a platform must be chosen; the error lists them.
    let err = walk_with(&img.no_amd64, &ImageOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImageError::PlatformRequired { available } if available == &["linux/arm64", "linux/s390x"]),
        "{err}"
    );
    let w = walk_with(&img.no_amd64, &platform("linux/s390x")).unwrap();
    assert_eq!(w.summary.platform.as_deref(), Some("linux/s390x"));
    assert_eq!(w.visited, expected_base(&amd64));

    // A single-platform image asked for another platform.
    let err = walk_with(&img.layout, &platform("linux/arm64"))
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImageError::PlatformNotFound { available, .. } if available == &["linux/amd64"]),
        "{err}"
    );
    let err = walk_with(&img.layout, &platform("linux")).err().unwrap();
    assert!(matches!(err, ImageError::InvalidPlatform(_)), "{err}");
}

#[test]
fn a_layout_with_several_tags_needs_one_named() {
    let Some(img) = images() else { return };
    let err = walk_with(&img.variants, &ImageOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImageError::AmbiguousImage { available } if available == &["arm", "s390x"]),
        "{err}"
    );
    let arm = PathBuf::from(format!("{}:arm", img.variants.display()));
    let w = walk(&arm);
    assert_eq!(w.summary.reference, "arm");
    assert_eq!(w.summary.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(w.summary.binaries, 8);
    let missing = PathBuf::from(format!("{}:nope", img.variants.display()));
    assert!(matches!(
        walk_with(&missing, &ImageOptions::default()),
        Err(ImageError::ReferenceNotFound { .. })
    ));
}

#[test]
fn hostile_layers_are_read_without_escaping_or_following_links() {
    let Some(img) = images() else { return };
    let layers = digests(&img.hostile, "h");
    assert_eq!(layers.len(), 3);
    let w = walk(&img.hostile);
    let (long_name, pax_name) = hostile_long_names();
    let expected: BTreeSet<(String, String)> = [
        "/abs/bin/x".to_owned(),
        "/usr/bin/app2".to_owned(),
        "/usr/bin/hl".to_owned(),
        "/srv/f/inner".to_owned(),
        "/usr/bin/dotted".to_owned(),
        "/usr/bin/app3".to_owned(),
        "/usr/bin/other".to_owned(),
        format!("/{long_name}"),
        format!("/{pax_name}"),
    ]
    .into_iter()
    .map(|p| (p, layers[1].clone()))
    .collect();
    // Not visited: the lower /usr/bin/evil (replaced by a symlink), /srv/dir/bin1 (its
    // directory replaced by a file), the lower /srv/f (replaced by a directory), the deleted
    // victim and deleted-later, and ../etc/passwd.
    assert_eq!(w.visited, expected);
    // The hard link shares its target's bytes.
    assert!(w
        .data
        .contains(&("/usr/bin/hl".to_owned(), sample("x86_64-linux-gnu").len())));
    let skipped: Vec<&str> = w.summary.skipped.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        skipped,
        ["../etc/passwd", "/usr/bin/hl-gone"],
        "{:?}",
        w.summary.skipped
    );
    assert!(w.summary.skipped[0].1.contains("`..`"));
    assert!(w.summary.skipped[1].1.contains("/usr/bin/victim"));
}

#[test]
fn errors_name_what_is_wrong() {
    let Some(img) = images() else { return };
    let dir = tempfile::tempdir().unwrap();

    // A truncated gzip layer: the error names the layer.
    let truncated = dir.path().join("truncated");
    copy_tree(&img.layout, &truncated);
    let top = digests(&img.layout, "base")[1].clone();
    let path = blob(&truncated, &top);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = walk_with(&truncated, &ImageOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImageError::Decompress { layer, compression: "gzip", .. } if *layer == top),
        "{err}"
    );
    assert!(err.to_string().contains(&top), "{err}");

    // Garbage inside a gzip stream.
    let mut garbled = bytes.clone();
    for b in garbled.iter_mut().skip(100).take(200) {
        *b = 0x55;
    }
    std::fs::write(&path, &garbled).unwrap();
    let err = walk_with(&truncated, &ImageOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImageError::Decompress { layer, .. } | ImageError::CorruptLayer { layer, .. } if *layer == top),
        "{err}"
    );

    // A corrupt header in an uncompressed layer, and garbage in a zstd layer.
    let plain = dir.path().join("plain");
    copy_tree(&img.plain_layout, &plain);
    let top_plain = digests(&plain, "plain")[2].clone();
    let mut bytes = std::fs::read(blob(&plain, &top_plain)).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(blob(&plain, &top_plain), bytes).unwrap();
    let err = walk_with(&plain, &ImageOptions::default()).err().unwrap();
    assert!(
        matches!(&err, ImageError::CorruptLayer { layer, reason } if *layer == top_plain && reason.contains("checksum")),
        "{err}"
    );
    let zstd = dir.path().join("zstd");
    copy_tree(&img.zstd_layout, &zstd);
    let top_zstd = digests(&zstd, "zst")[1].clone();
    let mut bytes = std::fs::read(blob(&zstd, &top_zstd)).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(blob(&zstd, &top_zstd), bytes).unwrap();
    let err = walk_with(&zstd, &ImageOptions::default()).err().unwrap();
    assert!(
        matches!(&err, ImageError::Decompress { layer, compression: "zstd", .. } | ImageError::CorruptLayer { layer, .. } if *layer == top_zstd),
        "{err}"
    );

    // A missing blob, before anything is visited.
    std::fs::remove_file(&path).unwrap();
    let mut visited = 0;
    let err = walk_image(&truncated, &ImageOptions::default(), &mut |_| visited += 1)
        .err()
        .unwrap();
    assert!(
        matches!(&err, ImageError::BlobMissing { digest } if *digest == top),
        "{err}"
    );
    assert_eq!(visited, 0);

    // An oversized index.json.
    let big = dir.path().join("big");
    copy_tree(&img.layout, &big);
    let mut index = b"{\"manifests\":[],\"pad\":\"".to_vec();
    index.resize(17 * 1024 * 1024, b'x');
    index.extend_from_slice(b"\"}");
    std::fs::write(big.join("index.json"), index).unwrap();
    assert!(matches!(
        walk_with(&big, &ImageOptions::default()),
        Err(ImageError::Limit { .. })
    ));

    // Not images.
    let elf = samples_dir().join("x86_64-linux-gnu");
    assert!(!is_image(&elf));
    assert!(!is_image(dir.path()));
    assert!(matches!(
        walk_with(&elf, &ImageOptions::default()),
        Err(ImageError::NotAnImage { .. })
    ));
    let plain_tar = dir.path().join("plain.tar");
    std::fs::write(&plain_tar, layer_tar(&[E::File("a", b"b")])).unwrap();
    assert!(!is_image(&plain_tar));
    assert!(matches!(
        walk_with(&plain_tar, &ImageOptions::default()),
        Err(ImageError::NotAnImage { .. })
    ));
}

#[test]
fn executables_over_the_size_limit_are_skipped_not_read() {
    let Some(img) = images() else { return };
    let opts = ImageOptions {
        max_file_bytes: 300_000,
        ..ImageOptions::default()
    };
    let w = walk_with(&img.layout, &opts).unwrap();
    assert!(
        w.data.iter().all(|(_, len)| *len <= 300_000),
        "{:?}",
        w.data
    );
    assert!(!w.summary.skipped.is_empty());
    for (path, reason) in &w.summary.skipped {
        assert!(reason.contains("over the limit"), "{path}: {reason}");
        assert!(!w.visited.iter().any(|(p, _)| p == path));
    }
    assert_eq!(
        w.visited.len() + w.summary.skipped.len(),
        expected_base(&digests(&img.layout, "base")).len()
    );
}

/// Peak memory follows the largest executable, not the image or its largest file: a layer with
/// a 160 MiB data file and a 24 MiB executable raises the peak by about the executable.
/// (Informal: the high-water mark is the process's, shared with the tests running alongside.)
#[test]
fn memory_follows_the_largest_binary_not_the_image() {
    let Some(_) = images() else { return };
    fn peak_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    umoci(&["init", "--layout", "B"], d);
    umoci(&["new", "--image", "B:big"], d);
    let mut big_elf = sample("x86_64-linux-gnu");
    big_elf.resize(24 << 20, 0);
    // The tar is written straight to a file so the test itself does not hold it twice.
    {
        let file = std::fs::File::create(d.join("layer.tar")).unwrap();
        let mut b = tar::Builder::new(std::io::BufWriter::new(file));
        let mut h = tar::Header::new_gnu();
        h.set_size(160 << 20);
        h.set_mode(0o644);
        h.set_cksum();
        let data = std::io::Read::take(std::io::repeat(7), 160 << 20);
        b.append_data(&mut h, "data/blob", data).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(big_elf.len() as u64);
        h.set_mode(0o755);
        h.set_cksum();
        b.append_data(&mut h, "usr/bin/big", big_elf.as_slice())
            .unwrap();
        b.into_inner().unwrap();
    }
    drop(big_elf);
    umoci(&["raw", "add-layer", "--image", "B:big", "layer.tar"], d);
    std::fs::remove_file(d.join("layer.tar")).unwrap();

    // Writing 5 to clear_refs resets the high-water mark to the current RSS (Linux ≥ 4.0).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = peak_kib();
    let w = walk(&d.join("B"));
    let after = peak_kib();
    assert_eq!(w.data, [("/usr/bin/big".to_owned(), 24 << 20)]);
    assert_eq!(w.summary.files, 2);
    eprintln!(
        "image walk: peak RSS {} MiB before, {} MiB after (layer: 184 MiB uncompressed)",
        before >> 10,
        after >> 10
    );
    if reset && before > 0 {
        assert!(
            after.saturating_sub(before) < 72 << 10,
            "peak RSS grew by {} MiB",
            (after - before) >> 10
        );
    }
}
