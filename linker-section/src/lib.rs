//! binaudit's build helper and the format it writes.
//!
//! This crate owns the embedded dependency manifest (`.dep-v0`, the format `cargo auditable`
//! established): its types and validation ([`manifest`]), its encoding ([`encode`]), the
//! object file that carries it into the linker ([`object_file`], [`target`], [`link_args`]),
//! how the dependency graph of one artifact is collected ([`collect`]), and the two halves of
//! the build helper: the driver that runs cargo ([`driver`]) and the rustc wrapper that cargo
//! runs ([`wrapper`]).
//!
//! The auditor (the `binaudit` crate) depends on this crate only for [`manifest`]; everything
//! else here runs at build time on trusted input (cargo's and rustc's own output).

pub mod collect;
pub mod driver;
pub mod encode;
pub mod link_args;
pub mod manifest;
pub mod object_file;
pub mod target;
pub mod wrapper;

pub use manifest::{DependencyKind, Manifest, ManifestError, Package, RawManifest, Source};
