//! Any bytes as a binary file: format sniffing, section finding in every container format,
//! then decompression and validation of the manifest found.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| binaudit_fuzz::inspect(data));
