//! The bytes as a Mach-O file, thin or universal (a magic is forced unless the input already
//! has one), through extract and decode.
#![no_main]

use binaudit::extract::ContainerFormat;
use libfuzzer_sys::fuzz_target;

const THIN_64_LE: &[u8] = &[0xcf, 0xfa, 0xed, 0xfe];
const FAT: &[u8] = &[0xca, 0xfe, 0xba, 0xbe];

fuzz_target!(|data: &[u8]| {
    let magic = if data.first().is_some_and(|b| b & 1 == 1) {
        FAT
    } else {
        THIN_64_LE
    };
    let wanted = [ContainerFormat::MachO, ContainerFormat::MachOFat];
    let data = binaudit_fuzz::with_magic(data, magic, &wanted);
    binaudit_fuzz::inspect(&data);
});
