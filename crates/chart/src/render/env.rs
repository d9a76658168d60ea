//! The minijinja environment: a loader over the embedded templates, strict undefined, trailing
//! newlines kept, and the `indent` and `toyaml` filters.

use std::fmt::Write as _;
use std::sync::LazyLock;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

/// Every file of `chart-templates/` as `(name, text)`, embedded so `ecr-chart` needs no files on
/// disk: `build.rs` writes this table from the directory listing.
pub const TEMPLATES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// The embedded template called `name`.
pub fn template_source(name: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, source)| *source)
}

/// The one environment every render uses, built (templates compiled) on first use.
pub fn shared() -> &'static Environment<'static> {
    static ENV: LazyLock<Environment<'static>> = LazyLock::new(environment);
    &ENV
}

/// Build the environment: the loader over the embedded templates, syntax, undefined behaviour,
/// filters.
///
/// `*.yaml` templates auto-escape as JSON (minijinja's `json` feature), and the formatter
/// writes every `{{ value }}` that is not marked safe with [`flow`]: a JSON scalar or flow
/// collection whose strings are quoted by [`quote`], so it reads back as the value from any
/// YAML reader (serde_json's own escaping lets DEL, C1 controls, U+2028/U+2029 and the BOM
/// through raw, which YAML refuses or folds). Maps and lists are written as block YAML by
/// [`toyaml`], whose scalars are quoted the same way.
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
    env.add_filter("toyaml", toyaml);
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Json) && !value.is_safe() {
            // Most values are plain strings that need no escape: written without a buffer.
            if let Some(text) = value.as_str().filter(|text| needs_no_escape(text)) {
                out.write_str("\"")?;
                out.write_str(text)?;
                return out.write_str("\"").map_err(Error::from);
            }
            let mut text = String::new();
            flow(&mut text, value)?;
            out.write_str(&text).map_err(Error::from)
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.set_loader(|name| Ok(template_source(name)));
    env
}

/// A map or list as block YAML (2-space indent, lists indented under their key), without a
/// trailing newline; a scalar as itself. Every string, and every key, is a JSON string
/// literal (valid YAML double-quoted, so no value can end its line, start a comment or a
/// document, or be read as another type), with the characters a YAML reader would fold or
/// refuse (U+0085, U+2028, U+2029, DEL, C1 controls, BOM) escaped too; numbers, booleans and
/// null as JSON writes them; `{}` and `[]` when empty. The result is marked safe, the only
/// output the templates take unescaped. Place it after `key:` on its own line and indent it to
/// that line's depth: `{{ values.affinity|toyaml|indent(4) }}`.
pub fn toyaml(value: &Value) -> Result<Value, Error> {
    let mut out = String::with_capacity(64);
    if is_block(value) {
        block(&mut out, value, 0, false)?;
        out.pop();
    } else {
        scalar(&mut out, value)?;
    }
    Ok(Value::from_safe_string(out))
}

/// The longest key, as written (quoted), that stays an implicit `key: value` key: YAML readers
/// give up on a simple key 1 024 characters after its start (yaml.v2's
/// `yaml_parser_stale_simple_keys`), so longer keys are written as explicit `? key` entries.
/// Counted in bytes, which are never fewer than the characters the reader counts.
const IMPLICIT_KEY_LIMIT: usize = 1000;

/// A non-empty map or list: written over lines of its own.
fn is_block(value: &Value) -> bool {
    matches!(
        value.kind(),
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable
    ) && value.len() != Some(0)
}

/// Writes a non-empty map or list at `depth` spaces, each line ending in `\n`; `inline`: the
/// first line's indentation is already written (after a list's `- `).
fn block(out: &mut String, value: &Value, depth: usize, mut inline: bool) -> Result<(), Error> {
    let is_map = value.kind() == ValueKind::Map;
    for item in value.try_iter()? {
        if !inline {
            out.extend(std::iter::repeat_n(' ', depth));
        }
        inline = false;
        let child = if is_map {
            let start = out.len();
            key(out, &item)?;
            if out.len() - start > IMPLICIT_KEY_LIMIT {
                // Too long for an implicit key: `? "key"` then `: value` at the key's column.
                out.insert_str(start, "? ");
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', depth));
            }
            out.push(':');
            value.get_item(&item)?
        } else {
            out.push('-');
            item
        };
        if !is_block(&child) {
            out.push(' ');
            scalar(out, &child)?;
            out.push('\n');
        } else if is_map {
            out.push('\n');
            block(out, &child, depth + 2, false)?;
        } else {
            out.push(' ');
            block(out, &child, depth + 2, true)?;
        }
    }
    Ok(())
}

/// `value` on one line as JSON: a scalar as [`scalar`] writes it, a map as `{"key": value, …}`,
/// a list as `[value, …]`, every string and key through [`quote`].
fn flow(out: &mut String, value: &Value) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable if value.len() != Some(0) => {
            let is_map = value.kind() == ValueKind::Map;
            out.push(if is_map { '{' } else { '[' });
            for (n, item) in value.try_iter()?.enumerate() {
                if n > 0 {
                    out.push(',');
                }
                if is_map {
                    let start = out.len();
                    key(out, &item)?;
                    if out.len() - start > IMPLICIT_KEY_LIMIT {
                        out.insert_str(start, "? ");
                        out.push(' ');
                    }
                    out.push(':');
                    flow(out, &value.get_item(&item)?)?;
                } else {
                    flow(out, &item)?;
                }
            }
            out.push(if is_map { '}' } else { ']' });
            Ok(())
        }
        _ => scalar(out, value),
    }
}

/// A map key: always a quoted string, as in JSON.
fn key(out: &mut String, key: &Value) -> Result<(), Error> {
    match key.as_str() {
        Some(text) => quote(out, text),
        None if matches!(key.kind(), ValueKind::Number | ValueKind::Bool) => {
            quote(out, &key.to_string())
        }
        None => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("toyaml: a map key of type {} is not a string", key.kind()),
            ));
        }
    }
    Ok(())
}

/// A scalar, an empty map or an empty list, as JSON.
fn scalar(out: &mut String, value: &Value) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "toyaml: the value is undefined",
            ));
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool | ValueKind::Number => {
            let json = serde_json::to_string(value).map_err(|e| {
                Error::new(ErrorKind::BadSerialization, "toyaml: not a JSON number").with_source(e)
            })?;
            out.push_str(&json);
        }
        ValueKind::Map => out.push_str("{}"),
        ValueKind::Seq | ValueKind::Iterable => out.push_str("[]"),
        _ => match value.as_str() {
            Some(text) => quote(out, text),
            None => quote(out, &value.to_string()),
        },
    }
    Ok(())
}

/// `text` as a JSON string literal that every YAML reader reads back as `text`.
pub(crate) fn quote(out: &mut String, text: &str) {
    out.push('"');
    if needs_no_escape(text) {
        out.push_str(text);
    } else {
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c < ' ' || yaml_unsafe(c) => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

/// `text` is printable ASCII without `"` or `\\`: [`quote`] writes it as it is.
fn needs_no_escape(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// Characters JSON lets through raw that YAML readers refuse ("control characters are not
/// allowed": DEL, C1 controls, U+FEFF, U+FFFE, U+FFFF) or read as line breaks (U+0085,
/// U+2028, U+2029).
fn yaml_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

/// serde_json's text made safe for YAML readers: the [`yaml_unsafe`] characters it leaves raw
/// (only ever inside strings, the rest of JSON is ASCII) written as `\uXXXX` escapes, as
/// [`quote`] writes them.
pub(crate) fn json_for_yaml(json: String) -> String {
    if !json.chars().any(yaml_unsafe) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if yaml_unsafe(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
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
    let out = indent_text(text, width, first, blank);
    Ok(if value.is_safe() {
        Value::from_safe_string(out)
    } else {
        Value::from(out)
    })
}

/// The [`indent`] filter's work on `text`: lines after the first (with `first`, every line) get
/// `width` spaces, blank lines only with `blank`, one trailing newline dropped.
pub(crate) fn indent_text(text: &str, width: usize, first: bool, blank: bool) -> String {
    fn strip_trailing_newline(text: &str) -> &str {
        let text = text.strip_suffix('\n').unwrap_or(text);
        text.strip_suffix('\r').unwrap_or(text)
    }
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` through `{{ value|toyaml }}` under a key, in a `*.yaml` template, read back.
    fn through_toyaml(value: &serde_json::Value) -> (String, serde_json::Value) {
        let source = "before: 1\nkey:\n  {{ value|toyaml|indent(2) }}\nafter: 2\n";
        let text = environment()
            .render_named_str(
                "t.yaml",
                source,
                minijinja::context! { value => Value::from(minijinja::value::Serde(&value)) },
            )
            .expect("renders");
        let back: serde_json::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("not YAML ({e}):\n{text}"));
        (text, back)
    }

    #[test]
    fn every_plain_value_in_a_yaml_template_is_escaped_like_toyaml() {
        let env = environment();
        // Raw, each of these is refused or folded by Go's YAML reader (yaml.v2).
        let text = "a\u{7f}b\u{85}c\u{9b}d\u{2028}e\u{2029}f\u{feff}g\u{fffe}h";
        let ctx = minijinja::context! { text, list => vec![text], map => minijinja::context! { k => text } };
        for source in ["v: {{ text }}", "v: {{ list }}", "v: {{ map }}"] {
            let out = env
                .render_named_str("t.yaml", source, &ctx)
                .expect("renders");
            for raw in [
                '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{fffe}',
            ] {
                assert!(!out.contains(raw), "{source}: {raw:?} left raw in {out:?}");
            }
            let back: serde_json::Value = serde_yaml::from_str(&out).expect("YAML");
            let value = &back["v"];
            let got = value
                .as_str()
                .or_else(|| value[0].as_str())
                .or_else(|| value["k"].as_str());
            assert_eq!(got, Some(text), "{source}: {out}");
        }
        // A safe string (our own toyaml output) is written as it is.
        let safe = env
            .render_named_str(
                "t.yaml",
                "{{ x|safe }}",
                minijinja::context! { x => "a: b" },
            )
            .expect("renders");
        assert_eq!(safe, "a: b");
    }

    #[test]
    fn keys_over_the_implicit_key_limit_read_back_in_flow_and_block_maps() {
        let env = environment();
        for long in ["k".repeat(1100), "\u{7f}".repeat(200), "k".repeat(999)] {
            let map = Value::from(minijinja::value::Serde(
                &serde_json::json!({long.as_str(): "v", "short": "w"}),
            ));
            for source in ["v: {{ map }}\n", "v:\n  {{ map|toyaml|indent(2) }}\n"] {
                let out = env
                    .render_named_str("t.yaml", source, minijinja::context! { map => map.clone() })
                    .expect("renders");
                let back: serde_json::Value = serde_yaml::from_str(&out)
                    .unwrap_or_else(|e| panic!("not YAML ({e}): {source}"));
                assert_eq!(
                    back,
                    serde_json::json!({"v": {long.as_str(): "v", "short": "w"}}),
                    "{source}"
                );
            }
        }
    }

    #[test]
    fn toyaml_output_reads_back_as_the_value_whatever_it_holds() {
        let tricky = [
            "plain",
            "key: value",
            "# not a comment",
            "a\nb\n---\nc: d",
            "quote \" and 'apostrophe' and \\ backslash",
            "{{ braces }}",
            "unicode: żółć 日本 🎉",
            "line\u{2028}separator\u{2029}and\u{85}next line",
            "del\u{7f} bom\u{feff} nul\u{0} tab\t",
            "- not a list",
            "yes",
            "null",
            "0777",
            "",
            " leading and trailing ",
        ];
        let values = [
            serde_json::json!({"a": {"b": {"c": "d"}}, "e": "f"}),
            serde_json::json!([{"name": "x", "items": [1, 2]}, {"name": "y"}]),
            serde_json::json!({"empty map": {}, "empty list": [], "nested": [[], {}, [1, [2]]]}),
            serde_json::json!({"numbers": [0, -1, 1.5, 1e300], "bools": [true, false], "none": null}),
            serde_json::json!({"affinity": {"nodeAffinity": {"terms": [{"matchExpressions": [
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}
            ]}]}}}),
            serde_json::Value::from(
                tricky
                    .iter()
                    .map(|s| serde_json::Value::from(*s))
                    .collect::<Vec<_>>(),
            ),
            serde_json::Value::Object(
                tricky
                    .iter()
                    .map(|s| ((*s).to_owned(), serde_json::Value::from(*s)))
                    .collect(),
            ),
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!("a scalar: with # all\n---"),
            serde_json::json!(42),
        ];
        for value in values {
            let (text, back) = through_toyaml(&value);
            let want = serde_json::json!({"before": 1, "key": value, "after": 2});
            assert_eq!(back, want, "{text}");
            assert!(
                !text
                    .lines()
                    .any(|line| line.starts_with("---") || line.starts_with('#')),
                "no value starts a document or a comment:\n{text}"
            );
        }
    }

    #[test]
    fn toyaml_writes_block_yaml_with_every_key_and_string_quoted() {
        let value = serde_json::json!({
            "requests": {"cpu": "100m"},
            "tolerations": [{"key": "a", "value": "b"}],
            "empty": {},
            "count": 3,
        });
        let out = environment()
            .render_named_str(
                "t.yaml",
                "{{ value|toyaml }}",
                minijinja::context! { value => Value::from(minijinja::value::Serde(&value)) },
            )
            .expect("renders");
        assert_eq!(
            out,
            "\"count\": 3\n\"empty\": {}\n\"requests\":\n  \"cpu\": \"100m\"\n\
             \"tolerations\":\n  - \"key\": \"a\"\n    \"value\": \"b\""
        );
        let list = environment()
            .render_named_str("t.yaml", "{{ [[1, 2], []]|toyaml }}", ())
            .expect("renders");
        assert_eq!(list, "- - 1\n  - 2\n- []");
        let escaped = environment()
            .render_named_str(
                "t.yaml",
                "{{ value|toyaml }}",
                minijinja::context! { value => "a\u{2028}\"" },
            )
            .expect("renders");
        assert_eq!(escaped, "\"a\\u2028\\\"\"");
    }

    #[test]
    fn toyaml_refuses_an_undefined_value() {
        let err = environment()
            .render_named_str("t.yaml", "{{ nothing|toyaml }}", ())
            .expect_err("undefined");
        assert_eq!(err.kind(), ErrorKind::UndefinedError);
    }

    #[test]
    fn every_embedded_template_compiles() {
        let env = environment();
        let names: Vec<&str> = TEMPLATES.iter().map(|(name, _)| *name).collect();
        for wanted in super::super::MANIFEST_TEMPLATES
            .iter()
            .chain(&["_helpers.yaml", "notes.txt"])
        {
            assert!(
                names.contains(wanted),
                "{wanted} is not embedded: {names:?}"
            );
        }
        for (name, _) in TEMPLATES {
            env.get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        assert!(env.get_template("missing.yaml").is_err());
    }

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
