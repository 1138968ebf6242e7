//! Reading the CMDB slice that exists so far, always within the actor's sites.

use crate::{Actor, App, Result};
use model::Perm;
use model::list::ListQuery;
use store::{ItemRow, SiteRow};

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub sites: Vec<SiteRow>,
    pub items_by_class: Vec<(String, i64)>,
    pub items_total: i64,
}

impl App {
    pub async fn list_sites(&self, actor: &Actor, q: &ListQuery) -> Result<(Vec<SiteRow>, i64)> {
        actor.require(Perm::CmdbRead)?;
        Ok(self.store.list_sites(q, &actor.sites).await?)
    }

    pub async fn list_items(&self, actor: &Actor, q: &ListQuery) -> Result<(Vec<ItemRow>, i64)> {
        actor.require(Perm::CmdbRead)?;
        Ok(self.store.list_items(q, &actor.sites).await?)
    }

    pub async fn overview(&self, actor: &Actor) -> Result<Overview> {
        actor.require(Perm::ConsoleView)?;
        let all = model::list::parse(&store::SITE_LIST, &[]).map_err(crate::AppError::from)?;
        let (sites, _) = self.store.list_sites(&all, &actor.sites).await?;
        let items_by_class = self.store.item_counts_by_class(&actor.sites).await?;
        let items_total = items_by_class.iter().map(|(_, n)| n).sum();
        Ok(Overview { sites, items_by_class, items_total })
    }
}
