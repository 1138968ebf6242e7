//! Walks every route of the route table with every role, with no credentials, and with
//! narrowed tokens: the server must enforce each route's declared permission.

use crate::common::{Auth, Backend, Harness, Resp};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use model::{Role, Scope};
use server::access::Access;
use server::routes::{Route, Verb, table};

/// The demo account that holds each role.
fn account(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Operator => "operator",
        Role::Engineer => "engineer",
        Role::ChangeManager => "change-manager",
        Role::Admin => "ops-lead",
        Role::Auditor => "auditor",
    }
}

fn concrete(path: &str) -> String {
    path.replace("{username}", "no-such-user")
        .replace("{id}", "999999")
        .replace("{file}", "app.css")
        .replace("{slug}", "no-such-vendor")
        // A live stream would run for minutes: a bad filter is answered (past the guard) at once.
        .replace("/events/stream", "/events/stream?limit=0")
}

async fn call(h: &Harness, route: &Route, auth: &Auth) -> Resp {
    let path = concrete(route.path);
    let b = auth.apply(Request::builder().method(route.verb.method()).uri(&path));
    let req = match route.verb {
        Verb::Get | Verb::Delete => b.body(Body::empty()),
        _ if path.starts_with("/api/") => b.header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")),
        _ => {
            let csrf = match auth {
                Auth::Session(s) => s.csrf.clone(),
                _ => String::new(),
            };
            b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf_token={csrf}")))
        }
    }
    .expect("request");
    h.send(req).await
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/metrics"
}

/// The kind of an API refusal: a problem document's, or under Alertmanager's API (whose clients
/// read only its own shape) a JSON string that says it in words.
fn refusal(route: &Route, r: &Resp) -> String {
    if !route.path.starts_with("/api/v2/") {
        return r.problem();
    }
    assert_eq!(r.content_type(), "application/json", "{} {}", route.path, r.text());
    let said = r.json().as_str().unwrap_or_default().to_lowercase();
    if said.starts_with("authentication required") {
        "unauthenticated".into()
    } else if said.starts_with("not permitted") {
        "forbidden".into()
    } else {
        said
    }
}

/// Whether the guard let the request through to the handler.
fn passed_guard(route: &Route, r: &Resp) -> bool {
    let refused = r.status == StatusCode::UNAUTHORIZED
        || r.status == StatusCode::FORBIDDEN
        || (r.status == StatusCode::SEE_OTHER && r.location().starts_with("/login?next="));
    // A handler reached must exist: neither the fallback 404 for routes nor 405.
    let routed = r.status != StatusCode::METHOD_NOT_ALLOWED
        && !(r.status == StatusCode::NOT_FOUND && r.text().contains("no route"));
    assert!(routed, "{:?} {} is in the table but not routed: {}", route.verb, route.path, r.status);
    !refused
}

async fn role_by_route(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut routes = table();
    // Signing out ends the session the rest of the walk uses: do it last.
    routes.sort_by_key(|r| r.path == "/logout");
    let mut sessions = Vec::new();
    for role in Role::ALL {
        let s = h.login(account(role), app::DEMO_PASSWORD).await;
        let t = h.token(account(role), &Scope::ALL).await;
        sessions.push((role, Auth::Session(s), Auth::Bearer(t)));
    }
    let mut checked = 0;
    for route in &routes {
        match route.access {
            Access::Public => {
                // Public routes answer anonymous callers themselves (the login form may still
                // refuse a forged post); the guard never asks them to authenticate.
                let r = call(&h, route, &Auth::None).await;
                passed_guard(route, &r);
                assert_ne!(r.status, StatusCode::UNAUTHORIZED, "public {} asks for credentials", route.path);
                assert!(!r.location().starts_with("/login?"), "public {} redirects to login", route.path);
            }
            Access::Needs(perm) => {
                let anon = call(&h, route, &Auth::None).await;
                if is_api(route.path) {
                    assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "anonymous {:?} {}", route.verb, route.path);
                    assert_eq!(refusal(route, &anon), "unauthenticated");
                } else {
                    assert_eq!(anon.status, StatusCode::SEE_OTHER, "anonymous {}", route.path);
                    assert!(anon.location().starts_with("/login?next="), "{}", anon.location());
                }
                let bogus = call(&h, route, &Auth::Bearer("wk_not-a-real-token".into())).await;
                assert_eq!(bogus.status, StatusCode::UNAUTHORIZED, "bogus token on {}", route.path);
                for (role, session, token) in &sessions {
                    let expected = role.grants(perm);
                    for auth in [session, token] {
                        let r = call(&h, route, auth).await;
                        let kind = if matches!(auth, Auth::Session(_)) { "session" } else { "token" };
                        assert_eq!(
                            passed_guard(route, &r),
                            expected,
                            "{role:?} via {kind} on {:?} {} (needs {perm:?}): got {} {}",
                            route.verb,
                            route.path,
                            r.status,
                            r.text().chars().take(200).collect::<String>()
                        );
                        if !expected {
                            assert_eq!(r.status, StatusCode::FORBIDDEN);
                            if is_api(route.path) {
                                assert_eq!(refusal(route, &r), "forbidden");
                            } else {
                                assert!(r.text().contains("Not permitted"));
                            }
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 300, "the matrix covered only {checked} cases");
}

/// A token's scopes narrow its user's role: an administrator's read-only token cannot
/// administer, and an audit-only token reads nothing but the audit log.
async fn scopes_narrow_tokens(backend: Backend) {
    let h = Harness::new(backend).await;
    let read = Auth::Bearer(h.token("ops-lead", &[Scope::Read]).await);
    let audit = Auth::Bearer(h.token("ops-lead", &[Scope::Audit]).await);
    assert_eq!(h.get("/api/v1/items", &read).await.status, StatusCode::OK);
    assert_eq!(h.get("/api/v1/users", &read).await.status, StatusCode::FORBIDDEN);
    let created = h
        .json(
            Method::POST,
            "/api/v1/users",
            &read,
            serde_json::json!({"username":"x1","role":"viewer","password":"long enough pass"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::FORBIDDEN);
    assert_eq!(h.get("/api/v1/audit", &audit).await.status, StatusCode::OK);
    assert_eq!(h.get("/api/v1/items", &audit).await.status, StatusCode::FORBIDDEN);
    // A viewer's token with every scope still cannot do what a viewer cannot.
    let viewer_all = Auth::Bearer(h.token("viewer", &Scope::ALL).await);
    assert_eq!(h.get("/api/v1/audit", &viewer_all).await.status, StatusCode::FORBIDDEN);
}

crate::both_backends!(role_by_route, scopes_narrow_tokens);
