//! The minijinja environment: embedded templates, strict undefined, trailing newlines kept.

use minijinja::{Environment, UndefinedBehavior};

/// The templates of `chart-templates/`, embedded so `ecr-chart` needs no files on disk.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "_helpers.yaml",
        include_str!("../../../../chart-templates/_helpers.yaml"),
    ),
    (
        "manifests.yaml",
        include_str!("../../../../chart-templates/manifests.yaml"),
    ),
    (
        "serviceaccount.yaml",
        include_str!("../../../../chart-templates/serviceaccount.yaml"),
    ),
    (
        "configmap.yaml",
        include_str!("../../../../chart-templates/configmap.yaml"),
    ),
    (
        "role.yaml",
        include_str!("../../../../chart-templates/role.yaml"),
    ),
    (
        "rolebinding.yaml",
        include_str!("../../../../chart-templates/rolebinding.yaml"),
    ),
    (
        "cronjob.yaml",
        include_str!("../../../../chart-templates/cronjob.yaml"),
    ),
    (
        "externalsecret.yaml",
        include_str!("../../../../chart-templates/externalsecret.yaml"),
    ),
    (
        "job.yaml",
        include_str!("../../../../chart-templates/job.yaml"),
    ),
    (
        "notes.txt",
        include_str!("../../../../chart-templates/notes.txt"),
    ),
];

/// Build the one environment every render uses.
///
/// `*.yaml` templates auto-escape as JSON (minijinja's `json` feature), so every `{{ value }}`
/// becomes a JSON scalar or flow collection: valid YAML whatever the value holds.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("static syntax config is valid"),
    );
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("embedded template {name} does not compile: {e:#}"));
    }
    env
}
