//! `watchkeeper oncall …`: on-call as code — apply a document of schedules and escalation
//! chains (YAML or TOML, kept in version control), export what is stored, and say who is on
//! call now. Every command takes `--json`.

use crate::cli::Ctx;
use anyhow::{Context, Result, bail};
use app::Actor;
use app::oncall::OnCallDoc;
use clap::Subcommand;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum OncallCmd {
    /// Apply schedules and chains from a file (`.yaml`/`.yml` or `.toml`): all are checked
    /// first and nothing is written unless every one is right. Others stay as they are.
    Apply {
        file: PathBuf,
        /// Say what would be created or changed, and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the stored schedules and chains as YAML (what `apply` reads back).
    Export,
    /// Who is on call for each schedule now, and until when.
    Now,
}

/// Reads the document, naming the file and the line of a mistake.
fn read(file: &Path) -> Result<OnCallDoc> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    match file.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => yaml_serde::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display())),
        Some("toml") => toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            anyhow::anyhow!("{}:{}: {}", file.display(), line.unwrap_or(0), e.message())
        }),
        _ => bail!("{}: name the file .yaml, .yml or .toml so its format is clear", file.display()),
    }
}

pub async fn run(ctx: Ctx, cmd: OncallCmd) -> Result<ExitCode> {
    let app = ctx.app().await?;
    let actor = Actor::cli();
    match cmd {
        OncallCmd::Apply { file, dry_run } => {
            let doc = read(&file)?;
            let plan = match app.apply_oncall(&actor, doc, dry_run).await {
                Ok(p) => p,
                Err(app::AppError::Invalid(model::Invalid(errors))) => {
                    let lines: Vec<String> = errors.iter().map(|e| format!("  {}: {}", e.field, e.message)).collect();
                    bail!("{} is not applied; nothing was written:\n{}", file.display(), lines.join("\n"));
                }
                Err(e) => return Err(e.into()),
            };
            if ctx.json {
                println!("{}", json!({"dry_run": dry_run, "plan": plan}));
            } else {
                for p in &plan {
                    let verb = match (p.action, dry_run) {
                        ("same", _) => "unchanged",
                        ("create", true) => "would create",
                        ("create", false) => "created",
                        (_, true) => "would change",
                        (_, false) => "changed",
                    };
                    println!("{} {}: {verb}", p.kind, p.name);
                }
            }
        }
        OncallCmd::Export => {
            let doc = app.export_oncall(&actor).await?;
            if ctx.json {
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                print!("{}", yaml_serde::to_string(&doc)?);
            }
        }
        OncallCmd::Now => {
            let now = app.on_call_now(&actor).await?;
            if ctx.json {
                let rows: Vec<_> = now
                    .iter()
                    .map(|n| json!({"schedule": n.schedule, "who": n.who, "until": n.until.map(server::api::rfc3339)}))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for n in &now {
                    let until = n.until.map(|u| format!(" until {}", server::api::rfc3339(u))).unwrap_or_default();
                    println!("{}: {}{until}", n.schedule, n.who.as_deref().unwrap_or("nobody"));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
