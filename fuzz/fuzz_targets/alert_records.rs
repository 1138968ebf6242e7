//! Fuzzes the alert store's record readers (alert log entries, snapshot chunks): any bytes
//! are an error or records that read back as written, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    model::alert::record::fuzz_one(data);
});
