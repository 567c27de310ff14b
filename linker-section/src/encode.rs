//! Turning a manifest into the bytes that go into the section: JSON, then zlib.

use std::io::Write;

use crate::manifest::Manifest;

/// The compression level the reference writer uses; it keeps our output byte-identical to it.
pub const ZLIB_LEVEL: u32 = 7;

/// The section payload: the manifest's JSON as a zlib (RFC 1950) stream.
pub fn compress_manifest(manifest: &Manifest) -> Vec<u8> {
    compress(manifest.to_json().as_bytes())
}

/// zlib-compresses `data` at [`ZLIB_LEVEL`].
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::new(ZLIB_LEVEL),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn output_is_a_zlib_stream_that_round_trips() {
        let json = br#"{"packages":[]}"#;
        let z = compress(json);
        assert_eq!(z[0], 0x78, "zlib header CMF");
        assert_eq!(
            (u16::from(z[0]) << 8 | u16::from(z[1])) % 31,
            0,
            "zlib header check bits"
        );
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, json);
    }

    #[test]
    fn compression_is_deterministic() {
        let data = br#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true}],"format":1}"#;
        assert_eq!(compress(data), compress(data));
    }
}
