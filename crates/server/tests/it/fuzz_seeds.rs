//! Replays the fuzz target's seed inputs (fuzz/seeds/http_request) through the router in
//! `cargo test`, so the fuzzer's invariant is checked on every run: no request, however
//! malformed, gets a 5xx, and every 4xx from the API is problem+json.

include!("fuzz_input.rs");

use crate::common::{Backend, Harness};
use model::Scope;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_seeds_never_cause_a_server_error() {
    let h = Harness::new(Backend::Sqlite).await;
    let token = h.token("ops-lead", &Scope::ALL).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/http_request");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("seed directory") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let Some(req) = request_from_bytes(&data, &token) else { continue };
        let api = req.uri().path().starts_with("/api/");
        let r = h.send(req).await;
        assert!(r.status.as_u16() < 500, "{}: {} {}", path.display(), r.status, r.text());
        if api && r.status.is_client_error() {
            assert_eq!(r.content_type(), "application/problem+json", "{}", path.display());
        }
        n += 1;
    }
    assert!(n >= 10, "only {n} seeds replayed");
}
