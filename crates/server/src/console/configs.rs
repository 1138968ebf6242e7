//! The configuration archive's pages: every device's latest configuration; one item's
//! versions with the findings of the one shown, a flow-match form and its text with line
//! numbers; storing a new version by pasting it; and the diff of two versions — the lines
//! and the flows whose decision changes — that change review links to.

use super::{Chrome, When, app_error_page, ctx_chrome, field, form_pairs, not_found_page, render, when};
use crate::api::configs::flow_query;
use crate::extract::{Ctx, QueryPairs};
use crate::problem::ApiError;
use crate::state::AppState;
use app::AppError;
use app::configs::LineChange;
use app::configs::{Comparison, Upload};
use app::policy::{FindingView, MatchView, Vendor};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::{FieldError, Perm};
use store::ConfigMeta;

pub struct VersionLine {
    pub version: i64,
    pub at: When,
    pub actor: String,
    pub source: String,
    pub note: String,
    pub vendor: String,
    pub file_name: String,
    pub lines: i64,
    pub secrets_removed: i64,
}

fn version_line(m: ConfigMeta, now: i64) -> VersionLine {
    VersionLine {
        version: m.version,
        at: when(m.at_ms, now),
        actor: m.actor,
        source: m.source,
        note: m.note,
        vendor: m.vendor,
        file_name: m.file_name,
        lines: m.lines,
        secrets_removed: m.secrets_removed,
    }
}

pub struct DeviceLine {
    pub item_id: i64,
    pub item: String,
    pub site: String,
    pub latest: VersionLine,
}

#[derive(Template)]
#[template(path = "configs.html")]
struct ConfigsPage {
    chrome: Chrome,
    devices: Vec<DeviceLine>,
    watching: String,
}

pub async fn configs_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    let now = s.app.now_ms();
    let devices = match s.app.config_overview(&ctx.actor()).await {
        Ok(d) => d,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let devices = devices
        .into_iter()
        .map(|m| DeviceLine {
            item_id: m.item_id,
            item: m.item.clone(),
            site: m.site.clone().unwrap_or_default(),
            latest: version_line(m, now),
        })
        .collect();
    let watching = s.app.settings().config_watch_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
    render(
        StatusCode::OK,
        &ConfigsPage { chrome: ctx_chrome(&s, &ctx, "Configurations", "configs"), devices, watching },
    )
}

pub struct FindingLine {
    pub severity: &'static str,
    pub kind: &'static str,
    pub line: usize,
    pub rule: String,
    pub filter: String,
    pub message: String,
    pub related: String,
    pub witness: String,
}

impl From<FindingView> for FindingLine {
    fn from(f: FindingView) -> Self {
        FindingLine {
            severity: f.severity,
            kind: f.kind,
            line: f.line,
            rule: f.rule,
            filter: f.filter,
            message: f.message,
            related: f.related_rules.iter().map(|r| format!("line {}", r.line)).collect::<Vec<_>>().join(", "),
            witness: f.witness.map(|w| w.to_string()).unwrap_or_default(),
        }
    }
}

pub struct MatchLine {
    pub filter: String,
    pub action: &'static str,
    pub rule: String,
    pub line: usize,
    pub may_match: bool,
    pub detail: String,
}

impl From<MatchView> for MatchLine {
    fn from(m: MatchView) -> Self {
        let mut detail = Vec::new();
        if let Some(scope) = &m.scope {
            detail.push(scope.to_string());
        }
        if !m.conditions.is_empty() {
            detail.push(format!("if {}", m.conditions.join(" and ")));
        }
        for o in &m.otherwise {
            detail.push(format!("otherwise {} by {} (line {})", o.action, o.rule, o.line));
        }
        if let Some(nat) = &m.nat {
            detail.push(format!("NAT {} (line {}) → {}", nat.rule, nat.line, nat.translated));
        }
        MatchLine {
            filter: m.filter,
            action: m.action,
            rule: m.rule,
            line: m.line,
            may_match: m.may_match,
            detail: detail.join(" · "),
        }
    }
}

/// The flow-match form as typed.
#[derive(Default)]
pub struct MatchForm {
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub dport: String,
    pub from_zone: String,
    pub to_zone: String,
    pub in_interface: String,
    pub asked: bool,
    pub errors: Vec<FieldError>,
    pub results: Vec<MatchLine>,
}

/// The store form as typed, when it must be shown again.
#[derive(Default)]
pub struct StoreForm {
    pub content: String,
    pub note: String,
    pub vendor: String,
    pub error: String,
    pub stored: String,
}

pub struct TextLine {
    pub no: usize,
    pub text: String,
    pub flagged: bool,
}

#[derive(Template)]
#[template(path = "item_config.html")]
struct ItemConfigPage {
    chrome: Chrome,
    id: i64,
    name: String,
    versions: Vec<VersionLine>,
    shown: Option<VersionLine>,
    latest: i64,
    findings: Vec<FindingLine>,
    warnings: usize,
    analysis_error: String,
    text: Vec<TextLine>,
    matcher: MatchForm,
    store: StoreForm,
    can_store: bool,
    vendors: Vec<&'static str>,
}

fn item_id(id: Result<Path<String>, PathRejection>) -> Option<i64> {
    id.ok().and_then(|Path(id)| id.parse::<i64>().ok())
}

async fn item_config_response(
    s: &AppState,
    ctx: &Ctx,
    id: i64,
    pairs: &[(String, String)],
    store: StoreForm,
) -> Response {
    let actor = ctx.actor();
    let now = s.app.now_ms();
    let item = match s.app.item(&actor, id).await {
        Ok(i) => i,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let versions = match s.app.config_versions(&actor, id).await {
        Ok(v) => v,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let latest = versions.first().map_or(0, |v| v.version);
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim()).unwrap_or_default();
    let wanted = match get("version") {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return app_error_page(s, ctx, model::Invalid::one("version", "a version number").into()),
        },
    };
    let (mut shown, mut findings, mut warnings, mut analysis_error, mut text) =
        (None, Vec::new(), 0, String::new(), Vec::new());
    let mut matcher = MatchForm {
        src: get("src").to_owned(),
        dst: get("dst").to_owned(),
        proto: get("proto").to_owned(),
        dport: get("dport").to_owned(),
        from_zone: get("from_zone").to_owned(),
        to_zone: get("to_zone").to_owned(),
        in_interface: get("in_interface").to_owned(),
        ..MatchForm::default()
    };
    if latest > 0 {
        let row = match s.app.config(&actor, id, wanted).await {
            Ok(r) => r,
            Err(e) => return app_error_page(s, ctx, e),
        };
        let mut flagged = std::collections::BTreeSet::new();
        // Read once for the findings and the match form (the version is already allowed).
        let loaded = app::configs::load(&row);
        match loaded
            .as_ref()
            .map_err(ToString::to_string)
            .and_then(|c| app::configs::findings(c).map_err(|e| e.to_string()))
        {
            Ok(report) => {
                warnings = report.warnings.len();
                flagged.extend(report.findings.iter().map(|f| f.line));
                findings = report.findings.into_iter().map(FindingLine::from).collect();
            }
            Err(e) => analysis_error = e,
        }
        text = row
            .content
            .lines()
            .enumerate()
            .map(|(i, l)| TextLine { no: i + 1, text: l.to_owned(), flagged: flagged.contains(&(i + 1)) })
            .collect();
        // The match form: only the fields it shows, empty ones left out.
        let asked: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, v)| k != "version" && !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !asked.is_empty() {
            matcher.asked = true;
            match flow_query(&asked) {
                Ok((choice, query)) => match loaded.map(|c| app::policy::match_flow(&c, &choice, &query)) {
                    Ok(Ok(m)) => matcher.results = m.into_iter().map(MatchLine::from).collect(),
                    Ok(Err(e)) | Err(e) => match AppError::from(e) {
                        AppError::Invalid(i) => matcher.errors = i.0,
                        e => return app_error_page(s, ctx, e),
                    },
                },
                Err(ApiError::Invalid(e)) => matcher.errors = e,
                Err(_) => matcher.errors = vec![FieldError::new("flow", "the flow could not be read")],
            }
        }
        shown = Some(version_line(row.meta, now));
    }
    let page = ItemConfigPage {
        chrome: ctx_chrome(s, ctx, &format!("{} configuration", item.name), "configs"),
        id,
        name: item.name,
        versions: versions.into_iter().map(|m| version_line(m, now)).collect(),
        shown,
        latest,
        findings,
        warnings,
        analysis_error,
        text,
        matcher,
        store,
        can_store: actor.can(Perm::CmdbWrite),
        vendors: Vendor::NAMES.split(", ").collect(),
    };
    render(StatusCode::OK, &page)
}

pub async fn item_config_page(
    State(s): State<AppState>,
    ctx: Ctx,
    id: Result<Path<String>, PathRejection>,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let Some(id) = item_id(id) else { return not_found_page() };
    let stored = pairs.iter().find(|(k, _)| k == "stored").map(|(_, v)| v.clone()).unwrap_or_default();
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "stored").collect();
    item_config_response(&s, &ctx, id, &pairs, StoreForm { stored, ..StoreForm::default() }).await
}

/// Stores a pasted configuration as the item's next version.
pub async fn item_config_store(
    State(s): State<AppState>,
    ctx: Ctx,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Some(id) = item_id(id) else { return not_found_page() };
    let p = form_pairs(&body);
    let mut form = StoreForm {
        content: field(&p, "content").to_owned(),
        note: field(&p, "note").to_owned(),
        vendor: field(&p, "vendor").to_owned(),
        ..StoreForm::default()
    };
    let vendor = match form.vendor.as_str() {
        "" => None,
        v => Vendor::parse(v),
    };
    let upload = Upload {
        file_name: String::new(),
        bytes: form.content.clone().into_bytes(),
        vendor,
        source: "upload",
        note: form.note.clone(),
    };
    match s.app.store_config(&ctx.actor(), id, upload).await {
        Ok(stored) => {
            let what = if stored.created {
                format!("stored as version {}", stored.meta.version)
            } else {
                format!("unchanged: version {} already holds it", stored.meta.version)
            };
            let q = serde_urlencoded::to_string([("stored", what)]).unwrap_or_default();
            Redirect::to(&format!("/cmdb/items/{id}/config?{q}")).into_response()
        }
        Err(AppError::Invalid(i)) => {
            form.error = i.0.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            let mut resp = item_config_response(&s, &ctx, id, &[], form).await;
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            resp
        }
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

pub struct DiffRow {
    /// same, removed, added, or gap (between hunks).
    pub class: &'static str,
    pub old_no: String,
    pub new_no: String,
    pub sign: &'static str,
    pub text: String,
}

pub struct BlockLine {
    pub filter: String,
    pub old_action: &'static str,
    pub new_action: &'static str,
    pub old_rule: String,
    pub new_rule: String,
    pub traffic: String,
    pub witness: String,
}

#[derive(Template)]
#[template(path = "config_diff.html")]
struct ConfigDiffPage {
    chrome: Chrome,
    id: i64,
    name: String,
    old: String,
    new: String,
    added: usize,
    removed: usize,
    rows: Vec<DiffRow>,
    secrets_only: bool,
    blocks: Vec<BlockLine>,
    only_old: String,
    only_new: String,
    decisions_error: String,
}

/// The rows of a line diff, with a gap row between hunks.
pub fn diff_rows(c: &Comparison) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    for (i, h) in c.lines.hunks.iter().enumerate() {
        if i > 0 || h.old_start > 1 {
            rows.push(DiffRow {
                class: "gap",
                old_no: String::new(),
                new_no: String::new(),
                sign: "",
                text: format!("@@ -{},{} +{},{} @@", h.old_start, h.old_lines, h.new_start, h.new_lines),
            });
        }
        for l in &h.lines {
            let (class, sign) = match l.change {
                LineChange::Same => ("same", " "),
                LineChange::Removed => ("removed", "−"),
                LineChange::Added => ("added", "+"),
            };
            rows.push(DiffRow {
                class,
                old_no: l.old_line.map(|n| n.to_string()).unwrap_or_default(),
                new_no: l.new_line.map(|n| n.to_string()).unwrap_or_default(),
                sign,
                text: l.text.clone(),
            });
        }
    }
    rows
}

/// The decision blocks of a comparison, as the diff page and change review show them.
pub fn block_lines(c: &Comparison) -> Vec<BlockLine> {
    let Some(d) = &c.decisions else { return Vec::new() };
    let rule = |r: &Option<app::policy::RuleRef>| match r {
        Some(r) => format!("{} (line {})", r.rule, r.line),
        None => "implicit deny".to_owned(),
    };
    d.blocks
        .iter()
        .map(|b| {
            let join = |v: &[String]| if v.is_empty() { "any".to_owned() } else { v.join(", ") };
            let mut traffic = format!(
                "{} → {} {} {}",
                join(&b.src),
                join(&b.dst),
                join(&b.proto),
                if b.dport.is_empty() || b.dport == ["any"] {
                    String::new()
                } else {
                    format!("port {}", b.dport.join(", "))
                }
            );
            if !b.zones.is_empty() {
                traffic.push_str(&format!(" · zones {}", b.zones.join(", ")));
            }
            if !b.applications.is_empty() {
                traffic.push_str(&format!(" · apps {}", b.applications.join(", ")));
            }
            BlockLine {
                filter: b.filter.clone(),
                old_action: b.old_action,
                new_action: b.new_action,
                old_rule: rule(&b.old_rule),
                new_rule: rule(&b.new_rule),
                traffic: traffic.trim().to_owned(),
                witness: b.witness.to_string(),
            }
        })
        .collect()
}

pub async fn config_diff_page(
    State(s): State<AppState>,
    ctx: Ctx,
    id: Result<Path<String>, PathRejection>,
    QueryPairs(pairs): QueryPairs,
) -> Response {
    let Some(id) = item_id(id) else { return not_found_page() };
    let actor = ctx.actor();
    let num = |k: &str| -> Result<Option<i64>, AppError> {
        match pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim()) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| model::Invalid::one(k, "a version number").into()),
        }
    };
    let (from, to) = match (num("from"), num("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return app_error_page(&s, &ctx, e),
    };
    let item = match s.app.item(&actor, id).await {
        Ok(i) => i,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let newer = match s.app.config(&actor, id, to).await {
        Ok(r) => r.meta.version,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let from = from.unwrap_or(newer - 1);
    let c = match s.app.config_diff(&actor, id, from, Some(newer)).await {
        Ok(c) => c,
        Err(e) => return app_error_page(&s, &ctx, e),
    };
    let d = c.decisions.as_ref();
    let page = ConfigDiffPage {
        chrome: ctx_chrome(&s, &ctx, &format!("{} v{from} → v{newer}", item.name), "configs"),
        id,
        name: item.name,
        old: c.old.clone(),
        new: c.new.clone(),
        added: c.lines.added,
        removed: c.lines.removed,
        rows: diff_rows(&c),
        secrets_only: c.secrets_only,
        blocks: block_lines(&c),
        only_old: d.map(|d| d.only_old.join(", ")).unwrap_or_default(),
        only_new: d.map(|d| d.only_new.join(", ")).unwrap_or_default(),
        decisions_error: c.decisions_error.clone().unwrap_or_default(),
    };
    render(StatusCode::OK, &page)
}
