//! The sparse index format, without I/O: where a crate's file lives, what its lines say, and
//! cargo's own binary cache of the same lines.
//!
//! Everything here reads bytes that came from a server or a cache file, so it uses checked
//! ranges only.

#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

use semver::Version;
use serde::Deserialize;

use crate::audit::YankStatus;

/// crates.io refuses longer names; a longer one cannot be in its index.
const MAX_NAME_LEN: usize = 64;

/// The path of a crate's file in a sparse index, relative to the index root, or `None` if
/// `name` cannot be a crates.io crate name.
///
/// Names are matched case-insensitively by crates.io and the index stores them lowercased:
/// 1 character → `1/{n}`, 2 → `2/{n}`, 3 → `3/{first}/{n}`, else `{n[0..2]}/{n[2..4]}/{n}`.
/// The name comes from an untrusted binary and becomes part of a URL and a cache file path,
/// so only ASCII letters, digits, `-` and `_` are accepted.
pub(crate) fn index_path(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return None;
    }
    let n = name.to_ascii_lowercase();
    // ASCII only, so every byte index is a character boundary.
    Some(match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", n.get(..1)?),
        _ => format!("{}/{}/{n}", n.get(..2)?, n.get(2..4)?),
    })
}

/// One published version as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub version: Version,
    pub yanked: bool,
}

/// The two fields we need of an index line; serde skips the others (`deps`, `cksum`, …).
/// `yanked` is required: a line without it says nothing about yanking.
#[derive(Deserialize)]
struct RawLine {
    vers: String,
    yanked: bool,
}

fn parse_line(line: &[u8]) -> Option<IndexEntry> {
    let raw: RawLine = serde_json::from_slice(line).ok()?;
    Some(IndexEntry {
        version: Version::parse(raw.vers.trim()).ok()?,
        yanked: raw.yanked,
    })
}

/// Parses every JSON line of an index file. A malformed line (garbage, a missing field, a
/// version that is not semver) is skipped, so one bad line does not hide the rest; but a file
/// of which no line could be read is an error, never "nothing yanked".
pub(crate) fn parse_index_file(body: &[u8]) -> Result<Vec<IndexEntry>, String> {
    parse_records(body.split(|&b| b == b'\n'))
}

fn parse_records<'a>(records: impl Iterator<Item = &'a [u8]>) -> Result<Vec<IndexEntry>, String> {
    let mut entries = Vec::new();
    let mut records_seen = false;
    for record in records {
        let record = record.trim_ascii();
        if record.is_empty() {
            continue;
        }
        records_seen = true;
        entries.extend(parse_line(record));
    }
    match (entries.is_empty(), records_seen) {
        (false, _) => Ok(entries),
        (true, false) => Err("the index file is empty".to_owned()),
        (true, true) => Err("no line of the index file could be read".to_owned()),
    }
}

/// Cargo's cache format version that we know (`CURRENT_CACHE_VERSION` in cargo's
/// `sources/registry/index/cache.rs`).
const CARGO_CACHE_VERSION: u8 = 3;

/// Parses a file of cargo's own sparse-index cache (`$CARGO_HOME/registry/index/
/// index.crates.io-*/.cache/…`): one byte of cache version, a little-endian `u32` index schema
/// version, the NUL-terminated index file version (an ETag or date), then NUL-separated pairs of
/// version string and the index line's JSON. The JSON is the index line itself, so the same
/// rules as [`parse_index_file`] apply to it; the version strings beside it are not trusted.
pub(crate) fn parse_cargo_cache(data: &[u8]) -> Result<Vec<IndexEntry>, String> {
    let (&cache_version, rest) = data
        .split_first()
        .ok_or_else(|| "cargo's index cache file is empty".to_owned())?;
    if cache_version != CARGO_CACHE_VERSION {
        return Err(format!(
            "cargo's index cache file has format {cache_version}, not {CARGO_CACHE_VERSION}"
        ));
    }
    // The schema version says which optional fields the JSON may have; `vers` and `yanked` are
    // in every schema, so any value is fine.
    let pairs = rest
        .get(4..)
        .ok_or_else(|| "cargo's index cache file is truncated".to_owned())?;
    let mut fields = pairs.split(|&b| b == 0);
    let _index_file_version = fields.next();
    let blobs = fields.skip(1).step_by(2);
    parse_records(blobs)
}

/// The status of `version` among a crate's index entries.
///
/// Versions are compared with build metadata, as cargo does (`openssl-src` has versions that
/// differ only in it). A version that only matches entries ignoring build metadata is decided
/// by them if they agree.
pub(crate) fn status_of(entries: &[IndexEntry], version: &Version) -> YankStatus {
    let decide = |matches: &mut dyn Iterator<Item = &IndexEntry>| -> Option<bool> {
        let mut any = false;
        let mut yanked = false;
        for e in matches {
            any = true;
            yanked |= e.yanked;
        }
        any.then_some(yanked)
    };
    let exact = decide(&mut entries.iter().filter(|e| e.version == *version));
    let loose = || {
        let mut same = entries.iter().filter(|e| {
            e.version.major == version.major
                && e.version.minor == version.minor
                && e.version.patch == version.patch
                && e.version.pre == version.pre
        });
        let first = same.next()?.yanked;
        same.all(|e| e.yanked == first).then_some(first)
    };
    match exact.or_else(loose) {
        Some(true) => YankStatus::Yanked,
        Some(false) => YankStatus::Available,
        None => YankStatus::Unknown("version not in the index".to_owned()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn path_scheme_by_name_length() {
        assert_eq!(index_path("a").as_deref(), Some("1/a"));
        assert_eq!(index_path("cc").as_deref(), Some("2/cc"));
        assert_eq!(index_path("syn").as_deref(), Some("3/s/syn"));
        assert_eq!(index_path("serde").as_deref(), Some("se/rd/serde"));
        assert_eq!(index_path("smallvec").as_deref(), Some("sm/al/smallvec"));
        assert_eq!(index_path("abcd").as_deref(), Some("ab/cd/abcd"));
    }

    #[test]
    fn path_is_lowercased() {
        assert_eq!(index_path("Inflector").as_deref(), Some("in/fl/inflector"));
        assert_eq!(index_path("SYN").as_deref(), Some("3/s/syn"));
        assert_eq!(index_path("X").as_deref(), Some("1/x"));
        assert_eq!(index_path("Cc").as_deref(), Some("2/cc"));
        assert_eq!(index_path("Foo_Bar-2").as_deref(), Some("fo/o_/foo_bar-2"));
    }

    #[test]
    fn names_that_could_escape_a_path_or_url_are_refused() {
        for bad in [
            "",
            "..",
            "../etc",
            "a/b",
            "a\\b",
            "a b",
            "é",
            "name?x",
            "%2e%2e",
            &"a".repeat(65),
        ] {
            assert_eq!(index_path(bad), None, "{bad:?}");
        }
        assert!(index_path(&"a".repeat(64)).is_some());
    }

    #[test]
    fn lines_parse_and_bad_ones_are_skipped() {
        let body =
            br#"{"name":"x","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}
not json at all
{"name":"x","vers":"1.0.1","yanked":true,"v":2,"features2":{},"rust_version":"1.60"}
{"name":"x","vers":"1.0.2"}
{"name":"x","vers":"not-semver","yanked":false}
{"name":"x","vers":"1.0.3","yanked":"no"}
{"name":"x","vers":"1.0.4","yank
"#;
        let entries = parse_index_file(body).unwrap();
        assert_eq!(
            entries,
            vec![
                IndexEntry {
                    version: v("1.0.0"),
                    yanked: false
                },
                IndexEntry {
                    version: v("1.0.1"),
                    yanked: true
                },
            ]
        );
    }

    #[test]
    fn crlf_and_blank_lines_are_tolerated() {
        let body = b"\r\n{\"vers\":\"0.1.0\",\"yanked\":false}\r\n\r\n";
        assert_eq!(parse_index_file(body).unwrap().len(), 1);
    }

    #[test]
    fn a_file_without_a_readable_line_is_an_error() {
        assert_eq!(
            parse_index_file(b"").unwrap_err(),
            "the index file is empty"
        );
        assert_eq!(
            parse_index_file(b"<html>rate limited</html>\n{}\n").unwrap_err(),
            "no line of the index file could be read"
        );
        assert!(parse_index_file(&[0xff, 0xfe, b'\n', 0x00]).is_err());
    }

    #[test]
    fn status_by_version() {
        let entries = parse_index_file(
            br#"{"vers":"1.0.0","yanked":false}
{"vers":"1.0.1","yanked":true}
{"vers":"110.0.0+1.1.0f","yanked":true}
{"vers":"110.0.0","yanked":false}
{"vers":"2.0.0+a","yanked":false}
{"vers":"2.0.0-rc.1","yanked":true}"#,
        )
        .unwrap();
        assert_eq!(status_of(&entries, &v("1.0.0")), YankStatus::Available);
        assert_eq!(status_of(&entries, &v("1.0.1")), YankStatus::Yanked);
        // Build metadata is part of the identity when the index has the exact version …
        assert_eq!(status_of(&entries, &v("110.0.0")), YankStatus::Available);
        assert_eq!(
            status_of(&entries, &v("110.0.0+1.1.0f")),
            YankStatus::Yanked
        );
        // … and ignored only when it does not and the candidates agree.
        assert_eq!(status_of(&entries, &v("2.0.0")), YankStatus::Available);
        assert_eq!(
            status_of(&entries, &v("110.0.0+other")),
            YankStatus::Unknown("version not in the index".into())
        );
        assert_eq!(status_of(&entries, &v("2.0.0-rc.1")), YankStatus::Yanked);
        assert_eq!(
            status_of(&entries, &v("1.0.2")),
            YankStatus::Unknown("version not in the index".into())
        );
    }

    /// Builds a file in cargo's cache layout, as observed in
    /// `~/.cargo/registry/index/index.crates.io-*/.cache/` (cargo 1.95).
    fn cargo_cache(version_byte: u8, pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = vec![version_byte];
        out.extend_from_slice(&2u32.to_le_bytes());
        out.extend_from_slice(b"etag: \"abc\"\0");
        for (vers, json) in pairs {
            out.extend_from_slice(vers.as_bytes());
            out.push(0);
            out.extend_from_slice(json.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn cargo_cache_files_parse() {
        let data = cargo_cache(
            3,
            &[
                (
                    "0.1.0",
                    r#"{"name": "smallvec", "vers": "0.1.0", "deps": [], "yanked": false}"#,
                ),
                (
                    "0.1.1",
                    r#"{"name":"smallvec","vers":"0.1.1","yanked":true}"#,
                ),
                ("0.1.2", "garbage"),
            ],
        );
        let entries = parse_cargo_cache(&data).unwrap();
        assert_eq!(status_of(&entries, &v("0.1.0")), YankStatus::Available);
        assert_eq!(status_of(&entries, &v("0.1.1")), YankStatus::Yanked);
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn cargo_cache_files_of_other_formats_or_truncated_are_errors() {
        let pair = [("1.0.0", r#"{"vers":"1.0.0","yanked":false}"#)];
        assert!(parse_cargo_cache(&cargo_cache(2, &pair)).is_err());
        assert!(parse_cargo_cache(&[]).is_err());
        assert!(parse_cargo_cache(&[3, 2, 0]).is_err());
        assert!(parse_cargo_cache(&cargo_cache(3, &[])).is_err());
        // Cut off in the middle of a JSON blob: the complete pairs still count.
        let mut data = cargo_cache(3, &pair);
        data.extend_from_slice(b"1.0.1\0{\"vers\":\"1.0");
        assert_eq!(parse_cargo_cache(&data).unwrap().len(), 1);
    }
}
