//! One RustSec advisory file (TOML front matter in Markdown) through our parser and
//! conversion. An advisory that parses survives the JSON round trip of the index cache.
#![no_main]

use binaudit::advisory::{parse_rustsec, Advisory};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(advisory) = parse_rustsec(text) {
        let json = serde_json::to_vec(&advisory).expect("an advisory serialises");
        let back: Advisory = serde_json::from_slice(&json).expect("and reads back");
        assert_eq!(back, advisory);
        let _ = advisory.severity();
    }
});
