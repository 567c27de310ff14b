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
//!
//! Reading a manifest checks it; writing one gives the exact wire bytes back:
//!
//! ```
//! use linker_section::{Manifest, ManifestError};
//!
//! let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"semver","version":"1.0.28","source":"crates.io"}],"format":1}"#;
//! let manifest = Manifest::from_json(json)?;
//! assert_eq!(manifest.root().map(|(_, p)| p.name.as_str()), Some("app"));
//! assert_eq!(manifest.to_json().as_bytes(), json);
//!
//! // Two roots are rejected, as the format requires.
//! let two_roots = br#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true},{"name":"b","version":"1.0.0","source":"local","root":true}]}"#;
//! assert!(matches!(Manifest::from_json(two_roots), Err(ManifestError::MultipleRoots { .. })));
//! # Ok::<(), ManifestError>(())
//! ```

mod cache;
pub mod cargo_config;
pub mod collect;
pub mod driver;
pub mod encode;
pub mod exact;
pub mod link_args;
pub mod manifest;
pub mod object_file;
pub mod target;
pub mod unit;
pub mod wrapper;

pub use manifest::{DependencyKind, Manifest, ManifestError, Package, RawManifest, Source};
