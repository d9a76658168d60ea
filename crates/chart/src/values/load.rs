//! Loading: every `serde_yaml` call of the crate, YAML → JSON values, and the per-file index
//! from field path to the spot in the file that sets it.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::helm_yaml::{HelmReads, helm_reads};
use super::path::FieldPath;
use super::report::{Problem, Span, Spot};

/// Where a field is written in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The key of the field (absent for list items and the document itself).
    pub key: Option<Span>,
    /// The value of the field (for a mapping or list: its first character).
    pub value: Span,
    /// 1-based line of the value.
    pub line: usize,
    /// 1-based column (in characters) of the value.
    pub column: usize,
    /// What the file holds there; a mapping deep-merges with earlier files, anything else
    /// replaces what they set.
    pub kind: NodeKind,
    /// The value is a plain scalar (no quotes, no tag, not a block scalar).
    pub plain: bool,
    /// The key is a plain scalar.
    pub key_plain: bool,
}

/// The kind of YAML node at a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Mapping,
    Sequence,
    Scalar,
    Alias,
}

/// Field path → location, for one file.
pub type PathIndex = HashMap<FieldPath, Location>;

/// One parsed values file.
#[derive(Debug)]
pub struct Document {
    /// The file's values as JSON (a mapping; an empty file is an empty mapping).
    pub value: serde_json::Value,
    /// Problems of single values that do not stop the check (a NaN, a scalar Helm reads
    /// differently, two keys that become one): located, and reported with what the schema
    /// and rules find in the rest.
    pub problems: Vec<Problem>,
}

/// What converting YAML to JSON found.
#[derive(Debug, Default)]
struct Found {
    problems: Vec<Problem>,
    /// Strings (values, or keys when `on_key`) that Helm reads as something else when they
    /// are written plain: confirmed against the text's scalar styles.
    suspects: Vec<(FieldPath, bool, String, HelmReads)>,
    /// Mappings with a key that is null or a plain number other than an integer (`~`, `1e3`,
    /// `.5`): Helm cannot read a null key and writes a float key its own way (`1000`, `0.5`),
    /// so such a key is refused where it is written.
    odd_keys: Vec<FieldPath>,
}

/// Parse one source into JSON values. A syntax error, or a file that is not a mapping, stops
/// the check of the file (`Err`); other problems come with the document. Problems carry their
/// spot. The path index, a second parse, is built only when there is something to locate or
/// a scalar to look at ([`index`]).
pub fn parse(file: usize, text: &str) -> Result<Document, Vec<Problem>> {
    // An integer too large for serde_yaml stops its parse: note it, stand a quoted string of
    // the same length in for it, and parse again, so the other problems are still found.
    let mut patched = std::borrow::Cow::Borrowed(text);
    let mut too_large: Vec<Span> = Vec::new();
    let mut yaml: serde_yaml::Value = loop {
        match serde_yaml::from_str(&patched) {
            Ok(value) => break value,
            Err(error) => match too_large_integer(&patched, &error) {
                Some(span) if too_large.len() < MAX_TOO_LARGE => {
                    let placeholder = format!("\"{}\"", "x".repeat(span.len - 2));
                    patched
                        .to_mut()
                        .replace_range(span.offset..span.offset + span.len, &placeholder);
                    too_large.push(span);
                }
                _ => return Err(vec![syntax_problem(file, text, &error)]),
            },
        }
    };
    if let Err(error) = yaml.apply_merge() {
        let mut problem = syntax_problem(file, text, &error);
        problem.message = format!("invalid YAML merge key `<<`: {}", problem.message);
        return Err(vec![problem]);
    }
    let mut found = Found::default();
    if !too_large.is_empty() {
        let index = index(text);
        for span in too_large {
            let path = index
                .iter()
                .find(|(_, l)| l.value.offset == span.offset)
                .map_or_else(FieldPath::root, |(path, _)| path.clone());
            found.problems.push(Problem {
                spot: Some(Spot { file, span }),
                ..Problem::at_path(
                    path,
                    format!(
                        "the integer {} is too large to be read exactly (Helm reads it as a rounded float)",
                        quote(&text[span.offset..span.offset + span.len])
                    ),
                    "too large",
                )
                .with_help(Some(
                    "write a number of at most 19 digits; the field's limits say what is allowed"
                        .to_owned(),
                ))
            });
        }
    }
    let value = match to_json(yaml, &FieldPath::root(), &mut found) {
        serde_json::Value::Null => serde_json::Value::Object(serde_json::Map::new()),
        value => value,
    };
    let mut fatal = false;
    if !value.is_object() {
        fatal = true;
        found.problems.push(Problem::at_path(
            FieldPath::root(),
            format!(
                "the values must be a mapping of keys, found {}",
                describe(&value)
            ),
            "expected `key: value` lines here",
        ));
    }
    // Problems found while converting have no spot yet: point them into this file.
    let (index, tagged) = if found.problems.is_empty()
        && found.suspects.is_empty()
        && found.odd_keys.is_empty()
        && !text.contains('!')
    {
        (PathIndex::default(), Vec::new())
    } else {
        let builder = index_builder(text);
        (builder.index, builder.tagged)
    };
    for (path, span, tag) in tagged {
        found.problems.push(Problem {
            spot: Some(Spot { file, span }),
            ..Problem::at_path(
                path,
                format!(
                    "the tag {} is not allowed: Helm reads tagged values in its own way",
                    quote(&tag)
                ),
                "a tagged value",
            )
            .with_help(Some(
                "remove the tag and write the value itself (`!!str` is the one tag allowed)"
                    .to_owned(),
            ))
        });
    }
    for parent in std::mem::take(&mut found.odd_keys) {
        for (path, location) in &index {
            let Some(key) = path.last_key() else { continue };
            if location.key_plain && path.parent() == parent {
                let helm = helm_reads(key);
                if matches!(helm, HelmReads::Float(_) | HelmReads::Null) {
                    found
                        .suspects
                        .push((path.clone(), true, key.to_owned(), helm));
                }
            }
        }
    }
    for (path, on_key, text, helm) in std::mem::take(&mut found.suspects) {
        let plain = index
            .get(&path)
            .is_some_and(|l| if on_key { l.key_plain } else { l.plain });
        if plain {
            found
                .problems
                .push(read_differently(path, on_key, &text, helm));
        }
    }
    let mut problems = found.problems;
    for problem in &mut problems {
        if problem.spot.is_none() {
            problem.spot = Some(spot_in(file, &index, &problem.path, problem.on_key));
        }
    }
    if fatal {
        Err(problems)
    } else {
        Ok(Document { value, problems })
    }
}

/// How many too-large integers are stood in for before the parse gives up.
const MAX_TOO_LARGE: usize = 20;

/// The spot of the integer serde_yaml cannot hold (`invalid type: integer `N` as u128`), when
/// that is the error.
fn too_large_integer(text: &str, error: &serde_yaml::Error) -> Option<Span> {
    let message = error.to_string();
    let (_, rest) = message.split_once("invalid type: integer `")?;
    let (digits, _) = rest.split_once('`')?;
    let location = error.location()?;
    let offset = byte_offset_of(text, location.line(), location.column());
    (digits.len() >= 2 && text[offset..].starts_with(digits)).then_some(Span {
        offset,
        len: digits.len(),
    })
}

/// A plain scalar that Helm (YAML 1.1 rules) reads as another value than we do.
fn read_differently(path: FieldPath, on_key: bool, text: &str, helm: HelmReads) -> Problem {
    let what = if on_key { "key" } else { "value" };
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    let help = match helm {
        _ if on_key => format!("quote it (`{quoted}`)"),
        HelmReads::Bool(b) => format!(
            "quote it (`{quoted}`) if you mean the text; write `{b}` if you mean the boolean"
        ),
        HelmReads::Null => {
            format!("quote it (`{quoted}`) if you mean the text; write `null` for null")
        }
        _ => format!(
            "quote it (`{quoted}`) if you mean the text; write the number in decimal without `_` or a leading `0`"
        ),
    };
    Problem {
        on_key,
        ..Problem::at_path(
            path,
            format!(
                "the plain {what} {} is {} for Helm, which reads values with YAML 1.1 rules",
                quote(text),
                helm.describe()
            ),
            "Helm reads this differently",
        )
        .with_help(Some(help))
    }
}

/// The best spot for `path` in one file: the path itself, or else its nearest indexed parent.
pub fn spot_in(file: usize, index: &PathIndex, path: &FieldPath, on_key: bool) -> Spot {
    let found = path.prefixes().rev().find_map(|prefix| {
        index
            .get(&prefix)
            .map(|location| (prefix == *path, location))
    });
    match found {
        Some((exact, location)) => {
            let span = match location.key {
                Some(key) if on_key && exact => key,
                _ => location.value,
            };
            Spot { file, span }
        }
        None => Spot {
            file,
            span: Span { offset: 0, len: 0 },
        },
    }
}

fn syntax_problem(file: usize, text: &str, error: &serde_yaml::Error) -> Problem {
    let full = error.to_string();
    if let Some(span) = duplicate_key(text, &full) {
        let key = &text[span.offset..span.offset + span.len];
        return Problem {
            spot: Some(Spot { file, span }),
            ..Problem::at_path(
                FieldPath::root(),
                format!(
                    "invalid YAML: the key {} appears twice in one mapping",
                    quote(key)
                ),
                "the second one is here",
            )
            .with_help(Some("keep one of the two keys".to_owned()))
        };
    }
    // The reader's own errors (a control character) say `at position N`, N in characters,
    // and their location is the start of the file.
    let position = full
        .rsplit_once(" at position ")
        .and_then(|(_, n)| n.parse::<usize>().ok())
        .map(|n| text.char_indices().nth(n).map_or(text.len(), |(b, _)| b));
    let offset = position
        .or_else(|| {
            error
                .location()
                .map(|l| byte_offset_of(text, l.line(), l.column()))
        })
        .unwrap_or(0);
    let full = match full.rsplit_once(" at position ") {
        Some((problem, _)) if position.is_some() => problem.to_owned(),
        _ => full,
    };
    let message = syntax_message(&full);
    let len = usize::from(offset < text.len());
    let label = if text[offset..].starts_with('\t') {
        "a tab: YAML is indented with spaces only"
    } else if text[offset..].starts_with(|c: char| c.is_control()) {
        "a control character: write it as an escape (`\\u001b`) in a double-quoted string"
    } else {
        "the YAML parser stopped here"
    };
    Problem {
        spot: Some(Spot {
            file,
            span: Span { offset, len },
        }),
        ..Problem::at_path(FieldPath::root(), format!("invalid YAML: {message}"), label)
    }
}

/// serde_yaml says `<problem> at line L column C, while parsing <what> at line L column C`;
/// the report shows the first location itself, so keep the problem and what it was parsing.
fn syntax_message(full: &str) -> String {
    let Some((problem, rest)) = full.split_once(" at line ") else {
        return full.to_owned();
    };
    match rest.split_once(", ") {
        Some((_, context)) => format!(
            "{problem} ({})",
            context.replacen(" at line ", " that starts at line ", 1)
        ),
        None => problem.to_owned(),
    }
}

/// Byte offset of a 1-based line and 1-based column (in characters).
fn byte_offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for _ in 1..line {
        match text[offset..].find('\n') {
            Some(n) => offset += n + 1,
            None => return text.len(),
        }
    }
    let rest = &text[offset..];
    offset
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(n, _)| n)
}

/// A short description of a value for messages: scalars quoted (and cut), containers by kind.
pub fn describe(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null".to_owned(),
        serde_json::Value::Bool(b) => format!("the boolean `{b}`"),
        serde_json::Value::Number(n) => format!("the number `{n}`"),
        serde_json::Value::String(s) => format!("the string {}", quote(s)),
        serde_json::Value::Array(_) => "a list".to_owned(),
        serde_json::Value::Object(_) => "a mapping".to_owned(),
    }
}

/// A string as shown in messages: in backticks, at most 60 characters.
pub fn quote(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("`{cut}…`")
    } else {
        format!("`{s}`")
    }
}

fn to_json(value: serde_yaml::Value, path: &FieldPath, found: &mut Found) -> serde_json::Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => serde_json::Value::Null,
        Y::Bool(b) => serde_json::Value::Bool(b),
        Y::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into()
            } else if let Some(i) = n.as_i64() {
                i.into()
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f).map_or_else(
                    || {
                        found.problems.push(Problem::at_path(
                            path.clone(),
                            format!("`{n}` is not a finite number"),
                            "infinity and NaN are not allowed",
                        ));
                        // Stands in for the value so the rest is still checked.
                        serde_json::Value::String(n.to_string())
                    },
                    serde_json::Value::Number,
                )
            }
        }
        Y::String(s) => {
            let helm = helm_reads(&s);
            if helm != HelmReads::Str {
                found.suspects.push((path.clone(), false, s.clone(), helm));
            }
            serde_json::Value::String(s)
        }
        Y::Sequence(items) => items
            .into_iter()
            .enumerate()
            .map(|(n, item)| to_json(item, &path.index(n), found))
            .collect(),
        Y::Mapping(mapping) => {
            let mut object = serde_json::Map::new();
            for (key, item) in mapping {
                let key = match key {
                    Y::String(s) => {
                        let helm = helm_reads(&s);
                        if helm != HelmReads::Str {
                            found.suspects.push((path.key(&s), true, s.clone(), helm));
                        }
                        s
                    }
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => {
                        if !(n.is_i64() || n.is_u64()) {
                            found.odd_keys.push(path.clone());
                        }
                        n.to_string()
                    }
                    Y::Null => {
                        found.odd_keys.push(path.clone());
                        "null".to_owned()
                    }
                    Y::Sequence(_) | Y::Mapping(_) | Y::Tagged(_) => {
                        found.problems.push(Problem::at_path(
                            path.clone(),
                            "a mapping key must be a plain value, not a list or mapping".to_owned(),
                            "this mapping has a complex key",
                        ));
                        continue;
                    }
                };
                let item = to_json(item, &path.key(&key), found);
                if object.contains_key(&key) {
                    found.problems.push(Problem {
                        on_key: true,
                        ..Problem::at_path(
                            path.key(&key),
                            format!(
                                "two keys of this mapping are both {} once read (as Helm and JSON read keys, `1` is `\"1\"` and `true` is `\"true\"`)",
                                quote(&key)
                            ),
                            "this key repeats an earlier one",
                        )
                        .with_help(Some("keep one of the two keys".to_owned()))
                    });
                }
                object.insert(key, item);
            }
            serde_json::Value::Object(object)
        }
        // Tags are refused from the text's index (`parse`); keep the tagged value meanwhile.
        Y::Tagged(tagged) => to_json(tagged.value, path, found),
    }
}

/// Build the path index of a YAML text. If the text does not parse, the index holds what was
/// seen before the error (serde_yaml reports the error itself).
pub fn index(text: &str) -> PathIndex {
    index_builder(text).index
}

fn index_builder(text: &str) -> IndexBuilder<'_> {
    let mut builder = IndexBuilder {
        text,
        bytes: ByteCursor::default(),
        stack: Vec::new(),
        index: PathIndex::new(),
        skip_depth: 0,
        duplicates: Vec::new(),
        tagged: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    // On a syntax error the partial index is still useful.
    let _ = parser.load(&mut builder, false);
    builder
}

/// The key that repeats an earlier one, for serde_yaml's `duplicate entry with key "k"`
/// (which it reports where the mapping starts): the first repeated key written `k`.
fn duplicate_key(text: &str, message: &str) -> Option<Span> {
    let (_, rest) = message.split_once("duplicate entry with key ")?;
    let key = rest.split(" at line ").next()?;
    let key: String = serde_json::from_str(key).unwrap_or_else(|_| key.to_owned());
    index_builder(text).duplicates.into_iter().find(|span| {
        let written = &text[span.offset..span.offset + span.len];
        written == key || written.trim_matches(['"', '\'']) == key
    })
}

/// Converts the parser's character indices to byte offsets, moving forward in one pass.
#[derive(Debug, Default)]
struct ByteCursor {
    chars: usize,
    bytes: usize,
}

impl ByteCursor {
    /// The parser's marks go mostly forward (a block mapping is marked after its first key,
    /// so sometimes a little back): step from the last position either way, never from the
    /// start, so the whole pass stays linear.
    fn byte_offset(&mut self, text: &str, char_index: usize) -> usize {
        if char_index >= self.chars {
            let rest = &text[self.bytes..];
            let advance = rest
                .char_indices()
                .nth(char_index - self.chars)
                .map_or(rest.len(), |(n, _)| n);
            self.bytes += advance;
        } else {
            let back = self.chars - char_index;
            self.bytes = text[..self.bytes]
                .char_indices()
                .rev()
                .nth(back - 1)
                .map_or(0, |(n, _)| n);
        }
        self.chars = char_index;
        self.bytes
    }
}

#[derive(Debug)]
enum Frame {
    Mapping {
        path: FieldPath,
        /// The key just read, where it is and whether it is plain, waiting for its value.
        key: Option<(String, Span, bool)>,
        /// A complex key (a mapping or list used as key) is being skipped; skip its value too.
        skip_value: bool,
        /// No key read yet: the parser marks a block mapping after its first key, so the
        /// mapping's location is moved to that key when it comes.
        first: bool,
    },
    Sequence {
        path: FieldPath,
        next: usize,
    },
}

struct IndexBuilder<'t> {
    text: &'t str,
    bytes: ByteCursor,
    stack: Vec<Frame>,
    index: PathIndex,
    /// Depth inside a complex key (or the value of one) being skipped.
    skip_depth: usize,
    /// Keys that repeat an earlier key of their mapping, in the order met.
    duplicates: Vec<Span>,
    /// Values with a tag other than `!!str`: their path, spot and tag.
    tagged: Vec<(FieldPath, Span, String)>,
}

impl IndexBuilder<'_> {
    fn span_of_scalar(&self, offset: usize, value: &str, style: TScalarStyle) -> Span {
        let rest = &self.text[offset.min(self.text.len())..];
        let line = rest.split('\n').next().unwrap_or("");
        let len = match style {
            TScalarStyle::Plain if rest.starts_with(value) => value.len(),
            TScalarStyle::Plain => line.find(" #").unwrap_or(line.len()),
            TScalarStyle::SingleQuoted => closing_quote(line, '\''),
            TScalarStyle::DoubleQuoted => closing_quote(line, '"'),
            TScalarStyle::Literal | TScalarStyle::Folded => 1,
        };
        Span {
            offset,
            len: len.min(line.trim_end().len()),
        }
    }

    /// A node starts: record it under the path it is the value of (or take it as a key).
    /// `plain`: a scalar with neither quotes nor a tag.
    fn node(
        &mut self,
        kind: NodeKind,
        mark: Marker,
        scalar: Option<(&str, TScalarStyle)>,
        plain: bool,
        tag: Option<String>,
    ) {
        let offset = self.bytes.byte_offset(self.text, mark.index());
        let container = matches!(kind, NodeKind::Mapping | NodeKind::Sequence);
        if self.skip_depth > 0 {
            if container {
                self.skip_depth += 1;
            }
            return;
        }
        let span = match scalar {
            Some((value, style)) => self.span_of_scalar(offset, value, style),
            None => Span {
                offset,
                len: usize::from(offset < self.text.len()),
            },
        };
        let (path, key) = match self.stack.last_mut() {
            None => (FieldPath::root(), None),
            Some(Frame::Sequence { path, next }) => {
                *next += 1;
                (path.index(*next - 1), None)
            }
            Some(Frame::Mapping {
                path,
                key,
                skip_value,
                first,
            }) => match key.take() {
                None if *skip_value => {
                    *skip_value = false;
                    if container {
                        self.skip_depth = 1;
                    }
                    return;
                }
                None => {
                    if std::mem::take(first)
                        && let Some(location) = self.index.get_mut(path)
                    {
                        location.value = span;
                        location.line = mark.line();
                        location.column = mark.col() + 1;
                    }
                    match scalar {
                        Some((value, _)) => *key = Some((value.to_owned(), span, plain)),
                        None => {
                            // A complex key: neither it nor its value can be indexed.
                            *skip_value = true;
                            if container {
                                self.skip_depth = 1;
                            }
                        }
                    }
                    return;
                }
                Some((name, key_span, key_plain)) => (path.key(&name), Some((key_span, key_plain))),
            },
        };
        let location = Location {
            key: key.map(|(span, _)| span),
            value: span,
            line: mark.line(),
            column: mark.col() + 1,
            kind,
            plain,
            key_plain: key.is_some_and(|(_, plain)| plain),
        };
        if let Some(tag) = tag {
            self.tagged.push((path.clone(), span, tag));
        }
        let previous = self.index.insert(path.clone(), location);
        if let (Some(_), Some(key_span)) = (previous, location.key) {
            self.duplicates.push(key_span);
        }
        match kind {
            NodeKind::Mapping => self.stack.push(Frame::Mapping {
                path,
                key: None,
                skip_value: false,
                first: true,
            }),
            NodeKind::Sequence => self.stack.push(Frame::Sequence { path, next: 0 }),
            NodeKind::Scalar | NodeKind::Alias => {}
        }
    }
}

/// Length of a quoted scalar on its first line, quotes included (to the line end if it spans lines).
fn closing_quote(line: &str, quote: char) -> usize {
    let mut chars = line.char_indices().skip(1).peekable();
    while let Some((n, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            if quote == '\'' && chars.peek().is_some_and(|&(_, next)| next == '\'') {
                chars.next();
            } else {
                return n + 1;
            }
        }
    }
    line.len()
}

/// A tag other than `!!str`, as written (`!!binary`, `!custom`).
fn refused_tag(tag: Option<&yaml_rust2::parser::Tag>) -> Option<String> {
    let tag = tag?;
    let core = tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:";
    match (core, tag.suffix.as_str()) {
        (true, "str") => None,
        (true, suffix) => Some(format!("!!{suffix}")),
        (false, suffix) => Some(format!("{}{suffix}", tag.handle)),
    }
}

impl MarkedEventReceiver for IndexBuilder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, style, _, tag) => {
                let plain = style == TScalarStyle::Plain && tag.is_none();
                let tag = refused_tag(tag.as_ref());
                self.node(NodeKind::Scalar, mark, Some((&value, style)), plain, tag);
            }
            Event::Alias(_) => self.node(NodeKind::Alias, mark, None, false, None),
            Event::MappingStart(_, tag) => {
                let tag = refused_tag(tag.as_ref());
                self.node(NodeKind::Mapping, mark, None, false, tag);
            }
            Event::SequenceStart(_, tag) => {
                let tag = refused_tag(tag.as_ref());
                self.node(NodeKind::Sequence, mark, None, false, tag);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if self.skip_depth > 0 {
                    self.skip_depth -= 1;
                } else {
                    self.stack.pop();
                }
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

/// Deserialize validated values into the typed model. Any error here means validation missed
/// something; it is still reported with the field's path.
pub fn to_typed<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, (FieldPath, String)> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut path = FieldPath::root();
        for segment in error.path().iter() {
            path = match segment {
                serde_path_to_error::Segment::Seq { index } => path.index(*index),
                serde_path_to_error::Segment::Map { key } => path.key(key),
                serde_path_to_error::Segment::Enum { variant } => path.key(variant),
                serde_path_to_error::Segment::Unknown => path,
            };
        }
        (path, error.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'i>(index: &'i PathIndex, path: &str) -> &'i Location {
        index
            .iter()
            .find(|(p, _)| p.to_string() == path)
            .map(|(_, l)| l)
            .unwrap_or_else(|| panic!("{path} not indexed"))
    }

    const TEXT: &str = "\
image:
  tag: \"1.2\"   # pinned
ecrRegistries:
  - name: primary
    region: eu-central-1
  - name: 'sécond'
    schedule: 0 */10 * * *
nodeSelector: {kubernetes.io/os: linux}
";

    #[test]
    fn index_points_at_each_key_and_value() {
        let index = index(TEXT);
        let schedule = at(&index, "ecrRegistries[1].schedule");
        assert_eq!((schedule.line, schedule.column), (7, 15));
        assert_eq!(
            &TEXT[schedule.value.offset..schedule.value.offset + schedule.value.len],
            "0 */10 * * *"
        );
        let key = schedule.key.expect("key span");
        assert_eq!(&TEXT[key.offset..key.offset + key.len], "schedule");
        let tag = at(&index, "image.tag");
        assert_eq!(
            &TEXT[tag.value.offset..tag.value.offset + tag.value.len],
            "\"1.2\""
        );
        let name = at(&index, "ecrRegistries[1].name");
        assert_eq!(
            &TEXT[name.value.offset..name.value.offset + name.value.len],
            "'sécond'"
        );
        assert_eq!(at(&index, "ecrRegistries").kind, NodeKind::Sequence);
        assert_eq!(at(&index, "ecrRegistries[0]").kind, NodeKind::Mapping);
        let os = at(&index, r#"nodeSelector["kubernetes.io/os"]"#);
        assert_eq!(
            &TEXT[os.value.offset..os.value.offset + os.value.len],
            "linux"
        );
    }

    #[test]
    fn byte_offsets_survive_multibyte_characters() {
        let text = "a: 'ü'\nb: x\n";
        let index = index(text);
        let b = at(&index, "b");
        assert_eq!(&text[b.value.offset..b.value.offset + b.value.len], "x");
        assert_eq!((b.line, b.column), (2, 4));
    }

    #[test]
    fn complex_keys_are_skipped_without_losing_the_rest() {
        let text = "? [a, b]\n: {c: 1}\nd: 2\n";
        let index = index(text);
        assert_eq!(at(&index, "d").line, 3);
        assert_eq!(index.len(), 2, "{index:?}");
    }

    #[test]
    fn syntax_errors_keep_line_and_column() {
        let text = "a: 1\nb: [1, 2\nc: 3\n";
        let problems = parse(0, text).expect_err("broken YAML");
        assert_eq!(problems.len(), 1);
        let spot = problems[0].spot.expect("spot");
        assert!(spot.span.offset > 5, "{spot:?}");
        assert!(problems[0].message.starts_with("invalid YAML: "));
        // The report shows where the parser stopped; the message keeps where the list began.
        assert!(
            problems[0]
                .message
                .ends_with("that starts at line 2 column 4)"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn empty_files_are_empty_mappings_and_lists_at_the_top_are_refused() {
        assert_eq!(parse(0, "").expect("empty").value, serde_json::json!({}));
        assert_eq!(
            parse(0, "# only\n").expect("comment").value,
            serde_json::json!({})
        );
        let problems = parse(0, "- a\n").expect_err("a list");
        assert!(problems[0].message.contains("must be a mapping"));
    }

    #[test]
    fn merge_keys_and_tags_are_resolved() {
        let text = "base: &b {x: 1}\nmore:\n  <<: *b\n  y: !!str 2\n";
        let value = parse(0, text).expect("merge").value;
        assert_eq!(value["more"], serde_json::json!({"x": 1, "y": "2"}));
    }
}
