//! The release's alerts: each registry's thresholds from its own schedule and time zone, and
//! the PrometheusRule's rules that hold them against kube-state-metrics' series.
//!
//! Per registry one recording rule keeps its threshold as a series,
//! `ecr_registry_helper:refresh_late_after_seconds{namespace, cronjob, registry,
//! target_namespaces, helm_release}` = longest gap of its schedule + margin; the release's few
//! other rules join kube-state-metrics' CronJob and Job series to those, so the rule object grows
//! by one short rule per registry and every alert names its registry, namespaces and CronJob.

use std::collections::BTreeMap;

use ecr_contract::names;
use minijinja::Value;
use serde::Serialize;

use super::Release;
use super::env::quote;
use crate::values::Values;
use crate::values::checks::go_duration_seconds;
use crate::values::schedule::{self, GapCache, TOKEN_LIFETIME_SECS};

/// The recorded threshold of each registry (value: seconds since the last successful refresh
/// after which the refresh is late).
pub const LATE_AFTER: &str = "ecr_registry_helper:refresh_late_after_seconds";
/// The recorded creation time of each Job of the release's CronJobs, with its registry.
pub const JOB_CREATED: &str = "ecr_registry_helper:refresh_job_created_timestamp_seconds";
/// The recorded time since each registry's last successful refresh (since its CronJob was
/// created when none has succeeded yet).
pub const LAST_REFRESH_AGE: &str = "ecr_registry_helper:last_refresh_age_seconds";
/// The label that keeps each release's rules to its own registries, and every label the
/// alerts set themselves (defined with the check of `alertLabels`, which may not name them).
pub use crate::values::checks::{
    ALERT_OWN_LABELS as OWN_LABELS, ALERT_RELEASE_LABEL as RELEASE_LABEL,
};

/// The longest time between two runs of `schedule` in the CronJobs' time zone (UTC when
/// unset, as the schedule check judges it), in seconds. The one use of the schedule module;
/// `None` when the schedule has no gap to measure, which validation refuses before a render.
fn longest_gap_seconds(
    gaps: &mut GapCache,
    schedule: &str,
    zone_name: Option<&str>,
) -> Option<i64> {
    let zone = zone_name
        .and_then(schedule::time_zone)
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let result = gaps.longest_gap(schedule, zone_name.unwrap_or("UTC"), &zone);
    result.as_ref().ok().map(|gap| gap.seconds)
}

/// One registry's threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Threshold {
    pub registry: String,
    pub cron_job: String,
    /// The target namespaces, joined by `,`.
    pub target_namespaces: String,
    /// The longest gap between two scheduled runs, in seconds.
    pub longest_gap_seconds: i64,
    /// Longest gap + margin: a refresh older than this is late.
    pub late_after_seconds: i64,
}

/// The margin of the values in seconds (validated: a Go duration under 12 hours).
pub fn margin_seconds(values: &Values) -> i64 {
    go_duration_seconds(&values.monitoring.prometheus_rule.margin)
        .unwrap_or(0)
        .clamp(0, TOKEN_LIFETIME_SECS - 1)
}

/// Each registry's threshold, in values order: its schedule's longest gap in the CronJobs'
/// time zone plus the margin. A schedule without a measurable gap (refused by validation)
/// counts as the token's lifetime.
pub fn thresholds(values: &Values) -> Vec<Threshold> {
    let margin = margin_seconds(values);
    let zone = values.cron_job.time_zone.as_deref();
    let mut gaps = GapCache::default();
    values
        .ecr_registries
        .iter()
        .map(|registry| {
            let gap = longest_gap_seconds(&mut gaps, &registry.schedule, zone)
                .unwrap_or(TOKEN_LIFETIME_SECS);
            Threshold {
                registry: registry.name.clone(),
                cron_job: names::cron_job(&registry.name),
                // A selecting registry's namespaces are only known at run time: `*`.
                target_namespaces: registry
                    .target_namespaces()
                    .into_iter()
                    .chain(
                        registry
                            .selector(values)
                            .map(|_| ecr_contract::plan::EVERY_NAMESPACE),
                    )
                    .collect::<Vec<_>>()
                    .join(","),
                longest_gap_seconds: gap,
                late_after_seconds: gap + margin,
            }
        })
        .collect()
}

/// One rule of the PrometheusRule after the thresholds: a recording rule or an alert.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    /// `record` or `alert`.
    kind: &'static str,
    name: &'static str,
    /// PromQL lines (safe: our text and the release's validated name and namespace only).
    expr: Value,
    /// The label lines (safe: quoted).
    labels: Value,
    /// Alerts only.
    summary: Option<String>,
    description: Option<String>,
    /// The runbook's lines (safe: our text only; `{{ $labels.* }}` are Prometheus templates).
    runbook: Option<Value>,
}

/// Registries per PrometheusRule object: about 250 bytes each, so an object stays near 125 KB,
/// under the 256 KiB that `kubectl apply` (ArgoCD's default client-side apply) may store in its
/// `last-applied-configuration` annotation, at any number of registries.
pub const REGISTRIES_PER_OBJECT: usize = 500;

/// One PrometheusRule object: the first holds the release's rules and alerts after its share of
/// the thresholds; the others (`…-2`, `…-3`, … with more than [`REGISTRIES_PER_OBJECT`]
/// registries) thresholds only, each in its own rule group (Prometheus evaluates groups apart:
/// the alerts read the thresholds as last recorded, which are constants).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleObject {
    name: String,
    thresholds: Vec<Threshold>,
    rules: Vec<Rule>,
}

/// What `prometheusrule.yaml` renders, when `monitoring.prometheusRule.enabled`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertsView {
    namespace: String,
    /// The objects' label lines (safe: quoted).
    labels: Value,
    late_after: &'static str,
    release_label: &'static str,
    objects: Vec<RuleObject>,
    runbook_url: Option<String>,
}

/// `key: "value"` lines, each key once, the earlier map winning.
fn label_lines(maps: &[&BTreeMap<String, String>]) -> String {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for map in maps {
        for (key, value) in *map {
            seen.entry(key).or_insert(value);
        }
    }
    let mut out = String::new();
    for (key, value) in seen {
        quote(&mut out, key);
        out.push_str(": ");
        quote(&mut out, value);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// The commands every runbook holds: the CronJob, its Jobs, the last Job's logs, a refresh now.
fn runbook(first: &str) -> String {
    let ns = "{{ $labels.namespace }}";
    let cron_job = "{{ $labels.cronjob }}";
    let selector = format!("{}={{{{ $labels.registry }}}}", names::LABEL_REGISTRY);
    let jobs =
        format!("kubectl -n {ns} get jobs -l {selector} --sort-by=.metadata.creationTimestamp");
    format!(
        "{first}\n\
         The CronJob and its Jobs, newest last:\n\
         \x20 kubectl -n {ns} get cronjob {cron_job}\n\
         \x20 {jobs}\n\
         Logs of the last Job:\n\
         \x20 kubectl -n {ns} logs \"job/$({jobs} -o jsonpath='{{.items[-1:].metadata.name}}')\"\n\
         Refresh now (a Job from the CronJob):\n\
         \x20 kubectl -n {ns} create job --from=cronjob/{cron_job} \"{{{{ $labels.registry }}}}-manual-$(date +%s)\"\n\
         Then check the pull secret in each of {{{{ $labels.target_namespaces }}}}:\n\
         \x20 kubectl -n <namespace> get secret regcred-{{{{ $labels.registry }}}} -o jsonpath='{{.metadata.annotations}}'"
    )
}

impl AlertsView {
    /// The view of the release's PrometheusRule; `None` unless it is enabled.
    pub fn new(values: &Values, release: &Release, shared_labels: &str) -> Option<Self> {
        let rule = &values.monitoring.prometheus_rule;
        if !rule.enabled {
            return None;
        }
        let margin = margin_seconds(values);
        let expiring_after = TOKEN_LIFETIME_SECS - margin;
        let margin_text = schedule::duration(margin);
        let lifetime = schedule::duration(TOKEN_LIFETIME_SECS);
        let (ns, rel) = (release.namespace.as_str(), release.name.as_str());
        let of_release = format!("{{{RELEASE_LABEL}=\"{rel}\"}}");
        let registry_labels = format!(
            "* on (namespace, cronjob) group_left (registry, target_namespaces)\n\
             ({LATE_AFTER}{of_release} > bool 0)"
        );
        let alert_labels = |severity: &str| {
            let ours = BTreeMap::from([("severity".to_owned(), severity.to_owned())]);
            Value::from_safe_string(label_lines(&[&ours, &rule.alert_labels]))
        };
        let release_only = BTreeMap::from([(RELEASE_LABEL.to_owned(), rel.to_owned())]);
        let record = |name, expr: String| Rule {
            kind: "record",
            name,
            expr: Value::from_safe_string(expr),
            labels: Value::from_safe_string(label_lines(&[&release_only])),
            summary: None,
            description: None,
            runbook: None,
        };
        let alert =
            |name, severity, expr: String, summary: String, description: String, first: &str| {
                Rule {
                    kind: "alert",
                    name,
                    expr: Value::from_safe_string(expr),
                    labels: alert_labels(severity),
                    summary: Some(summary),
                    description: Some(description),
                    runbook: Some(Value::from_safe_string(runbook(first))),
                }
            };
        let where_ = "regcred-{{ $labels.registry }} in {{ $labels.target_namespaces }}";
        let cron_job = "CronJob {{ $labels.namespace }}/{{ $labels.cronjob }}";
        let mut rules = vec![
            record(
                JOB_CREATED,
                format!(
                    "max by (namespace, cronjob, job_name) (\n\
                     \x20 label_replace(\n\
                     \x20   kube_job_owner{{namespace=\"{ns}\", owner_kind=\"CronJob\"}},\n\
                     \x20   \"cronjob\", \"$1\", \"owner_name\", \"(.+)\"\n\
                     \x20 )\n\
                     \x20 * on (namespace, job_name) group_left ()\n\
                     \x20 max by (namespace, job_name) (kube_job_created{{namespace=\"{ns}\"}})\n\
                     )\n\
                     {registry_labels}"
                ),
            ),
            record(
                LAST_REFRESH_AGE,
                format!(
                    "(\n\
                     \x20 time()\n\
                     \x20 - (\n\
                     \x20     max by (namespace, cronjob) (\n\
                     \x20         kube_cronjob_status_last_successful_time{{namespace=\"{ns}\"}}\n\
                     \x20       or\n\
                     \x20         max by (namespace, job_name) (kube_job_status_completion_time{{namespace=\"{ns}\"}})\n\
                     \x20         * on (namespace, job_name) group_left (cronjob)\n\
                     \x20         ({JOB_CREATED}{of_release} > bool 0)\n\
                     \x20     )\n\
                     \x20   or\n\
                     \x20     max by (namespace, cronjob) (kube_cronjob_created{{namespace=\"{ns}\"}})\n\
                     \x20 )\n\
                     )\n\
                     {registry_labels}"
                ),
            ),
            alert(
                "EcrPullSecretRefreshLate",
                "warning",
                format!(
                    "{LAST_REFRESH_AGE}{of_release}\n\
                     \x20 > on (namespace, cronjob) group_left ()\n\
                     {LATE_AFTER}{of_release}"
                ),
                "ECR pull secret of registry {{ $labels.registry }} not refreshed on schedule"
                    .to_owned(),
                format!(
                    "{cron_job} has not refreshed {where_} for {{{{ $value | humanizeDuration }}}}: \
                     longer than the longest gap of its schedule plus {margin_text}. The secret \
                     stops working {lifetime} after its last refresh."
                ),
                "A scheduled refresh did not happen or did not succeed: see why below.",
            ),
            alert(
                "EcrPullSecretExpiring",
                "critical",
                format!("{LAST_REFRESH_AGE}{of_release} > {expiring_after}"),
                "ECR pull secret regcred-{{ $labels.registry }} expires soon".to_owned(),
                format!(
                    "The last successful refresh of {where_} ({cron_job}) was \
                     {{{{ $value | humanizeDuration }}}} ago and an ECR token lasts {lifetime}: \
                     within {margin_text} pods pulling from registry {{{{ $labels.registry }}}} \
                     fail with ImagePullBackOff."
                ),
                "Refresh now (below), then find out why the scheduled refreshes fail.",
            ),
            alert(
                "EcrPullSecretRefreshFailing",
                "warning",
                format!(
                    "(\n\
                     \x20 {JOB_CREATED}{of_release}\n\
                     \x20 and on (namespace, job_name)\n\
                     \x20 (kube_job_failed{{namespace=\"{ns}\", condition=\"true\"}} == 1)\n\
                     )\n\
                     >= on (namespace, cronjob) group_left ()\n\
                     max by (namespace, cronjob) ({JOB_CREATED}{of_release})"
                ),
                "Refresh of ECR pull secret regcred-{{ $labels.registry }} failed".to_owned(),
                format!(
                    "The latest Job of {cron_job}, {{{{ $labels.job_name }}}}, failed: {where_} \
                     was not refreshed."
                ),
                "Logs of the failed Job: kubectl -n {{ $labels.namespace }} logs job/{{ $labels.job_name }}",
            ),
        ];
        if !values.cron_job.suspend {
            rules.push(alert(
                "EcrPullSecretRefreshSuspended",
                "warning",
                format!(
                    "{LAST_REFRESH_AGE}{of_release}\n\
                     and on (namespace, cronjob)\n\
                     (max by (namespace, cronjob) (kube_cronjob_spec_suspend{{namespace=\"{ns}\"}}) == 1)"
                ),
                "Refresh of ECR pull secret regcred-{{ $labels.registry }} is suspended".to_owned(),
                format!(
                    "{cron_job} is suspended, though the chart's values do not suspend it: \
                     {where_} was last refreshed {{{{ $value | humanizeDuration }}}} ago and \
                     stops working {lifetime} after that."
                ),
                "Resume it: kubectl -n {{ $labels.namespace }} patch cronjob {{ $labels.cronjob }} --type=merge -p '{\"spec\":{\"suspend\":false}}'",
            ));
        }
        let mut thresholds = thresholds(values);
        let mut objects = Vec::with_capacity(1 + thresholds.len() / REGISTRIES_PER_OBJECT);
        let first: Vec<Threshold> = thresholds
            .drain(..thresholds.len().min(REGISTRIES_PER_OBJECT))
            .collect();
        objects.push(RuleObject {
            name: names::prometheus_rule(rel),
            thresholds: first,
            rules,
        });
        while !thresholds.is_empty() {
            let part: Vec<Threshold> = thresholds
                .drain(..thresholds.len().min(REGISTRIES_PER_OBJECT))
                .collect();
            objects.push(RuleObject {
                name: names::prometheus_rule_part(rel, objects.len() + 1),
                thresholds: part,
                rules: Vec::new(),
            });
        }
        Some(Self {
            labels: Value::from_safe_string(
                // The chart's own labels first: a key of `labels` they already hold is dropped.
                join_labels(shared_labels, &rule.labels),
            ),
            namespace: rule.namespace.clone().unwrap_or_else(|| ns.to_owned()),
            late_after: LATE_AFTER,
            release_label: RELEASE_LABEL,
            objects,
            runbook_url: rule.runbook_url.clone(),
        })
    }
}

/// The shared label lines, then the lines of `extra` whose keys they do not hold.
fn join_labels(shared: &str, extra: &BTreeMap<String, String>) -> String {
    let taken: Vec<String> = shared
        .lines()
        .filter_map(|line| {
            line.split_once(": ")
                .map(|(key, _)| key.trim_matches('"').to_owned())
        })
        .collect();
    let extra: BTreeMap<String, String> = extra
        .iter()
        .filter(|(key, _)| !taken.contains(key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let more = label_lines(&[&extra]);
    if more.is_empty() {
        shared.to_owned()
    } else {
        format!("{shared}\n{more}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::checks::{alert_label_name, alert_margin};
    use crate::values::model::Registry;

    fn registry(name: &str, schedule: &str) -> Registry {
        serde_json::from_value(serde_json::json!({
            "name": name, "region": "eu-central-1", "namespace": "apps",
            "namespaces": ["web"], "schedule": schedule
        }))
        .expect("a registry")
    }

    fn with_registries(ecr_registries: Vec<Registry>) -> Values {
        Values {
            ecr_registries,
            ..Values::default()
        }
    }

    #[test]
    fn each_registry_is_late_after_its_own_longest_gap_plus_the_margin() {
        let mut values = with_registries(vec![
            registry("ten", "0 */10 * * *"),
            registry("six", "30 */6 * * *"),
            registry("ten-again", "0 */10 * * *"),
        ]);
        values.monitoring.prometheus_rule.margin = "45m".into();
        let found: Vec<(String, i64, i64)> = thresholds(&values)
            .into_iter()
            .map(|t| (t.registry, t.longest_gap_seconds, t.late_after_seconds))
            .collect();
        assert_eq!(
            found,
            [
                ("ten".into(), 36_000, 36_000 + 2_700),
                ("six".into(), 21_600, 21_600 + 2_700),
                ("ten-again".into(), 36_000, 36_000 + 2_700),
            ]
        );
        assert_eq!(thresholds(&values)[0].target_namespaces, "apps,web");
        assert_eq!(thresholds(&values)[0].cron_job, "ecr-registry-helper-ten");
    }

    #[test]
    fn the_time_zone_of_the_cron_jobs_stretches_a_gap_at_a_clock_change() {
        let mut values = with_registries(vec![registry("berlin", "0 */11 * * *")]);
        assert_eq!(thresholds(&values)[0].longest_gap_seconds, 11 * 3600);
        values.cron_job.time_zone = Some("Europe/Berlin".into());
        assert_eq!(thresholds(&values)[0].longest_gap_seconds, 12 * 3600);
    }

    #[test]
    fn margins_are_go_durations_under_the_token_lifetime() {
        assert_eq!(go_duration_seconds("30m"), Some(1800));
        assert_eq!(go_duration_seconds("1h30m"), Some(5400));
        assert_eq!(go_duration_seconds("1.5h"), Some(5400));
        assert_eq!(go_duration_seconds("0"), Some(0));
        assert_eq!(go_duration_seconds("90s"), Some(90));
        assert_eq!(go_duration_seconds("half an hour"), None);
        assert!(alert_margin("11h59m").is_ok());
        assert!(alert_margin("0").is_ok());
        let refused = alert_margin("12h").expect_err("12h");
        assert_eq!(refused.label, "12 hours or more");
        assert!(alert_margin("720m").is_err());
        assert!(alert_margin("-30m").is_err());
    }

    #[test]
    fn alert_labels_are_prometheus_label_names_the_alerts_do_not_set() {
        assert!(alert_label_name("team").is_ok());
        assert!(alert_label_name("_on_call2").is_ok());
        for (bad, why) in [
            ("app.kubernetes.io/team", "not a Prometheus label name"),
            ("2fa", "not a Prometheus label name"),
            ("", "not a Prometheus label name"),
            ("__name__", "reserved by Prometheus"),
            ("severity", "set by the alerts themselves"),
            ("namespace", "set by the alerts themselves"),
        ] {
            assert_eq!(alert_label_name(bad).expect_err(bad).label, why, "{bad}");
        }
    }

    #[test]
    fn the_rule_is_rendered_only_when_enabled_and_only_warns_of_suspension_when_not_intended() {
        let release = Release {
            name: "rel".into(),
            namespace: "ops".into(),
        };
        let mut values = with_registries(vec![registry("ten", "0 */10 * * *")]);
        assert!(AlertsView::new(&values, &release, "").is_none());
        values.monitoring.prometheus_rule.enabled = true;
        let alerts = |v: &Values| -> Vec<&'static str> {
            let view = AlertsView::new(v, &release, "").expect("enabled");
            view.objects[0]
                .rules
                .iter()
                .filter(|r| r.kind == "alert")
                .map(|r| r.name)
                .collect()
        };
        assert_eq!(
            alerts(&values),
            [
                "EcrPullSecretRefreshLate",
                "EcrPullSecretExpiring",
                "EcrPullSecretRefreshFailing",
                "EcrPullSecretRefreshSuspended"
            ]
        );
        values.cron_job.suspend = true;
        assert!(!alerts(&values).contains(&"EcrPullSecretRefreshSuspended"));
    }

    #[test]
    fn past_five_hundred_registries_the_thresholds_go_to_more_objects() {
        let release = Release {
            name: "rel".into(),
            namespace: "ops".into(),
        };
        let mut values = with_registries(
            (0..1001)
                .map(|n| registry(&format!("r{n}"), "0 */10 * * *"))
                .collect(),
        );
        values.monitoring.prometheus_rule.enabled = true;
        let view = AlertsView::new(&values, &release, "").expect("enabled");
        let shape: Vec<(&str, usize, usize)> = view
            .objects
            .iter()
            .map(|o| (o.name.as_str(), o.thresholds.len(), o.rules.len()))
            .collect();
        assert_eq!(
            shape,
            [
                ("rel-regcred-alerts", 500, 6),
                ("rel-regcred-alerts-2", 500, 0),
                ("rel-regcred-alerts-3", 1, 0)
            ]
        );
        assert_eq!(view.objects[2].thresholds[0].registry, "r1000");
    }

    #[test]
    fn object_labels_never_repeat_a_key_of_the_chart() {
        let extra = BTreeMap::from([
            ("release".to_owned(), "kube-prometheus-stack".to_owned()),
            ("app.kubernetes.io/name".to_owned(), "other".to_owned()),
        ]);
        let joined = join_labels("app.kubernetes.io/name: \"ecr-registry-helper\"", &extra);
        assert_eq!(
            joined,
            "app.kubernetes.io/name: \"ecr-registry-helper\"\n\"release\": \"kube-prometheus-stack\""
        );
    }
}
