//! Fuzzes the DNS answer reader a DNS check uses: any bytes as an answer datagram (names
//! with compression pointers, every record type rendered), without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = intake::dns::decode(data);
});
