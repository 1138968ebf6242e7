//! Custom attribute definitions per class.

use crate::{Result, Store, Tx, on, on_tx};
use model::attributes::AttributeDef;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttributeRow {
    pub id: i64,
    pub class: String,
    pub name: String,
    pub kind: String,
    pub required: bool,
    /// JSON array of strings.
    pub choices: String,
    pub description: String,
}

impl AttributeRow {
    pub fn def(&self) -> AttributeDef {
        AttributeDef {
            class: self.class.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            required: self.required,
            choices: serde_json::from_str(&self.choices).unwrap_or_default(),
            description: self.description.clone(),
        }
    }
}

const SELECT: &str = "SELECT id, class, name, kind, required, choices, description FROM attribute_definitions";

impl Store {
    pub async fn attribute_defs(&self) -> Result<Vec<AttributeRow>> {
        let sql = format!("{SELECT} ORDER BY class, name");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?))
    }

    pub async fn attribute_def(&self, id: i64) -> Result<Option<AttributeRow>> {
        let sql = format!("{SELECT} WHERE id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?))
    }
}

impl Tx {
    pub async fn insert_attribute_def(&mut self, d: &AttributeDef, now_ms: i64) -> Result<i64> {
        let choices = serde_json::to_string(&d.choices).unwrap_or_else(|_| "[]".into());
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO attribute_definitions (class, name, kind, required, choices, description, created_at_ms, \
             updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&d.class).bind(&d.name).bind(&d.kind).bind(d.required).bind(&choices).bind(&d.description).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    pub async fn update_attribute_def(&mut self, id: i64, d: &AttributeDef, now_ms: i64) -> Result<()> {
        let choices = serde_json::to_string(&d.choices).unwrap_or_else(|_| "[]".into());
        let n = on_tx!(self, t => sqlx::query(
            "UPDATE attribute_definitions SET class = $2, name = $3, kind = $4, required = $5, choices = $6, \
             description = $7, updated_at_ms = $8 WHERE id = $1",
        )
        .bind(id).bind(&d.class).bind(&d.name).bind(&d.kind).bind(d.required).bind(&choices).bind(&d.description)
        .bind(now_ms)
        .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn delete_attribute_def(&mut self, id: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query("DELETE FROM attribute_definitions WHERE id = $1").bind(id)
            .execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }
}
