//! Fuzzes the ServiceNow and JSM export readers: any bytes read as either, with their
//! presets, answer records and errors without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    exchange::desk::fuzz_one(data);
});
