//! Incidents under `/api/v1`: open, list, read (with both SLA clocks and the journal), and
//! move between states.

use super::{ApiResult, rfc3339};
use crate::extract::{ApiJson, ApiPath, Ctx, QueryPairs};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::incidents::{IncidentView, OpenIncident};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::FieldError;
use model::incident::{HoldReason, Move};
use model::sla::{SlaPolicy, SlaTarget};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockDto {
    /// `P1 response`, `P3 resolution`…
    pub name: String,
    /// The SLA policy the target came from: the tightest of the affected services' policies.
    pub policy: String,
    pub target_ms: i64,
    /// `24x7`, or a working-time calendar in the site's zone: `office (Europe/London)`.
    pub calendar: String,
    /// not-started, running, paused, achieved, breached, cancelled.
    pub stage: String,
    pub elapsed_ms: i64,
    pub percent: f64,
    /// While running: when it breaches.
    pub deadline: Option<String>,
    pub breached_at: Option<String>,
    /// Warning thresholds crossed: `{percent, at}`.
    pub warnings: Vec<WarningDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningDto {
    pub percent: u8,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactedDto {
    pub name: String,
    /// down or degraded.
    pub status: String,
    pub criticality: String,
    pub explanation: String,
}

/// A service the incident affected when it was opened (its SLA policy counts).
#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedDto {
    pub name: String,
    /// down or degraded.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalDto {
    pub at: String,
    pub actor: String,
    /// opened, state, assigned, work-note, comment.
    pub kind: String,
    pub state: Option<String>,
    pub hold_reason: Option<String>,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDto {
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub caller: String,
    pub category: String,
    pub subcategory: String,
    pub item: Option<String>,
    pub site: Option<String>,
    pub impact: String,
    pub urgency: String,
    /// 1 (P1, critical) to 5 (P5, planning).
    pub priority: i64,
    /// The matrix the priority came from (`itil v1`), and the reason when it was overridden.
    pub matrix: String,
    pub priority_reason: String,
    /// new, in-progress, on-hold, resolved, closed, cancelled.
    pub state: String,
    pub hold_reason: Option<String>,
    pub assignment_group: String,
    pub assignee: Option<String>,
    pub resolution_code: String,
    pub resolution_notes: String,
    pub opened_at: String,
    pub resolved_at: Option<String>,
    pub version: i64,
    /// Services it affected when it was opened, from the CMDB: their SLA policies set its clocks.
    /// The parent incident, when this one is a child.
    pub parent: Option<String>,
    /// Its children (on a single incident; empty in lists).
    pub children: Vec<String>,
    /// The requester's satisfaction (1–5) when they verified the resolution, and who recorded it.
    pub satisfaction: Option<i64>,
    pub verified_by: Option<String>,
    pub closed_at: Option<String>,
    pub services: Vec<AffectedDto>,
    /// Services the item's failure takes down or degrades (computed from the CMDB).
    pub impacted_services: Vec<ImpactedDto>,
    pub sla: Vec<ClockDto>,
    pub journal: Vec<JournalDto>,
    /// The id of the journal's latest entry: follow the timeline live from here
    /// (`GET /api/v1/incidents/{number}/events?after=…`).
    pub timeline_cursor: i64,
}

fn stage(s: model::sla::Stage) -> &'static str {
    use model::sla::Stage::*;
    match s {
        NotStarted => "not-started",
        Running => "running",
        Paused => "paused",
        Achieved => "achieved",
        Breached => "breached",
        Cancelled => "cancelled",
    }
}

impl From<IncidentView> for IncidentDto {
    fn from(v: IncidentView) -> Self {
        let r = v.row;
        IncidentDto {
            number: r.number,
            short_description: r.short_description,
            description: r.description,
            caller: r.caller,
            category: r.category,
            subcategory: r.subcategory,
            item: r.item,
            site: r.site,
            impact: r.impact,
            urgency: r.urgency,
            priority: r.priority,
            matrix: format!("{} v{}", r.matrix, r.matrix_version),
            priority_reason: r.priority_reason,
            state: r.state,
            hold_reason: r.hold_reason,
            assignment_group: r.assignment_group,
            assignee: r.assignee,
            resolution_code: r.resolution_code,
            resolution_notes: r.resolution_notes,
            opened_at: rfc3339(r.opened_at_ms),
            resolved_at: r.resolved_at_ms.map(rfc3339),
            version: r.version,
            services: v.services.into_iter().map(|s| AffectedDto { name: s.service, status: s.status }).collect(),
            parent: r.parent,
            children: v.children,
            satisfaction: r.satisfaction,
            verified_by: r.verified_by,
            closed_at: r.closed_at_ms.map(rfc3339),
            impacted_services: v
                .impacted
                .into_iter()
                .map(|i| ImpactedDto {
                    name: i.name,
                    status: i.status.into(),
                    criticality: i.criticality,
                    explanation: i.explanation,
                })
                .collect(),
            sla: v
                .clocks
                .into_iter()
                .map(|c| ClockDto {
                    name: c.name,
                    policy: c.policy,
                    target_ms: c.target_ms,
                    calendar: c.calendar,
                    stage: stage(c.state.stage).into(),
                    elapsed_ms: c.state.elapsed_ms,
                    percent: (c.state.percent * 10.0).round() / 10.0,
                    deadline: c.state.deadline.map(rfc3339),
                    breached_at: c.state.breached_at.map(rfc3339),
                    warnings: c
                        .state
                        .warnings
                        .into_iter()
                        .map(|(percent, at)| WarningDto { percent, at: rfc3339(at) })
                        .collect(),
                })
                .collect(),
            journal: v.journal.into_iter().map(JournalDto::from).collect(),
            timeline_cursor: v.journal_cursor,
        }
    }
}

impl From<store::JournalRow> for JournalDto {
    fn from(j: store::JournalRow) -> Self {
        JournalDto {
            at: rfc3339(j.at_ms),
            actor: j.actor,
            kind: j.kind,
            state: j.state,
            hold_reason: j.hold_reason,
            text: j.text,
        }
    }
}

/// An `entry` event of the live timeline: a journal entry and its id.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntryDto {
    /// The entry's id, also the event's id: follow again from here with `after` (or
    /// `Last-Event-ID`).
    pub id: i64,
    #[serde(flatten)]
    pub entry: JournalDto,
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}/events", tag = "incidents",
    params(("number" = String, Path),
        ("after" = Option<i64>, Query, description = "Send the entries written after this one (an entry's id, or `timeline_cursor` from a read); by default only new ones.")),
    responses((status = 200, content_type = "text/event-stream", body = TimelineEntryDto,
        description = "Server-sent events: one `entry` event per journal entry as it is written, its id the entry's; a `Last-Event-ID` header resumes after that entry."),
        (status = 404, body = Problem)))]
/// Follows an incident's timeline as server-sent events.
pub async fn events(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    headers: axum::http::HeaderMap,
    QueryPairs(q): QueryPairs,
) -> ApiResult<axum::response::Response> {
    let after = super::resume_after(&headers, &q)?;
    let actor = ctx.actor();
    let (incident_id, cursor) = s.app.follow_incident(&actor, &number).await?;
    let app = s.app.clone();
    Ok(super::follow("entry", after.unwrap_or(cursor), move |cursor| {
        let (app, actor) = (app.clone(), actor.clone());
        async move {
            let rows = app.incident_timeline(&actor, incident_id, cursor).await.map_err(|e| e.to_string())?;
            Ok(rows
                .into_iter()
                .map(|t| {
                    let id = t.id;
                    (id, serde_json::to_string(&TimelineEntryDto { id, entry: t.entry.into() }).unwrap_or_default())
                })
                .collect())
        }
    }))
}

/// An incident to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDto {
    pub short_description: String,
    #[serde(default)]
    pub description: String,
    pub caller: String,
    /// network, security, server, ot, voice-vtc, crypto, application, facilities, other.
    pub category: String,
    #[serde(default)]
    pub subcategory: String,
    /// A configuration item: `name`, `site/name` or `#id`.
    pub item: Option<String>,
    /// high, medium, low.
    pub impact: String,
    /// high, medium, low.
    pub urgency: String,
    /// Overrides the matrix's priority; needs `priority_reason`.
    pub priority: Option<u8>,
    #[serde(default)]
    pub priority_reason: String,
    #[serde(default)]
    pub assignment_group: String,
}

/// A move to another state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveDto {
    /// in-progress, on-hold, resolved, closed, cancelled.
    pub state: String,
    /// For on-hold: awaiting-caller, awaiting-vendor, awaiting-change, awaiting-problem.
    pub hold_reason: Option<String>,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub resolution_code: String,
    #[serde(default)]
    pub resolution_notes: String,
    #[serde(default)]
    pub cancel_reason: String,
    /// The version read; a change made since is refused with 409.
    pub version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    params(("queue" = Option<String>, Query, description = "open (default), mine, my-groups, unassigned, breaching, major, or all (closed included, newest first)"),
        ("q" = Option<String>, Query, description = "Words to find in the number, description and resolution (full-text; the last word a prefix)"),
        ("priority" = Option<u8>, Query), ("category" = Option<String>, Query), ("group" = Option<String>, Query, description = "Assigned to this group"),
        ("limit" = Option<i64>, Query, description = "1–500, default 100"),
        ("offset" = Option<i64>, Query), ("all" = Option<bool>, Query, description = "The same as queue=all")),
    responses((status = 200, body = Vec<IncidentDto>, description = "Open queues: most urgent and oldest first")))]
pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<IncidentDto>>> {
    let q = app::incidents::Queue::from_query(&pairs).map_err(|i| ApiError::Invalid(i.0))?;
    Ok(Json(s.app.incident_queue(&ctx.actor(), &q).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = OpenDto,
    responses((status = 201, body = IncidentDto), (status = 422, body = Problem)))]
pub async fn open(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<OpenDto>,
) -> ApiResult<(StatusCode, Json<IncidentDto>)> {
    let input = OpenIncident {
        short_description: b.short_description,
        description: b.description,
        caller: b.caller,
        category: b.category,
        subcategory: b.subcategory,
        item: b.item,
        impact: b.impact,
        urgency: b.urgency,
        priority: b.priority,
        priority_reason: b.priority_reason,
        assignment_group: b.assignment_group,
    };
    Ok((StatusCode::CREATED, Json(s.app.open_incident(&ctx.actor(), input).await?.into())))
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}", tag = "incidents", params(("number" = String, Path)),
    responses((status = 200, body = IncidentDto), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<IncidentDto>> {
    Ok(Json(s.app.incident(&ctx.actor(), &number).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/state", tag = "incidents", params(("number" = String, Path)),
    request_body = MoveDto,
    responses((status = 200, body = IncidentDto), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn move_state(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<MoveDto>,
) -> ApiResult<Json<IncidentDto>> {
    let version = b.version;
    let (to, m) = b.into_move()?;
    Ok(Json(s.app.move_incident(&ctx.actor(), &number, to, m, version).await?.into()))
}

impl MoveDto {
    /// The state and what the move carries, every unknown name reported.
    fn into_move(self) -> Result<(model::incident::State, Move), ApiError> {
        let b = self;
        let mut bad = Vec::new();
        let to = model::incident::State::parse(&b.state);
        if to.is_none() {
            bad.push(FieldError::new("state", "in-progress, on-hold, resolved, closed or cancelled"));
        }
        let hold = match b.hold_reason.as_deref() {
            None => None,
            Some(r) => {
                let parsed = HoldReason::parse(r);
                if parsed.is_none() {
                    bad.push(FieldError::new(
                        "hold_reason",
                        "awaiting-caller, awaiting-vendor, awaiting-change or awaiting-problem",
                    ));
                }
                parsed
            }
        };
        let Some(to) = to.filter(|_| bad.is_empty()) else { return Err(ApiError::Invalid(bad)) };
        let m = Move {
            hold_reason: hold,
            comment: b.comment,
            resolution_code: b.resolution_code,
            resolution_notes: b.resolution_notes,
            cancel_reason: b.cancel_reason,
        };
        Ok((to, m))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteDto {
    pub text: String,
    /// A comment the requester sees (true), or a work note for the team (false, default).
    #[serde(default)]
    pub visible: bool,
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/notes", tag = "incidents", params(("number" = String, Path)),
    request_body = NoteDto, responses((status = 200, body = IncidentDto), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn note(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<NoteDto>,
) -> ApiResult<Json<IncidentDto>> {
    Ok(Json(s.app.add_note(&ctx.actor(), &number, &b.text, b.visible).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignDto {
    /// The assignment group: service desk, L2, L3 network, L3 security, a vendor…
    pub group: String,
    /// A user in it, or none yet.
    pub assignee: Option<String>,
    pub version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/assignment", tag = "incidents", params(("number" = String, Path)),
    request_body = AssignDto, responses((status = 200, body = IncidentDto), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn assign(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<AssignDto>,
) -> ApiResult<Json<IncidentDto>> {
    Ok(Json(s.app.assign_incident(&ctx.actor(), &number, &b.group, b.assignee.as_deref(), b.version).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityDto {
    pub impact: String,
    pub urgency: String,
    /// Overrides the matrix; needs `reason`.
    pub priority: Option<u8>,
    #[serde(default)]
    pub reason: String,
    pub version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/priority", tag = "incidents", params(("number" = String, Path)),
    request_body = PriorityDto,
    responses((status = 200, body = IncidentDto, description = "The SLA clocks are recomputed for the new priority; \
        the audit record keeps the deadlines before and after"), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reprioritise(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<PriorityDto>,
) -> ApiResult<Json<IncidentDto>> {
    let v = s.app.reprioritise(&ctx.actor(), &number, &b.impact, &b.urgency, b.priority, &b.reason, b.version).await?;
    Ok(Json(v.into()))
}

/// A working-time calendar: `office` is what P3 and P4 clocks run on.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDto {
    pub name: String,
    /// An IANA time zone, used where the incident's item has no site.
    pub time_zone: String,
    /// Per weekday (`monday` … `sunday`), working windows such as `09:00-17:00`.
    pub days: std::collections::BTreeMap<String, Vec<String>>,
    /// Dates with no working time, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    pub version: i64,
}

/// A calendar to store (what `GET` returns can be sent back as it is).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarInput {
    pub time_zone: String,
    pub days: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Ignored: the path names the calendar.
    pub name: Option<String>,
    /// Ignored.
    pub version: Option<i64>,
}

fn calendar_dto(r: store::CalendarRow) -> CalendarDto {
    let days: Vec<(String, Vec<String>)> = serde_json::from_str(&r.week).unwrap_or_default();
    CalendarDto {
        name: r.name,
        time_zone: r.time_zone,
        days: days.into_iter().collect(),
        holidays: serde_json::from_str(&r.holidays).unwrap_or_default(),
        version: r.version,
    }
}

#[utoipa::path(get, path = "/api/v1/calendars", tag = "incidents", responses((status = 200, body = Vec<CalendarDto>)))]
pub async fn calendars(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<CalendarDto>>> {
    Ok(Json(s.app.calendars(&ctx.actor()).await?.into_iter().map(calendar_dto).collect()))
}

#[utoipa::path(put, path = "/api/v1/calendars/{name}", tag = "incidents", params(("name" = String, Path)),
    request_body = CalendarInput,
    responses((status = 200, body = CalendarDto, description = "Clocks computed from now on use it"),
        (status = 422, body = Problem)))]
pub async fn put_calendar(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<CalendarInput>,
) -> ApiResult<Json<CalendarDto>> {
    let days: Vec<(String, Vec<String>)> = b.days.into_iter().collect();
    let row = s.app.put_calendar(&ctx.actor(), &name, &b.time_zone, &days, &b.holidays).await?;
    Ok(Json(calendar_dto(row)))
}

/// An SLA policy: response and resolution targets per priority, each on a calendar. Services
/// name their policy; an incident's clocks attach to the tightest policy of the services it
/// affects (`standard` when none names one).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicyDto {
    /// Ignored on `PUT`: the path names the policy.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub targets: Vec<SlaTargetDto>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaTargetDto {
    /// 1 to 5.
    pub priority: u8,
    /// Working time to respond (someone takes it), in milliseconds.
    pub response_ms: i64,
    /// Working time to resolve, in milliseconds.
    pub resolution_ms: i64,
    /// `24x7`, or the name of a stored calendar (`office`…).
    pub calendar: String,
}

impl From<SlaPolicy> for SlaPolicyDto {
    fn from(p: SlaPolicy) -> Self {
        SlaPolicyDto {
            name: p.name,
            description: p.description,
            targets: p
                .targets
                .into_iter()
                .map(|t| SlaTargetDto {
                    priority: t.priority,
                    response_ms: t.response_ms,
                    resolution_ms: t.resolution_ms,
                    calendar: t.calendar,
                })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "incidents", responses((status = 200, body = Vec<SlaPolicyDto>)))]
pub async fn sla_policies(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<SlaPolicyDto>>> {
    Ok(Json(s.app.sla_policies(&ctx.actor()).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(put, path = "/api/v1/sla-policies/{name}", tag = "incidents", params(("name" = String, Path)),
    request_body = SlaPolicyDto,
    responses((status = 200, body = SlaPolicyDto, description = "Incidents opened or re-prioritised from now on attach to it"),
        (status = 422, body = Problem)))]
pub async fn put_sla_policy(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<SlaPolicyDto>,
) -> ApiResult<Json<SlaPolicyDto>> {
    let targets = b
        .targets
        .into_iter()
        .map(|t| SlaTarget {
            priority: t.priority,
            response_ms: t.response_ms,
            resolution_ms: t.resolution_ms,
            calendar: t.calendar,
        })
        .collect();
    let p = SlaPolicy { name, description: b.description, targets };
    Ok(Json(s.app.put_sla_policy(&ctx.actor(), p).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/sla-policies/{name}", tag = "incidents", params(("name" = String, Path)),
    responses((status = 204, description = "Removed; running clocks keep their targets"), (status = 404, body = Problem)))]
pub async fn delete_sla_policy(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_sla_policy(&ctx.actor(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The impact × urgency → priority matrix in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatrixDto {
    pub name: String,
    pub version: u32,
    /// Rows, most severe first.
    pub impacts: Vec<String>,
    /// Columns, most urgent first.
    pub urgencies: Vec<String>,
    /// `cells[impact][urgency]`: 1 (P1) to 5 (P5).
    pub cells: Vec<Vec<u8>>,
}

impl From<model::incident::PriorityMatrix> for MatrixDto {
    fn from(m: model::incident::PriorityMatrix) -> Self {
        MatrixDto { name: m.name, version: m.version, impacts: m.impacts, urgencies: m.urgencies, cells: m.cells }
    }
}

/// A new matrix: a preset (`itil`, or `ot` with safety, quality, reliability, operations and
/// other impacts), or a grid of your own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixInput {
    pub preset: Option<String>,
    pub name: Option<String>,
    pub impacts: Option<Vec<String>>,
    pub urgencies: Option<Vec<String>>,
    pub cells: Option<Vec<Vec<u8>>>,
}

#[utoipa::path(get, path = "/api/v1/priority-matrix", tag = "incidents", responses((status = 200, body = MatrixDto)))]
pub async fn priority_matrix(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<MatrixDto>> {
    Ok(Json(s.app.priority_matrix(&ctx.actor()).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/priority-matrix", tag = "incidents", request_body = MatrixInput,
    responses((status = 200, body = MatrixDto, description = "The new version, in force for incidents opened or \
        re-prioritised from now on"), (status = 422, body = Problem)))]
pub async fn put_priority_matrix(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<MatrixInput>,
) -> ApiResult<Json<MatrixDto>> {
    use model::incident::PriorityMatrix;
    let m = match (b.preset.as_deref(), b.impacts, b.urgencies, b.cells) {
        (Some("itil"), None, None, None) => PriorityMatrix::itil(),
        (Some("ot"), None, None, None) => PriorityMatrix::ot(),
        (Some(other), ..) => {
            return Err(ApiError::Invalid(vec![FieldError::new(
                "preset",
                format!("`{other}`: itil or ot, without impacts, urgencies or cells"),
            )]));
        }
        (None, Some(impacts), Some(urgencies), Some(cells)) => {
            PriorityMatrix { name: b.name.unwrap_or_else(|| "custom".into()), version: 0, impacts, urgencies, cells }
        }
        _ => {
            return Err(ApiError::Invalid(vec![FieldError::new(
                "preset",
                "name a preset (itil, ot) or give impacts, urgencies and cells",
            )]));
        }
    };
    Ok(Json(s.app.put_priority_matrix(&ctx.actor(), m).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecurrenceDto {
    /// `item:NAME`, or `category:NAME` for incidents without an item.
    pub key: String,
    pub incidents: Vec<String>,
    pub first: String,
    pub last: String,
}

#[utoipa::path(get, path = "/api/v1/incidents/recurring", tag = "incidents",
    params(("days" = Option<i64>, Query, description = "The window (default 7)"),
        ("min" = Option<usize>, Query, description = "Incidents in it (default 3)")),
    responses((status = 200, body = Vec<RecurrenceDto>, description = "Largest groups first: candidates for a problem"),
        (status = 422, body = Problem)))]
pub async fn recurring(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<RecurrenceDto>>> {
    let (mut days, mut min) = (7i64, 3usize);
    for (k, v) in pairs {
        let bad = |k: &str| ApiError::Invalid(vec![FieldError::new(k, "a whole number")]);
        match k.as_str() {
            "days" => days = v.parse().map_err(|_| bad("days"))?,
            "min" => min = v.parse().map_err(|_| bad("min"))?,
            _ => return Err(ApiError::Invalid(vec![FieldError::new(k, "this takes days and min")])),
        }
    }
    let found = s.app.recurring(&ctx.actor(), days, min).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|r| RecurrenceDto { key: r.key, incidents: r.numbers, first: rfc3339(r.first), last: rfc3339(r.last) })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParentDto {
    /// The parent incident (`INC…`), or null to take it out of its parent.
    pub parent: Option<String>,
    pub version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/parent", tag = "incidents", params(("number" = String, Path)),
    request_body = ParentDto,
    responses((status = 200, body = IncidentDto, description = "Resolving the parent resolves its open children"),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn set_parent(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<ParentDto>,
) -> ApiResult<Json<IncidentDto>> {
    Ok(Json(s.app.set_parent(&ctx.actor(), &number, b.parent.as_deref(), b.version).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationDto {
    /// The requester accepts the resolution (the incident closes) or not (it reopens).
    pub accepted: bool,
    /// 1 (very dissatisfied) to 5 (very satisfied), when accepting.
    pub satisfaction: Option<u8>,
    /// What is still wrong, when rejecting.
    #[serde(default)]
    pub comment: String,
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/verification", tag = "incidents", params(("number" = String, Path)),
    request_body = VerificationDto,
    responses((status = 200, body = IncidentDto, description = "Closed, or reopened"), (status = 422, body = Problem)))]
pub async fn verify(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<VerificationDto>,
) -> ApiResult<Json<IncidentDto>> {
    let v = model::incident::Verification { accepted: b.accepted, satisfaction: b.satisfaction, comment: b.comment };
    Ok(Json(s.app.verify(&ctx.actor(), &number, v).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentDto {
    pub id: i64,
    pub name: String,
    /// As read from the file's bytes.
    pub media_type: String,
    pub label: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

impl From<store::AttachmentMeta> for AttachmentDto {
    fn from(a: store::AttachmentMeta) -> Self {
        AttachmentDto {
            id: a.id,
            name: a.file_name,
            media_type: a.media_type,
            label: a.label,
            size: a.size,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by,
            uploaded_at: rfc3339(a.uploaded_at_ms),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}/attachments", tag = "incidents", params(("number" = String, Path)),
    responses((status = 200, body = Vec<AttachmentDto>)))]
pub async fn attachments(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<Vec<AttachmentDto>>> {
    Ok(Json(s.app.attachments(&ctx.actor(), &number).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{number}/attachments", tag = "incidents",
    params(("number" = String, Path), ("name" = String, Query, description = "The file's name")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file itself, up to 10 MiB (100 MiB per incident). Its kind is read from its bytes: text and logs, packet captures, PDF, PNG/JPEG/GIF, ZIP or gzip."),
    responses((status = 201, body = AttachmentDto), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn attach(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(number): ApiPath<String>,
    QueryPairs(q): QueryPairs,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<AttachmentDto>)> {
    let mut name = None;
    for (k, v) in q {
        match k.as_str() {
            "name" => name = Some(v),
            other => return Err(ApiError::Invalid(vec![FieldError::new(other, "unknown parameter; give `name`")])),
        }
    }
    let Some(name) = name else {
        return Err(ApiError::Invalid(vec![FieldError::new("name", "the file's name: ?name=show-tech.txt")]));
    };
    let a = s.app.attach(&ctx.actor(), &number, &name, &body).await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

#[utoipa::path(get, path = "/api/v1/incidents/{number}/attachments/{id}", tag = "incidents",
    params(("number" = String, Path), ("id" = i64, Path)),
    responses((status = 200, description = "The file, as an attachment download"), (status = 404, body = Problem)))]
pub async fn download(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath((number, id)): ApiPath<(String, String)>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let id: i64 = id.parse().map_err(|_| ApiError::Invalid(vec![FieldError::new("id", "an attachment number")]))?;
    let (meta, bytes) = s.app.attachment(&ctx.actor(), &number, id).await?;
    Ok(crate::console::download(&meta.file_name, &meta.media_type, bytes).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiFiguresDto {
    pub opened: i64,
    pub resolved: i64,
    pub reopened: i64,
    /// Mean time to acknowledge (open → In Progress), minutes.
    pub mtta_minutes: Option<f64>,
    /// Mean time to resolve, minutes.
    pub mttr_minutes: Option<f64>,
    /// Resolution clocks that ended within target, percent.
    pub sla_compliance: Option<f64>,
    /// Resolved by whoever opened them without handing them on, percent.
    pub first_contact_resolution: Option<f64>,
    /// Mean of the requesters' 1–5 scores.
    pub satisfaction: Option<f64>,
}

fn figures(t: &model::kpi::Totals) -> KpiFiguresDto {
    use model::kpi::Counter;
    let round = |v: Option<f64>| v.map(|v| (v * 10.0).round() / 10.0);
    KpiFiguresDto {
        opened: t.get(Counter::Opened),
        resolved: t.get(Counter::Resolved),
        reopened: t.get(Counter::Reopened),
        mtta_minutes: round(t.mtta_minutes()),
        mttr_minutes: round(t.mttr_minutes()),
        sla_compliance: round(t.sla_compliance()),
        first_contact_resolution: round(t.fcr()),
        satisfaction: round(t.satisfaction()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiDayDto {
    pub day: String,
    pub opened: i64,
    pub resolved: i64,
    pub breached: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BacklogDto {
    pub age: String,
    pub open: usize,
    /// P1…P5.
    pub by_priority: [usize; 5],
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountDto {
    pub name: String,
    pub incidents: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiDto {
    pub from: String,
    pub to: String,
    pub totals: KpiFiguresDto,
    /// P1…P5.
    pub by_priority: Vec<KpiFiguresDto>,
    pub days: Vec<KpiDayDto>,
    pub backlog: Vec<BacklogDto>,
    pub top_items: Vec<CountDto>,
    pub top_services: Vec<CountDto>,
    pub top_categories: Vec<CountDto>,
}

#[utoipa::path(get, path = "/api/v1/kpis", tag = "incidents",
    params(("days" = Option<i64>, Query, description = "The window, 1–366 days up to today (default 30)")),
    responses((status = 200, body = KpiDto, description = "From the maintained daily roll-ups"), (status = 403, body = Problem)))]
pub async fn kpis(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> ApiResult<Json<KpiDto>> {
    let mut days = 30;
    for (k, v) in pairs {
        match k.as_str() {
            "days" => days = v.parse().map_err(|_| ApiError::Invalid(vec![FieldError::new("days", "1 to 366")]))?,
            other => return Err(ApiError::Invalid(vec![FieldError::new(other, "the parameter is `days`")])),
        }
    }
    let r = s.app.kpis(&ctx.actor(), days).await?;
    let counts = |v: Vec<(String, i64)>| v.into_iter().map(|(name, incidents)| CountDto { name, incidents }).collect();
    Ok(Json(KpiDto {
        from: r.from_day,
        to: r.to_day,
        totals: figures(&r.totals),
        by_priority: r.by_priority.iter().map(|(_, t)| figures(t)).collect(),
        days: r
            .days
            .into_iter()
            .map(|d| KpiDayDto { day: d.day, opened: d.opened, resolved: d.resolved, breached: d.breached })
            .collect(),
        backlog: r
            .backlog
            .into_iter()
            .map(|(age, open, by_priority)| BacklogDto { age: age.into(), open, by_priority })
            .collect(),
        top_items: counts(r.top_items),
        top_services: counts(r.top_services),
        top_categories: counts(r.top_categories),
    }))
}

/// One action on many incidents: exactly one of `assign`, `state` or `note`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDto {
    /// The incidents, at most 200.
    pub numbers: Vec<String>,
    /// Hand them to a group (and a person in it); `version` has no place here.
    pub assign: Option<AssignDto>,
    /// Move them to a state; `version` has no place here.
    pub state: Option<MoveDto>,
    /// The same work note or comment on each.
    pub note: Option<NoteDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRefusedDto {
    pub number: String,
    /// Why, as the incident's own route would have answered.
    pub problem: Problem,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResultDto {
    /// The incidents changed, each in its own transaction with its own audit record.
    pub updated: Vec<String>,
    /// The incidents left as they were, with why.
    pub refused: Vec<BulkRefusedDto>,
}

#[utoipa::path(post, path = "/api/v1/incidents/bulk", tag = "incidents", request_body = BulkDto,
    responses((status = 200, body = BulkResultDto, description = "Each incident changed or refused on its own; a refusal does not stop the others."),
        (status = 422, body = Problem, description = "The action itself is wrong: nothing was changed.")))]
/// Assigns, moves or annotates many incidents at once (a queue's bulk action).
pub async fn bulk(State(s): State<AppState>, ctx: Ctx, ApiJson(b): ApiJson<BulkDto>) -> ApiResult<Json<BulkResultDto>> {
    use app::incidents::BulkAction;
    let versioned =
        b.assign.as_ref().is_some_and(|a| a.version.is_some()) || b.state.as_ref().is_some_and(|m| m.version.is_some());
    if versioned {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "version",
            "a bulk action applies to each incident as it stands; leave `version` out",
        )]));
    }
    let action = match (b.assign, b.state, b.note) {
        (Some(a), None, None) => BulkAction::Assign { group: a.group, assignee: a.assignee },
        (None, Some(m), None) => {
            let (to, how) = m.into_move()?;
            BulkAction::Move { to, how }
        }
        (None, None, Some(n)) => BulkAction::Note { text: n.text, visible: n.visible },
        _ => {
            return Err(ApiError::Invalid(vec![FieldError::new(
                "action",
                "give exactly one of `assign`, `state` or `note`",
            )]));
        }
    };
    let out = s.app.bulk_update(&ctx.actor(), &b.numbers, &action).await?;
    Ok(Json(BulkResultDto {
        updated: out.updated,
        refused: out
            .refused
            .into_iter()
            .map(|(number, e)| BulkRefusedDto { number, problem: ApiError::from(e).problem() })
            .collect(),
    }))
}

/// A saved view of the incident queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedFilterDto {
    pub id: i64,
    pub owner: String,
    pub name: String,
    /// The queue's parameters: `GET /api/v1/incidents?{query}` lists what it shows.
    pub query: String,
    /// Everyone who reads incidents sees it.
    pub shared: bool,
    pub updated_at: String,
}

impl From<app::filters::SavedFilterRow> for SavedFilterDto {
    fn from(f: app::filters::SavedFilterRow) -> Self {
        SavedFilterDto {
            id: f.id,
            owner: f.owner,
            name: f.name,
            query: f.query,
            shared: f.shared,
            updated_at: rfc3339(f.updated_at_ms),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveFilterDto {
    /// Unique among the account's own filters; saving under a name it has replaces it.
    pub name: String,
    /// The queue's parameters as a query string: queue, q, priority, category, group (`queue=breaching&priority=1`).
    pub query: String,
    /// Share it with everyone who reads incidents (needs the permission to work them).
    #[serde(default)]
    pub shared: bool,
}

#[utoipa::path(get, path = "/api/v1/saved-filters", tag = "incidents",
    responses((status = 200, body = Vec<SavedFilterDto>, description = "The caller's own filters, then everyone's shared ones")))]
pub async fn saved_filters(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<SavedFilterDto>>> {
    Ok(Json(s.app.saved_filters(&ctx.actor()).await?.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/saved-filters", tag = "incidents", request_body = SaveFilterDto,
    responses((status = 200, body = SavedFilterDto), (status = 422, body = Problem)))]
pub async fn save_filter(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(b): ApiJson<SaveFilterDto>,
) -> ApiResult<Json<SavedFilterDto>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(b.query.trim_start_matches('?'))
        .map_err(|e| ApiError::Invalid(vec![FieldError::new("query", format!("not a query string: {e}"))]))?;
    Ok(Json(s.app.save_filter(&ctx.actor(), &b.name, &pairs, b.shared).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/saved-filters/{id}", tag = "incidents", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_filter(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    s.app.delete_filter(&ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
