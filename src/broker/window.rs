//! The daily maintenance window around the gateway's automatic restart: no new orders, and
//! the expected disconnect is logged as such, not as an incident.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

/// A daily window `[start, end)` in the gateway's time zone; may wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceWindow {
    /// Start, local time.
    pub start: NaiveTime,
    /// End, local time.
    pub end: NaiveTime,
    /// The gateway's time zone.
    pub tz: Tz,
}

impl MaintenanceWindow {
    /// Parses `HH:MM[:SS]-HH:MM[:SS]` and an IANA zone name.
    pub fn parse(window: &str, tz: &str) -> Result<Self, String> {
        let (start, end) = window.split_once('-').ok_or_else(|| {
            format!("maintenance window {window:?} must look like 23:44:30-23:50")
        })?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M:%S")
                .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M"))
                .map_err(|_| format!("{s:?} is not a time of day (HH:MM or HH:MM:SS)"))
        };
        let tz: Tz = tz
            .parse()
            .map_err(|_| format!("{tz:?} is not an IANA time zone such as America/New_York"))?;
        Ok(Self {
            start: time(start)?,
            end: time(end)?,
            tz,
        })
    }

    /// Whether `now` falls inside the window.
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.tz).time();
        if self.start <= self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        // 2026-01-15: New York is UTC-5.
        Utc.with_ymd_and_hms(2026, 1, 16, h, m, s)
            .single()
            .expect("valid time")
    }

    #[test]
    fn the_default_window_is_in_new_york_time() {
        let w = MaintenanceWindow::parse("23:44:30-23:50", "America/New_York").expect("parses");
        assert!(!w.contains(at(4, 44, 29)));
        assert!(w.contains(at(4, 44, 30)));
        assert!(w.contains(at(4, 49, 59)));
        assert!(!w.contains(at(4, 50, 0)));
        assert!(!w.contains(at(23, 45, 0)), "23:45 UTC is 18:45 in New York");
    }

    #[test]
    fn windows_may_wrap_midnight_and_bad_input_is_explained() {
        let w = MaintenanceWindow::parse("23:55-00:05", "UTC").expect("parses");
        assert!(w.contains(at(23, 58, 0)));
        assert!(w.contains(at(0, 2, 0)));
        assert!(!w.contains(at(0, 6, 0)));
        assert!(MaintenanceWindow::parse("23:55", "UTC").is_err());
        assert!(MaintenanceWindow::parse("25:00-26:00", "UTC").is_err());
        assert!(MaintenanceWindow::parse("23:00-23:10", "Mars/Olympus").is_err());
    }
}
