//! The bytes as a Cargo.lock given as an audit input. Every package listed has a name, and
//! its dependencies are sorted indices of packages in the list.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(packages) = binaudit::lockfile::parse(text) {
        for package in &packages {
            assert!(!package.name.is_empty());
            assert!(package.dependencies.windows(2).all(|w| w[0] < w[1]));
            assert!(package.dependencies.iter().all(|&d| d < packages.len()));
        }
    }
});
