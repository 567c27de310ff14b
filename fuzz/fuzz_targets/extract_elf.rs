//! The bytes as an ELF file (the magic is forced), through extract and decode.
#![no_main]

use binaudit::extract::ContainerFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let data = binaudit_fuzz::with_magic(data, b"\x7fELF", &[ContainerFormat::Elf]);
    binaudit_fuzz::inspect(&data);
});
