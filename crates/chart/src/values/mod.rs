//! Values: load one or more YAML files, merge them like Helm, validate, and type them.
//!
//! The pipeline: each source is parsed on its own ([`load`](self::load) module: YAML syntax
//! errors keep their file, line and column, and every field's location is indexed), the
//! documents are merged ([`merge`]), the merged values are validated as a whole ([`validate`]:
//! the schema with its field formats, then the cross-field [`rules`]), and only then typed into
//! [`Values`]. Every problem is reported at once, pointing at the file and spot that last set
//! the field; problems and warnings stay data ([`ValuesError`], [`Warnings`]) until the command
//! line prints them.

pub(crate) mod checks;
// robfig/cron v3.0.1, shared with the refresher (`ecr-refresher status`).
use ecr_cron as cron;
mod field_schemas;
mod helm_yaml;
mod load;
mod merge;
pub mod model;
mod path;
mod report;
mod rules;
pub mod schedule;
mod schema;
mod validate;

pub use model::Values;
pub use path::FieldPath;
pub use report::{Problem, Severity, Span, Spot, escape_controls};

use report::Lines;

/// One values document and the name it is reported under (a path, or `values.example.yaml`).
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Everything wrong with the values, every problem at once, each located in its source. Its
/// `Display` renders them (file, line, column, field path, a caret, what is allowed), for the
/// edge that prints it.
#[derive(Debug)]
pub struct ValuesError {
    sources: Vec<Source>,
    problems: Vec<Problem>,
}

impl ValuesError {
    /// The problems, by file and position.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// How many problems were found.
    pub fn count(&self) -> usize {
        self.problems.len()
    }

    /// The sources the problems' spots point into.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }
}

impl std::fmt::Display for ValuesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&report::render(&self.sources, &self.problems))
    }
}

impl std::error::Error for ValuesError {}

/// Warnings about valid values (schedules close to the token's lifetime), located like
/// problems. Its `Display` renders them, or nothing when there are none.
#[derive(Debug, Clone, Default)]
pub struct Warnings {
    sources: Vec<Source>,
    problems: Vec<Problem>,
}

impl Warnings {
    /// No warnings.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// The warnings, by file and position.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl std::fmt::Display for Warnings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        f.write_str(&report::render_warnings(&self.sources, &self.problems))
    }
}

/// Parse each source, merge them in order (maps deep-merge, lists replace, null deletes,
/// later wins), validate the result and return the typed values.
pub fn load(sources: &[Source]) -> Result<Values, ValuesError> {
    load_checked(sources).map(|loaded| loaded.values)
}

/// Valid values, as written and typed, with the warnings about them.
#[derive(Debug)]
pub struct Loaded {
    /// The merged values exactly as given, before defaults, nulls and all: what Helm's
    /// `.Values` is when the same files are given to it again (`helm upgrade -f …` of a
    /// generated chart).
    pub as_given: serde_json::Value,
    /// The typed values.
    pub values: Values,
    /// Warnings (schedules close to the token's lifetime); empty when there are none.
    pub warnings: Warnings,
}

impl Loaded {
    /// The merged values as written, before defaults, without the nulls Helm drops from a
    /// chart's `values.yaml`: what a generated chart bakes in, and what Helm's `.Values` is
    /// when it is given no values file.
    pub fn as_written(&self) -> serde_json::Value {
        let mut values = self.as_given.clone();
        merge::remove_nulls_outside_lists(&mut values);
        values
    }
}

/// Like [`load`], and also return the values as written and the warnings: what every command
/// shows on stderr.
pub fn load_checked(sources: &[Source]) -> Result<Loaded, ValuesError> {
    let mut documents = Vec::with_capacity(sources.len());
    let mut problems = Vec::new();
    let mut fatal = false;
    for (file, source) in sources.iter().enumerate() {
        match load::parse(file, &source.text) {
            Ok(mut document) => {
                problems.append(&mut document.problems);
                documents.push(document);
            }
            Err(found) => {
                fatal = true;
                problems.extend(found);
            }
        }
    }
    if fatal {
        return Err(error(sources, problems));
    }
    // Problems found while reading single values stand for what the schema says about them.
    let read: Vec<Problem> = problems;
    let as_given = merge::merge_files(documents.into_iter().map(|d| d.value));
    let mut merged = as_given.clone();
    merge::remove_nulls(&mut merged);
    let (mut warnings, mut problems): (Vec<Problem>, Vec<Problem>) = validate::validate(&merged)
        .into_iter()
        .filter(|p| !read.iter().any(|r| r.path == p.path))
        .partition(|p| p.severity == Severity::Warning);
    // Locating a problem needs each file's path index: a second parse, done only when needed.
    let owned: Vec<load::PathIndex> = if problems.is_empty() && warnings.is_empty() {
        Vec::new()
    } else {
        sources.iter().map(|s| load::index(&s.text)).collect()
    };
    let indexes: Vec<&load::PathIndex> = owned.iter().collect();
    for problem in problems.iter_mut().chain(&mut warnings) {
        problem.spot = Some(merge::locate(&indexes, &problem.path, problem.on_key));
    }
    problems.extend(read);
    if !problems.is_empty() {
        mention_related(sources, &indexes, &mut problems);
        return Err(error(sources, problems));
    }
    sort(&mut warnings);
    let warnings = if warnings.is_empty() {
        Warnings::default()
    } else {
        Warnings {
            sources: sources.to_vec(),
            problems: warnings,
        }
    };
    let merged = over_defaults(&as_given);
    let typed = load::to_typed(merged).map_err(|(path, message)| {
        let mut problem = Problem::at_path(path, message, "here");
        let owned: Vec<load::PathIndex> = sources.iter().map(|s| load::index(&s.text)).collect();
        let indexes: Vec<&load::PathIndex> = owned.iter().collect();
        problem.spot = Some(merge::locate(&indexes, &problem.path, false));
        error(sources, vec![problem])
    })?;
    Ok(Loaded {
        as_given,
        values: typed,
        warnings,
    })
}

/// Check values built in code rather than read from a file (`ecr-chart onboard`'s arguments):
/// the same validation and typing as [`load_checked`]. With no text to point into, each
/// problem is shown as one line naming what `describe` calls its field (e.g. the command-line
/// flag that set it), then what is allowed.
pub fn check_value(
    value: serde_json::Value,
    describe: impl Fn(&FieldPath) -> String,
) -> Result<Loaded, ValuesError> {
    let as_given = value;
    let mut merged = as_given.clone();
    merge::remove_nulls(&mut merged);
    let named = |mut problem: Problem| {
        problem.subject = Some(describe(&problem.path));
        problem
    };
    let (warnings, problems): (Vec<Problem>, Vec<Problem>) = validate::validate(&merged)
        .into_iter()
        .map(named)
        .partition(|p| p.severity == Severity::Warning);
    if !problems.is_empty() {
        return Err(ValuesError {
            sources: Vec::new(),
            problems,
        });
    }
    let merged = over_defaults(&as_given);
    let values = load::to_typed(merged).map_err(|(path, message)| ValuesError {
        sources: Vec::new(),
        problems: vec![named(Problem::at_path(path, message, ""))],
    })?;
    Ok(Loaded {
        as_given,
        values,
        warnings: Warnings {
            sources: Vec::new(),
            problems: warnings,
        },
    })
}

/// Add "first set at file:line:column" to problems that mention another field.
fn mention_related(sources: &[Source], indexes: &[&load::PathIndex], problems: &mut [Problem]) {
    let lines: Vec<Lines<'_>> = sources.iter().map(|s| Lines::new(&s.text)).collect();
    for problem in problems.iter_mut() {
        let Some(see) = &problem.see else { continue };
        let spot = merge::locate(indexes, see, false);
        let (Some(source), Some(lines)) = (sources.get(spot.file), lines.get(spot.file)) else {
            continue;
        };
        let (line, column) = lines.position(spot.span.offset);
        let note = format!("the first `{see}` is at {}:{line}:{column}", source.name);
        problem.help = Some(match problem.help.take() {
            Some(help) => format!("{note}\n{help}"),
            None => note,
        });
    }
}

/// Sort problems by file and position, drop repeats, and keep them with their sources.
fn error(sources: &[Source], mut problems: Vec<Problem>) -> ValuesError {
    sort(&mut problems);
    ValuesError {
        sources: sources.to_vec(),
        problems,
    }
}

/// By file and position, repeats dropped.
fn sort(problems: &mut Vec<Problem>) {
    problems.sort_by(|a, b| {
        let key = |p: &Problem| p.spot.map(|s| (s.file, s.span.offset));
        key(a)
            .cmp(&key(b))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.message.cmp(&b.message))
    });
    problems.dedup_by(|a, b| a.path == b.path && a.message == b.message);
}

/// The values to type, as Helm makes them: the given values (nulls kept) deep-merged over the
/// model's defaults, so a map default such as `resources.limits` keeps the keys the values
/// do not set; then every null deleted (a null deletes a default map entry, and a field whose
/// key is gone takes its default).
fn over_defaults(as_given: &serde_json::Value) -> serde_json::Value {
    let mut merged = serde_json::to_value(Values::default()).expect("the default values serialise");
    merge::remove_nulls(&mut merged);
    merge::merge_into(&mut merged, as_given.clone());
    merge::remove_nulls(&mut merged);
    quantities_as_strings(&mut merged);
    merged
}

/// YAML reads `cpu: 1.5` as a number; the typed values hold quantities as strings.
fn quantities_as_strings(values: &mut serde_json::Value) {
    for kind in ["requests", "limits"] {
        let Some(serde_json::Value::Object(map)) =
            values.get_mut("resources").and_then(|r| r.get_mut(kind))
        else {
            continue;
        };
        for quantity in map.values_mut() {
            if let serde_json::Value::Number(n) = quantity {
                *quantity = serde_json::Value::String(number_text(n));
            }
        }
    }
}

/// A JSON number as a quantity: integers as they are, whole floats without `.0`.
fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

/// The JSON Schema of the values (`ecr-chart schema`, the chart's `values.schema.json`):
/// draft-07, strict (no unknown keys), and accepting `null` wherever a key may be deleted to
/// get its default.
pub fn schema() -> serde_json::Value {
    schema::public()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(texts: &[(&str, &str)]) -> Vec<Source> {
        texts
            .iter()
            .map(|(name, text)| Source {
                name: (*name).to_owned(),
                text: (*text).to_owned(),
            })
            .collect()
    }

    #[test]
    fn no_sources_give_the_defaults() {
        assert_eq!(load(&[]).expect("defaults"), Values::default());
    }

    #[test]
    fn later_files_override_and_null_restores_the_default() {
        let values = load(&sources(&[
            (
                "a.yaml",
                "image:\n  tag: '1.0'\n  pullPolicy: Always\ncronJob:\n  backoffLimit: 9\n",
            ),
            (
                "b.yaml",
                "image:\n  tag: '2.0'\ncronJob:\n  backoffLimit: null\n",
            ),
        ]))
        .expect("valid");
        assert_eq!(values.image.tag, "2.0");
        assert_eq!(values.image.pull_policy, model::PullPolicy::Always);
        assert_eq!(values.cron_job.backoff_limit, 3);
    }

    #[test]
    fn numeric_quantities_become_strings() {
        let values = load(&sources(&[(
            "q.yaml",
            "resources:\n  limits:\n    cpu: 1.5\n    memory: 2e3\n  requests:\n    cpu: 1\n",
        )]))
        .expect("valid");
        assert_eq!(values.resources.limits["cpu"], "1.5");
        assert_eq!(values.resources.limits["memory"], "2000");
        assert_eq!(values.resources.requests["cpu"], "1");
    }

    #[test]
    fn errors_point_at_the_file_that_set_the_field() {
        let error = load(&sources(&[
            (
                "base.yaml",
                "ecrRegistries:\n  - name: a\n    region: eu-central-1\n    namespace: ns\n",
            ),
            ("over.yaml", "cronJob:\n  suspend: 'no'\n"),
        ]))
        .expect_err("invalid");
        assert_eq!(error.count(), 1);
        let rendered = error.to_string();
        assert!(rendered.contains("[over.yaml:2:12]"), "{rendered}");
    }

    #[test]
    fn syntax_errors_of_every_file_are_reported_together() {
        let error = load(&sources(&[("one.yaml", "a: [1\n"), ("two.yaml", "b: {\n")]))
            .expect_err("invalid");
        let rendered = error.to_string();
        assert_eq!(error.count(), 2, "{rendered}");
        assert!(rendered.contains("one.yaml:"), "{rendered}");
        assert!(rendered.contains("two.yaml:"), "{rendered}");
    }

    /// The merged values of a bad-values fixture (a file, or a directory of `-f` files), or
    /// None when it does not parse.
    fn fixture_values(path: &std::path::Path) -> Option<serde_json::Value> {
        let mut files: Vec<std::path::PathBuf> = if path.is_dir() {
            std::fs::read_dir(path)
                .expect("case directory")
                .map(|e| e.expect("entry").path())
                .collect()
        } else {
            vec![path.to_path_buf()]
        };
        files.sort();
        let mut documents = Vec::new();
        for (n, file) in files.iter().enumerate() {
            let text = std::fs::read_to_string(file).expect("fixture");
            // Problems found while reading (a scalar Helm reads differently) come before
            // any schema: Helm's JSON is not ours there.
            let document = load::parse(n, &text).ok()?;
            if !document.problems.is_empty() {
                return None;
            }
            documents.push(document.value);
        }
        Some(merge::merge_all(documents))
    }

    #[test]
    fn helm_and_load_refuse_the_same_bad_values() {
        // Only what a JSON Schema cannot express gets past Helm's schema check.
        const SCHEMA_CANNOT_TELL: &[&str] = &[
            "07-duplicate-names.yaml",
            "21-schedule-every-13-hours.yaml",
            "22-schedule-daily.yaml",
            "23-schedule-clock-change.yaml",
            "24-existing-secret-missing.yaml",
            "31-time-zone-unknown.yaml",
            "33-label-value-and-keys-invalid.yaml",
            "52-schedule-day-star-rule.yaml",
            "53-schedule-weekday-step.yaml",
            "54-schedule-midnight.yaml",
            "55-schedule-half-hour-clock-change.yaml",
            "56-schedule-controller-stalls.yaml",
            "58-schedule-never-runs.yaml",
            "75-annotations-too-large.yaml",
            "79-toleration-rules.yaml",
            "82-exclude-and-prune-without-selector.yaml",
            "83-explicit-namespace-excluded.yaml",
            "88-sync-schedule-quartz.yaml",
            "89-registry-named-sync.yaml",
        ];
        let public = schema::public();
        let helm = jsonschema::validator_for(&public).expect("public schema");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/bad-values");
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .collect();
        cases.sort();
        assert!(cases.len() >= 15, "{cases:?}");
        for case in cases {
            let name = case
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let Some(values) = fixture_values(&case) else {
                continue; // a YAML syntax error: Helm refuses it before any schema
            };
            assert!(
                !validate::validate(&values).is_empty(),
                "{name}: load accepts it"
            );
            assert_eq!(
                helm.is_valid(&values),
                SCHEMA_CANNOT_TELL.contains(&name.as_str()),
                "{name}: the public schema disagrees with load"
            );
        }
    }

    #[test]
    fn helm_accepts_what_load_accepts_including_nulls() {
        let public = schema::public();
        let helm = jsonschema::validator_for(&public).expect("public schema");
        let example = include_str!("../../../../values.example.yaml");
        let with_nulls = "image:\n  tag: null\ncronJob:\n  timeZone: null\n  startingDeadlineSeconds: null\nresources:\n  limits:\n    cpu: 1.5\n    memory: null\necrRegistries:\n  - name: a\n    region: cn-north-1\n    namespace: ns\n    schedule: null\n";
        for text in [example, with_nulls] {
            let document = load::parse(0, text).expect("parses");
            assert!(helm.is_valid(&document.value), "{text}");
            load(&sources(&[("v.yaml", text)])).expect("load accepts it");
        }
    }
}
