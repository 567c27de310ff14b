//! Platforms of a multi-platform image (`os/arch[/variant]`), matched as containerd does for
//! the common aliases: `x86_64` is `amd64`, `aarch64` is `arm64`, and `arm64` without a
//! variant is `arm64/v8`.

use std::fmt;

/// One platform of an image index, or the one asked for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// A platform from the fields of an index or a config, normalised.
    pub(super) fn new(os: &str, arch: &str, variant: Option<&str>) -> Self {
        let os = os.to_ascii_lowercase();
        let arch = arch.to_ascii_lowercase();
        let variant = variant
            .filter(|v| !v.is_empty())
            .map(str::to_ascii_lowercase);
        let (arch, variant) = match (arch.as_str(), variant.as_deref()) {
            ("x86_64" | "x86-64", _) => ("amd64".to_owned(), variant),
            ("aarch64" | "arm64", None | Some("v8")) => ("arm64".to_owned(), None),
            ("aarch64", Some(_)) => ("arm64".to_owned(), variant),
            ("i386" | "i686" | "x86", _) => ("386".to_owned(), variant),
            _ => (arch, variant),
        };
        Self { os, arch, variant }
    }

    /// Parses `os/arch[/variant]` as given to `--platform`.
    pub(super) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?;
        let arch = parts.next().filter(|s| !s.is_empty())?;
        let variant = parts.next();
        if parts.next().is_some() || variant == Some("") {
            return None;
        }
        Some(Self::new(os, arch, variant))
    }

    /// Whether this platform (of an image) is the one `wanted`; a wanted platform without a
    /// variant accepts any variant.
    pub(super) fn matches(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.arch == wanted.arch
            && (wanted.variant.is_none() || self.variant == wanted.variant)
    }

    /// `unknown/unknown`: what buildx gives the attestation manifests of an index.
    pub(super) fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.arch == "unknown"
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches_aliases() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        assert!(Platform::new("linux", "aarch64", None).matches(&p));
        assert!(Platform::new("linux", "arm", Some("v7"))
            .matches(&Platform::parse("linux/arm").unwrap()));
        assert!(!Platform::new("linux", "arm", Some("v6"))
            .matches(&Platform::parse("linux/arm/v7").unwrap()));
        assert_eq!(
            Platform::parse("linux/x86_64").unwrap().to_string(),
            "linux/amd64"
        );
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("linux/amd64/v2/x").is_none());
        assert!(Platform::parse("linux//").is_none());
    }
}
