//! One conditional GET of an index file.

use std::time::Duration;

use ureq::http::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use ureq::tls::{RootCerts, TlsConfig};
use ureq::Agent;

use super::cache::{CachedFile, MAX_VALIDATOR_LEN};

const USER_AGENT: &str = concat!("binaudit/", env!("CARGO_PKG_VERSION"));

/// What the server said about one index file.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// `200`: a new body.
    Body {
        body: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// `304`: the cached body is current; a new `ETag` if the server sent one.
    NotModified { etag: Option<String> },
    /// `404`, `410` or `451`: the index has no such crate.
    Missing,
}

/// An agent for the index. `loopback`: the index is on this machine, so a proxy from the
/// environment (`HTTPS_PROXY`, …), which could not reach it, is not used.
pub(crate) fn agent(timeout: Duration, connections: usize, loopback: bool) -> Agent {
    let mut config = Agent::config_builder();
    if loopback {
        config = config.proxy(None);
    }
    config
        .user_agent(USER_AGENT)
        .timeout_global(Some(timeout))
        // Statuses are answers here (404 means "not on crates.io"), not transport errors.
        .http_status_as_error(false)
        .max_idle_connections_per_host(connections.max(1))
        // Trust what the operating system trusts (and `SSL_CERT_FILE`), as cargo does, so a
        // network that reaches crates.io through an inspecting proxy works for both.
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .into()
}

/// GETs `url`, revalidating `cached` if given. The body is read to at most `limit` bytes after
/// decompression; a longer one is an error, so a hostile server cannot make us allocate more.
pub(crate) fn fetch(
    agent: &Agent,
    url: &str,
    cached: Option<&CachedFile>,
    limit: u64,
) -> Result<Fetched, String> {
    let mut request = agent.get(url);
    if let Some(c) = cached {
        if let Some(etag) = &c.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(date) = &c.last_modified {
            request = request.header(IF_MODIFIED_SINCE, date);
        }
    }
    let mut response = request
        .call()
        .map_err(|e| format!("could not fetch the index file: {e}"))?;
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= MAX_VALIDATOR_LEN)
            .map(str::to_owned)
    };
    let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
    match response.status().as_u16() {
        200 => {
            let body = response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => {
                        format!("the index file is larger than {limit} bytes")
                    }
                    e => format!("could not read the index file: {e}"),
                })?;
            Ok(Fetched::Body {
                body,
                etag,
                last_modified,
            })
        }
        304 if cached.is_some() => Ok(Fetched::NotModified { etag }),
        404 | 410 | 451 => Ok(Fetched::Missing),
        status => Err(format!("the index answered HTTP {status}")),
    }
}
