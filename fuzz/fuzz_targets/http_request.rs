//! Fuzzes request decoding end to end: arbitrary method, target, credentials, content type
//! and body through the real router on an embedded database. The invariant: never a 5xx,
//! never a panic, and every API 4xx is problem+json.
#![no_main]

include!("../../crates/server/tests/it/fuzz_input.rs");

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;

struct World {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (router, token) = rt.block_on(async {
            let store = store::Store::open(&store::Location::DataDir(dir.path().to_path_buf())).await.unwrap();
            let app = app::App::new(store, app::Settings::default());
            app.bootstrap_admin(Some("fuzzing admin password".into())).await.unwrap();
            app.seed_demo().await.unwrap();
            let token =
                app.create_token(&app::Actor::cli(), "ops-lead", "fuzz", &model::Scope::ALL, None).await.unwrap().secret;
            (server::router(server::state(app, true, false)), token)
        });
        World { rt, router, token, _dir: dir }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let Some(mut req) = request_from_bytes(data, &w.token) else { return };
    req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 1))));
    let api = req.uri().path().starts_with("/api/");
    let resp = w.rt.block_on(w.router.clone().oneshot(req)).unwrap();
    let status = resp.status();
    assert!(status.as_u16() < 500, "server error {status}");
    if api && status.is_client_error() {
        assert_eq!(resp.headers().get("content-type").map(|v| v.as_bytes()), Some(&b"application/problem+json"[..]));
    }
});
