//! `watchkeeper archive …`: the configuration archive from the shell — store a device's
//! configuration as its item's next version, list and show versions, diff two of them, and
//! collect a directory a backup job writes (what the server does continuously with
//! `--config-watch-dir`). Every command takes `--json`.

use crate::cli::Ctx;
use anyhow::{Context, Result};
use app::Actor;
use app::configs::{Comparison, ConfigWatch, Upload};
use app::policy::Vendor;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use store::ConfigMeta;

#[derive(Debug, Subcommand)]
pub enum ArchiveCmd {
    /// Store a configuration file as the item's next version (nothing is stored when it is
    /// the latest version again). Secrets are removed first.
    Store {
        /// The item: `name`, `site/name` or `#id`.
        item: String,
        file: PathBuf,
        /// The dialect, when detection would be wrong: ios, nxos, iosxr, eos, asa, junos,
        /// iptables, panos, f5.
        #[arg(long)]
        vendor: Option<String>,
        /// Why this version: a change number, "after the maintenance window"…
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The item's stored versions, newest first.
    Versions { item: String },
    /// Print a stored version (the latest by default), secrets removed.
    Show {
        item: String,
        #[arg(long)]
        version: Option<i64>,
    },
    /// What changed between two versions: the lines, and the flows whose decision changes.
    Diff {
        item: String,
        /// The older version (default: the one before `--to`).
        #[arg(long)]
        from: Option<i64>,
        /// The newer version (default: the latest).
        #[arg(long)]
        to: Option<i64>,
    },
    /// Store every file of a directory whose name is an item's name or management address
    /// (as Oxidized or RANCID write them), once. Exits 1 when a file could not be stored.
    Collect { dir: PathBuf },
}

fn meta_json(m: &ConfigMeta) -> serde_json::Value {
    json!({
        "item_id": m.item_id, "item": m.item, "version": m.version, "vendor": m.vendor, "file_name": m.file_name,
        "fingerprint": m.fingerprint, "lines": m.lines, "secrets_removed": m.secrets_removed, "source": m.source,
        "actor": m.actor, "note": m.note, "collected_at": server::api::rfc3339(m.at_ms),
    })
}

fn print(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

pub async fn run(ctx: Ctx, cmd: ArchiveCmd) -> Result<ExitCode> {
    let app = ctx.app().await?;
    let actor = Actor::cli();
    match cmd {
        ArchiveCmd::Store { item, file, vendor, note } => {
            let id = app.resolve_item(&actor, &item).await?.id;
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let vendor = match vendor {
                Some(v) => {
                    Some(Vendor::parse(&v).with_context(|| format!("unknown vendor `{v}`; one of {}", Vendor::NAMES))?)
                }
                None => None,
            };
            let upload = Upload { file_name: file.display().to_string(), bytes, vendor, source: "cli", note };
            let stored = app.store_config(&actor, id, upload).await?;
            if ctx.json {
                let mut v = meta_json(&stored.meta);
                v["created"] = json!(stored.created);
                v["warnings"] = json!(stored.warnings);
                print(&v);
            } else if stored.created {
                let m = &stored.meta;
                println!(
                    "Stored {} version {} ({}, {} lines, {} secrets removed{}).",
                    m.item,
                    m.version,
                    m.vendor,
                    m.lines,
                    m.secrets_removed,
                    if stored.warnings > 0 {
                        format!(", {} unreadable lines kept", stored.warnings)
                    } else {
                        String::new()
                    }
                );
            } else {
                println!(
                    "Unchanged: {} version {} already holds this configuration.",
                    stored.meta.item, stored.meta.version
                );
            }
        }
        ArchiveCmd::Versions { item } => {
            let id = app.resolve_item(&actor, &item).await?.id;
            let versions = app.config_versions(&actor, id).await?;
            if ctx.json {
                print(&json!(versions.iter().map(meta_json).collect::<Vec<_>>()));
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:>7}  {:<20}  {:<8}  {:<18}  {:>6}  NOTE", "VERSION", "COLLECTED", "VENDOR", "BY", "LINES");
            for m in &versions {
                let at = server::api::rfc3339(m.at_ms);
                let by = format!("{} ({})", m.actor, m.source);
                println!("{:>7}  {:<20}  {:<8}  {:<18}  {:>6}  {}", m.version, at, m.vendor, by, m.lines, m.note);
            }
            if versions.is_empty() {
                println!("No configuration stored for {item}.");
            }
        }
        ArchiveCmd::Show { item, version } => {
            let id = app.resolve_item(&actor, &item).await?.id;
            let row = app.config(&actor, id, version).await?;
            if ctx.json {
                let mut v = meta_json(&row.meta);
                v["content"] = json!(row.content);
                print(&v);
            } else {
                print!("{}", row.content);
            }
        }
        ArchiveCmd::Diff { item, from, to } => {
            let id = app.resolve_item(&actor, &item).await?.id;
            let newer = app.config(&actor, id, to).await?.meta.version;
            let from = match from {
                Some(f) => f,
                None if newer > 1 => newer - 1,
                None => anyhow::bail!("{item} has only version 1; there is nothing to compare it with"),
            };
            let c = app.config_diff(&actor, id, from, Some(newer)).await?;
            if ctx.json {
                print(&serde_json::to_value(&c)?);
            } else {
                print_comparison(&c);
            }
        }
        ArchiveCmd::Collect { dir } => {
            let mut watch = ConfigWatch::new(&dir);
            let report = watch.scan(&app, &actor).await?;
            if ctx.json {
                print(&serde_json::to_value(&report)?);
            } else {
                for (file, item, version) in &report.stored {
                    println!("stored    {file} → {item} v{version}");
                }
                for file in &report.unmatched {
                    println!("unmatched {file} (no item has this name or management address)");
                }
                for (file, why) in &report.failed {
                    println!("failed    {file}: {why}");
                }
                println!(
                    "{} stored, {} unchanged, {} unmatched, {} failed.",
                    report.stored.len(),
                    report.unchanged,
                    report.unmatched.len(),
                    report.failed.len()
                );
            }
            return Ok(if report.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_comparison(c: &Comparison) {
    print!("{}", c.lines.unified(&c.old, &c.new));
    if c.secrets_only {
        println!("Only secrets changed (a password, key or community); they are not shown.");
    }
    match (&c.decisions, &c.decisions_error) {
        (Some(d), _) if d.blocks.is_empty() => println!("\nNo flow is decided differently."),
        (Some(d), _) => {
            println!("\nFlows decided differently:");
            for b in &d.blocks {
                let rule = |r: &Option<app::policy::RuleRef>| {
                    r.as_ref().map_or_else(|| "implicit deny".to_owned(), |r| format!("line {} `{}`", r.line, r.rule))
                };
                println!(
                    "  {}: {} → {}  e.g. {}\n    before: {}\n    after:  {}",
                    b.filter,
                    b.old_action,
                    b.new_action,
                    b.witness,
                    rule(&b.old_rule),
                    rule(&b.new_rule)
                );
            }
        }
        (None, Some(e)) => println!("\nThe flows could not be compared: {e}"),
        (None, None) => {}
    }
}
