//! Account administration: create, list, disable, change password, and the first `admin`.

use crate::audit::event;
use crate::secret::{hash_password, random_password};
use crate::{Actor, App, AppError, Result};
use model::list::{self, ListQuery};
use model::user::{self, User};
use model::{FieldError, Invalid, Perm, Role};
use serde_json::json;
use store::USER_LIST;

/// What an administrator fills in for a new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
    pub expires_at_ms: Option<i64>,
    pub sites: Vec<String>,
}

/// A user as shown to administrators.
pub type UserInfo = User;

/// The audit representation of a user: everything but secrets.
fn user_json(u: &User) -> String {
    json!({
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.as_str(),
        "disabled": u.disabled,
        "expires_at_ms": u.expires_at_ms,
        "sites": u.sites,
    })
    .to_string()
}

impl App {
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        actor.require(Perm::UserAdmin)?;
        user::check_new_user(&new.username, Some(&new.password), &new.display_name)?;
        self.insert_user(actor, new).await
    }

    async fn insert_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        let now = self.now_ms();
        if self.store.user_by_name(&new.username).await?.is_some() {
            return Err(Invalid::one("username", format!("`{}` is taken; choose another name", new.username)).into());
        }
        let known_sites = self.store.site_slugs().await?;
        let unknown: Vec<FieldError> = new
            .sites
            .iter()
            .filter(|s| !known_sites.contains(s))
            .map(|s| FieldError::new("sites", format!("no site `{s}`; known sites: {}", known_sites.join(", "))))
            .collect();
        Invalid::check(unknown)?;
        let hash = hash_password(&new.password).await?;
        let mut tx = self.store.begin().await?;
        let id = tx.insert_user(&new.username, &new.display_name, new.role, &hash, new.expires_at_ms, now).await?;
        tx.set_user_sites(id, &new.sites).await?;
        let user = User {
            id,
            username: new.username,
            display_name: new.display_name,
            role: new.role,
            disabled: false,
            expires_at_ms: new.expires_at_ms,
            sites: new.sites,
            created_at_ms: now,
        };
        tx.append_audit(event(actor, now, "user.create", "user", &user.username, None, Some(user_json(&user)))).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn list_users(&self, actor: &Actor, q: &ListQuery) -> Result<(Vec<User>, i64)> {
        actor.require(Perm::UserAdmin)?;
        Ok(self.store.list_users(q).await?)
    }

    pub async fn user(&self, actor: &Actor, username: &str) -> Result<User> {
        actor.require(Perm::UserAdmin)?;
        self.store
            .user_by_name(username)
            .await?
            .map(|r| r.user)
            .ok_or_else(|| AppError::NotFound(format!("user `{username}`")))
    }

    /// Disables or re-enables an account. Disabling ends its sessions at once; its tokens stop
    /// working because every token use checks the account.
    pub async fn set_disabled(&self, actor: &Actor, username: &str, disabled: bool) -> Result<User> {
        actor.require(Perm::UserAdmin)?;
        let before = self.user(actor, username).await?;
        if disabled && actor.user_id == Some(before.id) {
            return Err(Invalid::one("username", "you cannot disable your own account").into());
        }
        let now = self.now_ms();
        let mut after = before.clone();
        after.disabled = disabled;
        let mut tx = self.store.begin().await?;
        tx.set_user_disabled(before.id, disabled, now).await?;
        if disabled {
            tx.delete_user_sessions(before.id).await?;
        }
        let action = if disabled { "user.disable" } else { "user.enable" };
        tx.append_audit(event(actor, now, action, "user", username, Some(user_json(&before)), Some(user_json(&after))))
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Sets a password. Administrators may set anyone's; everyone may set their own. Every
    /// session of the account ends, so a stolen session dies with the old password.
    pub async fn set_password(&self, actor: &Actor, username: &str, password: &str) -> Result<()> {
        let record =
            self.store.user_by_name(username).await?.ok_or_else(|| AppError::NotFound(format!("user `{username}`")))?;
        if actor.user_id != Some(record.user.id) {
            actor.require(Perm::UserAdmin)?;
        }
        user::check_password(password, username).map_err(|e| Invalid(vec![e]))?;
        let hash = hash_password(password).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.set_password_hash(record.user.id, &hash, now).await?;
        tx.delete_user_sessions(record.user.id).await?;
        let after = json!({ "password": "changed" }).to_string();
        tx.append_audit(event(actor, now, "user.password", "user", username, None, Some(after))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// On an empty database, creates `admin` with the given password or a random one, which is
    /// returned so the caller can show it once. Returns `None` when users already exist.
    pub async fn bootstrap_admin(&self, password: Option<String>) -> Result<Option<String>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(p) => (p, false),
            None => (random_password(), true),
        };
        user::check_password(&password, "admin").map_err(|e| Invalid(vec![e]))?;
        let new = NewUser {
            username: "admin".into(),
            display_name: "Administrator".into(),
            role: Role::Admin,
            password: password.clone(),
            expires_at_ms: None,
            sites: Vec::new(),
        };
        self.insert_user(&Actor::system(), new).await?;
        Ok(generated.then_some(password))
    }
}

/// The user list's query convention, for callers that parse raw parameters.
pub fn parse_user_query(pairs: &[(String, String)]) -> Result<ListQuery, Invalid> {
    list::parse(&USER_LIST, pairs)
}
