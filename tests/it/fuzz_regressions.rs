//! Inputs the fuzz targets in `fuzz/` found to fail, kept with a test each. The inputs are in
//! `tests/fixtures/fuzz-regressions/`, named `<fuzz target>-<what>.bin`.

use std::path::{Path, PathBuf};

use binaudit::advisory::{parse_rustsec, Database, OpenOptions};

fn input(name: &str) -> Vec<u8> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz-regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A RustSec file that does not start with its ```` ```toml ```` fence and has a multi-byte
/// character across byte 20 made the `rustsec` crate's parser panic while quoting the start
/// of the file. It is one load error of the database, saying what is wrong.
#[test]
fn rustsec_file_without_fence_and_a_character_across_byte_20_is_a_load_error_not_a_panic() {
    let bytes = input("advisory_rustsec-no-fence-multibyte-at-byte-20.bin");
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(
        !text.is_char_boundary(20),
        "the input still has the shape that panicked"
    );

    let err = parse_rustsec(text).unwrap_err().to_string();
    assert!(
        err.contains("not with the ```toml front matter fence"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisory-db-small");
    let good = dir.path().join("crates/smallvec/RUSTSEC-2021-0003.md");
    std::fs::create_dir_all(good.parent().unwrap()).unwrap();
    std::fs::copy(small.join("crates/smallvec/RUSTSEC-2021-0003.md"), &good).unwrap();
    let broken = dir.path().join("crates/broken/RUSTSEC-2099-0999.md");
    std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
    std::fs::write(&broken, &bytes).unwrap();

    let db = Database::open(dir.path(), &OpenOptions::without_cache()).unwrap();
    assert_eq!(db.info().advisory_count, 1, "the good file still loads");
    let errors = db.load_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, broken);
    assert!(
        errors[0].to_string().contains("front matter fence"),
        "{}",
        errors[0]
    );
}

/// A 64-byte checksum with a multi-byte character made the `cargo-lock` crate panic while
/// reading it two bytes at a time. It is a parse error naming the checksum.
#[test]
fn lock_file_checksum_with_a_multibyte_character_is_a_parse_error_not_a_panic() {
    let bytes = input("lockfile-checksum-with-multibyte-character.bin");
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("checksum") && !text.is_ascii());

    let err = binaudit::lockfile::parse(text).unwrap_err();
    assert!(
        matches!(err, binaudit::lockfile::LockfileError::Parse(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("invalid checksum"), "{err}");

    // The same checksum in a format-1 lock file's [metadata] table.
    let checksum = text.split('"').nth(1).unwrap();
    let v1 = format!(
        "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [metadata]\n\"checksum a 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\" = \"{checksum}\"\n"
    );
    let err = binaudit::lockfile::parse(&v1).unwrap_err();
    assert!(err.to_string().contains("invalid checksum"), "{err}");
}
