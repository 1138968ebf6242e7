//! Notification channels and the notification queue: what the desk has to tell someone is
//! queued (in the transaction of what caused it, so an incident update never waits on a mail
//! server) and delivered by the server's desk loop — de-duplicated, at most a channel's
//! hourly rate, retried with growing pauses when the target is down, every attempt recorded
//! with its result.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::{FieldError, Invalid, Perm};
use notify::{ChannelKind, Courier, Notice};
use serde_json::json;
use store::{AttemptResult, AttemptRow, ChannelRow, NewNotification, NotificationRow};

/// The same notice to the same channel within this window is recorded as suppressed.
pub const DEDUPE_WINDOW_MS: i64 = 3_600_000;
/// Attempts before a notification is given up as failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// The pause before attempt `n + 1` after `n` failed ones: 30 s, 1 min, 2 min… at most 30 min.
pub fn backoff_ms(failed: i64) -> i64 {
    let doublings = u32::try_from(failed.clamp(1, 7) - 1).unwrap_or(0);
    (30_000_i64 << doublings).min(30 * 60_000)
}

/// A channel as people see it: the webhook's secret path left out.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub name: String,
    pub kind: ChannelKind,
    pub target: String,
    pub rate_per_hour: i64,
    pub enabled: bool,
    pub version: i64,
}

/// A channel to store.
#[derive(Debug, Clone)]
pub struct ChannelInput {
    pub kind: String,
    pub target: String,
    pub rate_per_hour: Option<i64>,
    pub enabled: bool,
}

/// A notification with its delivery attempts.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub row: NotificationRow,
    pub attempts: Vec<AttemptRow>,
}

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub deferred: usize,
}

fn view(r: ChannelRow) -> Option<ChannelView> {
    let kind = ChannelKind::parse(&r.kind)?;
    Some(ChannelView {
        target: notify::shown_target(kind, &r.target),
        name: r.name,
        kind,
        rate_per_hour: r.rate_per_hour,
        enabled: r.enabled,
        version: r.version,
    })
}

impl App {
    pub async fn channels(&self, actor: &Actor) -> Result<Vec<ChannelView>> {
        actor.require(Perm::IncidentRead)?;
        Ok(self.store.channels().await?.into_iter().filter_map(view).collect())
    }

    /// Creates or replaces a channel. Audited without the webhook's secret path.
    pub async fn put_channel(&self, actor: &Actor, name: &str, input: ChannelInput) -> Result<ChannelView> {
        actor.require(Perm::SystemAdmin)?;
        let name = name.trim();
        let mut errors: Vec<FieldError> = model::validation::check_name(name).into_iter().collect();
        let kind = ChannelKind::parse(&input.kind);
        match kind {
            None => errors.push(FieldError::new("kind", "email, teams, mattermost or slack")),
            Some(k) => {
                if let Err(e) = notify::check_target(k, &input.target) {
                    errors.push(FieldError::new("target", e));
                }
            }
        }
        let rate = input.rate_per_hour.unwrap_or(60);
        if !(1..=3600).contains(&rate) {
            errors.push(FieldError::new("rate_per_hour", "1 to 3600 deliveries an hour"));
        }
        let Some(kind) = kind.filter(|_| errors.is_empty()) else { return Err(Invalid(errors).into()) };
        let now = self.now_ms();
        let row = ChannelRow {
            name: name.to_owned(),
            kind: kind.as_str().into(),
            target: input.target.trim().to_owned(),
            rate_per_hour: rate,
            enabled: input.enabled,
            updated_at_ms: now,
            version: 0,
        };
        let before = self.store.channels().await?.into_iter().find(|c| c.name == name);
        let doc = |c: &ChannelRow| {
            let kind = ChannelKind::parse(&c.kind).unwrap_or(ChannelKind::Email);
            json!({"kind": c.kind, "target": notify::shown_target(kind, &c.target), "rate_per_hour": c.rate_per_hour,
                   "enabled": c.enabled})
            .to_string()
        };
        let mut tx = self.store.begin().await?;
        tx.put_channel(&row).await?;
        let audit =
            event(actor, now, "channel.put", "notification-channel", name, before.as_ref().map(doc), Some(doc(&row)));
        tx.append_audit(audit).await?;
        tx.commit().await?;
        let stored = self.store.channels().await?.into_iter().find(|c| c.name == name);
        stored.and_then(view).ok_or_else(|| AppError::NotFound(format!("notification channel `{name}`")))
    }

    pub async fn delete_channel(&self, actor: &Actor, name: &str) -> Result<()> {
        actor.require(Perm::SystemAdmin)?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if !tx.delete_channel(name).await? {
            return Err(AppError::NotFound(format!("notification channel `{name}`")));
        }
        tx.append_audit(event(actor, now, "channel.delete", "notification-channel", name, None, None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues a test notice on a channel; the desk delivers it with the rest.
    pub async fn test_channel(&self, actor: &Actor, name: &str) -> Result<i64> {
        actor.require(Perm::SystemAdmin)?;
        if !self.store.channels().await?.iter().any(|c| c.name == name) {
            return Err(AppError::NotFound(format!("notification channel `{name}`")));
        }
        let now = self.now_ms();
        let notice = Notice {
            title: format!("Watchkeeper test notification for {name}"),
            text: format!("{} asked for a test of this channel.", actor.name),
            severity: notify::Severity::Info,
            link: self.settings.public_url.clone(),
            facts: Vec::new(),
        };
        let mut tx = self.store.begin().await?;
        let (id, _) = self.queue(&mut tx, name, "test", "test", &notice, now).await?;
        tx.append_audit(event(actor, now, "channel.test", "notification-channel", name, None, None)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Queues `notice` for `channel` in `tx`: `subject` is what it is about (an incident
    /// number), `reason` why (a rule's name). The same title to the same channel about the
    /// same subject within the dedupe window is recorded as suppressed.
    pub(crate) async fn queue(
        &self,
        tx: &mut store::Tx,
        channel: &str,
        subject: &str,
        reason: &str,
        notice: &Notice,
        now: i64,
    ) -> Result<(i64, &'static str)> {
        self.enqueue(tx, channel, None, subject, reason, notice, now).await
    }

    /// [`App::queue`], or with `address` a page to a person (`channel` names them:
    /// `page:erin`), delivered by e-mail without a channel.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn enqueue(
        &self,
        tx: &mut store::Tx,
        channel: &str,
        address: Option<&str>,
        subject: &str,
        reason: &str,
        notice: &Notice,
        now: i64,
    ) -> Result<(i64, &'static str)> {
        let key = format!("{subject}|{channel}|{}", notice.title);
        let body = serde_json::to_string(notice).map_err(|e| AppError::Internal(e.to_string()))?;
        let n = NewNotification { channel, subject, reason, dedupe_key: &key, notice: &body, address };
        // A test goes out every time it is asked for; a page at every step.
        let window = if reason == "test" || address.is_some() { 0 } else { DEDUPE_WINDOW_MS };
        Ok(tx.enqueue_notification(&n, now, window).await?)
    }

    /// Notifications about `subject` (an incident number), or all, newest first, with their
    /// attempts.
    pub async fn notifications(&self, actor: &Actor, subject: Option<&str>) -> Result<Vec<Delivery>> {
        actor.require(Perm::IncidentRead)?;
        if let Some(number) = subject.filter(|s| s.starts_with("INC")) {
            // Site-scoped actors see notifications only about incidents they may see.
            self.incident(actor, number).await?;
        } else if !actor.sites.is_empty() {
            return Err(AppError::Forbidden(Perm::SystemAdmin));
        }
        let rows = self.store.notifications(subject, 500).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut attempts = self.store.notification_attempts(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mine: Vec<AttemptRow> = attempts.extract_if(.., |a| a.notification_id == row.id).collect();
                Delivery { row, attempts: mine }
            })
            .collect())
    }

    /// Delivers what is due (up to `limit`), one at a time, outside any transaction: a slow or
    /// dead target costs only its own timeout and its notification is tried again later.
    pub async fn deliver_notifications(&self, courier: &Courier, limit: i64) -> Result<DeliveryRun> {
        let mut run = DeliveryRun::default();
        let channels = self.store.channels().await?;
        for n in self.store.due_notifications(self.now_ms(), limit).await? {
            let now = self.now_ms();
            fn failed(detail: &str) -> AttemptResult<'_> {
                AttemptResult { ok: false, detail, state: "failed", next_attempt_at_ms: None }
            }
            // A page to a person: e-mail to their address, at the default rate.
            let personal = n.address.as_ref().map(|a| ChannelRow {
                name: n.channel.clone(),
                kind: ChannelKind::Email.as_str().into(),
                target: a.clone(),
                rate_per_hour: 60,
                enabled: true,
                updated_at_ms: 0,
                version: 0,
            });
            let Some(channel) = personal.as_ref().or_else(|| channels.iter().find(|c| c.name == n.channel)) else {
                self.store.record_attempt(n.id, now, &failed("the channel was removed")).await?;
                run.failed += 1;
                continue;
            };
            if !channel.enabled {
                self.store.record_attempt(n.id, now, &failed("the channel is disabled")).await?;
                run.failed += 1;
                continue;
            }
            let (sent, oldest) = self.store.sent_since(&channel.name, now - 3_600_000).await?;
            if sent >= channel.rate_per_hour {
                let at = oldest.map_or(now + 60_000, |o| o + 3_600_000);
                let why = format!("waiting: {} already delivered this hour, the channel's rate", sent);
                self.store.defer_notification(n.id, at, &why).await?;
                run.deferred += 1;
                continue;
            }
            let (Some(kind), Ok(notice)) =
                (ChannelKind::parse(&channel.kind), serde_json::from_str::<Notice>(&n.notice))
            else {
                self.store.record_attempt(n.id, now, &failed("the stored notification does not read")).await?;
                run.failed += 1;
                continue;
            };
            let outcome = courier.deliver(kind, &channel.target, &notice).await;
            let now = self.now_ms();
            let result = match &outcome {
                Ok(detail) => {
                    run.sent += 1;
                    AttemptResult { ok: true, detail, state: "sent", next_attempt_at_ms: None }
                }
                Err(_) if n.attempts + 1 >= MAX_ATTEMPTS => {
                    run.failed += 1;
                    AttemptResult { ok: false, detail: "", state: "failed", next_attempt_at_ms: None }
                }
                Err(_) => {
                    run.retrying += 1;
                    let at = now + backoff_ms(n.attempts + 1);
                    AttemptResult { ok: false, detail: "", state: "pending", next_attempt_at_ms: Some(at) }
                }
            };
            let detail = match &outcome {
                Ok(d) => d.clone(),
                Err(e) => e.to_string(),
            };
            let result = AttemptResult { detail: &detail, ..result };
            if let Err(e) = &outcome {
                tracing::warn!(channel = %channel.name, notification = n.id, error = %e, "Notification not delivered.");
            }
            self.store.record_attempt(n.id, now, &result).await?;
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn retries_back_off_to_half_an_hour() {
        let pauses: Vec<i64> = (1..=8).map(backoff_ms).collect();
        assert_eq!(pauses, [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000]);
    }
}
