//! Helpers shared by the extraction tests.

use std::io::Cursor;

use object::ReadRef;

use super::{locate, ExtractError, Located, SectionLocation};

/// Known section contents: a zlib header and some bytes that appear nowhere else in a fixture.
pub(crate) const PAYLOAD: &[u8] = b"\x78\x9c binaudit test payload: 0123456789abcdef";

/// Runs [`locate`] over a `&[u8]` and over a [`object::ReadCache`] of the same bytes, checks
/// that both agree, and returns the result.
pub(crate) fn locate_both(data: &[u8]) -> Result<Located, ExtractError> {
    let from_slice = locate(data);
    let cache = object::ReadCache::new(Cursor::new(data.to_vec()));
    let from_cache = locate(&cache);
    match (&from_slice, &from_cache) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "slice and ReadCache disagree"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("slice gave {from_slice:?}, ReadCache gave {from_cache:?}"),
    }
    from_slice
}

/// Locates `data`, which must succeed with exactly one image holding [`PAYLOAD`] under `name`.
pub(crate) fn single_image_with_payload(data: &[u8], name: &str) -> Located {
    let located = locate_both(data).expect("locate");
    assert_eq!(located.images.len(), 1);
    let section = located.images[0].section.expect("section found");
    assert_section(data, &section, name, PAYLOAD);
    located
}

/// Checks a section's name and that its bytes, read back through [`ReadRef`], are `expected`.
pub(crate) fn assert_section(data: &[u8], section: &SectionLocation, name: &str, expected: &[u8]) {
    assert_eq!(section.name, name);
    let bytes = data
        .read_bytes_at(section.offset, section.size)
        .expect("section in bounds");
    assert_eq!(bytes, expected);
}

/// Every prefix of `data` shorter than `must_fail_below` is an error, and no prefix panics or
/// reports a section outside itself.
pub(crate) fn assert_truncations_fail(data: &[u8], must_fail_below: usize) {
    let mut cuts: Vec<usize> = (0..data.len().min(1024)).collect();
    cuts.extend((1024..data.len()).step_by(61));
    for cut in cuts {
        let prefix = &data[..cut];
        match locate(prefix) {
            Err(ExtractError::NotExecutable) => {
                assert!(cut < 16, "prefix of {cut} bytes taken for a non-executable");
            }
            Err(_) => {}
            Ok(located) => {
                assert!(
                    cut >= must_fail_below,
                    "prefix of {cut} bytes parsed: {located:?}"
                );
                for image in located.images {
                    if let Some(section) = image.section {
                        assert!(section.offset + section.size <= cut as u64);
                    }
                }
            }
        }
    }
}

/// Overwrites each of the first bytes of `data` with a few values: nothing panics, and any
/// section reported lies inside the file.
pub(crate) fn assert_mutations_do_not_panic(data: &[u8]) {
    let mut copy = data.to_vec();
    for at in 0..data.len().min(2048) {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let original = copy[at];
            copy[at] = value;
            if let Ok(located) = locate(&copy[..]) {
                for image in located.images {
                    if let Some(section) = image.section {
                        assert!(section.offset + section.size <= copy.len() as u64);
                    }
                }
            }
            copy[at] = original;
        }
    }
}
