//! From the image's JSON to the list of layers to read: `manifest.json` of a docker-archive,
//! or an OCI layout's `index.json` → (nested indexes) → one manifest chosen by reference and
//! platform → its config and layers.
//!
//! Everything read here is untrusted and small: each JSON file is read whole only up to
//! [`MAX_JSON`] bytes, nested indexes are followed to [`MAX_INDEX_DEPTH`], at most
//! [`MAX_DESCRIPTORS`] manifests are considered and an image has at most [`MAX_LAYERS`] layers.
//! Digests are checked before they name a blob, so `sha256:../../x` addresses nothing.

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;

use super::platform::Platform;
use super::store::Store;
use super::ImageError;

/// The largest manifest, index or config read (16 MiB).
pub(super) const MAX_JSON: u64 = 16 * 1024 * 1024;
/// The most layers an image may have.
pub(super) const MAX_LAYERS: usize = 1000;
/// How deep image indexes may nest.
const MAX_INDEX_DEPTH: u32 = 8;
/// The most descriptors looked at across an image's indexes.
const MAX_DESCRIPTORS: usize = 10_000;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// One layer to read.
#[derive(Debug, Clone)]
pub(super) struct LayerRef {
    /// The digest reported for files of this layer.
    pub digest: String,
    /// The name of its blob in the [`Store`].
    pub blob: String,
}

/// The chosen image.
#[derive(Debug)]
pub(super) struct Plan {
    pub reference: String,
    pub platform: Option<Platform>,
    /// Bottom layer first, as manifests list them.
    pub layers: Vec<LayerRef>,
}

#[derive(Debug, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    platform: Option<RawPlatform>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct RawPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

/// An index or a manifest: which one is decided by the fields present, whatever the media
/// type says.
#[derive(Debug, Deserialize)]
struct IndexOrManifest {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

impl Config {
    fn platform(&self) -> Option<Platform> {
        match (&self.os, &self.architecture) {
            (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => {
                Some(Platform::new(os, arch, self.variant.as_deref()))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct DockerImage {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

fn malformed(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> ImageError {
    let what = what.into();
    move |e| ImageError::Malformed {
        what,
        reason: e.to_string(),
    }
}

/// `blobs/<algorithm>/<hex>` for a well-formed digest.
pub(super) fn blob_name(digest: &str) -> Option<String> {
    let (algorithm, hex) = digest.split_once(':')?;
    let len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return None,
    };
    let hex_ok = hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex_ok.then(|| format!("blobs/{algorithm}/{hex}"))
}

fn checked_blob(digest: &str, what: &str) -> Result<String, ImageError> {
    blob_name(digest).ok_or_else(|| ImageError::Malformed {
        what: what.to_owned(),
        reason: format!("invalid digest `{digest}`"),
    })
}

fn read_json<T: for<'de> Deserialize<'de>>(
    store: &Store,
    name: &str,
    what: &str,
) -> Result<Option<T>, ImageError> {
    let Some(data) = store.read_small(name, MAX_JSON)? else {
        return Ok(None);
    };
    serde_json::from_slice(&data)
        .map(Some)
        .map_err(malformed(what))
}

/// Whether a reference names `wanted`: equal, or equal after Docker Hub's implied parts
/// (`docker.io/`, `library/`, `:latest`).
pub(super) fn reference_matches(candidate: &str, wanted: &str) -> bool {
    fn normal(r: &str) -> String {
        let r = r
            .strip_prefix("docker.io/")
            .or_else(|| r.strip_prefix("index.docker.io/"))
            .unwrap_or(r);
        let r = r.strip_prefix("library/").unwrap_or(r);
        let last = r.rsplit('/').next().unwrap_or(r);
        if last.contains(':') || r.contains('@') {
            r.to_owned()
        } else {
            format!("{r}:latest")
        }
    }
    candidate == wanted || normal(candidate) == normal(wanted)
}

fn check_platform(
    platform: Option<&Platform>,
    wanted: Option<&Platform>,
) -> Result<(), ImageError> {
    if let (Some(p), Some(w)) = (platform, wanted) {
        if !p.matches(w) {
            return Err(ImageError::PlatformNotFound {
                wanted: w.to_string(),
                available: vec![p.to_string()],
            });
        }
    }
    Ok(())
}

/// A docker-archive (`docker save`, `skopeo copy … docker-archive:`): `manifest.json` lists
/// each image's config and layer members. A layer's digest is the config's `diff_ids` entry
/// (the digest of the uncompressed layer, as `docker inspect` shows it), because the member
/// names of older archives are layer IDs, not digests.
pub(super) fn docker(
    store: &Store,
    fallback: &str,
    selector: Option<&str>,
    wanted: Option<&Platform>,
) -> Result<Plan, ImageError> {
    let images: Vec<DockerImage> =
        read_json(store, "manifest.json", "manifest.json")?.ok_or(ImageError::Missing {
            what: "manifest.json".into(),
        })?;
    let names: Vec<String> = images
        .iter()
        .map(|i| {
            i.repo_tags
                .as_ref()
                .and_then(|t| t.first().cloned())
                .unwrap_or_else(|| format!("(untagged, config {})", i.config))
        })
        .collect();
    let (image, reference) = match selector {
        Some(sel) => images
            .iter()
            .find_map(|i| {
                let tags = i.repo_tags.as_deref().unwrap_or_default();
                let tag = tags.iter().find(|t| reference_matches(t, sel))?;
                Some((i, tag.clone()))
            })
            .ok_or_else(|| ImageError::ReferenceNotFound {
                wanted: sel.to_owned(),
                available: names.clone(),
            })?,
        None => match images.as_slice() {
            [] => {
                return Err(ImageError::Malformed {
                    what: "manifest.json".into(),
                    reason: "it lists no image".into(),
                })
            }
            [one] => (
                one,
                one.repo_tags
                    .as_ref()
                    .and_then(|t| t.first().cloned())
                    .unwrap_or_else(|| fallback.to_owned()),
            ),
            _ => return Err(ImageError::AmbiguousImage { available: names }),
        },
    };
    if image.layers.len() > MAX_LAYERS {
        return Err(ImageError::Limit {
            what: "layers",
            limit: MAX_LAYERS as u64,
        });
    }
    let config_what = format!("config {}", image.config);
    let config: Config = read_json(store, &image.config, &config_what)?
        .ok_or(ImageError::Missing { what: config_what })?;
    let platform = config.platform();
    check_platform(platform.as_ref(), wanted)?;
    let diff_ids = config.rootfs.map(|r| r.diff_ids).unwrap_or_default();
    if diff_ids.len() != image.layers.len() {
        return Err(ImageError::Malformed {
            what: format!("config {}", image.config),
            reason: format!(
                "{} diff_ids for {} layers",
                diff_ids.len(),
                image.layers.len()
            ),
        });
    }
    let mut layers = Vec::with_capacity(image.layers.len());
    for (member, digest) in image.layers.iter().zip(diff_ids) {
        checked_blob(&digest, "config diff_ids")?;
        if !store.has(member) {
            return Err(ImageError::BlobMissing { digest });
        }
        layers.push(LayerRef {
            digest,
            blob: member.clone(),
        });
    }
    Ok(Plan {
        reference,
        platform,
        layers,
    })
}

/// A manifest an index names, with what the index says about it.
#[derive(Debug)]
struct Candidate {
    digest: String,
    blob: String,
    name: Option<String>,
    platform: Option<Platform>,
}

fn annotation<'a>(d: &'a Descriptor, key: &str) -> Option<&'a str> {
    d.annotations.as_ref()?.get(key).map(String::as_str)
}

/// An OCI image layout (a directory, or an OCI archive of one).
pub(super) fn oci(
    store: &Store,
    fallback: &str,
    selector: Option<&str>,
    wanted: Option<&Platform>,
) -> Result<Plan, ImageError> {
    if !store.has("oci-layout") {
        return Err(ImageError::Missing {
            what: "oci-layout".into(),
        });
    }
    let index: IndexOrManifest =
        read_json(store, "index.json", "index.json")?.ok_or(ImageError::Missing {
            what: "index.json".into(),
        })?;
    let top = index.manifests.ok_or_else(|| ImageError::Malformed {
        what: "index.json".into(),
        reason: "no `manifests` list".into(),
    })?;

    // Breadth first, so candidates keep the order the indexes list them in.
    let mut queue: VecDeque<(Vec<Descriptor>, Option<String>, u32)> = VecDeque::new();
    queue.push_back((top, None, 0));
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen = 0usize;
    while let Some((descriptors, inherited, depth)) = queue.pop_front() {
        for d in descriptors {
            seen = seen.saturating_add(1);
            if seen > MAX_DESCRIPTORS {
                return Err(ImageError::Limit {
                    what: "manifests in the image index",
                    limit: MAX_DESCRIPTORS as u64,
                });
            }
            if annotation(&d, "vnd.docker.reference.type") == Some("attestation-manifest") {
                continue;
            }
            let platform = d
                .platform
                .as_ref()
                .map(|p| Platform::new(&p.os, &p.architecture, p.variant.as_deref()));
            if platform.as_ref().is_some_and(Platform::is_unknown) {
                continue;
            }
            let name = annotation(&d, CONTAINERD_NAME)
                .or_else(|| annotation(&d, REF_NAME))
                .map(str::to_owned)
                .or_else(|| inherited.clone());
            let blob = checked_blob(&d.digest, "image index")?;
            let is_index = match d.media_type.as_deref() {
                Some(OCI_INDEX | DOCKER_LIST) => true,
                Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
                // Unknown or absent: look inside.
                _ => {
                    let inner: IndexOrManifest =
                        read_json(store, &blob, &format!("manifest {}", d.digest))?.ok_or(
                            ImageError::BlobMissing {
                                digest: d.digest.clone(),
                            },
                        )?;
                    if inner.manifests.is_none() && inner.layers.is_none() {
                        // Neither an index nor an image manifest: another artifact.
                        continue;
                    }
                    inner.manifests.is_some()
                }
            };
            if is_index {
                if depth >= MAX_INDEX_DEPTH {
                    return Err(ImageError::Limit {
                        what: "levels of nested image indexes",
                        limit: u64::from(MAX_INDEX_DEPTH),
                    });
                }
                let nested: IndexOrManifest =
                    read_json(store, &blob, &format!("index {}", d.digest))?.ok_or(
                        ImageError::BlobMissing {
                            digest: d.digest.clone(),
                        },
                    )?;
                let manifests = nested.manifests.ok_or_else(|| ImageError::Malformed {
                    what: format!("index {}", d.digest),
                    reason: "no `manifests` list".into(),
                })?;
                queue.push_back((manifests, name, depth.saturating_add(1)));
            } else if !candidates.iter().any(|c| c.digest == d.digest) {
                candidates.push(Candidate {
                    digest: d.digest,
                    blob,
                    name,
                    platform,
                });
            }
        }
    }

    let names = |cs: &[Candidate]| -> Vec<String> {
        let mut names: Vec<String> = cs
            .iter()
            .map(|c| c.name.clone().unwrap_or_else(|| c.digest.clone()))
            .collect();
        names.dedup();
        names
    };
    if let Some(sel) = selector {
        let available = names(&candidates);
        candidates.retain(|c| c.name.as_deref().is_some_and(|n| reference_matches(n, sel)));
        if candidates.is_empty() {
            return Err(ImageError::ReferenceNotFound {
                wanted: sel.to_owned(),
                available,
            });
        }
    }
    if candidates.is_empty() {
        return Err(ImageError::Malformed {
            what: "index.json".into(),
            reason: "it names no image manifest".into(),
        });
    }
    let mut distinct: Vec<&str> = candidates
        .iter()
        .map(|c| c.name.as_deref().unwrap_or(""))
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() > 1 {
        return Err(ImageError::AmbiguousImage {
            available: names(&candidates),
        });
    }

    let chosen = if candidates.len() == 1 {
        0
    } else {
        // Several platforms: those the index does not describe are learnt from their configs.
        for c in candidates.iter_mut().filter(|c| c.platform.is_none()) {
            let (_, config) = manifest_and_config(store, &c.digest, &c.blob)?;
            c.platform = config.platform();
        }
        let available: Vec<String> = candidates
            .iter()
            .map(|c| {
                c.platform
                    .as_ref()
                    .map_or_else(|| format!("unknown ({})", c.digest), Platform::to_string)
            })
            .collect();
        let default = Platform::new("linux", "amd64", None);
        let want = wanted.unwrap_or(&default);
        let matching: Vec<usize> = candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.platform.as_ref().is_some_and(|p| p.matches(want)))
            .map(|(i, _)| i)
            .collect();
        match matching.as_slice() {
            [one] => *one,
            [] if wanted.is_some() => {
                return Err(ImageError::PlatformNotFound {
                    wanted: want.to_string(),
                    available,
                })
            }
            [] => return Err(ImageError::PlatformRequired { available }),
            several => {
                return Err(ImageError::PlatformAmbiguous {
                    wanted: want.to_string(),
                    matching: several
                        .iter()
                        .filter_map(|i| candidates.get(*i))
                        .filter_map(|c| c.platform.as_ref().map(Platform::to_string))
                        .collect(),
                })
            }
        }
    };
    let Some(candidate) = candidates.get(chosen) else {
        return Err(ImageError::Malformed {
            what: "index.json".into(),
            reason: "no image chosen".into(),
        });
    };
    let (manifest, config) = manifest_and_config(store, &candidate.digest, &candidate.blob)?;
    let platform = config.platform().or_else(|| candidate.platform.clone());
    if candidates.len() == 1 {
        check_platform(platform.as_ref(), wanted)?;
    }
    let descriptors = manifest.layers.unwrap_or_default();
    if descriptors.len() > MAX_LAYERS {
        return Err(ImageError::Limit {
            what: "layers",
            limit: MAX_LAYERS as u64,
        });
    }
    let mut layers = Vec::with_capacity(descriptors.len());
    for d in descriptors {
        let blob = checked_blob(&d.digest, &format!("manifest {}", candidate.digest))?;
        if let Some(media_type) = d.media_type.as_deref() {
            let known = media_type.starts_with("application/vnd.oci.image.layer.")
                || media_type.starts_with("application/vnd.docker.image.rootfs.");
            if media_type.contains("+encrypted") || !known {
                return Err(ImageError::UnsupportedLayer {
                    layer: d.digest,
                    what: format!("media type {media_type}"),
                });
            }
        }
        if !store.has(&blob) {
            return Err(ImageError::BlobMissing { digest: d.digest });
        }
        layers.push(LayerRef {
            digest: d.digest,
            blob,
        });
    }
    Ok(Plan {
        reference: candidate
            .name
            .clone()
            .unwrap_or_else(|| fallback.to_owned()),
        platform,
        layers,
    })
}

/// Reads an image manifest and its config, refusing artifacts that are not container images.
fn manifest_and_config(
    store: &Store,
    digest: &str,
    blob: &str,
) -> Result<(IndexOrManifest, Config), ImageError> {
    let what = format!("manifest {digest}");
    let manifest: IndexOrManifest =
        read_json(store, blob, &what)?.ok_or_else(|| ImageError::BlobMissing {
            digest: digest.to_owned(),
        })?;
    let config = manifest
        .config
        .as_ref()
        .ok_or_else(|| ImageError::Malformed {
            what: what.clone(),
            reason: "no config".into(),
        })?;
    if let Some(media_type) = config.media_type.as_deref() {
        if !IMAGE_CONFIGS.contains(&media_type) {
            return Err(ImageError::NotContainerImage {
                media_type: media_type.to_owned(),
            });
        }
    }
    let config_blob = checked_blob(&config.digest, &what)?;
    let parsed: Config = read_json(store, &config_blob, &format!("config {}", config.digest))?
        .ok_or_else(|| ImageError::BlobMissing {
            digest: config.digest.clone(),
        })?;
    Ok((manifest, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_name_blobs_only_when_well_formed() {
        let hex = "a".repeat(64);
        assert_eq!(
            blob_name(&format!("sha256:{hex}")),
            Some(format!("blobs/sha256/{hex}"))
        );
        assert_eq!(blob_name("sha256:../../etc/passwd"), None);
        assert_eq!(blob_name(&format!("md5:{hex}")), None);
        assert_eq!(blob_name(&format!("sha256:{}", "A".repeat(64))), None);
        assert_eq!(blob_name("sha256"), None);
    }

    #[test]
    fn references_match_with_docker_hub_defaults() {
        assert!(reference_matches(
            "docker.io/example/app:1",
            "example/app:1"
        ));
        assert!(reference_matches(
            "docker.io/library/debian:latest",
            "debian"
        ));
        assert!(reference_matches("base", "base"));
        assert!(!reference_matches("example/app:1", "example/app:2"));
    }
}
