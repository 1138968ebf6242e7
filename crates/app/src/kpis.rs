//! The desk's KPIs for the dashboard and the API, read from the maintained roll-ups (never a
//! scan of all incidents): opened and resolved per day, MTTA, MTTR, SLA compliance,
//! first-contact resolution and satisfaction over a window, per priority too; the open
//! backlog by age; the items, services and categories incidents come back to most.

use crate::{Actor, App, AppError, Result};
use model::Perm;
use model::kpi::{self, Counter, Totals};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayLine {
    pub day: String,
    pub opened: i64,
    pub resolved: i64,
    pub breached: i64,
}

#[derive(Debug, Clone)]
pub struct KpiReport {
    pub from_day: String,
    pub to_day: String,
    /// Every day of the window, oldest first (days without incidents count zero).
    pub days: Vec<DayLine>,
    pub totals: Totals,
    /// P1…P5.
    pub by_priority: Vec<(i64, Totals)>,
    /// Open incidents per age bucket (`model::kpi::AGE_BUCKETS`), and per priority within it.
    pub backlog: Vec<(&'static str, usize, [usize; 5])>,
    pub top_items: Vec<(String, i64)>,
    pub top_services: Vec<(String, i64)>,
    pub top_categories: Vec<(String, i64)>,
}

impl App {
    /// The KPIs of the last `days` days (1–366) up to today. Site-scoped accounts see
    /// incidents of their sites only, so the estate-wide figures are not theirs to read.
    pub async fn kpis(&self, actor: &Actor, days: i64) -> Result<KpiReport> {
        actor.require(Perm::IncidentRead)?;
        if !actor.sites.is_empty() {
            return Err(AppError::Forbidden(Perm::IncidentRead));
        }
        if !(1..=366).contains(&days) {
            return Err(model::Invalid::one("days", "1 to 366").into());
        }
        let now = self.now_ms();
        let day_list: Vec<String> = (0..days).rev().map(|k| kpi::day(now - k * 86_400_000)).collect();
        let (from_day, to_day) = (day_list[0].clone(), day_list[day_list.len() - 1].clone());
        let rows = self.store.rollups(&from_day, &to_day).await?;
        let mut totals = Totals::default();
        let mut by_priority: Vec<(i64, Totals)> = (1..=5).map(|p| (p, Totals::default())).collect();
        let mut per_day: std::collections::BTreeMap<String, DayLine> = day_list
            .iter()
            .map(|d| (d.clone(), DayLine { day: d.clone(), opened: 0, resolved: 0, breached: 0 }))
            .collect();
        for r in &rows {
            let values = [
                (Counter::Opened, r.opened),
                (Counter::Responded, r.responded),
                (Counter::ResponseMs, r.response_ms),
                (Counter::Resolved, r.resolved),
                (Counter::ResolutionMs, r.resolution_ms),
                (Counter::FirstContact, r.first_contact),
                (Counter::Reopened, r.reopened),
                (Counter::SlaMet, r.sla_met),
                (Counter::SlaBreached, r.sla_breached),
                (Counter::SatisfactionSum, r.satisfaction_sum),
                (Counter::SatisfactionCount, r.satisfaction_count),
            ];
            for (c, n) in values {
                totals.add(c, n);
                if let Some((_, t)) = by_priority.iter_mut().find(|(p, _)| *p == r.priority) {
                    t.add(c, n);
                }
            }
            if let Some(d) = per_day.get_mut(&r.day) {
                d.opened += r.opened;
                d.resolved += r.resolved;
                d.breached += r.sla_breached;
            }
        }
        let mut backlog: Vec<(&'static str, usize, [usize; 5])> =
            kpi::AGE_BUCKETS.iter().map(|(label, _)| (*label, 0, [0; 5])).collect();
        // Every bucket but the open-ended last one bounds an age.
        let limits: Vec<i64> = kpi::AGE_BUCKETS[..kpi::AGE_BUCKETS.len() - 1].iter().map(|b| b.1).collect();
        for (priority, bucket, n) in self.store.open_ages(now, &limits).await? {
            let Some(b) = backlog.get_mut(usize::try_from(bucket).unwrap_or(0)) else { continue };
            let n = usize::try_from(n).unwrap_or(0);
            b.1 += n;
            if let Some(slot) = b.2.get_mut(usize::try_from(priority - 1).unwrap_or(4)) {
                *slot += n;
            }
        }
        Ok(KpiReport {
            top_items: self.store.top_opened("item", &from_day, 5).await?,
            top_services: self.store.top_opened("service", &from_day, 5).await?,
            top_categories: self.store.top_opened("category", &from_day, 5).await?,
            days: per_day.into_values().collect(),
            from_day,
            to_day,
            totals,
            by_priority,
            backlog,
        })
    }
}

impl App {
    /// How many open incidents are breaching soon (estate-wide).
    pub async fn at_risk_count(&self, actor: &Actor) -> Result<usize> {
        actor.require(Perm::IncidentRead)?;
        if !actor.sites.is_empty() {
            return Err(AppError::Forbidden(Perm::IncidentRead));
        }
        Ok(usize::try_from(self.store.at_risk_count(self.now_ms()).await?).unwrap_or(0))
    }
}
