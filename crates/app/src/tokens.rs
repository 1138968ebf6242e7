//! API tokens: created for a user with scopes and an optional expiry, shown once, stored
//! only as a hash, revocable.

use crate::audit::event;
use crate::secret::{fast_hash, random_token};
use crate::{Actor, App, AppError, Result};
use model::{FieldError, Invalid, Perm, Scope};
use serde_json::json;

/// A token just created; `secret` is never retrievable again.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub info: TokenInfo,
    pub secret: String,
}

#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

impl From<store::TokenRow> for TokenInfo {
    fn from(t: store::TokenRow) -> Self {
        TokenInfo {
            id: t.id,
            username: t.username,
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes.split(',').filter_map(|s| s.parse().ok()).collect(),
            created_at_ms: t.created_at_ms,
            expires_at_ms: t.expires_at_ms,
            last_used_ms: t.last_used_ms,
            revoked_at_ms: t.revoked_at_ms,
        }
    }
}

/// Every token starts with this, so secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "wk_";

impl App {
    /// Creates a token for `username` (oneself needs `OwnTokens`, anyone else `TokenAdmin`).
    pub async fn create_token(
        &self,
        actor: &Actor,
        username: &str,
        name: &str,
        scopes: &[Scope],
        expires_at_ms: Option<i64>,
    ) -> Result<CreatedToken> {
        let owner = self
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(|| AppError::from(Invalid::one("user", format!("no user `{username}`"))))?
            .user;
        if actor.user_id == Some(owner.id) {
            actor.require(Perm::OwnTokens)?;
        } else {
            actor.require(Perm::TokenAdmin)?;
        }
        let now = self.now_ms();
        let mut errors = Vec::new();
        if name.trim().is_empty() || name.chars().count() > 64 {
            errors.push(FieldError::new("name", "give the token a label of 1–64 characters, e.g. `prometheus`"));
        }
        if scopes.is_empty() {
            errors
                .push(FieldError::new("scopes", "give at least one scope: read, write, admin, audit, metrics, intake"));
        }
        if expires_at_ms.is_some_and(|e| e <= now) {
            errors.push(FieldError::new("expires_at", "the expiry is in the past"));
        }
        Invalid::check(errors)?;

        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let prefix: String = secret.chars().take(10).collect();
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let scope_text = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        let mut tx = self.store.begin().await?;
        let id = tx
            .insert_token(owner.id, name, &prefix, &fast_hash(&secret), &scope_text, expires_at_ms, now)
            .await
            .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => {
                AppError::from(Invalid::one("name", format!("{username} already has a token named `{name}`")))
            }
            other => other,
        })?;
        let after = json!({ "user": username, "name": name, "prefix": prefix, "scopes": scope_text, "expires_at_ms": expires_at_ms });
        tx.append_audit(event(actor, now, "token.create", "token", &id.to_string(), None, Some(after.to_string())))
            .await?;
        tx.commit().await?;
        let info = TokenInfo {
            id,
            username: username.to_owned(),
            name: name.to_owned(),
            prefix,
            scopes,
            created_at_ms: now,
            expires_at_ms,
            last_used_ms: None,
            revoked_at_ms: None,
        };
        Ok(CreatedToken { info, secret })
    }

    /// The actor's own tokens, or everyone's for a token administrator with `all`.
    pub async fn list_tokens(&self, actor: &Actor, all: bool) -> Result<Vec<TokenInfo>> {
        let rows = if all {
            actor.require(Perm::TokenAdmin)?;
            self.store.tokens(None).await?
        } else {
            actor.require(Perm::OwnTokens)?;
            match actor.user_id {
                Some(uid) => self.store.tokens(Some(uid)).await?,
                None => Vec::new(),
            }
        };
        Ok(rows.into_iter().map(TokenInfo::from).collect())
    }

    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<TokenInfo> {
        let t = self.store.token(id).await.map_err(|_| AppError::NotFound(format!("token {id}")))?;
        if actor.user_id == Some(t.user_id) {
            actor.require(Perm::OwnTokens)?;
        } else {
            actor.require(Perm::TokenAdmin)?;
        }
        if t.revoked_at_ms.is_some() {
            return Err(AppError::Conflict(format!("token {id} is already revoked")));
        }
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.revoke_token(id, now).await?;
        let before = json!({ "user": t.username, "name": t.name, "revoked": false }).to_string();
        let after = json!({ "user": t.username, "name": t.name, "revoked": true }).to_string();
        tx.append_audit(event(actor, now, "token.revoke", "token", &id.to_string(), Some(before), Some(after))).await?;
        tx.commit().await?;
        let mut info = TokenInfo::from(t);
        info.revoked_at_ms = Some(now);
        Ok(info)
    }
}
