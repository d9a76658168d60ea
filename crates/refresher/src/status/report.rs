//! The judgement of `status`, pure: [`Facts`] and a clock reading in, one [`Row`] per registry
//! and target namespace out, each with its [`Verdict`] and every problem that holds.

use ecr_cron::{Clock, Schedule};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::gather::{Facts, JobOutcome, RegistryFacts, SecretState};
use super::{EXIT_NOT_OK, EXIT_OK};

/// A row's verdict. The variants are in precedence order: a row gets the first that holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The Secret is absent or not of type `kubernetes.io/dockerconfigjson`, or the registry
    /// has no CronJob or no ConfigMap: pulls fail or nothing refreshes.
    Missing,
    /// A namespace selector's Secrets could not be listed: where they are is unknown.
    Unknown,
    /// The token has expired: pulls fail now.
    Expired,
    /// The token expires at or before the CronJob's next run: pulls will fail before a
    /// refresh can help.
    ExpiresBeforeNextRun,
    /// The CronJob is suspended: nothing refreshes the Secret.
    Suspended,
    /// The registry's latest Job failed.
    LastRunFailed,
    /// None of the above.
    Ok,
}

impl Verdict {
    /// The verdict as printed (and in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Missing => "MISSING",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Expired => "EXPIRED",
            Verdict::ExpiresBeforeNextRun => "EXPIRES BEFORE NEXT RUN",
            Verdict::Suspended => "SUSPENDED",
            Verdict::LastRunFailed => "LAST RUN FAILED",
            Verdict::Ok => "OK",
        }
    }
}

/// What a row's Secret is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretCheck {
    /// The registry has no ConfigMap, so where its Secret should be is unknown.
    Unknown,
    /// No Secret of that name.
    Missing,
    /// A Secret of this other type.
    WrongType(String),
    /// A namespace selector's Secrets could not be listed (why, in words).
    Unlisted(String),
    /// A `kubernetes.io/dockerconfigjson` Secret.
    Ok,
}

/// When the CronJob runs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextRun {
    /// At this time.
    At(Timestamp),
    /// Not while it is suspended.
    Suspended,
    /// There is no CronJob.
    NoCronJob,
    /// Never (robfig finds no run within five years, or the schedule cannot be read, or its
    /// time zone is unknown here): the reason.
    Unknown(String),
}

/// One registry in one target namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Registry name.
    pub registry: String,
    /// Target namespace (None when the registry has no ConfigMap naming it).
    pub namespace: Option<String>,
    /// The pull Secret's name (None without a ConfigMap).
    pub secret_name: Option<String>,
    /// What the Secret is.
    pub secret: SecretCheck,
    /// Its registry hosts.
    pub hosts: Vec<String>,
    /// Its `refreshed-at` annotation.
    pub refreshed_at: Option<Timestamp>,
    /// Its `expires-at` annotation.
    pub expires_at: Option<Timestamp>,
    /// Seconds from now to `expires_at` (negative once expired).
    pub seconds_left: Option<i64>,
    /// The latest successful run (a Job's completion, or the CronJob's `lastSuccessfulTime`).
    pub last_success: Option<Timestamp>,
    /// The latest failed run (a Job's `Failed` condition).
    pub last_failure: Option<Timestamp>,
    /// The CronJob's next run.
    pub next_run: NextRun,
    /// The verdict: the first of `problems`, or OK.
    pub verdict: Verdict,
    /// Every verdict but OK that holds, in precedence order.
    pub problems: Vec<Verdict>,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The release asked about.
    pub release: String,
    /// Its namespace.
    pub namespace: String,
    /// The clock reading every row was judged at.
    pub now: Timestamp,
    /// Registries in name order, each in its ConfigMap's namespace order.
    pub rows: Vec<Row>,
}

impl Report {
    /// Every row is OK (and there is at least one).
    pub fn all_ok(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(|r| r.verdict == Verdict::Ok)
    }

    /// [`EXIT_OK`] when [`Report::all_ok`], else [`EXIT_NOT_OK`].
    pub fn exit_code(&self) -> u8 {
        if self.all_ok() { EXIT_OK } else { EXIT_NOT_OK }
    }
}

/// Judges every registry of `facts` at `now`.
pub fn judge(release: &str, namespace: &str, facts: &Facts, now: Timestamp) -> Report {
    let mut rows = Vec::new();
    for (registry, facts) in facts {
        rows.extend(rows_of(registry, facts, now));
    }
    Report {
        release: release.to_owned(),
        namespace: namespace.to_owned(),
        now,
        rows,
    }
}

fn rows_of(registry: &str, facts: &RegistryFacts, now: Timestamp) -> Vec<Row> {
    let next_run = next_run(facts, now);
    let last_success = facts
        .jobs
        .iter()
        .filter_map(|j| match j.outcome {
            JobOutcome::Succeeded(at) => at,
            _ => None,
        })
        .chain(facts.cron_job.as_ref().and_then(|c| c.last_successful))
        .max();
    let last_failure = facts
        .jobs
        .iter()
        .filter_map(|j| match j.outcome {
            JobOutcome::Failed(at) => at,
            _ => None,
        })
        .max();
    // The latest Job: created last (then by name, for equal times).
    let latest_failed = facts
        .jobs
        .iter()
        .max_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)))
        .is_some_and(|j| matches!(j.outcome, JobOutcome::Failed(_)));
    let suspended = facts.cron_job.as_ref().is_some_and(|c| c.suspend);

    let base = |namespace: Option<String>, secret_name: Option<String>, secret: SecretCheck| Row {
        registry: registry.to_owned(),
        namespace,
        secret_name,
        secret,
        hosts: Vec::new(),
        refreshed_at: None,
        expires_at: None,
        seconds_left: None,
        last_success,
        last_failure,
        next_run: next_run.clone(),
        verdict: Verdict::Ok,
        problems: Vec::new(),
    };
    let mut rows: Vec<Row> = match &facts.config {
        None => vec![base(None, None, SecretCheck::Unknown)],
        Some(config) if facts.secrets.is_empty() => {
            vec![base(
                None,
                Some(config.secret_name.clone()),
                SecretCheck::Unknown,
            )]
        }
        Some(_) => facts
            .secrets
            .iter()
            .map(|s| {
                let mut row = base(
                    Some(s.namespace.clone()),
                    Some(s.name.clone()),
                    SecretCheck::Ok,
                );
                match &s.state {
                    SecretState::Missing => row.secret = SecretCheck::Missing,
                    SecretState::WrongType(t) => row.secret = SecretCheck::WrongType(t.clone()),
                    SecretState::Unlisted(why) => row.secret = SecretCheck::Unlisted(why.clone()),
                    SecretState::Present {
                        hosts,
                        refreshed_at,
                        expires_at,
                    } => {
                        row.hosts.clone_from(hosts);
                        row.refreshed_at = *refreshed_at;
                        row.expires_at = *expires_at;
                        row.seconds_left = expires_at.map(|e| e.as_second() - now.as_second());
                    }
                }
                row
            })
            .collect(),
    };
    for row in &mut rows {
        let mut problems = Vec::new();
        let unlisted = matches!(row.secret, SecretCheck::Unlisted(_));
        if (row.secret != SecretCheck::Ok && !unlisted)
            || facts.cron_job.is_none()
            || facts.config.is_none()
        {
            problems.push(Verdict::Missing);
        }
        if unlisted {
            problems.push(Verdict::Unknown);
        }
        if let Some(expires) = row.expires_at {
            if expires <= now {
                problems.push(Verdict::Expired);
            } else if let NextRun::At(next) = row.next_run
                && expires <= next
            {
                problems.push(Verdict::ExpiresBeforeNextRun);
            }
        }
        if suspended {
            problems.push(Verdict::Suspended);
        }
        if latest_failed {
            problems.push(Verdict::LastRunFailed);
        }
        row.verdict = problems.first().copied().unwrap_or(Verdict::Ok);
        row.problems = problems;
    }
    rows
}

/// The CronJob's next run after `now`, as the CronJob controller schedules it: robfig/cron
/// v3.0.1's `Next` in `spec.timeZone` (UTC without one); for `@every`, counted from the last
/// scheduled run (or the CronJob's creation), as the controller does.
fn next_run(facts: &RegistryFacts, now: Timestamp) -> NextRun {
    let Some(cron_job) = &facts.cron_job else {
        return NextRun::NoCronJob;
    };
    if cron_job.suspend {
        return NextRun::Suspended;
    }
    let schedule = match ecr_cron::parse_standard(&cron_job.schedule) {
        Ok(schedule) => schedule,
        Err(err) => return NextRun::Unknown(format!("schedule not readable ({err:?})")),
    };
    let zone = match &cron_job.time_zone {
        None => TimeZone::UTC,
        Some(name) => match TimeZone::get(name) {
            Ok(zone) => zone,
            Err(_) => return NextRun::Unknown(format!("time zone {name:?} unknown here")),
        },
    };
    let at = |s: i64| Timestamp::from_second(s).ok();
    let next = match schedule {
        Schedule::Spec(spec) => ecr_cron::next(&spec, &Clock::new(&zone), now.as_second()),
        Schedule::Every { seconds } if seconds > 0 => {
            let from = cron_job
                .last_schedule
                .or(cron_job.created)
                .map_or(now.as_second(), Timestamp::as_second);
            let gone = (now.as_second() - from).max(0);
            Some(from + (gone / seconds + 1) * seconds)
        }
        Schedule::Every { .. } => None,
    };
    match next.and_then(at) {
        Some(t) => NextRun::At(t),
        None => NextRun::Unknown("no run within five years".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::gather::{ConfigFacts, CronJobFacts, JobFacts, SecretFacts};

    fn t(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn registry(schedule: &str, expires: &str) -> RegistryFacts {
        RegistryFacts {
            config: Some(ConfigFacts {
                secret_name: "regcred-r".into(),
                namespaces: vec!["apps".into()],
                selector: None,
            }),
            cron_job: Some(CronJobFacts {
                schedule: schedule.into(),
                time_zone: None,
                suspend: false,
                created: Some(t("2026-11-30T00:00:00Z")),
                last_schedule: Some(t("2026-12-01T23:50:00Z")),
                last_successful: None,
            }),
            jobs: Vec::new(),
            secrets: vec![SecretFacts {
                namespace: "apps".into(),
                name: "regcred-r".into(),
                state: SecretState::Present {
                    hosts: vec!["h".into()],
                    refreshed_at: None,
                    expires_at: Some(t(expires)),
                },
            }],
        }
    }

    fn judge_one(facts: RegistryFacts, now: &str) -> Row {
        let facts = Facts::from([("r".to_owned(), facts)]);
        judge("rel", "ns", &facts, t(now)).rows.remove(0)
    }

    #[test]
    fn a_token_that_expires_exactly_at_the_next_run_expires_before_it() {
        let row = judge_one(
            registry("0 6 * * *", "2026-12-02T06:00:00Z"),
            "2026-12-02T00:00:00Z",
        );
        assert_eq!(row.next_run, NextRun::At(t("2026-12-02T06:00:00Z")));
        assert_eq!(row.verdict, Verdict::ExpiresBeforeNextRun);
        let row = judge_one(
            registry("0 6 * * *", "2026-12-02T06:00:01Z"),
            "2026-12-02T00:00:00Z",
        );
        assert_eq!(row.verdict, Verdict::Ok);
        assert_eq!(row.seconds_left, Some(6 * 3_600 + 1));
    }

    #[test]
    fn an_expired_token_is_expired_at_the_second_it_ends() {
        let row = judge_one(
            registry("0 6 * * *", "2026-12-02T00:00:00Z"),
            "2026-12-02T00:00:00Z",
        );
        assert_eq!(row.verdict, Verdict::Expired);
        assert_eq!(row.seconds_left, Some(0));
    }

    #[test]
    fn every_counts_from_the_last_scheduled_run_as_the_controller_does() {
        let row = judge_one(
            registry("@every 2h", "2026-12-02T12:00:00Z"),
            "2026-12-02T00:00:00Z",
        );
        assert_eq!(row.next_run, NextRun::At(t("2026-12-02T01:50:00Z")));
    }

    #[test]
    fn a_schedule_or_zone_status_cannot_read_gives_no_next_run_and_no_false_alarm() {
        let row = judge_one(
            registry("61 * * * *", "2026-12-02T12:00:00Z"),
            "2026-12-02T00:00:00Z",
        );
        assert!(matches!(row.next_run, NextRun::Unknown(_)), "{row:?}");
        assert_eq!(row.verdict, Verdict::Ok);
        let mut facts = registry("0 * * * *", "2026-12-02T12:00:00Z");
        if let Some(cj) = facts.cron_job.as_mut() {
            cj.time_zone = Some("Not/A_Zone".into());
        }
        let row = judge_one(facts, "2026-12-02T00:00:00Z");
        assert!(
            matches!(&row.next_run, NextRun::Unknown(why) if why.contains("Not/A_Zone")),
            "{row:?}"
        );
    }

    #[test]
    fn only_the_latest_job_decides_whether_the_last_run_failed() {
        let job = |name: &str, created: &str, outcome| JobFacts {
            name: name.into(),
            created: Some(t(created)),
            outcome,
        };
        let mut facts = registry("0 6 * * *", "2026-12-02T12:00:00Z");
        facts.jobs = vec![
            job(
                "a",
                "2026-12-01T06:00:00Z",
                JobOutcome::Failed(Some(t("2026-12-01T06:01:00Z"))),
            ),
            job(
                "b",
                "2026-12-01T18:00:00Z",
                JobOutcome::Succeeded(Some(t("2026-12-01T18:01:00Z"))),
            ),
        ];
        let row = judge_one(facts.clone(), "2026-12-02T00:00:00Z");
        assert_eq!(row.verdict, Verdict::Ok);
        assert_eq!(row.last_failure, Some(t("2026-12-01T06:01:00Z")));
        assert_eq!(row.last_success, Some(t("2026-12-01T18:01:00Z")));
        facts
            .jobs
            .push(job("c", "2026-12-01T23:00:00Z", JobOutcome::Failed(None)));
        let row = judge_one(facts.clone(), "2026-12-02T00:00:00Z");
        assert_eq!(row.verdict, Verdict::LastRunFailed);
        facts
            .jobs
            .push(job("d", "2026-12-01T23:30:00Z", JobOutcome::Running));
        let row = judge_one(facts, "2026-12-02T00:00:00Z");
        assert_eq!(row.verdict, Verdict::Ok, "a newer run is under way");
    }

    #[test]
    fn the_verdicts_are_ordered_worst_first() {
        let order = [
            Verdict::Missing,
            Verdict::Expired,
            Verdict::ExpiresBeforeNextRun,
            Verdict::Suspended,
            Verdict::LastRunFailed,
            Verdict::Ok,
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]));
        let mut facts = registry("0 6 * * *", "2026-12-01T12:00:00Z");
        if let Some(cj) = facts.cron_job.as_mut() {
            cj.suspend = true;
        }
        let row = judge_one(facts, "2026-12-02T00:00:00Z");
        assert_eq!(row.problems, [Verdict::Expired, Verdict::Suspended]);
        assert_eq!(row.verdict, Verdict::Expired);
    }
}
