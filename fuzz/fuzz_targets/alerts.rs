//! Fuzzes the Alertmanager decoders: any bytes as a `POST /api/v2/alerts` body and as a
//! webhook answer alerts and errors without a panic, every alert valid.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    intake::alertmanager::fuzz_one(data);
});
