//! `binaudit show`: what one or more binaries embed, for people (a tree) and machines (JSON).
//!
//! The JSON document is versioned by its `schema` field; see the README for the field list.
//! Changes that remove or retype a field bump the version.

use std::collections::HashSet;
use std::io::{self, Write};

use linker_section::{DependencyKind, Manifest, Source};
use serde::Serialize;

use crate::binary::{BinaryReport, ImageManifest, ImageReport, InspectError, Inspected};
use crate::extract::{Endian, FileKind, Image};

/// The value of the JSON document's `schema` field.
pub const SHOW_SCHEMA: &str = "binaudit-show/1";

/// What a file's inspection means for `show`'s exit status: 0, 1 or 2.
pub fn exit_status(result: &Result<BinaryReport, InspectError>) -> u8 {
    match result {
        Ok(report) => report
            .images
            .iter()
            .map(|i| match i.manifest {
                ImageManifest::Found { .. } => 0,
                ImageManifest::Missing => 1,
                ImageManifest::Invalid { .. } => 2,
            })
            .max()
            .unwrap_or(1),
        Err(e) if e.is_not_executable() => 1,
        Err(_) => 2,
    }
}

/// "ELF 64-bit little-endian x86_64 executable (linux)".
pub fn describe_image(format: &str, image: &Image) -> String {
    let endian = match image.endian {
        Endian::Little => "little-endian",
        Endian::Big => "big-endian",
    };
    let kind = file_kind_str(image.kind);
    let os = image
        .os
        .map(|o| format!(" ({})", o.as_str()))
        .unwrap_or_default();
    format!(
        "{format} {}-bit {endian} {} {kind}{os}",
        image.bits, image.arch
    )
}

fn file_kind_str(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Executable => "executable",
        FileKind::SharedLibrary => "shared library",
        FileKind::Relocatable => "relocatable object",
        FileKind::Other => "module",
    }
}

/// Writes the human-readable view of one file.
pub fn write_human(out: &mut dyn Write, inspected: &Inspected) -> io::Result<()> {
    let path = inspected.path.display();
    match &inspected.result {
        Err(e) if e.is_not_executable() => {
            writeln!(
                out,
                "{path}: not an executable or object file (ELF, Mach-O, PE/COFF or WebAssembly)"
            )
        }
        Err(e) => writeln!(out, "{path}: error: {e}"),
        Ok(report) => {
            let format = report.format.as_str();
            let many = report.images.len() > 1;
            if many {
                writeln!(
                    out,
                    "{path}: {format} with {} architectures",
                    report.images.len()
                )?;
            }
            for ImageReport { image, manifest } in &report.images {
                let what = describe_image(if many { "slice:" } else { format }, image);
                let indent = if many { "  " } else { "" };
                let head = if many {
                    format!("  {what}")
                } else {
                    format!("{path}: {what}")
                };
                match manifest {
                    ImageManifest::Missing => writeln!(
                        out,
                        "{head}\n{indent}  no dependency manifest (no .dep-v0 section): build it with `cargo binaudit build`"
                    )?,
                    ImageManifest::Invalid { section, error } => {
                        writeln!(out, "{head}\n{indent}  error: unreadable manifest in section {section}: {error}")?
                    }
                    ImageManifest::Found { section, decoded } => {
                        writeln!(out, "{head}")?;
                        write_summary(out, indent, section, &decoded.manifest)?;
                        write_tree(out, &format!("{indent}  "), &decoded.manifest)?;
                    }
                }
            }
            Ok(())
        }
    }
}

fn write_summary(out: &mut dyn Write, indent: &str, section: &str, m: &Manifest) -> io::Result<()> {
    let total = m.packages().len();
    let build = m
        .packages()
        .iter()
        .filter(|p| p.kind == DependencyKind::Build)
        .count();
    writeln!(
        out,
        "{indent}  {total} packages ({} runtime, {build} build-only), from section {section}, manifest format {}",
        total - build,
        m.format()
    )
}

fn package_label(m: &Manifest, i: usize) -> String {
    let Some(p) = m.packages().get(i) else {
        return String::from("?");
    };
    let mut s = format!("{} {}", p.name, p.version);
    if p.source != Source::CratesIo {
        s.push_str(&format!(" ({})", p.source));
    }
    if p.kind == DependencyKind::Build && !p.root {
        s.push_str(" [build]");
    }
    s
}

/// A `cargo tree`-style rendering from the root. A package seen before is printed once more
/// with `(*)` instead of its subtree, so the output is linear in the number of edges.
/// Iterative, so a hostile deep graph cannot overflow the stack.
pub fn write_tree(out: &mut dyn Write, indent: &str, m: &Manifest) -> io::Result<()> {
    let Some((root, _)) = m.root() else {
        return writeln!(out, "{indent}(no packages)");
    };
    writeln!(out, "{indent}{}", package_label(m, root))?;
    let mut expanded: HashSet<usize> = HashSet::from([root]);
    // Each frame: the dependency list being walked, position in it, and the prefix for children.
    let mut stack: Vec<(&[usize], usize, String)> =
        vec![(deps_sorted_by_name(m, root), 0, String::new())];
    while let Some((deps, pos, prefix)) = stack.last_mut() {
        let Some(&child) = deps.get(*pos) else {
            stack.pop();
            continue;
        };
        *pos += 1;
        let last = *pos == deps.len();
        let (branch, cont) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let child_prefix = format!("{prefix}{cont}");
        let first_visit = expanded.insert(child);
        let has_children = m
            .packages()
            .get(child)
            .is_some_and(|p| !p.dependencies.is_empty());
        let mark = if !first_visit && has_children {
            " (*)"
        } else {
            ""
        };
        writeln!(
            out,
            "{indent}{prefix}{branch}{}{mark}",
            package_label(m, child)
        )?;
        if first_visit && has_children {
            stack.push((deps_sorted_by_name(m, child), 0, child_prefix));
        }
    }
    Ok(())
}

/// Packages are stored sorted by name then version, so index order is name order.
fn deps_sorted_by_name(m: &Manifest, i: usize) -> &[usize] {
    m.packages()
        .get(i)
        .map(|p| p.dependencies.as_slice())
        .unwrap_or(&[])
}

/// The JSON document: one per invocation.
#[derive(Debug, Serialize)]
pub struct ShowDocument<'a> {
    pub schema: &'static str,
    pub files: Vec<FileJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct FileJson<'a> {
    pub path: String,
    /// `manifest`, `no-manifest`, `not-executable` or `error` (the worst over its images).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    pub images: Vec<ImageJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ImageJson<'a> {
    pub arch: String,
    pub bits: u8,
    pub endian: &'static str,
    pub kind: &'static str,
    pub os: Option<&'static str>,
    pub completeness: &'static str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ManifestJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ManifestJson<'a> {
    pub format: u32,
    pub packages: Vec<PackageJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct PackageJson<'a> {
    pub name: &'a str,
    pub version: String,
    pub source: &'a str,
    pub kind: &'static str,
    pub dependencies: &'a [usize],
    pub root: bool,
}

fn image_status(m: &ImageManifest) -> &'static str {
    match m {
        ImageManifest::Found { .. } => "manifest",
        ImageManifest::Missing => "no-manifest",
        ImageManifest::Invalid { .. } => "error",
    }
}

impl<'a> FileJson<'a> {
    pub fn new(inspected: &'a Inspected) -> Self {
        let path = inspected.path.display().to_string();
        match &inspected.result {
            Err(e) => FileJson {
                path,
                status: if e.is_not_executable() {
                    "not-executable"
                } else {
                    "error"
                },
                error: (!e.is_not_executable()).then(|| e.to_string()),
                format: None,
                images: Vec::new(),
            },
            Ok(report) => {
                let images: Vec<ImageJson<'a>> = report.images.iter().map(ImageJson::new).collect();
                let status = match exit_status(&inspected.result) {
                    0 => "manifest",
                    1 => "no-manifest",
                    _ => "error",
                };
                FileJson {
                    path,
                    status,
                    error: None,
                    format: Some(report.format.as_str()),
                    images,
                }
            }
        }
    }
}

impl<'a> ImageJson<'a> {
    fn new(r: &'a ImageReport) -> Self {
        let image = &r.image;
        let (section, error, manifest) = match &r.manifest {
            ImageManifest::Found { section, decoded } => {
                let m = &decoded.manifest;
                let packages = m
                    .packages()
                    .iter()
                    .map(|p| PackageJson {
                        name: &p.name,
                        version: p.version.to_string(),
                        source: p.source.as_str(),
                        kind: p.kind.as_str(),
                        dependencies: &p.dependencies,
                        root: p.root,
                    })
                    .collect();
                (
                    Some(*section),
                    None,
                    Some(ManifestJson {
                        format: m.format(),
                        packages,
                    }),
                )
            }
            ImageManifest::Missing => (None, None, None),
            ImageManifest::Invalid { section, error } => {
                (Some(*section), Some(error.to_string()), None)
            }
        };
        ImageJson {
            arch: image.arch.to_string(),
            bits: image.bits,
            endian: match image.endian {
                Endian::Little => "little",
                Endian::Big => "big",
            },
            kind: match image.kind {
                FileKind::Executable => "executable",
                FileKind::SharedLibrary => "shared-library",
                FileKind::Relocatable => "relocatable",
                FileKind::Other => "other",
            },
            os: image.os.map(|o| o.as_str()),
            completeness: r.manifest.completeness().as_str(),
            status: image_status(&r.manifest),
            section,
            error,
            manifest,
        }
    }
}

/// Writes the whole JSON document for `files`.
pub fn write_json(out: &mut dyn Write, files: &[Inspected]) -> io::Result<()> {
    let doc = ShowDocument {
        schema: SHOW_SCHEMA,
        files: files.iter().map(FileJson::new).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
