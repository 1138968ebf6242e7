//! The desk's machinery under `/api/v1`: notification channels, the notifications sent with
//! each delivery attempt, and escalation rules.

use super::{ApiResult, rfc3339};
use crate::extract::{ApiJson, ApiPath, Ctx, QueryPairs};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::notifications::{ChannelInput, ChannelView, Delivery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::FieldError;
use model::escalation::EscalationRule;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where notifications go: e-mail addresses, or a Microsoft Teams, Mattermost or Slack
/// incoming webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDto {
    pub name: String,
    /// email, teams, mattermost or slack.
    pub kind: String,
    /// The addresses, or the webhook's scheme and host (its path is a secret and never shown).
    pub target: String,
    /// Deliveries an hour at most; more wait, none is dropped.
    pub rate_per_hour: i64,
    pub enabled: bool,
    pub version: i64,
}

impl From<ChannelView> for ChannelDto {
    fn from(c: ChannelView) -> Self {
        ChannelDto {
            name: c.name,
            kind: c.kind.as_str().into(),
            target: c.target,
            rate_per_hour: c.rate_per_hour,
            enabled: c.enabled,
            version: c.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInputDto {
    /// email, teams, mattermost or slack.
    pub kind: String,
    /// E-mail addresses separated by commas, or the webhook's full URL.
    pub target: String,
    /// Default 60.
    pub rate_per_hour: Option<i64>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(get, path = "/api/v1/notification-channels", tag = "desk", responses((status = 200, body = Vec<ChannelDto>)))]
pub async fn channels(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<ChannelDto>>> {
    Ok(Json(s.app.channels(&ctx.actor()).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(put, path = "/api/v1/notification-channels/{name}", tag = "desk", params(("name" = String, Path)),
    request_body = ChannelInputDto, responses((status = 200, body = ChannelDto), (status = 422, body = Problem)))]
pub async fn put_channel(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<ChannelInputDto>,
) -> ApiResult<Json<ChannelDto>> {
    let input = ChannelInput { kind: b.kind, target: b.target, rate_per_hour: b.rate_per_hour, enabled: b.enabled };
    Ok(Json(s.app.put_channel(&ctx.actor(), &name, input).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/notification-channels/{name}", tag = "desk", params(("name" = String, Path)),
    responses((status = 204, description = "Removed; what was queued for it fails with that reason"),
        (status = 404, body = Problem)))]
pub async fn delete_channel(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_channel(&ctx.actor(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedDto {
    /// The notification's id: `GET /api/v1/notifications` shows how its delivery went.
    pub id: i64,
}

#[utoipa::path(post, path = "/api/v1/notification-channels/{name}/test", tag = "desk", params(("name" = String, Path)),
    responses((status = 202, body = QueuedDto, description = "Queued; the desk delivers it within seconds"),
        (status = 404, body = Problem)))]
pub async fn test_channel(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<QueuedDto>)> {
    let id = s.app.test_channel(&ctx.actor(), &name).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedDto { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDto {
    pub at: String,
    pub ok: bool,
    /// What the other side said: `250 2.0.0 Ok`, `200`, or why it failed.
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: i64,
    pub channel: String,
    /// What it is about (an incident number).
    pub subject: String,
    /// Why it was sent (the escalation rule).
    pub reason: String,
    pub title: String,
    /// pending, sent, failed or suppressed (a duplicate within the hour).
    pub state: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<AttemptDto>,
    pub last_result: String,
}

impl From<Delivery> for NotificationDto {
    fn from(d: Delivery) -> Self {
        let r = d.row;
        let title = serde_json::from_str::<notify::Notice>(&r.notice).map(|n| n.title).unwrap_or_default();
        NotificationDto {
            id: r.id,
            channel: r.channel,
            subject: r.subject,
            reason: r.reason,
            title,
            state: r.state,
            created_at: rfc3339(r.created_at_ms),
            sent_at: r.sent_at_ms.map(rfc3339),
            next_attempt_at: r.next_attempt_at_ms.map(rfc3339),
            attempts: d
                .attempts
                .into_iter()
                .map(|a| AttemptDto { at: rfc3339(a.at_ms), ok: a.ok, detail: a.detail })
                .collect(),
            last_result: r.last_result,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "desk",
    params(("subject" = Option<String>, Query, description = "Only those about this incident (INC0000042)")),
    responses((status = 200, body = Vec<NotificationDto>, description = "Newest first, at most 500")))]
pub async fn notifications(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Vec<NotificationDto>>> {
    let mut subject = None;
    for (k, v) in q {
        match k.as_str() {
            "subject" => subject = Some(v),
            other => {
                return Err(ApiError::Invalid(vec![FieldError::new(
                    other,
                    "unknown parameter; the filter is `subject`",
                )]));
            }
        }
    }
    let rows = s.app.notifications(&ctx.actor(), subject.as_deref()).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// An escalation rule. `trigger` is `{"on": "opened"}`, `{"on": "sla", "clock": "resolution",
/// "percent": 75}` (clock: response, resolution or any; percent: 50, 75, 90 or 100 for the
/// breach) or `{"on": "idle", "minutes": 60}`. Functional rules hand the incident to
/// `reassign_group`; hierarchical ones tell `channels`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDto {
    /// Ignored on `PUT`: the path names the rule.
    #[serde(default)]
    pub name: String,
    /// functional or hierarchical.
    pub kind: String,
    #[schema(value_type = Object)]
    pub trigger: serde_json::Value,
    /// Priorities it applies to; empty: all.
    #[serde(default)]
    pub priorities: Vec<u8>,
    #[serde(default)]
    pub reassign_group: String,
    #[serde(default)]
    pub channels: Vec<String>,
    /// An escalation chain to page until someone acknowledges or takes the incident.
    #[serde(default)]
    pub page: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl From<EscalationRule> for RuleDto {
    fn from(r: EscalationRule) -> Self {
        let kind = serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        RuleDto {
            name: r.name,
            kind,
            trigger: serde_json::to_value(&r.trigger).unwrap_or_default(),
            priorities: r.priorities,
            reassign_group: r.reassign_group,
            channels: r.channels,
            page: r.page,
            enabled: r.enabled,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/escalation-rules", tag = "desk", responses((status = 200, body = Vec<RuleDto>)))]
pub async fn rules(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<RuleDto>>> {
    Ok(Json(s.app.escalation_rules(&ctx.actor()).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(put, path = "/api/v1/escalation-rules/{name}", tag = "desk", params(("name" = String, Path)),
    request_body = RuleDto, responses((status = 200, body = RuleDto), (status = 422, body = Problem)))]
pub async fn put_rule(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<RuleDto>,
) -> ApiResult<Json<RuleDto>> {
    let kind = serde_json::from_value(serde_json::Value::String(b.kind.clone()))
        .map_err(|_| ApiError::Invalid(vec![FieldError::new("kind", "functional or hierarchical")]))?;
    let trigger = serde_json::from_value(b.trigger).map_err(|e| {
        ApiError::Invalid(vec![FieldError::new(
            "trigger",
            format!("{e}; one of {{\"on\": \"opened\"}}, {{\"on\": \"sla\", \"clock\": \"resolution\", \"percent\": 75}}, {{\"on\": \"idle\", \"minutes\": 60}}"),
        )])
    })?;
    let rule = EscalationRule {
        name,
        kind,
        trigger,
        priorities: b.priorities,
        reassign_group: b.reassign_group,
        channels: b.channels,
        page: b.page,
        enabled: b.enabled,
    };
    Ok(Json(s.app.put_escalation_rule(&ctx.actor(), rule).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/escalation-rules/{name}", tag = "desk", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_rule(State(s): State<AppState>, ctx: Ctx, ApiPath(name): ApiPath<String>) -> ApiResult<StatusCode> {
    s.app.delete_escalation_rule(&ctx.actor(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An on-call schedule as written: `{"time_zone": "Europe/London", "layers": [{"name":
/// "nights", "members": ["erin", "sam"], "start": "2027-01-04T09:00", "shift": "1w", "hours":
/// null}], "overrides": [{"start": "…", "end": "…", "who": "lee"}]}` — later layers cover
/// earlier ones within their `hours` (a stored calendar), overrides cover everything.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleDto {
    pub name: String,
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Who is on call now, and until when.
    pub on_call: Option<String>,
    pub until: Option<String>,
}

fn spec_from<T: serde::de::DeserializeOwned>(v: serde_json::Value, example: &str) -> Result<T, ApiError> {
    serde_json::from_value(v)
        .map_err(|e| ApiError::Invalid(vec![FieldError::new("spec", format!("{e}; for example {example}"))]))
}

const SCHEDULE_EXAMPLE: &str = r#"{"time_zone": "Europe/London", "layers": [{"name": "nights", "members": ["erin"], "start": "2027-01-04T09:00", "shift": "1w"}]}"#;
const CHAIN_EXAMPLE: &str = r#"{"steps": [{"after_minutes": 0, "targets": ["oncall:L3 network"]}, {"after_minutes": 15, "targets": ["user:ops-lead"]}], "repeats": 1}"#;

#[utoipa::path(get, path = "/api/v1/oncall-schedules", tag = "desk", responses((status = 200, body = Vec<ScheduleDto>)))]
pub async fn schedules(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<ScheduleDto>>> {
    let actor = ctx.actor();
    let now = s.app.on_call_now(&actor).await?;
    let out = s
        .app
        .schedules(&actor)
        .await?
        .into_iter()
        .map(|spec| {
            let current = now.iter().find(|n| n.schedule == spec.name);
            ScheduleDto {
                name: spec.name.clone(),
                on_call: current.and_then(|c| c.who.clone()),
                until: current.and_then(|c| c.until).map(rfc3339),
                spec: serde_json::to_value(&spec).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Json(out))
}

#[utoipa::path(put, path = "/api/v1/oncall-schedules/{name}", tag = "desk", params(("name" = String, Path)),
    request_body(content = Object, description = "The schedule as written (see ScheduleDto)"),
    responses((status = 200, body = Object), (status = 422, body = Problem)))]
pub async fn put_schedule(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut spec: model::oncall::ScheduleSpec = spec_from(b, SCHEDULE_EXAMPLE)?;
    spec.name = name;
    let stored = s.app.put_schedule(&ctx.actor(), spec).await?;
    Ok(Json(serde_json::to_value(stored).unwrap_or_default()))
}

#[utoipa::path(delete, path = "/api/v1/oncall-schedules/{name}", tag = "desk", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_schedule(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_spec(&ctx.actor(), store::Specs::Schedules, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideDto {
    /// `2027-01-04T20:00` in the schedule's time zone, or RFC 3339.
    pub start: String,
    pub end: String,
    /// The account that covers.
    pub who: String,
}

#[utoipa::path(post, path = "/api/v1/oncall-schedules/{name}/overrides", tag = "desk", params(("name" = String, Path)),
    request_body = OverrideDto, responses((status = 200, body = Object), (status = 422, body = Problem)))]
pub async fn add_override(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<OverrideDto>,
) -> ApiResult<Json<serde_json::Value>> {
    let o = model::oncall::OverrideSpec { start: b.start, end: b.end, who: b.who };
    let spec = s.app.add_override(&ctx.actor(), &name, o).await?;
    Ok(Json(serde_json::to_value(spec).unwrap_or_default()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftDto {
    pub from: String,
    pub to: String,
    /// Nobody when no layer covers the stretch.
    pub who: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/oncall-schedules/{name}/shifts", tag = "desk",
    params(("name" = String, Path), ("from" = Option<String>, Query, description = "RFC 3339; default now"),
        ("days" = Option<i64>, Query, description = "How far on, 1 to 62 (default 14)")),
    responses((status = 200, body = Vec<ShiftDto>, description = "The final schedule: one entry per change of hands")))]
pub async fn shifts(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    QueryPairs(q): QueryPairs,
) -> ApiResult<Json<Vec<ShiftDto>>> {
    let mut from = s.app.now_ms();
    let mut days = 14;
    for (k, v) in q {
        match k.as_str() {
            "from" => {
                from = v.parse::<jiff::Timestamp>().map(|t| t.as_millisecond()).map_err(|_| {
                    ApiError::Invalid(vec![FieldError::new("from", "an RFC 3339 instant: 2027-01-15T08:00:00Z")])
                })?
            }
            "days" => {
                days = v
                    .parse()
                    .ok()
                    .filter(|d| (1..=62).contains(d))
                    .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("days", "1 to 62")]))?
            }
            other => return Err(ApiError::Invalid(vec![FieldError::new(other, "unknown parameter: from, days")])),
        }
    }
    let shifts = s.app.shifts(&ctx.actor(), &name, from, from + days * 86_400_000).await?;
    Ok(Json(shifts.into_iter().map(|(a, b, who)| ShiftDto { from: rfc3339(a), to: rfc3339(b), who }).collect()))
}

#[utoipa::path(get, path = "/api/v1/escalation-chains", tag = "desk", responses((status = 200, body = Vec<Object>)))]
pub async fn chains(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let chains = s.app.chains(&ctx.actor()).await?;
    Ok(Json(chains.into_iter().map(|c| serde_json::to_value(c).unwrap_or_default()).collect()))
}

#[utoipa::path(put, path = "/api/v1/escalation-chains/{name}", tag = "desk", params(("name" = String, Path)),
    request_body(content = Object, description = "Steps paging their targets in turn (oncall:SCHEDULE, user:NAME, channel:NAME) until acknowledged"),
    responses((status = 200, body = Object), (status = 422, body = Problem)))]
pub async fn put_chain(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut spec: model::oncall::ChainSpec = spec_from(b, CHAIN_EXAMPLE)?;
    spec.name = name;
    let stored = s.app.put_chain(&ctx.actor(), spec).await?;
    Ok(Json(serde_json::to_value(stored).unwrap_or_default()))
}

#[utoipa::path(delete, path = "/api/v1/escalation-chains/{name}", tag = "desk", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_chain(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_spec(&ctx.actor(), store::Specs::Chains, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactDto {
    /// Where pages reach this person.
    pub email: String,
}

#[utoipa::path(put, path = "/api/v1/users/{username}/contact", tag = "desk", params(("username" = String, Path)),
    request_body = ContactDto,
    responses((status = 204, description = "People set their own; administrators anyone's"), (status = 422, body = Problem)))]
pub async fn put_contact(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(username): ApiPath<String>,
    ApiJson(b): ApiJson<ContactDto>,
) -> ApiResult<StatusCode> {
    s.app.put_contact(&ctx.actor(), &username, &b.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageDto {
    pub chain: String,
    pub raised_at: String,
    pub steps_sent: i64,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}/pages", tag = "desk", params(("number" = String, Path)),
    responses((status = 200, body = Vec<PageDto>)))]
pub async fn pages(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<Vec<PageDto>>> {
    let pages = s.app.pages(&ctx.actor(), &number).await?;
    Ok(Json(
        pages
            .into_iter()
            .map(|p| PageDto {
                chain: p.chain,
                raised_at: rfc3339(p.raised_at_ms),
                steps_sent: p.steps_sent,
                acknowledged_at: p.acknowledged_at_ms.map(rfc3339),
                acknowledged_by: p.acknowledged_by,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/acknowledge", tag = "desk", params(("number" = String, Path)),
    responses((status = 204, description = "The pages stop"), (status = 422, body = Problem, description = "Nothing is paging")))]
pub async fn acknowledge(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.acknowledge(&ctx.actor(), &number).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupsDto {
    /// Assignment groups (service desk, L2, L3 network…): the account's "my groups" queue.
    pub groups: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/users/{username}/groups", tag = "desk", params(("username" = String, Path)),
    responses((status = 200, body = GroupsDto, description = "The account's groups (user administrators)")))]
pub async fn groups(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<GroupsDto>> {
    Ok(Json(GroupsDto { groups: s.app.groups_of(&ctx.actor(), &username).await? }))
}

#[utoipa::path(put, path = "/api/v1/users/{username}/groups", tag = "desk", params(("username" = String, Path)),
    request_body = GroupsDto, responses((status = 200, body = GroupsDto), (status = 422, body = Problem)))]
pub async fn put_groups(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(username): ApiPath<String>,
    ApiJson(b): ApiJson<GroupsDto>,
) -> ApiResult<Json<GroupsDto>> {
    Ok(Json(GroupsDto { groups: s.app.set_groups(&ctx.actor(), &username, &b.groups).await? }))
}
