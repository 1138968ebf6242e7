//! Maintenance windows: planned work during which alarms on the items it covers open no
//! incident (they are still recorded and shown, marked "in maintenance"). A window covers
//! items by id, by site, by class (and below), and runs once (from, to) or every week (on
//! some days, from a local time, for so many minutes, in a time zone — a window crossing
//! midnight belongs to the day it starts).

use crate::{FieldError, Invalid};
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    /// From `starts_at` to `ends_at` (epoch ms).
    Once { starts_at: i64, ends_at: i64 },
    /// Every week on `days` (`mon` … `sun`), from `start` (`HH:MM`, local) for `minutes`.
    Weekly { days: Vec<String>, start: String, minutes: u32, time_zone: String },
}

/// Which items a window covers: any of these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    #[serde(default)]
    pub items: Vec<i64>,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub class: String,
}

impl Coverage {
    pub fn covers(&self, item: i64, site: Option<&str>, class: &str) -> bool {
        self.items.contains(&item)
            || (!self.site.is_empty() && site == Some(self.site.as_str()))
            || (!self.class.is_empty() && crate::cmdb::is_a(class, &self.class))
    }
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

fn time_of(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

impl Schedule {
    /// Names every field that does not read.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut e = Vec::new();
        match self {
            Schedule::Once { starts_at, ends_at } if ends_at <= starts_at => {
                e.push(FieldError::new("schedule.ends_at", "after starts_at"))
            }
            Schedule::Once { .. } => {}
            Schedule::Weekly { days, start, minutes, time_zone } => {
                if days.is_empty() || days.iter().any(|d| weekday(d).is_none()) {
                    e.push(FieldError::new("schedule.days", "one or more of mon, tue, wed, thu, fri, sat, sun"));
                }
                if time_of(start).is_none() {
                    e.push(FieldError::new("schedule.start", "a local time, HH:MM"));
                }
                if !(1..=7 * 24 * 60).contains(minutes) {
                    e.push(FieldError::new("schedule.minutes", "1 to 10080 (a week)"));
                }
                if TimeZone::get(time_zone).is_err() {
                    e.push(FieldError::new("schedule.time_zone", format!("`{time_zone}` is not an IANA time zone")));
                }
            }
        }
        Invalid::check(e)
    }

    /// Whether the window is open at `now` (epoch ms).
    pub fn active(&self, now: i64) -> bool {
        match self {
            Schedule::Once { starts_at, ends_at } => (*starts_at..*ends_at).contains(&now),
            Schedule::Weekly { days, start, minutes, time_zone } => {
                let (Ok(tz), Some(start)) = (TimeZone::get(time_zone), time_of(start)) else { return false };
                let Ok(at) = jiff::Timestamp::from_millisecond(now) else { return false };
                let local = at.to_zoned(tz.clone());
                let days: Vec<Weekday> = days.iter().filter_map(|d| weekday(d)).collect();
                let length = i64::from(*minutes) * 60_000;
                // A window that opened on any of the last eight days may still be open.
                (0..8).any(|back| {
                    let Ok(day) = local.date().checked_sub(jiff::Span::new().days(back)) else { return false };
                    if !days.contains(&day.weekday()) {
                        return false;
                    }
                    let Ok(opens) = day.to_datetime(start).to_zoned(tz.clone()) else { return false };
                    let opens = opens.timestamp().as_millisecond();
                    (opens..opens + length).contains(&now)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_one_off_window_is_open_from_start_to_end() {
        let w = Schedule::Once { starts_at: 100, ends_at: 200 };
        assert!(!w.active(99) && w.active(100) && w.active(199) && !w.active(200));
        assert!(Schedule::Once { starts_at: 200, ends_at: 100 }.validate().is_err());
    }

    #[test]
    fn a_weekly_window_follows_local_time_across_midnight_and_daylight_saving() {
        // Sundays 22:00 for 4 hours, plant time (London).
        let w = Schedule::Weekly {
            days: vec!["sun".into()],
            start: "22:00".into(),
            minutes: 240,
            time_zone: "Europe/London".into(),
        };
        w.validate().unwrap();
        // 2027-01-17 is a Sunday (GMT, UTC+0).
        assert!(w.active(ms("2027-01-17T22:30:00Z")));
        assert!(w.active(ms("2027-01-18T01:59:00Z")), "past midnight, still Sunday's window");
        assert!(!w.active(ms("2027-01-18T02:00:00Z")));
        assert!(!w.active(ms("2027-01-17T21:59:00Z")));
        assert!(!w.active(ms("2027-01-20T22:30:00Z")), "a Wednesday");
        // 2027-07-18 is a Sunday in summer time (BST, UTC+1): 22:00 local is 21:00 UTC.
        assert!(w.active(ms("2027-07-18T21:30:00Z")));
        assert!(!w.active(ms("2027-07-18T20:59:00Z")));
    }

    #[test]
    fn bad_schedules_say_which_field() {
        let w = Schedule::Weekly {
            days: vec!["someday".into()],
            start: "25:00".into(),
            minutes: 0,
            time_zone: "Mars/Olympus".into(),
        };
        let fields: Vec<String> = w.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["schedule.days", "schedule.start", "schedule.minutes", "schedule.time_zone"]);
    }

    #[test]
    fn coverage_by_item_site_or_class() {
        let c = Coverage { items: vec![7], site: "plant-north".into(), class: "network-device".into() };
        assert!(c.covers(7, None, "server"));
        assert!(c.covers(8, Some("plant-north"), "server"));
        assert!(c.covers(9, None, "switch"), "a switch is a network device");
        assert!(!c.covers(9, Some("dc-east"), "server"));
    }
}
