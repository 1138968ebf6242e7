//! On-call schedules and escalation chains, pure. A schedule is layers of rotations (a
//! later layer covers an earlier one where it is active — a business-hours layer over a
//! round-the-clock one), with overrides on top (the latest defined wins; a swap is two of
//! them). An escalation chain pages its steps in turn until someone acknowledges.

use crate::calendar::Calendar;

/// Members taking turns, each for `shift_ms`, from `start` on.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub members: Vec<String>,
    pub start: i64,
    pub shift_ms: i64,
}

impl Rotation {
    /// Who holds the rotation at `t`, and the shift's bounds.
    fn at(&self, t: i64) -> Option<(&str, i64, i64)> {
        if self.members.is_empty() || self.shift_ms <= 0 || t < self.start {
            return None;
        }
        let k = (t - self.start) / self.shift_ms;
        let who = &self.members[(k % self.members.len() as i64) as usize];
        let from = self.start + k * self.shift_ms;
        Some((who, from, from + self.shift_ms))
    }
}

#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub rotation: Rotation,
    /// When the layer applies (its working windows); always when `None`.
    pub hours: Option<Calendar>,
}

impl Layer {
    fn active(&self, t: i64) -> bool {
        self.hours.as_ref().is_none_or(|c| c.working_ms(t, t + 1) == 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub start: i64,
    pub end: i64,
    pub who: String,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    /// Lowest first: a later layer covers the ones before it where it is active.
    pub layers: Vec<Layer>,
    /// The latest defined wins where they overlap.
    pub overrides: Vec<Override>,
}

impl Schedule {
    /// Who is on call at `t`.
    pub fn on_call(&self, t: i64) -> Option<&str> {
        if let Some(o) = self.overrides.iter().rev().find(|o| o.start <= t && t < o.end) {
            return Some(&o.who);
        }
        self.layers.iter().rev().filter(|l| l.active(t)).find_map(|l| l.rotation.at(t).map(|a| a.0))
    }

    /// Two people trade shifts: each takes the other's. Recorded as two overrides.
    pub fn swap(&mut self, a: Override, b: Override) {
        self.overrides.push(Override { who: b.who.clone(), ..a.clone() });
        self.overrides.push(Override { who: a.who, ..b });
    }

    /// The final schedule over `[from, to)`: who, from when to when, one entry per change
    /// of hands, stepped at every boundary a rotation, a layer's hours or an override has.
    pub fn shifts(&self, from: i64, to: i64) -> Vec<(i64, i64, Option<String>)> {
        let mut cuts = vec![from, to];
        for o in &self.overrides {
            cuts.extend([o.start, o.end]);
        }
        for l in &self.layers {
            let r = &l.rotation;
            if r.shift_ms > 0 {
                let mut t = r.start.max(from - r.shift_ms);
                t = r.start + ((t - r.start).max(0) / r.shift_ms) * r.shift_ms;
                while t < to {
                    cuts.push(t);
                    t += r.shift_ms;
                }
            }
            if let Some(c) = &l.hours {
                // Every edge of a working window: where working time starts and stops.
                let mut t = from;
                while t < to {
                    let Some(open) = c.add_working(t, 0) else { break };
                    if open >= to {
                        break;
                    }
                    cuts.push(open);
                    // The window ends where one more minute of work would jump ahead.
                    let mut close = open;
                    while close < to && c.working_ms(close, close + 60_000) == 60_000 {
                        close += 60_000;
                    }
                    cuts.push(close);
                    t = close + 60_000;
                }
            }
        }
        cuts.retain(|&c| from <= c && c <= to);
        cuts.sort();
        cuts.dedup();
        let mut out: Vec<(i64, i64, Option<String>)> = Vec::new();
        for w in cuts.windows(2) {
            let who = self.on_call(w[0]).map(str::to_owned);
            match out.last_mut() {
                Some(last) if last.2 == who && last.1 == w[0] => last.1 = w[1],
                _ => out.push((w[0], w[1], who)),
            }
        }
        out
    }
}

/// One step of an escalation chain: after `delay_ms` without acknowledgement, page these
/// (schedule names or people).
#[derive(Debug, Clone)]
pub struct Step {
    pub delay_ms: i64,
    pub targets: Vec<String>,
}

/// The steps due by `now` for an alert raised at `raised`: each step's delay counts from the
/// previous step; the chain repeats `repeats` more times; an acknowledgement stops it.
pub fn due_steps(steps: &[Step], repeats: u32, raised: i64, acknowledged: Option<i64>, now: i64) -> Vec<(i64, usize)> {
    let stop = acknowledged.map_or(now, |a| a.min(now));
    let mut out = Vec::new();
    let mut t = raised;
    for _round in 0..=repeats {
        for (k, s) in steps.iter().enumerate() {
            t += s.delay_ms.max(0);
            if t > stop {
                return out;
            }
            out.push((t, k));
        }
    }
    out
}

/// A schedule as people write it (the API, the console, a config-as-code file): instants in
/// the schedule's time zone unless they carry an offset, shifts as `12h`, `1d`, `1w`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    #[serde(default)]
    pub name: String,
    pub time_zone: String,
    /// Lowest first.
    pub layers: Vec<LayerSpec>,
    #[serde(default)]
    pub overrides: Vec<OverrideSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    pub name: String,
    /// Accounts, in turn.
    pub members: Vec<String>,
    /// When the first member's first shift starts: `2027-01-04T09:00`.
    pub start: String,
    /// `12h`, `1d`, `1w`…
    pub shift: String,
    /// A stored working-time calendar: the layer applies only within its working time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideSpec {
    pub start: String,
    pub end: String,
    pub who: String,
}

/// An escalation chain as people write it: steps that page their targets in turn, each
/// `after_minutes` after the previous one, until someone acknowledges; then `repeats` more
/// rounds. Targets are `oncall:SCHEDULE` (whoever is on call then), `user:NAME` or
/// `channel:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    #[serde(default)]
    pub name: String,
    pub steps: Vec<StepSpec>,
    #[serde(default)]
    pub repeats: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub after_minutes: u32,
    pub targets: Vec<String>,
}

/// Reads `12h`, `1d`, `2w`, `90m` as milliseconds.
pub fn parse_span(s: &str) -> Option<i64> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit_ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// Reads an instant: RFC 3339 with an offset, or a local date and time (`2027-01-04T09:00`)
/// in `tz` (the earlier of two in a DST fold).
pub fn parse_instant(s: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    let local: jiff::civil::DateTime = s.parse().ok()?;
    Some(local.to_zoned(tz.clone()).ok()?.timestamp().as_millisecond())
}

impl ScheduleSpec {
    /// The schedule, checked: a known time zone, people from `accounts`, calendars that
    /// `calendar` knows, instants and shifts that read, overrides that end after they start.
    pub fn build(
        &self,
        accounts: &[&str],
        calendar: impl Fn(&str) -> Option<Calendar>,
    ) -> Result<Schedule, crate::Invalid> {
        use crate::FieldError;
        let mut errors = Vec::new();
        let tz = jiff::tz::TimeZone::get(&self.time_zone).unwrap_or_else(|_| {
            errors.push(FieldError::new("time_zone", format!("`{}` is not an IANA time zone", self.time_zone)));
            jiff::tz::TimeZone::UTC
        });
        if self.layers.is_empty() {
            errors.push(FieldError::new("layers", "at least one layer: who is on call, in turn"));
        }
        let person = |field: String, who: &str, errors: &mut Vec<FieldError>| {
            if !accounts.contains(&who) {
                errors.push(FieldError::new(field, format!("no account `{who}`")));
            }
        };
        let mut layers = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let f = |x: &str| format!("layers[{i}].{x}");
            if l.members.is_empty() {
                errors.push(FieldError::new(f("members"), "at least one account"));
            }
            for m in &l.members {
                person(f("members"), m, &mut errors);
            }
            let start = parse_instant(&l.start, &tz);
            if start.is_none() {
                errors.push(FieldError::new(f("start"), "a date and time: 2027-01-04T09:00"));
            }
            let shift = parse_span(&l.shift);
            if shift.is_none() {
                errors.push(FieldError::new(f("shift"), "a length such as 12h, 1d or 1w"));
            }
            let hours = match &l.hours {
                None => None,
                Some(name) => {
                    let c = calendar(name);
                    if c.is_none() {
                        errors.push(FieldError::new(f("hours"), format!("no calendar `{name}`")));
                    }
                    // The layer's hours are local to the schedule.
                    c.map(|c| Calendar { tz: tz.clone(), ..c })
                }
            };
            if let (Some(start), Some(shift_ms)) = (start, shift) {
                layers.push(Layer {
                    name: l.name.clone(),
                    rotation: Rotation { members: l.members.clone(), start, shift_ms },
                    hours,
                });
            }
        }
        let mut overrides = Vec::new();
        for (i, o) in self.overrides.iter().enumerate() {
            let f = |x: &str| format!("overrides[{i}].{x}");
            person(f("who"), &o.who, &mut errors);
            match (parse_instant(&o.start, &tz), parse_instant(&o.end, &tz)) {
                (Some(start), Some(end)) if end > start => overrides.push(Override { start, end, who: o.who.clone() }),
                (Some(_), Some(_)) => errors.push(FieldError::new(f("end"), "after the start")),
                (None, _) => errors.push(FieldError::new(f("start"), "a date and time: 2027-01-04T09:00")),
                (_, None) => errors.push(FieldError::new(f("end"), "a date and time: 2027-01-04T09:00")),
            }
        }
        if errors.is_empty() {
            Ok(Schedule { name: self.name.clone(), layers, overrides })
        } else {
            Err(crate::Invalid(errors))
        }
    }
}

impl ChainSpec {
    /// The steps, checked against what exists.
    pub fn build(&self, schedules: &[&str], accounts: &[&str], channels: &[&str]) -> Result<Vec<Step>, crate::Invalid> {
        use crate::FieldError;
        let mut errors = Vec::new();
        if self.steps.is_empty() {
            errors.push(FieldError::new("steps", "at least one step"));
        }
        if self.repeats > 10 {
            errors.push(FieldError::new("repeats", "at most 10"));
        }
        for (i, s) in self.steps.iter().enumerate() {
            let field = format!("steps[{i}].targets");
            if s.targets.is_empty() {
                errors.push(FieldError::new(field.clone(), "whom to page"));
            }
            if s.after_minutes > 24 * 60 {
                errors.push(FieldError::new(format!("steps[{i}].after_minutes"), "at most a day (1440)"));
            }
            for t in &s.targets {
                let known = match t.split_once(':') {
                    Some(("oncall", n)) => schedules.contains(&n),
                    Some(("user", n)) => accounts.contains(&n),
                    Some(("channel", n)) => channels.contains(&n),
                    _ => {
                        errors.push(FieldError::new(
                            field.clone(),
                            format!("`{t}`: oncall:SCHEDULE, user:NAME or channel:NAME"),
                        ));
                        continue;
                    }
                };
                if !known {
                    errors.push(FieldError::new(field.clone(), format!("`{t}` does not exist")));
                }
            }
        }
        if !errors.is_empty() {
            return Err(crate::Invalid(errors));
        }
        Ok(self
            .steps
            .iter()
            .map(|s| Step { delay_ms: i64::from(s.after_minutes) * 60_000, targets: s.targets.clone() })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::{london_office, ms};
    use proptest::prelude::*;

    const H: i64 = 3_600_000;
    const DAY: i64 = 24 * H;

    fn noc() -> Schedule {
        // A weekly night-and-weekend rotation; office hours covered by the day team.
        let start = ms("2027-03-22T09:00:00Z"); // a Monday
        Schedule {
            name: "L3 network".into(),
            layers: vec![
                Layer {
                    name: "round the clock".into(),
                    rotation: Rotation {
                        members: vec!["erin".into(), "sam".into(), "priya".into()],
                        start,
                        shift_ms: 7 * DAY,
                    },
                    hours: None,
                },
                Layer {
                    name: "office hours".into(),
                    rotation: Rotation { members: vec!["day-desk".into()], start, shift_ms: DAY },
                    hours: Some(london_office()),
                },
            ],
            overrides: Vec::new(),
        }
    }

    #[test]
    fn layers_overrides_and_swaps_decide_who_is_paged() {
        let mut s = noc();
        assert_eq!(s.on_call(ms("2027-03-23T10:00:00Z")), Some("day-desk"), "office hours: the day team");
        assert_eq!(s.on_call(ms("2027-03-23T22:00:00Z")), Some("erin"), "night: the rotation");
        assert_eq!(s.on_call(ms("2027-03-30T22:00:00Z")), Some("sam"), "next week");
        // Easter Monday is a holiday on the office calendar: the rotation (Sam's week from
        // 09:00 that Monday) covers the day.
        assert_eq!(s.on_call(ms("2027-03-29T10:00:00Z")), Some("sam"));
        s.overrides.push(Override {
            start: ms("2027-03-23T20:00:00Z"),
            end: ms("2027-03-24T08:00:00Z"),
            who: "lee".into(),
        });
        assert_eq!(s.on_call(ms("2027-03-23T22:00:00Z")), Some("lee"));
        // Erin and Sam trade weeks.
        let week = |k: i64, who: &str| Override {
            start: ms("2027-03-22T09:00:00Z") + k * 7 * DAY,
            end: ms("2027-03-22T09:00:00Z") + (k + 1) * 7 * DAY,
            who: who.into(),
        };
        s.swap(week(0, "erin"), week(1, "sam"));
        assert_eq!(s.on_call(ms("2027-03-25T22:00:00Z")), Some("sam"));
        assert_eq!(s.on_call(ms("2027-03-31T22:00:00Z")), Some("erin"));
        assert_eq!(s.on_call(ms("2027-03-23T22:00:00Z")), Some("sam"), "the later swap wins over the earlier override");
    }

    #[test]
    fn escalation_steps_fire_in_turn_until_acknowledged() {
        let steps = [
            Step { delay_ms: 0, targets: vec!["L3 network".into()] },
            Step { delay_ms: 15 * 60_000, targets: vec!["L3 network".into(), "ops-lead".into()] },
            Step { delay_ms: 15 * 60_000, targets: vec!["duty manager".into()] },
        ];
        let fired = due_steps(&steps, 1, 0, None, 50 * 60_000);
        assert_eq!(fired, [(0, 0), (15 * 60_000, 1), (30 * 60_000, 2), (30 * 60_000, 0), (45 * 60_000, 1)]);
        let acked = due_steps(&steps, 1, 0, Some(20 * 60_000), 50 * 60_000);
        assert_eq!(acked.len(), 2, "acknowledged after the second step");
    }

    #[test]
    fn specs_read_as_people_write_them() {
        let spec = ScheduleSpec {
            name: "L3 network".into(),
            time_zone: "Europe/London".into(),
            layers: vec![
                LayerSpec {
                    name: "round the clock".into(),
                    members: vec!["erin".into(), "sam".into(), "priya".into()],
                    start: "2027-03-22T09:00".into(),
                    shift: "1w".into(),
                    hours: None,
                },
                LayerSpec {
                    name: "office hours".into(),
                    members: vec!["day-desk".into()],
                    start: "2027-03-22T09:00".into(),
                    shift: "1d".into(),
                    hours: Some("office".into()),
                },
            ],
            overrides: vec![OverrideSpec {
                start: "2027-03-23T20:00".into(),
                end: "2027-03-24T08:00".into(),
                who: "lee".into(),
            }],
        };
        let people = ["erin", "sam", "priya", "day-desk", "lee"];
        let s = spec.build(&people, |n| (n == "office").then(london_office)).unwrap();
        assert_eq!(s.layers[0].rotation.start, ms("2027-03-22T09:00:00Z"), "London is on GMT until the 28th");
        assert_eq!(s.on_call(ms("2027-03-23T10:00:00Z")), Some("day-desk"));
        assert_eq!(s.on_call(ms("2027-03-23T22:00:00Z")), Some("lee"));
        assert_eq!(s.on_call(ms("2027-03-30T22:00:00Z")), Some("sam"));

        let mut bad = spec.clone();
        bad.time_zone = "Mars/Olympus".into();
        bad.layers[0].members.push("nobody".into());
        bad.layers[1].shift = "fortnightly".into();
        bad.layers[1].hours = Some("night".into());
        bad.overrides[0].end = "2027-03-23T19:00".into();
        let e = bad.build(&people, |n| (n == "office").then(london_office)).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["time_zone", "layers[0].members", "layers[1].shift", "layers[1].hours", "overrides[0].end"]
        );

        let chain = ChainSpec {
            name: "network".into(),
            steps: vec![
                StepSpec { after_minutes: 0, targets: vec!["oncall:L3 network".into()] },
                StepSpec { after_minutes: 15, targets: vec!["user:ops-lead".into(), "channel:noc".into()] },
            ],
            repeats: 1,
        };
        let steps = chain.build(&["L3 network"], &["ops-lead"], &["noc"]).unwrap();
        assert_eq!(steps[1].delay_ms, 15 * 60_000);
        let e = chain.build(&[], &["ops-lead"], &[]).unwrap_err();
        assert_eq!(e.0.len(), 2, "{e:?}");
        assert_eq!(parse_span("12h"), Some(12 * H));
        assert_eq!(parse_span("0d"), None);
        assert_eq!(parse_span("h"), None);
    }

    proptest! {
        /// The final schedule covers the range without gaps, and each entry's person is the
        /// one on call anywhere inside it.
        #[test]
        fn the_final_schedule_agrees_with_who_is_on_call(days in 0i64..20, len in 1i64..72, probe in 0.0f64..1.0, o in proptest::option::of((0i64..400, 1i64..48))) {
            let mut s = noc();
            let from = ms("2027-03-20T00:00:00Z") + days * DAY;
            let to = from + len * H;
            if let Some((start, hours)) = o {
                let start = from + start * 3_600_000 / 10;
                s.overrides.push(Override { start, end: start + hours * H, who: "lee".into() });
            }
            let shifts = s.shifts(from, to);
            prop_assert_eq!(shifts.first().map(|x| x.0), Some(from));
            prop_assert_eq!(shifts.last().map(|x| x.1), Some(to));
            for w in shifts.windows(2) {
                prop_assert_eq!(w[0].1, w[1].0);
                prop_assert_ne!(&w[0].2, &w[1].2, "adjacent entries with one person are merged");
            }
            for (a, b, who) in &shifts {
                let t = a + ((b - a) as f64 * probe) as i64;
                let t = t.min(b - 1);
                prop_assert_eq!(s.on_call(t).map(str::to_owned), who.clone(), "at {}", t);
            }
        }
    }
}
