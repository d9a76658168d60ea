//! Schedule safety: the longest gap between two runs of a cron schedule in a time zone, found
//! deterministically over a fixed horizon, and what it means for the 12-hour ECR token.

use std::collections::HashMap;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{Timestamp, Zoned};

/// Lifetime of an ECR authorization token: a gap this long lets the pull secret expire.
pub const TOKEN_LIFETIME_SECS: i64 = 12 * 3600;
/// Gaps longer than this leave under an hour of slack: warned about.
pub const WARN_ABOVE_SECS: i64 = 11 * 3600;
/// A schedule that is safe and the default: every 10 hours.
pub const SAFE_EXAMPLE: &str = "0 */10 * * *";

/// The first instant looked at: fixed, so every check gives the same answer any day.
const REFERENCE: &str = "2025-01-01T00:00:00Z";
/// How far the search looks: more than a year, so monthly and yearly patterns and both
/// daylight saving changes are seen.
const HORIZON_DAYS: i64 = 400;
/// Probes are this far apart. Any gap longer than the spacing has a probe strictly inside it,
/// so every gap above [`WARN_ABOVE_SECS`] is found exactly, however frequent the schedule:
/// the work is a fixed ~900 probes per schedule, not one step per run.
const PROBE_SPACING_SECS: i64 = WARN_ABOVE_SECS;
/// Probes sit at 30 seconds past a minute, where a 5-field schedule never runs.
const PROBE_OFFSET_SECS: i64 = 30;

/// The parser with Kubernetes' (robfig/cron) reading of a 5-field schedule.
pub fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        // Kubernetes (robfig/cron) reads `5/15` as `5-59/15`.
        .sloppy_ranges(true)
        .build()
}

/// The longest time between two consecutive runs, with the two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub seconds: i64,
    pub from: Zoned,
    pub to: Zoned,
}

/// Why a schedule has no gap to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoGap {
    /// The schedule does not parse (reported by the schedule check).
    Invalid,
    /// The schedule runs less than once in the horizon, or never (`0 0 30 2 *`).
    Never,
}

/// A time zone by its IANA name, from the bundled database, spelled exactly (Kubernetes reads
/// the name case-sensitively).
pub fn time_zone(name: &str) -> Option<TimeZone> {
    let zone = TimeZoneDatabase::bundled().get(name).ok()?;
    (zone.iana_name() == Some(name)).then_some(zone)
}

/// Names of the bundled time zones, for "did you mean".
pub fn time_zone_names() -> Vec<String> {
    TimeZoneDatabase::bundled()
        .available()
        .map(|n| n.as_str().to_owned())
        .collect()
}

/// The longest gap between two consecutive runs of `schedule` in `zone`.
///
/// Exact for every gap above [`WARN_ABOVE_SECS`]; a shorter result is a real gap of the
/// schedule but not necessarily its longest (which is then of no concern).
pub fn longest_gap(schedule: &str, zone: &TimeZone) -> Result<Gap, NoGap> {
    let cron = parser()
        .parse(schedule.trim())
        .map_err(|_| NoGap::Invalid)?;
    longest_gap_of(&cron, schedule, zone)
}

/// [`longest_gap`] of a schedule already parsed: `cron` is `schedule` parsed by [`parser`].
fn longest_gap_of(cron: &Cron, schedule: &str, zone: &TimeZone) -> Result<Gap, NoGap> {
    #[allow(clippy::expect_used)]
    let start = REFERENCE
        .parse::<Timestamp>()
        .expect("the reference instant parses")
        .as_second();
    let end = start + HORIZON_DAYS * 86_400;
    let windows = if runs_every_day_alike(schedule) {
        // The same wall-clock times every day: two days show every gap, and only a clock
        // change can stretch one, so add two days on either side of each change.
        let mut windows = vec![(start, start + 2 * 86_400)];
        #[allow(clippy::expect_used)]
        let from = Timestamp::from_second(start).expect("the reference is in range");
        for transition in zone.following(from) {
            let at = transition.timestamp().as_second();
            if at >= end {
                break;
            }
            windows.push((at - 2 * 86_400, at + 2 * 86_400));
        }
        windows
    } else {
        vec![(start, end)]
    };
    let mut longest: Option<Gap> = None;
    for (from, to) in windows {
        let found = longest_in(cron, zone, from, to)?;
        if longest.as_ref().is_none_or(|l| found.seconds > l.seconds) {
            longest = Some(found);
        }
    }
    longest.ok_or(NoGap::Never)
}

/// Day-of-month, month and day-of-week all unrestricted (or a macro of that kind): every
/// calendar day has the same runs.
fn runs_every_day_alike(schedule: &str) -> bool {
    let trimmed = schedule.trim();
    if trimmed.starts_with('@') {
        return matches!(trimmed, "@daily" | "@midnight" | "@hourly");
    }
    let fields: Vec<&str> = trimmed.split_whitespace().collect();
    fields.len() == 5 && fields[2..].iter().all(|f| matches!(*f, "*" | "?"))
}

/// The longest gap that has a probe inside it, probing from `from` to `to` (Unix seconds).
fn longest_in(cron: &Cron, zone: &TimeZone, from: i64, to: i64) -> Result<Gap, NoGap> {
    let mut probe = from + PROBE_OFFSET_SECS;
    let mut longest: Option<Gap> = None;
    while probe < to {
        let at = zoned(probe, zone).ok_or(NoGap::Never)?;
        let (before, after) = around(cron, &at).ok_or(NoGap::Never)?;
        let seconds = after.timestamp().as_second() - before.timestamp().as_second();
        // Skip to the first probe past this gap: every probe inside it would find it again.
        let past = after.timestamp().as_second();
        probe += ((past - probe) / PROBE_SPACING_SECS + 1).max(1) * PROBE_SPACING_SECS;
        if longest.as_ref().is_none_or(|l| seconds > l.seconds) {
            longest = Some(Gap {
                seconds,
                from: before,
                to: after,
            });
        }
    }
    longest.ok_or(NoGap::Never)
}

fn zoned(second: i64, zone: &TimeZone) -> Option<Zoned> {
    Timestamp::from_second(second)
        .ok()
        .map(|t| t.to_zoned(zone.clone()))
}

/// The runs just before and just after `at` (which is never a run itself).
fn around(cron: &Cron, at: &Zoned) -> Option<(Zoned, Zoned)> {
    let before = cron.find_previous_occurrence(at, false).ok()?;
    let after = cron.find_next_occurrence(at, false).ok()?;
    // A run more than two horizons away is as good as never.
    let limit = 2 * HORIZON_DAYS;
    let far = |z: &Zoned| (z.timestamp() - at.timestamp()).get_seconds().abs() > limit * 86_400;
    (!far(&before) && !far(&after)).then_some((before, after))
}

/// Longest gaps already computed, per (schedule, time zone): thousands of registries share a
/// handful of schedules, so the check stays linear in the number of registries. Schedules the
/// schedule rule has parsed are kept too, so measuring one does not parse it again.
#[derive(Debug, Default)]
pub struct GapCache {
    parsed: HashMap<String, Cron>,
    known: HashMap<(String, String), Result<Gap, NoGap>>,
}

impl GapCache {
    /// Keep `cron`, `schedule` as [`parser`] parsed it, for [`GapCache::longest_gap`].
    pub fn remember(&mut self, schedule: &str, cron: Cron) {
        self.parsed.insert(schedule.trim().to_owned(), cron);
    }

    pub fn longest_gap(
        &mut self,
        schedule: &str,
        zone_name: &str,
        zone: &TimeZone,
    ) -> &Result<Gap, NoGap> {
        let parsed = &self.parsed;
        self.known
            .entry((schedule.trim().to_owned(), zone_name.to_owned()))
            .or_insert_with(|| match parsed.get(schedule.trim()) {
                Some(cron) => longest_gap_of(cron, schedule, zone),
                None => longest_gap(schedule, zone),
            })
    }
}

/// A duration for people: `13h`, `11h30m`, `3 days 2h`.
pub fn duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let mut out = String::new();
    if days >= 2 {
        out.push_str(&format!("{days} days"));
        if hours > 0 {
            out.push_str(&format!(" {hours}h"));
        }
        return out;
    }
    let hours = hours + days * 24;
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 || hours == 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out
}

/// Where a gap lies, in the schedule's own wall clock: `between 00:00 and 13:00`,
/// `between 03:00 and 03:00 the next day`, or with dates when it spans longer or crosses a
/// daylight saving change.
pub fn describe(gap: &Gap) -> String {
    let time = |z: &Zoned| z.strftime("%H:%M").to_string();
    let date = |z: &Zoned| z.strftime("%Y-%m-%d").to_string();
    let days = (gap.to.date() - gap.from.date()).get_days();
    let offset_changed = gap.from.offset() != gap.to.offset();
    let mut text = match days {
        0 => format!("between {} and {}", time(&gap.from), time(&gap.to)),
        1 if !offset_changed => {
            format!(
                "between {} and {} the next day",
                time(&gap.from),
                time(&gap.to)
            )
        }
        _ => format!(
            "between {} {} and {} {}",
            date(&gap.from),
            time(&gap.from),
            date(&gap.to),
            time(&gap.to)
        ),
    };
    if offset_changed {
        if days == 0 {
            text.push_str(&format!(" on {}", date(&gap.from)));
        }
        let zone = gap.from.time_zone().iana_name().unwrap_or("the time zone");
        text.push_str(&format!(", when {zone} changes its clocks"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(schedule: &str, zone: &str) -> Gap {
        let zone = time_zone(zone).expect("known zone");
        longest_gap(schedule, &zone).expect("runs")
    }

    #[test]
    fn gaps_of_common_schedules() {
        assert_eq!(gap("0 */10 * * *", "UTC").seconds, 10 * 3600);
        assert_eq!(gap("0 */13 * * *", "UTC").seconds, 13 * 3600);
        assert_eq!(gap("0 3 * * *", "UTC").seconds, 24 * 3600);
        assert_eq!(gap("0 */11 * * *", "UTC").seconds, 11 * 3600);
        assert_eq!(gap("0 0,11 * * *", "UTC").seconds, 13 * 3600);
        assert_eq!(gap("30 */6 * * *", "UTC").seconds, 6 * 3600);
        assert_eq!(gap("@daily", "UTC").seconds, 24 * 3600);
        assert_eq!(gap("0 0 * * MON-FRI", "UTC").seconds, 3 * 24 * 3600);
        assert_eq!(gap("* * * * *", "UTC").seconds, 60);
        assert!(gap("0 0 1 * *", "UTC").seconds >= 31 * 24 * 3600);
    }

    #[test]
    fn the_gap_is_placed_in_the_wall_clock() {
        let g = gap("0 */13 * * *", "UTC");
        assert_eq!(describe(&g), "between 00:00 and 13:00");
        assert_eq!(duration(g.seconds), "13h");
        let g = gap("0 3 * * *", "UTC");
        assert_eq!(describe(&g), "between 03:00 and 03:00 the next day");
        assert_eq!(duration(g.seconds), "24h");
    }

    #[test]
    fn a_clock_change_can_stretch_eleven_hours_to_twelve() {
        let g = gap("0 */11 * * *", "Europe/Berlin");
        assert_eq!(g.seconds, 12 * 3600);
        assert_eq!(
            describe(&g),
            "between 00:00 and 11:00 on 2025-10-26, when Europe/Berlin changes its clocks"
        );
    }

    #[test]
    fn schedules_that_never_run_have_no_gap() {
        let utc = time_zone("UTC").expect("utc");
        assert_eq!(longest_gap("0 0 30 2 *", &utc), Err(NoGap::Never));
    }

    #[test]
    fn time_zones_are_spelled_exactly() {
        assert!(time_zone("Europe/Berlin").is_some());
        assert!(time_zone("europe/berlin").is_none());
        assert!(time_zone("Mars/Olympus").is_none());
        assert!(time_zone_names().iter().any(|n| n == "America/New_York"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(60), "1m");
        assert_eq!(duration(11 * 3600 + 1800), "11h30m");
        assert_eq!(duration(3 * 86_400 + 7200), "3 days 2h");
    }
}
