//! The vendor register under `/api/v1`: vendors and carriers with their escalation ladders,
//! support contracts and firmware baselines.

use super::{ApiResult, ListParams, Page};
use crate::extract::{ApiJson, ApiPath, Ctx, QueryPairs};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use app::suppliers::{BaselineView, ContractView, vendor_fields};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::firmware::Baseline;
use model::list::{self, ListQuery, ListSpec};
use model::supplier::{Contact, ContractFields, VendorFields};
use model::{FieldError, Invalid};
use serde::{Deserialize, Serialize};
use store::VendorRow;
use utoipa::ToSchema;

pub const VENDOR_LIST: ListSpec =
    ListSpec { sortable: &["name", "slug", "kind"], default_sort: "name", filters: &["kind"] };

pub const CONTRACT_LIST: ListSpec = ListSpec {
    sortable: &["vendor", "reference", "ends_on"],
    default_sort: "ends_on",
    filters: &["vendor", "standing"],
};

/// Pages a small register held in memory by the list convention: `q` searches `text`,
/// `sort` orders by `key`.
fn page<T>(mut rows: Vec<T>, q: &ListQuery, text: impl Fn(&T) -> String, key: impl Fn(&T, &str) -> String) -> Page<T> {
    if let Some(needle) = &q.q {
        let needle = needle.to_lowercase();
        rows.retain(|r| text(r).to_lowercase().contains(&needle));
    }
    rows.sort_by_cached_key(|r| key(r, q.sort.field));
    if q.sort.descending {
        rows.reverse();
    }
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let items = rows.into_iter().skip(usize::try_from(q.offset).unwrap_or(usize::MAX)).take(q.limit as usize).collect();
    Page::new(items, total, q)
}

/// One rung of a vendor's escalation ladder.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactDto {
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// 1 (first call) to 5.
    pub level: u8,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VendorDto {
    pub slug: String,
    pub name: String,
    /// oem, carrier, reseller, integrator or service-provider.
    pub kind: String,
    /// The support desk's number.
    pub phone: String,
    pub email: String,
    pub portal: String,
    /// How to escalate.
    pub escalation: String,
    /// The escalation ladder, first call first.
    pub contacts: Vec<ContactDto>,
    /// Contracts held with this vendor.
    pub contracts: i64,
}

impl From<VendorRow> for VendorDto {
    fn from(r: VendorRow) -> Self {
        let f = vendor_fields(&r);
        let contacts = f
            .ladder()
            .into_iter()
            .map(|c| ContactDto {
                name: c.name.clone(),
                role: c.role.clone(),
                phone: c.phone.clone(),
                email: c.email.clone(),
                level: c.level,
            })
            .collect();
        VendorDto {
            slug: f.slug,
            name: f.name,
            kind: f.kind,
            phone: f.phone,
            email: f.email,
            portal: f.portal,
            escalation: f.escalation,
            contacts,
            contracts: r.contracts,
        }
    }
}

/// What a client sends to create or replace a vendor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorBody {
    pub slug: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub portal: String,
    #[serde(default)]
    pub escalation: String,
    #[serde(default)]
    pub contacts: Vec<ContactDto>,
}

impl From<VendorBody> for VendorFields {
    fn from(b: VendorBody) -> Self {
        VendorFields {
            slug: b.slug,
            name: b.name,
            kind: b.kind,
            phone: b.phone,
            email: b.email,
            portal: b.portal,
            escalation: b.escalation,
            contacts: b
                .contacts
                .into_iter()
                .map(|c| Contact { name: c.name, role: c.role, phone: c.phone, email: c.email, level: c.level })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/vendors", tag = "vendors", params(ListParams, ("kind" = Option<String>, Query)),
    responses((status = 200, body = Page<VendorDto>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list_vendors(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Page<VendorDto>>> {
    let q = list::parse(&VENDOR_LIST, &pairs)?;
    let mut rows = s.app.vendors(&ctx.actor()).await?;
    if let Some(kind) = q.filter("kind") {
        rows.retain(|r| r.kind == kind);
    }
    let p = page(
        rows,
        &q,
        |r| format!("{} {} {}", r.slug, r.name, r.email),
        |r, field| match field {
            "slug" => r.slug.clone(),
            "kind" => format!("{}\n{}", r.kind, r.name.to_lowercase()),
            _ => r.name.to_lowercase(),
        },
    );
    Ok(Json(Page {
        items: p.items.into_iter().map(VendorDto::from).collect(),
        total: p.total,
        limit: p.limit,
        offset: p.offset,
    }))
}

#[utoipa::path(get, path = "/api/v1/vendors/{slug}", tag = "vendors", params(("slug" = String, Path)),
    responses((status = 200, body = VendorDto), (status = 404, body = Problem)))]
pub async fn get_vendor(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(slug): ApiPath<String>,
) -> ApiResult<Json<VendorDto>> {
    Ok(Json(s.app.vendor(&ctx.actor(), &slug).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/vendors", tag = "vendors", request_body = VendorBody,
    responses((status = 201, body = VendorDto), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn create_vendor(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<VendorBody>,
) -> ApiResult<(StatusCode, Json<VendorDto>)> {
    let row = s.app.create_vendor(&ctx.actor(), body.into()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(put, path = "/api/v1/vendors/{slug}", tag = "vendors", params(("slug" = String, Path)),
    request_body = VendorBody,
    responses((status = 200, body = VendorDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_vendor(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<VendorBody>,
) -> ApiResult<Json<VendorDto>> {
    Ok(Json(s.app.update_vendor(&ctx.actor(), &slug, body.into()).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/vendors/{slug}", tag = "vendors", params(("slug" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem,
        description = "The vendor still has contracts")))]
pub async fn delete_vendor(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(slug): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_vendor(&ctx.actor(), &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractDto {
    pub id: i64,
    /// The vendor's slug.
    pub vendor: String,
    pub vendor_name: String,
    pub reference: String,
    pub support_level: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub contact: String,
    pub escalation: String,
    /// not-started, active, expiring (ends within 90 days) or expired.
    pub standing: String,
    /// Items it covers.
    pub items: i64,
}

impl From<ContractView> for ContractDto {
    fn from(v: ContractView) -> Self {
        let r = v.row;
        ContractDto {
            id: r.id,
            vendor: r.vendor,
            vendor_name: r.vendor_name,
            reference: r.reference,
            support_level: r.support_level,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            contact: r.contact,
            escalation: r.escalation,
            standing: v.standing.as_str().to_owned(),
            items: r.items,
        }
    }
}

/// What a client sends to create or replace a contract.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractBody {
    /// The vendor's slug; a contract cannot move to another vendor.
    pub vendor: String,
    pub reference: String,
    #[serde(default)]
    pub support_level: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub escalation: String,
}

impl ContractBody {
    fn fields(self) -> (String, ContractFields) {
        (
            self.vendor,
            ContractFields {
                reference: self.reference,
                support_level: self.support_level,
                starts_on: self.starts_on,
                ends_on: self.ends_on,
                contact: self.contact,
                escalation: self.escalation,
            },
        )
    }
}

fn numeric_id(what: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .map_err(|_| ApiError::Invalid(vec![FieldError::new("id", format!("`{raw}` is not a {what} id"))]))
}

#[utoipa::path(get, path = "/api/v1/contracts", tag = "vendors",
    params(ListParams, ("vendor" = Option<String>, Query, description = "A vendor's slug"),
        ("standing" = Option<String>, Query, description = "not-started, active, expiring or expired")),
    responses((status = 200, body = Page<ContractDto>), (status = 400, body = Problem)))]
pub async fn list_contracts(
    State(s): State<AppState>,
    ctx: Ctx,
    QueryPairs(pairs): QueryPairs,
) -> ApiResult<Json<Page<ContractDto>>> {
    let q = list::parse(&CONTRACT_LIST, &pairs)?;
    let mut rows: Vec<ContractDto> =
        s.app.contracts(&ctx.actor(), q.filter("vendor")).await?.into_iter().map(ContractDto::from).collect();
    if let Some(standing) = q.filter("standing") {
        rows.retain(|c| c.standing == standing);
    }
    Ok(Json(page(
        rows,
        &q,
        |c| format!("{} {} {} {}", c.vendor, c.vendor_name, c.reference, c.support_level),
        |c, field| match field {
            "vendor" => format!("{}\n{}", c.vendor, c.reference),
            "reference" => c.reference.clone(),
            // Open-ended contracts last.
            _ => c.ends_on.clone().unwrap_or_else(|| "9999".into()),
        },
    )))
}

#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "vendors", params(("id" = i64, Path)),
    responses((status = 200, body = ContractDto), (status = 404, body = Problem)))]
pub async fn get_contract(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ContractDto>> {
    Ok(Json(s.app.contract(&ctx.actor(), numeric_id("contract", &id)?).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/contracts", tag = "vendors", request_body = ContractBody,
    responses((status = 201, body = ContractDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_contract(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ContractBody>,
) -> ApiResult<(StatusCode, Json<ContractDto>)> {
    let (vendor, fields) = body.fields();
    let v = s.app.create_contract(&ctx.actor(), &vendor, fields).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[utoipa::path(put, path = "/api/v1/contracts/{id}", tag = "vendors", params(("id" = i64, Path)),
    request_body = ContractBody,
    responses((status = 200, body = ContractDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_contract(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ContractBody>,
) -> ApiResult<Json<ContractDto>> {
    let id = numeric_id("contract", &id)?;
    let actor = ctx.actor();
    let (vendor, fields) = body.fields();
    let current = s.app.contract(&actor, id).await?;
    if current.row.vendor != vendor {
        return Err(app::AppError::from(Invalid::one(
            "vendor",
            format!("contract {id} is with `{}`; a contract cannot move to another vendor", current.row.vendor),
        ))
        .into());
    }
    Ok(Json(s.app.update_contract(&actor, id, fields).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/contracts/{id}", tag = "vendors", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem,
        description = "Items still name the contract")))]
pub async fn delete_contract(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_contract(&ctx.actor(), numeric_id("contract", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The firmware a vendor's models should run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineDto {
    /// Ignored when sent.
    #[serde(default)]
    pub id: i64,
    /// Matches items' vendor, ignoring case.
    pub vendor: String,
    /// Matches items whose model starts with this; empty or left out for all the vendor's models.
    #[serde(default)]
    pub model: String,
    pub recommended: String,
    /// Older than this counts as unsupported.
    pub minimum: Option<String>,
}

impl From<BaselineView> for BaselineDto {
    fn from(v: BaselineView) -> Self {
        let b = v.baseline;
        BaselineDto { id: v.id, vendor: b.vendor, model: b.model, recommended: b.recommended, minimum: b.minimum }
    }
}

impl From<BaselineDto> for Baseline {
    fn from(d: BaselineDto) -> Self {
        Baseline { vendor: d.vendor, model: d.model, recommended: d.recommended, minimum: d.minimum }
    }
}

#[utoipa::path(get, path = "/api/v1/firmware-baselines", tag = "vendors",
    responses((status = 200, body = Vec<BaselineDto>)))]
pub async fn list_baselines(State(s): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<BaselineDto>>> {
    Ok(Json(s.app.baselines(&ctx.actor()).await?.into_iter().map(BaselineDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/firmware-baselines", tag = "vendors", request_body = BaselineDto,
    responses((status = 201, body = BaselineDto), (status = 422, body = Problem)))]
pub async fn create_baseline(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<BaselineDto>,
) -> ApiResult<(StatusCode, Json<BaselineDto>)> {
    Ok((StatusCode::CREATED, Json(s.app.create_baseline(&ctx.actor(), body.into()).await?.into())))
}

#[utoipa::path(put, path = "/api/v1/firmware-baselines/{id}", tag = "vendors", params(("id" = i64, Path)),
    request_body = BaselineDto,
    responses((status = 200, body = BaselineDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_baseline(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<BaselineDto>,
) -> ApiResult<Json<BaselineDto>> {
    let id = numeric_id("baseline", &id)?;
    Ok(Json(s.app.update_baseline(&ctx.actor(), id, body.into()).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/firmware-baselines/{id}", tag = "vendors", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_baseline(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_baseline(&ctx.actor(), numeric_id("baseline", &id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
