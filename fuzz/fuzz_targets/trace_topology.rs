//! Fuzzes the topology readers of `policy trace` (Batfish routes answers and host models as
//! JSON): any bytes give a topology or an error naming the file, never a panic, and a
//! topology that reads traces a flow to some disposition.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app::trace::fuzz_one(data);
});
