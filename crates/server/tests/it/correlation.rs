//! Event correlation over the demo estate, on both backends: alerts and syslog on a failing
//! cell switch open one incident on the service it takes down, devices behind it are
//! suppressed under that incident, another switch touching the same service joins it, a
//! silence keeps an alert out, recovery resolves the untouched incident, and a bouncing link
//! flaps on one incident instead of opening one per bounce.

use crate::common::{Auth, Backend, Harness};
use app::Actor;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use jiff::tz::TimeZone;
use model::Scope;
use serde_json::{Value, json};

fn syslog(line: &str, sender: &str, at: i64) -> model::event::Event {
    let m = intake::syslog::parse(line.as_bytes(), at, &TimeZone::UTC).unwrap();
    intake::classify::event(&m, sender, at)
}

async fn post_alerts(h: &Harness, auth: &Auth, alerts: Value) {
    let req = auth
        .apply(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v2/alerts")
                .header(header::CONTENT_TYPE, "application/json"),
        )
        .body(Body::from(alerts.to_string()))
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

fn alert(name: &str, instance: &str, severity: &str) -> Value {
    json!({"labels": {"alertname": name, "instance": instance, "severity": severity},
           "annotations": {"summary": format!("{name} on {instance}")}})
}

async fn id_of(h: &Harness, t: &Auth, name: &str) -> i64 {
    let page = h.get(&format!("/api/v1/items?q={name}"), t).await.json();
    page["items"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap()["id"].as_i64().unwrap()
}

fn by_summary<'a>(alarms: &'a Value, words: &str) -> &'a Value {
    alarms.as_array().unwrap().iter().find(|a| a["summary"].as_str().unwrap().contains(words)).unwrap_or_else(|| {
        panic!("no alarm about {words}: {alarms}");
    })
}

async fn a_failing_switch_opens_one_incident_and_its_recovery_resolves_it(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let intake = Auth::Bearer(h.token("operator", &[Scope::Intake]).await);
    let now = 1_800_000_000_000;
    let cell1 = id_of(&h, &t, "pn-cell-sw1").await;
    let plc = id_of(&h, &t, "pn-plc-filtration").await;

    // pn-cell-sw1 stops answering Prometheus; the PLC and the HMI behind it follow; the switch
    // also logs its uplink down and has another alert of its own.
    post_alerts(
        &h,
        &intake,
        json!([
            alert("InstanceDown", "10.20.1.2:9116", "critical"),
            alert("InstanceDown", "10.20.10.11:9100", "critical"),
            alert("InstanceDown", "pn-hmi-ops1:9182", "critical"),
            alert("InterfaceErrors", "10.20.1.2:9116", "warning"),
            alert("PlantInfo", "stranger:9100", "critical"),
        ]),
    )
    .await;
    h.app
        .record_events(
            &Actor::system(),
            vec![syslog(
                "<187>Jan 15 08:00:00 pn-cell-sw1 IOS: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down",
                "10.20.1.2",
                now,
            )],
        )
        .await
        .unwrap();
    let pass = h.app.correlate().await.unwrap();
    assert_eq!((pass.events, pass.raised), (6, 6), "{pass:?}");
    assert_eq!(pass.opened.len(), 1, "one incident for the switch: {pass:?}");
    assert_eq!(pass.suppressed, 2, "the PLC and the HMI are behind it: {pass:?}");
    assert_eq!(pass.joined, 1, "the switch's own InstanceDown settles (it needs the core pair): {pass:?}");
    // Nothing upstream failed within the settle time: it joins the switch's incident, and its
    // critical severity raises the priority.
    h.advance(15_000);
    let settled = h.app.correlate().await.unwrap();
    assert_eq!((settled.opened.len(), settled.joined), (0, 1), "{settled:?}");
    let number = &pass.opened[0];

    let inc = h.get(&format!("/api/v1/incidents/{number}"), &t).await.json();
    assert_eq!(inc["item"], "pn-cell-sw1", "{inc}");
    assert_eq!(inc["caller"], "watchkeeper");
    assert_eq!(inc["category"], "network");
    // A critical service down and a critical alert: the matrix's top cell.
    assert_eq!(
        (inc["impact"].as_str(), inc["urgency"].as_str(), inc["priority"].as_i64()),
        (Some("high"), Some("high"), Some(1))
    );
    let services: Vec<&str> = inc["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(services.contains(&"svc-northfield-treatment"), "{services:?}");
    let journal = inc["journal"].to_string();
    assert!(journal.contains("alarm(s) correlated"), "the joined alarms are noted: {journal}");
    assert!(journal.contains("priority"), "raised to P1 when the critical alarm joined: {journal}");

    let fed = h.get(&format!("/api/v1/alarms?incident={number}"), &t).await.json();
    assert_eq!(fed.as_array().unwrap().len(), 5, "three of its own, two suppressed: {fed}");
    let plc_alarm =
        fed.as_array().unwrap().iter().find(|a| a["item_id"] == plc).unwrap_or_else(|| panic!("{plc} {fed}"));
    assert_eq!(plc_alarm["suppressed_by"], cell1, "a symptom of the switch, not a cause");
    assert_eq!(plc_alarm["kind"], "host.down");
    let stranger = by_summary(&h.get("/api/v1/alarms", &t).await.json(), "stranger").clone();
    assert_eq!((stranger["incident"].clone(), stranger["item_id"].clone()), (Value::Null, Value::Null));
    // Every event names the alarm it fed.
    let events = h.get("/api/v1/events", &t).await.json();
    assert!(events.as_array().unwrap().iter().all(|e| e["alarm_id"].is_i64()), "{events}");

    // The monitoring page shows the same: the alarms, the incident, and why two opened none;
    // acknowledging there is recorded.
    let lead = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    let page = h.get("/monitoring", &lead).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("symptom of pn-cell-sw1"), "{html}");
    assert!(html.contains(&format!("href=\"/incidents/{number}\"")));
    let plc_id = plc_alarm["id"].as_i64().unwrap();
    let acked = h.form(&format!("/monitoring/alarms/{plc_id}/ack"), &lead, &[]).await;
    assert_eq!(acked.status, StatusCode::SEE_OTHER, "{}", acked.text());
    let plc_now = h.get(&format!("/api/v1/alarms/{plc_id}"), &t).await.json();
    assert_eq!(plc_now["acknowledged_by"], "ops-lead");
    assert!(plc_now["events"].as_array().is_some_and(|e| e.len() == 1), "{plc_now}");

    // Within the window, the other cell switch's uplink drops: it touches the same service and
    // joins the same incident.
    h.advance(45_000);
    h.app
        .record_events(
            &Actor::system(),
            vec![syslog(
                "<187>Jan 15 08:01:00 pn-cell-sw2 IOS: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to down",
                "10.20.1.3",
                now + 60_000,
            )],
        )
        .await
        .unwrap();
    let pass = h.app.correlate().await.unwrap();
    assert_eq!((pass.opened.len(), pass.joined), (0, 1), "{pass:?}");

    // A silence keeps a new alert out of every incident.
    let silence = json!({"matchers": [{"name": "alertname", "value": "Maintenance.*", "isRegex": true, "isEqual": true}],
                         "startsAt": "2027-01-15T07:00:00Z", "endsAt": "2027-01-15T12:00:00Z",
                         "createdBy": "ops-lead", "comment": "planned work"});
    let r = h.json(Method::POST, "/api/v2/silences", &t, silence).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    post_alerts(&h, &intake, json!([alert("MaintenancePing", "10.20.0.1:9100", "critical")])).await;
    let pass = h.app.correlate().await.unwrap();
    assert_eq!((pass.silenced, pass.opened.len()), (1, 0), "{pass:?}");
    let muted = by_summary(&h.get("/api/v1/alarms", &t).await.json(), "MaintenancePing").clone();
    assert!(muted["silenced_by"].is_string() && muted["incident"].is_null(), "{muted}");

    // Planned work on pn-cell-sw3 for the next hour: its link drop opens nothing until the
    // window closes, then it opens an incident as usual.
    let window = json!({"name": "optic swap", "reason": "CHG0000042", "items": ["pn-cell-sw3"],
                        "schedule": {"type": "once", "starts_at": now + 60_000, "ends_at": now + 3_600_000}});
    let r = h.json(Method::POST, "/api/v1/maintenance", &t, window).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["active"], true);
    let bad = json!({"name": "x", "items": ["pn-cell-sw3"], "schedule": {"type": "weekly", "days": ["someday"], "start": "22:00", "minutes": 60, "time_zone": "UTC"}});
    assert_eq!(h.json(Method::POST, "/api/v1/maintenance", &t, bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    h.app
        .record_events(
            &Actor::system(),
            vec![syslog(
                "<187>Jan 15 08:01:00 pn-cell-sw3 IOS: %LINK-3-UPDOWN: Interface Gi1/0/9, changed state to down",
                "10.20.1.4",
                now + 60_000,
            )],
        )
        .await
        .unwrap();
    let pass = h.app.correlate().await.unwrap();
    assert_eq!((pass.opened.len(), pass.joined, pass.silenced), (0, 0, 1), "held, not joined: {pass:?}");
    let held = by_summary(&h.get("/api/v1/alarms?item=pn-cell-sw3", &t).await.json(), "Gi1/0/9").clone();
    assert!(held["silenced_by"].as_str().unwrap().starts_with("maintenance:"), "{held}");

    // Acknowledging an alarm is recorded, and a reader may not.
    let reader = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);
    let aid = muted["id"].as_i64().unwrap();
    assert_eq!(h.post(format!("/api/v1/alarms/{aid}/ack"), &reader, json!({})).await.status, StatusCode::FORBIDDEN);
    let acked = h.post(format!("/api/v1/alarms/{aid}/ack"), &t, json!({})).await.json();
    assert_eq!(acked["acknowledged_by"], "engineer");
    assert_eq!(h.get("/api/v1/alarms/999999", &t).await.status, StatusCode::NOT_FOUND);
    for bad in ["/api/v1/alarms?state=maybe", "/api/v1/alarms?incident=INC404", "/api/v1/alarms?colour=red"] {
        assert_eq!(h.get(bad, &t).await.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Recovery: the alerts resolve and the links come back; nobody touched the incident, so
    // it resolves itself.
    h.advance(60_000);
    let ended = |a: Value| {
        let mut a = a;
        a["endsAt"] = json!("2027-01-15T08:01:30Z");
        a
    };
    post_alerts(
        &h,
        &intake,
        json!([
            ended(alert("InstanceDown", "10.20.1.2:9116", "critical")),
            ended(alert("InstanceDown", "10.20.10.11:9100", "critical")),
            ended(alert("InstanceDown", "pn-hmi-ops1:9182", "critical")),
            ended(alert("InterfaceErrors", "10.20.1.2:9116", "warning")),
        ]),
    )
    .await;
    let up =
        |host: &str| format!("<189>Jan 15 08:02:00 {host} IOS: %LINK-3-UPDOWN: Interface Gi1/0/1, changed state to up");
    h.app
        .record_events(
            &Actor::system(),
            vec![
                syslog(&up("pn-cell-sw1"), "10.20.1.2", now + 120_000),
                syslog(&up("pn-cell-sw2"), "10.20.1.3", now + 120_000),
            ],
        )
        .await
        .unwrap();
    let pass = h.app.correlate().await.unwrap();
    assert_eq!(pass.resolved, vec![number.clone()], "{pass:?}");
    let inc = h.get(&format!("/api/v1/incidents/{number}"), &t).await.json();
    assert_eq!((inc["state"].as_str(), inc["resolution_code"].as_str()), (Some("resolved"), Some("recovered")));
    assert_eq!(h.get(&format!("/api/v1/alarms?incident={number}"), &t).await.json(), json!([]), "none open");
    let history = h.get(&format!("/api/v1/alarms?incident={number}&state=all"), &t).await.json();
    assert!(history.as_array().unwrap().iter().all(|a| a["state"] == "cleared"), "{history}");

    // The maintenance window closes with pn-cell-sw3's link still down: now it opens an incident.
    h.advance(3_600_000);
    let pass = h.app.correlate().await.unwrap();
    assert_eq!(pass.opened.len(), 1, "{pass:?}");
    let inc = h.get(&format!("/api/v1/incidents/{}", pass.opened[0]), &t).await.json();
    assert_eq!(inc["item"], "pn-cell-sw3");
}

async fn a_bouncing_link_flaps_on_one_incident(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let mut at = 1_800_000_000_000;
    let mut numbers = std::collections::BTreeSet::new();
    for i in 0..12 {
        let state = if i % 2 == 0 { "down" } else { "up" };
        let line = format!(
            "<187>Jan 15 08:00:00 pn-wan-rtr1 IOS: %LINK-3-UPDOWN: Interface Gi0/0/0, changed state to {state}"
        );
        h.app.record_events(&Actor::system(), vec![syslog(&line, "10.20.0.1", at)]).await.unwrap();
        let pass = h.app.correlate().await.unwrap();
        numbers.extend(pass.opened);
        h.advance(20_000);
        at += 20_000;
    }
    assert_eq!(numbers.len(), 1, "reopened, not opened again: {numbers:?}");
    let number = numbers.first().unwrap();
    let alarms = h.get("/api/v1/alarms?state=all&item=pn-wan-rtr1", &t).await.json();
    assert_eq!(alarms.as_array().unwrap().len(), 1, "one condition: {alarms}");
    assert_eq!(alarms[0]["flapping"], true, "{alarms}");
    let inc = h.get(&format!("/api/v1/incidents/{number}"), &t).await.json();
    assert_eq!(inc["state"], "in-progress", "reopened when the link went down again: {inc}");
    assert!(inc["journal"].to_string().contains("started flapping"), "{}", inc["journal"]);

    // Then it goes down and stays down: half an hour on, it has settled, stops flapping
    // without another message, and is a fault like any other.
    let line = "<187>Jan 15 08:05:00 pn-wan-rtr1 IOS: %LINK-3-UPDOWN: Interface Gi0/0/0, changed state to down";
    h.app.record_events(&Actor::system(), vec![syslog(line, "10.20.0.1", at)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let alarms = h.get("/api/v1/alarms?state=all&item=pn-wan-rtr1", &t).await.json();
    assert_eq!((alarms[0]["state"].as_str(), alarms[0]["flapping"].as_bool()), (Some("open"), Some(true)), "{alarms}");
    h.advance(1_800_000);
    h.app.correlate().await.unwrap();
    let alarms = h.get("/api/v1/alarms?state=all&item=pn-wan-rtr1", &t).await.json();
    assert_eq!((alarms[0]["state"].as_str(), alarms[0]["flapping"].as_bool()), (Some("open"), Some(false)), "{alarms}");
    assert_eq!(alarms[0]["incident"].as_str(), Some(number.as_str()), "{alarms}");
    let inc = h.get(&format!("/api/v1/incidents/{number}"), &t).await.json();
    assert!(inc["journal"].to_string().contains("stopped flapping"), "{}", inc["journal"]);
}

/// Each event keeps the incident it fed: a link that fails, recovers and, long after, fails
/// again feeds two incidents, and each lists its own events (API and page), not the other's.
async fn each_incident_lists_the_events_that_fed_it(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let at = h.app.now_ms();
    let link = |state: &str, at: i64| {
        let line = format!(
            "<187>Jan 15 08:00:00 pn-wan-rtr1 IOS: %LINK-3-UPDOWN: Interface Gi0/0/0, changed state to {state}"
        );
        syslog(&line, "10.20.0.1", at)
    };
    h.app.record_events(&Actor::system(), vec![link("down", at)]).await.unwrap();
    let first = h.app.correlate().await.unwrap().opened;
    assert_eq!(first.len(), 1, "{first:?}");
    h.advance(60_000);
    h.app.record_events(&Actor::system(), vec![link("up", at + 60_000)]).await.unwrap();
    h.app.correlate().await.unwrap();
    // A day later, the same link fails again: a new incident.
    h.advance(86_400_000);
    h.app.record_events(&Actor::system(), vec![link("down", at + 86_460_000)]).await.unwrap();
    let second = h.app.correlate().await.unwrap().opened;
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(first, second);

    let fed = |number: String| {
        let (h, t) = (&h, &t);
        async move {
            let events = h.get(&format!("/api/v1/events?incident={number}"), t).await.json();
            events
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    assert_eq!(e["incident"].as_str(), Some(number.as_str()), "{e}");
                    e["up"].as_bool().unwrap()
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(fed(first[0].clone()).await, [true, false], "the failure and its recovery, newest first");
    assert_eq!(fed(second[0].clone()).await, [false]);
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let page = h.get(&format!("/incidents/{}", first[0]), &op).await.text();
    assert!(page.contains("Events that fed it"), "{page}");
    assert!(page.contains("changed state to up"), "{page}");
    // The event console follows the same filter (the page's "all in the event console").
    let console = h.get(&format!("/events?incident={}", second[0]), &op).await.text();
    assert!(console.contains("changed state to down") && !console.contains("changed state to up"), "{console}");
    assert_eq!(h.get("/api/v1/events?incident=INC9999999", &t).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// What IF-MIB polling reports: the interface by its ifName, which on Cisco is the short form.
fn polled(ifname: &str, up: bool, sender: &str, at: i64) -> model::event::Event {
    model::event::Event {
        received_at: at,
        occurred_at: None,
        source: "snmp",
        sender: sender.to_owned(),
        host: String::new(),
        item_id: None,
        kind: "interface".into(),
        object: ifname.to_owned(),
        up: Some(up),
        severity: if up { 5 } else { 3 },
        mnemonic: if up { "IF-MIB-LINKUP" } else { "IF-MIB-LINKDOWN" }.into(),
        text: format!("Interface {ifname} is {}", if up { "up" } else { "down" }),
        fields: Default::default(),
    }
}

/// Syslog names an interface in full, IF-MIB polling by its ifName (`Gi0/0/0`): one link down
/// is one alarm, cleared by either; and an alarm stored under the short name by an earlier
/// version is found again once its key is brought up to date.
async fn an_interface_is_one_alarm_by_either_name(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let at = 1_800_000_000_000;
    let down =
        "<187>Jan 15 08:00:00 pn-wan-rtr1 IOS: %LINK-3-UPDOWN: Interface GigabitEthernet0/0/0, changed state to down";
    h.app
        .record_events(&Actor::system(), vec![syslog(down, "10.20.0.1", at), polled("Gi0/0/0", false, "10.20.0.1", at)])
        .await
        .unwrap();
    h.app.correlate().await.unwrap();
    let alarms = h.get("/api/v1/alarms?state=all&item=pn-wan-rtr1", &t).await.json();
    assert_eq!(alarms.as_array().unwrap().len(), 1, "one condition: {alarms}");
    assert_eq!(alarms[0]["count"], 2, "{alarms}");
    h.app.record_events(&Actor::system(), vec![polled("Gi0/0/0", true, "10.20.0.1", at + 60_000)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open, json!([]), "the poll's recovery clears what syslog raised");

    // An alarm under a short name, as an earlier version keyed it.
    let wan = id_of(&h, &t, "pn-wan-rtr1").await;
    let down = down.replace("0/0/0", "0/0/1");
    h.app.record_events(&Actor::system(), vec![syslog(&down, "10.20.0.1", at + 120_000)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let mut tx = h.app.store().begin().await.unwrap();
    let (id, _) = tx.alarm_keys_of_kind("interface").await.unwrap().into_iter().last().unwrap();
    assert!(tx.rekey_alarm(id, &format!("item:{wan}|interface|Gi0/0/1"), at).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(h.app.rekey_alarms().await.unwrap(), 1);
    assert_eq!(h.app.rekey_alarms().await.unwrap(), 0, "once is enough");
    h.app.record_events(&Actor::system(), vec![polled("Gi0/0/1", true, "10.20.0.1", at + 180_000)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open, json!([]), "the older alarm is cleared by the interface's recovery");

    // An HSRP alarm an earlier version keyed by interface alone takes its group, so the
    // group's recovery clears it.
    let hsrp = |states: &str, at: i64| {
        syslog(
            &format!("<189>Jan 15 08:00:00 pn-wan-rtr1 IOS: %HSRP-5-STATECHANGE: Vlan20 Grp 1 state {states}"),
            "10.20.0.1",
            at,
        )
    };
    h.app.record_events(&Actor::system(), vec![hsrp("Active -> Standby", at + 240_000)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let mut tx = h.app.store().begin().await.unwrap();
    let (id, key) = tx.alarm_keys_of_kind("hsrp.state").await.unwrap().into_iter().last().unwrap();
    assert_eq!(key, format!("item:{wan}|hsrp.state|Vlan20 group 1"));
    assert!(tx.rekey_alarm(id, &format!("item:{wan}|hsrp.state|Vlan20"), at).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(h.app.rekey_alarms().await.unwrap(), 1);
    h.app.record_events(&Actor::system(), vec![hsrp("Standby -> Active", at + 300_000)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open, json!([]), "the group's recovery clears the older alarm");
}

/// `shutdown` on a port logs "administratively down" and then its line protocol "down": both
/// are the planned work, so nothing opens; a line protocol that fails on its own still alarms.
async fn a_port_shut_by_configuration_opens_nothing(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let at = 1_800_000_000_000;
    let line = |port: &str, state: &str| {
        format!(
            "<189>Jan 15 08:00:01 pn-wan-rtr1 IOS: %LINEPROTO-5-UPDOWN: Line protocol on Interface {port}, changed state to {state}"
        )
    };
    let shut = "<189>Jan 15 08:00:00 pn-wan-rtr1 IOS: %LINK-5-CHANGED: Interface GigabitEthernet0/0/2, changed state to administratively down";
    h.app
        .record_events(
            &Actor::system(),
            vec![syslog(shut, "10.20.0.1", at), syslog(&line("GigabitEthernet0/0/2", "down"), "10.20.0.1", at + 1_000)],
        )
        .await
        .unwrap();
    let pass = h.app.correlate().await.unwrap();
    assert_eq!((pass.raised, pass.opened.len()), (0, 0), "{pass:?}");
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open, json!([]), "planned work raises nothing");

    // Another port's line protocol, with no shutdown before it: a fault.
    h.app
        .record_events(&Actor::system(), vec![syslog(&line("Serial0/1/0", "down"), "10.20.0.1", at + 2_000)])
        .await
        .unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open[0]["kind"], "line-protocol");
    // Long after the shutdown, the shut port's line protocol going down is a fault too.
    let late = at + model::alarm::SHUTDOWN_ECHO_MS + 5_000;
    h.app.record_events(&Actor::system(), vec![syslog(&line("Gi0/0/2", "down"), "10.20.0.1", late)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open.as_array().unwrap().len(), 2, "{open}");

    // Shut, brought up again at once, and then the line protocol fails: a fault, however soon.
    let port = "GigabitEthernet0/0/3";
    let shut3 = shut.replace("GigabitEthernet0/0/2", port);
    let up3 = format!("<189>Jan 15 08:00:00 pn-wan-rtr1 IOS: %LINK-3-UPDOWN: Interface {port}, changed state to up");
    let t0 = late + 10_000;
    h.app
        .record_events(
            &Actor::system(),
            vec![
                syslog(&shut3, "10.20.0.1", t0),
                syslog(&up3, "10.20.0.1", t0 + 2_000),
                syslog(&line(port, "down"), "10.20.0.1", t0 + 4_000),
            ],
        )
        .await
        .unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open.as_array().unwrap().len(), 3, "{open}");

    // A poll that saw the port shut, between the two messages, is the same planned work.
    let port = "GigabitEthernet0/0/4";
    let mut polled_shut = polled("Gi0/0/4", true, "10.20.0.1", t0 + 20_000);
    polled_shut.mnemonic = "IF-MIB-ADMINDOWN".into();
    h.app
        .record_events(
            &Actor::system(),
            vec![
                syslog(&shut.replace("GigabitEthernet0/0/2", port), "10.20.0.1", t0 + 19_000),
                polled_shut,
                syslog(&line(port, "down"), "10.20.0.1", t0 + 21_000),
            ],
        )
        .await
        .unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    assert_eq!(open.as_array().unwrap().len(), 3, "{open}");
}

/// A linkDown trap names its interface by ifIndex alone; the router's last IF-MIB poll says
/// which interface that is, so the trap and syslog's recovery of that interface are one alarm.
async fn a_trap_by_ifindex_is_named_from_the_last_poll(backend: Backend) {
    use model::ifmib::{Interface, Oper, Snapshot};
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let wan = id_of(&h, &t, "pn-wan-rtr1").await;
    let check = h
        .json(
            Method::POST,
            "/api/v1/checks",
            &t,
            json!({"name": "if-mib", "items": ["pn-wan-rtr1"], "probe": {"type": "snmp", "credential": "lab"}}),
        )
        .await;
    assert_eq!(check.status, StatusCode::CREATED, "{}", check.text());
    let at = h.app.now_ms();
    let interface = |index: u32, name: &str| Interface {
        index,
        name: name.into(),
        alias: String::new(),
        admin_up: true,
        oper: Oper::Up,
        speed_bps: 1_000_000_000,
        in_octets: None,
        out_octets: None,
        in_errors: None,
        out_errors: None,
        in_discards: None,
        out_discards: None,
    };
    let polled =
        Snapshot { at_ms: at, uptime_cs: 1000, interfaces: vec![interface(2, "Gi0/0/1"), interface(3, "Gi0/0/2")] };
    let mut tx = h.app.store().begin().await.unwrap();
    tx.put_check_states(&[store::CheckStateRow {
        check_id: check.json()["id"].as_i64().unwrap(),
        item_id: wan,
        status: "ok".into(),
        hard: true,
        attempt: 1,
        hard_status: "ok".into(),
        output: "SNMP OK - 2 interfaces, 2 up".into(),
        perfdata: "[]".into(),
        duration_us: 1000,
        last_run_ms: at,
        last_change_ms: at,
        baseline: Some(serde_json::to_string(&polled).unwrap()),
    }])
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let trap = |index: u32| model::event::Event {
        received_at: at,
        occurred_at: None,
        source: "snmp-trap",
        sender: "10.20.0.1".into(),
        host: String::new(),
        item_id: None,
        kind: "interface".into(),
        object: format!("ifIndex {index}"),
        up: Some(false),
        severity: 3,
        mnemonic: "linkDown".into(),
        text: format!("linkDown 1.3.6.1.2.1.2.2.1.1={index}"),
        fields: Default::default(),
    };
    h.app.record_events(&Actor::system(), vec![trap(3), trap(9)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let alarms = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    let mut objects: Vec<&str> = alarms.as_array().unwrap().iter().map(|a| a["object"].as_str().unwrap()).collect();
    objects.sort_unstable();
    assert_eq!(objects, ["Gi0/0/2", "ifIndex 9"], "named from the poll where it saw the index: {alarms}");
    let up =
        "<189>Jan 15 08:00:00 pn-wan-rtr1 IOS: %LINK-3-UPDOWN: Interface GigabitEthernet0/0/2, changed state to up";
    h.app.record_events(&Actor::system(), vec![syslog(up, "10.20.0.1", at + 60_000)]).await.unwrap();
    h.app.correlate().await.unwrap();
    let open = h.get("/api/v1/alarms?item=pn-wan-rtr1", &t).await.json();
    let open: Vec<&str> = open.as_array().unwrap().iter().map(|a| a["object"].as_str().unwrap()).collect();
    assert_eq!(open, ["ifIndex 9"], "syslog's recovery cleared the trap's alarm");
}

/// Alerts about one condition on one item (an alert per interface, say) are one alarm: it
/// fires with the first, takes the worst severity among them, stays while any fires and
/// clears with the last; a silence muting some of them leaves it sounding, one muting all of
/// them silences it. An alarm an earlier version kept per alert becomes its group's.
async fn alerts_about_one_condition_on_one_item_are_one_alarm(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let intake = Auth::Bearer(h.token("operator", &[Scope::Intake]).await);
    let at = |ms: i64| jiff::Timestamp::from_millisecond(h.app.now_ms() + ms).unwrap().to_string();
    let port = |name: &str, n: u32, severity: &str, ended: bool| {
        let mut a = json!({"labels": {"alertname": name, "instance": "lab-sw9:9116", "ifName": format!("Gi0/{n}"),
                                      "severity": severity},
                           "annotations": {"summary": format!("Gi0/{n}: {name}")}});
        if ended {
            a["startsAt"] = json!(at(-60_000));
            a["endsAt"] = json!(at(-1_000));
        }
        a
    };
    let alarm = async |name: &str| {
        let all = h.get("/api/v1/alarms?state=all", &t).await.json();
        let key = format!("alert:lab-sw9/{name}");
        let mine: Vec<Value> = all.as_array().unwrap().iter().filter(|a| a["key"] == key.as_str()).cloned().collect();
        assert_eq!(mine.len(), 1, "one alarm for {key}: {all}");
        mine[0].clone()
    };

    post_alerts(&h, &intake, json!([port("IfDown", 1, "warning", false), port("IfDown", 2, "warning", false)])).await;
    h.app.correlate().await.unwrap();
    let a = alarm("IfDown").await;
    assert_eq!(
        (a["state"].as_str(), a["severity"].as_str(), a["count"].as_i64()),
        (Some("open"), Some("warning"), Some(1))
    );
    post_alerts(&h, &intake, json!([port("IfDown", 3, "critical", false)])).await;
    h.app.correlate().await.unwrap();
    let a = alarm("IfDown").await;
    assert_eq!((a["state"].as_str(), a["severity"].as_str()), (Some("open"), Some("critical")), "{a}");
    post_alerts(&h, &intake, json!([port("IfDown", 1, "warning", true), port("IfDown", 3, "critical", true)])).await;
    h.app.correlate().await.unwrap();
    assert_eq!(alarm("IfDown").await["state"], "open", "Gi0/2 still down");
    post_alerts(&h, &intake, json!([port("IfDown", 2, "warning", true)])).await;
    h.app.correlate().await.unwrap();
    assert_eq!(alarm("IfDown").await["state"], "cleared");
    let events = h.get("/api/v1/events?source=alertmanager", &t).await.json();
    assert_eq!(events.as_array().unwrap().len(), 3, "fired, worsened, cleared: {events}");

    // A silence for one port of two mutes that alert, not the alarm; one for both mutes it.
    let silence = |name: &str, value: &str| {
        json!({"matchers": [{"name": name, "value": value, "isRegex": false, "isEqual": true}],
               "startsAt": at(-1_000), "endsAt": at(3_600_000), "createdBy": "ops-lead", "comment": "optics"})
    };
    for (name, value) in [("ifName", "Gi0/4"), ("alertname", "IfCrc")] {
        let r = h.json(Method::POST, "/api/v2/silences", &t, silence(name, value)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    post_alerts(
        &h,
        &intake,
        json!([
            port("IfFlap", 4, "warning", false),
            port("IfFlap", 5, "warning", false),
            port("IfCrc", 4, "warning", false),
            port("IfCrc", 5, "warning", false)
        ]),
    )
    .await;
    h.app.correlate().await.unwrap();
    assert!(alarm("IfFlap").await["silenced_by"].is_null(), "Gi0/5 is not silenced");
    assert!(alarm("IfCrc").await["silenced_by"].is_string(), "both are");

    // The IfFlap alarm as an earlier version keyed it, by its first alert's fingerprint: it
    // takes its group's key back, and the group's end clears it.
    let id = alarm("IfFlap").await["id"].as_i64().unwrap();
    let raised = h.app.store().alarm_events(id, 1).await.unwrap();
    let fields: std::collections::BTreeMap<String, String> = serde_json::from_str(&raised[0].fields).unwrap();
    let mut tx = h.app.store().begin().await.unwrap();
    assert!(tx.rekey_alarm(id, &format!("alert:{}", fields["fingerprint"]), h.app.now_ms()).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(h.app.rekey_alarms().await.unwrap(), 1);
    post_alerts(&h, &intake, json!([port("IfFlap", 4, "warning", true), port("IfFlap", 5, "warning", true)])).await;
    h.app.correlate().await.unwrap();
    let a = alarm("IfFlap").await;
    assert_eq!((a["id"].as_i64(), a["state"].as_str()), (Some(id), Some("cleared")), "{a}");
}

crate::both_backends!(
    a_trap_by_ifindex_is_named_from_the_last_poll,
    a_failing_switch_opens_one_incident_and_its_recovery_resolves_it,
    a_bouncing_link_flaps_on_one_incident,
    each_incident_lists_the_events_that_fed_it,
    an_interface_is_one_alarm_by_either_name,
    a_port_shut_by_configuration_opens_nothing,
    alerts_about_one_condition_on_one_item_are_one_alarm
);
