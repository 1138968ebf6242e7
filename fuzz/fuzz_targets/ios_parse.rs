//! Fuzzes the Cisco IOS filter parser: any bytes give a device (with warnings), never a
//! panic, and every filter it reads can decide a flow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    policy::fuzz_one(data);
});
