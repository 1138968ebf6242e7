//! Fuzzes what people hand the desk: any bytes as an attachment (classified from its first
//! bytes) and as SLA policies, escalation rules, on-call schedules and chains in JSON, read
//! and checked without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    model::fuzz_desk(data);
});
