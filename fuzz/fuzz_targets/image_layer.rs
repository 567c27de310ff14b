//! The bytes as one layer blob (gzip, zstd or plain tar) of an otherwise valid
//! docker-archive: decompression, the streaming tar reader, whiteouts, links, paths.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let archive = binaudit_fuzz::docker_archive_with_layer(data);
    let path = binaudit_fuzz::write_scratch("layer-image.tar", &archive);
    binaudit_fuzz::walk_image_checked(&path);
});
