//! `watchkeeper desk …`: migrating in from another desk — incidents and problems from a
//! ServiceNow or Jira Service Management CSV export, with a field mapping, a dry run and an
//! error report by row and field. Exits 1 when the export has mistakes (nothing is written then).

use crate::cli::Ctx;
use anyhow::{Context, Result, bail};
use app::Actor;
use clap::Subcommand;
use exchange::desk::Source;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum DeskCmd {
    /// Import incidents or problems from a CSV export; importing the same export again adds
    /// nothing twice. Import problems before incidents: an incident naming its problem
    /// (ServiceNow's `problem_id`) is linked to it.
    Import {
        file: PathBuf,
        /// servicenow or jsm.
        #[arg(long)]
        from: String,
        /// What the export holds: incidents or problems.
        #[arg(long, default_value = "incidents")]
        kind: String,
        /// Read a field from another column: `--map item=u_affected_ci` (repeatable). Incident
        /// fields: source_ref, short_description, description, caller, category, subcategory,
        /// item, priority, state, assignment_group, assignee, resolution_code, resolution_notes,
        /// opened_at, resolved_at, closed_at, problem. Problem fields: source_ref,
        /// short_description, symptom, root_cause, workaround, fix, state, close_code,
        /// opened_by, opened_at, incidents.
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        /// The time zone the export's times are written in (default UTC).
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Report what would be imported and every mistake; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(ctx: Ctx, cmd: DeskCmd) -> Result<ExitCode> {
    let DeskCmd::Import { file, from, kind, map, time_zone, dry_run } = cmd;
    let Some(source) = Source::parse(&from) else { bail!("--from `{from}`: servicenow or jsm") };
    let problems = match kind.as_str() {
        "incidents" => false,
        "problems" => true,
        _ => bail!("--kind `{kind}`: incidents or problems"),
    };
    let tz = jiff::tz::TimeZone::get(&time_zone)
        .with_context(|| format!("--time-zone `{time_zone}` is not an IANA time zone (Europe/London, UTC…)"))?;
    let mut overrides = Vec::new();
    for m in &map {
        let Some((field, column)) = m.split_once('=') else { bail!("--map `{m}`: FIELD=COLUMN") };
        overrides.push((field.trim().to_owned(), column.trim().to_owned()));
    }
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let app = ctx.app().await?;
    let report = if problems {
        app.import_problems(&Actor::cli(), &name, &bytes, source, &overrides, &tz, dry_run).await?
    } else {
        app.import_incidents(&Actor::cli(), &name, &bytes, source, &overrides, &tz, dry_run).await?
    };
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for e in &report.errors {
            eprintln!("error: {e}");
        }
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
        let verb = if report.dry_run { "would import" } else { "imported" };
        println!(
            "{} rows: {verb} {}, {} imported before, {} with mistakes",
            report.rows,
            report.imported,
            report.already,
            report.errors.len()
        );
    }
    Ok(if report.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
