//! One OSV JSON record through our parser. Every advisory it yields survives the JSON round
//! trip of the index cache.
#![no_main]

use binaudit::advisory::{parse_osv, Advisory};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(advisories) = parse_osv(data) {
        for advisory in advisories {
            let json = serde_json::to_vec(&advisory).expect("an advisory serialises");
            let back: Advisory = serde_json::from_slice(&json).expect("and reads back");
            assert_eq!(back, advisory);
            let _ = advisory.severity();
        }
    }
});
