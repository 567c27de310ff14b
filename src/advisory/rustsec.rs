//! RustSec advisories (`crates/<name>/RUSTSEC-*.md`: TOML front matter in a ```` ```toml ````
//! fence, then Markdown), parsed with the `rustsec` crate and converted into [`Advisory`].
//!
//! `rustsec::Database::open` stops at the first file it cannot parse; here each file is loaded
//! on its own with `rustsec::Advisory`'s parser, and the checks `rustsec::Database` makes on top
//! (file named after the id, directory named after the package, collection from the path) are
//! repeated, so one broken file becomes one load error.

use std::error::Error as _;
use std::path::{Component, Path};

use super::model::{Advisory, AdvisoryKind, Affected, AffectedVersions, Cvss};

/// Where an advisory file sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collection {
    /// `crates/`: crates.io packages.
    Crates,
    /// `rust/`: the toolchain (std, cargo, rustdoc).
    Toolchain,
}

/// Loads one advisory file; `rel` is its path relative to the database root
/// (`crates/<package>/<id>.md`). `Ok(None)` for a draft/placeholder advisory, which rustsec
/// parses but does not load either.
pub(crate) fn load_file(path: &Path, rel: &Path) -> Result<Option<(Advisory, Collection)>, String> {
    let names: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let [collection_dir, package_dir, file_name] = names.as_slice() else {
        return Err("not at crates/<package>/<file> or rust/<component>/<file>".to_owned());
    };
    let collection = match *collection_dir {
        "crates" => Collection::Crates,
        "rust" => Collection::Toolchain,
        other => return Err(format!("unknown collection directory {other:?}")),
    };
    if !file_name.ends_with(".md") {
        return Err("unexpected file: advisories are .md files".to_owned());
    }
    let text = crate::untrusted::read_limited_text(path, super::MAX_ADVISORY_FILE_BYTES)
        .map_err(|e| format!("cannot read: {e}"))?;
    let parsed = parse_text(&text)?;

    let meta = &parsed.metadata;
    let draft = ::rustsec::Advisory::is_draft(path);
    if !draft && *file_name != format!("{}.md", meta.id.as_str()) {
        return Err(format!(
            "advisory {} is in a file named {file_name}",
            meta.id.as_str()
        ));
    }
    if *package_dir != meta.package.as_str() {
        return Err(format!(
            "advisory for package {} is in directory {package_dir}",
            meta.package.as_str()
        ));
    }
    let declared = meta.collection.map(|c| match c {
        ::rustsec::Collection::Crates => Collection::Crates,
        ::rustsec::Collection::Rust => Collection::Toolchain,
    });
    if declared.is_some_and(|c| c != collection) {
        return Err("collection field does not match the directory".to_owned());
    }
    if meta.id.is_placeholder() {
        return Ok(None);
    }
    Ok(Some((convert(parsed), collection)))
}

/// Parses the text of one advisory file, without the checks that tie it to its place in a
/// database (file and directory names, collection).
pub(crate) fn parse(text: &str) -> Result<Advisory, String> {
    parse_text(text).map(convert)
}

/// How every advisory file starts: the fence of its TOML front matter.
const FRONT_MATTER_FENCE: &str = "```toml";

fn parse_text(text: &str) -> Result<::rustsec::Advisory, String> {
    // Checked here first: for a file that does not start with the fence, rustsec 0.34 quotes
    // its first 20 bytes by slicing, which panics when byte 20 falls inside a character.
    if !text.starts_with(FRONT_MATTER_FENCE) {
        let start: String = text.chars().take(20).collect();
        return Err(format!(
            "the file starts with {start:?}, not with the {FRONT_MATTER_FENCE} front matter fence"
        ));
    }
    text.parse().map_err(|e| error_chain(&e))
}

/// The message of an error and of every error below it.
fn error_chain(e: &::rustsec::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg.push_str(": ");
            msg.push_str(s_msg.trim_end());
        }
        source = s.source();
    }
    msg
}

fn convert(advisory: ::rustsec::Advisory) -> Advisory {
    let ::rustsec::Advisory {
        metadata: m,
        affected,
        versions,
    } = advisory;
    let affected = affected.unwrap_or_default();
    Advisory {
        id: m.id.as_str().to_owned(),
        package: m.package.as_str().to_owned(),
        kind: AdvisoryKind::from_informational(m.informational.as_ref().map(|i| i.as_str())),
        title: m.title,
        date: m.date.as_str().to_owned(),
        aliases: m.aliases.iter().map(|a| a.as_str().to_owned()).collect(),
        url: m.url.as_ref().map(|u| u.as_str().to_owned()),
        cvss: m.cvss.as_ref().map(|c| Cvss {
            vector: c.to_string(),
            score: c.score(),
        }),
        withdrawn: m.withdrawn.as_ref().map(|d| d.as_str().to_owned()),
        // rustsec's requirements are `semver::VersionReq`, the same type as ours.
        versions: AffectedVersions::Rustsec {
            patched: versions.patched().to_vec(),
            unaffected: versions.unaffected().to_vec(),
        },
        affected: Affected {
            os: affected.os,
            arch: affected.arch,
            functions: affected.functions.keys().map(|f| f.to_string()).collect(),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::advisory::Severity;

    const SMALLVEC: &str = r#"```toml
[advisory]
id = "RUSTSEC-2021-0003"
package = "smallvec"
aliases = ["CVE-2021-25900"]
cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
date = "2021-01-08"
url = "https://github.com/servo/rust-smallvec/issues/252"

[versions]
patched = [">= 0.6.14, < 1.0.0", ">= 1.6.1"]
unaffected = ["< 0.6.3"]

[affected]
os = ["windows"]
functions = { "smallvec::SmallVec::insert_many" = [">= 1.0.0, < 1.6.1"] }
```

# Buffer overflow in SmallVec::insert_many

Text.
"#;

    fn write(dir: &Path, rel: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn converts_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let rel = "crates/smallvec/RUSTSEC-2021-0003.md";
        let p = write(dir.path(), rel, SMALLVEC);
        let (a, c) = load_file(&p, Path::new(rel)).unwrap().unwrap();
        assert_eq!(c, Collection::Crates);
        assert_eq!(a.id, "RUSTSEC-2021-0003");
        assert_eq!(a.package, "smallvec");
        assert_eq!(a.kind, AdvisoryKind::Vulnerability);
        assert_eq!(a.title, "Buffer overflow in SmallVec::insert_many");
        assert_eq!(a.date, "2021-01-08");
        assert_eq!(a.aliases, ["CVE-2021-25900"]);
        assert_eq!(
            a.url.as_deref(),
            Some("https://github.com/servo/rust-smallvec/issues/252")
        );
        let cvss = a.cvss.as_ref().unwrap();
        assert_eq!(cvss.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!(cvss.score, 9.8);
        assert_eq!(a.severity(), Some(Severity::Critical));
        assert_eq!(a.affected.os, ["windows"]);
        assert_eq!(a.affected.functions, ["smallvec::SmallVec::insert_many"]);
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(a.versions.affects(&v("1.6.0")));
        assert!(!a.versions.affects(&v("1.6.1")));
        assert!(!a.versions.affects(&v("0.6.2")));
    }

    #[test]
    fn misplaced_files_are_errors_like_in_rustsec() {
        let dir = tempfile::tempdir().unwrap();
        let rel = "crates/other/RUSTSEC-2021-0003.md";
        let p = write(dir.path(), rel, SMALLVEC);
        let e = load_file(&p, Path::new(rel)).unwrap_err();
        assert!(e.contains("directory other"), "{e}");
        let rel = "crates/smallvec/RUSTSEC-2021-0004.md";
        let p = write(dir.path(), rel, SMALLVEC);
        assert!(load_file(&p, Path::new(rel)).is_err());
        let rel = "crates/smallvec/RUSTSEC-2021-0003.toml";
        let p = write(dir.path(), rel, SMALLVEC);
        assert!(load_file(&p, Path::new(rel)).is_err());
    }

    #[test]
    fn parse_errors_keep_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let rel = "crates/smallvec/RUSTSEC-2021-0003.md";
        let p = write(
            dir.path(),
            rel,
            &SMALLVEC.replace("date = \"2021-01-08\"", "date = \"yesterday\""),
        );
        let e = load_file(&p, Path::new(rel)).unwrap_err();
        assert!(e.contains("parse"), "{e}");
        assert!(e.len() > "parse error".len(), "{e}");
    }

    #[test]
    fn placeholder_advisories_are_parsed_but_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let rel = "crates/smallvec/RUSTSEC-0000-0000.md";
        let text = SMALLVEC.replace("RUSTSEC-2021-0003", "RUSTSEC-0000-0000");
        let p = write(dir.path(), rel, &text);
        assert_eq!(load_file(&p, Path::new(rel)).unwrap(), None);
    }
}
