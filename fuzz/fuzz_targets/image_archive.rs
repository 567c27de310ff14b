//! The bytes as a container image archive (docker-archive or OCI archive): the outer tar
//! index, manifests, platform choice, and each layer it names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = binaudit_fuzz::write_scratch("image.tar", data);
    binaudit_fuzz::walk_image_checked(&path);
});
