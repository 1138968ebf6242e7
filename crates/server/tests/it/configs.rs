//! The configuration archive: an engineer (or a collector) stores a device's configuration
//! version by version, secrets removed; a reviewer reads the line diff and the exact flows a
//! change opens or closes, the findings, and which rule decides a flow; a watched directory
//! becomes versions; and the archive is closed to those who may not read configurations.

use crate::common::{Auth, Backend, Harness};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use model::Scope;
use serde_json::{Value, json};

/// An IOS router's configuration; `extra` goes before the final deny of ACL 110.
fn router_config(stamp: &str, community: &str, extra: &str) -> String {
    format!(
        "! Last configuration change at {stamp}\n\
         hostname pn-core-sw1\n\
         enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0\n\
         username netops privilege 15 secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM\n\
         snmp-server community {community} RO\n\
         interface Vlan20\n \
          ip address 10.20.2.1 255.255.255.0\n \
          ip access-group 110 in\n\
         !\n\
         access-list 110 permit tcp any any eq 22\n\
         access-list 110 permit tcp host 10.20.0.99 any eq 22\n\
         {extra}\
         access-list 110 deny ip any any log\n\
         line vty 0 4\n \
          transport input ssh\n\
         end\n"
    )
}

async fn item_id(h: &Harness, t: &Auth, name: &str) -> i64 {
    let page = h.get(&format!("/api/v1/items?q={name}"), t).await.json();
    page["items"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap()["id"].as_i64().unwrap()
}

async fn send_text(h: &Harness, path: &str, auth: &Auth, text: &str) -> crate::common::Resp {
    let req = auth
        .apply(Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, "text/plain"))
        .body(Body::from(text.to_owned()))
        .unwrap();
    h.send(req).await
}

async fn a_configuration_is_kept_version_by_version_without_its_secrets(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let id = item_id(&h, &eng, "pn-core-sw1").await;
    let base = format!("/api/v1/items/{id}/configs");

    let v1 = router_config("10:00:00 UTC Mon Nov 30 2026", "n0rth-RO", "");
    let r = send_text(&h, &format!("{base}?file_name=pn-core-sw1.cfg&note=baseline"), &eng, &v1).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let stored = r.json();
    assert_eq!((stored["version"].as_i64(), stored["vendor"].as_str()), (Some(1), Some("ios")));
    assert_eq!(stored["secrets_removed"], 3, "enable secret, user secret, SNMP community");
    assert_eq!((stored["source"].as_str(), stored["note"].as_str()), (Some("api"), Some("baseline")));

    // Collected again with only the timestamp moved: the same version.
    let again = send_text(&h, &base, &eng, &router_config("11:11:11 UTC Tue Dec 1 2026", "n0rth-RO", "")).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!((again.json()["created"].as_bool(), again.json()["version"].as_i64()), (Some(false), Some(1)));

    // What is stored has no secret left, and reads back as the device's text.
    let text = h
        .send(
            eng.apply(Request::get(format!("{base}/latest")).header(header::ACCEPT, "text/plain"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(text.content_type().starts_with("text/plain"), "{}", text.content_type());
    let text = text.text();
    assert!(
        text.contains("enable secret 5 <removed>") && text.contains("snmp-server community <removed> RO"),
        "{text}"
    );
    assert!(!text.contains("$1$mERr") && !text.contains("n0rth-RO") && !text.contains("$9$nhEm"), "{text}");

    // A change opens RDP to the SCADA server.
    let rdp = "access-list 110 permit tcp any host 10.20.2.21 eq 3389\n";
    let v2 = router_config("12:00:00 UTC Wed Dec 2 2026", "n0rth-RO", rdp);
    let r = h.json(Method::POST, &base, &eng, json!({"content": v2, "note": "CHG0000042 vendor remote access"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["version"], 2);

    let diff = h.get(&format!("{base}/2/diff"), &eng).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.text());
    let diff = diff.json();
    assert_eq!((diff["lines"]["added"].as_i64(), diff["lines"]["removed"].as_i64()), (Some(1), Some(0)));
    let blocks = diff["decisions"]["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{diff}");
    let b = &blocks[0];
    assert_eq!((b["old_action"].as_str(), b["new_action"].as_str()), (Some("deny"), Some("permit")));
    assert_eq!((b["witness"]["dst"].as_str(), b["witness"]["dport"].as_i64()), (Some("10.20.2.21"), Some(3389)));
    assert_eq!(b["new_rule"]["line"], 11, "the new line is cited where it stands in the stored text");
    let unified = h.get(&format!("{base}/latest/diff?from=1&format=unified"), &eng).await;
    assert!(unified.content_type().starts_with("text/x-diff"));
    assert!(
        unified.text().contains("\n+access-list 110 permit tcp any host 10.20.2.21 eq 3389\n"),
        "{}",
        unified.text()
    );

    // The findings of the stored version, and which rule decides a flow.
    let findings = h.get(&format!("{base}/latest/findings"), &eng).await.json();
    let shadowed: Vec<&Value> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "shadowed" || f["kind"] == "redundant")
        .collect();
    assert_eq!(shadowed.len(), 1, "{findings}");
    assert_eq!((shadowed[0]["line"].as_i64(), shadowed[0]["related_rules"][0]["line"].as_i64()), (Some(10), Some(9)));
    let m = h.get(&format!("{base}/2/match?src=192.0.2.7&dst=10.20.2.21&proto=tcp&dport=3389"), &eng).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text());
    let m = m.json();
    assert_eq!((m[0]["action"].as_str(), m[0]["line"].as_i64()), (Some("permit"), Some(11)));
    let m1 = h.get(&format!("{base}/1/match?src=192.0.2.7&dst=10.20.2.21&dport=3389"), &eng).await.json();
    assert_eq!(m1[0]["action"], "deny", "version 1 still denies it: {m1}");

    // Reviewing a proposal that takes RDP away again stores nothing.
    let v3 = router_config("13:00:00 UTC Thu Dec 3 2026", "n0rth-RO", "");
    let review = send_text(&h, &format!("{base}/review"), &eng, &v3).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.text());
    let review = review.json();
    let b = &review["decisions"]["blocks"][0];
    assert_eq!((b["old_action"].as_str(), b["new_action"].as_str()), (Some("permit"), Some("deny")), "{review}");
    assert_eq!(review["lines"]["removed"], 1);
    assert_eq!(h.get(&base, &eng).await.json().as_array().unwrap().len(), 2, "a review stores nothing");

    // A changed community is a new version, though nothing visible changed.
    let v3 = router_config("14:00:00 UTC Fri Dec 4 2026", "rotated-RO", rdp);
    assert_eq!(send_text(&h, &base, &eng, &v3).await.status, StatusCode::CREATED);
    let diff = h.get(&format!("{base}/3/diff"), &eng).await.json();
    assert_eq!(
        (diff["secrets_only"].as_bool(), diff["lines"]["hunks"].as_array().map(Vec::len)),
        (Some(true), Some(0))
    );
    let versions = h.get(&base, &eng).await.json();
    let numbers: Vec<i64> = versions.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [3, 2, 1], "newest first");
    let overview = h.get("/api/v1/configs", &eng).await.json();
    assert!(overview.as_array().unwrap().iter().any(|c| c["item"] == "pn-core-sw1" && c["version"] == 3), "{overview}");

    // Each stored version is audited, without the configuration or its secrets.
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Audit]).await);
    let audit = h.get(&format!("/api/v1/audit?action=config.store&target_id={id}"), &admin).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text());
    let audit = audit.text();
    assert_eq!(audit.matches("config.store").count(), 3, "{audit}");
    assert!(!audit.contains("n0rth-RO") && !audit.contains("rotated-RO") && !audit.contains("access-list"), "{audit}");
}

async fn the_archive_is_closed_to_those_who_may_not_read_configurations_and_refuses_bad_input(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let sw = item_id(&h, &eng, "pn-core-sw1").await;
    let fw = item_id(&h, &eng, "dc-fw1").await;
    let cfg = router_config("x", "c", "");
    for id in [sw, fw] {
        let r = send_text(&h, &format!("/api/v1/items/{id}/configs"), &eng, &cfg).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let base = format!("/api/v1/items/{sw}/configs");

    // Who may read: engineers, change managers, auditors; not viewers or operators.
    for (user, scope, status) in [
        ("viewer", Scope::Read, StatusCode::FORBIDDEN),
        ("operator", Scope::Write, StatusCode::FORBIDDEN),
        ("change-manager", Scope::Read, StatusCode::OK),
        ("auditor", Scope::Read, StatusCode::OK),
    ] {
        let t = Auth::Bearer(h.token(user, &[scope]).await);
        assert_eq!(h.get(&format!("{base}/latest"), &t).await.status, status, "{user}");
    }
    // A read-only token reads but does not store; a change manager reviews but does not store.
    let ro = Auth::Bearer(h.token("engineer", &[Scope::Read]).await);
    assert_eq!(h.get(&base, &ro).await.status, StatusCode::OK);
    assert_eq!(send_text(&h, &base, &ro, &cfg).await.status, StatusCode::FORBIDDEN);
    let cm = Auth::Bearer(h.token("change-manager", &[Scope::Write]).await);
    assert_eq!(send_text(&h, &format!("{base}/review"), &cm, &cfg).await.status, StatusCode::OK);
    assert_eq!(send_text(&h, &base, &cm, &cfg).await.status, StatusCode::FORBIDDEN);
    // A vendor limited to the plant sees the plant switch's configuration, not the datacentre firewall's.
    let vendor = Auth::Bearer(h.token("vendor-siemens", &[Scope::Read]).await);
    assert_eq!(h.get(&base, &vendor).await.status, StatusCode::OK);
    assert_eq!(h.get(&format!("/api/v1/items/{fw}/configs"), &vendor).await.status, StatusCode::NOT_FOUND);
    let seen = h.get("/api/v1/configs", &vendor).await.json();
    let seen: Vec<&str> = seen.as_array().unwrap().iter().map(|c| c["item"].as_str().unwrap()).collect();
    assert_eq!(seen, ["pn-core-sw1", "pn-wan-rtr1"], "the plant's devices only");

    // Bad input: named, 4xx, nothing stored.
    // The problem+json answer, whole, to read what it names.
    let problem = |r: &crate::common::Resp| {
        r.problem();
        r.text()
    };
    let binary = send_text(&h, &base, &eng, "\0\x01\x02 binary").await;
    assert_eq!(binary.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem(&binary).contains("content") && problem(&binary).contains("binary"), "{}", problem(&binary));
    let prose = send_text(&h, &base, &eng, "Dear team, please open the firewall.\n").await;
    assert_eq!(prose.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem(&prose).contains("vendor"), "{}", problem(&prose));
    let forti = send_text(&h, &base, &eng, "config firewall policy\n    edit 1\n    next\nend\n").await;
    assert!(
        forti.status == StatusCode::UNPROCESSABLE_ENTITY && problem(&forti).contains("FortiOS"),
        "{}",
        problem(&forti)
    );
    let named = send_text(&h, &format!("{base}?vendor=cisco"), &eng, &cfg).await;
    assert!(
        named.status == StatusCode::UNPROCESSABLE_ENTITY && problem(&named).contains("vendor"),
        "{}",
        problem(&named)
    );
    let huge = "!\n".repeat(app::configs::MAX_CONFIG_BYTES / 2 + 1);
    let huge = send_text(&h, &base, &eng, &huge).await;
    assert_eq!(huge.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", huge.text());
    let form = h.form(&base, &eng, &[("content", "x")]).await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let unknown = h.json(Method::POST, &base, &eng, json!({"content": cfg, "colour": "red"})).await;
    assert!(unknown.status == StatusCode::UNPROCESSABLE_ENTITY || unknown.status == StatusCode::BAD_REQUEST);
    assert!(problem(&unknown).contains("colour"), "{}", problem(&unknown));
    assert_eq!(send_text(&h, "/api/v1/items/999999/configs", &eng, &cfg).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get(&format!("{base}/7"), &eng).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get(&format!("{base}/newest"), &eng).await.status, StatusCode::NOT_FOUND);
    let first = h.get(&format!("{base}/1/diff"), &eng).await;
    assert!(first.status == StatusCode::UNPROCESSABLE_ENTITY && problem(&first).contains("first"), "{}", first.text());
    let no_src = h.get(&format!("{base}/latest/match?dst=10.0.0.1&dport=port"), &eng).await;
    assert_eq!(no_src.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem(&no_src).contains("src") && problem(&no_src).contains("dport"), "{}", problem(&no_src));
    let bad_addr = h.get(&format!("{base}/latest/match?src=10.0.0.300&dst=10.0.0.1"), &eng).await;
    assert_eq!(bad_addr.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_addr.text());
    assert_eq!(h.get(&base, &eng).await.json().as_array().unwrap().len(), 1, "nothing was stored");
}

async fn a_watched_directory_becomes_versions_of_the_items_it_names(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("pn-core-sw1.cfg", &router_config("a", "c", ""));
    std::fs::create_dir(dir.path().join("dc")).unwrap();
    write("dc/10.20.0.3", &router_config("a", "c", "")); // pn-core-sw2 by its management address
    write("unknown-box.cfg", &router_config("a", "c", ""));
    write(".pn-cell-sw1.cfg.swp", "partial");
    write("pn-cell-sw1.cfg", "\0\0binary");

    let mut watch = app::configs::ConfigWatch::new(dir.path());
    let system = app::Actor::system();
    let r = watch.scan(&h.app, &system).await.unwrap();
    let stored: Vec<(&str, &str, i64)> = r.stored.iter().map(|(f, i, v)| (f.as_str(), i.as_str(), *v)).collect();
    assert_eq!(stored, [("dc/10.20.0.3", "pn-core-sw2", 1), ("pn-core-sw1.cfg", "pn-core-sw1", 1)]);
    assert_eq!(r.unmatched, ["unknown-box.cfg"]);
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
    assert!(r.failed[0].0 == "pn-cell-sw1.cfg" && r.failed[0].1.contains("binary"), "{:?}", r.failed);

    // Nothing changed: nothing read again.
    let r = watch.scan(&h.app, &system).await.unwrap();
    assert!(r.stored.is_empty() && r.unmatched.is_empty() && r.failed.is_empty() && r.unchanged == 0, "{r:?}");
    // The collector rewrites one file with a change.
    write("pn-core-sw1.cfg", &router_config("b", "c", "access-list 110 permit udp any any eq 161\n"));
    let r = watch.scan(&h.app, &system).await.unwrap();
    assert_eq!(r.stored, [("pn-core-sw1.cfg".to_owned(), "pn-core-sw1".to_owned(), 2)]);
    let sw1 = item_id(&h, &eng, "pn-core-sw1").await;
    let latest = h.get(&format!("/api/v1/items/{sw1}/configs/latest"), &eng).await.json();
    assert_eq!((latest["source"].as_str(), latest["actor"].as_str()), (Some("watch"), Some("system")));
}

async fn the_console_shows_versions_findings_matches_and_what_a_change_opens(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let rtr = item_id(&h, &eng, "pn-wan-rtr1").await;

    // The demo estate's archive: the router's two versions and the firewall's one.
    let all = h.get("/configs", &eng).await;
    assert_eq!(all.status, StatusCode::OK);
    let all = all.text();
    assert!(all.contains("pn-wan-rtr1</strong>") && all.contains("dc-fw1</strong>"), "{all}");
    assert!(all.contains("href=\"/configs\""), "the navigation links the archive");
    let item = h.get(&format!("/cmdb/items/{rtr}"), &eng).await.text();
    assert!(item.contains("configuration (2 versions)"), "the item links its configuration");

    let page = h.get(&format!("/cmdb/items/{rtr}/config"), &eng).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let page = page.text();
    assert!(page.contains("showing v2") && page.contains("diff with v1"), "{page}");
    assert!(page.contains("enable secret 9 &#60;removed&#62;"), "{page}");
    assert!(!page.contains("Pl4ntN0rth") && !page.contains("0822455D0A16544541"), "secrets stay out");
    assert!(page.contains(">shadowed<") || page.contains(">redundant<"), "rule 56 is covered by rule 55: {page}");
    assert!(page.contains("class=\"flagged\""), "flagged lines are marked in the text");

    // The match form answers on the page; a bad address is named.
    let asked =
        h.get(&format!("/cmdb/items/{rtr}/config?src=192.0.2.1&dst=10.20.2.21&proto=tcp&dport=3389"), &eng).await;
    let asked = asked.text();
    assert!(asked.contains("decision-permit") && asked.contains("WAN-IN"), "{asked}");
    let v1 = h.get(&format!("/cmdb/items/{rtr}/config?version=1&src=192.0.2.1&dst=10.20.2.21&dport=3389"), &eng).await;
    assert!(v1.text().contains("decision-deny"), "version 1 denied RDP");
    let bad = h.get(&format!("/cmdb/items/{rtr}/config?src=10.0.0.999&dst=10.20.2.21"), &eng).await.text();
    assert!(bad.contains("field-error") && bad.contains("src"), "{bad}");

    // The diff: the lines added, and RDP from anywhere now permitted by rule 55.
    let diff = h.get(&format!("/cmdb/items/{rtr}/config/diff"), &eng).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.text());
    let diff = diff.text();
    assert!(
        diff.contains("class=\"added\"") && diff.contains("55 permit tcp any 10.20.2.0 0.0.0.255 eq 3389"),
        "{diff}"
    );
    assert!(
        diff.contains("decision-deny") && diff.contains("decision-permit") && diff.contains("tcp port 3389"),
        "{diff}"
    );
    assert!(!diff.contains("Last configuration change"), "clock lines are not kept, so not diffed");

    // Storing a pasted configuration; a paste that is no configuration is refused on the page.
    let fw = item_id(&h, &eng, "dc-fw1").await;
    let before = h.get(&format!("/api/v1/items/{fw}/configs"), &eng).await.json().as_array().unwrap().len();
    let changed = include_str!("../../../app/src/demo-configs/dc-fw1.cfg").replace(" eq telnet", " eq ssh");
    let r = h.form(&format!("/cmdb/items/{fw}/config"), &eng, &[("content", &changed), ("note", "CHG0000101")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().contains("stored=stored+as+version+2"), "{}", r.location());
    let junk = h.form(&format!("/cmdb/items/{fw}/config"), &eng, &[("content", "hello"), ("note", "")]).await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(junk.text().contains("cannot tell which vendor"), "{}", junk.text());
    let after = h.get(&format!("/api/v1/items/{fw}/configs"), &eng).await.json().as_array().unwrap().len();
    assert_eq!(after, before + 1);

    // Those who may not read configurations get neither the pages nor the link.
    let viewer = Auth::Session(h.login("viewer", app::DEMO_PASSWORD).await);
    assert_eq!(h.get("/configs", &viewer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(h.get(&format!("/cmdb/items/{rtr}/config/diff"), &viewer).await.status, StatusCode::FORBIDDEN);
    let item = h.get(&format!("/cmdb/items/{rtr}"), &viewer).await.text();
    assert!(!item.contains("/config\"") && !h.get("/", &viewer).await.text().contains("href=\"/configs\""));
    // A change manager reads and reviews, but has no store form.
    let cm = Auth::Session(h.login("change-manager", app::DEMO_PASSWORD).await);
    let page = h.get(&format!("/cmdb/items/{rtr}/config"), &cm).await.text();
    assert!(page.contains("showing v2") && !page.contains("Store a new version"));
    assert_eq!(
        h.form(&format!("/cmdb/items/{fw}/config"), &cm, &[("content", &changed)]).await.status,
        StatusCode::FORBIDDEN
    );
}

crate::both_backends!(
    the_console_shows_versions_findings_matches_and_what_a_change_opens,
    a_configuration_is_kept_version_by_version_without_its_secrets,
    the_archive_is_closed_to_those_who_may_not_read_configurations_and_refuses_bad_input,
    a_watched_directory_becomes_versions_of_the_items_it_names,
);
