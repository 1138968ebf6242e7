//! Replays the `desk_specs` fuzz target's seeds (and whatever the fuzzer kept) on every test run.

use std::path::Path;

#[test]
fn desk_specs_seeds_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/desk_specs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        model::fuzz_desk(&std::fs::read(entry.unwrap().path()).unwrap());
        n += 1;
    }
    assert!(n >= 6, "{n} seeds in {}", dir.display());
}
