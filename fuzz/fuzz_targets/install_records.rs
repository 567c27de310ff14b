//! Cargo's install records: the input up to the first NUL is `.crates2.json`, the rest
//! `.crates.toml` (an empty part means the file is absent). Every binary the JSON lists is
//! found again by name after a successful load, with an upgrade command for its package.
#![no_main]

use binaudit::targets::cargo_install::InstallRecords;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (v2, v1) = binaudit_fuzz::split_nul(data);
    let home = binaudit_fuzz::scratch().join("cargo-home");
    for (name, part) in [(".crates2.json", v2), (".crates.toml", v1)] {
        let rel = format!("cargo-home/{name}");
        if part.is_empty() {
            let _ = std::fs::remove_file(home.join(name));
        } else {
            binaudit_fuzz::write_scratch(&rel, part);
        }
    }
    let Ok(records) = InstallRecords::load(&home) else {
        return;
    };
    let listed: Vec<String> = serde_json::from_slice::<serde_json::Value>(v2)
        .ok()
        .and_then(|v| {
            let installs = v.get("installs")?.as_object()?.clone();
            Some(
                installs
                    .values()
                    .filter_map(|i| i.get("bins")?.as_array().cloned())
                    .flatten()
                    .filter_map(|b| b.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .unwrap_or_default();
    for bin in &listed {
        let installed = records.for_binary(bin).expect("a listed binary is found");
        assert!(!records.upgrade_command(installed).is_empty());
    }
    if listed.is_empty() && v1.is_empty() {
        assert!(records.is_empty());
    }
});
