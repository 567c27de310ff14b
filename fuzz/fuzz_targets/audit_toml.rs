//! The bytes as an `audit.toml` (cargo-audit's configuration) through our loader.
#![no_main]

use binaudit::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = binaudit_fuzz::write_scratch("audit.toml", data);
    let _ = Config::load(&path);
});
