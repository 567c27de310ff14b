//! Decode stage: section bytes → zlib → JSON → validated [`Manifest`], under hard limits.
//!
//! The input is untrusted and may be a decompression bomb. Three rules keep it bounded:
//! the compressed section may not be longer than the JSON limit (a real manifest compresses
//! well below its own size); decompression stops one byte past the limit, so an oversized
//! stream is detected rather than silently truncated; nothing is allocated beyond the limit.

use std::cell::RefCell;

use miniz_oxide::inflate::core::DecompressorOxide;
use miniz_oxide::inflate::TINFLStatus;

use linker_section::{Manifest, ManifestError};

/// Resource limits for reading one embedded manifest.
///
/// Defaults follow the reference reader: 8 MiB of decompressed JSON. The CLI exposes
/// `--max-json-size` to change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest decompressed JSON accepted, in bytes. Also bounds the compressed section.
    pub max_json_bytes: u64,
}

impl Limits {
    /// 8 MiB, as the reference reader. Real manifests are under 4 kB even for 400+ packages.
    pub const DEFAULT_MAX_JSON_BYTES: u64 = 8 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_json_bytes: Self::DEFAULT_MAX_JSON_BYTES,
        }
    }
}

/// Why embedded manifest bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("the compressed manifest is {size} bytes, more than the {limit}-byte JSON limit (see --max-json-size)")]
    CompressedTooLarge { size: u64, limit: u64 },
    #[error("the manifest decompresses to more than the {limit}-byte limit (see --max-json-size)")]
    JsonTooLarge { limit: u64 },
    #[error("the manifest section is empty")]
    Empty,
    #[error("the manifest section is not a zlib stream: {0}")]
    NotZlib(String),
    #[error("the manifest's zlib stream is corrupt: {0}")]
    CorruptZlib(String),
    #[error("the manifest's zlib stream ends early (truncated section)")]
    TruncatedZlib,
    #[error("the manifest is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("invalid manifest: {0}")]
    Manifest(#[from] ManifestError),
}

/// A decoded manifest together with the exact JSON bytes that were stored.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The decompressed JSON, byte for byte as embedded (what `--raw` prints).
    pub json: Vec<u8>,
    pub manifest: Manifest,
}

/// Decompresses a `.dep-v0` payload and checks its length against `limits`.
///
/// Trailing bytes after the end of the zlib stream are ignored: PE pads raw section data to the
/// file alignment, and the stream carries its own end marker and Adler-32 checksum.
pub fn inflate(compressed: &[u8], limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    let size = compressed.len() as u64;
    if size > limits.max_json_bytes {
        return Err(DecodeError::CompressedTooLarge {
            size,
            limit: limits.max_json_bytes,
        });
    }
    if compressed.is_empty() {
        return Err(DecodeError::Empty);
    }
    check_zlib_header(compressed)?;
    // One call with the output bounded: at most one byte past the limit is ever produced, and
    // getting that byte proves the stream is oversized. The stream's end marker stops it, so
    // padding after the stream is never looked at; the Adler-32 checksum is verified.
    let cap = usize::try_from(limits.max_json_bytes.saturating_add(1)).unwrap_or(usize::MAX);
    match inflate_bounded(compressed, cap) {
        Ok(out) if out.len() as u64 > limits.max_json_bytes => Err(DecodeError::JsonTooLarge {
            limit: limits.max_json_bytes,
        }),
        Ok(out) => Ok(out),
        Err(status) => Err(match status {
            TINFLStatus::HasMoreOutput => DecodeError::JsonTooLarge {
                limit: limits.max_json_bytes,
            },
            TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
                DecodeError::TruncatedZlib
            }
            TINFLStatus::Adler32Mismatch => {
                DecodeError::CorruptZlib("Adler32 checksum mismatch".to_owned())
            }
            _ => DecodeError::CorruptZlib("Invalid input data".to_owned()),
        }),
    }
}

thread_local! {
    /// One decompressor state per thread (about 11 KiB), reset for each stream rather than
    /// allocated and zeroed for each.
    static DECOMPRESSOR: RefCell<Option<Box<DecompressorOxide>>> = const { RefCell::new(None) };
}

/// A zlib stream inflated into a buffer that starts at twice the input and doubles up to
/// `max` bytes: `HasMoreOutput` when the stream holds more than that.
fn inflate_bounded(mut input: &[u8], max: usize) -> Result<Vec<u8>, TINFLStatus> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags};
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    DECOMPRESSOR.with(|slot| {
        let mut slot = slot.borrow_mut();
        let state = slot.get_or_insert_with(Box::default);
        state.init();
        let mut out = vec![0u8; input.len().saturating_mul(2).min(max)];
        let mut pos = 0usize;
        loop {
            let (status, consumed, written) = decompress(state, input, &mut out, pos, flags);
            pos = pos.saturating_add(written);
            match status {
                TINFLStatus::Done => {
                    out.truncate(pos);
                    return Ok(out);
                }
                TINFLStatus::HasMoreOutput => {
                    input = input.get(consumed..).ok_or(TINFLStatus::Failed)?;
                    if out.len() >= max {
                        return Err(TINFLStatus::HasMoreOutput);
                    }
                    let grown = out.len().saturating_mul(2).max(1).min(max);
                    out.resize(grown, 0);
                }
                other => return Err(other),
            }
        }
    })
}

/// Decompresses, checks UTF-8 and parses the manifest.
pub fn decode(compressed: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let json = inflate(compressed, limits)?;
    if let Err(e) = std::str::from_utf8(&json) {
        return Err(DecodeError::NotUtf8 {
            offset: e.valid_up_to(),
        });
    }
    let manifest = Manifest::from_json(&json)?;
    Ok(Decoded { json, manifest })
}

/// RFC 1950: CM = 8 (deflate), CINFO ≤ 7, no preset dictionary, FCHECK makes the header a
/// multiple of 31. Checked up front so that "not zlib" (raw deflate, gzip, garbage) reads as
/// such instead of as a corrupt stream.
fn check_zlib_header(data: &[u8]) -> Result<(), DecodeError> {
    let (Some(&cmf), Some(&flg)) = (data.first(), data.get(1)) else {
        return Err(DecodeError::TruncatedZlib);
    };
    if data.starts_with(&[0x1f, 0x8b]) {
        return Err(DecodeError::NotZlib("it is gzip".into()));
    }
    if cmf & 0x0f != 8 || cmf >> 4 > 7 || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0 {
        return Err(DecodeError::NotZlib(format!(
            "bad header bytes {cmf:02x} {flg:02x}"
        )));
    }
    if flg & 0x20 != 0 {
        return Err(DecodeError::NotZlib("it needs a preset dictionary".into()));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use linker_section::encode::compress;

    const JSON: &[u8] = br#"{"packages":[{"name":"hello","version":"0.1.0","source":"local","root":true}],"format":1}"#;

    #[test]
    fn decodes_a_valid_payload_and_keeps_the_exact_json() {
        let d = decode(&compress(JSON), &Limits::default()).unwrap();
        assert_eq!(d.json, JSON);
        assert_eq!(d.manifest.packages()[0].name, "hello");
    }

    #[test]
    fn ignores_padding_after_the_stream() {
        let mut z = compress(JSON);
        z.extend_from_slice(&[0; 300]);
        assert_eq!(decode(&z, &Limits::default()).unwrap().json, JSON);
    }

    #[test]
    fn truncated_stream_is_an_error_not_a_short_manifest() {
        let z = compress(JSON);
        for cut in 2..z.len() {
            let err = inflate(&z[..cut], &Limits::default()).unwrap_err();
            assert!(
                matches!(
                    err,
                    DecodeError::TruncatedZlib | DecodeError::CorruptZlib(_)
                ),
                "cut at {cut}: {err:?}"
            );
        }
    }

    #[test]
    fn bomb_is_stopped_one_byte_past_the_limit() {
        let zeros = vec![b' '; 4 * 1024 * 1024];
        let z = compress(&zeros);
        let limits = Limits {
            max_json_bytes: 1024 * 1024,
        };
        assert_eq!(
            inflate(&z, &limits).unwrap_err(),
            DecodeError::JsonTooLarge { limit: 1024 * 1024 }
        );
    }

    #[test]
    fn json_exactly_at_the_limit_is_accepted() {
        let z = compress(JSON);
        let limits = Limits {
            max_json_bytes: JSON.len() as u64,
        };
        assert_eq!(inflate(&z, &limits).unwrap(), JSON);
        let limits = Limits {
            max_json_bytes: JSON.len() as u64 - 1,
        };
        assert!(matches!(
            inflate(&z, &limits),
            Err(DecodeError::JsonTooLarge { .. })
        ));
    }

    #[test]
    fn compressed_data_longer_than_the_json_limit_is_rejected_before_inflating() {
        let limits = Limits { max_json_bytes: 10 };
        let err = inflate(&compress(JSON), &limits).unwrap_err();
        assert!(matches!(err, DecodeError::CompressedTooLarge { .. }));
    }

    #[test]
    fn gzip_and_raw_deflate_are_not_zlib() {
        assert!(matches!(
            inflate(&[0x1f, 0x8b, 8, 0, 0, 0], &Limits::default()),
            Err(DecodeError::NotZlib(_))
        ));
        let z = compress(JSON);
        assert!(matches!(
            inflate(&z[2..], &Limits::default()),
            Err(DecodeError::NotZlib(_))
        ));
    }

    #[test]
    fn the_reused_decompressor_starts_afresh_after_any_outcome() {
        let good = compress(JSON);
        let mut bad = compress(JSON);
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        let big = compress(&vec![b' '; 100_000]);
        let small = Limits {
            max_json_bytes: 1000,
        };
        for _ in 0..3 {
            assert!(inflate(&bad, &Limits::default()).is_err());
            assert_eq!(inflate(&good, &Limits::default()).unwrap(), JSON);
            assert!(inflate(&good[..good.len() / 2], &Limits::default()).is_err());
            assert_eq!(inflate(&good, &Limits::default()).unwrap(), JSON);
            assert!(matches!(
                inflate(&big, &small),
                Err(DecodeError::JsonTooLarge { .. })
            ));
            assert_eq!(inflate(&big, &Limits::default()).unwrap().len(), 100_000);
        }
    }

    #[test]
    fn corrupt_checksum_is_detected() {
        let mut z = compress(JSON);
        let last = z.len() - 1;
        z[last] ^= 0xff;
        assert!(matches!(
            inflate(&z, &Limits::default()),
            Err(DecodeError::CorruptZlib(_))
        ));
    }

    #[test]
    fn non_utf8_json_is_rejected() {
        let err = decode(&compress(b"{\"packages\":[\xff]}"), &Limits::default()).unwrap_err();
        assert_eq!(err, DecodeError::NotUtf8 { offset: 13 });
    }

    #[test]
    fn empty_section_is_rejected() {
        assert_eq!(
            inflate(&[], &Limits::default()).unwrap_err(),
            DecodeError::Empty
        );
    }
}
