//! The two outputs of `status`: a kubectl-style table for people and JSON for scripts (field
//! names are stable: `release`, `namespace`, `now`, `ok`, `rows[]`).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::report::{NextRun, Report, Row, SecretCheck};

/// The column headers, in order.
pub const COLUMNS: [&str; 11] = [
    "REGISTRY",
    "NAMESPACE",
    "SECRET",
    "HOSTS",
    "REFRESHED-AT",
    "EXPIRES-AT",
    "LEFT",
    "LAST-SUCCESS",
    "LAST-FAILURE",
    "NEXT-RUN",
    "VERDICT",
];

/// kubectl's placeholder for an empty cell.
const NONE: &str = "<none>";

/// The table: a header and one line per row, columns left-aligned and three spaces apart (as
/// kubectl's printer pads them), times in UTC to the second, the time left as kubectl prints
/// ages (`7h59m`, negative once expired), the first registry host and how many more.
pub fn table(report: &Report) -> String {
    let cells: Vec<[String; 11]> = report.rows.iter().map(cells).collect();
    let mut widths = COLUMNS.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        let mut text = String::new();
        for (n, cell) in row.iter().enumerate() {
            text.push_str(cell);
            if n + 1 < row.len() {
                let pad = widths[n] - cell.chars().count() + 3;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&COLUMNS.map(str::to_owned));
    for row in &cells {
        line(row);
    }
    out
}

fn cells(row: &Row) -> [String; 11] {
    let time = |t: Option<Timestamp>| t.map_or_else(|| NONE.to_owned(), |t| t.to_string());
    let secret = match &row.secret {
        SecretCheck::Ok => "ok".to_owned(),
        SecretCheck::Missing => "missing".to_owned(),
        SecretCheck::WrongType(t) => format!("wrong type {t}"),
        SecretCheck::Unknown => "unknown".to_owned(),
        SecretCheck::Unlisted(_) => "not listable".to_owned(),
    };
    // As kubectl shortens endpoint lists: the first, then how many more (JSON has them all).
    let hosts = match row.hosts.as_slice() {
        [] => NONE.to_owned(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} + {} more...", rest.len()),
    };
    let left = row.seconds_left.map_or_else(
        || NONE.to_owned(),
        |s| {
            if s < 0 {
                format!("-{}", human_duration(-s))
            } else {
                human_duration(s)
            }
        },
    );
    let next = match &row.next_run {
        NextRun::At(t) => t.to_string(),
        NextRun::Suspended => "suspended".to_owned(),
        NextRun::NoCronJob => "no CronJob".to_owned(),
        NextRun::Unknown(_) => "unknown".to_owned(),
    };
    [
        row.registry.clone(),
        row.namespace.clone().unwrap_or_else(|| NONE.to_owned()),
        secret,
        hosts,
        time(row.refreshed_at),
        time(row.expires_at),
        left,
        time(row.last_success),
        time(row.last_failure),
        next,
        row.verdict.as_str().to_owned(),
    ]
}

/// The JSON document, pretty-printed, with a final newline. Times are RFC 3339 in UTC or
/// `null`; `secondsLeft` is negative once expired; `nextRunNote` says why `nextRun` is `null`.
pub fn json(report: &Report) -> String {
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
    let rows: Vec<Value> = report
        .rows
        .iter()
        .map(|row| {
            let (state, type_) = match &row.secret {
                SecretCheck::Ok => ("ok", Some(crate::dockerconfig::SECRET_TYPE.to_owned())),
                SecretCheck::Missing => ("missing", None),
                SecretCheck::WrongType(t) => ("wrongType", Some(t.clone())),
                SecretCheck::Unknown => ("unknown", None),
                SecretCheck::Unlisted(_) => ("unlisted", None),
            };
            let mut secret = json!({ "name": row.secret_name, "state": state, "type": type_ });
            if let SecretCheck::Unlisted(why) = &row.secret {
                secret["note"] = json!(why);
            }
            let (next, note) = match &row.next_run {
                NextRun::At(t) => (Some(t.to_string()), None),
                NextRun::Suspended => (None, Some("suspended".to_owned())),
                NextRun::NoCronJob => (None, Some("no CronJob".to_owned())),
                NextRun::Unknown(why) => (None, Some(why.clone())),
            };
            json!({
                "registry": row.registry,
                "namespace": row.namespace,
                "secret": secret,
                "hosts": row.hosts,
                "refreshedAt": time(row.refreshed_at),
                "expiresAt": time(row.expires_at),
                "secondsLeft": row.seconds_left,
                "lastSuccessfulRun": time(row.last_success),
                "lastFailedRun": time(row.last_failure),
                "nextRun": next,
                "nextRunNote": note,
                "verdict": row.verdict.as_str(),
                "problems": row.problems.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = json!({
        "release": report.release,
        "namespace": report.namespace,
        "now": report.now.to_string(),
        "ok": report.all_ok(),
        "rows": rows,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// kubectl's `duration.HumanDuration` of `seconds` (non-negative): `90s`, `5m30s`, `42m`,
/// `7h59m`, `30h`, `3d4h`, `200d`, `3y10d`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3_600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_kubectl_prints_ages() {
        let cases = [
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (330, "5m30s"),
            (600, "10m"),
            (10_799, "179m"),
            (10_800, "3h"),
            (28_740, "7h59m"),
            (28_800, "8h"),
            (172_799, "47h"),
            (172_800, "2d"),
            (187_200, "2d4h"),
            (691_200, "8d"),
            (63_072_000, "2y"),
            (63_936_000, "2y10d"),
            (252_288_000, "8y"),
        ];
        for (seconds, text) in cases {
            assert_eq!(human_duration(seconds), text, "{seconds}s");
        }
    }
}
