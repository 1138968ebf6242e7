//! Alertmanager's wire formats in: a `POST /api/v2/alerts` body (what Prometheus and
//! `amtool alert add` send) and the webhook an Alertmanager posts to its receivers (version 4),
//! as [`model::alert::Alert`]s — with Alertmanager's defaults (a zero or missing instant is
//! unset) and its partial acceptance: the valid alerts of a batch are kept and the invalid
//! ones each named by their place in it.

use model::alert::{Alert, LabelSet, Received};
use serde::Deserialize;

/// A batch read: the alerts to store and what was wrong with the others.
#[derive(Debug, Default)]
pub struct Batch {
    pub alerts: Vec<Alert>,
    /// `alert 3: start time must be before end time`, one per refused alert.
    pub errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Postable<'a> {
    labels: LabelSet,
    #[serde(default)]
    annotations: Option<LabelSet>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    // Borrowed from the body unless escaped: times are read, never kept.
    #[serde(default, borrow, rename = "startsAt")]
    starts_at: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow, rename = "endsAt")]
    ends_at: Option<std::borrow::Cow<'a, str>>,
}

/// An instant as Go writes it; Go's zero time (`0001-01-01T00:00:00Z`, what amtool sends for
/// "not given") and an empty string are unset.
fn instant(raw: Option<&str>) -> Result<Option<i64>, String> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    let t: jiff::Timestamp = raw.parse().map_err(|e| format!("`{raw}` is not an RFC 3339 time: {e}"))?;
    // Go's zero time, and anything before the epoch a real sender would not mean.
    if t.as_second() <= 0 {
        return Ok(None);
    }
    Ok(Some(t.as_millisecond()))
}

/// Reads a `POST /api/v2/alerts` body. A body that is not a JSON array of alerts is refused
/// whole (`Err`); otherwise each alert is kept or refused on its own.
pub fn decode_alerts(body: &[u8], r: Received) -> Result<Batch, String> {
    // The common case reads in one pass; only a batch with a malformed alert is read again,
    // alert by alert, to keep the others.
    let values: Vec<serde_json::Value>;
    let postables: Vec<std::result::Result<Postable, String>> = match serde_json::from_slice::<Vec<Postable>>(body) {
        Ok(all) => all.into_iter().map(Ok).collect(),
        Err(_) => {
            values = serde_json::from_slice(body).map_err(|e| format!("parsing alerts body failed: {e}"))?;
            values.iter().map(|v| Postable::deserialize(v).map_err(|e| e.to_string())).collect()
        }
    };
    let mut batch = Batch { alerts: Vec::with_capacity(postables.len()), errors: Vec::new() };
    for (i, p) in postables.into_iter().enumerate() {
        let read = p.and_then(|p| {
            let starts = instant(p.starts_at.as_deref())?;
            let ends = instant(p.ends_at.as_deref())?;
            Alert::received(
                p.labels,
                p.annotations.unwrap_or_default(),
                p.generator_url.unwrap_or_default(),
                starts,
                ends,
                r,
            )
        });
        match read {
            Ok(a) => batch.alerts.push(a),
            Err(e) => batch.errors.push(format!("alert {i}: {e}")),
        }
    }
    Ok(batch)
}

#[derive(Debug, Deserialize)]
struct Webhook {
    version: String,
    #[serde(default)]
    alerts: Vec<WebhookAlert>,
}

#[derive(Debug, Deserialize)]
struct WebhookAlert {
    status: String,
    labels: LabelSet,
    #[serde(default)]
    annotations: LabelSet,
    #[serde(default, rename = "startsAt")]
    starts_at: Option<String>,
    #[serde(default, rename = "endsAt")]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
}

/// Reads the webhook an Alertmanager sends (version 4). A firing alert there carries no end:
/// it stays firing until the Alertmanager says it resolved (it re-sends only at its repeat
/// interval, hours apart, so a resolve timeout would end it early).
pub fn decode_webhook(body: &[u8], r: Received) -> Result<Batch, String> {
    let hook: Webhook = serde_json::from_slice(body).map_err(|e| format!("parsing webhook body failed: {e}"))?;
    if hook.version != "4" {
        return Err(format!("webhook version {:?}: only version \"4\" is understood", hook.version));
    }
    let mut batch = Batch::default();
    for (i, a) in hook.alerts.into_iter().enumerate() {
        let read = (|| {
            let starts = instant(a.starts_at.as_deref())?;
            let ends = match a.status.as_str() {
                "firing" => Some(i64::MAX),
                "resolved" => Some(instant(a.ends_at.as_deref())?.unwrap_or(r.now)),
                other => return Err(format!("status {other:?}: firing or resolved")),
            };
            Alert::received(a.labels, a.annotations, a.generator_url, starts, ends, r)
        })();
        match read {
            Ok(a) => batch.alerts.push(a),
            Err(e) => batch.errors.push(format!("alert {i}: {e}")),
        }
    }
    Ok(batch)
}

/// The fuzz target `alerts`: any bytes as an alert batch and as a webhook, without a panic;
/// every alert that comes out passes Alertmanager's checks. Also replayed over the seeds in
/// `cargo test`.
pub fn fuzz_one(data: &[u8]) {
    let r = Received { now: 1_800_000_000_000, resolve_timeout_ms: model::alert::RESOLVE_TIMEOUT_MS };
    for batch in [decode_alerts(data, r), decode_webhook(data, r)].into_iter().flatten() {
        for a in batch.alerts {
            assert!(a.validate().is_ok() && !a.labels.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::alert::{RESOLVE_TIMEOUT_MS, fingerprint_hex};

    const R: Received = Received { now: 1_800_000_000_000, resolve_timeout_ms: RESOLVE_TIMEOUT_MS };

    #[test]
    fn prometheus_and_amtool_batches_read() {
        // As Prometheus 2.42 sent it (captured).
        let prom = br#"[{"annotations":{"summary":"test 1"},"endsAt":"2026-11-22T07:17:46.168Z","startsAt":"2026-11-22T07:12:45.168Z",
            "generatorURL":"http://vm:9090/graph?g0.expr=vector%281%29\u0026g0.tab=1",
            "labels":{"alertname":"AlwaysFiring","severity":"warning","site":"lab"}}]"#;
        let b = decode_alerts(prom, R).unwrap();
        assert!(b.errors.is_empty());
        let a = &b.alerts[0];
        assert_eq!((a.timeout, a.annotations["summary"].as_str()), (false, "test 1"));
        assert_eq!(a.ends_at - a.starts_at, 301_000);
        assert!(a.generator_url.contains("g0.expr=vector%281%29&g0.tab=1"));
        // amtool alert add: Go's zero times for "not given".
        let amtool = br#"[{"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"0001-01-01T00:00:00.000Z",
            "labels":{"alertname":"LinkDown","instance":"sw1:ge0/1","severity":"critical"}}]"#;
        let a = &decode_alerts(amtool, R).unwrap().alerts[0];
        assert_eq!((a.starts_at, a.ends_at, a.timeout), (R.now, R.now + RESOLVE_TIMEOUT_MS, true));
        assert_eq!(fingerprint_hex(a.fingerprint()), "3df259f48d980152");
    }

    #[test]
    fn a_batch_is_accepted_in_part_and_refused_whole_only_when_unreadable() {
        let mixed = br#"[{"labels":{"alertname":"Mixed"}},{"labels":{}},{"labels":{"a":"b"},"startsAt":"yesterday"},{"nolabels":1}]"#;
        let b = decode_alerts(mixed, R).unwrap();
        assert_eq!(b.alerts.len(), 1);
        assert_eq!(b.errors.len(), 3);
        assert!(b.errors[0].starts_with("alert 1: at least one label pair required"), "{:?}", b.errors);
        assert!(b.errors[1].starts_with("alert 2: `yesterday`"), "{:?}", b.errors);
        assert!(decode_alerts(b"{\"labels\":{}}", R).unwrap_err().starts_with("parsing alerts body failed"));
        assert!(decode_alerts(b"", R).is_err());
    }

    #[test]
    fn webhooks_from_an_alertmanager_read() {
        let hook = br#"{"receiver":"hook","status":"firing",
 "alerts":[{"status":"firing","labels":{"alertname":"LinkDown","instance":"sw1:ge0/1","severity":"critical"},
   "annotations":{"summary":"ge0/1 down"},"startsAt":"2026-11-22T07:11:57Z","endsAt":"0001-01-01T00:00:00Z",
   "generatorURL":"http://127.0.0.1/x","fingerprint":"3df259f48d980152"},
   {"status":"resolved","labels":{"alertname":"HighErr"},"startsAt":"2026-11-22T07:00:00Z","endsAt":"2026-11-22T07:12:14Z"}],
 "groupLabels":{"alertname":"LinkDown"},"commonLabels":{},"commonAnnotations":{"summary":"ge0/1 down"},
 "externalURL":"http://vm:9093","version":"4","groupKey":"{}:{alertname=\"LinkDown\"}","truncatedAlerts":0}"#;
        let b = decode_webhook(hook, R).unwrap();
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        assert_eq!(fingerprint_hex(b.alerts[0].fingerprint()), "3df259f48d980152");
        assert!(!b.alerts[0].resolved(R.now) && !b.alerts[0].timeout);
        assert!(b.alerts[1].resolved(R.now));
        assert!(decode_webhook(br#"{"version":"3","alerts":[]}"#, R).unwrap_err().contains("version"));
    }

    #[test]
    fn the_fuzz_seeds_replay() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/alerts");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            fuzz_one(&std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
        assert!(n >= 2);
    }

    proptest::proptest! {
        /// Any JSON array of objects with string labels decodes without a panic, and every
        /// alert either comes out valid or is named.
        #[test]
        fn every_alert_is_kept_or_named(alerts in proptest::collection::vec(
            (proptest::collection::btree_map("[a-zA-Z_0-9]{0,4}", "[ -~]{0,4}", 0..4), proptest::option::of("[0-9T:.Z-]{0,24}")), 0..6)) {
            let body: Vec<serde_json::Value> = alerts.iter().map(|(labels, starts)| serde_json::json!({"labels": labels, "startsAt": starts})).collect();
            let b = decode_alerts(serde_json::to_string(&body).unwrap().as_bytes(), R).unwrap();
            proptest::prop_assert_eq!(b.alerts.len() + b.errors.len(), alerts.len());
        }
    }
}
