//! Paths inside a layer or an archive, cleaned lexically as the container runtimes do.

/// Cleans a path stored in a tar header: empty and `.` components are dropped and `..` removes
/// the component before it, so `./usr/bin/x`, `/usr/bin/x` and `usr/lib/../bin/x` are all
/// `usr/bin/x` (returned without a leading slash; the root is the empty path).
///
/// `None` when a `..` would climb above the root (`../etc/passwd`): docker refuses such a
/// layer and containerd pins it to the root, so no answer is right and the entry is reported
/// as skipped instead. Symbolic links are never consulted; the paths name nothing on disk.
pub(super) fn clean(raw: &[u8]) -> Option<Vec<u8>> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for component in raw.split(|b| *b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join(&b"/"[..]))
}

/// The parent of a cleaned path (the root's parent is the root).
pub(super) fn parent(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|b| *b == b'/') {
        Some(i) => path.get(..i).unwrap_or_default(),
        None => &[],
    }
}

/// The last component of a cleaned path.
pub(super) fn file_name(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|b| *b == b'/') {
        Some(i) => path.get(i.saturating_add(1)..).unwrap_or_default(),
        None => path,
    }
}

/// `parent/name`, or `name` at the root.
pub(super) fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parent.len().saturating_add(name.len()).saturating_add(1));
    out.extend_from_slice(parent);
    if !parent.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

/// The path as shown to people: absolute, with invalid UTF-8 replaced.
pub(super) fn display(path: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_the_runtimes() {
        assert_eq!(clean(b"./usr/bin/x").as_deref(), Some(&b"usr/bin/x"[..]));
        assert_eq!(clean(b"/usr//bin/./x").as_deref(), Some(&b"usr/bin/x"[..]));
        assert_eq!(
            clean(b"usr/lib/../bin/x/").as_deref(),
            Some(&b"usr/bin/x"[..])
        );
        assert_eq!(clean(b"./").as_deref(), Some(&b""[..]));
        assert_eq!(clean(b"../etc/passwd"), None);
        assert_eq!(clean(b"usr/../../etc"), None);
    }

    #[test]
    fn splits() {
        assert_eq!(parent(b"usr/bin/x"), b"usr/bin");
        assert_eq!(parent(b"x"), b"");
        assert_eq!(file_name(b"usr/bin/x"), b"x");
        assert_eq!(file_name(b"x"), b"x");
        assert_eq!(join(b"", b"x"), b"x");
        assert_eq!(join(b"usr", b"x"), b"usr/x");
        assert_eq!(display(b"usr/x"), "/usr/x");
    }
}
