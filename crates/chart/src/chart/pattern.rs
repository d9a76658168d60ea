//! Parametric factoring: a run of documents of one kind as one pattern with holes and a list of
//! the values that fill them, so the chart stores each registry's text about once, not a copy.

use super::{NAME_SENTINEL, NAMESPACE_SENTINEL};

/// A run of at least this many consecutive documents of one kind and one line count becomes
/// a pattern; shorter runs keep the line-and-block form.
const MIN_RUN: usize = 3;

/// The rows of one pattern are cut into `range` calls of this many rows, or fewer when they
/// reach [`ROWS_BYTES`], so that no template file grows past its cut size on one call. A fixed
/// count cuts the runs of every kind at the same registries, so their name columns match.
const CHUNK_ROWS: usize = 1000;

/// At most about this many bytes of hole values in one `range` call.
const ROWS_BYTES: usize = 256 * 1024;

/// One piece of a pattern: text that every document of the run holds there, or a hole filled
/// by the row's value at that index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hole<'a> {
    Text(&'a str),
    Value(usize),
}

/// A document with holes: its pieces in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern<'a> {
    pub pieces: Vec<Hole<'a>>,
}

/// What a stretch of the manifests becomes: a document left to the line-and-block form, or
/// rows (one per document, in order) of pattern `pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unit<'a> {
    Document(&'a str),
    Rows {
        pattern: usize,
        rows: Vec<Vec<&'a str>>,
    },
}

/// The documents in order as units, and the patterns the rows refer to. Each run of at least
/// [`MIN_RUN`] consecutive documents with the same `kind:` line and line count is compared line
/// by line: a line all of them share is pattern text; in a line they do not, the words they all
/// share at its start and end are pattern text and the middle a hole (the release sentinels
/// count as one word, so they never straddle a hole). A hole whose values equal an earlier
/// hole's in every document reuses its index. A run whose holes would hold a sentinel stays
/// in the line-and-block form.
pub(super) fn factor_runs<'a>(documents: &[&'a str]) -> (Vec<Unit<'a>>, Vec<Pattern<'a>>) {
    let mut units = Vec::new();
    let mut patterns = Vec::new();
    let mut start = 0;
    while start < documents.len() {
        let key = shape(documents[start]);
        let end = start
            + documents[start..]
                .iter()
                .take_while(|d| shape(d) == key)
                .count();
        let run = &documents[start..end];
        match (run.len() >= MIN_RUN).then(|| pattern_of(run)).flatten() {
            Some((pattern, rows)) => {
                let id = patterns.len();
                patterns.push(pattern);
                for chunk in chunks(rows) {
                    units.push(Unit::Rows {
                        pattern: id,
                        rows: chunk,
                    });
                }
            }
            None => units.extend(run.iter().copied().map(Unit::Document)),
        }
        start = end;
    }
    (units, patterns)
}

/// A document's `kind:` line and line count: documents of one shape may share a pattern.
fn shape(document: &str) -> (&str, usize) {
    (kind_line(document), document.split_inclusive('\n').count())
}

/// The `kind:` line of a document (empty when it has none).
fn kind_line(document: &str) -> &str {
    document
        .split_inclusive('\n')
        .find(|l| l.starts_with("kind: "))
        .unwrap_or("")
}

/// Rows cut into chunks of [`CHUNK_ROWS`] rows or about [`ROWS_BYTES`].
fn chunks(rows: Vec<Vec<&str>>) -> Vec<Vec<Vec<&str>>> {
    let mut out: Vec<Vec<Vec<&str>>> = vec![Vec::new()];
    let mut bytes = 0;
    for row in rows {
        let size: usize = row.iter().map(|v| v.len() + 3).sum();
        let full = out.last().map_or(0, Vec::len);
        if full > 0 && (bytes + size > ROWS_BYTES || full >= CHUNK_ROWS) {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        out.last_mut().expect("one chunk at least").push(row);
    }
    out
}

/// The words of a line: a release sentinel, a run of ASCII letters and digits, or any other
/// single character.
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let len = if let Some(s) = [NAME_SENTINEL, NAMESPACE_SENTINEL]
            .into_iter()
            .find(|s| rest.starts_with(s))
        {
            s.len()
        } else {
            let alnum = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            if alnum > 0 {
                alnum
            } else {
                rest.chars().next().map_or(1, char::len_utf8)
            }
        };
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

/// The pattern of a run of documents with equal line counts, and one row of hole values per
/// document; `None` when a hole would hold a release sentinel.
fn pattern_of<'a>(run: &[&'a str]) -> Option<(Pattern<'a>, Vec<Vec<&'a str>>)> {
    let lines: Vec<Vec<&'a str>> = run
        .iter()
        .map(|d| d.split_inclusive('\n').collect())
        .collect();
    let first = run[0];
    let mut pieces: Vec<Hole<'a>> = Vec::new();
    let mut columns: Vec<Vec<&'a str>> = Vec::new();
    // Byte offset in the first document where the pending shared text starts.
    let mut text_from = 0;
    let mut at = 0;
    let flush_text = |pieces: &mut Vec<Hole<'a>>, from: usize, to: usize| {
        if to > from {
            pieces.push(Hole::Text(&first[from..to]));
        }
    };
    for i in 0..lines[0].len() {
        let line = lines[0][i];
        if lines.iter().all(|d| d[i] == line) {
            at += line.len();
            continue;
        }
        let split: Vec<Vec<&str>> = lines.iter().map(|d| words(d[i])).collect();
        let shortest = split.iter().map(Vec::len).min().unwrap_or(0);
        let prefix = split
            .iter()
            .map(|w| w.iter().zip(&split[0]).take_while(|(a, b)| a == b).count())
            .min()
            .unwrap_or(0);
        let suffix = split
            .iter()
            .map(|w| {
                w.iter()
                    .rev()
                    .zip(split[0].iter().rev())
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .min()
            .unwrap_or(0)
            .min(shortest - prefix);
        let head: usize = split[0][..prefix].iter().map(|w| w.len()).sum();
        let tail: usize = split[0][split[0].len() - suffix..]
            .iter()
            .map(|w| w.len())
            .sum();
        let column: Vec<&'a str> = lines
            .iter()
            .map(|d| &d[i][head..d[i].len() - tail])
            .collect();
        if column
            .iter()
            .any(|v| v.contains(NAME_SENTINEL) || v.contains(NAMESPACE_SENTINEL))
        {
            return None;
        }
        flush_text(&mut pieces, text_from, at + head);
        let index = match columns.iter().position(|c| *c == column) {
            Some(index) => index,
            None => {
                columns.push(column);
                columns.len() - 1
            }
        };
        pieces.push(Hole::Value(index));
        text_from = at + line.len() - tail;
        at += line.len();
    }
    flush_text(&mut pieces, text_from, at);
    let rows = (0..run.len())
        .map(|j| columns.iter().map(|c| c[j]).collect())
        .collect();
    Some((Pattern { pieces }, rows))
}

/// A Go template string literal that `text/template` reads back as `value`. JSON's string
/// escapes (`\"`, `\\`, `\n`, `\t`, `\r`, `\b`, `\f`, `\u00XX`) are all Go escapes too, and
/// serde_json leaves every other character (no newline among them) as it is, which a Go
/// interpreted string literal allows.
pub(super) fn go_string(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

/// The template text that writes the documents of `rows` through pattern `name`, column by
/// column: each column of hole values becomes a list in a variable of the template file
/// (`{{ $c0 := list "a" "b" … }}`), unless `declared` (the file's columns so far, `$c<index>`)
/// holds it already, then one `range` over the rows calls the pattern with the top-level
/// context and the row: `{{ range $i, $_ := $c0 }}{{ template "name" (list $ (list (index $c0
/// $i) …)) }}{{ end }}`. A column holds one registry's values one after another, so gzip finds
/// what repeats in it, and the same column (the registry names) is written once per file.
pub(super) fn rows_call<'a>(
    name: &str,
    rows: &[Vec<&'a str>],
    declared: &mut Vec<Vec<&'a str>>,
) -> String {
    let width = rows.first().map_or(0, Vec::len);
    let mut out = String::new();
    let mut vars = Vec::with_capacity(width);
    for k in 0..width {
        let column: Vec<&'a str> = rows.iter().map(|r| r[k]).collect();
        let index = match declared.iter().position(|c| *c == column) {
            Some(index) => index,
            None => {
                out.push_str(&format!("{{{{ $c{} := list", declared.len()));
                for value in &column {
                    out.push(' ');
                    out.push_str(&go_string(value));
                }
                out.push_str(" }}");
                declared.push(column);
                declared.len() - 1
            }
        };
        vars.push(format!("$c{index}"));
    }
    match vars.first() {
        Some(first) => out.push_str(&format!("{{{{ range $i, $_ := {first} }}}}")),
        None => out.push_str(&format!("{{{{ range until {} }}}}", rows.len())),
    }
    out.push_str("{{ template \"");
    out.push_str(name);
    out.push_str("\" (list $ (list");
    for var in &vars {
        out.push_str(&format!(" (index {var} $i)"));
    }
    out.push_str(")) }}{{ end }}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Go's text/template writes for `pattern` filled with `row`.
    fn fill(pattern: &Pattern<'_>, row: &[&str]) -> String {
        pattern
            .pieces
            .iter()
            .map(|p| match p {
                Hole::Text(text) => (*text).to_owned(),
                Hole::Value(i) => row[*i].to_owned(),
            })
            .collect()
    }

    /// Go's `strconv.Unquote` for the escapes `go_string` writes (and a raw newline refused).
    fn go_unquote(literal: &str) -> Option<String> {
        let body = literal.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '\n' | '"' => return None,
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'a' => out.push('\u{7}'),
                    'v' => out.push('\u{b}'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    _ => return None,
                },
                c => out.push(c),
            }
        }
        Some(out)
    }

    fn doc(name: &str, region: &str, namespace: &str) -> String {
        format!(
            "---\nkind: \"ConfigMap\"\nmetadata:\n  name: \"cm-{name}\"\n  namespace: \"{NAMESPACE_SENTINEL}\"\n  \
             labels:\n    app.kubernetes.io/instance: \"{NAME_SENTINEL}\"\n    registry: \"{name}\"\n\
             data:\n  AWS_REGION: \"{region}\"\n  TARGET: \"{namespace}\"\n"
        )
    }

    #[test]
    fn a_run_of_one_kind_becomes_one_pattern_whose_rows_fill_back_every_document() {
        let texts = [
            doc("r0001", "eu-central-1", "team-01"),
            doc("r0002", "us-east-1", "team-01"),
            doc("a-longer-name", "us-east-1", "team-02"),
        ];
        let documents: Vec<&str> = texts.iter().map(String::as_str).collect();

        let (units, patterns) = factor_runs(&documents);

        assert_eq!(patterns.len(), 1);
        let [Unit::Rows { pattern: 0, rows }] = units.as_slice() else {
            panic!("one unit of rows: {units:?}");
        };
        for (text, row) in texts.iter().zip(rows) {
            assert_eq!(&fill(&patterns[0], row), text);
        }
        assert_eq!(
            rows[0],
            ["r0001", "eu-central", "01"],
            "the name hole is reused"
        );
        let text: String = patterns[0]
            .pieces
            .iter()
            .filter_map(|p| match p {
                Hole::Text(t) => Some(*t),
                Hole::Value(_) => None,
            })
            .collect();
        assert!(text.contains(NAME_SENTINEL) && text.contains(NAMESPACE_SENTINEL));
    }

    #[test]
    fn short_runs_other_shapes_and_sentinels_in_holes_stay_documents() {
        let texts = [
            doc("r1", "us-east-1", "a"),
            doc("r2", "us-east-1", "a"),
            "---\nkind: \"Role\"\n".to_owned(),
            doc("r3", "us-east-1", "a"),
            doc("r4", "us-east-1", NAME_SENTINEL),
            doc("r5", "us-east-1", "b"),
        ];
        let documents: Vec<&str> = texts.iter().map(String::as_str).collect();

        let (units, patterns) = factor_runs(&documents);

        assert!(patterns.is_empty());
        assert_eq!(
            units,
            documents
                .iter()
                .map(|d| Unit::Document(d))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn hostile_hole_values_read_back_from_their_go_literals_as_written() {
        let raw = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/hostile/strings/strings.json"
        ))
        .expect("hostile strings fixture");
        let fixture: serde_json::Value = serde_json::from_str(&raw).expect("fixture is JSON");
        let strings = fixture["strings"].as_array().expect("a strings list");
        assert!(strings.len() > 10);
        for entry in strings {
            let text = entry["text"].as_str().expect("text");
            for value in [text.to_owned(), format!("\"{text}\\\"{{{{ x }}}}")] {
                let literal = go_string(&value);
                assert!(!literal.contains('\n'), "{literal:?}");
                assert_eq!(go_unquote(&literal).as_deref(), Some(value.as_str()));
            }
        }
    }

    #[test]
    fn rows_are_cut_into_range_calls_of_bounded_size_in_order() {
        let value = "v".repeat(1000);
        let rows: Vec<Vec<&str>> = (0..1000).map(|_| vec![value.as_str()]).collect();

        let cut = chunks(rows.clone());

        assert!(cut.len() > 2);
        assert_eq!(cut.concat(), rows);
        for chunk in &cut {
            assert!(rows_call("p", chunk, &mut Vec::new()).len() < 2 * ROWS_BYTES);
        }
        let small: Vec<Vec<&str>> = (0..2500).map(|_| vec!["a"]).collect();
        assert_eq!(
            chunks(small).iter().map(Vec::len).collect::<Vec<_>>(),
            [CHUNK_ROWS, CHUNK_ROWS, 500]
        );
    }

    #[test]
    fn each_column_is_declared_once_per_file_and_the_range_reads_the_rows_from_them() {
        let mut declared = Vec::new();
        let first = rows_call("p", &[vec!["a", "b\"c"], vec!["d", ""]], &mut declared);
        let second = rows_call("q", &[vec!["x", "a"], vec!["y", "d"]], &mut declared);

        assert_eq!(
            first,
            "{{ $c0 := list \"a\" \"d\" }}{{ $c1 := list \"b\\\"c\" \"\" }}\
             {{ range $i, $_ := $c0 }}{{ template \"p\" (list $ (list (index $c0 $i) (index $c1 $i))) }}{{ end }}"
        );
        assert_eq!(
            second,
            "{{ $c2 := list \"x\" \"y\" }}\
             {{ range $i, $_ := $c2 }}{{ template \"q\" (list $ (list (index $c2 $i) (index $c0 $i))) }}{{ end }}"
        );
    }
}
