//! Alertmanager's API v2 through the real router: who may send (an intake token, or a
//! trusted network without one), partial acceptance, resolve by `endsAt`, filters, silences
//! with Alertmanager's rules, and the shapes amtool reads.

use crate::common::{Auth, Backend, Harness};
use app::Settings;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use model::Scope;
use serde_json::{Value, json};

fn post(path: &str, auth: &Auth, body: &Value) -> Request<Body> {
    auth.apply(Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, "application/json"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn alerts_come_in_by_token_or_from_trusted_networks(backend: Backend) {
    let settings = Settings { intake_trusted: vec!["10.20.0.0/24".parse().unwrap()], ..Settings::default() };
    let h = Harness::with_settings(backend, settings).await;
    let link = json!([{"labels": {"alertname": "LinkDown", "instance": "sw1:ge0/1", "severity": "critical"},
                       "annotations": {"summary": "ge0/1 down"}}]);
    // No token: only from the trusted network.
    let from_prometheus = h.send_from(post("/api/v2/alerts", &Auth::None, &link), "10.20.0.5:41000").await;
    assert_eq!(from_prometheus.status, StatusCode::OK, "{}", from_prometheus.text());
    let stranger = h.send_from(post("/api/v2/alerts", &Auth::None, &link), "10.99.0.5:41000").await;
    assert_eq!(stranger.status, StatusCode::UNAUTHORIZED);
    // With a token: the intake scope sends, a read-only one does not.
    let intake = Auth::Bearer(h.token("operator", &[Scope::Intake]).await);
    let read = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    assert_eq!(h.send(post("/api/v2/alerts", &intake, &link)).await.status, StatusCode::OK);
    assert_eq!(h.send(post("/api/v2/alerts", &read, &link)).await.status, StatusCode::FORBIDDEN);
    // What Prometheus holds is for sending and silencing, not for working alarms or ending
    // maintenance, even on an operator's account.
    for (method, path) in [
        (Method::POST, "/api/v1/alarms/1/ack"),
        (Method::DELETE, "/api/v1/maintenance/1"),
        (Method::POST, "/api/v1/events/acknowledge"),
    ] {
        assert_eq!(h.json(method, path, &intake, json!({})).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    // The trusted network does not reach the rest of the API.
    let elsewhere =
        h.send_from(Request::get("/api/v1/incidents").body(Body::empty()).unwrap(), "10.20.0.5:41000").await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);

    let listed = h.get("/api/v2/alerts", &read).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "the same alert three times is one: {listed}");
    let a = &listed[0];
    assert_eq!(a["fingerprint"], "3df259f48d980152");
    assert_eq!(a["receivers"], json!([{"name": "watchkeeper"}]));
    assert_eq!(a["status"], json!({"state": "active", "silencedBy": [], "inhibitedBy": [], "mutedBy": []}));
    // No end given: firing for the resolve timeout (5 minutes from the harness clock).
    assert_eq!(
        (a["startsAt"].as_str(), a["endsAt"].as_str()),
        (Some("2027-01-15T08:00:00Z"), Some("2027-01-15T08:05:00Z"))
    );

    // A batch with bad alerts: the good ones are kept, the answer is 400 naming the others.
    let mixed = json!([{"labels": {"alertname": "HighErr", "instance": "sw1:ge0/1"}}, {"labels": {}},
                       {"labels": {"alertname": "X"}, "startsAt": "2027-01-15T09:00:00Z", "endsAt": "2027-01-15T08:00:00Z"}]);
    let partial = h.send(post("/api/v2/alerts", &intake, &mixed)).await;
    assert_eq!(partial.status, StatusCode::BAD_REQUEST);
    let why = partial.text();
    assert!(
        why.contains("alert 1: at least one label pair required")
            && why.contains("alert 2: start time must be before end time"),
        "{why}"
    );
    let unreadable = h.send(post("/api/v2/alerts", &intake, &json!({"labels": {}}))).await;
    assert_eq!(unreadable.status, StatusCode::BAD_REQUEST);
    let names = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|a| a["labels"]["alertname"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(h.get("/api/v2/alerts", &read).await.json()), ["LinkDown", "HighErr"], "sorted by fingerprint");

    // Filters as amtool sends them; a bad one is a 400.
    let only = h.get("/api/v2/alerts?filter=alertname%3D%22HighErr%22", &read).await.json();
    assert_eq!(names(only), ["HighErr"]);
    let re = h
        .get("/api/v2/alerts?filter=%7Binstance%3D~%22sw1%3A.%2A%22%2Calertname%21%3D%22HighErr%22%7D", &read)
        .await
        .json();
    assert_eq!(names(re), ["LinkDown"]);
    assert_eq!(h.get("/api/v2/alerts?filter=alertname", &read).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(h.get("/api/v2/alerts?receiver=nobody", &read).await.json(), json!([]));
    let groups = h.get("/api/v2/alerts/groups", &read).await.json();
    assert_eq!(groups.as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["receiver"]["name"], "watchkeeper");

    // Resolved by an end in the past; and an alert not repeated resolves by timeout.
    let resolve =
        json!([{"labels": {"alertname": "HighErr", "instance": "sw1:ge0/1"}, "endsAt": "2027-01-15T08:00:00Z"}]);
    assert_eq!(h.send(post("/api/v2/alerts", &intake, &resolve)).await.status, StatusCode::OK);
    h.advance(1_000);
    assert_eq!(names(h.get("/api/v2/alerts", &read).await.json()), ["LinkDown"]);
    h.advance(5 * 60_000);
    assert_eq!(h.get("/api/v2/alerts", &read).await.json(), json!([]));

    // Resolved alerts are kept for Alertmanager's 120 hours, then housekeeping forgets them,
    // in the running server and in what a start reads.
    let restart = |app: &app::App| {
        let at = app.now_ms();
        app::App::new(app.store().clone(), app.settings().clone()).with_clock(std::sync::Arc::new(move || at))
    };
    h.app.correlate().await.unwrap();
    assert_eq!(h.app.alerts_held().await.unwrap(), 2, "resolved, still kept");
    h.advance(119 * 3_600_000);
    h.app.housekeeping().await.unwrap();
    assert_eq!((h.app.alerts_held().await.unwrap(), restart(&h.app).alerts_held().await.unwrap()), (2, 2));
    h.advance(2 * 3_600_000);
    h.app.housekeeping().await.unwrap();
    assert_eq!((h.app.alerts_held().await.unwrap(), restart(&h.app).alerts_held().await.unwrap()), (0, 0));
    let read = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);

    // amtool's first call, and the receivers.
    let status = h.get("/api/v2/status", &read).await.json();
    assert_eq!(status["cluster"]["status"], "disabled");
    assert!(status["config"]["original"].as_str().unwrap().contains("receiver: watchkeeper"));
    assert_eq!(h.get("/api/v2/receivers", &read).await.json(), json!([{"name": "watchkeeper"}]));
}

async fn silences_follow_alertmanagers_rules(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let link = json!([{"labels": {"alertname": "LinkDown", "instance": "sw1:ge0/1"},
                       "startsAt": "2027-01-15T07:55:00Z", "endsAt": "2027-01-15T10:00:00Z"}]);
    assert_eq!(h.send(post("/api/v2/alerts", &eng, &link)).await.status, StatusCode::OK);
    let silence = json!({"matchers": [{"name": "instance", "value": "sw1:.*", "isRegex": true}],
        "startsAt": "2027-01-15T07:00:00Z", "endsAt": "2027-01-15T09:00:00Z", "createdBy": "engineer", "comment": "RMA swap"});
    let made = h.send(post("/api/v2/silences", &eng, &silence)).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    let id = made.json()["silenceID"].as_str().unwrap().to_owned();
    let got = h.get(&format!("/api/v2/silence/{id}"), &eng).await.json();
    // A new silence starting in the past starts now.
    assert_eq!(
        (got["status"]["state"].as_str(), got["startsAt"].as_str()),
        (Some("active"), Some("2027-01-15T08:00:00Z"))
    );
    assert_eq!(got["matchers"][0], json!({"name": "instance", "value": "sw1:.*", "isRegex": true, "isEqual": true}));
    let muted = h.get("/api/v2/alerts", &eng).await.json();
    assert_eq!(muted[0]["status"]["state"], "suppressed");
    assert_eq!(muted[0]["status"]["silencedBy"], json!([id]));
    assert_eq!(h.get("/api/v2/alerts?silenced=false", &eng).await.json(), json!([]));
    assert_eq!(h.get("/api/v2/alerts?active=false", &eng).await.json().as_array().unwrap().len(), 1);

    // Changing its end keeps its id; changing its matchers makes a new one and expires the old.
    let mut longer = silence.clone();
    longer["id"] = json!(id);
    longer["startsAt"] = got["startsAt"].clone();
    longer["endsAt"] = json!("2027-01-15T12:00:00Z");
    assert_eq!(h.send(post("/api/v2/silences", &eng, &longer)).await.json()["silenceID"], id.as_str());
    let mut other = longer.clone();
    other["matchers"] = json!([{"name": "instance", "value": "sw2:ge0/1", "isRegex": false}]);
    let replaced =
        h.send(post("/api/v2/silences", &eng, &other)).await.json()["silenceID"].as_str().unwrap().to_owned();
    assert_ne!(replaced, id);
    assert_eq!(h.get(&format!("/api/v2/silence/{id}"), &eng).await.json()["status"]["state"], "expired");
    assert_eq!(h.get("/api/v2/alerts", &eng).await.json()[0]["status"]["state"], "active", "sw1 no longer silenced");

    // Listing: active first, filtered by an identical matcher only.
    let all = h.get("/api/v2/silences", &eng).await.json();
    let states: Vec<&str> = all.as_array().unwrap().iter().map(|s| s["status"]["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["active", "expired"]);
    let same = h.get("/api/v2/silences?filter=instance%3D%22sw2%3Age0%2F1%22", &eng).await.json();
    assert_eq!(same.as_array().unwrap().len(), 1);
    assert_eq!(h.get("/api/v2/silences?filter=instance%3D%22sw2%22", &eng).await.json(), json!([]));

    // Refusals, as 400s that say what.
    for (body, said) in [
        (
            json!({"matchers": [{"name": "a", "value": ".*", "isRegex": true}], "startsAt": "2027-01-15T08:00:00Z", "endsAt": "2027-01-15T09:00:00Z", "createdBy": "e", "comment": "c"}),
            "must not match the empty string",
        ),
        (
            json!({"matchers": [{"name": "a", "value": "b", "isRegex": false}], "startsAt": "2027-01-15T08:00:00Z", "endsAt": "2027-01-15T07:30:00Z", "createdBy": "e", "comment": "c"}),
            "endsAt",
        ),
        (
            json!({"matchers": [{"name": "a", "value": "(", "isRegex": true}], "startsAt": "2027-01-15T08:00:00Z", "endsAt": "2027-01-15T09:00:00Z", "createdBy": "e", "comment": "c"}),
            "not a regular expression",
        ),
        (
            json!({"matchers": [], "startsAt": "2027-01-15T08:00:00Z", "endsAt": "2027-01-15T09:00:00Z", "createdBy": "e", "comment": "c"}),
            "at least one matcher",
        ),
        (
            json!({"matchers": [{"name": "a", "value": "b", "isRegex": false}], "startsAt": "soon", "endsAt": "2027-01-15T09:00:00Z", "createdBy": "e", "comment": "c"}),
            "startsAt",
        ),
    ] {
        let r = h.send(post("/api/v2/silences", &eng, &body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        // Said as Alertmanager says it, the one error shape amtool reads.
        assert_eq!(r.content_type(), "application/json", "{body}");
        assert!(r.json().is_string(), "{}", r.text());
        assert!(r.text().contains(said), "{body}: {}", r.text());
    }
    let unknown = h
        .send(post(
            "/api/v2/silences",
            &eng,
            &json!({"id": "no-such", "matchers": [{"name": "a", "value": "b", "isRegex": false}],
        "startsAt": "2027-01-15T08:00:00Z", "endsAt": "2027-01-15T09:00:00Z", "createdBy": "e", "comment": "c"}),
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Expire: kept as expired; twice is a conflict; a viewer may read but not silence.
    let del = |id: &str, auth: &Auth| {
        h.send(
            auth.apply(Request::builder().method(Method::DELETE).uri(format!("/api/v2/silence/{id}")))
                .body(Body::empty())
                .unwrap(),
        )
    };
    assert_eq!(del(&replaced, &eng).await.status, StatusCode::OK);
    assert_eq!(del(&replaced, &eng).await.status, StatusCode::CONFLICT);
    let viewer = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    assert_eq!(h.get("/api/v2/silences", &viewer).await.status, StatusCode::OK);
    assert_eq!(h.send(post("/api/v2/silences", &viewer, &silence)).await.status, StatusCode::FORBIDDEN);
    // Every change is audited with who did it.
    let auditor = Auth::Session(h.login("auditor", app::DEMO_PASSWORD).await);
    let log = h.get(&format!("/api/v1/audit?target_id={id}&sort=seq"), &auditor).await.json();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["silence.create", "silence.update", "silence.expire"]);
}

/// What was accepted is durable before any correlation pass: a server started afresh on the
/// same database lists it, and its firing is an event — once, not once per start.
async fn accepted_alerts_outlive_a_restart_before_they_are_folded(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let batch = json!([
        {"labels": {"alertname": "LinkDown", "instance": "sw1:ge0/1"}, "annotations": {"summary": "ge0/1 down"}},
        {"labels": {"alertname": "LinkDown", "instance": "sw1:ge0/2"}}
    ]);
    assert_eq!(h.send(post("/api/v2/alerts", &eng, &batch)).await.status, StatusCode::OK);
    let at = h.app.now_ms();
    let restarted =
        app::App::new(h.app.store().clone(), h.app.settings().clone()).with_clock(std::sync::Arc::new(move || at));
    let listed = restarted.alerts(&app::Actor::system(), &app::alerts::AlertQuery::default()).await.unwrap();
    let mut instances: Vec<&str> = listed.iter().map(|v| v.alert.labels["instance"].as_str()).collect();
    instances.sort_unstable();
    assert_eq!(instances, ["sw1:ge0/1", "sw1:ge0/2"], "both accepted alerts after the restart");
    assert!(listed.iter().any(|v| v.alert.annotations.get("summary").map(String::as_str) == Some("ge0/1 down")));
    // Their firing became two events, once: a later pass, or a later start, folds nothing
    // again.
    restarted.correlate().await.unwrap();
    restarted.correlate().await.unwrap();
    let again =
        app::App::new(h.app.store().clone(), h.app.settings().clone()).with_clock(std::sync::Arc::new(move || at));
    again.correlate().await.unwrap();
    let events = h.get("/api/v1/events", &eng).await.json();
    let from_alerts = events.as_array().unwrap().iter().filter(|e| e["source"] == "alertmanager").count();
    assert_eq!(from_alerts, 2, "{events}");
}

/// A repeat that changes nothing but an alert's times (Prometheus re-sending what fires) is
/// logged by its times alone; a start still finds every alert as last accepted, whether its
/// whole state is in the snapshot (housekeeping compacted the log) or in the log itself.
async fn repeats_outlive_a_restart_whether_folded_or_not(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write]).await);
    let alert = |port: &str, summary: &str, ends: &str| {
        json!({"labels": {"alertname": "HighErr", "instance": format!("sw1:{port}")},
               "annotations": {"summary": summary}, "startsAt": "2027-01-15T07:55:00Z", "endsAt": ends})
    };
    let send = async |batch: Value| {
        let r = h.send(post("/api/v2/alerts", &eng, &batch)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    };
    send(json!([alert("ge0/1", "errors", "2027-01-15T09:00:00Z"), alert("ge0/2", "errors", "2027-01-15T09:00:00Z")]))
        .await;
    h.app.correlate().await.unwrap();
    h.app.housekeeping().await.unwrap();
    assert_eq!(h.app.store().alert_snapshot().await.unwrap().len(), 1, "compacted");
    // ge0/1 repeats over its state in the snapshot; ge0/2 changes its summary, then repeats over that.
    send(json!([alert("ge0/1", "errors", "2027-01-15T10:00:00Z")])).await;
    send(json!([alert("ge0/2", "errors on ge0/2", "2027-01-15T10:00:00Z")])).await;
    send(json!([alert("ge0/2", "errors on ge0/2", "2027-01-15T11:00:00Z")])).await;

    let at = h.app.now_ms();
    // A server started afresh on the database, and what it lists: (instance, summary, end).
    let start = async || {
        let fresh =
            app::App::new(h.app.store().clone(), h.app.settings().clone()).with_clock(std::sync::Arc::new(move || at));
        let listed = fresh.alerts(&app::Actor::system(), &app::alerts::AlertQuery::default()).await.unwrap();
        let mut got: Vec<(String, String, i64)> = listed
            .iter()
            .map(|v| (v.alert.labels["instance"].clone(), v.alert.annotations["summary"].clone(), v.alert.ends_at))
            .collect();
        got.sort();
        (fresh, listed, got)
    };
    let (restarted, listed, got) = start().await;
    let ms = |t: &str| t.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    assert_eq!(
        got,
        [
            ("sw1:ge0/1".into(), "errors".into(), ms("2027-01-15T10:00:00Z")),
            ("sw1:ge0/2".into(), "errors on ge0/2".into(), ms("2027-01-15T11:00:00Z"))
        ]
    );
    // Housekeeping again, a repeat logged after it, and a start: the same.
    restarted.housekeeping().await.unwrap();
    restarted
        .receive_alerts(
            &app::Actor::system(),
            vec![model::alert::Alert {
                ends_at: ms("2027-01-15T12:00:00Z"),
                ..listed.iter().find(|v| v.alert.labels["instance"] == "sw1:ge0/1").unwrap().alert.clone()
            }],
        )
        .await
        .unwrap();
    let (again, _, got) = start().await;
    assert_eq!(
        got,
        [
            ("sw1:ge0/1".into(), "errors".into(), ms("2027-01-15T12:00:00Z")),
            ("sw1:ge0/2".into(), "errors on ge0/2".into(), ms("2027-01-15T11:00:00Z"))
        ]
    );
    // Two alerts started firing, two events, however many starts and compactions.
    again.correlate().await.unwrap();
    let events = h.get("/api/v1/events", &eng).await.json();
    assert_eq!(events.as_array().unwrap().iter().filter(|e| e["source"] == "alertmanager").count(), 2, "{events}");
}

/// An account limited to sites reads the alerts of its sites' items only, sets, reads and
/// expires only silences that name one of its sites and maintenance windows of its sites, so
/// it cannot mute another site.
async fn site_scoped_accounts_see_and_silence_their_sites_only(backend: Backend) {
    let h = Harness::new(backend).await;
    let intake = Auth::Bearer(h.token("operator", &[Scope::Intake]).await);
    let admin = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    for (user, site) in [("pn-tech", "plant-north"), ("dc-tech", "dc-east")] {
        let body =
            json!({"username": user, "role": "engineer", "password": format!("{user} password 1"), "sites": [site]});
        assert_eq!(h.json(Method::POST, "/api/v1/users", &admin, body).await.status, StatusCode::CREATED);
    }
    let pn = Auth::Bearer(h.token("pn-tech", &Scope::ALL).await);
    let dc = Auth::Bearer(h.token("dc-tech", &Scope::ALL).await);
    let everyone = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    // pn-core-sw1 is 10.20.0.2 at plant north, dc-core-sw1 10.10.0.2 at dc east.
    let down = |instance: &str| json!({"labels": {"alertname": "InstanceDown", "instance": instance}});
    let alerts = json!([down("10.20.0.2:9116"), down("10.10.0.2:9116"), down("stranger:9100")]);
    assert_eq!(h.send(post("/api/v2/alerts", &intake, &alerts)).await.status, StatusCode::OK);
    let instances = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|a| a["labels"]["instance"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(instances(h.get("/api/v2/alerts", &everyone).await.json()).len(), 3);
    assert_eq!(instances(h.get("/api/v2/alerts", &pn).await.json()), ["10.20.0.2:9116"]);
    assert_eq!(instances(h.get("/api/v2/alerts", &dc).await.json()), ["10.10.0.2:9116"]);

    let silence = |matchers: Value| {
        json!({"matchers": matchers, "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
               "createdBy": "e", "comment": "RMA"})
    };
    let m = |name: &str, value: &str| json!({"name": name, "value": value, "isRegex": false});
    // Everywhere, or at another site: refused, saying what to add.
    let wide = h.send(post("/api/v2/silences", &pn, &silence(json!([m("alertname", "InstanceDown")])))).await;
    assert_eq!(wide.status, StatusCode::BAD_REQUEST, "{}", wide.text());
    assert!(wide.text().contains("site=\\\"plant-north\\\""), "{}", wide.text());
    let theirs = silence(json!([m("alertname", "InstanceDown"), m("site", "dc-east")]));
    assert_eq!(h.send(post("/api/v2/silences", &pn, &theirs)).await.status, StatusCode::BAD_REQUEST);
    // Its own site: set, and seen by it and by an unscoped account, not by the other site.
    let ours = silence(json!([m("alertname", "InstanceDown"), m("site", "plant-north")]));
    let made = h.send(post("/api/v2/silences", &pn, &ours)).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    let id = made.json()["silenceID"].as_str().unwrap().to_owned();
    let count = |v: Value| v.as_array().unwrap().len();
    assert_eq!(
        (count(h.get("/api/v2/silences", &pn).await.json()), count(h.get("/api/v2/silences", &everyone).await.json())),
        (1, 1)
    );
    assert_eq!(count(h.get("/api/v2/silences", &dc).await.json()), 0);
    assert_eq!(h.get(&format!("/api/v2/silence/{id}"), &dc).await.status, StatusCode::NOT_FOUND);
    // It mutes plant north's alert (which names no site: the CMDB places it), and not one of
    // dc east's that claims to be at plant north.
    let claims =
        json!([{"labels": {"alertname": "InstanceDown", "instance": "10.10.0.3:9116", "site": "plant-north"}}]);
    assert_eq!(h.send(post("/api/v2/alerts", &intake, &claims)).await.status, StatusCode::OK);
    let listed = h.get("/api/v2/alerts", &everyone).await.json();
    let silenced = |instance: &str| {
        let a = listed.as_array().unwrap().iter().find(|a| a["labels"]["instance"] == instance).unwrap();
        a["status"]["silencedBy"].as_array().unwrap().len()
    };
    assert_eq!((silenced("10.20.0.2:9116"), silenced("10.10.0.3:9116")), (1, 0), "{listed}");
    // Nor one the CMDB cannot place at all.
    let stray = json!([{"labels": {"alertname": "InstanceDown", "instance": "nowhere:9100", "site": "plant-north"}}]);
    assert_eq!(h.send(post("/api/v2/alerts", &intake, &stray)).await.status, StatusCode::OK);
    let listed = h.get("/api/v2/alerts", &everyone).await.json();
    let stray = listed.as_array().unwrap().iter().find(|a| a["labels"]["instance"] == "nowhere:9100").unwrap();
    assert_eq!(stray["status"]["silencedBy"], json!([]), "{stray}");
    // Their alarms the same: the CMDB's site, not the label, is what a silence matches.
    h.app.correlate().await.unwrap();
    let alarm_of = async |item: &str| h.get(&format!("/api/v1/alarms?item={item}"), &everyone).await.json()[0].clone();
    let (pn_alarm, dc_alarm) = (alarm_of("pn-core-sw1").await, alarm_of("dc-core-sw2").await);
    assert_eq!(pn_alarm["silenced_by"].as_str(), Some(id.as_str()), "{pn_alarm}");
    assert_eq!(dc_alarm["labels"]["site"], "dc-east", "{dc_alarm}");
    assert!(dc_alarm["silenced_by"].is_null(), "{dc_alarm}");
    let expire = |auth: &Auth| {
        auth.apply(Request::builder().method(Method::DELETE).uri(format!("/api/v2/silence/{id}")))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(h.send(expire(&dc)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.send(expire(&pn)).await.status, StatusCode::OK);

    // Maintenance windows likewise: its own site or items only, never a class (which reaches
    // every site); it sees and cancels only windows that are its own sites'.
    let window = |coverage: Value| {
        let mut w = json!({"name": "works", "reason": "CHG1",
                           "schedule": {"type": "once", "starts_at": 1_700_000_000_000_i64, "ends_at": 4_000_000_000_000_i64}});
        w.as_object_mut().unwrap().extend(coverage.as_object().unwrap().clone());
        w
    };
    for (coverage, field) in [
        (json!({"class": "switch"}), "coverage.class"),
        (json!({"site": "dc-east"}), "coverage.site"),
        (json!({"items": ["dc-core-sw1"]}), "coverage.items"),
    ] {
        let r = h.json(Method::POST, "/api/v1/maintenance", &pn, window(coverage.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{coverage}: {}", r.text());
        assert!(r.text().contains(field), "{coverage}: {}", r.text());
    }
    let own = h.json(Method::POST, "/api/v1/maintenance", &pn, window(json!({"site": "plant-north"}))).await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text());
    let dc_window = h.json(Method::POST, "/api/v1/maintenance", &dc, window(json!({"items": ["dc-core-sw1"]}))).await;
    assert_eq!(dc_window.status, StatusCode::CREATED, "{}", dc_window.text());
    let dc_window = dc_window.json()["id"].as_i64().unwrap();
    let listed = |v: Value| v.as_array().unwrap().len();
    assert_eq!(listed(h.get("/api/v1/maintenance", &pn).await.json()), 1);
    assert_eq!(listed(h.get("/api/v1/maintenance", &everyone).await.json()), 2);
    let cancel = format!("/api/v1/maintenance/{dc_window}");
    assert_eq!(h.json(Method::DELETE, &cancel, &pn, json!({})).await.status, StatusCode::NOT_FOUND);
    assert!(h.json(Method::DELETE, &cancel, &dc, json!({})).await.status.is_success());

    // Measurements too: another site's item's samples are not there for it.
    let items = h.get("/api/v1/items?q=dc-core-sw1", &everyone).await.json();
    let dc_switch = items["items"][0]["id"].as_i64().unwrap();
    let samples = format!("/api/v1/checks/1/samples?item={dc_switch}&label=rta");
    assert_eq!(h.get(&samples, &everyone).await.status, StatusCode::OK);
    assert_eq!(h.get(&samples, &dc).await.status, StatusCode::OK);
    assert_eq!(h.get(&samples, &pn).await.status, StatusCode::NOT_FOUND);
}

/// A compaction empties the log; what is logged after it and not yet folded when the server
/// dies is still folded at the next start: an alert resolved then clears its alarm.
async fn what_is_logged_after_a_compaction_is_folded_after_a_crash(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    let at = |ms: i64| jiff::Timestamp::from_millisecond(h.app.now_ms() + ms).unwrap().to_string();
    let alert = |port: &str| json!({"labels": {"alertname": "IfDown", "instance": "sw7:9116", "ifName": port}});
    let send =
        async |batch: Value| assert_eq!(h.send(post("/api/v2/alerts", &eng, &batch)).await.status, StatusCode::OK);
    // Two logged and folded, so the fold's mark is past the ids a new log would start from.
    send(json!([alert("ge0/1")])).await;
    send(json!([alert("ge0/2")])).await;
    h.app.correlate().await.unwrap();
    h.app.housekeeping().await.unwrap();
    assert_eq!(h.app.store().alert_snapshot().await.unwrap().len(), 1, "compacted");
    let mut ended = json!([alert("ge0/1"), alert("ge0/2")]);
    for a in ended.as_array_mut().unwrap() {
        a["startsAt"] = json!(at(-60_000));
        a["endsAt"] = json!(at(-1_000));
    }
    send(ended).await;
    // The server dies before folding that; another starts.
    let now = h.app.now_ms();
    let restarted =
        app::App::new(h.app.store().clone(), h.app.settings().clone()).with_clock(std::sync::Arc::new(move || now));
    restarted.correlate().await.unwrap();
    let alarms = h.get("/api/v1/alarms?state=all", &eng).await.json();
    let states: Vec<&str> = alarms.as_array().unwrap().iter().map(|a| a["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["cleared"], "{alarms}");
}

crate::both_backends!(
    site_scoped_accounts_see_and_silence_their_sites_only,
    alerts_come_in_by_token_or_from_trusted_networks,
    silences_follow_alertmanagers_rules,
    accepted_alerts_outlive_a_restart_before_they_are_folded,
    repeats_outlive_a_restart_whether_folded_or_not,
    what_is_logged_after_a_compaction_is_folded_after_a_crash
);
