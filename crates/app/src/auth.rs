//! Authentication: console logins (with throttling), sessions with idle and absolute
//! timeouts, and resolving API tokens to their user and scopes.

use crate::secret::{dummy_hash, fast_hash, random_token, verify_password};
use crate::{Actor, App, AppError, Result, audit::event};
use model::Scope;
use model::user::User;
use store::SessionRow;

/// A fresh console session. `cookie` goes to the browser and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub csrf_token: String,
    pub user: User,
}

/// An authenticated caller: the user and how they authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// The session's CSRF token (console) — `None` for a bearer token.
    pub csrf_token: Option<String>,
    /// The token's scopes — `None` for a console session.
    pub scopes: Option<Vec<Scope>>,
    pub session_hash: Option<String>,
}

impl Principal {
    pub fn actor(&self, source: &str) -> Actor {
        Actor {
            name: self.user.username.clone(),
            source: source.to_owned(),
            role: self.user.role,
            scopes: self.scopes.clone(),
            sites: self.user.sites.clone(),
            // A trusted intake source is no account.
            user_id: (self.user.id > 0).then_some(self.user.id),
        }
    }
}

#[derive(Debug)]
pub enum LoginOutcome {
    Ok(NewSession),
    /// Wrong name or password, or an account that may not sign in. One answer for all, so
    /// that a caller cannot learn which accounts exist.
    Refused,
    Throttled {
        retry_after_s: i64,
    },
}

impl App {
    /// A sender without a token from one of the trusted intake networks: it may do what an
    /// intake-scoped token may (send alerts, read and silence them), named by its address in
    /// the audit log. `None` from anywhere else.
    pub fn trusted_intake(&self, source: &str) -> Option<Principal> {
        let ip: std::net::IpAddr = source.parse().ok()?;
        self.settings.intake_trusted.iter().any(|n| n.contains(&ip)).then(|| Principal {
            user: User {
                id: 0,
                username: format!("intake@{source}"),
                display_name: "trusted intake source".into(),
                role: model::Role::Operator,
                disabled: false,
                expires_at_ms: None,
                sites: Vec::new(),
                created_at_ms: 0,
            },
            csrf_token: None,
            scopes: Some(vec![Scope::Intake]),
            session_hash: None,
        })
    }

    /// Checks a console login and opens a session. `previous` is the caller's current session
    /// cookie, if any: it is ended, so every login gets a new session id (no fixation).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        source: &str,
        previous: Option<&str>,
    ) -> Result<LoginOutcome> {
        let now = self.now_ms();
        let s = &self.settings;
        let since = now - s.throttle_window_ms;
        let (by_account, by_source) = self.store.login_failures_since(username, source, since).await?;
        if by_account >= s.max_failures_per_account || by_source >= s.max_failures_per_source {
            let reason =
                if by_account >= s.max_failures_per_account { "account throttled" } else { "source throttled" };
            tracing::warn!(%username, %source, reason, "Login refused: too many failed attempts.");
            self.record_failure(username, source, reason, false).await?;
            return Ok(LoginOutcome::Throttled { retry_after_s: s.throttle_window_ms / 1000 });
        }

        let record = self.store.user_by_name(username).await?;
        let hash = record.as_ref().map_or(dummy_hash(), |r| r.password_hash.as_str());
        let password_ok = verify_password(password, hash).await;
        let refusal = match &record {
            None => Some("unknown user"),
            Some(_) if !password_ok => Some("wrong password"),
            Some(r) => r.user.refusal(now),
        };
        let (Some(record), None) = (record, refusal) else {
            let reason = refusal.unwrap_or("refused");
            tracing::warn!(%username, %source, reason, "Login failed.");
            self.record_failure(username, source, reason, true).await?;
            return Ok(LoginOutcome::Refused);
        };

        let cookie = random_token(32);
        let csrf_token = random_token(24);
        let row = SessionRow {
            id_hash: fast_hash(&cookie),
            user_id: record.user.id,
            csrf_token: csrf_token.clone(),
            source: source.to_owned(),
            created_at_ms: now,
            last_seen_ms: now,
        };
        let mut tx = self.store.begin().await?;
        if let Some(prev) = previous {
            tx.delete_session(&fast_hash(prev)).await?;
        }
        tx.insert_session(&row).await?;
        tx.clear_login_failures(username, since).await?;
        let actor = Actor {
            name: record.user.username.clone(),
            source: source.to_owned(),
            role: record.user.role,
            scopes: None,
            sites: record.user.sites.clone(),
            user_id: Some(record.user.id),
        };
        tx.append_audit(event(&actor, now, "session.login", "user", &record.user.username, None, None)).await?;
        tx.commit().await?;
        tracing::info!(%username, %source, "Login succeeded.");
        Ok(LoginOutcome::Ok(NewSession { cookie, csrf_token, user: record.user }))
    }

    async fn record_failure(&self, username: &str, source: &str, reason: &str, count_it: bool) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if count_it {
            tx.record_login_failure(username, source, now).await?;
        }
        let actor = Actor { name: "anonymous".into(), source: source.to_owned(), ..Actor::system() };
        let after = serde_json::json!({ "reason": reason }).to_string();
        tx.append_audit(event(&actor, now, "session.login_failed", "user", username, None, Some(after))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The principal behind a session cookie, if the session is live. Touches the session.
    pub async fn session(&self, cookie: &str) -> Result<Option<Principal>> {
        let now = self.now_ms();
        let id_hash = fast_hash(cookie);
        let Some(row) = self.store.session(&id_hash).await? else { return Ok(None) };
        let s = &self.settings;
        if now - row.last_seen_ms > s.session_idle_ms || now - row.created_at_ms > s.session_absolute_ms {
            let mut tx = self.store.begin().await?;
            tx.delete_session(&id_hash).await?;
            tx.commit().await?;
            return Ok(None);
        }
        let user = self.store.user_by_id(row.user_id).await?.user;
        if user.refusal(now).is_some() {
            return Ok(None);
        }
        // Touch at most every 10 s so that a page full of requests is not a burst of writes.
        if now - row.last_seen_ms > 10_000 {
            self.store.touch_session(&id_hash, now).await?;
        }
        Ok(Some(Principal { user, csrf_token: Some(row.csrf_token), scopes: None, session_hash: Some(id_hash) }))
    }

    /// Ends a session (logout).
    pub async fn logout(&self, principal: &Principal, source: &str) -> Result<()> {
        let Some(id_hash) = &principal.session_hash else { return Ok(()) };
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.delete_session(id_hash).await?;
        let actor = principal.actor(source);
        tx.append_audit(event(&actor, now, "session.logout", "user", &principal.user.username, None, None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The principal behind a bearer token. Errors say why the token is refused, for the
    /// caller's logs; the HTTP answer is the same 401 either way.
    pub async fn token_principal(&self, secret: &str) -> Result<Principal> {
        let now = self.now_ms();
        let Some(t) = self.store.token_by_hash(&fast_hash(secret)).await? else {
            return Err(AppError::Unauthenticated("unknown token"));
        };
        if t.revoked_at_ms.is_some() {
            return Err(AppError::Unauthenticated("token revoked"));
        }
        if t.expires_at_ms.is_some_and(|e| e <= now) {
            return Err(AppError::Unauthenticated("token expired"));
        }
        let user = self.store.user_by_id(t.user_id).await?.user;
        if let Some(why) = user.refusal(now) {
            return Err(AppError::Unauthenticated(why));
        }
        let scopes = t.scopes.split(',').filter_map(|s| s.parse().ok()).collect();
        self.store.touch_token(t.id, now).await?;
        Ok(Principal { user, csrf_token: None, scopes: Some(scopes), session_hash: None })
    }

    /// Removes expired sessions and stale login failures, forgets long-resolved alerts, rolls
    /// check samples up by the hour, and applies the retention of samples, roll-ups and
    /// events; called periodically by the server.
    pub async fn housekeeping(&self) -> Result<u64> {
        let now = self.now_ms();
        let s = &self.settings;
        let mut tx = self.store.begin().await?;
        let n = tx.delete_stale_sessions(now - s.session_idle_ms, now - s.session_absolute_ms).await?;
        tx.clear_login_failures("", now - s.throttle_window_ms).await?;
        // Samples are rolled up by the hour before the oldest go.
        tx.roll_up_samples(now).await?;
        tx.delete_samples_before(now - crate::checks::SAMPLE_RETENTION_MS).await?;
        tx.delete_rollups_before(now - crate::checks::ROLLUP_RETENTION_MS).await?;
        tx.commit().await?;
        // Alerts resolved longer ago than Alertmanager keeps them (its --data.retention).
        self.alert_housekeeping(now - crate::alerts::RESOLVED_RETENTION_MS).await?;
        // Old events go in chunks, each its own statement, so the intake's writers wait on
        // none for long.
        let before = now - s.event_retention_ms;
        while self.store.delete_events_before(before, 10_000).await? == 10_000 {}
        Ok(n)
    }
}
