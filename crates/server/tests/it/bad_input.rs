//! Bad requests get the right 4xx problem+json, never a 500, and change nothing.

use crate::common::{Auth, Backend, Harness};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use model::Scope;
use proptest::prelude::*;

async fn malformed_requests_get_precise_problems(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read, Scope::Audit]).await);
    let post = |body: &'static str, ctype: &'static str| {
        admin.apply(Request::post("/api/v1/users").header(header::CONTENT_TYPE, ctype)).body(Body::from(body)).unwrap()
    };
    let cases: Vec<(Request<Body>, StatusCode, &str, Option<&str>)> = vec![
        (post("{\"username\": ", "application/json"), StatusCode::BAD_REQUEST, "bad-request", None),
        (post("[1,2", "application/json"), StatusCode::BAD_REQUEST, "bad-request", None),
        (
            post(r#"{"username":"a1","role":"viewer","password":"long enough pass","admin":true}"#, "application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("admin"),
        ),
        (
            post(r#"{"username":"a1","role":"viewer","password":12345678901234}"#, "application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("password"),
        ),
        (
            post(r#"{"username":"a1","role":"root","password":"long enough pass"}"#, "application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("role"),
        ),
        (
            post(r#"{"username":"A B","role":"viewer","password":"short"}"#, "application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("username"),
        ),
        (
            post(r#"{"username":"a1"}"#, "text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            None,
        ),
        (
            admin
                .apply(Request::get("/api/v1/audit?limit=abc&sort=password&from=yesterday"))
                .body(Body::empty())
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("limit"),
        ),
        (
            admin.apply(Request::get("/api/v1/items?colour=red")).body(Body::empty()).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("colour"),
        ),
        (
            admin.apply(Request::get("/api/v1/items?offset=-3&limit=10")).body(Body::empty()).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("offset"),
        ),
        (
            admin.apply(Request::delete("/api/v1/tokens/abc")).body(Body::empty()).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            Some("id"),
        ),
        (
            admin.apply(Request::get("/api/v1/users/%FF%FE")).body(Body::empty()).unwrap(),
            StatusCode::BAD_REQUEST,
            "bad-request",
            None,
        ),
        (
            admin.apply(Request::get("/api/v1/nothing-here")).body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "not-found",
            None,
        ),
        (
            admin.apply(Request::put("/api/v1/items")).body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            None,
        ),
        (
            Request::get("/api/v1/me")
                .header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=")
                .body(Body::empty())
                .unwrap(),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            None,
        ),
    ];
    for (req, status, kind, field) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let r = h.send(req).await;
        assert_eq!(r.status, status, "{what}: {}", r.text());
        assert_eq!(r.problem(), kind, "{what}");
        if let Some(f) = field {
            let fields: Vec<String> = r.json()["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect();
            assert!(fields.iter().any(|x| x == f), "{what}: expected field {f} in {fields:?}");
        }
    }
    assert!(h.app.store().user_by_name("a1").await.unwrap().is_none(), "no bad request created anything");
}

async fn oversized_bodies_are_refused(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin]).await);
    let big = format!("{{\"username\":\"{}\"}}", "x".repeat(server::extract::BODY_LIMIT + 10));
    let req = admin
        .apply(Request::post("/api/v1/users").header(header::CONTENT_TYPE, "application/json"))
        .body(Body::from(big))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.problem(), "payload-too-large");
}

async fn random_bodies_and_queries_never_cause_a_server_error(backend: Backend) {
    let h = Harness::new(backend).await;
    let admin = Auth::Bearer(h.token("ops-lead", &Scope::ALL).await);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (
        prop::sample::select(vec!["/api/v1/users", "/api/v1/tokens", "/api/v1/users/viewer", "/api/v1/me/password"]),
        prop::sample::select(vec![Method::POST, Method::PUT, Method::PATCH]),
        prop_oneof![
            ".{0,80}",
            r#"\{"[a-z_]{1,10}": ?("[^"]{0,20}"|[0-9]{1,20}|true|null|\[\]|\{\})\}"#,
            r#"\{"username":"[a-z]{2,8}","role":"[a-z-]{3,15}","password":".{0,30}"\}"#,
        ],
        "[a-z=&%0-9-]{0,40}",
    );
    use proptest::strategy::ValueTree;
    for _ in 0..64 {
        let (path, method, body, query) = strategy.new_tree(&mut runner).unwrap().current();
        let uri = format!("{path}?{query}");
        let req = admin
            .apply(Request::builder().method(method.clone()).uri(&uri).header(header::CONTENT_TYPE, "application/json"))
            .body(Body::from(body.clone()))
            .unwrap();
        let r = h.send(req).await;
        assert!(r.status.as_u16() < 500, "{method} {uri} {body:?} → {} {}", r.status, r.text());
        if r.status.is_client_error() {
            r.problem();
        }
        let q = admin.apply(Request::get(format!("/api/v1/audit?{query}"))).body(Body::empty()).unwrap();
        let r = h.send(q).await;
        assert!(r.status.as_u16() < 500, "audit?{query} → {}", r.status);
    }
}

crate::both_backends!(
    malformed_requests_get_precise_problems,
    oversized_bodies_are_refused,
    random_bodies_and_queries_never_cause_a_server_error,
);
