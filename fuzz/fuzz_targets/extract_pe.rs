//! The bytes as a PE file (`MZ` is forced unless the input is already PE or COFF), through
//! extract and decode.
#![no_main]

use binaudit::extract::ContainerFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let wanted = [ContainerFormat::Pe, ContainerFormat::Coff];
    let data = binaudit_fuzz::with_magic(data, b"MZ", &wanted);
    binaudit_fuzz::inspect(&data);
});
