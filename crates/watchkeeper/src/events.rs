//! `watchkeeper events` and `watchkeeper alarms`: monitoring from a shell. Events as the
//! console's event list shows them, searched the same way (whole words from the index, `word*`
//! for a start, an interface by any spelling), newest first; alarms open (or all) with the
//! incident each fed. `--json` gives the API's fields.

use crate::cli::{Ctx, print_json, rfc3339};
use anyhow::{Result, bail};
use app::Actor;
use clap::Args;
use serde_json::json;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Words the text contains (each a whole word, any case; end one with * for a start).
    pub words: Vec<String>,
    /// Only this kind: interface, bgp.session, firewall.deny, alert, raw…
    #[arg(long)]
    pub kind: Option<String>,
    /// Only events on this item (its name or #id).
    #[arg(long)]
    pub item: Option<String>,
    /// Only events from this address.
    #[arg(long)]
    pub sender: Option<String>,
    /// Only from this source: syslog, snmp-trap, snmp, check, alertmanager, watchkeeper.
    #[arg(long)]
    pub source: Option<String>,
    /// This severity and worse: emergency, alert, critical, error, warning, notice, info, debug.
    #[arg(long)]
    pub severity: Option<String>,
    /// How many, newest first (1 to 1000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub limit: i64,
}

/// `--item`'s id, when one is named.
async fn item_id(app: &app::App, item: Option<&str>) -> Result<Option<i64>> {
    let Some(name) = item else { return Ok(None) };
    match app.item_id_of(name).await? {
        Some(id) => Ok(Some(id)),
        None => bail!("--item {name}: no such item; give its name or #id"),
    }
}

/// A severity number's name (syslog's).
fn severity(n: i64) -> &'static str {
    model::event::SEVERITIES.get(usize::try_from(n).unwrap_or(7)).copied().unwrap_or("debug")
}

pub async fn run(ctx: Ctx, args: EventsArgs) -> Result<ExitCode> {
    let max_severity = match &args.severity {
        None => None,
        Some(name) => match model::event::SEVERITIES.iter().position(|n| n == name) {
            Some(level) => i64::try_from(level).ok(),
            None => bail!(
                "--severity {name} is not a severity: emergency, alert, critical, error, warning, notice, info or debug"
            ),
        },
    };
    let app = ctx.app().await?;
    let item_id = item_id(&app, args.item.as_deref()).await?;
    let filter = store::EventFilter {
        kind: args.kind,
        item_id,
        sender: args.sender,
        words: args.words.iter().flat_map(|w| w.split_whitespace()).map(str::to_owned).collect(),
        max_severity,
        source: args.source,
        limit: args.limit,
        ..store::EventFilter::default()
    };
    let events = app.events(&Actor::cli(), &filter).await?;
    if ctx.json {
        let rows: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "received_at": rfc3339(e.received_at_ms),
                    "occurred_at": e.occurred_at_ms.map(rfc3339),
                    "source": e.source,
                    "sender": e.sender,
                    "host": e.host,
                    "item_id": e.item_id,
                    "kind": e.kind,
                    "object": e.object,
                    "up": e.up,
                    "severity": severity(e.severity),
                    "mnemonic": e.mnemonic,
                    "text": e.text,
                    "fields": serde_json::from_str::<serde_json::Value>(&e.fields).unwrap_or_default(),
                    "alarm_id": e.alarm_id,
                })
            })
            .collect();
        print_json(&serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if events.is_empty() {
        eprintln!("No events match.");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<24}  {:<8}  {:<18}  {:<16}  {:<20}  TEXT", "RECEIVED", "SEVERITY", "FROM", "KIND", "OBJECT");
    for e in &events {
        let from = if e.host.is_empty() { &e.sender } else { &e.host };
        let text: String = e.text.chars().take(120).collect();
        println!(
            "{:<24}  {:<8}  {:<18}  {:<16}  {:<20}  {text}",
            rfc3339(e.received_at_ms),
            severity(e.severity),
            from,
            e.kind,
            if e.object.is_empty() { "-" } else { &e.object }
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct AlarmsArgs {
    /// Cleared alarms too, not only open ones.
    #[arg(long)]
    pub all: bool,
    /// Only alarms on this item (its name or #id).
    #[arg(long)]
    pub item: Option<String>,
    /// How many, most recent first (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub limit: i64,
}

pub async fn alarms(ctx: Ctx, args: AlarmsArgs) -> Result<ExitCode> {
    let app = ctx.app().await?;
    let item_id = item_id(&app, args.item.as_deref()).await?;
    let filter = store::AlarmFilter { open: !args.all, item_id, limit: args.limit, ..store::AlarmFilter::default() };
    let alarms = app.alarms(&Actor::cli(), &filter).await?;
    let state = |open: bool| if open { "open" } else { "cleared" };
    if ctx.json {
        let rows: Vec<serde_json::Value> = alarms
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "key": a.key,
                    "item_id": a.item_id,
                    "source": a.source,
                    "kind": a.kind,
                    "object": a.object,
                    "summary": a.summary,
                    "severity": severity(a.severity),
                    "labels": serde_json::from_str::<serde_json::Value>(&a.labels).unwrap_or_default(),
                    "state": state(a.open),
                    "opened_at": rfc3339(a.opened_at_ms),
                    "last_at": rfc3339(a.last_at_ms),
                    "cleared_at": a.cleared_at_ms.map(rfc3339),
                    "count": a.count,
                    "flapping": a.flapping,
                    "suppressed_by": a.suppressed_by,
                    "silenced_by": Some(&a.silenced_by).filter(|s| !s.is_empty()),
                    "incident": a.incident_number,
                    "acknowledged_by": a.acked_by,
                })
            })
            .collect();
        print_json(&serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if alarms.is_empty() {
        eprintln!("{}", if args.all { "No alarms." } else { "No open alarms." });
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<24}  {:<7}  {:<8}  {:<16}  {:<20}  {:>5}  {:<12}  SUMMARY",
        "OPENED", "STATE", "SEVERITY", "KIND", "OBJECT", "COUNT", "INCIDENT"
    );
    for a in &alarms {
        let flags = [(a.flapping, " [flapping]"), (a.acked_by.is_some(), " [acknowledged]")];
        let flags: String = flags.iter().filter(|(on, _)| *on).map(|(_, f)| *f).collect();
        let summary: String = a.summary.chars().take(100).collect();
        println!(
            "{:<24}  {:<7}  {:<8}  {:<16}  {:<20}  {:>5}  {:<12}  {summary}{flags}",
            rfc3339(a.opened_at_ms),
            state(a.open),
            severity(a.severity),
            a.kind,
            if a.object.is_empty() { "-" } else { &a.object },
            a.count,
            a.incident_number.as_deref().unwrap_or("-"),
        );
    }
    Ok(ExitCode::SUCCESS)
}
