//! Headless Chromium, driven through ChromeDriver's W3C WebDriver protocol, through the real
//! login page: an operator signs in, sees the dashboard, and is refused the admin pages.
//! Screenshots land in `target/screenshots/`.

use crate::{Db, Server, free_port};
use base64::Engine;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(profile: &std::path::Path) -> Driver {
        let port = free_port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) is needed; ./scripts/test installs it");
        let base = format!("http://127.0.0.1:{port}");
        crate::tls_provider();
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1366,900",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let r: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session =
            r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {r}")).to_owned();
        Driver { child, base, session, http }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.http.request(method, url);
        let req = if body.is_null() { req } else { req.json(&body) };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({ "url": url })).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self.cmd(reqwest::Method::POST, "/element", json!({"using": "css selector", "value": css})).await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    /// Types into whatever has the focus (after a shortcut moved it there). WebDriver's
    /// modifier keys stay down to the end of the text, so `"\u{E009}\u{E007}"` is Ctrl+Enter.
    async fn type_active(&self, text: &str) {
        let v = self.cmd(reqwest::Method::GET, "/element/active", Value::Null).await;
        let id = v.as_object().and_then(|o| o.values().next()).and_then(|i| i.as_str()).unwrap_or_default().to_owned();
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{id}/click"), json!({})).await;
    }

    /// Runs a script in the page and returns what it returns.
    async fn execute(&self, script: &str) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", json!({ "script": script, "args": [] })).await
    }

    async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", Value::Null).await.as_str().unwrap_or("").to_owned()
    }

    async fn page_text(&self) -> String {
        let id = self.find("body").await;
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), Value::Null)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    async fn quit(&self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
    }
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("screenshots")
}

async fn wait_for(d: &Driver, what: &str, cond: impl Fn(&str) -> bool) -> String {
    for _ in 0..50 {
        let t = d.page_text().await;
        if cond(&t) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}: {}", d.page_text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_sees_the_dashboard_and_is_refused_admin_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    let d = Driver::start(&tmp.path().join("chromium-profile")).await;

    d.goto(&server.url("/")).await;
    let login = wait_for(&d, "the login page", |t| t.contains("Sign in")).await;
    assert!(login.contains("Demo estate"));
    assert!(d.current_url().await.contains("/login?next=%2F"), "redirected to login");
    d.screenshot("login").await;

    d.type_into("#username", "operator").await;
    d.type_into("#password", "wrong password here").await;
    d.click("button[type=submit]").await;
    wait_for(&d, "the refusal", |t| t.contains("Wrong username or password")).await;

    d.type_into("#password", app::DEMO_PASSWORD).await;
    d.click("button[type=submit]").await;
    let dash = wait_for(&d, "the dashboard", |t| t.contains("Configuration items by class")).await;
    assert!(dash.contains("Operator (L1)") && dash.contains("Northfield Water Treatment Plant"));
    assert!(!dash.contains("Users\n"), "no admin navigation for an operator");
    d.screenshot("dashboard-operator").await;

    d.goto(&server.url("/admin/users")).await;
    let denied = wait_for(&d, "the refusal page", |t| t.contains("Not permitted")).await;
    assert!(denied.contains("user-admin"));
    d.screenshot("admin-refused-operator").await;

    d.goto(&server.url("/cmdb?class=firewall")).await;
    wait_for(&d, "the CMDB", |t| t.contains("pn-fw1")).await;
    d.click("[data-action=theme]").await;
    d.screenshot("cmdb-dark").await;
    d.quit().await;
    drop(server);
}

/// The desk in a browser: an operator opens an incident from the console; an engineer takes
/// it, puts it on hold for a vendor and resolves it; the SLA panel is right at each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_opens_an_incident_and_an_engineer_takes_holds_and_resolves_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let server = Server::start(&db, &["--demo"]).unwrap();
    let d = Driver::start(&tmp.path().join("chromium-profile")).await;
    let sign_in = |user: &'static str| {
        let d = &d;
        let server = &server;
        async move {
            d.goto(&server.url("/login")).await;
            wait_for(d, "the login page", |t| t.contains("Sign in")).await;
            d.type_into("#username", user).await;
            d.type_into("#password", app::DEMO_PASSWORD).await;
            d.click("button[type=submit]").await;
            wait_for(d, "the dashboard", |t| t.contains("Configuration items by class")).await;
        }
    };

    sign_in("operator").await;
    let dash = d.page_text().await;
    assert!(dash.to_lowercase().contains("open incidents\n3") && dash.contains("P2 1 · P3 1 · P4 1"), "{dash}");
    d.click("nav a[href='/incidents']").await;
    // The demo desk has three incidents at work already.
    let queue = wait_for(&d, "the queue", |t| t.contains("Open an incident")).await;
    assert!(
        queue.contains("Uplink between pn-core-sw1 and pn-core-sw2 flapping") && queue.contains("on-hold"),
        "{queue}"
    );
    d.type_into("#n-short", "Cell network in plant north unreachable").await;
    d.type_into("#n-caller", "Control room").await;
    d.click("#n-category option[value=network]").await;
    d.type_into("#n-item", "pn-core-sw1").await;
    d.click("#n-impact option[value=high]").await;
    d.click("#n-urgency option[value=medium]").await;
    d.click("form[action='/incidents'][method='post'] button").await;
    let page = wait_for(&d, "the new incident", |t| t.contains("INC0000004")).await;
    assert!(page.contains("P2 response running") && page.contains("P2 resolution running"), "{page}");
    d.screenshot("incident-opened").await;
    d.click("form[action='/logout'] button").await;
    wait_for(&d, "the login page", |t| t.contains("Sign in")).await;

    sign_in("engineer").await;
    d.goto(&server.url("/incidents/INC0000004")).await;
    wait_for(&d, "the incident", |t| t.contains("Move it")).await;
    d.click("#m-state option[value='in-progress']").await;
    d.click("form[action$='/state'] button").await;
    let taken = wait_for(&d, "the response met", |t| t.contains("P2 response met")).await;
    assert!(taken.contains("in-progress") && taken.contains("engineer"), "{taken}");

    d.click("#m-state option[value='on-hold']").await;
    d.click("#m-hold option[value='awaiting-vendor']").await;
    d.type_into("#m-comment", "Cisco TAC case 698412").await;
    d.click("form[action$='/state'] button").await;
    let held = wait_for(&d, "the resolution paused", |t| t.contains("P2 resolution paused")).await;
    assert!(held.contains("on-hold (awaiting-vendor)") && !held.contains("due"), "{held}");
    d.screenshot("incident-on-hold").await;

    d.click("#m-state option[value='resolved']").await;
    d.type_into("#m-code", "hardware-replaced").await;
    d.type_into("#m-notes", "Uplink module replaced under RMA").await;
    d.click("form[action$='/state'] button").await;
    let resolved = wait_for(&d, "the resolution met", |t| t.contains("P2 resolution met")).await;
    assert!(resolved.contains("hardware-replaced: Uplink module replaced"), "{resolved}");
    d.screenshot("incident-resolved").await;
    // Keyboard: `n` goes to the note, Ctrl+Enter sends it.
    d.type_into("body", "n").await;
    d.type_active("Control room confirms the cell network is back").await;
    d.type_active("\u{E009}\u{E007}").await;
    wait_for(&d, "the note on the timeline", |t| t.contains("Control room confirms the cell network is back")).await;
    // The live timeline: the lead writes from elsewhere and the open page shows it unreloaded.
    // A mark on the page as drawn: a reload would wipe it.
    d.execute("window.wkDrawn = 'this page'; return true;").await;
    crate::tls_provider();
    let lead = crate::cli_token(&db, "ops-lead", &["write"]);
    let sent = reqwest::Client::new()
        .post(server.url("/api/v1/incidents/INC0000004/notes"))
        .bearer_auth(&lead)
        .json(&serde_json::json!({"text": "Lead: RMA part to be returned by Friday", "visible": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let live =
        wait_for(&d, "the lead's note arriving live", |t| t.contains("Lead: RMA part to be returned by Friday")).await;
    assert!(live.contains("Lead: RMA part to be returned by Friday"), "{live}");
    assert_eq!(d.execute("return window.wkDrawn || null;").await, "this page", "the page was not reloaded");
    // A change the page draws (the assignment here) also asks for a reload.
    assert!(!live.contains("changed since this page was drawn"), "{live}");
    let moved = reqwest::Client::new()
        .post(server.url("/api/v1/incidents/INC0000004/assignment"))
        .bearer_auth(&lead)
        .json(&serde_json::json!({"group": "L3 network", "assignee": "engineer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    wait_for(&d, "the reload asked for", |t| t.contains("The incident changed since this page was drawn")).await;
    d.screenshot("incident-live-timeline").await;

    // A bulk action from the queue: two of the demo's incidents get the same hand-over note.
    d.goto(&server.url("/incidents")).await;
    wait_for(&d, "the queue", |t| t.contains("With the chosen incidents")).await;
    d.click("input[name=n][value=INC0000001]").await;
    d.click("input[name=n][value=INC0000002]").await;
    d.type_into("#b-text", "Night shift hand-over: both watched until 06:00").await;
    d.click("button[name=action][value=note]").await;
    let bulk = wait_for(&d, "the bulk result", |t| t.contains("2 updated")).await;
    assert!(bulk.contains("INC0000001") && bulk.contains("INC0000002"), "{bulk}");
    d.screenshot("queue-bulk-note").await;
    d.goto(&server.url("/incidents/INC0000002")).await;
    wait_for(&d, "the note on the second incident", |t| t.contains("Night shift hand-over: both watched until 06:00"))
        .await;
    d.quit().await;
    drop(server);
}

/// The live event console in a browser: a message util-linux `logger` sends to the syslog
/// listener appears without a reload; paused, new ones are held and counted; a chosen event
/// becomes an incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_console_shows_syslog_live_and_opens_an_incident_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::fresh(false, tmp.path()).await;
    let udp = free_port();
    let config = tmp.path().join("watchkeeper.toml");
    std::fs::write(&config, format!("[intake]\nsyslog_udp = \"127.0.0.1:{udp}\"\n")).unwrap();
    let server = Server::start(&db, &["--config", config.to_str().unwrap(), "--demo"]).unwrap();
    let d = Driver::start(&tmp.path().join("chromium-profile")).await;
    let logger = |text: &str| {
        let out = Command::new("logger")
            .args(["--server", "127.0.0.1", "--port", &udp.to_string(), "--udp", "--rfc3164", "-p", "local7.err"])
            .args(["-t", "IOS", text])
            .output()
            .unwrap_or_else(|e| panic!("logger (util-linux/bsdutils) is needed: {e}"));
        assert!(out.status.success(), "logger: {}", String::from_utf8_lossy(&out.stderr));
    };

    d.goto(&server.url("/login?next=%2Fevents")).await;
    wait_for(&d, "the login page", |t| t.contains("Sign in")).await;
    d.type_into("#username", "ops-lead").await;
    d.type_into("#password", app::DEMO_PASSWORD).await;
    d.click("button[type=submit]").await;
    wait_for(&d, "the event console", |t| t.contains("With the chosen events")).await;
    d.execute("window.wkDrawn = 'this page'; return true;").await;

    logger("%LINK-3-UPDOWN: Interface GigabitEthernet0/9, changed state to down");
    wait_for(&d, "the message arriving live", |t| t.contains("GigabitEthernet0/9, changed state to down")).await;
    assert_eq!(d.execute("return window.wkDrawn || null;").await, "this page", "the page was not reloaded");

    d.click("[data-live-pause]").await;
    logger("%LINK-3-UPDOWN: Interface GigabitEthernet0/10, changed state to down");
    let held = wait_for(&d, "the message held", |t| t.contains("1 new held")).await;
    assert!(!held.contains("GigabitEthernet0/10"), "paused, the row is not drawn");
    d.click("[data-live-pause]").await;
    wait_for(&d, "the held message drawn", |t| t.contains("GigabitEthernet0/10, changed state to down")).await;
    d.screenshot("event-console-live").await;

    // The newest row is the GigabitEthernet0/10 message: it becomes an incident.
    d.click("tbody[data-live] input[name=event]").await;
    d.type_into("#a-short", "Unknown switch at 127.0.0.1 losing ports").await;
    d.click("button[name=action][value=incident]").await;
    let page = wait_for(&d, "the new incident", |t| t.contains("Unknown switch at 127.0.0.1 losing ports")).await;
    assert!(page.contains("GigabitEthernet0/10"), "the event is in its description: {page}");
    assert!(d.current_url().await.contains("/incidents/INC"), "{}", d.current_url().await);
    d.quit().await;
    drop(server);
}
