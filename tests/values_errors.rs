//! Golden tests of the values errors users see: one bad-values fixture per case under
//! `tests/fixtures/bad-values/` (a directory is one case with several `-f` files, in name
//! order), each snapshotted exactly as printed. Plus: the seed chart's values and
//! `values.example.yaml` load unchanged.

use std::path::Path;

use ecr_chart::values::{self, Source};

/// The sources of one case: the file itself, or every file of a directory in name order.
/// Names are relative to the fixtures directory so snapshots do not depend on the checkout.
fn sources(case: &Path) -> Vec<Source> {
    let base = case.parent().expect("fixture has a parent");
    let mut files = if case.is_dir() {
        std::fs::read_dir(case)
            .expect("read the case directory")
            .map(|entry| entry.expect("directory entry").path())
            .collect()
    } else {
        vec![case.to_path_buf()]
    };
    files.sort();
    files
        .into_iter()
        .map(|file| Source {
            name: file
                .strip_prefix(base)
                .expect("inside the fixtures")
                .to_string_lossy()
                .into_owned(),
            text: std::fs::read_to_string(&file).expect("read fixture"),
        })
        .collect()
}

#[test]
fn bad_values() {
    insta::glob!("fixtures/bad-values/*", |case| {
        let sources = sources(case);
        let error = values::load(&sources).expect_err("every bad-values fixture is refused");
        assert!(error.count() > 0);
        assert_eq!(error.problems().len(), error.count());
        let rendered = error.to_string();
        // Every problem names a file of the case with its line and column.
        let located = rendered.lines().filter(|line| line.contains("╭─[")).count();
        assert_eq!(located, error.count(), "{rendered}");
        insta::assert_snapshot!(rendered);
    });
}

/// The values of the hand-written Helm chart ecr-registry-helper replaces, exactly as that
/// chart's README documents them.
const SEED_VALUES: &str = r#"ecrRegistries:
  - name: primary
    region: eu-central-1
    namespace: argocd
    schedule: "0 */10 * * *"

  - name: secondary
    region: eu-central-1
    namespace: argocd
    schedule: "0 */10 * * *"

resources:
  requests:
    memory: "64Mi"
    cpu: "100m"
  limits:
    memory: "128Mi"
    cpu: "200m"

cronJob:
  successfulJobsHistoryLimit: 2  # Keep last 2 successful job runs
  suspend: false                   # Set to true to pause all CronJobs
  backoffLimit: 3                  # Retry failed jobs up to 3 times
"#;

#[test]
fn the_seed_values_load_unchanged_with_the_seed_registries() {
    let values = values::load(&[Source {
        name: "values.yaml".to_owned(),
        text: SEED_VALUES.to_owned(),
    }])
    .expect("the seed's values are valid");
    let registries: Vec<(&str, &str, &str, &str)> = values
        .ecr_registries
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.region.as_str(),
                r.namespace.as_deref().unwrap_or(""),
                r.schedule.as_str(),
            )
        })
        .collect();
    assert_eq!(
        registries,
        [
            ("primary", "eu-central-1", "argocd", "0 */10 * * *"),
            ("secondary", "eu-central-1", "argocd", "0 */10 * * *"),
        ]
    );
    assert_eq!(values.resources.requests["memory"], "64Mi");
    assert_eq!(values.resources.limits["cpu"], "200m");
    assert_eq!(values.cron_job.successful_jobs_history_limit, 2);
    assert!(!values.cron_job.suspend);
    assert_eq!(values.cron_job.backoff_limit, 3);
}

#[test]
fn the_example_values_load() {
    let values = values::load(&[Source {
        name: "values.example.yaml".to_owned(),
        text: include_str!("../values.example.yaml").to_owned(),
    }])
    .unwrap_or_else(|e| panic!("values.example.yaml is valid:\n{e}"));
    assert!(!values.ecr_registries.is_empty());
}

#[test]
fn the_schema_is_strict_draft_07() {
    let schema = values::schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn a_schedule_close_to_the_token_lifetime_is_a_warning_not_an_error() {
    let loaded = values::load_checked(&[Source {
        name: "values.yaml".to_owned(),
        text: "ecrRegistries:\n  - name: primary\n    region: eu-central-1\n    namespace: argocd\n    schedule: \"0,30 0,12 * * *\"\n".to_owned(),
    }])
    .expect("a warning does not refuse the values");
    assert_eq!(loaded.values.ecr_registries[0].schedule, "0,30 0,12 * * *");
    assert_eq!(loaded.warnings.problems().len(), 1);
    assert_eq!(
        loaded.warnings.problems()[0].severity,
        values::Severity::Warning
    );
    let rendered = loaded.warnings.to_string();
    let located = rendered.lines().filter(|l| l.contains("╭─[")).count();
    assert_eq!(located, 1, "{rendered}");
    insta::assert_snapshot!(rendered);
}

#[test]
fn safe_schedules_give_no_warning() {
    let loaded = values::load_checked(&[Source {
        name: "values.example.yaml".to_owned(),
        text: include_str!("../values.example.yaml").to_owned(),
    }])
    .expect("valid");
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.warnings.to_string(), "");
}
