//! Escalation and notifications end to end: a real SMTP server on loopback (aiosmtpd, from
//! Debian's python3-aiosmtpd, writing a maildir) and a webhook receiver standing in for Teams
//! and Mattermost. A P1 is opened and left to run: rules tell the chat rooms it was opened,
//! hand it to L3 when the response target passes, tell the chat room when nobody has touched
//! it for half an hour and mail the operations lead at 75 % of the resolution target. A target
//! that is down never holds up the incident and is retried until it answers; duplicates are
//! recorded as suppressed; a channel over its hourly rate waits.

use crate::common::{Auth, Backend, Harness};
use app::Settings;
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MIN: i64 = 60_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// aiosmtpd on loopback, delivering into a maildir.
struct SmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    async fn start() -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let python = std::env::var("WATCHKEEPER_SMTP_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start aiosmtpd with {python} (Debian package python3-aiosmtpd): {e}"));
        // Owned at once, so that it is killed whatever happens next.
        let sink = SmtpSink { port, dir, child };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return sink;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not listen on 127.0.0.1:{port}; is python3-aiosmtpd installed?");
    }

    /// The messages received, as raw text.
    fn messages(&self) -> Vec<String> {
        let new: PathBuf = self.dir.path().join("maildir").join("new");
        // Headers unfolded, so a long subject reads as one line.
        let mut out: Vec<String> = std::fs::read_dir(&new)
            .map(|d| d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).collect::<Vec<String>>())
            .unwrap_or_default()
            .into_iter()
            .map(|m: String| m.replace('\r', "").replace("\n ", " ").replace("\n\t", " "))
            .collect();
        out.sort();
        out
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chat server's incoming webhooks: records what is posted to any path.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<(String, Value)>>>);

impl Receiver {
    async fn start() -> (Receiver, u16) {
        let r = Receiver::default();
        let seen = r.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri, axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.0.lock().unwrap().push((uri.path().to_owned(), body));
                "ok"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, port)
    }

    fn posted(&self, path: &str) -> Vec<Value> {
        self.0.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, b)| b.clone()).collect()
    }
}

async fn put_json(h: &Harness, auth: &Auth, path: String, body: Value) -> crate::common::Resp {
    h.json(Method::PUT, &path, auth, body).await
}

async fn escalations_page_mail_and_retry_until_delivered(backend: Backend) {
    let smtp = SmtpSink::start().await;
    let (chat, chat_port) = Receiver::start().await;
    let settings = smtp_settings(&smtp);
    let h = Harness::with_settings(backend, settings).await;
    let courier = notify::Courier::new(h.app.settings().smtp.clone(), Duration::from_secs(2)).unwrap();
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read, Scope::Write, Scope::Audit]).await);
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Admin]).await);
    let chat_url = |path: &str| format!("http://127.0.0.1:{chat_port}{path}");
    let dead_url = format!("http://127.0.0.1:{}/hooks/s3cr3t-slack", free_port());

    // Channels: the lead's mailbox, two chat rooms, and a Slack-compatible hook that is down.
    let put = |name: &str, body: Value| put_json(&h, &admin, format!("/api/v1/notification-channels/{name}"), body);
    for (name, body) in [
        ("ops-lead-mail", json!({"kind": "email", "target": "ops-lead@plant.example, duty-manager@plant.example"})),
        ("noc-teams", json!({"kind": "teams", "target": chat_url("/teams/s3cr3t-teams")})),
        ("noc-mattermost", json!({"kind": "mattermost", "target": chat_url("/hooks/s3cr3t-mm")})),
        ("plant-slack", json!({"kind": "slack", "target": dead_url.clone()})),
    ] {
        let r = put(name, body).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text());
    }
    let listed = h.get("/api/v1/notification-channels", &eng).await.text();
    assert!(!listed.contains("s3cr3t"), "webhook secrets are never shown: {listed}");
    assert!(listed.contains("\"target\":\"http://127.0.0.1/…\""), "{listed}");
    // Bad channels and rules say what is wrong; engineers may not change them.
    let bad = put("pager", json!({"kind": "pager", "target": "x"})).await;
    assert!(bad.status == StatusCode::UNPROCESSABLE_ENTITY && bad.text().contains("kind"), "{}", bad.text());
    let bad = put("m", json!({"kind": "email", "target": "ops-lead at plant"})).await;
    assert!(bad.text().contains("not an e-mail address"), "{}", bad.text());
    let r =
        h.json(Method::PUT, "/api/v1/notification-channels/x", &eng, json!({"kind": "email", "target": "a@b.c"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let rule = |name: &str, body: Value| put_json(&h, &admin, format!("/api/v1/escalation-rules/{name}"), body);
    for (name, body) in [
        (
            "p1-opened",
            json!({"kind": "hierarchical", "trigger": {"on": "opened"}, "priorities": [1],
                             "channels": ["noc-teams", "noc-mattermost"]}),
        ),
        (
            "response-breach-to-l3",
            json!({"kind": "functional", "trigger": {"on": "sla", "clock": "response", "percent": 100},
                                         "priorities": [1, 2], "reassign_group": "L3 network"}),
        ),
        (
            "quiet-p1",
            json!({"kind": "hierarchical", "trigger": {"on": "idle", "minutes": 30}, "priorities": [1],
                            "channels": ["noc-mattermost"]}),
        ),
        (
            "resolution-75",
            json!({"kind": "hierarchical", "trigger": {"on": "sla", "clock": "resolution", "percent": 75},
                                 "channels": ["ops-lead-mail", "plant-slack"]}),
        ),
        // A second rule telling the lead the same thing: recorded, not sent twice.
        (
            "resolution-75-lead",
            json!({"kind": "hierarchical", "trigger": {"on": "sla", "clock": "resolution", "percent": 75},
                                      "priorities": [1], "channels": ["ops-lead-mail"]}),
        ),
    ] {
        let r = rule(name, body).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text());
    }
    let bad = rule(
        "x",
        json!({"kind": "hierarchical", "trigger": {"on": "sla", "clock": "response", "percent": 80},
                              "channels": ["nowhere"]}),
    )
    .await;
    let text = bad.text();
    assert!(text.contains("trigger.percent") && text.contains("no notification channel `nowhere`"), "{text}");
    let bad = rule("x", json!({"kind": "functional", "trigger": {"on": "whenever"}})).await;
    assert!(bad.status == StatusCode::UNPROCESSABLE_ENTITY && bad.text().contains("trigger"), "{}", bad.text());

    // 08:00 — a P1 on the core switch (critical policy: respond in 10 minutes, resolve in 2 hours).
    let opened = h
        .json(
            Method::POST,
            "/api/v1/incidents",
            &eng,
            json!({"short_description": "pn-core-sw1 down",
            "caller": "Control room", "category": "network", "item": "pn-core-sw1", "impact": "high", "urgency": "high",
            "assignment_group": "Service desk"}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.text());
    assert!(chat.posted("/teams/s3cr3t-teams").is_empty(), "opening queues; it does not wait on delivery");
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!(round.delivery.sent, 2, "{round:?}");
    let teams = chat.posted("/teams/s3cr3t-teams");
    let card = &teams[0]["attachments"][0]["content"];
    assert_eq!(card["body"][0]["text"], "INC0000001 opened at P1: pn-core-sw1 down");
    assert_eq!(card["actions"][0]["url"], "https://wk.plant.example/incidents/INC0000001");
    let mm = chat.posted("/hooks/s3cr3t-mm");
    assert_eq!(
        (mm[0]["username"].as_str(), mm[0]["text"].as_str()),
        (Some("Watchkeeper"), Some("INC0000001 opened at P1: pn-core-sw1 down"))
    );

    // 08:11 — nobody took it: the response target has passed and L3 gets it.
    h.advance(11 * MIN);
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!(round.escalations, [("INC0000001".to_owned(), "response-breach-to-l3".to_owned())]);
    let i = h.get("/api/v1/incidents/INC0000001", &eng).await.json();
    assert_eq!((i["assignment_group"].as_str(), &i["assignee"]), (Some("L3 network"), &Value::Null));
    let escalations: Vec<&str> = i["journal"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "escalation")
        .map(|j| j["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        escalations,
        [
            "Escalated by rule p1-opened: opened at P1; told noc-teams, noc-mattermost",
            "Escalated by rule response-breach-to-l3: P1 response breached; handed to L3 network"
        ]
    );

    // 08:42 — half an hour without an update since the hand-over: the chat room hears of it, once.
    h.advance(31 * MIN);
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!(round.escalations, [("INC0000001".to_owned(), "quiet-p1".to_owned())]);
    assert!(chat.posted("/hooks/s3cr3t-mm")[1]["text"].as_str().unwrap().contains("no update for 31 minutes"));
    assert!(h.app.desk_round(&courier).await.unwrap().escalations.is_empty());

    // 09:30 — 75 % of the resolution target: the lead is mailed (once, though two rules say
    // so); the Slack hook is down, and the incident is worked on regardless.
    h.advance(48 * MIN);
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!(round.escalations.len(), 2, "{round:?}");
    assert_eq!((round.delivery.sent, round.delivery.retrying), (1, 1), "{round:?}");
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1, "{mail:?}");
    let m = &mail[0];
    assert!(m.contains("Subject: INC0000001 P1 resolution at 75 % of its target: pn-core-sw1 down"), "{m}");
    assert!(m.contains("ops-lead@plant.example") && m.contains("duty-manager@plant.example"), "{m}");
    assert!(m.contains("https://wk.plant.example/incidents/INC0000001"), "{m}");
    let note = h
        .json(
            Method::POST,
            "/api/v1/incidents/INC0000001/notes",
            &eng,
            json!({"text": "Supervisor module reseated", "visible": false}),
        )
        .await;
    assert_eq!(note.status, StatusCode::OK, "a dead notification target holds nothing up");

    // The hook stays down for the first retry (30 s later), then it is pointed at a live server.
    h.advance(MIN / 2);
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!(round.delivery.retrying, 1, "{round:?}");
    assert_eq!(
        put("plant-slack", json!({"kind": "slack", "target": chat_url("/hooks/s3cr3t-slack")})).await.status,
        StatusCode::OK
    );
    h.advance(MIN / 2);
    assert_eq!(h.app.desk_round(&courier).await.unwrap().delivery.sent, 0, "the second retry waits a minute");
    h.advance(MIN / 2);
    assert_eq!(h.app.desk_round(&courier).await.unwrap().delivery.sent, 1);
    let slack = chat.posted("/hooks/s3cr3t-slack");
    assert_eq!(slack[0]["attachments"][0]["color"], "#ef8f00");

    let sent = h.get("/api/v1/notifications?subject=INC0000001", &eng).await.json();
    let by_channel =
        |c: &str| -> Vec<&Value> { sent.as_array().unwrap().iter().filter(|n| n["channel"] == c).collect() };
    let slack = by_channel("plant-slack");
    assert_eq!(slack[0]["state"], "sent");
    let oks: Vec<bool> = slack[0]["attempts"].as_array().unwrap().iter().map(|a| a["ok"].as_bool().unwrap()).collect();
    assert_eq!(oks, [false, false, true], "{sent}");
    assert!(slack[0]["attempts"][0]["detail"].as_str().unwrap().starts_with("cannot reach the webhook"));
    assert!(!sent.to_string().contains("s3cr3t"), "{sent}");
    let mail: Vec<&str> = by_channel("ops-lead-mail").iter().map(|n| n["state"].as_str().unwrap()).collect();
    assert_eq!(mail, ["suppressed", "sent"], "newest first: the second rule's copy was suppressed");

    // Every escalation is audited, as the system did it.
    let audit = h.get("/api/v1/audit?action=incident.escalate", &admin).await.json();
    assert_eq!(audit["total"], 5, "{audit}");
    assert_eq!(audit["items"][0]["actor"], "system");
}

async fn a_channel_over_its_hourly_rate_waits_and_loses_nothing(backend: Backend) {
    let (chat, chat_port) = Receiver::start().await;
    let h = Harness::new(backend).await;
    let courier = notify::Courier::new(None, Duration::from_secs(2)).unwrap();
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Write]).await);
    let target = format!("http://127.0.0.1:{chat_port}/hooks/noc");
    let r = h
        .json(
            Method::PUT,
            "/api/v1/notification-channels/noc",
            &admin,
            json!({"kind": "mattermost", "target": target, "rate_per_hour": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = h
        .json(
            Method::PUT,
            "/api/v1/escalation-rules/opened",
            &admin,
            json!({"kind": "hierarchical", "trigger": {"on": "opened"}, "channels": ["noc"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for what in ["pn-fw1 failover loop", "pn-core-sw1 fan failure"] {
        let r = h
            .json(
                Method::POST,
                "/api/v1/incidents",
                &admin,
                json!({"short_description": what, "caller": "NOC",
                "category": "network", "impact": "medium", "urgency": "medium"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!((round.delivery.sent, round.delivery.deferred), (1, 1), "{round:?}");
    let queued = h.get("/api/v1/notifications?subject=INC0000002", &admin).await.json();
    assert_eq!(
        (queued[0]["state"].as_str(), queued[0]["next_attempt_at"].as_str()),
        (Some("pending"), Some("2027-01-15T09:00:00Z"))
    );
    assert!(queued[0]["last_result"].as_str().unwrap().contains("rate"), "{queued}");
    h.advance(60 * MIN);
    assert_eq!(h.app.desk_round(&courier).await.unwrap().delivery.sent, 1);
    let texts: Vec<String> = chat.posted("/hooks/noc").iter().map(|b| b["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        texts,
        ["INC0000001 opened at P3: pn-fw1 failover loop", "INC0000002 opened at P3: pn-core-sw1 fan failure"]
    );
    // A test notification goes out on demand, whoever else was told what.
    let test = h.json(Method::POST, "/api/v1/notification-channels/noc/test", &admin, json!({})).await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.text());
}

fn smtp_settings(smtp: &SmtpSink) -> Settings {
    Settings {
        public_url: Some("https://wk.plant.example".into()),
        smtp: Some(notify::Smtp {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: notify::SmtpSecurity::None,
            from: "Watchkeeper <watchkeeper@plant.example>".into(),
            username: None,
            password: None,
        }),
        ..Settings::default()
    }
}

async fn the_on_call_engineer_is_paged_and_the_chain_steps_up_until_acknowledged(backend: Backend) {
    let smtp = SmtpSink::start().await;
    let h = Harness::with_settings(backend, smtp_settings(&smtp)).await;
    let courier = notify::Courier::new(h.app.settings().smtp.clone(), Duration::from_secs(2)).unwrap();
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin, Scope::Read, Scope::Write]).await);
    let eng = Auth::Bearer(h.token("engineer", &[Scope::Write, Scope::Read]).await);
    let op = Auth::Bearer(h.token("operator", &[Scope::Write, Scope::Read]).await);

    // People say where pages reach them; the operator has not yet.
    for (who, auth) in [("engineer", &eng), ("ops-lead", &admin)] {
        let r = h
            .json(
                Method::PUT,
                &format!("/api/v1/users/{who}/contact"),
                auth,
                json!({"email": format!("{who}@plant.example")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }
    let r = h.json(Method::PUT, "/api/v1/users/ops-lead/contact", &eng, json!({"email": "x@plant.example"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only administrators set someone else's");

    // A weekly rotation of the engineer and the operator, from Monday 11 January 09:00 London.
    let schedule = json!({"time_zone": "Europe/London", "layers": [{"name": "weekly", "members": ["engineer", "operator"],
                          "start": "2027-01-11T09:00", "shift": "1w"}]});
    let r = h.json(Method::PUT, "/api/v1/oncall-schedules/L3%20network", &admin, schedule.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut bad = schedule.clone();
    bad["layers"][0]["members"] = json!(["engineer", "nobody"]);
    bad["layers"][0]["shift"] = json!("fortnightly");
    let r = h.json(Method::PUT, "/api/v1/oncall-schedules/L3%20network", &admin, bad).await;
    assert!(r.text().contains("layers[0].members") && r.text().contains("layers[0].shift"), "{}", r.text());
    // The operator covers two hours this afternoon: any engineer may record that.
    let r = h
        .json(
            Method::POST,
            "/api/v1/oncall-schedules/L3%20network/overrides",
            &eng,
            json!({"start": "2027-01-15T12:00", "end": "2027-01-15T14:00", "who": "operator"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let now = h.get("/api/v1/oncall-schedules", &op).await.json();
    assert_eq!(
        (now[0]["on_call"].as_str(), now[0]["until"].as_str()),
        (Some("engineer"), Some("2027-01-15T12:00:00Z"))
    );
    let shifts =
        h.get("/api/v1/oncall-schedules/L3%20network/shifts?from=2027-01-15T00:00:00Z&days=7", &op).await.json();
    let hands: Vec<(&str, &str)> =
        shifts.as_array().unwrap().iter().map(|s| (s["from"].as_str().unwrap(), s["who"].as_str().unwrap())).collect();
    assert_eq!(
        hands,
        [
            ("2027-01-15T00:00:00Z", "engineer"),
            ("2027-01-15T12:00:00Z", "operator"),
            ("2027-01-15T14:00:00Z", "engineer"),
            ("2027-01-18T09:00:00Z", "operator")
        ]
    );

    // The chain: the on-call engineer at once, the operations lead a quarter of an hour later.
    let chain = json!({"steps": [{"after_minutes": 0, "targets": ["oncall:L3 network"]},
                                 {"after_minutes": 15, "targets": ["user:ops-lead"]}]});
    let r = h.json(Method::PUT, "/api/v1/escalation-chains/network", &admin, chain).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = h
        .json(
            Method::PUT,
            "/api/v1/escalation-chains/x",
            &admin,
            json!({"steps": [{"after_minutes": 0, "targets": ["pager:42"]}]}),
        )
        .await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("oncall:SCHEDULE"), "{}", r.text());
    let rule = json!({"kind": "hierarchical", "trigger": {"on": "opened"}, "priorities": [1], "page": "network"});
    assert_eq!(h.json(Method::PUT, "/api/v1/escalation-rules/p1-page", &admin, rule).await.status, StatusCode::OK);
    let r = h
        .json(
            Method::PUT,
            "/api/v1/escalation-rules/x",
            &admin,
            json!({"kind": "hierarchical", "trigger": {"on": "opened"}, "page": "nope"}),
        )
        .await;
    assert!(r.text().contains("no escalation chain `nope`"), "{}", r.text());

    let open = |what: &'static str| {
        h.json(
            Method::POST,
            "/api/v1/incidents",
            &op,
            json!({"short_description": what, "caller": "Control room",
            "category": "network", "item": "pn-core-sw1", "impact": "high", "urgency": "high"}),
        )
    };
    // 08:00 — nobody answers: the engineer, then the lead.
    assert_eq!(open("pn-core-sw1 down").await.status, StatusCode::CREATED);
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!(round.pages, [("INC0000001".to_owned(), "engineer, on call for L3 network".to_owned())]);
    h.advance(15 * MIN);
    let round = h.app.desk_round(&courier).await.unwrap();
    assert_eq!(round.pages, [("INC0000001".to_owned(), "ops-lead".to_owned())]);
    h.advance(15 * MIN);
    assert!(h.app.desk_round(&courier).await.unwrap().pages.is_empty(), "the chain has run out");
    let mail = smtp.messages();
    assert_eq!(mail.len(), 2);
    assert!(
        mail.iter()
            .any(|m| m.contains("To: engineer@plant.example")
                && m.contains("Subject: PAGE INC0000001 P1: pn-core-sw1 down")),
        "{mail:?}"
    );
    assert!(mail.iter().any(|m| m.contains("To: ops-lead@plant.example")), "{mail:?}");

    // 08:30 — the engineer acknowledges: the lead is not woken.
    assert_eq!(open("pn-fw1 failover loop").await.status, StatusCode::CREATED);
    assert_eq!(h.app.desk_round(&courier).await.unwrap().pages.len(), 1);
    let ack = h.json(Method::POST, "/api/v1/incidents/INC0000002/acknowledge", &eng, json!({})).await;
    assert_eq!(ack.status, StatusCode::NO_CONTENT, "{}", ack.text());
    let again = h.json(Method::POST, "/api/v1/incidents/INC0000002/acknowledge", &eng, json!({})).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "nothing left to acknowledge");
    h.advance(20 * MIN);
    assert!(h.app.desk_round(&courier).await.unwrap().pages.is_empty());
    let pages = h.get("/api/v1/incidents/INC0000002/pages", &op).await.json();
    assert_eq!((pages[0]["acknowledged_by"].as_str(), pages[0]["steps_sent"].as_i64()), (Some("engineer"), Some(1)));

    // 12:30 — the operator covers but has no address: the timeline says so and the chain goes on.
    h.advance(3 * 60 * MIN + 40 * MIN);
    assert_eq!(open("pn-core-sw2 down").await.status, StatusCode::CREATED);
    assert!(h.app.desk_round(&courier).await.unwrap().pages.is_empty());
    h.advance(15 * MIN);
    assert_eq!(h.app.desk_round(&courier).await.unwrap().pages, [("INC0000003".to_owned(), "ops-lead".to_owned())]);
    let i = h.get("/api/v1/incidents/INC0000003", &op).await.json();
    let notes: Vec<&str> = i["journal"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "page")
        .map(|j| j["text"].as_str().unwrap())
        .collect();
    assert_eq!(notes, ["Could not page operator, on call for L3 network: no contact address", "Paged ops-lead"]);

    // Taking an incident answers its page.
    assert_eq!(open("pn-core-sw1 flapping").await.status, StatusCode::CREATED);
    h.app.desk_round(&courier).await.unwrap();
    let taken = h.json(Method::POST, "/api/v1/incidents/INC0000004/state", &eng, json!({"state": "in-progress"})).await;
    assert_eq!(taken.status, StatusCode::OK);
    h.advance(15 * MIN);
    assert!(h.app.desk_round(&courier).await.unwrap().pages.is_empty());
    let pages = h.get("/api/v1/incidents/INC0000004/pages", &op).await.json();
    assert_eq!(pages[0]["acknowledged_by"], "engineer");
}

/// The on-call page: everyone who reads incidents sees who is on call and the hand-overs;
/// engineers cover shifts; administrators edit schedules and chains as YAML, all or nothing;
/// an incident that pages shows it, with an Acknowledge button that stops the chain.
async fn the_console_shows_who_is_on_call_and_edits_schedules_as_code(backend: Backend) {
    let h = Harness::new(backend).await;
    let lead = Auth::Session(h.login("ops-lead", app::DEMO_PASSWORD).await);
    let yaml = "schedules:\n- name: L3 network\n  time_zone: Europe/London\n  layers:\n  - name: weekly\n    members: [engineer, operator]\n    start: 2027-01-11T09:00\n    shift: 1w\nchains:\n- name: network\n  steps:\n  - after_minutes: 0\n    targets: ['oncall:L3 network']\n";
    let applied = h.form("/oncall/apply", &lead, &[("yaml", yaml)]).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    assert!(
        applied.text().contains("Applied: schedule L3 network created, chain network created."),
        "{}",
        applied.text()
    );
    let bad = h.form("/oncall/apply", &lead, &[("yaml", &yaml.replace("operator]", "nobody]"))]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text().contains("no account `nobody`") && bad.text().contains("nobody]"),
        "the text is kept to fix: {}",
        bad.text()
    );
    let broken = h.form("/oncall/apply", &lead, &[("yaml", "schedules: [")]).await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);

    let eng = Auth::Session(h.login("engineer", app::DEMO_PASSWORD).await);
    let page = h.get("/oncall", &eng).await.text();
    assert!(page.contains("<strong>engineer</strong> is on call"), "{page}");
    assert!(!page.contains("Schedules and chains as code"), "engineers do not edit schedules");
    let covered = h
        .form(
            "/oncall/overrides",
            &eng,
            &[
                ("schedule", "L3 network"),
                ("who", "operator"),
                ("start", "2027-01-15T07:00"),
                ("end", "2027-01-15T10:00"),
            ],
        )
        .await;
    assert_eq!(covered.status, StatusCode::SEE_OTHER, "{}", covered.text());
    assert!(h.get("/oncall", &eng).await.text().contains("<strong>operator</strong> is on call"));
    let backwards = h
        .form(
            "/oncall/overrides",
            &eng,
            &[
                ("schedule", "L3 network"),
                ("who", "operator"),
                ("start", "2027-01-15T10:00"),
                ("end", "2027-01-15T09:00"),
            ],
        )
        .await;
    assert!(backwards.status == StatusCode::UNPROCESSABLE_ENTITY && backwards.text().contains("after the start"));
    assert_eq!(h.form("/oncall/apply", &eng, &[("yaml", yaml)]).await.status, StatusCode::FORBIDDEN);
    let viewer = Auth::Session(h.login("viewer", app::DEMO_PASSWORD).await);
    let seen = h.get("/oncall", &viewer).await;
    assert!(seen.status == StatusCode::OK && !seen.text().contains("Cover a shift"), "{}", seen.text());

    // A P1 pages the chain; its page offers the acknowledgement.
    let admin = Auth::Bearer(h.token("ops-lead", &[Scope::Admin]).await);
    let rule = json!({"kind": "hierarchical", "trigger": {"on": "opened"}, "priorities": [1], "page": "network"});
    assert_eq!(h.json(Method::PUT, "/api/v1/escalation-rules/p1-page", &admin, rule).await.status, StatusCode::OK);
    let opened = h
        .form(
            "/incidents",
            &eng,
            &[
                ("short_description", "pn-core-sw1 down"),
                ("caller", "Control room"),
                ("category", "network"),
                ("item", "pn-core-sw1"),
                ("impact", "high"),
                ("urgency", "high"),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text());
    let page = h.get("/incidents/INC0000001", &eng).await.text();
    assert!(page.contains("paging since") && page.contains(">Acknowledge</button>"), "{page}");
    let acked = h.form("/incidents/INC0000001/acknowledge", &eng, &[]).await;
    assert_eq!(acked.status, StatusCode::SEE_OTHER, "{}", acked.text());
    let page = h.get("/incidents/INC0000001", &eng).await.text();
    assert!(page.contains("acknowledged by engineer") && !page.contains(">Acknowledge</button>"), "{page}");
}

crate::both_backends!(
    the_console_shows_who_is_on_call_and_edits_schedules_as_code,
    the_on_call_engineer_is_paged_and_the_chain_steps_up_until_acknowledged,
    escalations_page_mail_and_retry_until_delivered,
    a_channel_over_its_hourly_rate_waits_and_loses_nothing,
);
