//! One crate's sparse-index file, read offline as the yank check reads it. The first byte
//! chooses: odd, the rest is the body of our own index cache file (JSON lines); even, the rest
//! is a file of cargo's sparse-index cache (binary header, NUL-separated records).
#![no_main]

use std::sync::OnceLock;

use binaudit::yanked::{IndexOptions, YankChecker};
use libfuzzer_sys::fuzz_target;
use semver::Version;

const OURS: &str = "yank-cache/index.crates.io/fu/zz/fuzzed";
const CARGOS: &str =
    "yank-cargo/registry/index/index.crates.io-0000000000000000/.cache/fu/zz/fuzzed";

fn checker() -> &'static YankChecker {
    static CHECKER: OnceLock<YankChecker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let dir = binaudit_fuzz::scratch();
        YankChecker::new(IndexOptions {
            cache_dir: dir.join("yank-cache"),
            cargo_home: Some(dir.join("yank-cargo")),
            offline: true,
            max_file_size: 1024 * 1024,
            ..IndexOptions::default()
        })
        .expect("offline checker")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let checker = checker();
    if mode & 1 == 1 {
        let mut file =
            br#"{"binaudit_index_cache":1,"fetched":0,"etag":null,"last_modified":null}"#.to_vec();
        file.push(b'\n');
        file.extend_from_slice(rest);
        binaudit_fuzz::write_scratch(OURS, &file);
    } else {
        let _ = std::fs::remove_file(binaudit_fuzz::scratch().join(OURS));
        binaudit_fuzz::write_scratch(CARGOS, rest);
    }
    let versions = [
        Version::new(1, 0, 0),
        Version::parse("0.1.0+build").expect("a version"),
    ];
    let asked: Vec<(&str, &Version)> = versions.iter().map(|v| ("fuzzed", v)).collect();
    let statuses = checker.check(&asked);
    assert_eq!(statuses.len(), asked.len());
});
