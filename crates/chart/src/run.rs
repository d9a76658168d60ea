//! What each command does: read values, validate, render, write — I/O at this edge only.

use std::io::{Read, Write};
use std::path::Path;

use ecr_contract::rules;

use crate::cli::{Cli, Command, OnboardArgs, ReleaseArgs, ValuesArgs};
use crate::onboard::onboard;
use crate::render::{Release, Renderer};
use crate::values::{self, Source, Values};
use crate::{Error, chart};

/// The embedded default values, rendered when no `-f` is given.
pub const EXAMPLE_VALUES: &str = include_str!("../../../values.example.yaml");

/// Run one command, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Error> {
    match cli.command {
        Command::Render { values, release } => {
            let release = check_release(release)?;
            let values = load(&values)?;
            let text = Renderer::new(&values, &release).manifests(&values)?;
            out.write_all(text.as_bytes()).map_err(Error::Output)
        }
        Command::Chart { values, output } => {
            let sources = sources(&values)?;
            let loaded = values::load_checked(&sources)?;
            warn(&loaded.warnings);
            let files = chart::chart_files(&loaded, &sources)?;
            chart::write_chart(&output, &files)?;
            writeln!(
                out,
                "wrote chart {} ({} files)",
                output.display(),
                files.len()
            )
            .map_err(Error::Output)
        }
        Command::Validate { values } => load(&values).map(drop),
        Command::Onboard(args) => {
            let OnboardArgs { registry, values } = *args;
            let existing = if values.files.is_empty() {
                Values::default()
            } else {
                load(&ValuesArgs {
                    files: values.files,
                })?
            };
            let onboarding = onboard(&registry, &existing)?;
            warn(&onboarding.warnings);
            out.write_all(onboarding.text.as_bytes())
                .map_err(Error::Output)
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&values::schema())
                .expect("a serde_json::Value always serialises");
            writeln!(out, "{schema}").map_err(Error::Output)
        }
    }
}

/// Load and check the values; warnings go to stderr, never to the output.
fn load(args: &ValuesArgs) -> Result<Values, Error> {
    let loaded = values::load_checked(&sources(args)?)?;
    warn(&loaded.warnings);
    Ok(loaded.values)
}

/// Print warnings about the values (rendered with their file, line and caret) to stderr. A
/// stderr that cannot be written (closed, full) loses them but changes nothing else.
fn warn(warnings: &values::Warnings) {
    if !warnings.is_empty() {
        let _ = write!(std::io::stderr().lock(), "{warnings}");
    }
}

/// Read every `-f` file (or the embedded example) before anything is validated.
fn sources(args: &ValuesArgs) -> Result<Vec<Source>, Error> {
    if args.files.is_empty() {
        return Ok(vec![Source {
            name: "values.example.yaml".to_owned(),
            text: EXAMPLE_VALUES.to_owned(),
        }]);
    }
    args.files.iter().map(|path| read(path)).collect()
}

/// The most a values file may hold: far more than any values file needs, little enough that
/// `-f /dev/zero` or an endless stdin is refused before it fills the memory.
pub const MAX_VALUES_BYTES: u64 = 4 * 1024 * 1024;

fn read(path: &Path) -> Result<Source, Error> {
    let fail = |source| Error::ReadValues {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    let limited = |reader: &mut dyn Read, bytes: &mut Vec<u8>| {
        reader.take(MAX_VALUES_BYTES + 1).read_to_end(bytes)
    };
    if path.as_os_str() == "-" {
        limited(&mut std::io::stdin().lock(), &mut bytes).map_err(fail)?;
    } else {
        let mut file = std::fs::File::open(path).map_err(fail)?;
        limited(&mut file, &mut bytes).map_err(fail)?;
    }
    if bytes.len() as u64 > MAX_VALUES_BYTES {
        return Err(Error::ValuesTooLarge {
            path: path.to_path_buf(),
            limit: MAX_VALUES_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        // Everything before the bad byte is valid UTF-8.
        let before = std::str::from_utf8(valid).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        Error::ValuesNotUtf8 {
            path: path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    })?;
    Ok(Source {
        name: path.display().to_string(),
        text,
    })
}

/// Helm's rules: a release name is a DNS-1123 subdomain of at most 53 characters; a namespace
/// a DNS-1123 label.
fn check_release(args: ReleaseArgs) -> Result<Release, Error> {
    if let Err(fault) = rules::release_name(&args.release_name) {
        return Err(Error::InvalidName {
            what: "release name",
            value: args.release_name,
            fault,
            allowed: "a DNS-1123 subdomain of at most 53 characters: lowercase letters, digits and '-' in parts joined by '.', each part starting and ending with a letter or digit",
        });
    }
    if let Err(fault) = rules::namespace(&args.namespace) {
        return Err(Error::InvalidName {
            what: "namespace",
            value: args.namespace,
            fault,
            allowed: "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
        });
    }
    Ok(Release {
        name: args.release_name,
        namespace: args.namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, namespace: &str) -> Result<Release, Error> {
        check_release(ReleaseArgs {
            release_name: name.to_owned(),
            namespace: namespace.to_owned(),
        })
    }

    #[test]
    fn release_names_follow_helm_and_namespaces_are_labels() {
        assert!(release("my.release-1", "apps").is_ok());
        for bad in ["a..b", "a.-b", "a-.b", "-a", "A", &"a".repeat(54)] {
            let error = release(bad, "apps").expect_err(bad);
            assert_eq!(error.exit_code(), 2);
            assert!(
                error.to_string().starts_with("invalid release name"),
                "{error}"
            );
        }
        let error = release("ok", "kube.system").expect_err("a dot");
        assert_eq!(
            error.to_string().split(':').next(),
            Some("invalid namespace `kube.system` (it has the character `.`)")
        );
    }
}
