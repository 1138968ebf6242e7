//! Fuzzes the reading of a Nagios plugin's output: any bytes as what a plugin printed (text,
//! long text, performance data with quoted labels, units and threshold ranges), without a
//! panic, and every value read judged against its thresholds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    model::check::fuzz_one(data);
});
