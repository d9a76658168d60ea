//! Kubernetes' reading of a CronJob schedule: robfig/cron v3.0.1's `ParseStandard` and
//! `SpecSchedule.Next` (the code the CronJob controller vendors), ported with Go's `time`
//! semantics (`time.Date` normalisation in a zone, absolute `Add`, `Truncate`), pure.
//!
//! Shared by `ecr-chart` (the schedule-safety check walks [`next`]) and `ecr-refresher status`
//! (the next scheduled run of a registry's CronJob).

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A parsed schedule, as robfig/cron returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Five fields or a descriptor such as `@daily` (`SpecSchedule`).
    Spec(Spec),
    /// `@every <duration>` (`ConstantDelaySchedule`): runs this many seconds apart.
    Every { seconds: i64 },
}

/// The bit sets of a `SpecSchedule` (bit `n` set: value `n` matches; [`STAR`] set: the field
/// started with `*` or `?`). The seconds field of `ParseStandard` is always `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub minute: u64,
    pub hour: u64,
    pub dom: u64,
    pub month: u64,
    pub dow: u64,
}

/// robfig's `starBit`: the field was `*` or `?` (with no step above 1).
pub const STAR: u64 = 1 << 63;

/// The five fields, in order, with their bounds and names.
pub const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    },
    Field {
        name: "day-of-week",
        min: 0,
        max: 6,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    },
];

/// One field of a 5-field schedule.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub min: u64,
    pub max: u64,
    /// Names of the values from `min` on (months from 1, weekdays from 0).
    pub names: &'static [&'static str],
}

/// Why robfig refuses a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    Empty,
    /// `@` followed by something robfig does not know.
    UnknownDescriptor(String),
    /// `@every` with something `time.ParseDuration` refuses.
    BadDuration(String),
    /// Not 5 fields (after splitting on Unicode whitespace).
    FieldCount(usize),
    /// A problem in one field (`field` is its index in [`FIELDS`]).
    Field {
        field: usize,
        text: String,
        problem: FieldProblem,
    },
}

/// What is wrong in one field, in robfig's `getRange` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    TooManyHyphens(String),
    TooManySlashes(String),
    /// `strconv.Atoi` refuses this part (and it is not a name of the field).
    NotANumber(String),
    Negative(String),
    /// The step after `/` is not a number from 1.
    BadStep(String),
    BelowMin(String),
    AboveMax(String),
    Backwards(String),
}

/// robfig/cron v3.0.1 `ParseStandard` of `spec`, without its `TZ=`/`CRON_TZ=` prefix (the
/// caller refuses any `TZ`, as Kubernetes does; the zone is `cronJob.timeZone`).
pub fn parse_standard(spec: &str) -> Result<Schedule, ParseError> {
    if spec.is_empty() {
        return Err(ParseError::Empty);
    }
    if spec.starts_with('@') {
        return descriptor(spec);
    }
    // strings.Fields: Unicode white space, as Rust's `split_whitespace`.
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(ParseError::FieldCount(fields.len()));
    }
    let mut bits = [0u64; 5];
    for (n, text) in fields.iter().enumerate() {
        bits[n] = field_bits(text, &FIELDS[n]).map_err(|problem| ParseError::Field {
            field: n,
            text: (*text).to_owned(),
            problem,
        })?;
    }
    Ok(Schedule::Spec(Spec {
        minute: bits[0],
        hour: bits[1],
        dom: bits[2],
        month: bits[3],
        dow: bits[4],
    }))
}

fn descriptor(spec: &str) -> Result<Schedule, ParseError> {
    let all = |f: &Field| bits(f.min, f.max, 1) | STAR;
    let [minute, hour, dom, month, dow] = FIELDS;
    let first = |f: &Field| 1u64 << f.min;
    let spec_of = |minute, hour, dom, month, dow| {
        Ok(Schedule::Spec(Spec {
            minute,
            hour,
            dom,
            month,
            dow,
        }))
    };
    match spec {
        "@yearly" | "@annually" => spec_of(
            first(&minute),
            first(&hour),
            first(&dom),
            first(&month),
            all(&dow),
        ),
        "@monthly" => spec_of(
            first(&minute),
            first(&hour),
            first(&dom),
            all(&month),
            all(&dow),
        ),
        "@weekly" => spec_of(
            first(&minute),
            first(&hour),
            all(&dom),
            all(&month),
            first(&dow),
        ),
        "@daily" | "@midnight" => spec_of(
            first(&minute),
            first(&hour),
            all(&dom),
            all(&month),
            all(&dow),
        ),
        "@hourly" => spec_of(
            first(&minute),
            all(&hour),
            all(&dom),
            all(&month),
            all(&dow),
        ),
        _ => match spec.strip_prefix("@every ") {
            Some(duration) => {
                let nanos = go_parse_duration(duration)
                    .ok_or_else(|| ParseError::BadDuration(duration.to_owned()))?;
                // cron.Every: at least a second, fractions of a second dropped.
                let nanos = nanos.max(1_000_000_000);
                Ok(Schedule::Every {
                    seconds: nanos / 1_000_000_000,
                })
            }
            None => Err(ParseError::UnknownDescriptor(spec.to_owned())),
        },
    }
}

/// robfig's `getField`: a comma-separated list of ranges; empty items are skipped
/// (`strings.FieldsFunc`), so `,` alone is a field that matches nothing.
fn field_bits(text: &str, field: &Field) -> Result<u64, FieldProblem> {
    let mut out = 0;
    for expr in text.split(',').filter(|e| !e.is_empty()) {
        out |= range_bits(expr, field)?;
    }
    Ok(out)
}

/// robfig's `getRange`: `*`, `?`, `N` or `N-M`, each with an optional `/step`; `N/step`
/// means `N-max/step`; a star keeps [`STAR`] unless its step is above 1.
fn range_bits(expr: &str, field: &Field) -> Result<u64, FieldProblem> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end, mut extra);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (start, end, extra) = (field.min, field.max, STAR);
    } else {
        start = int_or_name(low_and_high[0], field)?;
        end = match low_and_high.len() {
            1 => start,
            2 => int_or_name(low_and_high[1], field)?,
            _ => return Err(FieldProblem::TooManyHyphens(expr.to_owned())),
        };
        extra = 0;
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = match go_atoi(range_and_step[1]) {
                Some(n) if n >= 0 => n as u64,
                _ => return Err(FieldProblem::BadStep(range_and_step[1].to_owned())),
            };
            if single {
                end = field.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(FieldProblem::TooManySlashes(expr.to_owned())),
    };
    if start < field.min {
        return Err(FieldProblem::BelowMin(expr.to_owned()));
    }
    if end > field.max {
        return Err(FieldProblem::AboveMax(expr.to_owned()));
    }
    if start > end {
        return Err(FieldProblem::Backwards(expr.to_owned()));
    }
    if step == 0 {
        return Err(FieldProblem::BadStep(range_and_step[1].to_owned()));
    }
    Ok(bits(start, end, step) | extra)
}

/// robfig's `parseIntOrName`: a name of the field (after Go's `strings.ToLower`) or a number.
fn int_or_name(expr: &str, field: &Field) -> Result<u64, FieldProblem> {
    if !field.names.is_empty() {
        let lower = go_to_lower(expr);
        if let Some(i) = field.names.iter().position(|n| *n == lower) {
            return Ok(field.min + i as u64);
        }
    }
    match go_atoi(expr) {
        None => Err(FieldProblem::NotANumber(expr.to_owned())),
        Some(n) if n < 0 => Err(FieldProblem::Negative(expr.to_owned())),
        Some(n) => Ok(n as u64),
    }
}

/// Go's `strings.ToLower` as far as it can make a name: ASCII, and the two non-ASCII letters
/// whose lower case is ASCII (`İ` to `i`, the Kelvin sign to `k`).
fn go_to_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{130}' => 'i',
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Go's `strconv.Atoi` on 64-bit: an optional sign and decimal digits, within `i64`.
fn go_atoi(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i128 = 0;
    for b in digits.bytes() {
        value = value * 10 + i128::from(b - b'0');
        if value > 1 << 63 {
            return None;
        }
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).ok()
}

/// robfig's `getBits`: every `step`-th value from `min` to `max`.
fn bits(min: u64, max: u64, step: u64) -> u64 {
    let mut out = 0u64;
    let mut i = min;
    while i <= max {
        out |= 1 << i;
        match i.checked_add(step) {
            Some(next) => i = next,
            None => break,
        }
    }
    out
}

/// Go's `time.ParseDuration`, in nanoseconds (None where Go returns an error).
pub fn go_parse_duration(s: &str) -> Option<i64> {
    const LIMIT: u64 = 1 << 63;
    let mut s = s.as_bytes();
    let mut negative = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        negative = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return None;
        }
        // leadingInt
        let before = s.len();
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if v > LIMIT / 10 {
                return None;
            }
            v = v * 10 + u64::from(s[i] - b'0');
            if v > LIMIT {
                return None;
            }
            i += 1;
        }
        s = &s[i..];
        let pre = before != s.len();
        // leadingFraction
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let mut overflow = false;
            let mut i = 0;
            while i < s.len() && s[i].is_ascii_digit() {
                if !overflow {
                    if f > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[i] - b'0');
                        if y > LIMIT {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            s = &s[i..];
            post = before != s.len();
        }
        if !pre && !post {
            return None;
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return None;
        }
        let unit: u64 = match &s[..unit_len] {
            b"ns" => 1,
            b"us" => 1_000,
            // µ (U+00B5) and μ (U+03BC)
            b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if v > LIMIT / unit {
            return None;
        }
        v *= unit;
        if f > 0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let fraction = (f as f64 * (unit as f64 / scale)) as u64;
            v += fraction;
            if v > LIMIT {
                return None;
            }
        }
        total += v;
        if total > LIMIT {
            return None;
        }
    }
    if negative {
        return Some((total as i128).wrapping_neg() as i64);
    }
    i64::try_from(total).ok()
}

impl Spec {
    /// A field that matches nothing (an empty list such as `,`), or day fields that can never
    /// both hold: `Next` would walk five years and give up. Checked up front, with the same
    /// answer, so that walk is never made.
    pub fn never_runs(&self) -> bool {
        let value = |bits: u64| bits & !STAR;
        let days = if self.dom & STAR != 0 || self.dow & STAR != 0 {
            value(self.dom) != 0 && value(self.dow) != 0
        } else {
            value(self.dom) != 0 || value(self.dow) != 0
        };
        value(self.minute) == 0 || value(self.hour) == 0 || value(self.month) == 0 || !days
    }

    /// robfig's `dayMatches`: both day fields ANDed when either is unrestricted (starts with
    /// `*` or `?`), ORed otherwise.
    fn day_matches(&self, day: u32, weekday: u32) -> bool {
        let dom = (1u64 << day) & self.dom != 0;
        let dow = (1u64 << weekday) & self.dow != 0;
        if self.dom & STAR != 0 || self.dow & STAR != 0 {
            dom && dow
        } else {
            dom || dow
        }
    }
}

/// A time zone's UTC offsets as Go's `time` sees them, with the changes of the years a walk
/// looks at kept in a table for quick lookups.
#[derive(Debug, Clone)]
pub struct Clock {
    zone: TimeZone,
    /// The table covers `[from, until)`; outside it the zone itself is asked.
    from: i64,
    until: i64,
    /// The offset at `from`.
    first: i64,
    /// Each change of offset: when, and the offset from then on.
    changes: Vec<(i64, i64)>,
}

/// The table's span: 2020 to 2040, past the walk's end and robfig's five-year look-ahead.
const TABLE_FROM: i64 = 1_577_836_800;
const TABLE_UNTIL: i64 = 2_208_988_800;

impl Clock {
    pub fn new(zone: &TimeZone) -> Self {
        let at = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
        let first = i64::from(zone.to_offset(at(TABLE_FROM)).seconds());
        let mut changes = Vec::new();
        let mut last = first;
        for transition in zone.following(at(TABLE_FROM)) {
            let when = transition.timestamp().as_second();
            if when >= TABLE_UNTIL {
                break;
            }
            let offset = i64::from(transition.offset().seconds());
            if offset != last {
                changes.push((when, offset));
                last = offset;
            }
        }
        Self {
            zone: zone.clone(),
            from: TABLE_FROM,
            until: TABLE_UNTIL,
            first,
            changes,
        }
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The UTC offset in seconds at the Unix second `t`.
    pub fn offset(&self, t: i64) -> i64 {
        if t < self.from || t >= self.until {
            return Timestamp::from_second(t)
                .map(|ts| i64::from(self.zone.to_offset(ts).seconds()))
                .unwrap_or(0);
        }
        match self.changes.partition_point(|&(when, _)| when <= t) {
            0 => self.first,
            n => self.changes[n - 1].1,
        }
    }

    /// The offset stays the same from `from` to `to` (no change in `(from, to]`), both
    /// within the table.
    fn steady(&self, from: i64, to: i64) -> bool {
        if from < self.from || to >= self.until {
            return false;
        }
        let n = self.changes.partition_point(|&(when, _)| when <= from);
        self.changes.get(n).is_none_or(|&(when, _)| when > to)
    }

    /// The first change of offset after `t`, within the table.
    fn next_change(&self, t: i64) -> Option<i64> {
        let n = self.changes.partition_point(|&(when, _)| when <= t);
        self.changes.get(n).map(|&(when, _)| when)
    }

    /// Go's wall clock of `t`.
    fn civil(&self, t: i64) -> Civil {
        Civil::of(t + self.offset(t))
    }

    /// Go's `time.Date(year, month, day, hour, min, sec, 0, loc)`: the wall clock normalised
    /// (month into year, the rest linearly), then the offset found as Go finds it: looked up
    /// at the wall clock read as UTC, and looked up again at the result if that falls outside
    /// the zone period found. A wall clock in a gap moves forward by the gap; an ambiguous one
    /// takes whichever period that lookup lands in.
    fn date(&self, year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64) -> i64 {
        let m = month - 1;
        let (year, m) = (year + m.div_euclid(12), m.rem_euclid(12));
        let days = days_from_civil(year, m + 1, 1) + day - 1;
        let unix = days * 86_400 + hour * 3_600 + min * 60 + sec;
        let guess = self.offset(unix);
        if guess == 0 {
            return unix;
        }
        unix - self.offset(unix - guess)
    }
}

/// A wall clock reading (Go's `t.Date()`, `t.Clock()`, `t.Weekday()`).
#[derive(Debug, Clone, Copy)]
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: i64,
}

impl Civil {
    fn of(local: i64) -> Self {
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: secs / 3_600,
            minute: secs % 3_600 / 60,
            second: secs % 60,
            weekday: (days + 4).rem_euclid(7),
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn has(bits: u64, value: i64) -> bool {
    (1u64 << value) & bits != 0
}

/// robfig/cron v3.0.1 `SpecSchedule.Next(t)` in the clock's zone, on whole Unix seconds:
/// the next run strictly after `t`, or None where robfig returns the zero time (nothing
/// within five years). Every step is robfig's; runs of single steps that cannot meet a
/// match, a wrap-around or a change of offset are taken at once, with the same result.
pub fn next(spec: &Spec, clock: &Clock, t: i64) -> Option<i64> {
    if spec.never_runs() {
        return None;
    }
    let mut t = t + 1;
    let mut added = false;
    let year_limit = clock.civil(t).year + 5;
    'wrap: loop {
        let c = clock.civil(t);
        if c.year > year_limit {
            return None;
        }
        let mut c = c;
        while !has(spec.month, c.month) {
            if !added {
                added = true;
                t = clock.date(c.year, c.month, 1, 0, 0, 0);
                c = clock.civil(t);
            }
            t = clock.date(c.year, c.month + 1, c.day, c.hour, c.minute, c.second);
            c = clock.civil(t);
            if c.month == 1 {
                continue 'wrap;
            }
        }
        while !spec.day_matches(c.day as u32, c.weekday as u32) {
            if !added {
                added = true;
                t = clock.date(c.year, c.month, c.day, 0, 0, 0);
                c = clock.civil(t);
            }
            t = clock.date(c.year, c.month, c.day + 1, c.hour, c.minute, c.second);
            c = clock.civil(t);
            if c.hour != 0 {
                if c.hour > 12 {
                    t += (24 - c.hour) * 3_600;
                } else {
                    t -= c.hour * 3_600;
                }
                c = clock.civil(t);
            }
            if c.day == 1 {
                continue 'wrap;
            }
        }
        if !has(spec.hour, c.hour) {
            if !added {
                added = true;
                t = clock.date(c.year, c.month, c.day, c.hour, 0, 0);
                c = clock.civil(t);
            }
            loop {
                // Whole hours at a steady offset: the hour counts up by one per step.
                let steps = (1..=24)
                    .find(|k| {
                        let h = (c.hour + k) % 24;
                        h == 0 || has(spec.hour, h)
                    })
                    .unwrap_or(24);
                if steps > 1 && clock.steady(t, t + steps * 3_600) {
                    t += steps * 3_600;
                } else {
                    t += 3_600;
                }
                c = clock.civil(t);
                if c.hour == 0 {
                    continue 'wrap;
                }
                if has(spec.hour, c.hour) {
                    break;
                }
            }
        }
        if !has(spec.minute, c.minute) {
            if !added {
                added = true;
                t -= t.rem_euclid(60);
                c = clock.civil(t);
            }
            loop {
                let steps = (1..=60)
                    .find(|k| {
                        let m = (c.minute + k) % 60;
                        m == 0 || has(spec.minute, m)
                    })
                    .unwrap_or(60);
                if steps > 1 && clock.steady(t, t + steps * 60) {
                    t += steps * 60;
                } else {
                    t += 60;
                }
                c = clock.civil(t);
                if c.minute == 0 {
                    continue 'wrap;
                }
                if has(spec.minute, c.minute) {
                    break;
                }
            }
        }
        // The seconds field is `0`: step to the next whole minute, then wrap around.
        if c.second != 0 {
            added = true;
            loop {
                let steps = 60 - c.second;
                if clock.steady(t, t + steps) {
                    t += steps;
                } else {
                    t += 1;
                }
                c = clock.civil(t);
                if c.second == 0 {
                    continue 'wrap;
                }
            }
        }
        return Some(t);
    }
}

/// The walk starts here (2026-01-01T00:00:00Z) ...
pub const WALK_FROM: i64 = 1_767_225_600;
/// ... and ends with the first run at or after this (2031-01-01T00:00:00Z).
pub const WALK_UNTIL: i64 = 1_924_992_000;

/// What walking `Next` from [`WALK_FROM`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// The first `Next` gives the zero time: no run within five years.
    Never,
    /// After the run `at`, `Next` gives `to`, not later than `at`, or the zero time (None):
    /// the CronJob controller stops scheduling.
    Stalls { at: i64, to: Option<i64> },
    /// The longest time between two consecutive runs (the first such pair), in seconds.
    Gap { seconds: i64, from: i64, to: i64 },
}

/// The runs of one day of a 5-field schedule at a steady offset: its minutes of the day, in
/// order, and for each run the longest step to a later run of the day (the first of them).
#[derive(Debug, Clone)]
struct Day {
    /// Every day of every month matches (day fields and months unrestricted, in effect).
    every_day: bool,
    minutes: Vec<i64>,
    /// `longest[i]`: (seconds, index k of its first run) of the longest step
    /// `minutes[k]..minutes[k + 1]` with `k >= i`.
    longest: Vec<(i64, usize)>,
}

impl Day {
    fn new(spec: &Spec) -> Self {
        let minutes: Vec<i64> = (0..24)
            .filter(|&h| has(spec.hour, h))
            .flat_map(|h| {
                (0..60)
                    .filter(|&m| has(spec.minute, m))
                    .map(move |m| h * 60 + m)
            })
            .collect();
        let mut longest = vec![(0, 0); minutes.len()];
        for k in (0..minutes.len().saturating_sub(1)).rev() {
            let step = (minutes[k + 1] - minutes[k]) * 60;
            longest[k] = match longest.get(k + 1) {
                Some(&(later, at)) if later > step && k + 1 < minutes.len() - 1 => (later, at),
                _ => (step, k),
            };
        }
        let every_day = (1..=12).all(|month| has(spec.month, month))
            && (1..=31).all(|d| (0..7).all(|w| spec.day_matches(d, w)));
        Self {
            every_day,
            minutes,
            longest,
        }
    }
}

/// The longest gap between consecutive runs of `schedule` from [`WALK_FROM`] to the first
/// run at or after [`WALK_UNTIL`], walking robfig's `Next` in the clock's zone exactly as the
/// CronJob controller does. Within a day whose offset is steady from two days before a run
/// to a day after the day's last run, robfig's `Next` is plain wall-clock arithmetic, so the
/// day's remaining runs are stepped over at once (and, for a schedule alike every day, the
/// days up to the next change of offset).
pub fn walk(schedule: &Schedule, clock: &Clock) -> Walk {
    let spec = match schedule {
        Schedule::Every { seconds } => {
            return Walk::Gap {
                seconds: *seconds,
                from: WALK_FROM + seconds,
                to: WALK_FROM + 2 * seconds,
            };
        }
        Schedule::Spec(spec) => spec,
    };
    let Some(mut run) = next(spec, clock, WALK_FROM) else {
        return Walk::Never;
    };
    let day = Day::new(spec);
    let mut best: Option<(i64, i64, i64)> = None;
    loop {
        if let Some(last) = rest_of_day(spec, &day, clock, run, &mut best) {
            run = last;
        }
        match next(spec, clock, run) {
            Some(following) if following > run => {
                keep(&mut best, following - run, run);
                run = following;
                if run >= WALK_UNTIL {
                    break;
                }
            }
            to => return Walk::Stalls { at: run, to },
        }
    }
    let (seconds, from, to) = best.unwrap_or((0, run, run));
    Walk::Gap { seconds, from, to }
}

/// Keep the first of the longest steps, in the order the controller meets them.
fn keep(best: &mut Option<(i64, i64, i64)>, seconds: i64, from: i64) {
    if best.is_none_or(|(s, _, _)| seconds > s) {
        *best = Some((seconds, from, from + seconds));
    }
}

/// From a run in a steady day, step over the rest of the day's runs (and, for a schedule that
/// runs alike every day, over the following days while the offset stays steady), keeping the
/// longest step on the way: the last run stepped to, or None when the day must be walked run
/// by run.
fn rest_of_day(
    spec: &Spec,
    day: &Day,
    clock: &Clock,
    run: i64,
    best: &mut Option<(i64, i64, i64)>,
) -> Option<i64> {
    let c = clock.civil(run);
    if c.second != 0
        || !has(spec.month, c.month)
        || !spec.day_matches(c.day as u32, c.weekday as u32)
    {
        return None;
    }
    let m = &day.minutes;
    let i = m.binary_search(&(c.hour * 60 + c.minute)).ok()?;
    let last_index = m.len() - 1;
    let last_today = run + (m[last_index] - m[i]) * 60;
    if last_today >= WALK_UNTIL || !clock.steady(run - 2 * 86_400, last_today + 86_400) {
        return None;
    }
    if i < last_index {
        let (seconds, k) = day.longest[i];
        keep(best, seconds, run + (m[k] - m[i]) * 60);
    }
    let mut last = last_today;
    if day.every_day {
        // Whole days whose last run is a day before the next change and before the end.
        let change = clock.next_change(run).unwrap_or(clock.until);
        let limit = (change - 86_401).min(WALK_UNTIL - 1);
        let days = (limit - last_today).div_euclid(86_400);
        if days >= 1 {
            let first_tomorrow = last_today - (m[last_index] - m[0]) * 60 + 86_400;
            keep(best, first_tomorrow - last_today, last_today);
            if last_index > 0 {
                let (seconds, k) = day.longest[0];
                keep(best, seconds, first_tomorrow + (m[k] - m[0]) * 60);
            }
            last = last_today + days * 86_400;
        }
    }
    (last != run).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Spec {
        match parse_standard(s) {
            Ok(Schedule::Spec(spec)) => spec,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn a_star_day_field_makes_both_day_fields_count() {
        // `*/1` keeps the star: Mondays only, not every day.
        let s = spec("0 */10 */1 * 1");
        assert_ne!(s.dom & STAR, 0);
        assert!(s.day_matches(5, 1));
        assert!(!s.day_matches(6, 2));
        // Both restricted: either one.
        let s = spec("0 0 1 * 1");
        assert!(s.day_matches(1, 3) && s.day_matches(9, 1) && !s.day_matches(9, 2));
    }

    #[test]
    fn n_slash_step_runs_to_the_end_of_the_field() {
        let s = spec("0 0 * * MON/1");
        assert_eq!(s.dow & !STAR, 0b111_1110, "Monday to Saturday");
        let s = spec("5/20 * * * *");
        assert_eq!(s.minute, (1 << 5) | (1 << 25) | (1 << 45));
    }

    #[test]
    fn robfig_accepts_what_looks_odd() {
        for good in [
            "? ? ? ? ?",
            "0 12,* * * *",
            "+5 * * * *",
            "0 0,,11 * * *",
            "*-5 * * * *",
            "0 0 * * fRi",
            "0 0 * * FR\u{130}",
            "@every 5h",
            "@every 1.5h",
            "@every -1s",
        ] {
            assert!(parse_standard(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "@every",
            "@every 5",
            "@every 5h ",
            "@hourly ",
            " @hourly",
            "0 0 * * 7",
            "0 0 0 * *",
            "-1 * * * *",
            "1-2-3 * * * *",
            "*/0 * * * *",
            "0 0 * * 7/1",
        ] {
            assert!(parse_standard(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_standard("@every 1h30m"),
            Ok(Schedule::Every { seconds: 5_400 })
        );
        assert_eq!(
            parse_standard("@every 1ms"),
            Ok(Schedule::Every { seconds: 1 })
        );
    }

    #[test]
    fn go_durations_parse_as_go_parses_them() {
        assert_eq!(go_parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(go_parse_duration(".5h"), Some(1_800_000_000_000));
        assert_eq!(go_parse_duration("-0"), Some(0));
        assert_eq!(go_parse_duration("1\u{b5}s"), Some(1_000));
        assert_eq!(go_parse_duration("3000000h"), None);
        assert_eq!(go_parse_duration("1"), None);
        assert_eq!(go_parse_duration("h"), None);
    }

    #[test]
    fn empty_fields_never_run() {
        assert!(spec("0 , * * *").never_runs());
        assert!(spec("0 0 , * *").never_runs());
        assert!(!spec("0 0 , * 1").never_runs());
    }

    #[test]
    fn dates_match_the_calendar() {
        for days in [-800_000, -1, 0, 59, 11_016, 20_454, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(Civil::of(WALK_FROM).weekday, 4, "2026-01-01 is a Thursday");
    }
}
