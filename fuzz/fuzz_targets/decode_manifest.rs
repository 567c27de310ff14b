//! Section bytes through zlib, UTF-8 and manifest validation under small limits. The first
//! byte chooses: odd, the rest is the compressed section as found in a binary; even, the rest
//! is manifest JSON, compressed here first, so that validation gets the mutations.
#![no_main]

use binaudit::decode::{decode, inflate, Limits};
use binaudit_fuzz::{check_decoded, LIMITS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let compressed;
    let section = if mode & 1 == 1 {
        rest
    } else {
        compressed = linker_section::encode::compress(rest);
        &compressed
    };
    let tiny = Limits {
        max_json_bytes: 512,
    };
    for limits in [LIMITS, tiny] {
        match decode(section, &limits) {
            Ok(decoded) => {
                check_decoded(&decoded, &limits);
                let json = inflate(section, &limits).expect("inflates as it decoded");
                assert_eq!(json, decoded.json);
            }
            Err(_) => {
                if let Ok(json) = inflate(section, &limits) {
                    assert!(json.len() as u64 <= limits.max_json_bytes);
                }
            }
        }
    }
});
