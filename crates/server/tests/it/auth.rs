//! Sign-in, sessions, tokens and CSRF as a user meets them.

use crate::common::{ADMIN_PASSWORD, Auth, Backend, Harness, Session};
use app::Settings;
use axum::http::{Method, StatusCode};
use model::Scope;

async fn login_sets_a_strict_http_only_cookie_and_rotates_it(backend: Backend) {
    let h = Harness::new(backend).await;
    let first = h.login("operator", app::DEMO_PASSWORD).await;
    // Signing in again from the same browser replaces the session: the old id stops working.
    let page = h.send(axum::http::Request::get("/login").body(axum::body::Body::empty()).unwrap()).await;
    let cookie = page.set_cookies().into_iter().find(|c| c.starts_with("wk_login_csrf=")).expect("login csrf cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let token = crate::common::hidden_csrf(&page.text());
    let body = format!("username=operator&password={}&csrf_token={token}&next=%2Fcmdb", app::DEMO_PASSWORD);
    let req = axum::http::Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("{}; wk_session={}", cookie.split(';').next().unwrap(), first.cookie))
        .body(axum::body::Body::from(body))
        .unwrap();
    let resp = h.send(req).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.location(), "/cmdb", "follows `next` to a local page");
    let set = resp.set_cookies().into_iter().find(|c| c.starts_with("wk_session=")).expect("session cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "no Secure flag without TLS: {set}");
    let second = set.trim_start_matches("wk_session=").split(';').next().unwrap().to_owned();
    assert_ne!(second, first.cookie, "the session id rotates at login");
    let old = h.get("/", &Auth::Session(first)).await;
    assert_eq!(old.status, StatusCode::SEE_OTHER, "the previous session is gone");
}

async fn login_refuses_forged_forms_and_open_redirects(backend: Backend) {
    let h = Harness::new(backend).await;
    let req = axum::http::Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("username=operator&password={}&csrf_token=x", app::DEMO_PASSWORD)))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "login without the form's CSRF cookie is refused");
    assert!(r.set_cookies().iter().all(|c| !c.starts_with("wk_session=")));
    // A `next` that leaves the site is replaced by the dashboard.
    let page = h.send(axum::http::Request::get("/login").body(axum::body::Body::empty()).unwrap()).await;
    let cookie = page.set_cookies().into_iter().find(|c| c.starts_with("wk_login_csrf=")).unwrap();
    let token = crate::common::hidden_csrf(&page.text());
    for evil in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
        let body = serde_urlencoded::to_string([
            ("username", "operator"),
            ("password", app::DEMO_PASSWORD),
            ("csrf_token", token.as_str()),
            ("next", evil),
        ])
        .unwrap();
        let req = axum::http::Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie.split(';').next().unwrap())
            .body(axum::body::Body::from(body))
            .unwrap();
        let r = h.send(req).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/"), "next={evil}");
    }
}

async fn wrong_password_expired_and_disabled_accounts_are_refused_alike(backend: Backend) {
    let h = Harness::new(backend).await;
    let wrong = h.try_login("operator", "not the password", "192.0.2.1:1").await.unwrap_err();
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text().contains("Wrong username or password"));
    let unknown = h.try_login("nobody", "whatever password", "192.0.2.1:1").await.unwrap_err();
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    // The vendor account expires after 30 days.
    h.login("vendor-siemens", app::DEMO_PASSWORD).await;
    h.advance(31 * 86_400_000);
    let expired = h.try_login("vendor-siemens", app::DEMO_PASSWORD, "192.0.2.1:1").await.unwrap_err();
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    // Disabling ends sessions and stops tokens at once.
    let admin = Auth::Session(h.login("admin", ADMIN_PASSWORD).await);
    let eng_session = h.login("engineer", app::DEMO_PASSWORD).await;
    let eng_token = Auth::Bearer(h.token("engineer", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v1/me", &eng_token).await.status, StatusCode::OK);
    let r = h.json(Method::PATCH, "/api/v1/users/engineer", &admin, serde_json::json!({"disabled": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(h.get("/", &Auth::Session(eng_session)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(h.get("/api/v1/me", &eng_token).await.status, StatusCode::UNAUTHORIZED);
    assert!(h.try_login("engineer", app::DEMO_PASSWORD, "192.0.2.1:1").await.is_err());
    // Failures are in the audit log, with their reason.
    let failures = h.get("/api/v1/audit?action=session.login_failed&limit=50", &admin).await.json();
    let reasons: Vec<&str> =
        failures["items"].as_array().unwrap().iter().filter_map(|r| r["after"]["reason"].as_str()).collect();
    for reason in ["wrong password", "unknown user", "account expired", "account disabled"] {
        assert!(reasons.contains(&reason), "{reason} missing from {reasons:?}");
    }
}

async fn throttling_per_account_and_per_source(backend: Backend) {
    let settings = Settings { max_failures_per_account: 3, max_failures_per_source: 5, ..Settings::default() };
    let h = Harness::with_settings(backend, settings).await;
    for _ in 0..3 {
        assert_eq!(
            h.try_login("operator", "bad password!", "198.51.100.1:1").await.unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
    }
    // The account is throttled now, even with the right password and from elsewhere.
    let r = h.try_login("operator", app::DEMO_PASSWORD, "198.51.100.2:1").await.unwrap_err();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
    // Other accounts are unaffected.
    h.login("engineer", app::DEMO_PASSWORD).await;
    // One source spraying many accounts is throttled too.
    for user in ["viewer", "auditor"] {
        let _ = h.try_login(user, "bad password!", "198.51.100.1:1").await;
    }
    let r = h.try_login("change-manager", app::DEMO_PASSWORD, "198.51.100.1:1").await.unwrap_err();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "source throttled");
    // The window passes.
    h.advance(16 * 60_000);
    h.login("operator", app::DEMO_PASSWORD).await;
}

async fn sessions_time_out_when_idle_and_absolutely(backend: Backend) {
    let settings = Settings { session_idle_ms: 10 * 60_000, session_absolute_ms: 60 * 60_000, ..Settings::default() };
    let h = Harness::with_settings(backend, settings).await;
    let s = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    h.advance(9 * 60_000);
    assert_eq!(h.get("/api/v1/me", &s).await.status, StatusCode::OK, "active before the idle timeout");
    h.advance(9 * 60_000);
    assert_eq!(h.get("/api/v1/me", &s).await.status, StatusCode::OK, "activity restarts the idle clock");
    h.advance(11 * 60_000);
    assert_eq!(h.get("/api/v1/me", &s).await.status, StatusCode::UNAUTHORIZED, "idle timeout");
    let s = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    for _ in 0..7 {
        h.advance(9 * 60_000);
        let _ = h.get("/api/v1/me", &s).await;
    }
    assert_eq!(h.get("/api/v1/me", &s).await.status, StatusCode::UNAUTHORIZED, "absolute timeout despite activity");
}

async fn tokens_expire_and_revoke(backend: Backend) {
    let h = Harness::new(backend).await;
    let me = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let expires = api_time(h.app.now_ms() + 3_600_000);
    let r = h
        .json(
            Method::POST,
            "/api/v1/tokens",
            &me,
            serde_json::json!({"name": "grafana", "scopes": ["read"], "expires_at": expires}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("wk_"));
    let token = Auth::Bearer(secret.clone());
    assert_eq!(h.get("/api/v1/me", &token).await.json()["authenticated_by"], "token");
    // The secret is never shown again.
    let listed = h.get("/api/v1/tokens", &me).await.text();
    assert!(!listed.contains(&secret) && listed.contains("grafana"));
    h.advance(3_600_001);
    let r = h.get("/api/v1/me", &token).await;
    assert_eq!((r.status, r.problem().as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    // Revocation works immediately.
    let me = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let t2 =
        h.json(Method::POST, "/api/v1/tokens", &me, serde_json::json!({"name": "ci", "scopes": ["read"]})).await.json();
    let bearer = Auth::Bearer(t2["secret"].as_str().unwrap().into());
    assert_eq!(h.get("/api/v1/me", &bearer).await.status, StatusCode::OK);
    let id = t2["token"]["id"].as_i64().unwrap();
    let r = h
        .send(
            me.apply(axum::http::Request::delete(format!("/api/v1/tokens/{id}")))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(h.get("/api/v1/me", &bearer).await.status, StatusCode::UNAUTHORIZED);
    // An engineer cannot mint tokens for someone else.
    let r = h
        .json(
            Method::POST,
            "/api/v1/tokens",
            &me,
            serde_json::json!({"name": "x", "scopes": ["read"], "user": "ops-lead"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

fn api_time(ms: i64) -> String {
    server::api::rfc3339(ms)
}

async fn csrf_is_required_for_session_writes(backend: Backend) {
    let h = Harness::new(backend).await;
    let s = h.login("ops-lead", app::DEMO_PASSWORD).await;
    let body = serde_json::json!({"username": "newbie", "role": "viewer", "password": "a good long password"});
    let no_token = Auth::Session(Session { csrf: String::new(), ..s.clone() });
    let r = h.json(Method::POST, "/api/v1/users", &no_token, body.clone()).await;
    assert_eq!((r.status, r.problem().as_str()), (StatusCode::FORBIDDEN, "csrf-failed"));
    let wrong = Auth::Session(Session { csrf: "forged".into(), ..s.clone() });
    assert_eq!(h.json(Method::POST, "/api/v1/users", &wrong, body.clone()).await.status, StatusCode::FORBIDDEN);
    // An HTML form without the hidden field is refused with a page that says what to do.
    let r = h
        .form(
            "/admin/users",
            &no_token,
            &[("username", "newbie"), ("role", "viewer"), ("password", "a good long password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("reload the page"));
    assert_eq!(h.app.store().user_by_name("newbie").await.unwrap().map(|u| u.user.username), None, "nothing created");
    // With the token it works, by header or by form field.
    let ok = h.json(Method::POST, "/api/v1/users", &Auth::Session(s.clone()), body).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());
    let r = h
        .form(
            "/admin/users",
            &Auth::Session(Session { csrf: s.csrf.clone(), cookie: s.cookie.clone() }),
            &[("username", "newbie2"), ("role", "operator"), ("password", "another long password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Bearer tokens need no CSRF token: a browser cannot be tricked into sending one.
    let t = Auth::Bearer(h.token("ops-lead", &[Scope::Admin]).await);
    let r = h.json(Method::PATCH, "/api/v1/users/newbie", &t, serde_json::json!({"disabled": true})).await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn logout_ends_the_session(backend: Backend) {
    let h = Harness::new(backend).await;
    let s = h.login("viewer", app::DEMO_PASSWORD).await;
    let r = h.form("/logout", &Auth::Session(s.clone()), &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/login"));
    assert_eq!(h.get("/", &Auth::Session(s)).await.status, StatusCode::SEE_OTHER);
}

async fn passwords_are_argon2id_and_changing_one_ends_sessions(backend: Backend) {
    let h = Harness::new(backend).await;
    let rec = h.app.store().user_by_name("admin").await.unwrap().unwrap();
    assert!(rec.password_hash.starts_with("$argon2id$"), "{}", rec.password_hash);
    let s = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let r = h.json(Method::PUT, "/api/v1/me/password", &s, serde_json::json!({"password": "short"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "password");
    let r =
        h.json(Method::PUT, "/api/v1/me/password", &s, serde_json::json!({"password": "my new long password"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get("/api/v1/me", &s).await.status, StatusCode::UNAUTHORIZED);
    h.login("operator", "my new long password").await;
}

crate::both_backends!(
    login_sets_a_strict_http_only_cookie_and_rotates_it,
    login_refuses_forged_forms_and_open_redirects,
    wrong_password_expired_and_disabled_accounts_are_refused_alike,
    throttling_per_account_and_per_source,
    sessions_time_out_when_idle_and_absolutely,
    tokens_expire_and_revoke,
    csrf_is_required_for_session_writes,
    logout_ends_the_session,
    passwords_are_argon2id_and_changing_one_ends_sessions,
);
