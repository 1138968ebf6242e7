//! Fuzzes the F5 tmsh parser and the filter analyses behind it: any bytes give a device (with
//! warnings), never a panic; virtual servers and AFM rules decide a flow alike by linear scan
//! and by the matcher; small filters are analysed and cleaned up with a proof.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    policy::fuzz_f5(data);
});
