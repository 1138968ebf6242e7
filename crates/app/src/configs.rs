//! The configuration archive: each CMDB item's device configurations, version by version
//! (as Oxidized and RANCID keep them), stored from an upload, the API, the CLI or a watched
//! directory, with secrets removed before anything is written; and the analyses that read
//! them — findings, flow match, and the comparison of two versions (line diff and the flows
//! whose decision changes) that change review calls through [`App::review_config`].

use crate::audit::event;
use crate::policy::{
    self as analyse, CheckReport, Config, DiffReport, FilterChoice, FlowQuery, MatchView, PolicyError, Vendor,
};
use crate::{Actor, App, AppError, Result};
use model::{Invalid, Perm};
use policy::archive;
pub use policy::archive::{LineChange, LineDiff};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use store::{ConfigMeta, ConfigRow, ItemRow, NewConfig};

/// The largest configuration the archive takes (a 100k-line firewall is about 6 MiB).
pub const MAX_CONFIG_BYTES: usize = 32 * 1024 * 1024;

/// Lines of context around each change in a line diff.
pub const DIFF_CONTEXT: usize = 3;

/// A configuration as it arrives.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name it came in as (a file name, or the device's name).
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// The dialect, when the sender knows better than detection.
    pub vendor: Option<Vendor>,
    /// upload, api, watch, cli
    pub source: &'static str,
    pub note: String,
}

/// What storing a configuration did.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The version now latest: the new one, or the one the upload repeated.
    pub meta: ConfigMeta,
    /// Whether a new version was made (an unchanged configuration makes none).
    pub created: bool,
    /// Lines the analyses could not read (kept in the stored text).
    pub warnings: usize,
}

/// Two versions of a configuration compared: what a reviewer reads before approving.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub old: String,
    pub new: String,
    pub lines: LineDiff,
    /// The fingerprints differ but the redacted texts do not: only secrets changed.
    pub secrets_only: bool,
    /// The flows whose decision changes, filter by filter; `None` with a reason when a
    /// version cannot be analysed.
    pub decisions: Option<DiffReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions_error: Option<String>,
}

impl From<PolicyError> for AppError {
    fn from(e: PolicyError) -> Self {
        let field = match &e {
            PolicyError::BadFlow { field, .. } => field,
            PolicyError::NoFilter { .. } => "filter",
            PolicyError::NoBinding { .. } => "in_interface",
            PolicyError::UnknownVendor { .. } => "vendor",
            PolicyError::BadPack { .. } => "pack",
            PolicyError::Unreadable { .. } | PolicyError::Unsupported { .. } | PolicyError::TooLarge { .. } => {
                "content"
            }
        };
        Invalid::one(field, e.to_string()).into()
    }
}

/// The fingerprint of a configuration: SHA-256 of its significant lines.
pub fn fingerprint(text: &str) -> String {
    let mut h = Sha256::new();
    for line in archive::significant_lines(text) {
        h.update(line.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// How a stored version is named in diffs and findings: `item vN`.
fn label(meta: &ConfigMeta) -> String {
    format!("{} v{}", if meta.item.is_empty() { &meta.file_name } else { &meta.item }, meta.version)
}

/// A stored version read for analysis, in the dialect it was stored as.
pub fn load(row: &ConfigRow) -> std::result::Result<Config, PolicyError> {
    analyse::load(&label(&row.meta), row.content.as_bytes(), Vendor::parse(&row.meta.vendor))
}

/// The findings of a loaded version under the standard rule pack.
pub fn findings(config: &Config) -> std::result::Result<CheckReport, PolicyError> {
    analyse::check(std::slice::from_ref(config), &analyse::Pack::standard(), &analyse::Logs::default())
}

/// Compares two configuration texts: their line diff, and the flows whose decision changes.
pub fn compare(old: (&str, &str, Option<Vendor>), new: (&str, &str, Option<Vendor>)) -> Comparison {
    let lines = archive::line_diff(old.1, new.1, DIFF_CONTEXT);
    let loaded = analyse::load(old.0, old.1.as_bytes(), old.2)
        .and_then(|o| Ok((o, analyse::load(new.0, new.1.as_bytes(), new.2.or(old.2))?)));
    let (decisions, decisions_error) = match loaded.and_then(|(o, n)| analyse::diff(&o, &n)) {
        Ok(d) => (Some(d), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Comparison { old: old.0.to_owned(), new: new.0.to_owned(), lines, secrets_only: false, decisions, decisions_error }
}

impl App {
    /// The item, if the actor may read its configurations.
    async fn config_item(&self, actor: &Actor, item_id: i64, perm: Perm) -> Result<ItemRow> {
        actor.require(perm)?;
        match self.store.item(item_id).await? {
            Some(i) if Self::visible(actor, &i) => Ok(i),
            _ => Err(AppError::NotFound(format!("item {item_id}"))),
        }
    }

    /// Stores a configuration as the item's next version, unless its significant lines are
    /// the latest version's again (a collector re-sending an unchanged device).
    pub async fn store_config(&self, actor: &Actor, item_id: i64, upload: Upload) -> Result<Stored> {
        let item = self.config_item(actor, item_id, Perm::CmdbWrite).await?;
        if upload.bytes.len() > MAX_CONFIG_BYTES {
            return Err(Invalid::one(
                "content",
                format!(
                    "{} bytes; the archive takes configurations up to {MAX_CONFIG_BYTES} bytes",
                    upload.bytes.len()
                ),
            )
            .into());
        }
        let file_name = if upload.file_name.trim().is_empty() { item.name.clone() } else { upload.file_name.clone() };
        // Refuses binary files and unknown dialects with the reason, before anything is kept.
        let config = analyse::load(&file_name, &upload.bytes, upload.vendor)?;
        let text = String::from_utf8_lossy(&upload.bytes);
        let fp = fingerprint(&text);
        let mut redacted = archive::redact(&archive::without_volatile(&text));
        if !redacted.text.is_empty() && !redacted.text.ends_with('\n') {
            redacted.text.push('\n');
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let latest = tx.latest_config_fingerprint(item_id).await?;
        if let Some((version, _)) = latest.as_ref().filter(|(_, f)| *f == fp) {
            let version = *version;
            tx.commit().await?;
            let meta = self.store.config(item_id, Some(version)).await?.map(|r| r.meta);
            let meta = meta.ok_or_else(|| AppError::NotFound(format!("configuration of item {item_id}")))?;
            return Ok(Stored { meta, created: false, warnings: config.device.warnings.len() });
        }
        let version = latest.map_or(1, |(v, _)| v + 1);
        let row = NewConfig {
            item_id,
            version,
            vendor: config.vendor.key(),
            file_name: &file_name,
            fingerprint: &fp,
            content: &redacted.text,
            lines: redacted.text.lines().count() as i64,
            secrets_removed: redacted.secrets as i64,
            source: upload.source,
            actor: &actor.name,
            note: upload.note.trim(),
            at_ms: now,
        };
        tx.insert_config(&row).await?;
        let after = json!({
            "item": item.name, "version": version, "vendor": row.vendor, "file": file_name, "fingerprint": fp,
            "lines": row.lines, "secrets_removed": row.secrets_removed, "source": row.source, "note": row.note,
        });
        tx.append_audit(event(actor, now, "config.store", "item", &item_id.to_string(), None, Some(after.to_string())))
            .await?;
        tx.commit().await?;
        tracing::info!(item = %item.name, version, vendor = row.vendor, source = row.source, "configuration stored");
        let meta = self.store.config(item_id, Some(version)).await?.map(|r| r.meta);
        let meta = meta.ok_or_else(|| AppError::NotFound(format!("configuration of item {item_id}")))?;
        Ok(Stored { meta, created: true, warnings: config.device.warnings.len() })
    }

    /// Every version of an item's configuration, newest first.
    pub async fn config_versions(&self, actor: &Actor, item_id: i64) -> Result<Vec<ConfigMeta>> {
        self.config_item(actor, item_id, Perm::ConfigRead).await?;
        Ok(self.store.config_versions(item_id).await?)
    }

    /// One version with its (redacted) text; the latest when `version` is `None`.
    pub async fn config(&self, actor: &Actor, item_id: i64, version: Option<i64>) -> Result<ConfigRow> {
        self.config_item(actor, item_id, Perm::ConfigRead).await?;
        self.store.config(item_id, version).await?.ok_or_else(|| {
            AppError::NotFound(match version {
                Some(v) => format!("version {v} of item {item_id}'s configuration"),
                None => format!("a configuration of item {item_id}"),
            })
        })
    }

    /// The latest configuration of every item the actor can see.
    pub async fn config_overview(&self, actor: &Actor) -> Result<Vec<ConfigMeta>> {
        actor.require(Perm::ConfigRead)?;
        let all = self.store.latest_configs().await?;
        Ok(all
            .into_iter()
            .filter(|m| actor.sites.is_empty() || m.site.as_ref().is_some_and(|s| actor.sites.contains(s)))
            .collect())
    }

    /// Two stored versions compared.
    pub async fn config_diff(&self, actor: &Actor, item_id: i64, old: i64, new: Option<i64>) -> Result<Comparison> {
        let new = self.config(actor, item_id, new).await?;
        let old = self.config(actor, item_id, Some(old)).await?;
        let mut c = compare(
            (&label(&old.meta), &old.content, Vendor::parse(&old.meta.vendor)),
            (&label(&new.meta), &new.content, Vendor::parse(&new.meta.vendor)),
        );
        c.secrets_only = c.lines.hunks.is_empty() && old.meta.fingerprint != new.meta.fingerprint;
        Ok(c)
    }

    /// A proposed configuration compared with a stored version (the latest when `base` is
    /// `None`): the line diff and the flows whose decision the proposal changes. This is
    /// what change review shows a CAB; nothing is stored.
    pub async fn review_config(
        &self,
        actor: &Actor,
        item_id: i64,
        base: Option<i64>,
        proposed: &Upload,
    ) -> Result<Comparison> {
        let old = self.config(actor, item_id, base).await?;
        let proposed_text = String::from_utf8_lossy(&proposed.bytes);
        // Compared as it would be stored, so removed secrets do not show as changes.
        let redacted = archive::redact(&archive::without_volatile(&proposed_text));
        let name = if proposed.file_name.is_empty() { "proposed".to_owned() } else { proposed.file_name.clone() };
        analyse::load(&name, redacted.text.as_bytes(), proposed.vendor.or(Vendor::parse(&old.meta.vendor)))?;
        let mut c = compare(
            (&label(&old.meta), &old.content, Vendor::parse(&old.meta.vendor)),
            (&name, &redacted.text, proposed.vendor),
        );
        c.secrets_only = c.lines.hunks.is_empty() && old.meta.fingerprint != fingerprint(&proposed_text);
        Ok(c)
    }

    /// The findings of a stored version under the standard rule pack.
    pub async fn config_findings(&self, actor: &Actor, item_id: i64, version: Option<i64>) -> Result<CheckReport> {
        let row = self.config(actor, item_id, version).await?;
        Ok(findings(&load(&row)?)?)
    }

    /// Which rule of a stored version decides a flow.
    pub async fn config_match(
        &self,
        actor: &Actor,
        item_id: i64,
        version: Option<i64>,
        choice: &FilterChoice,
        query: &FlowQuery,
    ) -> Result<Vec<MatchView>> {
        let row = self.config(actor, item_id, version).await?;
        Ok(analyse::match_flow(&load(&row)?, choice, query)?)
    }
}

/// What one pass over a configuration directory did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DirReport {
    /// `(file, item, version)` of each new version.
    pub stored: Vec<(String, String, i64)>,
    /// Files whose configuration was the latest version already.
    pub unchanged: usize,
    /// Files named after no item (or after several): named by file.
    pub unmatched: Vec<String>,
    /// `(file, reason)` of each file that could not be stored.
    pub failed: Vec<(String, String)>,
}

/// A directory that a collector (Oxidized, RANCID, a backup script) writes one file per
/// device into, named after the item (`core-sw1`, `core-sw1.cfg`) or its management
/// address. Each pass stores the files that changed since the last pass; the first pass
/// reads them all.
#[derive(Debug)]
pub struct ConfigWatch {
    pub dir: std::path::PathBuf,
    seen: std::collections::HashMap<std::path::PathBuf, (std::time::SystemTime, u64)>,
}

/// Directories deeper than this are not searched (a collector nests one or two levels).
const WATCH_DEPTH: usize = 4;

impl ConfigWatch {
    pub fn new(dir: impl Into<std::path::PathBuf>) -> ConfigWatch {
        ConfigWatch { dir: dir.into(), seen: Default::default() }
    }

    fn files(dir: &std::path::Path, depth: usize, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            // Hidden entries are a collector's own (`.git`, editor and partial files).
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() && depth < WATCH_DEPTH {
                Self::files(&path, depth + 1, out)?;
            } else if kind.is_file() {
                out.push(path);
            }
        }
        Ok(())
    }

    /// One pass: stores each file that changed since the last pass as its item's next
    /// version, as `actor`.
    pub async fn scan(&mut self, app: &App, actor: &Actor) -> Result<DirReport> {
        let mut files = Vec::new();
        Self::files(&self.dir, 0, &mut files)
            .map_err(|e| Invalid::one("dir", format!("{}: {e}", self.dir.display())))?;
        files.sort();
        let items = app.store.all_items().await?;
        let mut report = DirReport::default();
        for path in files {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let stamp = (meta.modified().unwrap_or(std::time::UNIX_EPOCH), meta.len());
            if self.seen.get(&path) == Some(&stamp) {
                continue;
            }
            let shown = path.strip_prefix(&self.dir).unwrap_or(&path).display().to_string();
            let stem = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let matches: Vec<&ItemRow> =
                items.iter().filter(|i| App::visible(actor, i)).filter(|i| names_item(&stem, i)).collect();
            let [item] = matches.as_slice() else {
                report.unmatched.push(shown);
                self.seen.insert(path, stamp);
                continue;
            };
            let outcome = match std::fs::read(&path) {
                Ok(bytes) => {
                    let upload =
                        Upload { file_name: shown.clone(), bytes, vendor: None, source: "watch", note: String::new() };
                    app.store_config(actor, item.id, upload).await
                }
                Err(e) => Err(Invalid::one("file", format!("{shown}: {e}")).into()),
            };
            match outcome {
                Ok(s) if s.created => {
                    report.stored.push((shown, item.name.clone(), s.meta.version));
                    self.seen.insert(path, stamp);
                }
                Ok(_) => {
                    report.unchanged += 1;
                    self.seen.insert(path, stamp);
                }
                Err(e) => {
                    tracing::warn!(file = %shown, item = %item.name, error = %e, "configuration not stored");
                    // A file that is wrong stays wrong until it changes; a failed write is
                    // tried again at the next pass.
                    if matches!(e, AppError::Invalid(_)) {
                        self.seen.insert(path, stamp);
                    }
                    report.failed.push((shown, e.to_string()));
                }
            }
        }
        Ok(report)
    }
}

/// Whether a collector's file name names an item: its name or management address, with or
/// without a configuration file's extension, in any case.
fn names_item(file: &str, item: &ItemRow) -> bool {
    let base = ["cfg", "conf", "config", "txt", "xml", "set", "rsc"]
        .iter()
        .find_map(|ext| file.strip_suffix(&format!(".{ext}")))
        .unwrap_or(file);
    base.eq_ignore_ascii_case(&item.name)
        || item.mgmt_address.split('/').next().is_some_and(|a| !a.is_empty() && a == base)
}
