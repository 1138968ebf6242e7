//! Working-time calendars for SLA clocks: a time zone, the working windows of each weekday
//! in local time, and holidays; or 24×7. The two questions an SLA asks — how much working
//! time lies between two instants, and when a given amount of it has passed — are answered
//! in local civil time day by day, so a window of 09:00–17:00 is eight hours on the day the
//! clocks change too, and a 24×7 clock counts real elapsed time across a DST change.
//!
//! Instants are epoch milliseconds, as everywhere in the store. The time zone is given by
//! the caller (looked up once), so nothing here reads the system's zone database.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use std::collections::BTreeSet;

const DAY_MINUTES: u16 = 24 * 60;

/// Days searched for working time before a calendar is taken to have none.
const SEARCH_DAYS: i32 = 3 * 366;

#[derive(Debug, Clone)]
pub struct Calendar {
    pub name: String,
    pub tz: TimeZone,
    /// Monday first: each day's working windows as minutes from local midnight, `[start, end)`.
    pub week: [Vec<(u16, u16)>; 7],
    /// Local dates with no working time.
    pub holidays: BTreeSet<Date>,
}

impl Calendar {
    /// Every minute of every day: real elapsed time.
    pub fn always(name: &str, tz: TimeZone) -> Calendar {
        Calendar {
            name: name.into(),
            tz,
            week: std::array::from_fn(|_| vec![(0, DAY_MINUTES)]),
            holidays: BTreeSet::new(),
        }
    }

    /// One window on the given weekdays (`(9, 0), (17, 0)` for 09:00–17:00).
    pub fn business(name: &str, tz: TimeZone, from: (u16, u16), to: (u16, u16), days: &[Weekday]) -> Calendar {
        let window = (from.0 * 60 + from.1, (to.0 * 60 + to.1).min(DAY_MINUTES));
        let week = std::array::from_fn(|i| {
            let day = Weekday::from_monday_zero_offset(i as i8).unwrap_or(Weekday::Monday);
            if days.contains(&day) && window.0 < window.1 { vec![window] } else { Vec::new() }
        });
        Calendar { name: name.into(), tz, week, holidays: BTreeSet::new() }
    }

    fn is_always(&self) -> bool {
        self.holidays.is_empty() && self.week.iter().all(|d| d.as_slice() == [(0, DAY_MINUTES)])
    }

    fn local_date(&self, ms: i64) -> Date {
        jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(self.tz.clone()).date()).unwrap_or_default()
    }

    /// The instant of a local time on a date (in a DST gap, the instant after it; in a fold,
    /// the first one); minute 1440 is the next day's midnight.
    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= DAY_MINUTES { (date.tomorrow().ok()?, 0) } else { (date, minute) };
        let dt = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        Some(dt.to_zoned(self.tz.clone()).ok()?.timestamp().as_millisecond())
    }

    /// The working windows of a local date, as instants.
    fn windows_of(&self, date: Date) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let day = usize::from(date.weekday().to_monday_zero_offset() as u8);
        self.week[day]
            .iter()
            .filter_map(|&(a, b)| Some((self.instant(date, a)?, self.instant(date, b)?)))
            .filter(|(a, b)| a < b)
            .collect()
    }

    /// Working time between two instants, in milliseconds (0 when `to <= from`).
    pub fn working_ms(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        if self.is_always() {
            return to - from;
        }
        let (mut date, last) = (self.local_date(from), self.local_date(to));
        let mut total = 0;
        // One day either side: a window of a neighbouring local date can overlap.
        date = date.yesterday().unwrap_or(date);
        let end = last.tomorrow().unwrap_or(last);
        while date <= end {
            for (a, b) in self.windows_of(date) {
                total += (b.min(to) - a.max(from)).max(0);
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        total
    }

    /// The instant at which `ms` of working time has passed since `from`; `None` when the
    /// calendar has no working time in the next three years. With `ms` 0, the first working
    /// instant at or after `from`.
    pub fn add_working(&self, from: i64, ms: i64) -> Option<i64> {
        if self.is_always() {
            return from.checked_add(ms.max(0));
        }
        let mut left = ms.max(0);
        let mut date = self.local_date(from).yesterday().ok()?;
        for _ in 0..SEARCH_DAYS {
            for (a, b) in self.windows_of(date) {
                let start = a.max(from);
                if b <= start {
                    continue;
                }
                if b - start >= left && (left > 0 || start < b) {
                    return Some(start + left);
                }
                left -= b - start;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

/// The weekday names a calendar is written with, Monday first.
pub const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// `09:00-17:00` as minutes from midnight (`24:00` ends a day).
pub fn parse_window(s: &str) -> Result<(u16, u16), String> {
    let minute = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    };
    let (a, b) = s.split_once('-').ok_or_else(|| format!("`{s}`: write a window as 09:00-17:00"))?;
    match (minute(a), minute(b)) {
        (Some(a), Some(b)) if a < b => Ok((a, b)),
        (Some(_), Some(_)) => Err(format!("`{s}`: the window ends before it starts (split a night shift at 24:00)")),
        _ => Err(format!("`{s}`: times are HH:MM, 00:00 to 24:00")),
    }
}

impl Calendar {
    /// A calendar from what an administrator wrote: per weekday the windows as `09:00-17:00`
    /// (days left out have none), and holidays as dates; every bad entry named.
    pub fn from_spec(
        name: &str,
        tz: TimeZone,
        days: &[(String, Vec<String>)],
        holidays: &[String],
    ) -> Result<Calendar, crate::Invalid> {
        let mut errors = Vec::new();
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (day, windows) in days {
            let Some(i) = WEEKDAYS.iter().position(|d| d == day) else {
                errors.push(crate::FieldError::new(format!("days.{day}"), "not a weekday (monday … sunday)"));
                continue;
            };
            for w in windows {
                match parse_window(w) {
                    Ok(window) => week[i].push(window),
                    Err(e) => errors.push(crate::FieldError::new(format!("days.{day}"), e)),
                }
            }
            week[i].sort();
            if week[i].windows(2).any(|p| p[0].1 > p[1].0) {
                errors.push(crate::FieldError::new(format!("days.{day}"), "windows overlap"));
            }
        }
        let mut dates = BTreeSet::new();
        for h in holidays {
            match h.parse::<Date>() {
                Ok(d) => {
                    dates.insert(d);
                }
                Err(_) => errors.push(crate::FieldError::new("holidays", format!("`{h}` is not a date (YYYY-MM-DD)"))),
            }
        }
        if week.iter().all(Vec::is_empty) {
            errors.push(crate::FieldError::new("days", "a calendar needs some working time"));
        }
        if !errors.is_empty() {
            return Err(crate::Invalid(errors));
        }
        Ok(Calendar { name: name.into(), tz, week, holidays: dates })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    pub(crate) fn london_office() -> Calendar {
        let weekdays = [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday];
        let mut c =
            Calendar::business("UK office", TimeZone::get("Europe/London").unwrap(), (9, 0), (17, 0), &weekdays);
        // Good Friday and Easter Monday 2027, around the clocks going forward on 28 March.
        c.holidays.extend(["2027-03-26".parse::<Date>().unwrap(), "2027-03-29".parse().unwrap()]);
        c
    }

    #[test]
    fn business_hours_skip_nights_weekends_and_holidays_in_local_time() {
        let c = london_office();
        // Thursday 15:00 GMT + 4 working hours: 2 on Thursday, then Tuesday 09:00 BST + 2.
        assert_eq!(c.add_working(ms("2027-03-25T15:00:00Z"), 4 * 3_600_000), Some(ms("2027-03-30T10:00:00Z")));
        assert_eq!(c.working_ms(ms("2027-03-25T15:00:00Z"), ms("2027-03-30T10:00:00Z")), 4 * 3_600_000);
        // The day after the change is still 09:00–17:00 local: eight hours.
        assert_eq!(c.working_ms(ms("2027-03-30T00:00:00Z"), ms("2027-03-31T00:00:00Z")), 8 * 3_600_000);
        // Started outside hours: the clock starts at the next opening.
        assert_eq!(c.add_working(ms("2027-03-27T12:00:00Z"), 0), Some(ms("2027-03-30T08:00:00Z")));
    }

    #[test]
    fn round_the_clock_counts_real_time_across_a_dst_change() {
        let c = Calendar::always("24x7", TimeZone::get("Europe/London").unwrap());
        // 23:30 GMT + 4 h is 03:30 UTC, 04:30 BST: the hour that does not exist is not skipped.
        assert_eq!(c.add_working(ms("2027-03-27T23:30:00Z"), 4 * 3_600_000), Some(ms("2027-03-28T03:30:00Z")));
        assert_eq!(c.working_ms(ms("2026-10-24T23:00:00Z"), ms("2026-10-25T03:00:00Z")), 4 * 3_600_000);
    }

    #[test]
    fn a_calendar_without_working_time_has_no_deadline() {
        let c = Calendar::business("never", TimeZone::UTC, (9, 0), (17, 0), &[]);
        assert_eq!(c.add_working(0, 1), None);
        assert_eq!(c.working_ms(0, 86_400_000 * 30), 0);
    }

    #[test]
    fn a_written_calendar_is_read_or_refused_entry_by_entry() {
        let days = |d: &str, w: &[&str]| (d.to_owned(), w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        let c = Calendar::from_spec(
            "office",
            TimeZone::UTC,
            &[days("monday", &["08:00-12:00", "13:00-17:30"]), days("saturday", &["22:00-24:00"])],
            &["2027-12-27".to_owned()],
        )
        .unwrap();
        assert_eq!(c.week[0], [(480, 720), (780, 1050)]);
        assert_eq!(c.week[5], [(1320, 1440)]);
        let bad = Calendar::from_spec(
            "x",
            TimeZone::UTC,
            &[days("mondy", &["09:00-17:00"]), days("tuesday", &["17:00-09:00", "09:00-12:00", "11:00-13:00"])],
            &["27/12/2027".to_owned()],
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["days.mondy", "days.tuesday", "days.tuesday", "holidays"], "{bad:?}");
        assert!(Calendar::from_spec("none", TimeZone::UTC, &[], &[]).is_err());
    }

    proptest! {
        /// Adding working time and measuring it agree, whatever the start, the amount and
        /// the time of year (both DST changes included).
        #[test]
        fn add_and_measure_agree(start in 1_790_000_000_000i64..1_830_000_000_000, minutes in 0i64..6_000) {
            let c = london_office();
            let amount = minutes * 60_000;
            let end = c.add_working(start, amount).unwrap();
            prop_assert!(end >= start);
            prop_assert_eq!(c.working_ms(start, end), amount);
            // Working time is additive over a split point.
            let mid = start + (end - start) / 3;
            prop_assert_eq!(c.working_ms(start, mid) + c.working_ms(mid, end), amount);
        }
    }
}
