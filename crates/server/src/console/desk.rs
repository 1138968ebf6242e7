//! The on-call page: who is on call for each schedule and the next two weeks' hand-overs,
//! an override form for anyone who works incidents, and for administrators the schedules and
//! chains as YAML — the same document `watchkeeper oncall apply` reads — with the escalation
//! rules, the notification channels and the latest notifications beside them.

use super::{Chrome, When, app_error_page, ctx_chrome, field, form_pairs, render, when};
use crate::extract::Ctx;
use crate::state::AppState;
use app::AppError;
use app::oncall::OnCallDoc;
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use model::oncall::OverrideSpec;
use model::{FieldError, Perm};

pub struct ScheduleLine {
    pub name: String,
    pub who: String,
    pub until: Option<When>,
    /// The next two weeks: from, to, who.
    pub shifts: Vec<(String, String, String)>,
}

pub struct RuleLine {
    pub name: String,
    pub kind: String,
    pub trigger: String,
    pub priorities: String,
    pub then: String,
}

pub struct NotificationLine {
    pub at: When,
    pub channel: String,
    pub subject: String,
    pub title: String,
    pub state: String,
    pub attempts: i64,
    pub last_result: String,
}

#[derive(Template)]
#[template(path = "oncall.html")]
struct OnCallPage {
    chrome: Chrome,
    schedules: Vec<ScheduleLine>,
    people: Vec<String>,
    can_work: bool,
    can_admin: bool,
    yaml: String,
    rules: Vec<RuleLine>,
    channels: Vec<(String, String, String)>,
    notifications: Vec<NotificationLine>,
    errors: Vec<FieldError>,
    applied: String,
}

fn stamp(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz.clone()).strftime("%a %d %b %H:%M").to_string())
        .unwrap_or_default()
}

async fn page(s: &AppState, ctx: &Ctx, errors: Vec<FieldError>, yaml: Option<String>, applied: String) -> Response {
    let actor = ctx.actor();
    let now = s.app.now_ms();
    let load = async {
        let specs = s.app.schedules(&actor).await?;
        let current = s.app.on_call_now(&actor).await?;
        let mut schedules = Vec::new();
        for spec in &specs {
            let tz = jiff::tz::TimeZone::get(&spec.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let c = current.iter().find(|c| c.schedule == spec.name);
            schedules.push(ScheduleLine {
                name: spec.name.clone(),
                who: c.and_then(|c| c.who.clone()).unwrap_or_else(|| "nobody".into()),
                until: c.and_then(|c| c.until).map(|u| when(u, now)),
                shifts: c
                    .map(|c| c.shifts.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(a, b, w)| (stamp(a, &tz), stamp(b, &tz), w.unwrap_or_else(|| "nobody".into())))
                    .collect(),
            });
        }
        let rules = s
            .app
            .escalation_rules(&actor)
            .await?
            .into_iter()
            .map(|r| {
                use model::escalation::Trigger;
                let trigger = match &r.trigger {
                    Trigger::Opened => "opened".to_owned(),
                    Trigger::Sla { clock, percent: 100 } => format!("{clock} breached"),
                    Trigger::Sla { clock, percent } => format!("{clock} at {percent} %"),
                    Trigger::Idle { minutes } => format!("no update for {minutes} min"),
                };
                let mut then = Vec::new();
                if !r.reassign_group.is_empty() {
                    then.push(format!("hand to {}", r.reassign_group));
                }
                if !r.channels.is_empty() {
                    then.push(format!("tell {}", r.channels.join(", ")));
                }
                if let Some(p) = &r.page {
                    then.push(format!("page chain {p}"));
                }
                RuleLine {
                    kind: serde_json::to_value(r.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    priorities: if r.priorities.is_empty() {
                        "all".into()
                    } else {
                        r.priorities.iter().map(|p| format!("P{p}")).collect::<Vec<_>>().join(" ")
                    },
                    name: if r.enabled { r.name } else { format!("{} (off)", r.name) },
                    trigger,
                    then: then.join("; "),
                }
            })
            .collect();
        let channels =
            s.app.channels(&actor).await?.into_iter().map(|c| (c.name, c.kind.as_str().to_owned(), c.target)).collect();
        let notifications = s
            .app
            .notifications(&actor, None)
            .await
            .unwrap_or_default()
            .into_iter()
            .take(50)
            .map(|d| NotificationLine {
                at: when(d.row.created_at_ms, now),
                title: serde_json::from_str::<notify::Notice>(&d.row.notice).map(|n| n.title).unwrap_or_default(),
                channel: d.row.channel,
                subject: d.row.subject,
                state: d.row.state,
                attempts: d.row.attempts,
                last_result: d.row.last_result,
            })
            .collect();
        let yaml = match yaml {
            Some(y) => y,
            None => yaml_serde::to_string(&s.app.export_oncall(&actor).await?).unwrap_or_default(),
        };
        Ok::<_, AppError>((schedules, rules, channels, notifications, yaml))
    };
    let (schedules, rules, channels, notifications, yaml) = match load.await {
        Ok(x) => x,
        Err(e) => return app_error_page(s, ctx, e),
    };
    let people = s.app.on_call_people().await.unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(
        status,
        &OnCallPage {
            chrome: ctx_chrome(s, ctx, "On call", "oncall"),
            schedules,
            people,
            can_work: actor.can(Perm::IncidentWork),
            can_admin: actor.can(Perm::SystemAdmin),
            yaml,
            rules,
            channels,
            notifications,
            errors,
            applied,
        },
    )
}

pub async fn oncall_page(State(s): State<AppState>, ctx: Ctx) -> Response {
    page(&s, &ctx, Vec::new(), None, String::new()).await
}

/// Someone covers a stretch of a schedule.
pub async fn oncall_override(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let p = form_pairs(&body);
    let o =
        OverrideSpec { start: field(&p, "start").into(), end: field(&p, "end").into(), who: field(&p, "who").into() };
    match s.app.add_override(&ctx.actor(), field(&p, "schedule"), o).await {
        Ok(_) => Redirect::to("/oncall").into_response(),
        Err(AppError::Invalid(i)) => page(&s, &ctx, i.0, None, String::new()).await,
        Err(e) => app_error_page(&s, &ctx, e),
    }
}

/// Schedules and chains as YAML, applied all or nothing.
pub async fn oncall_apply(State(s): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let p = form_pairs(&body);
    let text = field(&p, "yaml").to_owned();
    let doc: OnCallDoc = match yaml_serde::from_str(&text) {
        Ok(d) => d,
        Err(e) => return page(&s, &ctx, vec![FieldError::new("yaml", e.to_string())], Some(text), String::new()).await,
    };
    match s.app.apply_oncall(&ctx.actor(), doc, false).await {
        Ok(plan) => {
            let changed: Vec<String> = plan
                .iter()
                .filter(|p| p.action != "same")
                .map(|p| format!("{} {} {}d", p.kind, p.name, p.action))
                .collect();
            let note = if changed.is_empty() {
                "Nothing changed.".to_owned()
            } else {
                format!("Applied: {}.", changed.join(", "))
            };
            page(&s, &ctx, Vec::new(), None, note).await
        }
        Err(AppError::Invalid(i)) => page(&s, &ctx, i.0, Some(text), String::new()).await,
        Err(e) => app_error_page(&s, &ctx, e),
    }
}
