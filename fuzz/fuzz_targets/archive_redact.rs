//! Fuzzes the configuration archive's redaction and line diff: any bytes are redacted
//! idempotently, keep their line count and their IOS filters, and diff against what is
//! stored without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    policy::fuzz_archive(data);
});
