//! Schedule safety: a schedule as Kubernetes reads it, the longest gap between two of its runs
//! in a time zone as the CronJob controller runs them (2026 to 2031, so the answer never
//! depends on today), and what it means for the 12-hour ECR token.

use std::collections::HashMap;

use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{Timestamp, Zoned};

use super::cron::{self, Clock, Walk};

pub use super::cron::{ParseError, Schedule};

/// Lifetime of an ECR authorization token: a gap this long lets the pull secret expire.
pub const TOKEN_LIFETIME_SECS: i64 = 12 * 3600;
/// Gaps longer than this leave under an hour of slack: warned about.
pub const WARN_ABOVE_SECS: i64 = 11 * 3600;
/// A schedule that is safe and the default: every 10 hours.
pub const SAFE_EXAMPLE: &str = "0 */10 * * *";

/// Why a schedule has no gap to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoGap {
    /// The schedule does not parse (reported by the schedule check).
    Invalid,
    /// robfig's `Next` finds no run within five years (`0 0 30 2 *`): the CronJob controller
    /// never schedules it.
    Never,
    /// After the run `at`, robfig's `Next` does not move forward (or gives up): the CronJob
    /// controller stops scheduling there.
    Stalls { at: Zoned },
}

/// The longest time between two consecutive runs, with the two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub seconds: i64,
    pub from: Zoned,
    pub to: Zoned,
    /// `@every`: the runs keep a constant delay from the CronJob's creation, not a wall clock.
    pub constant: bool,
}

/// A schedule as Kubernetes reads it: robfig/cron v3.0.1 `ParseStandard` of the raw string
/// (so whitespace around a descriptor is refused), and no `TZ` anywhere in it (the API
/// server refuses `TZ=`/`CRON_TZ=` in new CronJobs).
pub fn parse(schedule: &str) -> Result<Schedule, Refusal> {
    if schedule.contains("TZ") {
        return Err(Refusal::TimeZoneInSchedule);
    }
    cron::parse_standard(schedule).map_err(Refusal::Parse)
}

/// Why Kubernetes refuses a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    TimeZoneInSchedule,
    Parse(ParseError),
}

/// Schedules to suggest when one is refused, least frequent first: the first that is safe in
/// the registry's zone is the example (the default is not safe everywhere: Lord Howe's
/// half-hour change leaves 20h30m with it).
const SAFE_CANDIDATES: [(&str, &str); 6] = [
    (SAFE_EXAMPLE, "every 10 hours"),
    ("0 */8 * * *", "every 8 hours"),
    ("0 */6 * * *", "every 6 hours"),
    ("0 */4 * * *", "every 4 hours"),
    ("0 */2 * * *", "every 2 hours"),
    ("0 * * * *", "every hour"),
];

/// A schedule with its description that leaves at most [`WARN_ABOVE_SECS`] between runs in
/// `zone`: the least frequent of [`SAFE_CANDIDATES`] that does (hourly when none does).
pub fn safe_example(zone: &TimeZone) -> (&'static str, &'static str) {
    SAFE_CANDIDATES
        .into_iter()
        .find(|(schedule, _)| {
            longest_gap(schedule, zone).is_ok_and(|gap| gap.seconds <= WARN_ABOVE_SECS)
        })
        .unwrap_or(SAFE_CANDIDATES[SAFE_CANDIDATES.len() - 1])
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

/// The longest gap between two consecutive runs of `schedule` in `zone`, as the CronJob
/// controller runs it: robfig's `Next` walked from 2026-01-01 to the first run in 2031.
pub fn longest_gap(schedule: &str, zone: &TimeZone) -> Result<Gap, NoGap> {
    let parsed = parse(schedule).map_err(|_| NoGap::Invalid)?;
    gap_of(&parsed, &Clock::new(zone))
}

/// [`longest_gap`] of a schedule already parsed.
fn gap_of(schedule: &Schedule, clock: &Clock) -> Result<Gap, NoGap> {
    let zoned = |t: i64| {
        Timestamp::from_second(t)
            .unwrap_or(Timestamp::MAX)
            .to_zoned(clock.zone().clone())
    };
    match cron::walk(schedule, clock) {
        Walk::Never => Err(NoGap::Never),
        Walk::Stalls { at, .. } => Err(NoGap::Stalls { at: zoned(at) }),
        Walk::Gap { seconds, from, to } => Ok(Gap {
            seconds,
            from: zoned(from),
            to: zoned(to),
            constant: matches!(schedule, Schedule::Every { .. }),
        }),
    }
}

/// Longest gaps already computed, per (schedule, time zone): thousands of registries share a
/// handful of schedules, so the check stays linear in the number of registries. Schedules the
/// schedule rule has parsed are kept too, so measuring one does not parse it again.
#[derive(Debug, Default)]
pub struct GapCache {
    parsed: HashMap<String, Schedule>,
    clocks: HashMap<String, Clock>,
    known: HashMap<(String, String), Result<Gap, NoGap>>,
}

impl GapCache {
    /// Keep `parsed`, `schedule` as [`parse`] parsed it, for [`GapCache::longest_gap`].
    pub fn remember(&mut self, schedule: &str, parsed: Schedule) {
        self.parsed.insert(schedule.to_owned(), parsed);
    }

    pub fn longest_gap(
        &mut self,
        schedule: &str,
        zone_name: &str,
        zone: &TimeZone,
    ) -> &Result<Gap, NoGap> {
        let (parsed, clocks) = (&self.parsed, &mut self.clocks);
        self.known
            .entry((schedule.to_owned(), zone_name.to_owned()))
            .or_insert_with(|| {
                let clock = clocks
                    .entry(zone_name.to_owned())
                    .or_insert_with(|| Clock::new(zone));
                match parsed.get(schedule) {
                    Some(parsed) => gap_of(parsed, clock),
                    None => match parse(schedule) {
                        Ok(parsed) => gap_of(&parsed, clock),
                        Err(_) => Err(NoGap::Invalid),
                    },
                }
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
/// daylight saving change; for `@every`, that it holds between any two runs.
pub fn describe(gap: &Gap) -> String {
    if gap.constant {
        return "between any two runs, counted from when the CronJob is created".to_owned();
    }
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
            "between 00:00 and 11:00 on 2026-10-25, when Europe/Berlin changes its clocks"
        );
    }

    #[test]
    fn robfig_skips_runs_on_the_day_lord_howe_moves_its_clocks_by_half_an_hour() {
        let g = gap("0 */10 * * *", "Australia/Lord_Howe");
        assert_eq!(g.seconds, 20 * 3600 + 1800);
        assert_eq!(
            g.from.strftime("%Y-%m-%d %H:%M %:z").to_string(),
            "2026-04-05 00:00 +11:00"
        );
    }

    #[test]
    fn a_schedule_whose_next_run_goes_back_in_time_stalls_the_controller() {
        let zone = time_zone("Pacific/Chatham").expect("known zone");
        let Err(NoGap::Stalls { at }) = longest_gap("5/15 */3 * * *", &zone) else {
            panic!("stalls");
        };
        assert_eq!(
            at.strftime("%Y-%m-%d %H:%M %:z").to_string(),
            "2026-04-05 02:50 +12:45"
        );
    }

    #[test]
    fn day_fields_starting_with_a_star_are_anded() {
        assert_eq!(gap("0 */10 */1 * 1", "UTC").seconds, 6 * 86_400 + 4 * 3600);
        assert_eq!(gap("0 */10 * * MON/1", "UTC").seconds, 28 * 3600);
        assert_eq!(gap("@midnight", "UTC").seconds, 24 * 3600);
        assert_eq!(gap("@every 5h", "UTC").seconds, 5 * 3600);
    }

    #[test]
    fn a_time_zone_inside_the_schedule_is_refused() {
        assert_eq!(parse("TZ=UTC 0 * * * *"), Err(Refusal::TimeZoneInSchedule));
        assert_eq!(
            parse("CRON_TZ=UTC 0 * * * *"),
            Err(Refusal::TimeZoneInSchedule)
        );
        assert!(parse("0 12,* * * *").is_ok());
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

    #[test]
    fn the_suggested_schedule_is_safe_in_the_zone_it_is_suggested_for() {
        assert_eq!(safe_example(&TimeZone::UTC).0, SAFE_EXAMPLE);
        let lord_howe = time_zone("Australia/Lord_Howe").expect("bundled zone");
        let (suggested, _) = safe_example(&lord_howe);
        assert_ne!(
            suggested, SAFE_EXAMPLE,
            "the default leaves 20h30m in Lord Howe"
        );
        let gap = longest_gap(suggested, &lord_howe).expect("runs");
        assert!(
            gap.seconds <= WARN_ABOVE_SECS,
            "{suggested}: {}",
            gap.seconds
        );
    }
}
