//! The yanked check against a real HTTP server on 127.0.0.1 serving
//! `tests/fixtures/sparse-index/` (see its README for what each file holds).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use binaudit::audit::YankStatus;
use binaudit::yanked::{IndexOptions, YankChecker, YankError};
use semver::Version;

use crate::http::StaticServer;
use crate::support::{copy_tree, repo_root};

fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures/sparse-index")
}

/// Options for a test: its own cache, the given index, never cargo's cache, short timeouts.
fn options(index_url: &str, cache_dir: &Path) -> IndexOptions {
    IndexOptions {
        index_url: index_url.to_owned(),
        cache_dir: cache_dir.to_path_buf(),
        timeout: Duration::from_secs(5),
        cargo_home: None,
        ..IndexOptions::default()
    }
}

fn check(checker: &YankChecker, packages: &[(&str, &str)]) -> Vec<YankStatus> {
    let versions: Vec<(&str, Version)> = packages
        .iter()
        .map(|(n, v)| (*n, Version::parse(v).unwrap()))
        .collect();
    let refs: Vec<(&str, &Version)> = versions.iter().map(|(n, v)| (*n, v)).collect();
    checker.check(&refs)
}

fn unknown(reason: &str) -> YankStatus {
    YankStatus::Unknown(reason.to_owned())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The one cache file named `name` under `dir`.
fn find_file(dir: &Path, name: &str) -> PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else if e.file_name() == name {
                found.push(e.path());
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

#[test]
fn yanked_available_and_missing_versions() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(options(&server.url(), cache.path())).unwrap();
    let got = check(
        &checker,
        &[
            ("smallvec", "1.6.0"),
            ("smallvec", "1.7.0"),
            ("smallvec", "1.6.1"),
            ("smallvec", "9.9.9"),
            ("no-such-crate", "1.0.0"),
        ],
    );
    assert_eq!(
        got,
        [
            YankStatus::Available,
            YankStatus::Yanked,
            YankStatus::Available,
            unknown("version not in the index"),
            unknown("not on crates.io"),
        ]
    );
    assert_eq!(
        sorted(server.requests()),
        ["GET /no/-s/no-such-crate", "GET /sm/al/smallvec"]
    );
}

#[test]
fn index_paths_for_one_two_three_and_more_letters_and_mixed_case() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(options(&server.url(), cache.path())).unwrap();
    let got = check(
        &checker,
        &[
            ("a", "0.1.1"),
            ("cc", "1.0.0"),
            ("url", "2.3.0"),
            ("smallvec", "1.6.1"),
            ("Inflector", "0.11.4"),
            ("CC", "1.0.1"),
        ],
    );
    assert_eq!(
        got,
        [
            YankStatus::Yanked,
            YankStatus::Available,
            YankStatus::Yanked,
            YankStatus::Available,
            YankStatus::Available,
            YankStatus::Yanked,
        ]
    );
    // `cc` and `CC` are one crate, fetched once.
    assert_eq!(
        sorted(server.requests()),
        [
            "GET /1/a",
            "GET /2/cc",
            "GET /3/u/url",
            "GET /in/fl/inflector",
            "GET /sm/al/smallvec"
        ]
    );
}

#[test]
fn malformed_lines_are_skipped_but_an_unreadable_file_is_unknown() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(options(&server.url(), cache.path())).unwrap();
    let got = check(
        &checker,
        &[
            ("mixed-lines", "1.0.0"),
            ("mixed-lines", "1.0.2"),
            // Its line has no `yanked` field: it says nothing, so the version is unknown.
            ("mixed-lines", "1.0.1"),
            ("broken", "1.0.0"),
        ],
    );
    assert_eq!(
        got,
        [
            YankStatus::Available,
            YankStatus::Yanked,
            unknown("version not in the index"),
            unknown("no line of the index file could be read"),
        ]
    );
}

#[test]
fn names_that_are_not_crate_names_are_unknown_and_never_requested() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(options(&server.url(), cache.path())).unwrap();
    let got = check(&checker, &[("../../etc/passwd", "1.0.0"), ("a b", "1.0.0")]);
    assert_eq!(got, vec![unknown("not a valid crates.io crate name"); 2]);
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

#[test]
fn cache_hit_within_max_age_makes_no_request() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let opts = options(&server.url(), cache.path());
    let first = YankChecker::new(opts.clone()).unwrap();
    assert_eq!(
        check(&first, &[("smallvec", "1.7.0")]),
        [YankStatus::Yanked]
    );
    assert_eq!(server.requests().len(), 1);
    // A new checker (a new run of binaudit) reads the same cache.
    let second = YankChecker::new(opts).unwrap();
    assert_eq!(
        check(&second, &[("smallvec", "1.7.0"), ("SmallVec", "1.6.0")]),
        [YankStatus::Yanked, YankStatus::Available]
    );
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
}

#[test]
fn revalidation_after_max_age_gets_304_and_keeps_the_cached_body() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(options(&server.url(), cache.path())).unwrap();
    assert_eq!(
        check(&checker, &[("smallvec", "1.6.0")]),
        [YankStatus::Available]
    );

    // Age the entry and change its cached body (1.6.0 now yanked), keeping its ETag. If the
    // revalidation sends `If-None-Match` the server answers 304 and the cached body stays in
    // use, so the tampered answer proves the 304 path; a 200 would restore "available".
    let file = find_file(cache.path(), "smallvec");
    let text = std::fs::read_to_string(&file).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_str(header).unwrap();
    assert!(header["etag"].is_string(), "{header}");
    header["fetched"] = 0.into();
    let line = body.lines().find(|l| l.contains(r#""1.6.0""#)).unwrap();
    let body = body.replace(line, &line.replace(r#""yanked":false"#, r#""yanked":true"#));
    std::fs::write(&file, format!("{header}\n{body}")).unwrap();

    assert_eq!(
        check(&checker, &[("smallvec", "1.6.0")]),
        [YankStatus::Yanked]
    );
    assert_eq!(
        server.requests(),
        ["GET /sm/al/smallvec", "GET /sm/al/smallvec"]
    );
    // The 304 made the entry fresh again: no third request.
    assert_eq!(
        check(&checker, &[("smallvec", "1.6.0")]),
        [YankStatus::Yanked]
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn revalidation_picks_up_a_changed_index_file() {
    let index = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), index.path());
    let server = StaticServer::start(index.path());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(IndexOptions {
        max_age: Duration::ZERO,
        ..options(&server.url(), cache.path())
    })
    .unwrap();
    assert_eq!(
        check(&checker, &[("smallvec", "1.6.1")]),
        [YankStatus::Available]
    );
    // crates.io yanks 1.6.1.
    let path = index.path().join("sm/al/smallvec");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| l.contains(r#""1.6.1""#)).unwrap();
    let text = text.replace(line, &line.replace(r#""yanked":false"#, r#""yanked":true"#));
    std::fs::write(&path, text).unwrap();

    assert_eq!(
        check(&checker, &[("smallvec", "1.6.1")]),
        [YankStatus::Yanked]
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn offline_answers_from_the_cache_whatever_its_age() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let online = YankChecker::new(options(&server.url(), cache.path())).unwrap();
    assert_eq!(check(&online, &[("url", "2.3.0")]), [YankStatus::Yanked]);
    assert_eq!(server.requests().len(), 1);

    let offline = YankChecker::new(IndexOptions {
        offline: true,
        max_age: Duration::ZERO,
        ..options(&server.url(), cache.path())
    })
    .unwrap();
    assert_eq!(
        check(
            &offline,
            &[("url", "2.3.0"), ("url", "2.2.2"), ("cc", "1.0.0")]
        ),
        [
            YankStatus::Yanked,
            YankStatus::Available,
            unknown("offline and not in the local index cache"),
        ]
    );
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
}

#[test]
fn offline_without_a_cache_is_unknown_and_makes_no_request() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let missing_dir = cache.path().join("not-created");
    let checker = YankChecker::new(IndexOptions {
        offline: true,
        // Cargo's cache is only for crates.io's index, never for another one.
        cargo_home: Some(cache.path().to_path_buf()),
        ..options(&server.url(), &missing_dir)
    })
    .unwrap();
    assert_eq!(
        check(&checker, &[("smallvec", "1.6.0"), ("a", "0.1.0")]),
        vec![unknown("offline and not in the local index cache"); 2]
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    assert!(!missing_dir.exists(), "offline must not create the cache");
}

/// A file in cargo's index cache layout (cargo 1.95, as found under
/// `~/.cargo/registry/index/index.crates.io-1949cf8c6b5b557f/.cache/`).
fn cargo_cache_file(lines: &[&str]) -> Vec<u8> {
    let mut out = vec![3];
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(b"etag: \"0123\"\0");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        out.extend_from_slice(v["vers"].as_str().unwrap().as_bytes());
        out.push(0);
        out.extend_from_slice(line.as_bytes());
        out.push(0);
    }
    out
}

#[test]
fn offline_falls_back_to_cargos_own_index_cache_for_crates_io() {
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dir = home
        .path()
        .join("registry/index/index.crates.io-1949cf8c6b5b557f/.cache/sm/al");
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = std::fs::read_to_string(fixtures().join("sm/al/smallvec")).unwrap();
    let lines: Vec<&str> = fixture.lines().collect();
    std::fs::write(dir.join("smallvec"), cargo_cache_file(&lines)).unwrap();

    let checker = YankChecker::new(IndexOptions {
        // crates.io's own URL: offline, nothing is fetched from it.
        offline: true,
        cargo_home: Some(home.path().to_path_buf()),
        ..options("https://index.crates.io/", cache.path())
    })
    .unwrap();
    assert_eq!(
        check(
            &checker,
            &[
                ("smallvec", "1.6.0"),
                ("smallvec", "1.7.0"),
                ("url", "2.2.2")
            ]
        ),
        [
            YankStatus::Available,
            YankStatus::Yanked,
            unknown("offline and not in the local index cache"),
        ]
    );
}

#[test]
fn a_server_that_is_down_is_unknown_with_a_reason() {
    let url = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", listener.local_addr().unwrap())
    };
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(options(&url, cache.path())).unwrap();
    let start = Instant::now();
    let got = check(&checker, &[("smallvec", "1.6.0"), ("cc", "1.0.0")]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    for status in got {
        match status {
            YankStatus::Unknown(reason) => {
                assert!(
                    reason.starts_with("could not fetch the index file"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_server_that_never_answers_times_out() {
    // The kernel accepts the connection into the backlog; nobody ever reads or answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(IndexOptions {
        timeout: Duration::from_millis(500),
        ..options(&url, cache.path())
    })
    .unwrap();
    let start = Instant::now();
    let got = check(&checker, &[("smallvec", "1.6.0")]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    match &got[..] {
        [YankStatus::Unknown(reason)] => assert!(reason.contains("timeout"), "{reason}"),
        other => panic!("{other:?}"),
    }
    drop(listener);
}

#[test]
fn server_errors_are_unknown_never_available() {
    // Answers every connection with a 500, for a bounded number of connections.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        stream
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
    });
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(options(&url, cache.path())).unwrap();
    assert_eq!(
        check(&checker, &[("smallvec", "1.6.0")]),
        [unknown("the index answered HTTP 500")]
    );
    server.join().unwrap();
}

#[test]
fn an_index_file_over_the_size_limit_is_unknown_and_not_cached() {
    let server = StaticServer::start(&fixtures());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(IndexOptions {
        max_file_size: 500,
        ..options(&server.url(), cache.path())
    })
    .unwrap();
    assert_eq!(
        check(&checker, &[("smallvec", "1.6.0"), ("a", "0.1.0")]),
        [
            unknown("the index file is larger than 500 bytes"),
            YankStatus::Available
        ]
    );
    let recheck = check(&checker, &[("smallvec", "1.6.0")]);
    assert!(matches!(recheck[..], [YankStatus::Unknown(_)]));
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.ends_with("/smallvec"))
            .count(),
        2
    );
}

#[test]
fn fifty_crates_in_one_call_are_each_fetched_once() {
    let index = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..50).map(|i| format!("crate-{i:02}")).collect();
    for name in &names {
        let dir = index.path().join(&name[..2]).join(&name[2..4]);
        std::fs::create_dir_all(&dir).unwrap();
        let line = |vers: &str, yanked: bool| {
            format!(
                r#"{{"name":"{name}","vers":"{vers}","deps":[],"cksum":"00","features":{{}},"yanked":{yanked}}}"#
            )
        };
        std::fs::write(
            dir.join(name),
            format!("{}\n{}\n", line("1.0.0", false), line("1.0.1", true)),
        )
        .unwrap();
    }
    let server = StaticServer::start(index.path());
    let cache = tempfile::tempdir().unwrap();
    let checker = YankChecker::new(IndexOptions {
        concurrency: 8,
        ..options(&server.url(), cache.path())
    })
    .unwrap();
    // Every crate twice (two versions, one in upper case), interleaved.
    let upper: Vec<String> = names.iter().map(|n| n.to_uppercase()).collect();
    let mut packages = Vec::new();
    for (n, u) in names.iter().zip(&upper) {
        packages.push((n.as_str(), "1.0.0"));
        packages.push((u.as_str(), "1.0.1"));
    }
    let got = check(&checker, &packages);
    let expected: Vec<YankStatus> = (0..50)
        .flat_map(|_| [YankStatus::Available, YankStatus::Yanked])
        .collect();
    assert_eq!(got, expected);
    let want: Vec<String> = names
        .iter()
        .map(|n| format!("GET /{}/{}/{n}", &n[..2], &n[2..4]))
        .collect();
    assert_eq!(sorted(server.requests()), want);
}

#[test]
fn setup_problems_are_errors() {
    let cache = tempfile::tempdir().unwrap();
    for bad in [
        "ftp://example.invalid/",
        "not a url",
        "http:///",
        "https://x/?q=1",
    ] {
        let err = YankChecker::new(options(bad, cache.path())).unwrap_err();
        assert!(matches!(err, YankError::IndexUrl { .. }), "{bad}: {err}");
    }
    let file = cache.path().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let err = YankChecker::new(options("http://127.0.0.1:9/", &file)).unwrap_err();
    assert!(matches!(err, YankError::CacheDir { .. }), "{err}");
    assert!(err.to_string().contains("a-file"), "{err}");
    // `sparse+` and a missing trailing slash are accepted.
    YankChecker::new(options("sparse+http://127.0.0.1:9/index", cache.path())).unwrap();
}
