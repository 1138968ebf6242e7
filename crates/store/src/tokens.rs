//! API tokens. Only a hash of the secret is stored; the secret is shown once, at creation.

use crate::{Result, Store, StoreError, Tx, on, on_tx};
use sqlx::AssertSqlSafe;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    /// The first characters of the token, so people can tell tokens apart.
    pub prefix: String,
    /// Comma-separated scope names.
    pub scopes: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

const SELECT: &str = "SELECT t.id, t.user_id, u.username, t.name, t.prefix, t.scopes, t.created_at_ms, \
    t.expires_at_ms, t.last_used_ms, t.revoked_at_ms FROM api_tokens t JOIN users u ON u.id = t.user_id";

impl Store {
    pub async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRow>> {
        let sql = format!("{SELECT} WHERE t.secret_hash = $1");
        Ok(
            on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(secret_hash).fetch_optional(p).await?),
        )
    }

    pub async fn token(&self, id: i64) -> Result<TokenRow> {
        let sql = format!("{SELECT} WHERE t.id = $1");
        Ok(on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_one(p).await?))
    }

    /// Tokens of one user, or of everyone.
    pub async fn tokens(&self, user_id: Option<i64>) -> Result<Vec<TokenRow>> {
        Ok(match user_id {
            Some(uid) => {
                let sql = format!("{SELECT} WHERE t.user_id = $1 ORDER BY t.id");
                on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(uid).fetch_all(p).await?)
            }
            None => {
                let sql = format!("{SELECT} ORDER BY u.username, t.id");
                on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.as_str())).fetch_all(p).await?)
            }
        })
    }

    /// Usage stamp, at most once a minute per token so reads don't become writes.
    pub async fn touch_token(&self, id: i64, now_ms: i64) -> Result<()> {
        on!(self.pool(), p => sqlx::query(
            "UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2 AND (last_used_ms IS NULL OR last_used_ms < $3)",
        )
        .bind(now_ms).bind(id).bind(now_ms - 60_000).execute(p).await?.rows_affected());
        Ok(())
    }
}

impl Tx {
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_token(
        &mut self,
        user_id: i64,
        name: &str,
        prefix: &str,
        secret_hash: &str,
        scopes: &str,
        expires_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, prefix, secret_hash, scopes, expires_at_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(user_id).bind(name).bind(prefix).bind(secret_hash).bind(scopes).bind(expires_at_ms).bind(now_ms)
        .fetch_one(&mut **t).await?))
    }

    pub async fn revoke_token(&mut self, id: i64, now_ms: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query("UPDATE api_tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL")
            .bind(now_ms).bind(id).execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
