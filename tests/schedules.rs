//! The schedule table: every schedule × time zone of `tests/fixtures/schedules/table.tsv` (and
//! the hostile cases of `tests/fixtures/hostile/schedules/cases.tsv`) judged twice, by `ecr-chart`'s values check and by `tests/cron-oracle` (robfig/cron
//! v3.0.1's `ParseStandard` and `Next`, the code the CronJob controller vendors, walked from
//! 2026-01-01 to 2031-01-01 in the zone). The verdicts (refused, warned, ok) and the longest
//! gaps, with the two runs around them, must be the same on every row.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ecr_chart::values::schedule::{self, NoGap};
use ecr_chart::values::{self, Severity, Source};
use jiff::Zoned;
use jiff::tz::TimeZone;

const INSTALL: &str = "run scripts/test (installs golang-go golang-github-robfig-cron-dev \
                       golang-gopkg-yaml.v2-dev tzdata)";
/// Where Debian's golang-github-robfig-cron-dev puts robfig/cron v3.0.1.
const GOPATH: &str = "/usr/share/gocode";
/// The time zones Go reads; the oracle is pinned to them.
const ZONEINFO: &str = "/usr/share/zoneinfo";

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// One row of the table: a schedule and `cronJob.timeZone` (None: unset).
#[derive(Debug, Clone)]
struct Row {
    /// `file:line`
    at: String,
    quoted: String,
    schedule: String,
    zone: Option<String>,
}

/// The table, and the hostile cases of issue 10 (in the same format).
fn table() -> Vec<Row> {
    [
        "tests/fixtures/schedules/table.tsv",
        "tests/fixtures/hostile/schedules/cases.tsv",
    ]
    .into_iter()
    .flat_map(rows)
    .collect()
}

fn rows(file: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(repo().join(file)).expect("read the schedule table");
    let name = Path::new(file).file_name().expect("name").to_string_lossy();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(n, l)| {
            let (quoted, zone) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("{name}:{}: no tab in {l:?}", n + 1));
            let schedule: String =
                serde_json::from_str(quoted).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1));
            Row {
                at: format!("{name}:{}", n + 1),
                quoted: quoted.to_owned(),
                schedule,
                zone: (!zone.is_empty()).then(|| zone.to_owned()),
            }
        })
        .collect()
}

/// Build tests/cron-oracle with the system Go and Debian's robfig/cron.
fn build_oracle() -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cron-oracle");
    let robfig = Path::new(GOPATH).join("src/github.com/robfig/cron/spec.go");
    assert!(
        robfig.is_file(),
        "robfig/cron is not at {}: {INSTALL}",
        robfig.display()
    );
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg("./tests/cron-oracle")
        .current_dir(repo())
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOFLAGS", "")
        .env(
            "GOCACHE",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-cache"),
        )
        .output()
        .unwrap_or_else(|e| panic!("cannot run `go` ({e}): {INSTALL}"));
    assert!(
        built.status.success(),
        "go build ./tests/cron-oracle failed: {INSTALL}\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    out
}

/// What the CronJob controller makes of a row, as the oracle prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Truth {
    Refused(String),
    Never,
    Stalls {
        at: String,
    },
    Gap {
        seconds: i64,
        from: String,
        to: String,
    },
}

fn run_oracle(rows: &[Row]) -> Vec<Truth> {
    let oracle = build_oracle();
    assert!(
        Path::new(ZONEINFO).join("Europe/Berlin").is_file(),
        "no time zones at {ZONEINFO}: {INSTALL}"
    );
    let mut child = Command::new(&oracle)
        .env("ZONEINFO", ZONEINFO)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the oracle");
    let mut input = String::new();
    for row in rows {
        input.push_str(&format!(
            "{}\t{}\n",
            row.quoted,
            row.zone.as_deref().unwrap_or("")
        ));
    }
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("feed the oracle");
    let output = child.wait_with_output().expect("the oracle runs");
    assert!(
        output.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let truths: Vec<Truth> = text
        .lines()
        .map(|line| {
            let parts: Vec<&str> = line.split('\t').collect();
            match parts[0] {
                "refused" => Truth::Refused(parts[1].to_owned()),
                "never" => Truth::Never,
                "stall" => Truth::Stalls {
                    at: parts[1].to_owned(),
                },
                "gap" => Truth::Gap {
                    seconds: parts[1].parse().expect("seconds"),
                    from: parts[2].to_owned(),
                    to: parts[3].to_owned(),
                },
                other => panic!("unknown oracle answer {other:?} in {line:?}"),
            }
        })
        .collect();
    assert_eq!(truths.len(), rows.len(), "one answer per row");
    truths
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Warned,
    Refused,
}

impl Truth {
    fn verdict(&self) -> Verdict {
        match self {
            Truth::Gap { seconds, .. } if *seconds >= schedule::TOKEN_LIFETIME_SECS => {
                Verdict::Refused
            }
            Truth::Gap { seconds, .. } if *seconds > schedule::WARN_ABOVE_SECS => Verdict::Warned,
            Truth::Gap { .. } => Verdict::Ok,
            _ => Verdict::Refused,
        }
    }
}

/// `ecr-chart`'s verdict on every row: one values document per time zone, a registry per row.
/// Refused values carry no warnings, so the rows not refused are checked again on their own.
fn verdicts(rows: &[Row]) -> Vec<Verdict> {
    let mut by_zone: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        by_zone.entry(row.zone.as_deref()).or_default().push(i);
    }
    let mut out = vec![Verdict::Ok; rows.len()];
    for (zone, members) in by_zone {
        let refused = judge(rows, zone, &members, &mut out);
        if refused {
            let rest: Vec<usize> = members
                .into_iter()
                .filter(|&i| out[i] != Verdict::Refused)
                .collect();
            assert!(!judge(rows, zone, &rest, &mut out), "refused only now");
        }
    }
    out
}

/// Check `members` (rows of `zone`) as one values document; true if it is refused.
fn judge(rows: &[Row], zone: Option<&str>, members: &[usize], out: &mut [Verdict]) -> bool {
    let mut text = String::new();
    if let Some(zone) = zone {
        text.push_str(&format!("cronJob:\n  timeZone: {zone}\n"));
    }
    text.push_str("ecrRegistries:\n");
    for (n, &i) in members.iter().enumerate() {
        text.push_str(&format!(
            "  - name: r{n}\n    region: eu-central-1\n    namespace: apps\n    schedule: {}\n",
            rows[i].quoted
        ));
    }
    let sources = [Source {
        name: "table.yaml".to_owned(),
        text,
    }];
    let (problems, refused) = match values::load_checked(&sources) {
        Ok(loaded) => (loaded.warnings.problems().to_vec(), false),
        Err(error) => (error.problems().to_vec(), true),
    };
    for problem in problems {
        let path = problem.path.to_string();
        let n: usize = path
            .strip_prefix("ecrRegistries[")
            .and_then(|p| p.strip_suffix("].schedule"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a problem off the schedules: {problem:?}"));
        let verdict = match problem.severity {
            Severity::Error => Verdict::Refused,
            Severity::Warning => Verdict::Warned,
        };
        let slot = &mut out[members[n]];
        *slot = (*slot).max(verdict);
    }
    refused
}

/// Go's RFC 3339: `Z` for a zero offset.
fn rfc3339(z: &Zoned) -> String {
    let text = z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    match text.strip_suffix("+00:00") {
        Some(rest) => format!("{rest}Z"),
        None => text,
    }
}

/// `ecr-chart`'s own reading of a row, in the oracle's terms.
fn ours(row: &Row) -> Truth {
    if schedule::parse(&row.schedule).is_err() {
        return Truth::Refused(String::new());
    }
    let zone = match &row.zone {
        Some(name) => schedule::time_zone(name).expect("a zone of the bundled database"),
        None => TimeZone::UTC,
    };
    match schedule::longest_gap(&row.schedule, &zone) {
        Ok(gap) => Truth::Gap {
            seconds: gap.seconds,
            from: rfc3339(&gap.from),
            to: rfc3339(&gap.to),
        },
        Err(NoGap::Never) => Truth::Never,
        Err(NoGap::Stalls { at }) => Truth::Stalls { at: rfc3339(&at) },
        Err(NoGap::Invalid) => Truth::Refused(String::new()),
    }
}

#[test]
fn every_schedule_in_the_table_is_judged_as_the_cronjob_controller_runs_it() {
    let rows = table();
    assert!(rows.len() >= 300, "several hundred rows: {}", rows.len());
    // The oracle (a separate process) and ecr-chart's checks run side by side.
    let (truths, verdicts, mine) = std::thread::scope(|scope| {
        let oracle = scope.spawn(|| run_oracle(&rows));
        let verdicts = verdicts(&rows);
        let mine: Vec<Truth> = rows.iter().map(ours).collect();
        (oracle.join().expect("the oracle thread"), verdicts, mine)
    });
    let mut wrong = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (((row, truth), verdict), mine) in rows.iter().zip(&truths).zip(&verdicts).zip(&mine) {
        let kind = match (truth, truth.verdict()) {
            (Truth::Refused(_), _) => "refused by Kubernetes",
            (Truth::Never, _) => "never runs",
            (Truth::Stalls { .. }, _) => "stalls the controller",
            (_, Verdict::Refused) => "gap of 12h or more",
            (_, Verdict::Warned) => "gap over 11h",
            (_, Verdict::Ok) => "safe",
        };
        *seen.entry(kind).or_default() += 1;
        let same = match (truth, mine) {
            (Truth::Refused(_), Truth::Refused(_)) => true,
            (truth, mine) => truth == mine,
        };
        if !same || *verdict != truth.verdict() {
            wrong.push(format!(
                "{} {} in {}: Kubernetes {:?} ({:?}), ecr-chart {:?} ({:?})",
                row.at,
                row.quoted,
                row.zone.as_deref().unwrap_or("UTC (unset)"),
                truth.verdict(),
                truth,
                verdict,
                mine
            ));
        }
    }
    for kind in [
        "refused by Kubernetes",
        "never runs",
        "stalls the controller",
        "gap of 12h or more",
        "gap over 11h",
        "safe",
    ] {
        assert!(seen.contains_key(kind), "the table has no row that {kind}");
    }
    assert!(
        wrong.is_empty(),
        "{} of {} rows judged unlike the CronJob controller:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}
