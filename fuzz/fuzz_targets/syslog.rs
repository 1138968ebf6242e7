//! Fuzzes the syslog reader: any bytes as one message (classified) and as a TCP stream cut
//! into frames, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    intake::syslog::fuzz_one(data);
});
