//! User accounts, their site scope, and the login-failure record that throttling reads.

use crate::sql::{Arg, Where, bind_args, order_page};
use crate::{Result, Store, StoreError, Tx, on, on_tx};
use model::Role;
use model::list::{ListQuery, ListSpec};
use model::user::User;
use sqlx::AssertSqlSafe;

pub const USER_LIST: ListSpec = ListSpec {
    sortable: &["username", "role", "created_at"],
    default_sort: "username",
    filters: &["role", "disabled"],
};

fn user_column(field: &str) -> &'static str {
    match field {
        "role" => "role",
        "created_at" => "created_at_ms",
        _ => "username",
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    password_hash: String,
    disabled: bool,
    expires_at_ms: Option<i64>,
    created_at_ms: i64,
}

/// A user with the password hash, for the authentication use-cases only.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

const COLUMNS: &str = "id, username, display_name, role, password_hash, disabled, expires_at_ms, created_at_ms";

impl Row {
    fn into_record(self, sites: Vec<String>) -> Result<UserRecord> {
        let role: Role = self.role.parse().map_err(StoreError::Unsupported)?;
        Ok(UserRecord {
            user: User {
                id: self.id,
                username: self.username,
                display_name: self.display_name,
                role,
                disabled: self.disabled,
                expires_at_ms: self.expires_at_ms,
                sites,
                created_at_ms: self.created_at_ms,
            },
            password_hash: self.password_hash,
        })
    }
}

impl Store {
    async fn user_sites(&self, user_id: i64) -> Result<Vec<String>> {
        Ok(on!(self.pool(), p => sqlx::query_scalar(
            "SELECT s.slug FROM user_sites us JOIN sites s ON s.id = us.site_id WHERE us.user_id = $1 ORDER BY s.slug",
        )
        .bind(user_id)
        .fetch_all(p)
        .await?))
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
        let row: Option<Row> =
            on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(username).fetch_optional(p).await?);
        match row {
            Some(r) => {
                let sites = self.user_sites(r.id).await?;
                Ok(Some(r.into_record(sites)?))
            }
            None => Ok(None),
        }
    }

    pub async fn user_by_id(&self, id: i64) -> Result<UserRecord> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row: Row = on!(self.pool(), p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_one(p).await?);
        let sites = self.user_sites(row.id).await?;
        row.into_record(sites)
    }

    /// The assignment groups an account belongs to.
    pub async fn groups_of(&self, username: &str) -> Result<Vec<String>> {
        Ok(on!(self.pool(), p => sqlx::query_scalar(
            "SELECT g.group_name FROM user_groups g JOIN users u ON u.id = g.user_id WHERE u.username = $1 \
             ORDER BY g.group_name",
        )
        .bind(username)
        .fetch_all(p)
        .await?))
    }

    /// The names of the accounts that are not disabled.
    pub async fn active_usernames(&self) -> Result<Vec<String>> {
        Ok(
            on!(self.pool(), p => sqlx::query_scalar("SELECT username FROM users WHERE disabled = FALSE ORDER BY username")
            .fetch_all(p).await?),
        )
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(on!(self.pool(), p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await?))
    }

    /// One page of users and the total that matches.
    pub async fn list_users(&self, q: &ListQuery) -> Result<(Vec<User>, i64)> {
        let mut w = Where::default();
        if let Some(role) = q.filter("role") {
            w.eq("role", Arg::Text(role.to_owned()));
        }
        if let Some(d) = q.filter("disabled") {
            w.raw(format!("disabled = {}", if d == "true" { "TRUE" } else { "FALSE" }));
        }
        if let Some(text) = &q.q {
            w.search(&["username", "display_name"], text);
        }
        let sql = format!("SELECT {COLUMNS} FROM users{}{}", w.sql(), order_page(q, user_column, "id"));
        let count_sql = format!("SELECT COUNT(*) FROM users{}", w.sql());
        let (rows, total): (Vec<Row>, i64) = on!(self.pool(), p => (
            bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), &w.args).fetch_all(p).await?,
            bind_args!(sqlx::query_scalar(AssertSqlSafe(count_sql.as_str())), &w.args).fetch_one(p).await?,
        ));
        let mut users = Vec::with_capacity(rows.len());
        for r in rows {
            let sites = self.user_sites(r.id).await?;
            users.push(r.into_record(sites)?.user);
        }
        Ok((users, total))
    }

    /// Failed logins since `since_ms` for an account and for a source address.
    pub async fn login_failures_since(&self, username: &str, source: &str, since_ms: i64) -> Result<(i64, i64)> {
        Ok(on!(self.pool(), p => (
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at_ms >= $2")
                .bind(username).bind(since_ms).fetch_one(p).await?,
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE source = $1 AND at_ms >= $2")
                .bind(source).bind(since_ms).fetch_one(p).await?,
        )))
    }
}

impl Tx {
    /// Replaces an account's assignment groups.
    pub async fn set_user_groups(&mut self, user_id: i64, groups: &[String]) -> Result<()> {
        on_tx!(self, t => sqlx::query("DELETE FROM user_groups WHERE user_id = $1").bind(user_id)
            .execute(&mut **t).await?.rows_affected());
        for g in groups {
            on_tx!(self, t => sqlx::query("INSERT INTO user_groups (user_id, group_name) VALUES ($1, $2)")
                .bind(user_id).bind(g)
                .execute(&mut **t).await?.rows_affected());
        }
        Ok(())
    }

    pub async fn insert_user(
        &mut self,
        username: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
        expires_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<i64> {
        Ok(on_tx!(self, t => sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, password_hash, expires_at_ms, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(expires_at_ms)
        .bind(now_ms)
        .fetch_one(&mut **t)
        .await?))
    }

    /// Replaces a user's site scope; unknown site slugs are an error naming the first.
    pub async fn set_user_sites(&mut self, user_id: i64, sites: &[String]) -> Result<()> {
        on_tx!(self, t => {
            sqlx::query("DELETE FROM user_sites WHERE user_id = $1").bind(user_id).execute(&mut **t).await?;
            for slug in sites {
                let id: Option<i64> = sqlx::query_scalar("SELECT id FROM sites WHERE slug = $1")
                    .bind(slug).fetch_optional(&mut **t).await?;
                let Some(site_id) = id else {
                    return Err(StoreError::Unsupported(format!("unknown site `{slug}`")));
                };
                sqlx::query("INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)")
                    .bind(user_id).bind(site_id).execute(&mut **t).await?;
            }
        });
        Ok(())
    }

    pub async fn set_user_disabled(&mut self, user_id: i64, disabled: bool, now_ms: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query("UPDATE users SET disabled = $1, updated_at_ms = $2 WHERE id = $3")
            .bind(disabled).bind(now_ms).bind(user_id).execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn set_password_hash(&mut self, user_id: i64, hash: &str, now_ms: i64) -> Result<()> {
        let n = on_tx!(self, t => sqlx::query("UPDATE users SET password_hash = $1, updated_at_ms = $2 WHERE id = $3")
            .bind(hash).bind(now_ms).bind(user_id).execute(&mut **t).await?.rows_affected());
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn record_login_failure(&mut self, username: &str, source: &str, at_ms: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query("INSERT INTO login_failures (username, source, at_ms) VALUES ($1, $2, $3)")
            .bind(username).bind(source).bind(at_ms).execute(&mut **t).await?.rows_affected());
        Ok(())
    }

    /// Forgets an account's failures after a successful login, and failures older than
    /// `before_ms` everywhere (they no longer count towards any window).
    pub async fn clear_login_failures(&mut self, username: &str, before_ms: i64) -> Result<()> {
        on_tx!(self, t => sqlx::query("DELETE FROM login_failures WHERE username = $1 OR at_ms < $2")
            .bind(username).bind(before_ms).execute(&mut **t).await?.rows_affected());
        Ok(())
    }
}
