//! On-call: schedules and escalation chains as people write them (`model::oncall` specs,
//! through the API, the console or a config-as-code file), where each person is reached, who
//! is on call, and paging — an escalation rule starts a chain on an incident, and the desk
//! pages its steps in turn (whoever is on call at that moment) until someone acknowledges
//! or takes the incident.

use crate::audit::event;
use crate::{Actor, App, AppError, Result};
use model::calendar::Calendar;
use model::oncall::{self, ChainSpec, OverrideSpec, Schedule, ScheduleSpec, Step};
use model::{FieldError, Invalid, Perm};
use notify::{Notice, Severity};
use serde_json::json;
use store::{JournalEntry, PageRow, Specs};

/// Who is on call for a schedule now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnCallNow {
    pub schedule: String,
    pub who: Option<String>,
    /// When the current person's turn ends (the next change of hands within two weeks).
    pub until: Option<i64>,
    /// The final schedule of the next two weeks: from, to, who.
    pub shifts: Vec<(i64, i64, Option<String>)>,
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || " -_".contains(c)) {
        return Err(Invalid::one("name", "letters, digits, spaces, dashes and underscores, up to 64").into());
    }
    Ok(())
}

impl App {
    async fn accounts(&self) -> Result<Vec<String>> {
        Ok(self.store.active_usernames().await?)
    }

    async fn stored_specs<T: serde::de::DeserializeOwned>(&self, table: Specs) -> Result<Vec<T>> {
        self.store
            .specs(table)
            .await?
            .into_iter()
            .map(|(name, json)| {
                serde_json::from_str(&json).map_err(|e| AppError::Internal(format!("`{name}` does not read: {e}")))
            })
            .collect()
    }

    /// The stored calendars by name, for the layers' hours.
    async fn calendar_lookup(&self) -> Result<impl Fn(&str) -> Option<Calendar>> {
        let rows = self.store.calendars().await?;
        let cals: Vec<(String, Calendar)> =
            rows.iter().filter_map(|r| Some((r.name.clone(), crate::slas::stored_calendar(r)?))).collect();
        Ok(move |name: &str| cals.iter().find(|(n, _)| n == name).map(|(_, c)| c.clone()))
    }

    /// The accounts that may be put on call.
    pub async fn on_call_people(&self) -> Result<Vec<String>> {
        self.accounts().await
    }

    pub async fn schedules(&self, actor: &Actor) -> Result<Vec<ScheduleSpec>> {
        actor.require(Perm::IncidentRead)?;
        self.stored_specs(Specs::Schedules).await
    }

    async fn built_schedules(&self) -> Result<Vec<Schedule>> {
        let accounts = self.accounts().await?;
        let names: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let lookup = self.calendar_lookup().await?;
        let specs: Vec<ScheduleSpec> = self.stored_specs(Specs::Schedules).await?;
        // A schedule naming an account disabled since still answers for its other people.
        Ok(specs
            .iter()
            .filter_map(|s| {
                let mut s = s.clone();
                for l in &mut s.layers {
                    l.members.retain(|m| names.contains(&m.as_str()));
                }
                s.overrides.retain(|o| names.contains(&o.who.as_str()));
                s.build(&names, &lookup).ok()
            })
            .collect())
    }

    /// Creates or replaces a schedule, checked against the accounts and calendars that exist.
    /// Audited with the schedule before and after.
    pub async fn put_schedule(&self, actor: &Actor, mut spec: ScheduleSpec) -> Result<ScheduleSpec> {
        actor.require(Perm::SystemAdmin)?;
        spec.name = spec.name.trim().to_owned();
        check_name(&spec.name)?;
        let accounts = self.accounts().await?;
        let names: Vec<&str> = accounts.iter().map(String::as_str).collect();
        spec.build(&names, self.calendar_lookup().await?)?;
        let before: Option<ScheduleSpec> =
            self.stored_specs::<ScheduleSpec>(Specs::Schedules).await?.into_iter().find(|s| s.name == spec.name);
        self.put_spec(actor, Specs::Schedules, "oncall-schedule", &spec.name, &spec, before.as_ref()).await?;
        Ok(spec)
    }

    /// Adds an override (someone covers a stretch) to a schedule — the console's most
    /// frequent edit. Audited as a change of the schedule.
    pub async fn add_override(&self, actor: &Actor, schedule: &str, o: OverrideSpec) -> Result<ScheduleSpec> {
        actor.require(Perm::IncidentWork)?;
        let Some(mut spec) =
            self.stored_specs::<ScheduleSpec>(Specs::Schedules).await?.into_iter().find(|s| s.name == schedule)
        else {
            return Err(AppError::NotFound(format!("on-call schedule `{schedule}`")));
        };
        let before = spec.clone();
        spec.overrides.push(o);
        let accounts = self.accounts().await?;
        let names: Vec<&str> = accounts.iter().map(String::as_str).collect();
        spec.build(&names, self.calendar_lookup().await?)?;
        self.put_spec(actor, Specs::Schedules, "oncall-schedule", schedule, &spec, Some(&before)).await?;
        Ok(spec)
    }

    pub async fn chains(&self, actor: &Actor) -> Result<Vec<ChainSpec>> {
        actor.require(Perm::IncidentRead)?;
        self.stored_specs(Specs::Chains).await
    }

    /// Creates or replaces an escalation chain, its targets checked against the schedules,
    /// accounts and channels that exist.
    pub async fn put_chain(&self, actor: &Actor, mut spec: ChainSpec) -> Result<ChainSpec> {
        actor.require(Perm::SystemAdmin)?;
        spec.name = spec.name.trim().to_owned();
        check_name(&spec.name)?;
        self.chain_steps(&spec).await?;
        let before: Option<ChainSpec> =
            self.stored_specs::<ChainSpec>(Specs::Chains).await?.into_iter().find(|s| s.name == spec.name);
        self.put_spec(actor, Specs::Chains, "escalation-chain", &spec.name, &spec, before.as_ref()).await?;
        Ok(spec)
    }

    async fn chain_steps(&self, spec: &ChainSpec) -> Result<Vec<Step>> {
        let schedules: Vec<String> =
            self.stored_specs::<ScheduleSpec>(Specs::Schedules).await?.into_iter().map(|s| s.name).collect();
        let accounts = self.accounts().await?;
        let channels: Vec<String> = self.store.channels().await?.into_iter().map(|c| c.name).collect();
        fn v(x: &[String]) -> Vec<&str> {
            x.iter().map(String::as_str).collect()
        }
        Ok(spec.build(&v(&schedules), &v(&accounts), &v(&channels))?)
    }

    async fn put_spec<T: serde::Serialize>(
        &self,
        actor: &Actor,
        table: Specs,
        kind: &str,
        name: &str,
        spec: &T,
        before: Option<&T>,
    ) -> Result<()> {
        let doc = |s: &T| serde_json::to_string(s).unwrap_or_default();
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.put_spec(table, name, &doc(spec), now).await?;
        tx.append_audit(event(actor, now, &format!("{kind}.put"), kind, name, before.map(doc), Some(doc(spec))))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a schedule or a chain (`kind`: `oncall-schedule` or `escalation-chain`).
    pub async fn delete_spec(&self, actor: &Actor, table: Specs, name: &str) -> Result<()> {
        actor.require(Perm::SystemAdmin)?;
        let kind = match table {
            Specs::Schedules => "oncall-schedule",
            Specs::Chains => "escalation-chain",
        };
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        if !tx.delete_spec(table, name).await? {
            return Err(AppError::NotFound(format!("{kind} `{name}`")));
        }
        tx.append_audit(event(actor, now, &format!("{kind}.delete"), kind, name, None, None)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who is on call for each schedule now, until when, and the next two weeks' hand-overs.
    pub async fn on_call_now(&self, actor: &Actor) -> Result<Vec<OnCallNow>> {
        actor.require(Perm::IncidentRead)?;
        let now = self.now_ms();
        Ok(self
            .built_schedules()
            .await?
            .into_iter()
            .map(|s| {
                let shifts = s.shifts(now, now + 14 * 86_400_000);
                OnCallNow {
                    schedule: s.name.clone(),
                    who: s.on_call(now).map(str::to_owned),
                    until: shifts.first().map(|f| f.1).filter(|_| shifts.len() > 1),
                    shifts,
                }
            })
            .collect())
    }

    /// The final schedule of one schedule over `[from, to)` (at most 62 days): who, from
    /// when to when.
    pub async fn shifts(
        &self,
        actor: &Actor,
        name: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64, Option<String>)>> {
        actor.require(Perm::IncidentRead)?;
        if to <= from || to - from > 62 * 86_400_000 {
            return Err(Invalid::one("to", "after `from`, at most 62 days on").into());
        }
        let s = self.built_schedules().await?.into_iter().find(|s| s.name == name);
        let s = s.ok_or_else(|| AppError::NotFound(format!("on-call schedule `{name}`")))?;
        Ok(s.shifts(from, to))
    }

    /// Where each account is reached (administrators and the person themself see it).
    pub async fn contacts(&self, actor: &Actor) -> Result<Vec<(String, String)>> {
        let all = self.store.contacts().await?;
        if actor.can(Perm::SystemAdmin) {
            return Ok(all);
        }
        actor.require(Perm::IncidentRead)?;
        Ok(all.into_iter().filter(|(u, _)| *u == actor.name).collect())
    }

    /// Sets where `username` is paged.
    pub async fn put_contact(&self, actor: &Actor, username: &str, email: &str) -> Result<()> {
        // Those who work incidents (and so may be paged) set their own; administrators anyone's.
        actor.require(Perm::IncidentWork)?;
        if username != actor.name {
            actor.require(Perm::SystemAdmin)?;
        }
        let email = email.trim();
        notify::check_target(notify::ChannelKind::Email, email).map_err(|e| Invalid::one("email", e))?;
        if email.contains(',') {
            return Err(Invalid::one("email", "one address").into());
        }
        let Some(user) = self.store.user_by_name(username).await? else {
            return Err(AppError::NotFound(format!("account `{username}`")));
        };
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        tx.put_contact(user.user.id, email, now).await?;
        let after = json!({ "email": email }).to_string();
        tx.append_audit(event(actor, now, "user.contact", "user", username, None, Some(after))).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn pages(&self, actor: &Actor, number: &str) -> Result<Vec<PageRow>> {
        let v = self.incident(actor, number).await?;
        Ok(self.store.incident_pages(v.row.id).await?)
    }

    /// Someone answers the pages of an incident: the chains stop. Journaled and audited.
    pub async fn acknowledge(&self, actor: &Actor, number: &str) -> Result<u64> {
        actor.require(Perm::IncidentWork)?;
        let v = self.incident(actor, number).await?;
        let now = self.now_ms();
        let mut tx = self.store.begin().await?;
        let n = tx.acknowledge_pages(v.row.id, &actor.name, now).await?;
        if n == 0 {
            return Err(Invalid(vec![FieldError::new("pages", format!("nothing is paging for {number}"))]).into());
        }
        let text = format!("Acknowledged the page by {}", actor.name);
        let entry = JournalEntry {
            incident_id: v.row.id,
            at_ms: now,
            actor: &actor.name,
            kind: "acknowledged",
            state: None,
            hold_reason: None,
            text: &text,
        };
        tx.append_journal(&entry).await?;
        tx.append_audit(event(actor, now, "incident.acknowledge", "incident", number, None, None)).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Pages the steps that have come due on every open page; a page whose incident someone
    /// took (no longer New) counts as acknowledged by them. Returns `(incident, person or
    /// channel)` for each page sent.
    pub(crate) async fn page_round(&self) -> Result<Vec<(String, String)>> {
        let pages = self.store.open_pages().await?;
        if pages.is_empty() {
            return Ok(Vec::new());
        }
        let chains: Vec<ChainSpec> = self.stored_specs(Specs::Chains).await?;
        let schedules = self.built_schedules().await?;
        let contacts = self.store.contacts().await?;
        let mut sent = Vec::new();
        for p in pages {
            let now = self.now_ms();
            let Some(row) = self.store.incident(&p.number).await? else { continue };
            if row.state != "new" {
                let mut tx = self.store.begin().await?;
                let who = row.assignee.clone().unwrap_or_else(|| format!("the move to {}", row.state));
                tx.acknowledge_pages(row.id, &who, now).await?;
                tx.commit().await?;
                continue;
            }
            let Some(spec) = chains.iter().find(|c| c.name == p.chain) else { continue };
            let steps: Vec<Step> = spec
                .steps
                .iter()
                .map(|s| Step { delay_ms: i64::from(s.after_minutes) * 60_000, targets: s.targets.clone() })
                .collect();
            let due = oncall::due_steps(&steps, spec.repeats, p.raised_at_ms, None, now);
            let already = usize::try_from(p.steps_sent).unwrap_or(0);
            if due.len() <= already {
                continue;
            }
            let mut tx = self.store.begin().await?;
            for &(_, k) in &due[already..] {
                for target in &steps[k].targets {
                    let (to, address, why) = match target.split_once(':') {
                        Some(("oncall", s)) => {
                            let who = schedules.iter().find(|x| x.name == s).and_then(|x| x.on_call(now));
                            match who {
                                Some(w) => (
                                    format!("page:{w}"),
                                    contacts.iter().find(|c| c.0 == w).map(|c| c.1.clone()),
                                    format!("{w}, on call for {s}"),
                                ),
                                None => (format!("oncall:{s}"), None, format!("nobody is on call for {s}")),
                            }
                        }
                        Some(("user", u)) => {
                            (format!("page:{u}"), contacts.iter().find(|c| c.0 == u).map(|c| c.1.clone()), u.to_owned())
                        }
                        Some(("channel", c)) => (c.to_owned(), None, format!("channel {c}")),
                        _ => continue,
                    };
                    let notice = Notice {
                        title: format!("PAGE {} P{}: {}", row.number, row.priority, row.short_description),
                        text: format!(
                            "Escalation chain {}, step {} of {}. Acknowledge in Watchkeeper or take the incident.",
                            spec.name,
                            k + 1,
                            steps.len()
                        ),
                        severity: Severity::Critical,
                        link: self
                            .settings
                            .public_url
                            .as_ref()
                            .map(|u| format!("{}/incidents/{}", u.trim_end_matches('/'), row.number)),
                        facts: vec![
                            ("Priority".into(), format!("P{}", row.priority)),
                            ("Item".into(), row.item.clone().unwrap_or_else(|| "—".into())),
                        ],
                    };
                    let is_person = to.starts_with("page:") || to.starts_with("oncall:");
                    // Nobody to reach is said on the timeline, and the next step comes.
                    let reached = !is_person || address.is_some();
                    let text = if reached {
                        format!("Paged {why}")
                    } else {
                        format!("Could not page {why}: no contact address")
                    };
                    let entry = JournalEntry {
                        incident_id: row.id,
                        at_ms: now,
                        actor: "system",
                        kind: "page",
                        state: None,
                        hold_reason: None,
                        text: &text,
                    };
                    tx.append_journal(&entry).await?;
                    if !reached {
                        continue;
                    }
                    self.enqueue(&mut tx, &to, address.as_deref(), &row.number, &spec.name, &notice, now).await?;
                    sent.push((row.number.clone(), why));
                }
            }
            tx.page_steps_sent(row.id, &p.chain, i64::try_from(due.len()).unwrap_or(i64::MAX)).await?;
            tx.commit().await?;
        }
        Ok(sent)
    }
}

/// On-call as code: schedules and chains in one document (YAML or TOML, as a team keeps it
/// in version control).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnCallDoc {
    #[serde(default)]
    pub schedules: Vec<ScheduleSpec>,
    #[serde(default)]
    pub chains: Vec<ChainSpec>,
}

/// What applying a document does to one schedule or chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Planned {
    /// `schedule` or `chain`.
    pub kind: &'static str,
    pub name: String,
    /// `create`, `change` or `same`.
    pub action: &'static str,
}

impl App {
    /// Applies an on-call document: every schedule and chain is checked first (chains
    /// against the stored schedules and the document's), and nothing is written unless all
    /// of them are right; with `dry_run` nothing is written at all. Each write is audited.
    /// Schedules and chains the document does not name are left as they are.
    pub async fn apply_oncall(&self, actor: &Actor, doc: OnCallDoc, dry_run: bool) -> Result<Vec<Planned>> {
        actor.require(Perm::SystemAdmin)?;
        let accounts = self.accounts().await?;
        let names: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let lookup = self.calendar_lookup().await?;
        let stored_schedules: Vec<ScheduleSpec> = self.stored_specs(Specs::Schedules).await?;
        let stored_chains: Vec<ChainSpec> = self.stored_specs(Specs::Chains).await?;
        let mut errors = Vec::new();
        let mut seen = Vec::new();
        for (i, s) in doc.schedules.iter().enumerate() {
            let prefix = format!("schedules[{i}] ({})", s.name);
            if seen.contains(&s.name.as_str()) || check_name(s.name.trim()).is_err() {
                errors
                    .push(FieldError::new(format!("{prefix}.name"), "a unique name: letters, digits, spaces, dashes"));
            }
            seen.push(&s.name);
            if let Err(Invalid(e)) = s.build(&names, &lookup) {
                errors.extend(e.into_iter().map(|f| FieldError::new(format!("{prefix}.{}", f.field), f.message)));
            }
        }
        let mut schedules: Vec<&str> = stored_schedules.iter().map(|s| s.name.as_str()).collect();
        schedules.extend(doc.schedules.iter().map(|s| s.name.as_str()));
        let channels: Vec<String> = self.store.channels().await?.into_iter().map(|c| c.name).collect();
        let channel_names: Vec<&str> = channels.iter().map(String::as_str).collect();
        for (i, c) in doc.chains.iter().enumerate() {
            let prefix = format!("chains[{i}] ({})", c.name);
            if check_name(c.name.trim()).is_err() {
                errors.push(FieldError::new(format!("{prefix}.name"), "letters, digits, spaces, dashes"));
            }
            if let Err(Invalid(e)) = c.build(&schedules, &names, &channel_names) {
                errors.extend(e.into_iter().map(|f| FieldError::new(format!("{prefix}.{}", f.field), f.message)));
            }
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let action = |before: Option<bool>| match before {
            None => "create",
            Some(true) => "same",
            Some(false) => "change",
        };
        let mut plan = Vec::new();
        for s in &doc.schedules {
            let before = stored_schedules.iter().find(|b| b.name == s.name);
            let a = action(before.map(|b| b == s));
            plan.push(Planned { kind: "schedule", name: s.name.clone(), action: a });
            if !dry_run && a != "same" {
                self.put_spec(actor, Specs::Schedules, "oncall-schedule", &s.name, s, before).await?;
            }
        }
        for c in &doc.chains {
            let before = stored_chains.iter().find(|b| b.name == c.name);
            let a = action(before.map(|b| b == c));
            plan.push(Planned { kind: "chain", name: c.name.clone(), action: a });
            if !dry_run && a != "same" {
                self.put_spec(actor, Specs::Chains, "escalation-chain", &c.name, c, before).await?;
            }
        }
        Ok(plan)
    }

    /// The stored schedules and chains as one document (what `apply` reads back).
    pub async fn export_oncall(&self, actor: &Actor) -> Result<OnCallDoc> {
        actor.require(Perm::IncidentRead)?;
        Ok(OnCallDoc {
            schedules: self.stored_specs(Specs::Schedules).await?,
            chains: self.stored_specs(Specs::Chains).await?,
        })
    }
}
