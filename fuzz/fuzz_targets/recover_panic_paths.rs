//! Any bytes as a binary without a manifest: crates recovered from registry source paths.
//! Checks that every name is a crate name, the list is sorted and deduplicated and bounded,
//! and that the streaming reader (fed a few bytes per read) finds exactly what the slice
//! reader finds — also with the input placed across the end of the reader's first buffer, so
//! that paths cut by a refill are exercised with small inputs.
#![no_main]

use std::io::Read;

use binaudit::recover::{
    recover_from_read, recover_from_slice, Recovered, BUFFER_BYTES, MAX_PACKAGES,
};
use libfuzzer_sys::fuzz_target;

/// Hands out at most `step` bytes per read, to exercise the buffer refills.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        let (now, later) = self.data.split_at(n);
        buf[..n].copy_from_slice(now);
        self.data = later;
        Ok(n)
    }
}

fn check(data: &[u8], step: usize) {
    let found = recover_from_slice(data);
    assert!(found.packages.len() <= MAX_PACKAGES);
    assert!(
        found.packages.windows(2).all(|w| w[0] < w[1]),
        "sorted, no duplicates"
    );
    for (name, _) in &found.packages {
        assert!(
            !name.is_empty() && name.len() <= 64,
            "name length: {name:?}"
        );
        assert!(
            name.as_bytes()[0].is_ascii_alphabetic(),
            "name start: {name:?}"
        );
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "name bytes: {name:?}"
        );
    }
    let streamed: Recovered =
        recover_from_read(Trickle { data, step }, u64::MAX).expect("reading memory");
    assert_eq!(streamed.packages, found.packages);
    assert_eq!(streamed.rust_evidence, found.rust_evidence);
}

fuzz_target!(|data: &[u8]| {
    let Some((&knob, rest)) = data.split_first() else {
        return;
    };
    let step = 1 + usize::from(knob % 7);
    check(rest, step);
    // The same bytes starting up to 255 bytes before the end of the first buffer.
    let before_end = usize::from(knob).min(rest.len());
    let mut padded = vec![0u8; BUFFER_BYTES - before_end];
    padded.extend_from_slice(rest);
    check(&padded, 4096);
});
