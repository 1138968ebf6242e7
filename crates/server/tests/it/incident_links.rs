//! Children resolved with their parent, the requester's verification with a satisfaction
//! score (and a resolution nobody answers closing by itself), and attachments whose kind is
//! read from their bytes, within their limits.

use crate::common::{Auth, Backend, Harness};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use model::Scope;
use serde_json::{Value, json};

async fn open(h: &Harness, auth: &Auth, what: &str) -> String {
    let r = h
        .json(
            Method::POST,
            "/api/v1/incidents",
            auth,
            json!({"short_description": what, "caller": "Control room",
            "category": "network", "item": "pn-core-sw1", "impact": "medium", "urgency": "medium"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["number"].as_str().unwrap().to_owned()
}

async fn children_follow_their_parent_and_requesters_verify(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let parent = open(&h, &eng, "Plant north cell network down").await;
    let a = open(&h, &eng, "HMI 3 lost its PLC").await;
    let b = open(&h, &eng, "Historian gaps since 08:00").await;
    let link = |n: &str, body: Value| h.post(format!("/api/v1/incidents/{n}/parent"), &eng, body);
    for c in [&a, &b] {
        let r = link(c, json!({"parent": parent})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["parent"], parent.as_str());
    }
    // One level only, no loops, no strangers.
    let r = link(&parent, json!({"parent": a})).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("child of"), "{}", r.text());
    let r = link(&a, json!({"parent": a})).await;
    assert!(r.text().contains("own parent") || r.text().contains("child of"), "{}", r.text());
    let r = link(&a, json!({"parent": "INC9999999"})).await;
    assert!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("no incident `INC9999999`"),
        "{}",
        r.text()
    );
    let p = h.get(&format!("/api/v1/incidents/{parent}"), &eng).await.json();
    assert_eq!(p["children"], json!([a, b]));
    // Taking one back out.
    assert_eq!(link(&b, json!({"parent": null})).await.json()["parent"], Value::Null);

    // Resolving the parent resolves its open children with its resolution.
    let go = |n: &str, body: Value| h.post(format!("/api/v1/incidents/{n}/state"), &eng, body);
    let r = go(&parent, json!({"state": "resolved", "resolution_code": "hardware-replaced", "resolution_notes": "Core switch supervisor swapped"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let child = h.get(&format!("/api/v1/incidents/{a}"), &eng).await.json();
    assert_eq!(
        (child["state"].as_str(), child["resolution_code"].as_str()),
        (Some("resolved"), Some("hardware-replaced"))
    );
    assert!(child["resolution_notes"].as_str().unwrap().starts_with(&format!("Resolved with {parent}")));
    assert_eq!(h.get(&format!("/api/v1/incidents/{b}"), &eng).await.json()["state"], "new", "unlinked: untouched");

    // The requester verifies: an acceptance needs a score, a rejection says why and reopens.
    let verify = |n: &str, body: Value| h.post(format!("/api/v1/incidents/{n}/verification"), &eng, body);
    let r = verify(&parent, json!({"accepted": true})).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("satisfaction"), "{}", r.text());
    let r = verify(&b, json!({"accepted": true, "satisfaction": 5})).await;
    assert!(r.text().contains("only a resolved incident"), "{}", r.text());
    let r = verify(&parent, json!({"accepted": true, "satisfaction": 4, "comment": "All HMIs back"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let closed = r.json();
    assert_eq!(
        (closed["state"].as_str(), closed["satisfaction"].as_i64(), closed["verified_by"].as_str()),
        (Some("closed"), Some(4), Some("engineer"))
    );
    assert_eq!(closed["closed_at"], "2027-01-15T08:00:00Z");
    let r = verify(&a, json!({"accepted": false, "comment": "HMI 3 still shows stale values"})).await;
    assert_eq!(r.json()["state"], "in-progress", "{}", r.text());
    let texts: Vec<String> =
        r.json()["journal"].as_array().unwrap().iter().map(|j| j["text"].as_str().unwrap().to_owned()).collect();
    assert!(
        texts.iter().any(|t| t == "The requester rejected the resolution: HMI 3 still shows stale values"),
        "{texts:?}"
    );

    // Unanswered for a week, a resolution closes by itself.
    go(&a, json!({"state": "resolved", "resolution_code": "fixed", "resolution_notes": "HMI cache cleared"})).await;
    h.advance(6 * 86_400_000);
    let courier = notify::Courier::new(None, std::time::Duration::from_secs(1)).unwrap();
    assert!(h.app.desk_round(&courier).await.unwrap().closed.is_empty());
    h.advance(86_400_000);
    assert_eq!(h.app.desk_round(&courier).await.unwrap().closed, std::slice::from_ref(&a));
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let auto = h.get(&format!("/api/v1/incidents/{a}"), &eng).await.json();
    assert_eq!(auto["state"], "closed");
    assert!(auto["journal"].to_string().contains("did not answer within 7 days"));
}

async fn upload(h: &Harness, auth: &Auth, number: &str, name: &str, bytes: Vec<u8>) -> crate::common::Resp {
    let req = auth
        .apply(
            Request::builder().method(Method::POST).uri(format!("/api/v1/incidents/{number}/attachments?name={name}")),
        )
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .unwrap();
    h.send(req).await
}

async fn attachments_are_checked_by_their_bytes_and_served_safely(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    let n = open(&h, &eng, "pn-core-sw1 flapping").await;
    let log = b"Jan 15 08:00:01 pn-core-sw1 %LINK-3-UPDOWN: Interface Te1/1, changed state to down\n".to_vec();
    let r = upload(&h, &eng, &n, "pn-core-sw1.log", log.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let a = r.json();
    assert_eq!((a["media_type"].as_str(), a["label"].as_str()), (Some("text/plain; charset=utf-8"), Some("text")));
    let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    pcap.extend([0u8; 16]);
    assert_eq!(upload(&h, &eng, &n, "uplink.pcap", pcap).await.json()["label"], "packet capture");

    // Claimed names and types do not matter; the bytes do.
    let r = upload(&h, &eng, &n, "report.pdf", b"MZ\x90\x00\x03".to_vec()).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("executables"), "{}", r.text());
    let r = upload(&h, &eng, &n, "notes.txt", b"<!DOCTYPE html><script>alert(1)</script>".to_vec()).await;
    assert!(r.text().contains("HTML"), "{}", r.text());
    let r = upload(&h, &eng, &n, "..%2Fetc%2Fpasswd", log.clone()).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("name"), "{}", r.text());
    let r = upload(&h, &eng, &n, "big.log", vec![b'x'; model::attachment::MAX_BYTES + 1]).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::PAYLOAD_TOO_LARGE, "{}", r.status);
    let r = upload(&h, &eng, &n, "huge.log", vec![b'x'; model::attachment::MAX_BYTES + 200_000]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());

    // Served back as checked, as a download that cannot run in the console's origin.
    let list = h.get(&format!("/api/v1/incidents/{n}/attachments"), &eng).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let id = list[0]["id"].as_i64().unwrap();
    let got = h.get(&format!("/api/v1/incidents/{n}/attachments/{id}"), &eng).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(got.header("content-disposition").starts_with("attachment; filename=\"pn-core-sw1.log\""));
    assert!(got.header("content-security-policy").contains("sandbox"), "{}", got.header("content-security-policy"));
    assert_eq!(got.bytes(), log.as_slice());
    // The journal and the audit log hold the upload and its digest.
    let i = h.get(&format!("/api/v1/incidents/{n}"), &eng).await.json();
    assert!(i["journal"].to_string().contains("Attached pn-core-sw1.log (text, 83 bytes)"), "{}", i["journal"]);
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Audit]).await);
    let audit = h.get("/api/v1/audit?action=incident.attach", &admin).await.json();
    assert_eq!(audit["items"][1]["after"]["sha256"].as_str().unwrap().len(), 64, "{audit}");
    // Viewers read; they cannot attach. A closed incident takes no more files.
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    assert_eq!(h.get(&format!("/api/v1/incidents/{n}/attachments/{id}"), &viewer).await.status, StatusCode::OK);
    assert_eq!(upload(&h, &viewer, &n, "x.log", log.clone()).await.status, StatusCode::FORBIDDEN);
    let go = |body: Value| h.post(format!("/api/v1/incidents/{n}/state"), &eng, body);
    go(json!({"state": "cancelled", "cancel_reason": "duplicate"})).await;
    let r = upload(&h, &eng, &n, "late.log", log).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("cancelled"), "{}", r.text());
    assert_eq!(h.get(&format!("/api/v1/incidents/{n}/attachments/999"), &eng).await.status, StatusCode::NOT_FOUND);
}

/// The console's upload form (multipart, the CSRF token in its action) and the download link.
async fn the_console_attaches_links_and_verifies(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng_token = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let n = open(&h, &eng_token, "pn-core-sw1 flapping").await;
    let session = h.login("engineer", app::DEMO_PASSWORD).await;
    let boundary = "wkboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"show-log.txt\"\r\nContent-Type: text/plain\r\n\r\nTe1/1 down\n\r\n--{boundary}--\r\n"
    );
    let send = |csrf: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/incidents/{n}/attachments?csrf_token={csrf}"))
            .header(header::COOKIE, format!("wk_session={}", session.cookie))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body.clone()))
            .unwrap()
    };
    assert_eq!(h.send(send("forged")).await.status, StatusCode::FORBIDDEN, "the token is checked");
    let r = h.send(send(&session.csrf)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let auth = Auth::Session(session);
    let page = h.get(&format!("/incidents/{n}"), &auth).await.text();
    assert!(page.contains("show-log.txt") && page.contains("/attachments/1"), "{page}");
    let file = h.get(&format!("/incidents/{n}/attachments/1"), &auth).await;
    assert_eq!(file.bytes(), b"Te1/1 down\n".as_slice());
    let parent = open(&h, &eng_token, "Plant north cell network down").await;
    let r = h.form(&format!("/incidents/{n}/parent"), &auth, &[("parent", &parent)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(h.get(&format!("/incidents/{parent}"), &auth).await.text().contains(&format!("/incidents/{n}")));
    h.form(
        &format!("/incidents/{n}/state"),
        &auth,
        &[("state", "resolved"), ("resolution_code", "fixed"), ("resolution_notes", "optic replaced")],
    )
    .await;
    let r =
        h.form(&format!("/incidents/{n}/verification"), &auth, &[("verdict", "accept"), ("satisfaction", "5")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(h.get(&format!("/incidents/{n}"), &auth).await.text().contains("Satisfaction 5/5"));
}

crate::both_backends!(
    children_follow_their_parent_and_requesters_verify,
    attachments_are_checked_by_their_bytes_and_served_safely,
    the_console_attaches_links_and_verifies,
);
