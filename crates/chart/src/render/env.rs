//! The minijinja environment: embedded templates, strict undefined, trailing newlines kept.

use std::sync::LazyLock;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, UndefinedBehavior, Value};

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

/// The one environment every render uses, built (templates compiled) on first use.
pub fn shared() -> &'static Environment<'static> {
    static ENV: LazyLock<Environment<'static>> = LazyLock::new(environment);
    &ENV
}

/// Build the environment: templates, syntax, undefined behaviour.
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
    env.add_filter("indent", indent);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("embedded template {name} does not compile: {e:#}"));
    }
    env
}

/// minijinja's `indent` filter, the same output, in one pass into a buffer sized up front: it
/// runs for every registry over its labels and, twice, its whole pod template, where the
/// builtin's formatted write per line was a fifth of a render.
///
/// Lines after the first get `width` (default 4) spaces; `first` indents the first line too,
/// `blank` also indents blank lines; one trailing newline is dropped; a safe string stays safe.
fn indent(
    value: &Value,
    width: Option<usize>,
    first: Option<bool>,
    blank: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    fn strip_trailing_newline(text: &str) -> &str {
        let text = text.strip_suffix('\n').unwrap_or(text);
        text.strip_suffix('\r').unwrap_or(text)
    }
    // Looking up a keyword argument costs more than indenting a short text: only when given.
    fn named<T: for<'a> minijinja::value::ArgType<'a, Output = T>>(
        kwargs: &Kwargs,
        name: &str,
        default: T,
    ) -> Result<T, Error> {
        if kwargs.has(name) {
            kwargs.get(name)
        } else {
            Ok(default)
        }
    }
    let width = match width {
        Some(width) => width,
        None => named(&kwargs, "width", 4)?,
    };
    let first = match first {
        Some(first) => first,
        None => named(&kwargs, "first", false)?,
    };
    let blank = match blank {
        Some(blank) => blank,
        None => named(&kwargs, "blank", false)?,
    };
    kwargs.assert_all_used()?;
    let owned;
    let text = match value.as_str() {
        Some(text) => text,
        None => {
            owned = value.to_string();
            &owned
        }
    };
    let text = strip_trailing_newline(text);
    let pad = " ".repeat(width);
    // Room for a line of 16 bytes or longer on average; the pod template's are about 30.
    let mut out = String::with_capacity(text.len() + (text.len() / 16 + 1) * width);
    let mut lines = text.split('\n');
    if !first {
        out.push_str(lines.next().unwrap_or_default());
        out.push('\n');
    }
    for line in lines {
        // A blank line in CRLF text is a lone "\r" after splitting on '\n'.
        if blank || !(line.is_empty() || line == "\r") {
            out.push_str(&pad);
        }
        out.push_str(line);
        out.push('\n');
    }
    out.truncate(strip_trailing_newline(&out).len());
    Ok(if value.is_safe() {
        Value::from_safe_string(out)
    } else {
        Value::from(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_matches_the_builtin_filter() {
        let ours = environment();
        let builtin = Environment::new();
        let texts = [
            "",
            "one",
            "one\n",
            "a\nb\n\nc",
            "a\r\nb\r\n\r\nc\r\n",
            "\n\nx\n\n",
            "key: value\nother: [1, 2]\n",
        ];
        let calls = [
            "indent",
            "indent(2)",
            "indent(8)",
            "indent(0)",
            "indent(4, true)",
            "indent(3, false, true)",
            "indent(width=2, first=true, blank=true)",
            "indent(blank=true)",
        ];
        for text in texts {
            for call in calls {
                for safe in ["", "|safe"] {
                    let source = format!("{{{{ text{safe}|{call} }}}}");
                    let ctx = minijinja::context! { text };
                    // A `*.yaml` name: JSON auto-escaping shows whether the result is safe.
                    let want = builtin
                        .render_named_str("t.yaml", &source, &ctx)
                        .expect("builtin renders");
                    let got = ours
                        .render_named_str("t.yaml", &source, &ctx)
                        .expect("ours renders");
                    assert_eq!(got, want, "{text:?} {safe} {call}");
                }
            }
        }
        let number = ours.render_str("{{ 42|indent }}", ()).expect("renders");
        assert_eq!(number, "42");
        assert!(ours.render_str("{{ 1|indent(x=1) }}", ()).is_err());
    }
}
