//! The bytes as a WebAssembly module (magic and version forced), through extract and decode.
#![no_main]

use binaudit::extract::ContainerFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = binaudit_fuzz::with_magic(data, b"\0asm\x01\0\0\0", &[ContainerFormat::Wasm]);
    binaudit_fuzz::inspect(&data);
});
