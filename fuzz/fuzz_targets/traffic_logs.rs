//! Fuzzes the traffic-log reader (ASA syslog, PAN-OS traffic CSV, flow CSV): any bytes give
//! flows and warnings that name lines of the input, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    policy::fuzz_logs(data);
});
