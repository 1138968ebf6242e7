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
