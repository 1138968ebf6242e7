//! Fuzzes the PAN-OS parser (XML, `set` and nested forms) and the zone analyses behind it: any
//! bytes give a device (with warnings), never a panic; every policy decides a flow; small
//! policies are analysed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    policy::fuzz_panos(data);
});
