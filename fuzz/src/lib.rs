//! What the fuzz targets share: the invariants checked on every parse that succeeds, and
//! scratch files for the entry points that read from a path.

use std::io::Write;
use std::path::{Path, PathBuf};

use binaudit::binary::{inspect_bytes, ImageManifest};
use binaudit::decode::{Decoded, Limits};
use binaudit::extract::{self, ContainerFormat};
use linker_section::Manifest;

/// A small JSON limit, so that decompression bombs are found with small inputs.
pub const LIMITS: Limits = Limits {
    max_json_bytes: 64 * 1024,
};

/// A decoded manifest is within the limit, and is exactly what its own JSON and its
/// re-serialisation validate to.
pub fn check_decoded(decoded: &Decoded, limits: &Limits) {
    assert!(decoded.json.len() as u64 <= limits.max_json_bytes);
    let again = Manifest::from_json(&decoded.json).expect("decoded JSON re-validates");
    assert_eq!(again, decoded.manifest);
    let written = decoded.manifest.to_json();
    let reread = Manifest::from_json(written.as_bytes()).expect("written manifest re-validates");
    assert_eq!(reread, decoded.manifest);
}

/// Runs the whole extract + decode stage over `data` and checks what it says about it.
pub fn inspect(data: &[u8]) {
    let located = extract::locate(data);
    let report = inspect_bytes(data, &LIMITS);
    match (&located, &report) {
        (Ok(located), Ok(report)) => {
            assert_eq!(located.format, report.format);
            assert_eq!(located.images.len(), report.images.len());
            if located.format != ContainerFormat::MachOFat {
                assert_eq!(located.images.len(), 1);
            }
            assert!(
                extract::sniff(data.get(..16).unwrap_or(data)).is_some(),
                "a located file has a recognised magic"
            );
            for image in &located.images {
                if let Some(section) = image.section {
                    let end = section
                        .offset
                        .checked_add(section.size)
                        .expect("no overflow");
                    assert!(end <= data.len() as u64, "section within the file");
                }
            }
            for image in &report.images {
                if let ImageManifest::Found { decoded, .. } = &image.manifest {
                    check_decoded(decoded, &LIMITS);
                }
            }
        }
        (Err(_), Err(_)) => {}
        _ => panic!("locate and inspect_bytes disagree: {located:?} vs {report:?}"),
    }
}

/// `data` with its first bytes replaced by `magic` (extended if shorter), unless it already
/// starts as a `want` file; keeps each per-format target inside its own parser.
pub fn with_magic(data: &[u8], magic: &[u8], want: &[ContainerFormat]) -> Vec<u8> {
    let head = data.get(..16).unwrap_or(data);
    if extract::sniff(head).is_some_and(|f| want.contains(&f)) {
        return data.to_vec();
    }
    let mut out = data.to_vec();
    if out.len() < magic.len() {
        out.resize(magic.len(), 0);
    }
    if let Some(start) = out.get_mut(..magic.len()) {
        start.copy_from_slice(magic);
    }
    out
}

/// A scratch directory that lives as long as the fuzzing process; inputs are written into it
/// for the entry points that take a path.
pub fn scratch() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch directory"))
        .path()
}

/// Writes `data` to `rel` under the scratch directory (creating directories) and returns the
/// full path.
pub fn write_scratch(rel: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("scratch directory");
    }
    let mut file = std::fs::File::create(&path).expect("scratch file");
    file.write_all(data).expect("scratch file written");
    path
}

/// Splits fuzz input at the first NUL into two parts (the second empty if there is none).
pub fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (
            data.get(..i).unwrap_or(data),
            data.get(i + 1..).unwrap_or(&[]),
        ),
        None => (data, &[]),
    }
}

/// Walks the image at `path` and checks every visit: an absolute, clean path, bytes that are
/// an executable no larger than the limit, and a summary that counts the visits.
pub fn walk_image_checked(path: &Path) {
    use binaudit::targets::image::{walk_image, ImageOptions};
    let opts = ImageOptions {
        platform: None,
        max_file_bytes: 64 * 1024,
    };
    let mut visits = 0u64;
    let result = walk_image(path, &opts, &mut |entry| {
        visits += 1;
        assert!(entry.path.starts_with('/'), "absolute: {:?}", entry.path);
        assert!(
            !entry.path.split('/').any(|s| s == ".." || s == "."),
            "clean: {:?}",
            entry.path
        );
        assert!(entry.data.len() as u64 <= opts.max_file_bytes);
        assert!(extract::sniff(entry.data.get(..16).unwrap_or(entry.data)).is_some());
    });
    if let Ok(summary) = result {
        assert_eq!(summary.binaries, visits);
        assert!(summary.binaries <= summary.files);
    }
}

/// A docker-archive with one image whose single layer blob is `layer`.
pub fn docker_archive_with_layer(layer: &[u8]) -> Vec<u8> {
    const MANIFEST: &[u8] =
        br#"[{"Config":"config.json","RepoTags":["fuzz:1"],"Layers":["layer.tar"]}]"#;
    const CONFIG: &[u8] = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}"#;
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in [
        ("manifest.json", MANIFEST),
        ("config.json", CONFIG),
        ("layer.tar", layer),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, name, bytes)
            .expect("building in memory");
    }
    builder.into_inner().expect("building in memory")
}
