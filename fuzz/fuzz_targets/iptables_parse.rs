//! Fuzzes the iptables-save parser and the analyses behind it: any bytes give a device (with
//! warnings), never a panic; every filter decides a flow alike by linear scan and by the
//! matcher; small filters are analysed and cleaned up with a proof.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    policy::fuzz_iptables(data);
});
