//! Problems with the values and how they are shown: one miette report per problem, with the
//! file, line, column and a caret under the spot, in a fixed layout (no colour, fixed width).

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents,
};

use super::Source;
use super::path::FieldPath;

/// A byte range in one source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

/// A span in one of the sources (by position in the list of sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    pub file: usize,
    pub span: Span,
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The values are refused.
    Error,
    /// Shown, but the values are used.
    Warning,
}

/// One problem with the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field the problem is about.
    pub path: FieldPath,
    /// Point at the key of the field rather than its value (unknown keys).
    pub on_key: bool,
    /// What is wrong, one sentence.
    pub message: String,
    /// A few words shown under the caret.
    pub label: String,
    /// What is allowed, and hints.
    pub help: Option<String>,
    /// Another field to mention with its location (the first of two duplicates).
    pub see: Option<FieldPath>,
    /// Where the problem is; found from `path` when not known up front.
    pub spot: Option<Spot>,
    /// An error, or a warning.
    pub severity: Severity,
    /// What the field is called where the values were not read from a file (`--region` for
    /// `onboard`'s arguments): such a problem is shown as one line naming it, with no spot.
    pub subject: Option<String>,
}

impl Problem {
    pub fn at_path(path: FieldPath, message: String, label: impl Into<String>) -> Self {
        Self {
            path,
            on_key: false,
            message,
            label: label.into(),
            help: None,
            see: None,
            spot: None,
            severity: Severity::Error,
            subject: None,
        }
    }

    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// Line starts of one source, to turn byte offsets into lines and cut snippets.
#[derive(Debug)]
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(n, _)| n + 1))
            .collect();
        Self { text, starts }
    }

    /// 0-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset) - 1
    }

    fn line_end(&self, line: usize) -> usize {
        self.starts
            .get(line + 1)
            .map_or(self.text.len(), |next| next - 1)
    }

    /// `file:line:column` of a byte offset (1-based, column in characters).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let column = self.text[self.starts[line]..offset].chars().count() + 1;
        (line + 1, column)
    }
}

/// The lines around one spot, standing in for the whole file so that rendering a report
/// costs the size of the snippet, not of the file. Its text is shown safely (control
/// characters escaped, long lines cut), so the column of the spot is kept apart.
#[derive(Debug)]
struct Window {
    text: String,
    first_line: usize,
    /// 0-based column, in characters of the file, of the spot.
    column: usize,
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            self.column,
            inner.line_count(),
        )))
    }
}

/// Characters of a line shown in a snippet at most; longer lines are cut around the spot.
const MAX_SHOWN_LINE: usize = 160;
/// Characters shown before the spot when a long line is cut.
const SHOWN_BEFORE_SPOT: usize = 40;

/// Text from the values as it is safe to show on a terminal: control characters (C0 but tab
/// and newline, DEL, C1), line and paragraph separators and bidirectional overrides written as
/// `\u{…}` escapes.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(unsafe_to_show) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_shown(&mut out, c);
    }
    std::borrow::Cow::Owned(out)
}

fn unsafe_to_show(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn push_shown(out: &mut String, c: char) {
    if unsafe_to_show(c) {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    } else {
        out.push(c);
    }
}

/// One line of a snippet as shown, and where the byte range `spot` (in the line) is in it.
fn shown_line(line: &str, spot: Option<(usize, usize)>) -> (String, Option<(usize, usize)>) {
    let count = line.chars().count();
    let (from, to) = if count <= MAX_SHOWN_LINE {
        (0, count)
    } else {
        let at = spot.map_or(0, |(start, _)| line[..start].chars().count());
        let from = at.saturating_sub(SHOWN_BEFORE_SPOT);
        (from, (from + MAX_SHOWN_LINE).min(count))
    };
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let (mut start, mut end) = (None, None);
    for (n, (byte, c)) in line.char_indices().enumerate().skip(from).take(to - from) {
        if let Some((s, e)) = spot {
            if byte >= s && start.is_none() {
                start = Some(out.len());
            }
            if byte >= e && end.is_none() {
                end = Some(out.len());
            }
        }
        // A carriage return before the newline is the file's line ending, not content.
        if c == '\r' && n + 1 == count {
            continue;
        }
        push_shown(&mut out, c);
    }
    let mapped = spot.map(|_| {
        let start = start.unwrap_or(out.len());
        (start, end.unwrap_or(out.len()).max(start))
    });
    if to < count {
        out.push('…');
    }
    (out, mapped)
}

/// One problem, ready for miette.
#[derive(Debug)]
struct Shown {
    message: String,
    help: Option<String>,
    label: String,
    span: SourceSpan,
    source: NamedSource<Window>,
    severity: Severity,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown {}

impl Diagnostic for Shown {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.label.clone()), self.span),
        )))
    }
}

/// Lines of context shown above and below the spot.
const CONTEXT_LINES: usize = 1;
/// Width the reports are wrapped to, whatever the terminal.
const WIDTH: usize = 100;

/// Render located problems (every `spot` set), in the order given, and count them; problems
/// with a `subject` (no file behind them) as lines naming it.
pub fn render(sources: &[Source], problems: &[Problem]) -> String {
    let count = problems.len();
    let (mut out, what) = if sources.is_empty() {
        (render_subjects(problems), "the arguments")
    } else {
        (render_each(sources, problems), "the values")
    };
    out.push_str(&format!(
        "found {count} problem{} in {what}\n",
        if count == 1 { "" } else { "s" }
    ));
    out
}

/// Problems of values that were not read from a file: `<subject>: <message>`, then the label
/// and the help, indented.
pub fn render_subjects(problems: &[Problem]) -> String {
    let mut out = String::new();
    for problem in problems {
        let subject = problem
            .subject
            .clone()
            .unwrap_or_else(|| problem.path.to_string());
        let message = escape_controls(&problem.message).replace('\n', "\\n");
        out.push_str(&format!("{}: {message}\n", escape_controls(&subject)));
        if !problem.label.is_empty() {
            out.push_str(&format!("  {}\n", escape_controls(&problem.label)));
        }
        for line in problem.help.iter().flat_map(|h| h.lines()) {
            out.push_str(&format!("  {}\n", escape_controls(line)));
        }
    }
    out
}

/// Render located warnings, in the order given, and count them.
pub fn render_warnings(sources: &[Source], warnings: &[Problem]) -> String {
    if sources.is_empty() {
        return render_subjects(warnings);
    }
    let count = warnings.len();
    let mut out = render_each(sources, warnings);
    out.push_str(&format!(
        "{count} warning{} about the values; they are used as they are\n",
        if count == 1 { "" } else { "s" }
    ));
    out
}

fn render_each(sources: &[Source], problems: &[Problem]) -> String {
    let lines: Vec<Lines<'_>> = sources.iter().map(|s| Lines::new(&s.text)).collect();
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(WIDTH)
        .with_context_lines(CONTEXT_LINES)
        .with_links(false)
        // Break lines at spaces only, never inside `ecr-registry-helper-<name>` or a path.
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_break_words(false);
    let mut out = String::new();
    for problem in problems {
        let spot = problem.spot.unwrap_or(Spot {
            file: 0,
            span: Span { offset: 0, len: 0 },
        });
        let (Some(source), Some(lines)) = (sources.get(spot.file), lines.get(spot.file)) else {
            continue;
        };
        let shown = shown(source, lines, problem, spot.span);
        if handler.render_report(&mut out, &shown).is_err() {
            // Rendering into a String cannot fail; keep the message if it somehow does.
            out.push_str(&shown.message);
            out.push('\n');
        }
    }
    out
}

fn shown(source: &Source, lines: &Lines<'_>, problem: &Problem, span: Span) -> Shown {
    let text = &source.text;
    let offset = span.offset.min(text.len());
    let line = lines.line_of(offset);
    let line_end = lines.line_end(line);
    // One line of the value at most, and at least one character when there is one.
    let mut len = span.len.min(line_end - offset);
    if len == 0 && offset < line_end {
        len = text[offset..].chars().next().map_or(0, char::len_utf8);
    }
    let first = line.saturating_sub(CONTEXT_LINES);
    let last = (line + CONTEXT_LINES).min(lines.starts.len() - 1);
    let mut window = String::new();
    let mut shown_span = (0, 0);
    for n in first..=last {
        let (start, end) = (lines.starts[n], lines.line_end(n));
        let spot = (n == line).then(|| (offset - start, offset + len - start));
        let (text, mapped) = shown_line(&text[start..end], spot);
        if let Some((s, e)) = mapped {
            shown_span = (window.len() + s, e - s);
        }
        window.push_str(&text);
        if n < last {
            window.push('\n');
        }
    }
    let window = Window {
        text: window,
        first_line: first,
        column: lines.position(offset).1 - 1,
    };
    let message = if problem.path.is_root() {
        problem.message.clone()
    } else {
        format!("{}: {}", problem.path, problem.message)
    };
    Shown {
        message: escape_controls(&message).replace('\n', "\\n"),
        help: problem
            .help
            .as_deref()
            .map(|h| escape_controls(h).into_owned()),
        label: escape_controls(&problem.label).replace('\n', "\\n"),
        span: SourceSpan::new(shown_span.0.into(), shown_span.1),
        source: NamedSource::new(escape_controls(&source.name).replace('\n', "\\n"), window),
        severity: problem.severity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_show_file_line_column_path_and_a_caret() {
        let sources = [Source {
            name: "values.yaml".to_owned(),
            text: "a: 1\nb:\n  c: nope\nd: 4\ne: 5\n".to_owned(),
        }];
        let problem = Problem {
            spot: Some(Spot {
                file: 0,
                span: Span { offset: 13, len: 4 },
            }),
            ..Problem::at_path(
                FieldPath::root().key("b").key("c"),
                "expected a number, found the string `nope`".to_owned(),
                "not a number",
            )
            .with_help(Some("allowed: a number".to_owned()))
        };
        let out = render(&sources, &[problem]);
        assert!(out.contains("b.c: expected a number"), "{out}");
        assert!(out.contains("[values.yaml:3:6]"), "{out}");
        assert!(out.contains(" 3 │   c: nope"), "{out}");
        assert!(!out.contains("a: 1"), "context is one line: {out}");
        assert!(out.contains("help: allowed: a number"), "{out}");
        assert!(out.ends_with("found 1 problem in the values\n"), "{out}");
    }

    #[test]
    fn positions_count_characters() {
        let lines = Lines::new("é: x\nab: y\n");
        assert_eq!(lines.position(4), (1, 4));
        assert_eq!(lines.position(7), (2, 2));
    }
}
