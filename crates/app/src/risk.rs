//! The CMDB risk view: ageing assets (end of support, end of life, warranty past or due),
//! single points of failure under critical and high services, items nobody owns, hardware
//! no live support contract covers, contracts running out, and firmware behind its baseline.

use crate::{Actor, App, Result};
use model::Perm;
use model::cmdb::{LifecycleDue, lifecycle_due, needs_owner};
use model::firmware::{Currency, baseline_for, currency, runs_firmware};
use model::impact::Node;
use model::supplier::needs_contract;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ItemRef {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub site: Option<String>,
}

/// An item with a lifecycle date past or within the horizon.
#[derive(Debug, Clone, Serialize)]
pub struct AgeingItem {
    #[serde(flatten)]
    pub item: ItemRef,
    pub criticality: String,
    /// `end of support`, `end of life` or `warranty`.
    pub milestone: &'static str,
    pub date: String,
    /// Already passed, rather than due within the horizon.
    pub passed: bool,
}

/// A critical or high service and the items whose failure alone takes it down.
#[derive(Debug, Clone, Serialize)]
pub struct SinglePoints {
    pub service: ItemRef,
    pub criticality: String,
    pub items: Vec<ItemRef>,
}

/// Hardware or a circuit without a contract that covers it today.
#[derive(Debug, Clone, Serialize)]
pub struct Uncovered {
    #[serde(flatten)]
    pub item: ItemRef,
    pub criticality: String,
    /// The contract it names when that contract has lapsed or not started; `None` when it
    /// names none.
    pub contract: Option<String>,
    /// `none`, `expired` or `not-started`.
    pub reason: &'static str,
}

/// A contract that has ended or ends within the horizon.
#[derive(Debug, Clone, Serialize)]
pub struct ContractDue {
    pub id: i64,
    pub vendor: String,
    pub reference: String,
    pub support_level: String,
    pub ends_on: String,
    pub passed: bool,
    /// Items it covers.
    pub items: i64,
}

/// An item whose firmware is older than its baseline recommends.
#[derive(Debug, Clone, Serialize)]
pub struct FirmwareDrift {
    #[serde(flatten)]
    pub item: ItemRef,
    pub vendor: String,
    pub model: String,
    pub version: String,
    pub recommended: String,
    pub minimum: Option<String>,
    /// `behind`, `unsupported` or `unknown`.
    pub currency: Currency,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskReport {
    /// `YYYY-MM-DD`, in UTC.
    pub today: String,
    pub horizon: String,
    /// Passed first, then by date.
    pub ageing: Vec<AgeingItem>,
    pub single_points_of_failure: Vec<SinglePoints>,
    pub without_owner: Vec<ItemRef>,
    /// Empty for site-scoped accounts, who cannot see contracts.
    pub without_contract: Vec<Uncovered>,
    /// Ended or ending within the horizon; empty for site-scoped accounts.
    pub contracts_due: Vec<ContractDue>,
    /// Unsupported first, then behind, then unknown.
    pub firmware: Vec<FirmwareDrift>,
    /// How many items reach end of support in each year: `passed`, this year and the next
    /// five, then `later`; for the lifecycle chart.
    pub end_of_support_by_year: Vec<(String, i64)>,
}

impl App {
    /// The risk view, with lifecycle dates due within `months`.
    pub async fn risk(&self, actor: &Actor, months: u32) -> Result<RiskReport> {
        actor.require(Perm::CmdbRead)?;
        let now = jiff::Timestamp::from_millisecond(self.now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let today_date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let horizon_date = today_date.checked_add(jiff::Span::new().months(i64::from(months))).unwrap_or(today_date);
        let (today, horizon) = (today_date.to_string(), horizon_date.to_string());

        let rows: Vec<store::ItemRow> = self
            .store
            .all_items()
            .await?
            .into_iter()
            .filter(|r| actor.sites.is_empty() || r.site.as_ref().is_some_and(|s| actor.sites.contains(s)))
            .collect();
        let item_ref = |r: &store::ItemRow| ItemRef {
            id: r.id,
            name: r.name.clone(),
            class: r.class.clone(),
            site: r.site.clone(),
        };

        let mut ageing = Vec::new();
        for r in rows.iter().filter(|r| r.status != "retired") {
            let dates = [
                ("end of support", &r.end_of_support_on),
                ("end of life", &r.end_of_life_on),
                ("warranty", &r.warranty_ends_on),
            ];
            for (milestone, date) in dates {
                if let Some(d) = date
                    && let Some(due) = lifecycle_due(d, &today, &horizon)
                {
                    ageing.push(AgeingItem {
                        item: item_ref(r),
                        criticality: r.criticality.clone(),
                        milestone,
                        date: d.clone(),
                        passed: due == LifecycleDue::Passed,
                    });
                }
            }
        }
        ageing.sort_by(|a, b| (!a.passed, &a.date, &a.item.name).cmp(&(!b.passed, &b.date, &b.item.name)));

        let mut without_owner: Vec<ItemRef> =
            rows.iter().filter(|r| r.owner.trim().is_empty() && needs_owner(&r.class)).map(item_ref).collect();
        without_owner.sort_by(|a, b| a.name.cmp(&b.name));

        let mut single_points_of_failure = Vec::new();
        if actor.sites.is_empty() {
            let g = self.impact_graph().await?;
            let by_id: std::collections::HashMap<i64, &store::ItemRow> = rows.iter().map(|r| (r.id, r)).collect();
            let mut services: Vec<&store::ItemRow> = rows
                .iter()
                .filter(|r| {
                    model::cmdb::is_a(&r.class, "service") && matches!(r.criticality.as_str(), "critical" | "high")
                })
                .collect();
            services
                .sort_by(|a, b| (a.criticality != "critical", &a.name).cmp(&(b.criticality != "critical", &b.name)));
            for s in services {
                let items: Vec<ItemRef> = g
                    .graph
                    .single_points_of_failure(Node::Item(s.id))
                    .into_iter()
                    .filter_map(|id| by_id.get(&id).copied())
                    // A service it stands on is reported with its own weak points.
                    .filter(|r| !model::cmdb::is_a(&r.class, "service"))
                    .map(item_ref)
                    .collect();
                if !items.is_empty() {
                    single_points_of_failure.push(SinglePoints {
                        service: item_ref(s),
                        criticality: s.criticality.clone(),
                        items,
                    });
                }
            }
        }
        let mut without_contract = Vec::new();
        let mut contracts_due = Vec::new();
        if actor.sites.is_empty() {
            let contracts: std::collections::HashMap<i64, store::ContractRow> =
                self.store.contracts(None).await?.into_iter().map(|c| (c.id, c)).collect();
            for r in rows.iter().filter(|r| r.status != "retired" && needs_contract(&r.class)) {
                let standing = r
                    .contract_id
                    .and_then(|id| contracts.get(&id))
                    .map(|c| (format!("{}/{}", c.vendor, c.reference), c.fields().standing(&today, &horizon)));
                let reason = match &standing {
                    None => "none",
                    Some((_, st)) if st.covers() => continue,
                    Some((_, st)) => st.as_str(),
                };
                without_contract.push(Uncovered {
                    item: item_ref(r),
                    criticality: r.criticality.clone(),
                    contract: standing.map(|(name, _)| name),
                    reason,
                });
            }
            let rank = |c: &str| model::cmdb::CRITICALITIES.iter().position(|x| *x == c).unwrap_or(9);
            without_contract
                .sort_by(|a, b| (rank(&a.criticality), &a.item.name).cmp(&(rank(&b.criticality), &b.item.name)));
            for c in contracts.values() {
                if let Some(end) = &c.ends_on
                    && let Some(due) = lifecycle_due(end, &today, &horizon)
                {
                    contracts_due.push(ContractDue {
                        id: c.id,
                        vendor: c.vendor.clone(),
                        reference: c.reference.clone(),
                        support_level: c.support_level.clone(),
                        ends_on: end.clone(),
                        passed: due == LifecycleDue::Passed,
                        items: c.items,
                    });
                }
            }
            contracts_due.sort_by(|a, b| (&a.ends_on, &a.reference).cmp(&(&b.ends_on, &b.reference)));
        }

        let baselines: Vec<model::firmware::Baseline> =
            self.store.baselines().await?.iter().map(store::BaselineRow::baseline).collect();
        let mut firmware = Vec::new();
        for r in rows.iter().filter(|r| r.status != "retired" && runs_firmware(&r.class)) {
            let Some(b) = baseline_for(&baselines, &r.vendor, &r.model) else { continue };
            let judged = currency(b, &r.os_version);
            if judged != Currency::Current {
                firmware.push(FirmwareDrift {
                    item: item_ref(r),
                    vendor: r.vendor.clone(),
                    model: r.model.clone(),
                    version: r.os_version.clone(),
                    recommended: b.recommended.clone(),
                    minimum: b.minimum.clone(),
                    currency: judged,
                });
            }
        }
        let order = |c: Currency| match c {
            Currency::Unsupported => 0,
            Currency::Behind => 1,
            _ => 2,
        };
        firmware.sort_by(|a, b| (order(a.currency), &a.item.name).cmp(&(order(b.currency), &b.item.name)));

        let this_year: i32 = today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
        let mut by_year: Vec<(String, i64)> = std::iter::once("passed".to_owned())
            .chain((this_year..=this_year + 5).map(|y| y.to_string()))
            .chain(std::iter::once("later".to_owned()))
            .map(|label| (label, 0))
            .collect();
        for r in rows.iter().filter(|r| r.status != "retired") {
            let Some(d) = r.end_of_support_on.as_deref().filter(|d| model::cmdb::is_calendar_date(d)) else { continue };
            let slot = if d < today.as_str() {
                0
            } else {
                let year: i32 = d[..4].parse().unwrap_or(this_year);
                usize::try_from(year - this_year).map_or(0, |n| (n + 1).min(by_year.len() - 1))
            };
            by_year[slot].1 += 1;
        }

        Ok(RiskReport {
            end_of_support_by_year: by_year,
            today,
            horizon,
            ageing,
            single_points_of_failure,
            without_owner,
            without_contract,
            contracts_due,
            firmware,
        })
    }
}
