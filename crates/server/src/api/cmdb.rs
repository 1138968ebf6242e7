//! The CMDB under `/api/v1`: sites, items (with history and "as of" reads), relationships,
//! redundancy groups, the class hierarchy, dependency trees and impact analysis.

use super::{ApiResult, ListParams, Page, parse_rfc3339, rfc3339};
use crate::extract::{ApiJson, ApiPath, Ctx, QueryPairs};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::cmdb::ItemInput;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::cmdb::{ItemFields, RelationKind};
use model::list;
use model::{FieldError, Invalid};
use serde::{Deserialize, Serialize};
use store::{ItemRow, RelationshipRow, Target};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteDto {
    pub slug: String,
    pub name: String,
    /// plant, datacentre, office, substation…
    pub kind: String,
    /// OT, IT, DMZ…
    pub zone: String,
    /// The Purdue model level, for plant sites.
    pub purdue_level: Option<i64>,
    pub criticality: String,
    /// IANA time zone, e.g. Europe/London.
    pub time_zone: String,
}

#[utoipa::path(get, path = "/api/v1/sites", tag = "cmdb", params(ListParams, ("kind" = Option<String>, Query)),
    responses((status = 200, body = Page<SiteDto>), (status = 400, body = Problem)))]
pub async fn list_sites(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Page<SiteDto>>> {
    let q = list::parse(&store::SITE_LIST, &pairs)?;
    let (rows, total) = s.app.list_sites(&ctx.actor(), &q).await?;
    let items = rows
        .into_iter()
        .map(|r| SiteDto {
            slug: r.slug,
            name: r.name,
            kind: r.kind,
            zone: r.zone,
            purdue_level: r.purdue_level,
            criticality: r.criticality,
            time_zone: r.time_zone,
        })
        .collect();
    Ok(Json(Page::new(items, total, &q)))
}

/// A configuration item. History versions carry the same shape.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemDto {
    pub id: i64,
    pub name: String,
    /// A class from `/api/v1/classes`.
    pub class: String,
    /// Site slug; null for items that belong to no site (services, applications, cloud).
    pub site: Option<String>,
    pub parent_id: Option<i64>,
    pub parent: Option<String>,
    pub vendor: String,
    pub model: String,
    pub os_version: String,
    pub serial: String,
    pub asset_tag: String,
    pub mgmt_address: String,
    pub status: String,
    pub criticality: String,
    pub support_group: String,
    pub owner: String,
    pub description: String,
    /// The SLA policy a service is held to.
    pub sla_policy: String,
    pub contract_id: Option<i64>,
    pub purchased_on: Option<String>,
    pub warranty_ends_on: Option<String>,
    pub end_of_sale_on: Option<String>,
    pub end_of_support_on: Option<String>,
    pub end_of_life_on: Option<String>,
    /// Custom attributes.
    #[schema(value_type = Object)]
    pub attrs: serde_json::Value,
    /// Increases with every change; send it back with `PUT` to detect conflicting edits.
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<ItemRow> for ItemDto {
    fn from(i: ItemRow) -> Self {
        ItemDto {
            attrs: serde_json::from_str(&i.attrs).unwrap_or_else(|_| serde_json::json!({})),
            id: i.id,
            name: i.name,
            class: i.class,
            site: i.site,
            parent_id: i.parent_id,
            parent: i.parent,
            vendor: i.vendor,
            model: i.model,
            os_version: i.os_version,
            serial: i.serial,
            asset_tag: i.asset_tag,
            mgmt_address: i.mgmt_address,
            status: i.status,
            criticality: i.criticality,
            support_group: i.support_group,
            owner: i.owner,
            description: i.description,
            sla_policy: i.sla_policy,
            contract_id: i.contract_id,
            purchased_on: i.purchased_on,
            warranty_ends_on: i.warranty_ends_on,
            end_of_sale_on: i.end_of_sale_on,
            end_of_support_on: i.end_of_support_on,
            end_of_life_on: i.end_of_life_on,
            version: i.version,
            created_at_ms: i.created_at_ms,
            updated_at_ms: i.updated_at_ms,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/items", tag = "cmdb",
    params(ListParams, ("class" = Option<String>, Query, description = "A class, or a family such as network-device"),
        ("site" = Option<String>, Query), ("vendor" = Option<String>, Query),
        ("status" = Option<String>, Query), ("criticality" = Option<String>, Query)),
    responses((status = 200, body = Page<ItemDto>), (status = 400, body = Problem)))]
pub async fn list_items(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Page<ItemDto>>> {
    let q = list::parse(&store::ITEM_LIST, &pairs)?;
    let (rows, total) = s.app.list_items(&ctx.actor(), &q).await?;
    Ok(Json(Page::new(rows.into_iter().map(ItemDto::from).collect(), total, &q)))
}

/// What a client sends to create or replace an item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub name: String,
    pub class: String,
    /// Site slug; omit for items that belong to no site.
    pub site: Option<String>,
    pub parent_id: Option<i64>,
    /// The support contract that covers it (`/api/v1/contracts`).
    pub contract_id: Option<i64>,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub os_version: String,
    #[serde(default)]
    pub serial: String,
    #[serde(default)]
    pub asset_tag: String,
    #[serde(default)]
    pub mgmt_address: String,
    /// Default `operational`.
    pub status: Option<String>,
    /// Default `medium`.
    pub criticality: Option<String>,
    #[serde(default)]
    pub support_group: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub sla_policy: String,
    pub purchased_on: Option<String>,
    pub warranty_ends_on: Option<String>,
    pub end_of_sale_on: Option<String>,
    pub end_of_support_on: Option<String>,
    pub end_of_life_on: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attrs: serde_json::Map<String, serde_json::Value>,
    /// Required with `PUT`: the version the change was made against.
    pub version: Option<i64>,
}

impl ItemBody {
    fn into_input(self) -> ItemInput {
        ItemInput {
            site: self.site,
            parent: self.parent_id,
            contract: self.contract_id,
            fields: ItemFields {
                name: self.name,
                class: self.class,
                vendor: self.vendor,
                model: self.model,
                os_version: self.os_version,
                serial: self.serial,
                asset_tag: self.asset_tag,
                mgmt_address: self.mgmt_address,
                status: self.status.unwrap_or_else(|| "operational".into()),
                criticality: self.criticality.unwrap_or_else(|| "medium".into()),
                support_group: self.support_group,
                owner: self.owner,
                description: self.description,
                sla_policy: self.sla_policy,
                purchased_on: self.purchased_on,
                warranty_ends_on: self.warranty_ends_on,
                end_of_sale_on: self.end_of_sale_on,
                end_of_support_on: self.end_of_support_on,
                end_of_life_on: self.end_of_life_on,
                attrs: self.attrs,
            },
        }
    }
}

fn item_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::Invalid(vec![FieldError::new("id", format!("`{raw}` is not an item id"))]))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AsOfParams {
    /// RFC 3339: the item as it was then, from its history.
    as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "cmdb", params(("id" = i64, Path), AsOfParams),
    responses((status = 200, body = ItemDto), (status = 404, body = Problem)))]
pub async fn get_item(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<ItemDto>> {
    let id = item_id(&id)?;
    match as_of_param(&pairs)? {
        None => Ok(Json(s.app.item(&ctx.actor(), id).await?.into())),
        Some(at) => {
            let v = s.app.item_as_of(&ctx.actor(), id, at).await?;
            let dto: ItemDto = serde_json::from_str(&v.snapshot).map_err(|_| ApiError::Internal)?;
            Ok(Json(dto))
        }
    }
}

#[utoipa::path(post, path = "/api/v1/items", tag = "cmdb", request_body = ItemBody,
    responses((status = 201, body = ItemDto), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn create_item(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ItemBody>,
) -> ApiResult<(StatusCode, Json<ItemDto>)> {
    if body.version.is_some() {
        return Err(ApiError::Invalid(vec![FieldError::new("version", "a new item has no version; leave it out")]));
    }
    let row = s.app.create_item(&ctx.actor(), body.into_input()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(put, path = "/api/v1/items/{id}", tag = "cmdb", params(("id" = i64, Path)), request_body = ItemBody,
    responses((status = 200, body = ItemDto), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn replace_item(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ItemBody>,
) -> ApiResult<Json<ItemDto>> {
    let id = item_id(&id)?;
    let Some(version) = body.version else {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "version",
            "send the version you read, so a change made meanwhile is not overwritten",
        )]));
    };
    let row = s.app.update_item(&ctx.actor(), id, version, body.into_input()).await?;
    Ok(Json(row.into()))
}

#[utoipa::path(delete, path = "/api/v1/items/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_item(State(s): State<AppState>, ctx: Ctx, ApiPath(id): ApiPath<String>) -> ApiResult<StatusCode> {
    s.app.delete_item(&ctx.actor(), item_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDto {
    pub version: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    /// create, update or delete.
    pub change: String,
    /// The item after the change (before it, for a delete).
    pub item: ItemDto,
}

#[utoipa::path(get, path = "/api/v1/items/{id}/history", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<VersionDto>), (status = 404, body = Problem)))]
pub async fn item_history(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<VersionDto>>> {
    let versions = s.app.item_history(&ctx.actor(), item_id(&id)?).await?;
    let mut out = Vec::with_capacity(versions.len());
    for v in versions {
        let item: ItemDto = serde_json::from_str(&v.snapshot).map_err(|_| ApiError::Internal)?;
        out.push(VersionDto { version: v.version, at: rfc3339(v.at_ms), actor: v.actor, change: v.change, item });
    }
    Ok(Json(out))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RelationshipDto {
    pub id: i64,
    pub from_id: i64,
    pub from: String,
    /// runs-on, depends-on, connected-to, protected-by, backed-up-by, managed-by.
    pub kind: String,
    pub to_id: Option<i64>,
    pub to: Option<String>,
    pub to_group_id: Option<i64>,
    pub to_group: Option<String>,
}

impl From<RelationshipRow> for RelationshipDto {
    fn from(r: RelationshipRow) -> Self {
        RelationshipDto {
            id: r.id,
            from_id: r.from_id,
            from: r.from_name,
            kind: r.kind,
            to_id: r.to_id,
            to: r.to_name,
            to_group_id: r.to_group_id,
            to_group: r.to_group_name,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/items/{id}/relationships", tag = "cmdb", params(("id" = i64, Path), AsOfParams),
    responses((status = 200, body = Vec<RelationshipDto>, description = "Now: relationships from the item, to it, and \
        to groups it is a member of. With `as_of`: those from it and to it directly, as they stood then"),
        (status = 404, body = Problem)))]
pub async fn item_relationships(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Vec<RelationshipDto>>> {
    let id = item_id(&id)?;
    let as_of = as_of_param(&pairs)?;
    let rows = match as_of {
        None => s.app.item_relationships(&ctx.actor(), id).await?,
        Some(at) => s.app.relationships_as_of(&ctx.actor(), id, at).await?,
    };
    Ok(Json(rows.into_iter().map(RelationshipDto::from).collect()))
}

/// `?as_of=` and nothing else.
fn as_of_param(pairs: &[(String, String)]) -> Result<Option<i64>, ApiError> {
    let mut as_of = None;
    for (k, v) in pairs {
        match k.as_str() {
            "as_of" => as_of = Some(parse_rfc3339("as_of", v).map_err(|e| ApiError::Invalid(vec![e]))?),
            other => {
                return Err(ApiError::Invalid(vec![FieldError::new(
                    other,
                    "unknown parameter; this takes only `as_of`",
                )]));
            }
        }
    }
    Ok(as_of)
}

/// A relationship added to or removed from an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationshipChangeDto {
    pub relationship_id: i64,
    /// add or remove.
    pub change: String,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    pub from_id: i64,
    pub from: String,
    pub kind: String,
    pub to_id: Option<i64>,
    pub to: Option<String>,
    pub to_group_id: Option<i64>,
    pub to_group: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/items/{id}/relationship-history", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RelationshipChangeDto>, description = "Oldest first"),
        (status = 404, body = Problem)))]
pub async fn item_relationship_history(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<RelationshipChangeDto>>> {
    let changes = s.app.relationship_changes(&ctx.actor(), item_id(&id)?).await?;
    Ok(Json(
        changes
            .into_iter()
            .map(|c| RelationshipChangeDto {
                relationship_id: c.relationship_id,
                change: c.change,
                at: rfc3339(c.at_ms),
                actor: c.actor,
                from_id: c.from_id,
                from: c.from_name,
                kind: c.kind,
                to_id: c.to_id,
                to: c.to_name,
                to_group_id: c.to_group_id,
                to_group: c.to_group_name,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TreeLineDto {
    pub depth: usize,
    pub id: i64,
    pub name: String,
    pub class: Option<String>,
    pub is_group: bool,
    pub via: Option<String>,
    pub repeated: bool,
}

#[utoipa::path(get, path = "/api/v1/items/{id}/dependencies", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TreeLineDto>, description = "Depth-first; a node met again is listed with `repeated` and not expanded"),
        (status = 404, body = Problem)))]
pub async fn item_dependencies(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<TreeLineDto>>> {
    let lines = s.app.dependency_tree(&ctx.actor(), item_id(&id)?).await?;
    Ok(Json(
        lines
            .into_iter()
            .map(|l| TreeLineDto {
                depth: l.depth,
                id: l.id,
                name: l.name,
                class: l.class,
                is_group: l.is_group,
                via: l.via.map(str::to_owned),
                repeated: l.repeated,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipBody {
    pub from: i64,
    pub kind: String,
    /// An item id; give this or `to_group`.
    pub to: Option<i64>,
    /// A redundancy group id.
    pub to_group: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/relationships", tag = "cmdb", request_body = RelationshipBody,
    responses((status = 201, body = RelationshipDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_relationship(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<RelationshipBody>,
) -> ApiResult<(StatusCode, Json<RelationshipDto>)> {
    let mut errors = Vec::new();
    let kind = body.kind.parse::<RelationKind>().map_err(|e| errors.push(FieldError::new("kind", e.to_string()))).ok();
    let target = match (body.to, body.to_group) {
        (Some(i), None) => Some(Target::Item(i)),
        (None, Some(g)) => Some(Target::Group(g)),
        _ => {
            errors
                .push(FieldError::new("to", "give exactly one of `to` (an item) and `to_group` (a redundancy group)"));
            None
        }
    };
    Invalid::check(errors).map_err(|e| ApiError::Invalid(e.0))?;
    let (Some(kind), Some(target)) = (kind, target) else { return Err(ApiError::Internal) };
    let row = s.app.relate(&ctx.actor(), body.from, kind, target).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(delete, path = "/api/v1/relationships/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_relationship(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let id = id.parse::<i64>().map_err(|_| ApiError::Invalid(vec![FieldError::new("id", "not a relationship id")]))?;
    s.app.unrelate(&ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDto {
    pub id: i64,
    pub name: String,
    /// hsrp, vrrp, glbp, cluster, virtual-chassis, dual-link, other.
    pub kind: String,
    pub site: Option<String>,
    pub members: i64,
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "cmdb",
    responses((status = 200, body = Vec<GroupDto>, description = "Redundancy groups: down only when every member is down")))]
pub async fn list_groups(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<GroupDto>>> {
    let groups = s.app.groups(&ctx.actor()).await?;
    Ok(Json(
        groups
            .into_iter()
            .map(|g| GroupDto { id: g.id, name: g.name, kind: g.kind, site: g.site, members: g.members })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    pub name: String,
    pub kind: String,
    pub site: Option<String>,
    /// Item ids, at least two.
    pub members: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/groups", tag = "cmdb", request_body = GroupBody,
    responses((status = 201, body = GroupDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_group(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<GroupBody>,
) -> ApiResult<(StatusCode, Json<GroupDto>)> {
    let id = s.app.create_group(&ctx.actor(), &body.name, &body.kind, body.site.as_deref(), &body.members).await?;
    let members = i64::try_from(body.members.len()).unwrap_or(i64::MAX);
    Ok((StatusCode::CREATED, Json(GroupDto { id, name: body.name, kind: body.kind, site: body.site, members })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassDto {
    pub slug: &'static str,
    pub parent: Option<&'static str>,
    pub label: &'static str,
    /// Groups other classes; items take a concrete class.
    pub is_abstract: bool,
}

#[utoipa::path(get, path = "/api/v1/classes", tag = "cmdb", responses((status = 200, body = Vec<ClassDto>)))]
pub async fn list_classes(ctx: Ctx) -> ApiResult<Json<Vec<ClassDto>>> {
    ctx.actor().require(model::Perm::CmdbRead)?;
    Ok(Json(
        model::cmdb::CLASSES
            .iter()
            .map(|c| ClassDto { slug: c.slug, parent: c.parent, label: c.label, is_abstract: c.is_abstract })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceVerdictDto {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub criticality: String,
    /// down, degraded or unaffected.
    pub status: String,
    /// Names from the service to a failed item; `[name]` is a redundancy group.
    pub path: Vec<String>,
    pub explanation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedItemDto {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub site: Option<String>,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactDto {
    pub failed: Vec<String>,
    /// Down first, then degraded, then unaffected.
    pub services: Vec<ServiceVerdictDto>,
    pub items_down: usize,
    pub items_degraded: usize,
    pub items: Vec<AffectedItemDto>,
    pub items_truncated: bool,
}

#[utoipa::path(get, path = "/api/v1/impact", tag = "cmdb",
    params(("item" = Vec<String>, Query, description = "An item that fails: name, site/name or #id; repeat for several")),
    responses((status = 200, body = ImpactDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn impact(State(s): State<AppState>, ctx: Ctx, QueryPairs(pairs): QueryPairs) -> ApiResult<Json<ImpactDto>> {
    let mut items = Vec::new();
    for (k, v) in pairs {
        if k == "item" {
            items.push(v);
        } else {
            return Err(ApiError::Invalid(vec![FieldError::new(k, "unknown parameter; this takes only `item`")]));
        }
    }
    let r = s.app.impact(&ctx.actor(), &items).await?;
    Ok(Json(ImpactDto {
        failed: r.failed,
        services: r
            .services
            .into_iter()
            .map(|v| ServiceVerdictDto {
                id: v.id,
                name: v.name,
                class: v.class,
                criticality: v.criticality,
                status: v.status.to_owned(),
                path: v.path,
                explanation: v.explanation,
            })
            .collect(),
        items_down: r.items_down,
        items_degraded: r.items_degraded,
        items: r
            .items
            .into_iter()
            .map(|i| AffectedItemDto {
                id: i.id,
                name: i.name,
                class: i.class,
                site: i.site,
                status: i.status.to_owned(),
            })
            .collect(),
        items_truncated: r.items_truncated,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RiskParams {
    /// Lifecycle dates due within this many months count as ageing (default 12, at most 120).
    within_months: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/risk", tag = "cmdb", params(RiskParams),
    responses((status = 200, body = Object, description = "`ageing` (end of support, end of life or warranty passed or \
        due), `single_points_of_failure` (per critical or high service, the items whose failure alone takes it down), \
        `without_owner`, `without_contract` (hardware and circuits no live contract covers), `contracts_due` and \
        `firmware` (items behind their firmware baseline)"), (status = 422, body = Problem)))]
pub async fn risk(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<app::RiskReport>> {
    let mut months = 12;
    for (k, v) in &pairs {
        match (k.as_str(), v.parse::<u32>()) {
            ("within_months", Ok(n)) if (1..=120).contains(&n) => months = n,
            ("within_months", _) => {
                return Err(ApiError::Invalid(vec![FieldError::new(
                    "within_months",
                    "a number of months from 1 to 120",
                )]));
            }
            (other, _) => {
                return Err(ApiError::Invalid(vec![FieldError::new(
                    other,
                    "unknown parameter; this takes only `within_months`",
                )]));
            }
        }
    }
    Ok(Json(s.app.risk(&ctx.actor(), months).await?))
}

/// A business or technical service and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDto {
    pub id: i64,
    pub name: String,
    /// business-service or technical-service.
    pub class: String,
    pub criticality: String,
    pub owner: String,
    pub support_group: String,
    pub sla_policy: String,
    /// down, degraded or unaffected, given the items recorded as failed or offline.
    pub status: String,
    /// Items and groups it stands on, directly or not.
    pub dependencies: usize,
}

#[utoipa::path(get, path = "/api/v1/services", tag = "cmdb",
    responses((status = 200, body = Vec<ServiceDto>, description = "Every service, down and degraded first, then by criticality and name; none for site-scoped accounts, \
        since services span sites")))]
pub async fn list_services(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<ServiceDto>>> {
    let services = s.app.services(&ctx.actor()).await?;
    Ok(Json(
        services
            .into_iter()
            .map(|v| ServiceDto {
                id: v.id,
                name: v.name,
                class: v.class,
                criticality: v.criticality,
                owner: v.owner,
                support_group: v.support_group,
                sla_policy: v.sla_policy,
                status: v.status.to_owned(),
                dependencies: v.dependencies,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/services/{id}/map", tag = "cmdb",
    params(("id" = i64, Path), ("fail" = Option<Vec<i64>>, Query, description = "Item ids to fail (repeat the parameter); \
        without it, the items recorded as failed or offline")),
    responses((status = 200, body = Object, description = "`service`, its `status` and explaining `path` under the \
        failures, `nodes` (the dependency tree, each with `health` and whether it was `failed`) and \
        `single_points_of_failure`"), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn service_map(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<app::services::ServiceMap>> {
    let id = item_id(&id)?;
    let mut fail: Option<Vec<i64>> = None;
    for (k, v) in &pairs {
        match k.as_str() {
            "fail" => {
                fail.get_or_insert_with(Vec::new).push(v.parse().map_err(|_| {
                    ApiError::Invalid(vec![FieldError::new("fail", format!("`{v}` is not an item id"))])
                })?)
            }
            other => {
                return Err(ApiError::Invalid(vec![FieldError::new(
                    other,
                    "unknown parameter; this takes only `fail`",
                )]));
            }
        }
    }
    Ok(Json(s.app.service_map(&ctx.actor(), id, fail.as_deref()).await?))
}

/// A custom attribute of a class (and the classes below it), kept in items' `attrs`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDto {
    /// Ignored when sent.
    #[serde(default)]
    pub id: i64,
    /// A class or family from `/api/v1/classes`.
    pub class: String,
    /// The key in `attrs`.
    pub name: String,
    /// text, integer, decimal, boolean, date, choice or url.
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    /// The allowed values of a choice.
    #[serde(default)]
    pub choices: Vec<String>,
    #[serde(default)]
    pub description: String,
}

impl From<app::attributes::AttributeView> for AttributeDto {
    fn from(v: app::attributes::AttributeView) -> Self {
        let d = v.def;
        AttributeDto {
            id: v.id,
            class: d.class,
            name: d.name,
            kind: d.kind,
            required: d.required,
            choices: d.choices,
            description: d.description,
        }
    }
}

impl From<AttributeDto> for model::attributes::AttributeDef {
    fn from(d: AttributeDto) -> Self {
        model::attributes::AttributeDef {
            class: d.class,
            name: d.name,
            kind: d.kind,
            required: d.required,
            choices: d.choices,
            description: d.description,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/attribute-definitions", tag = "cmdb",
    responses((status = 200, body = Vec<AttributeDto>)))]
pub async fn list_attribute_defs(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<AttributeDto>>> {
    Ok(Json(s.app.attribute_defs(&ctx.actor()).await?.into_iter().map(AttributeDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/attribute-definitions", tag = "cmdb", request_body = AttributeDto,
    responses((status = 201, body = AttributeDto), (status = 422, body = Problem, description = "Invalid, or required \
        while items of the class lack it")))]
pub async fn create_attribute_def(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<AttributeDto>,
) -> ApiResult<(StatusCode, Json<AttributeDto>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_attribute_def(&ctx.actor(), body.into()).await?.into())))
}

#[utoipa::path(put, path = "/api/v1/attribute-definitions/{id}", tag = "cmdb", params(("id" = i64, Path)),
    request_body = AttributeDto,
    responses((status = 200, body = AttributeDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_attribute_def(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AttributeDto>,
) -> ApiResult<Json<AttributeDto>> {
    Ok(Json(s.app.update_attribute_def(&ctx.actor(), item_id(&id)?, body.into()).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/attribute-definitions/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_attribute_def(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_attribute_def(&ctx.actor(), item_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
