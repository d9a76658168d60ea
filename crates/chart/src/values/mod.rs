//! Values: load one or more YAML files, merge them like Helm, validate, and type them.

pub mod model;

pub use model::Values;

/// One values document and the name it is reported under (a path, or `values.example.yaml`).
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Everything wrong with the values, every problem at once, ready to print.
#[derive(Debug)]
pub struct ValuesError {
    /// Each problem rendered with file, line, column, field path and what is allowed.
    pub rendered: String,
}

impl std::fmt::Display for ValuesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rendered)
    }
}

impl std::error::Error for ValuesError {}

/// Parse each source, merge them in order (maps deep-merge, lists replace, null deletes,
/// later wins), validate the result and return the typed values.
pub fn load(sources: &[Source]) -> Result<Values, ValuesError> {
    // Placeholder until the loader lands: no merge, no validation.
    let last = sources.last().map(|s| s.text.as_str()).unwrap_or("{}");
    serde_yaml::from_str(last).map_err(|e| ValuesError {
        rendered: e.to_string(),
    })
}

/// The JSON Schema of the values (`ecr-chart schema`, the chart's `values.schema.json`).
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Values)).unwrap_or_default()
}
