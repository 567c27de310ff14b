//! `binaudit show FILE…`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use binaudit::binary::{inspect_path, ImageManifest, Inspected};
use binaudit::decode::Limits;
use binaudit::report::show::{exit_status, write_human, write_json};
use clap::Args;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Binaries to inspect: executables, shared libraries, object files; any platform.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write the embedded JSON exactly as stored (byte-identical to `rust-audit-info`).
    #[arg(long, conflicts_with = "json")]
    raw: bool,
    /// Write one machine-readable JSON document for all files (schema `binaudit-show/1`).
    #[arg(long)]
    json: bool,
    /// For universal (fat) Mach-O files: the architecture to show, e.g. `x86_64` or `aarch64`.
    #[arg(long, value_name = "NAME")]
    arch: Option<String>,
    /// Largest decompressed manifest accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT_MAX_JSON_BYTES)]
    max_json_size: u64,
}

/// Architecture names people use for the same thing, mapped to Rust's `target_arch` spelling.
fn normalise_arch(name: &str) -> &str {
    match name {
        "arm64" | "aarch64" => "aarch64",
        "amd64" | "x86-64" | "x64" | "x86_64" => "x86_64",
        "i386" | "i686" | "x86" => "x86",
        other => other,
    }
}

pub fn run(args: ShowArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) if super::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &ShowArgs) -> anyhow::Result<u8> {
    let limits = Limits {
        max_json_bytes: args.max_json_size,
    };
    let mut files: Vec<Inspected> = args
        .files
        .iter()
        .map(|path| Inspected {
            path: path.clone(),
            result: inspect_path(path, &limits),
        })
        .collect();

    if let Some(want) = &args.arch {
        let want = normalise_arch(want);
        for f in &mut files {
            if let Ok(report) = &mut f.result {
                let present: Vec<String> = report
                    .images
                    .iter()
                    .map(|i| i.image.arch.to_string())
                    .collect();
                report.images.retain(|i| i.image.arch.as_str() == want);
                if report.images.is_empty() {
                    bail!(
                        "{}: no {want} image; architectures present: {}",
                        f.path.display(),
                        present.join(", ")
                    );
                }
            }
        }
    }

    if args.raw {
        return raw(&files);
    }
    // Buffered: a locked stdout flushes at every newline.
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    if args.json {
        write_json(&mut out, &files).context("writing JSON")?;
    } else {
        for f in &files {
            write_human(&mut out, f).context("writing output")?;
        }
    }
    out.flush().context("writing output")?;
    Ok(files
        .iter()
        .map(|f| exit_status(&f.result))
        .max()
        .unwrap_or(0))
}

/// `--raw`: the stored JSON bytes of exactly one image, nothing else on stdout.
fn raw(files: &[Inspected]) -> anyhow::Result<u8> {
    let [file] = files else {
        bail!("--raw takes exactly one file ({} given)", files.len());
    };
    let path = file.path.display();
    let report = match &file.result {
        Ok(r) => r,
        Err(e) if e.is_not_executable() => {
            eprintln!(
                "{path}: not an executable or object file (ELF, Mach-O, PE/COFF or WebAssembly)"
            );
            return Ok(1);
        }
        Err(e) => bail!("{path}: {e}"),
    };
    let [image] = report.images.as_slice() else {
        let archs: Vec<String> = report
            .images
            .iter()
            .map(|i| i.image.arch.to_string())
            .collect();
        bail!(
            "{path} is a {} holding {} architectures ({}); pick one with --arch",
            report.format.as_str(),
            archs.len(),
            archs.join(", ")
        );
    };
    match &image.manifest {
        ImageManifest::Found { decoded, .. } => {
            let mut out = std::io::stdout().lock();
            out.write_all(&decoded.json).context("writing output")?;
            out.flush().context("writing output")?;
            Ok(0)
        }
        ImageManifest::Missing => {
            eprintln!(
                "{path}: {} has no dependency manifest (no .dep-v0 section)",
                binaudit::report::show::describe_image(report.format.as_str(), &image.image)
            );
            Ok(1)
        }
        ImageManifest::Invalid { section, error } => {
            bail!("{path}: unreadable manifest in section {section}: {error}")
        }
    }
}
