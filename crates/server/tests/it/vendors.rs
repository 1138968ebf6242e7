//! The vendor register through the API and the risk view: who to call for an item, which
//! kit no live contract covers, which contracts run out, which firmware lags its baseline,
//! and that the register's writes are validated, audited and closed to vendor accounts.

use crate::common::{Auth, Backend, Harness};
use axum::http::{Method, StatusCode};
use model::Scope;
use serde_json::{Value, json};

fn names<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v[key].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect()
}

fn contract_id(list: &Value, reference: &str) -> i64 {
    list["items"].as_array().unwrap().iter().find(|c| c["reference"] == reference).unwrap()["id"].as_i64().unwrap()
}

/// An item as a `PUT` body: its fields as read, without what the server owns.
fn put_body(item: &Value) -> Value {
    let mut b = item.clone();
    for k in ["id", "parent", "created_at_ms", "updated_at_ms"] {
        b.as_object_mut().unwrap().remove(k);
    }
    b
}

async fn item_named(h: &Harness, t: &Auth, name: &str) -> Value {
    let page = h.get(&format!("/api/v1/items?q={name}"), t).await.json();
    page["items"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("no {name}")).clone()
}

async fn the_register_says_who_to_call_and_what_each_contract_covers(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("viewer", &[Scope::Read]).await);

    let vendors = h.get("/api/v1/vendors?kind=carrier", &t).await;
    assert_eq!(vendors.status, StatusCode::OK, "{}", vendors.text());
    let vendors = vendors.json();
    assert_eq!(vendors["total"], 2);
    let bt = &vendors["items"][0];
    assert_eq!((bt["slug"].as_str(), bt["contracts"].as_i64()), (Some("bt"), Some(1)));
    let cisco = h.get("/api/v1/vendors/cisco", &t).await.json();
    let ladder: Vec<i64> = cisco["contacts"].as_array().unwrap().iter().map(|c| c["level"].as_i64().unwrap()).collect();
    assert_eq!(ladder, [1, 2, 3], "the ladder reads first call first");
    assert_eq!(h.get("/api/v1/vendors/no-such-vendor", &t).await.status, StatusCode::NOT_FOUND);

    let all = h.get("/api/v1/contracts?limit=100", &t).await.json();
    assert_eq!(all["total"], 11);
    // The test clock stands at 2027-01-15: Dell's ended, Siemens' ends within 90 days.
    let expired = h.get("/api/v1/contracts?standing=expired", &t).await.json();
    assert_eq!(expired["items"][0]["reference"], "DELL-PS-7781");
    let expiring = h.get("/api/v1/contracts?standing=expiring", &t).await.json();
    assert_eq!(expiring["items"][0]["reference"], "SSA-UK-20211");
    assert_eq!(h.get("/api/v1/contracts?state=expired", &t).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Each item names the contract that covers it, and the list filters by contract.
    let pan = contract_id(&all, "PAN-PREM-99812");
    assert_eq!(item_named(&h, &t, "pn-fw1").await["contract_id"], pan);
    assert_eq!(item_named(&h, &t, "svc-directory").await["contract_id"], Value::Null, "services need no contract");
    let dell = contract_id(&all, "DELL-PS-7781");
    let covered = h.get(&format!("/api/v1/items?contract={dell}&sort=name"), &t).await.json();
    assert_eq!(names(&covered, "items"), ["dc-esx-01", "dc-esx-02", "dc-esx-03", "dc-syslog-01", "pn-historian"]);
    assert_eq!(h.get(&format!("/api/v1/contracts/{dell}"), &t).await.json()["items"], 5);
}

async fn the_risk_view_finds_uncovered_kit_lapsed_contracts_and_old_firmware(backend: Backend) {
    let h = Harness::new(backend).await;
    let t = Auth::Bearer(h.token("engineer", &Scope::ALL).await);
    let r = h.get("/api/v1/risk?within_months=12", &t).await.json();

    let uncovered: Vec<(&str, &str)> = r["without_contract"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["name"].as_str().unwrap(), u["reason"].as_str().unwrap()))
        .collect();
    for (name, reason) in [
        ("ps-fw1", "none"),
        ("pn-ups-1", "none"),
        ("pn-plc-pumps", "none"),
        ("wan-pn-lte", "none"),
        ("pn-historian", "expired"),
    ] {
        assert!(uncovered.contains(&(name, reason)), "{name} {reason} in {uncovered:?}");
    }
    for covered in ["pn-fw1", "dc-core-sw1", "wan-pn-mpls", "pn-plc-filtration"] {
        assert!(!uncovered.iter().any(|(n, _)| *n == covered), "{covered} is covered: {uncovered:?}");
    }
    assert!(!uncovered.iter().any(|(n, _)| n.starts_with("svc-") || n.starts_with("app-")), "{uncovered:?}");
    assert_eq!(r["without_contract"][0]["criticality"], "critical", "most critical first");

    let due: Vec<(&str, bool)> = r["contracts_due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["reference"].as_str().unwrap(), c["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        due,
        [
            ("DELL-PS-7781", true),
            ("SSA-UK-20211", false),
            ("JNPR-CS-552107", false),
            ("CON-SNT-4471902", false),
            ("PAN-PREM-99812", false)
        ]
    );

    let firmware: Vec<(&str, &str)> = r["firmware"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["currency"].as_str().unwrap()))
        .collect();
    assert_eq!(firmware[0], ("pn-cell-sw3", "unsupported"), "V4.5 is below Siemens' minimum V4.6: {firmware:?}");
    for behind in ["pn-fw1", "pn-cell-sw1", "pn-wan-rtr1", "dc-fw1", "dc-edge-rtr1"] {
        assert!(firmware.contains(&(behind, "behind")), "{behind} in {firmware:?}");
    }
    for current in ["pn-core-sw1", "dc-core-sw1", "ps-fw1", "pn-wlc1"] {
        assert!(!firmware.iter().any(|(n, _)| *n == current), "{current} is current: {firmware:?}");
    }

    // Put the FortiGate under a new contract and raise the PAN-OS baseline's floor: the
    // view follows at once.
    let fortinet = h.get("/api/v1/vendors/fortinet", &t).await.json();
    assert_eq!(fortinet["contracts"], 0);
    let c = h
        .json(
            Method::POST,
            "/api/v1/contracts",
            &t,
            json!({"vendor": "fortinet", "reference": "FC-EMEA-0042", "support_level": "24x7x4",
                   "starts_on": "2027-01-01", "ends_on": "2029-12-31"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text());
    let c = c.json();
    assert_eq!(c["standing"], "active");
    let fw = item_named(&h, &t, "ps-fw1").await;
    let mut body = put_body(&fw);
    body["contract_id"] = c["id"].clone();
    let put = h.json(Method::PUT, &format!("/api/v1/items/{}", fw["id"]), &t, body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let history = h.get(&format!("/api/v1/items/{}/history", fw["id"]), &t).await.json();
    assert_eq!(history.as_array().unwrap().last().unwrap()["item"]["contract_id"], c["id"], "the history keeps it");

    let baselines = h.get("/api/v1/firmware-baselines", &t).await.json();
    let pan = baselines.as_array().unwrap().iter().find(|b| b["vendor"] == "Palo Alto Networks").unwrap();
    let raise = json!({"vendor": "Palo Alto Networks", "recommended": "PAN-OS 11.1.6", "minimum": "PAN-OS 11.1.5"});
    let put = h.json(Method::PUT, &format!("/api/v1/firmware-baselines/{}", pan["id"]), &t, raise).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());

    let after = h.get("/api/v1/risk", &t).await.json();
    let uncovered = names(&after, "without_contract");
    assert!(!uncovered.contains(&"ps-fw1"), "{uncovered:?}");
    let fw1 = after["firmware"].as_array().unwrap().iter().find(|f| f["name"] == "pn-fw1").unwrap();
    assert_eq!(fw1["currency"], "unsupported");
}

async fn register_writes_are_validated_audited_and_closed_to_vendor_accounts(backend: Backend) {
    let h = Harness::new(backend).await;
    let eng = Auth::Bearer(h.token("engineer", &Scope::ALL).await);

    let bad = h
        .json(
            Method::POST,
            "/api/v1/vendors",
            &eng,
            json!({"slug": "Acme Ltd", "name": "Acme", "kind": "friend",
                   "contacts": [{"name": "Desk", "level": 1}, {"name": "Boss", "phone": "1", "level": 7}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text());
    let fields: Vec<String> =
        bad.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["slug", "kind", "contacts[0]", "contacts[1].level"]);
    let unknown = h
        .json(Method::POST, "/api/v1/vendors", &eng, json!({"slug": "a", "name": "A", "kind": "oem", "fax": "1"}))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text().contains("fax"), "{}", unknown.text());

    let acme = json!({"slug": "acme", "name": "Acme Controls", "kind": "integrator", "phone": "+44 1632 960000",
                      "contacts": [{"name": "Night desk", "phone": "+44 1632 960001", "level": 1}]});
    let made = h.json(Method::POST, "/api/v1/vendors", &eng, acme.clone()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let again = h.json(Method::POST, "/api/v1/vendors", &eng, acme).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.json()["errors"][0]["field"], "slug");

    let backwards = json!({"vendor": "acme", "reference": "AC-1", "starts_on": "2027-06-01", "ends_on": "2027-01-01"});
    let r = h.json(Method::POST, "/api/v1/contracts", &eng, backwards).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "ends_on");
    let nowhere = h.json(Method::POST, "/api/v1/contracts", &eng, json!({"vendor": "nobody", "reference": "X"})).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    let c =
        h.json(Method::POST, "/api/v1/contracts", &eng, json!({"vendor": "acme", "reference": "AC-1"})).await.json();
    let moved = h
        .json(
            Method::PUT,
            &format!("/api/v1/contracts/{}", c["id"]),
            &eng,
            json!({"vendor": "cisco", "reference": "AC-1"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(moved.json()["errors"][0]["field"], "vendor");

    // Nothing that is still relied on can be deleted.
    let cisco_has_contracts = h.json(Method::DELETE, "/api/v1/vendors/cisco", &eng, json!(null)).await;
    assert_eq!(cisco_has_contracts.status, StatusCode::CONFLICT, "{}", cisco_has_contracts.text());
    let contracts = h.get("/api/v1/contracts?vendor=cisco", &eng).await.json();
    let cisco_contract = contracts["items"][0]["id"].as_i64().unwrap();
    let in_use = h.json(Method::DELETE, &format!("/api/v1/contracts/{cisco_contract}"), &eng, json!(null)).await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert!(in_use.text().contains("covers"), "{}", in_use.text());
    let gone = h.json(Method::DELETE, &format!("/api/v1/contracts/{}", c["id"]), &eng, json!(null)).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(h.json(Method::DELETE, "/api/v1/vendors/acme", &eng, json!(null)).await.status, StatusCode::NO_CONTENT);

    let auditor = Auth::Bearer(h.token("auditor", &[Scope::Audit]).await);
    let log = h.get("/api/v1/audit?target_type=vendor&sort=seq", &auditor).await.json();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["vendor.create", "vendor.delete"]);
    let contract_log = h.get("/api/v1/audit?target_type=contract&sort=seq", &auditor).await.json();
    assert_eq!(contract_log["total"], 2, "create and delete; refused changes leave no record");

    // Read-only roles cannot write; vendor accounts scoped to a site cannot see the register.
    let viewer = Auth::Bearer(h.token("viewer", &Scope::ALL).await);
    let r = h.json(Method::POST, "/api/v1/vendors", &viewer, json!({"slug": "v", "name": "V", "kind": "oem"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let siemens = Auth::Bearer(h.token("vendor-siemens", &Scope::ALL).await);
    for path in ["/api/v1/vendors", "/api/v1/contracts", "/api/v1/vendors/siemens"] {
        assert_eq!(h.get(path, &siemens).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let risk = h.get("/api/v1/risk", &siemens).await.json();
    assert_eq!(risk["without_contract"], json!([]), "no contract detail for vendor accounts");
    // Their edits to their own kit keep the contract they cannot see.
    let plc = item_named(&h, &siemens, "pn-plc-filtration").await;
    let mut body = put_body(&plc);
    body["os_version"] = json!("V3.1.2");
    body["contract_id"] = Value::Null;
    let put = h.json(Method::PUT, &format!("/api/v1/items/{}", plc["id"]), &siemens, body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(put.json()["contract_id"], plc["contract_id"]);
    assert!(plc["contract_id"].is_i64());
}

async fn the_console_shows_the_register_support_cover_and_item_facets(backend: Backend) {
    let h = Harness::new(backend).await;
    let op = Auth::Session(h.login("operator", app::DEMO_PASSWORD).await);
    let list = h.get("/cmdb/vendors", &op).await;
    assert_eq!(list.status, StatusCode::OK);
    let html = list.text();
    assert!(html.contains("Cisco Systems") && html.contains("DELL-PS-7781") && html.contains(">expired<"), "{html}");
    assert!(html.contains("Firmware baselines") && html.contains("PAN-OS 11.1.6"));
    let cisco = h.get("/cmdb/vendors/cisco", &op).await.text();
    let at = |s: &str| cisco.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at("Cisco TAC") < at("Priya Shah") && at("Priya Shah") < at("EMEA duty manager"), "ladder in order");
    assert!(cisco.contains("CON-SNT-4471902"));
    assert_eq!(h.get("/cmdb/vendors/nobody", &op).await.status, StatusCode::NOT_FOUND);

    let fw = item_named(&h, &op, "pn-fw1").await["id"].as_i64().unwrap();
    let item = h.get(&format!("/cmdb/items/{fw}"), &op).await.text();
    assert!(item.contains("Support contract") && item.contains("PAN-PREM-99812") && item.contains("+44 808 234 7188"));

    // Facets count under the other filters: within plant-north, five switches; the site
    // facet still offers the other sites.
    let faceted = h.get("/cmdb?site=plant-north", &op).await.text();
    assert!(faceted.contains("<span>switch</span><span class=\"count\">5</span>"), "{faceted}");
    assert!(faceted.contains("<span>dc-east</span>") && faceted.contains("class=\"on\""), "{faceted}");
    assert!(faceted.contains("site: plant-north ✕"), "the active filter can be dropped");
    let narrowed = h.get("/cmdb?site=plant-north&class=switch&vendor=Siemens", &op).await.text();
    assert!(narrowed.contains("pn-cell-sw3") && !narrowed.contains("pn-core-sw1</strong>"), "{narrowed}");

    let vendor = Auth::Session(h.login("vendor-siemens", app::DEMO_PASSWORD).await);
    let dash = h.get("/", &vendor).await.text();
    assert!(!dash.contains("href=\"/cmdb/vendors\""), "no register link for a vendor account");
    assert_eq!(h.get("/cmdb/vendors", &vendor).await.status, StatusCode::FORBIDDEN);
}

crate::both_backends!(
    the_console_shows_the_register_support_cover_and_item_facets,
    the_register_says_who_to_call_and_what_each_contract_covers,
    the_risk_view_finds_uncovered_kit_lapsed_contracts_and_old_firmware,
    register_writes_are_validated_audited_and_closed_to_vendor_accounts,
);
