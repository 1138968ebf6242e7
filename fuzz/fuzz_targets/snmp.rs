//! Fuzzes the SNMP reader: any bytes as a datagram (v1, v2c, v3 with USM authentication and
//! decryption), turned into an event, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    intake::snmp::fuzz_one(data);
});
