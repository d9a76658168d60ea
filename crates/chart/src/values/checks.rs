//! Format checks of single fields (names, regions, schedules, quantities, durations, images,
//! API versions): the
//! `format`s the strict JSON Schema names, each with the check that explains precisely what is
//! wrong (the name rules themselves are `ecr_contract::rules`) and the pattern the public schema
//! carries in its place.

use ecr_contract::names::{self, MAX_REGISTRY_NAME};
use ecr_contract::rules::{self, Fault};

use super::load::quote;

/// DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit.
pub const DNS_LABEL: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// DNS-1123 subdomain: DNS-1123 labels joined by '.'.
pub const DNS_SUBDOMAIN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// AWS regions of the `aws`, `aws-cn` and `aws-us-gov` partitions.
pub const AWS_REGION: &str = r"^((af|ap|ca|eu|il|me|mx|sa|us)-(central|north|northeast|northwest|south|southeast|southwest|east|west)-[1-9][0-9]?|cn-(north|northwest)-1|us-gov-(east|west)-1)$";
/// The shape of a cron schedule as robfig/cron reads it: 5 fields of digits, names, `*`, `?`,
/// `-`, `/`, `,` and `+` (and the two non-ASCII letters Go lower-cases to a name's letter), or
/// a descriptor with nothing around it, or `@every` and a Go duration. (The fields themselves
/// are checked by [`schedule`]; a regular expression cannot check ranges, and Helm's Go regexp
/// has no look-ahead to refuse `TZ`.)
pub const CRON_SCHEDULE: &str = concat!(
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)",
    r"|@every [-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)",
    r"|\s*[0-9A-Za-z*/,?+İK-]+(\s+[0-9A-Za-z*/,?+İK-]+){4}\s*)$"
);
/// A Kubernetes resource quantity (`100m`, `64Mi`, `1.5`, `2e3`), not negative.
pub const QUANTITY: &str =
    r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$";
/// A Go duration (`1h`, `30m`, `1h30m`, `90s`, `0`), not negative.
pub const GO_DURATION: &str = r"^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$";

/// An IAM role ARN of the `aws`, `aws-cn` or `aws-us-gov` partition, with an optional path.
pub const ROLE_ARN: &str =
    r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$";
/// A 12-digit AWS account ID.
pub const ACCOUNT_ID: &str = r"^[0-9]{12}$";
/// A remote key template: text with the placeholders `{prefix}`, `{name}` and `{key}` only,
/// `{key}` at least once, and no other braces.
pub const REMOTE_KEY_TEMPLATE: &str =
    r"^([^{}]|\{(prefix|name|key)\})*\{key\}([^{}]|\{(prefix|name|key)\})*$";

/// What is wrong with a value: a sentence, a short label under the caret, an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub message: String,
    pub label: String,
    pub hint: Option<String>,
}

impl Finding {
    fn new(message: String, label: impl Into<String>) -> Self {
        Self {
            message,
            label: label.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

/// A field format: the name the schema's `format` keyword carries, the check that explains a
/// failure, and what the public schema (read by Helm, which knows no custom formats) says in
/// its place.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// The value of `format` in the strict schema.
    pub name: &'static str,
    /// The check; its `Finding` is the problem reported.
    pub check: fn(&str) -> Result<(), Finding>,
    /// The public schema's `pattern` for it, if a regular expression can say it.
    pub pattern: Option<&'static str>,
    /// The public schema's `maxLength`.
    pub max_length: Option<usize>,
    /// The public schema's `minLength`.
    pub min_length: Option<usize>,
    /// Values the public schema refuses (`not: {enum: …}`), where no pattern can say it.
    pub not_one_of: &'static [&'static str],
}

impl Format {
    const fn new(name: &'static str, check: fn(&str) -> Result<(), Finding>) -> Self {
        Self {
            name,
            check,
            pattern: None,
            max_length: None,
            min_length: None,
            not_one_of: &[],
        }
    }

    const fn not_one_of(mut self, refused: &'static [&'static str]) -> Self {
        self.not_one_of = refused;
        self
    }

    const fn pattern(mut self, pattern: &'static str) -> Self {
        self.pattern = Some(pattern);
        self
    }

    const fn max_length(mut self, max: usize) -> Self {
        self.max_length = Some(max);
        self
    }

    const fn min_length(mut self, min: usize) -> Self {
        self.min_length = Some(min);
        self
    }
}

/// Every format the values schema uses, each with its one check.
pub const FORMATS: &[Format] = &[
    Format::new("registry-name", registry_name)
        .pattern(DNS_LABEL)
        .max_length(MAX_REGISTRY_NAME),
    Format::new("dns-label", namespace)
        .pattern(DNS_LABEL)
        .max_length(rules::MAX_LABEL),
    Format::new("dns-subdomain", dns_subdomain)
        .pattern(DNS_SUBDOMAIN)
        .max_length(rules::MAX_SUBDOMAIN),
    Format::new("aws-region", region).pattern(AWS_REGION),
    Format::new("role-arn", role_arn).pattern(ROLE_ARN),
    Format::new("account-id", account_id).pattern(ACCOUNT_ID),
    Format::new("cron-schedule", schedule_shape).pattern(CRON_SCHEDULE),
    Format::new("quantity", quantity).pattern(QUANTITY),
    Format::new("go-duration", go_duration).pattern(GO_DURATION),
    Format::new("alert-margin", alert_margin).pattern(GO_DURATION),
    Format::new("alert-label-name", alert_label_name).pattern(PROMETHEUS_LABEL_NAME),
    Format::new("time-zone", time_zone).min_length(1),
    Format::new("remote-key-template", remote_key_template).pattern(REMOTE_KEY_TEMPLATE),
    Format::new("label-value", label_value),
    Format::new("label-key", qualified_key),
    Format::new("user-label-key", user_label_key).not_one_of(&names::CHART_LABEL_KEYS),
    Format::new("optional-dns-subdomain", optional_dns_subdomain)
        .pattern(OPTIONAL_DNS_SUBDOMAIN)
        .max_length(rules::MAX_SUBDOMAIN),
    Format::new("image-repository", image_repository)
        .pattern(IMAGE_REPOSITORY)
        .max_length(MAX_IMAGE_NAME),
    Format::new("image-tag", image_tag).pattern(IMAGE_TAG),
    Format::new("eso-api-version", eso_api_version).pattern(ESO_API_VERSION),
];

/// Empty, or a DNS-1123 subdomain (`priorityClassName`: empty for none).
pub const OPTIONAL_DNS_SUBDOMAIN: &str =
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$";
/// An image name as the distribution reference grammar has it: an optional registry host
/// (`ghcr.io`, `localhost:5000`) and `/`, then lowercase path components separated by `/`,
/// each of letters and digits joined by `.`, `_`, `__` or dashes. No tag, digest or
/// whitespace.
pub const IMAGE_REPOSITORY: &str = r"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(:[0-9]+)?/)?[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$";
/// Longest image name (the distribution reference grammar's `NameTotalLengthMax`).
pub const MAX_IMAGE_NAME: usize = 255;
/// Empty, or an image tag: a letter, digit or `_`, then at most 127 letters, digits, `_`, `.`
/// and `-`.
pub const IMAGE_TAG: &str = r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$";
/// The ExternalSecret API versions External Secrets Operator serves: `v1` (ESO 0.16 and
/// later, the only one of ESO 2.x) and `v1beta1` (older releases).
pub const ESO_API_VERSION: &str = r"^external-secrets\.io/(v1|v1beta1)$";
/// The `apiVersion`s [`ESO_API_VERSION`] allows.
pub const ESO_API_VERSIONS: &[&str] = &["external-secrets.io/v1", "external-secrets.io/v1beta1"];

/// The format of this name.
pub fn format(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == name)
}

/// "did you mean" for a name that is not a DNS-1123 label: lowercase, other characters as `-`.
fn dns_label_hint(s: &str) -> Option<String> {
    let fixed: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let fixed = fixed.trim_matches('-');
    (!fixed.is_empty() && fixed != s).then(|| format!("did you mean `{fixed}`?"))
}

/// A registry name: a DNS-1123 label of at most 32 characters.
pub fn registry_name(s: &str) -> Result<(), Finding> {
    match rules::registry_name(s) {
        Ok(()) => Ok(()),
        Err(fault @ Fault::TooLong { len, max }) => Err(Finding::new(
            format!(
                "registry name {} is {len} characters long; at most {max} are allowed",
                quote(s)
            ),
            fault.to_string(),
        )
        .hint(Some(format!(
            "the CronJob `{}` would be named with {} characters; Kubernetes allows at most {} \
             for a CronJob name",
            names::cron_job("<name>"),
            names::cron_job(s).chars().count(),
            names::MAX_CRON_JOB_NAME
        )))),
        Err(fault) => {
            let hint = dns_label_hint(s).map(|h| {
                let h = h.trim_end_matches('?').to_owned();
                if h.len() - "did you mean ``".len() > MAX_REGISTRY_NAME {
                    format!("{h} (shortened to at most {MAX_REGISTRY_NAME} characters)?")
                } else {
                    format!("{h}?")
                }
            });
            Err(Finding::new(
                format!("registry name {} is not a DNS-1123 label", quote(s)),
                format!("not a DNS-1123 label: {fault}"),
            )
            .hint(hint))
        }
    }
}

/// A namespace: a DNS-1123 label of at most 63 characters.
pub fn namespace(s: &str) -> Result<(), Finding> {
    match rules::namespace(s) {
        Ok(()) => Ok(()),
        Err(fault @ Fault::TooLong { len, max }) => Err(Finding::new(
            format!(
                "namespace {} is {len} characters long; at most {max} are allowed",
                quote(s)
            ),
            fault.to_string(),
        )),
        Err(fault) => Err(Finding::new(
            format!("namespace {} is not a DNS-1123 label", quote(s)),
            format!("not a DNS-1123 label: {fault}"),
        )
        .hint(dns_label_hint(s))),
    }
}

/// A Kubernetes label value: empty, or at most 63 characters of letters, digits, '-', '_' and
/// '.', starting and ending with a letter or digit.
pub fn label_value(s: &str) -> Result<(), Finding> {
    rules::label_value(s).map_err(|fault| {
        Finding::new(
            format!("{} is not a valid Kubernetes label value", quote(s)),
            fault.to_string(),
        )
        .hint(Some(
            "a label value is empty or at most 63 letters, digits, '-', '_' and '.', starting \
             and ending with a letter or digit; put free text in an annotation instead"
                .to_owned(),
        ))
    })
}

/// A label or annotation key: `[prefix/]name`, the prefix a DNS-1123 subdomain, the name at
/// most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
pub fn qualified_key(s: &str) -> Result<(), Finding> {
    rules::qualified_key(s).map_err(|fault| {
        Finding::new(
            format!(
                "{} is not a valid Kubernetes label or annotation key",
                quote(s)
            ),
            fault.to_string(),
        )
        .hint(Some(
            "a key is `[prefix/]name`: an optional DNS-1123 subdomain prefix, and a name of at \
             most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
                .to_owned(),
        ))
    })
}

/// A key of `commonLabels` or `podLabels`: a label key ([`qualified_key`]) that is not one
/// of the labels the chart sets itself, which would be written twice (and the user's
/// `app.kubernetes.io/instance` would replace the release that ArgoCD tracks).
pub fn user_label_key(s: &str) -> Result<(), Finding> {
    qualified_key(s)?;
    if !names::CHART_LABEL_KEYS.contains(&s) {
        return Ok(());
    }
    let name = s.rsplit('/').next().unwrap_or(s);
    Err(Finding::new(
        format!("{} is a label the chart sets itself", quote(s)),
        "set by the chart on every object".to_owned(),
    )
    .hint(Some(format!(
        "the chart's own labels ({}) cannot be set again: the object would hold the key twice, \
         and `{}` is how Helm and ArgoCD find the release's objects; use a key of your own \
         instead, e.g. `example.com/{name}`",
        names::CHART_LABEL_KEYS.join(", "),
        names::LABEL_INSTANCE,
    ))))
}

/// Empty, or a DNS-1123 subdomain (`priorityClassName`, empty for none).
pub fn optional_dns_subdomain(s: &str) -> Result<(), Finding> {
    if s.is_empty() {
        return Ok(());
    }
    dns_subdomain(s).map_err(|finding| {
        finding.hint(Some(
            "a PriorityClass name is a DNS-1123 subdomain (lowercase letters, digits, '-' and \
             '.'), e.g. `system-cluster-critical`; leave it empty for none"
                .to_owned(),
        ))
    })
}

/// An image name without tag ([`IMAGE_REPOSITORY`]). The API server refuses an empty
/// `containers[].image` (required; `pkg/apis/core/validation` leaves whitespace unchecked on
/// purpose), and the kubelet cannot pull one outside the reference grammar (the pod stays in
/// `InvalidImageName`), whitespace included.
pub fn image_repository(s: &str) -> Result<(), Finding> {
    let fail = |label: &str, hint: String| {
        Err(Finding::new(
            format!("{} is not an image repository", quote(s)),
            label.to_owned(),
        )
        .hint(Some(hint)))
    };
    let example = "e.g. `ghcr.io/ecr-registry-helper/ecr-refresher`";
    if s.trim().is_empty() {
        return fail(
            "empty: Kubernetes requires an image",
            format!("name the refresher image, {example}"),
        );
    }
    if s.chars().any(char::is_whitespace) {
        return fail(
            "it has whitespace",
            format!("write the repository without spaces, {example}"),
        );
    }
    if let Some((name, reference)) = s.split_once('@') {
        return fail(
            "a digest is not part of the repository",
            format!(
                "write `repository: {name}`; the chart pulls `<repository>:<tag>` (`{reference}` \
                 cannot be given)"
            ),
        );
    }
    let (host, path) = match s.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, s),
    };
    if let Some((name, tag)) = path.rsplit_once(':') {
        return fail(
            "a tag is not part of the repository",
            format!(
                "write `repository: {}{name}` and `tag: {tag}`",
                host.map(|h| format!("{h}/")).unwrap_or_default()
            ),
        );
    }
    let host_ok = host.is_none_or(|host| {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        };
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        };
        name.split('.').all(part_ok)
            && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    if !host_ok {
        return fail(
            "not a registry host",
            format!("a registry host is a DNS name with an optional port, {example}"),
        );
    }
    let component_ok = |c: &str| {
        let bytes = c.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return false;
        }
        // Letters and digits joined by `.`, `_`, `__` or any number of `-`.
        let mut i = 0;
        while i < bytes.len() {
            if alnum(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(bytes[i]) {
                i += 1;
            }
            let separator = &c[start..i];
            let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
            if !ok {
                return false;
            }
        }
        true
    };
    if !path.split('/').all(component_ok) {
        return fail(
            "not an image path",
            format!(
                "each part between `/` is lowercase letters and digits joined by `.`, `_`, `__` \
                 or `-`, {example}"
            ),
        );
    }
    if s.len() > MAX_IMAGE_NAME {
        return fail(
            "longer than 255 characters",
            format!("an image name has at most {MAX_IMAGE_NAME} characters"),
        );
    }
    Ok(())
}

/// Empty (the version of ecr-chart), or an image tag ([`IMAGE_TAG`]).
pub fn image_tag(s: &str) -> Result<(), Finding> {
    let first_ok = s
        .chars()
        .next()
        .is_none_or(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok && s.len() <= 128 {
        return Ok(());
    }
    let label = if s.chars().any(char::is_whitespace) {
        "it has whitespace"
    } else if s.len() > 128 {
        "longer than 128 characters"
    } else {
        "not an image tag"
    };
    Err(Finding::new(
        format!("{} is not an image tag", quote(s)),
        label.to_owned(),
    )
    .hint(Some(
        "a tag is at most 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`, \
         e.g. `0.1.0`; leave it empty for the version of ecr-chart"
            .to_owned(),
    )))
}

/// An ExternalSecret `apiVersion` External Secrets Operator serves ([`ESO_API_VERSION`]).
pub fn eso_api_version(s: &str) -> Result<(), Finding> {
    if ESO_API_VERSIONS.contains(&s) {
        return Ok(());
    }
    let label = if s.trim().is_empty() {
        "empty".to_owned()
    } else {
        format!("not one of {}", ESO_API_VERSIONS.join(", "))
    };
    Err(Finding::new(
        format!("{} is not an ExternalSecret API version", quote(s)),
        label,
    )
    .hint(Some(
        "write `external-secrets.io/v1` (External Secrets Operator 0.16 and later; the \
                 only version ESO 2.x serves) or `external-secrets.io/v1beta1` (older releases)"
            .to_owned(),
    )))
}

/// A DNS-1123 subdomain (ServiceAccount names): labels joined by '.', at most 253 characters.
pub fn dns_subdomain(s: &str) -> Result<(), Finding> {
    match rules::dns_subdomain(s) {
        Ok(()) => Ok(()),
        Err(fault @ Fault::TooLong { len, max }) => Err(Finding::new(
            format!(
                "{} is {len} characters long; at most {max} are allowed",
                quote(s)
            ),
            fault.to_string(),
        )),
        Err(fault) => Err(Finding::new(
            format!("{} is not a DNS-1123 subdomain", quote(s)),
            format!("not a DNS-1123 subdomain: {fault}"),
        )),
    }
}

/// Regions known today, for "did you mean" (any region of the partitions' form is accepted).
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// An AWS region of a known partition.
pub fn region(s: &str) -> Result<(), Finding> {
    let Err(fault) = rules::region(s) else {
        return Ok(());
    };
    let lower = s.trim().to_ascii_lowercase();
    let hint = if rules::region(&lower).is_ok() {
        Some(lower)
    } else {
        suggest(&lower, KNOWN_REGIONS.iter().copied(), 0.85).map(str::to_owned)
    };
    Err(Finding::new(
        format!("{} is not an AWS region of a known partition", quote(s)),
        fault.to_string(),
    )
    .hint(hint.map(|h| format!("did you mean `{h}`?"))))
}

/// The wording of every schedule problem.
fn invalid_schedule(s: &str, label: String) -> Finding {
    Finding::new(
        format!("{} is not a valid 5-field cron schedule", quote(s)),
        label,
    )
    .hint(Some(
        "expected `minute hour day-of-month month day-of-week`, e.g. `0 */10 * * *` \
         (every 10 hours), or one of @hourly, @daily, @weekly, @monthly, @yearly"
            .to_owned(),
    ))
}

/// A Kubernetes CronJob schedule, refused exactly where the API server refuses it: robfig/cron
/// v3.0.1 `ParseStandard` of the raw string, and no `TZ` in it. The schema's `cron-schedule`
/// format, run on every registry.
pub fn schedule_shape(s: &str) -> Result<(), Finding> {
    schedule(s).map(|_| ())
}

/// A Kubernetes CronJob schedule ([`schedule_shape`]), parsed for measuring its gaps.
pub fn schedule(s: &str) -> Result<Option<super::schedule::Schedule>, Finding> {
    use super::cron::{FIELDS, FieldProblem, ParseError as E};
    use super::schedule::Refusal;
    let error = match super::schedule::parse(s) {
        Ok(parsed) => return Ok(Some(parsed)),
        Err(Refusal::TimeZoneInSchedule) => {
            return Err(Finding::new(
                format!("{} has `TZ` in it, which Kubernetes refuses", quote(s)),
                "a time zone in the schedule",
            )
            .hint(Some(
                "Kubernetes refuses `TZ=` and `CRON_TZ=` (and any `TZ`) in a CronJob's \
                 schedule: set `cronJob.timeZone`, e.g. `timeZone: Europe/Berlin`, and give the \
                 schedule alone"
                    .to_owned(),
            )));
        }
        Err(Refusal::Parse(error)) => error,
    };
    let trimmed = s.trim();
    let label = match error {
        E::Empty => "empty schedule".to_owned(),
        // Kubernetes parses the raw string: ` @hourly` is one field instead of five and
        // `@hourly ` an unknown descriptor, so the CronJob is refused at apply time.
        _ if trimmed != s && trimmed.starts_with('@') => {
            format!("whitespace around `{trimmed}`, which Kubernetes refuses")
        }
        E::UnknownDescriptor(d) if d.starts_with("@every") => {
            "`@every` takes one space and a Go duration, e.g. `@every 10h`".to_owned()
        }
        E::UnknownDescriptor(d) => format!("unknown macro `{d}`"),
        E::BadDuration(d) => {
            format!("`@every {d}`: `{d}` is not a Go duration such as `10h`, `90m` or `1h30m`")
        }
        E::FieldCount(0) => "empty schedule".to_owned(),
        E::FieldCount(n @ (6 | 7)) => {
            format!("{n} fields; seconds and years are not supported")
        }
        E::FieldCount(n) => format!("{n} fields instead of 5"),
        E::Field {
            field,
            text,
            problem,
        } => {
            let f = &FIELDS[field];
            let (name, low, high) = (f.name, f.min, f.max);
            match problem {
                FieldProblem::TooManyHyphens(e) => {
                    format!("the {name} field has `{e}`, a range with more than one `-`")
                }
                FieldProblem::TooManySlashes(e) => {
                    format!("the {name} field has `{e}`, with more than one `/`")
                }
                FieldProblem::NotANumber(token) if token.is_empty() => {
                    format!("the {name} field `{text}` has an empty part")
                }
                FieldProblem::NotANumber(token)
                    if !f.names.is_empty() && token.chars().all(|c| c.is_ascii_alphabetic()) =>
                {
                    format!(
                        "the {name} field has `{token}`, not a {} name",
                        if field == 3 { "month" } else { "weekday" }
                    )
                }
                FieldProblem::NotANumber(token) => {
                    match token
                        .chars()
                        .skip_while(|c| *c == '+')
                        .find(|c| !c.is_ascii_digit())
                    {
                        Some(c) => format!(
                            "the {name} field `{text}` has `{c}`, which Kubernetes does not support"
                        ),
                        None => format!("the {name} field has `{token}`, too large"),
                    }
                }
                FieldProblem::Negative(token) => {
                    format!("the {name} field has `{token}`, a negative number")
                }
                FieldProblem::BadStep(step) => format!(
                    "the {name} field `{text}` has the step `/{step}`; a step is a number from 1"
                ),
                FieldProblem::BelowMin(e) | FieldProblem::AboveMax(e) => {
                    format!("the {name} field has `{e}`, outside {low}-{high}")
                }
                FieldProblem::Backwards(e) => {
                    format!("the {name} field has `{e}`, a range that runs backwards")
                }
            }
        }
    };
    Err(invalid_schedule(s, label))
}

/// A Kubernetes resource quantity, not negative.
pub fn quantity(s: &str) -> Result<(), Finding> {
    let body = s.strip_prefix('+').unwrap_or(s);
    let digits_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(digits_end);
    // Only digits and dots here: digits, `digits.`, `digits.digits` or `.digits`.
    let number_ok = match number.split_once('.') {
        None => !number.is_empty(),
        Some((whole, frac)) => !(frac.contains('.') || whole.is_empty() && frac.is_empty()),
    };
    let suffix_ok = match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        _ => suffix
            .strip_prefix(['e', 'E'])
            .map(|exp| exp.strip_prefix(['+', '-']).unwrap_or(exp))
            .is_some_and(|exp| !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit())),
    };
    if number_ok && suffix_ok {
        return Ok(());
    }
    let label = if !number_ok {
        if s.starts_with('-') {
            "negative quantity".to_owned()
        } else {
            "not a number followed by a unit".to_owned()
        }
    } else {
        format!("unknown unit `{suffix}`")
    };
    let hint = match suffix.to_ascii_uppercase().as_str() {
        "KB" | "MB" | "GB" | "TB" | "PB" | "EB" if number_ok => {
            let si = suffix[..1].to_ascii_uppercase().replace('K', "k");
            let bin = format!("{}i", suffix[..1].to_ascii_uppercase());
            Some(format!(
                "did you mean `{number}{bin}` (binary, 1024-based) or `{number}{si}` (decimal)?"
            ))
        }
        "KI" | "MI" | "GI" | "TI" | "PI" | "EI" if number_ok => Some(format!(
            "did you mean `{number}{}i`?",
            suffix[..1].to_ascii_uppercase()
        )),
        _ => None,
    };
    Err(
        Finding::new(format!("{} is not a Kubernetes quantity", quote(s)), label).hint(
            hint.or_else(|| {
                Some(
            "a quantity is a number with an optional unit: `100m` (0.1 CPU), `1.5`, `2e3`, \
             `64Mi`, `1Gi`, `500M`"
                .to_owned(),
        )
            }),
        ),
    )
}

/// A Go duration (`1h`, `30m`, `1h30m`, `90s`, or `0`), not negative.
pub fn go_duration(s: &str) -> Result<(), Finding> {
    if s == "0" {
        return Ok(());
    }
    let mut rest = s;
    let mut ok = !rest.is_empty();
    while ok && !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..end];
        let valid_number = !number.is_empty()
            && number != "."
            && number.matches('.').count() <= 1
            && !(number.starts_with('.') && number.len() == 1);
        rest = &rest[end..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .filter(|u| rest.starts_with(u))
            .max_by_key(|u| u.len());
        match (valid_number, unit) {
            (true, Some(unit)) => rest = &rest[unit.len()..],
            _ => ok = false,
        }
    }
    if ok {
        return Ok(());
    }
    Err(Finding::new(
        format!("{} is not a Go duration", quote(s)),
        "not a duration",
    )
    .hint(Some(
        "a duration is numbers with units h, m, s, ms, us or ns: `1h`, `30m`, `1h30m`, `90s`"
            .to_owned(),
    )))
}

/// The seconds of a Go duration that [`go_duration`] accepts (fractions of a second dropped).
pub fn go_duration_seconds(s: &str) -> Option<i64> {
    go_duration(s).ok()?;
    let mut nanos: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() && rest != "0" {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let (unit, scale) = [
            ("ns", 1.0),
            ("us", 1e3),
            ("µs", 1e3),
            ("μs", 1e3),
            ("ms", 1e6),
            ("s", 1e9),
            ("m", 60e9),
            ("h", 3600e9),
        ]
        .into_iter()
        .filter(|(u, _)| rest.starts_with(u))
        .max_by_key(|(u, _)| u.len())?;
        nanos += number * scale;
        rest = &rest[unit.len()..];
    }
    Some((nanos / 1e9) as i64)
}

/// The alerts' margin: a Go duration under the 12-hour token lifetime (a margin of 12 hours
/// would have the pull secret "about to expire" the moment it is written).
pub fn alert_margin(s: &str) -> Result<(), Finding> {
    go_duration(s)?;
    let lifetime = super::schedule::TOKEN_LIFETIME_SECS;
    match go_duration_seconds(s) {
        Some(seconds) if seconds < lifetime => Ok(()),
        _ => Err(Finding::new(
            format!(
                "a margin of {} leaves nothing of the {} an ECR token lasts",
                quote(s),
                super::schedule::duration(lifetime)
            ),
            "12 hours or more",
        )
        .hint(Some(
            "the margin is added to each schedule's longest gap and taken from the token \
             lifetime: keep it well under 12h, e.g. `30m` or `1h`"
                .to_owned(),
        ))),
    }
}

/// A Prometheus label name.
pub const PROMETHEUS_LABEL_NAME: &str = r"^[a-zA-Z_][a-zA-Z0-9_]*$";
/// The label that keeps each release's alert rules to its own registries.
pub const ALERT_RELEASE_LABEL: &str = "helm_release";
/// The labels the alerts (`render::alerts`) set themselves.
pub const ALERT_OWN_LABELS: [&str; 8] = [
    "alertname",
    "severity",
    "namespace",
    "cronjob",
    "registry",
    "target_namespaces",
    ALERT_RELEASE_LABEL,
    "job_name",
];

/// A label added to every alert: a Prometheus label name, not reserved (`__…`) and not one
/// the alerts set themselves (a rule's label would replace it).
pub fn alert_label_name(s: &str) -> Result<(), Finding> {
    let own = ALERT_OWN_LABELS;
    let mut chars = s.chars();
    let name = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    let problem = if !name {
        "not a Prometheus label name"
    } else if s.starts_with("__") {
        "reserved by Prometheus"
    } else if own.contains(&s) {
        "set by the alerts themselves"
    } else {
        return Ok(());
    };
    Err(Finding::new(
        format!("{} cannot label the alerts: {problem}", quote(s)),
        problem,
    )
    .hint(Some(format!(
        "an alert label is letters, digits and '_', not starting with a digit or `__`, and none \
         of {}",
        own.join(", ")
    ))))
}

/// An IANA time zone name the cluster knows (the IANA database, spelled exactly).
pub fn time_zone(s: &str) -> Result<(), Finding> {
    if s.trim().is_empty() {
        return Err(
            Finding::new("the time zone is empty".to_owned(), "empty time zone").hint(Some(
                "leave `timeZone` out (or null) for the controller's zone, or name one such as \
             `Europe/Berlin` or `Etc/UTC`"
                    .to_owned(),
            )),
        );
    }
    if super::schedule::time_zone(s).is_some() {
        return Ok(());
    }
    let names = super::schedule::time_zone_names();
    let hint = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(s.trim()))
        .map(String::as_str)
        .or_else(|| suggest(s, names.iter().map(String::as_str), 0.85))
        .map_or_else(
            || {
                "name an IANA time zone such as `Europe/Berlin`, `America/New_York` or `Etc/UTC`"
                    .to_owned()
            },
            |n| format!("did you mean `{n}`?"),
        );
    Err(Finding::new(
        format!("{} is not an IANA time zone", quote(s)),
        "unknown time zone",
    )
    .hint(Some(hint)))
}

/// An IAM role ARN: `arn:aws:iam::<12-digit account>:role/<optional path/><name>`.
pub fn role_arn(s: &str) -> Result<(), Finding> {
    rules::role_arn(s).map(drop).map_err(|fault| {
        Finding::new(
            format!("{} is not an IAM role ARN", quote(s)),
            fault.to_string(),
        )
        .hint(Some(
            "e.g. `arn:aws:iam::123456789012:role/ecr-pull` (`arn:aws-cn:` in China, \
             `arn:aws-us-gov:` in GovCloud)"
                .to_owned(),
        ))
    })
}

/// A 12-digit AWS account ID.
pub fn account_id(s: &str) -> Result<(), Finding> {
    rules::account_id(s).map_err(|fault| {
        let hint = match fault {
            Fault::AccountDigits(n) if n < 12 => {
                "an account ID has 12 digits, leading zeros included: write it in quotes, e.g. \
                 `\"012345678901\"`"
            }
            _ => "an account ID is 12 digits, e.g. `\"123456789012\"`",
        };
        Finding::new(
            format!("{} is not an AWS account ID", quote(s)),
            fault.to_string(),
        )
        .hint(Some(hint.to_owned()))
    })
}

/// A remote key template: `{prefix}`, `{name}` and `{key}` only, `{key}` at least once.
pub fn remote_key_template(s: &str) -> Result<(), Finding> {
    let hint = Some(
        "use the placeholders `{prefix}` (externalSecret.keyPrefix), `{name}` (the registry's \
         name) and `{key}` (AWS_ACCOUNT, AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY), e.g. \
         `{prefix}/aws/ecr/{name}/{key}` (the default) or `ecr-{name}-{key}`"
            .to_owned(),
    );
    let fail =
        |message: String, label: String| Err(Finding::new(message, label).hint(hint.clone()));
    let mut rest = s;
    let mut has_key = false;
    while let Some(at) = rest.find(['{', '}']) {
        rest = &rest[at..];
        if rest.starts_with('}') {
            return fail(
                format!("the remote key template {} has a stray `}}`", quote(s)),
                "a `}` outside a placeholder".to_owned(),
            );
        }
        let Some(close) = rest.find('}') else {
            return fail(
                format!("the remote key template {} has an unclosed `{{`", quote(s)),
                "a `{` without its `}`".to_owned(),
            );
        };
        let placeholder = &rest[..=close];
        match placeholder {
            "{prefix}" | "{name}" => {}
            "{key}" => has_key = true,
            other => {
                let known = ["{prefix}", "{name}", "{key}"];
                let label = suggest(other, known, 0.7).map_or_else(
                    || format!("unknown placeholder `{other}`"),
                    |k| format!("unknown placeholder `{other}`: did you mean `{k}`?"),
                );
                return fail(
                    format!(
                        "the remote key template {} has the unknown placeholder `{other}`",
                        quote(s)
                    ),
                    label,
                );
            }
        }
        rest = &rest[close + 1..];
    }
    if !has_key {
        return fail(
            format!("the remote key template {} has no `{{key}}`", quote(s)),
            "no `{key}`: all three credentials would read the same remote key".to_owned(),
        );
    }
    Ok(())
}

/// The candidate most similar to `word` (case-insensitive Jaro-Winkler of at least `min`).
pub fn suggest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
    min: f64,
) -> Option<&'c str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= min)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's pattern and the check must agree, so Helm and ecr-chart accept the same.
    fn agrees(pattern: &str, check: fn(&str) -> Result<(), Finding>, samples: &[&str]) {
        let schema = serde_json::json!({"type": "string", "pattern": pattern});
        let validator = jsonschema::validator_for(&schema).expect("pattern compiles");
        for sample in samples {
            assert_eq!(
                validator.is_valid(&serde_json::json!(sample)),
                check(sample).is_ok(),
                "pattern and check disagree on {sample:?}: {:?}",
                check(sample)
            );
        }
    }

    #[test]
    fn registry_names_are_short_dns_labels() {
        assert!(registry_name("primary").is_ok());
        assert!(registry_name("a").is_ok());
        assert!(registry_name(&"a".repeat(32)).is_ok());
        let long = registry_name(&"a".repeat(33)).expect_err("33 characters");
        assert!(
            long.hint.as_deref().unwrap_or("").contains("52"),
            "{long:?}"
        );
        assert!(registry_name("Primary").is_err());
        assert!(registry_name("my_registry").is_err());
        assert!(registry_name("-x").is_err());
        assert!(registry_name("").is_err());
        let hint = registry_name("My_Registry").expect_err("bad").hint;
        assert_eq!(hint.as_deref(), Some("did you mean `my-registry`?"));
        agrees(
            DNS_LABEL,
            namespace,
            &["a", "a-b", "0", "A", "a_b", "-a", "a-", "", "a.b", "é"],
        );
    }

    #[test]
    fn labels_and_keys_follow_the_api_server_rules() {
        assert!(label_value("").is_ok());
        assert!(label_value("team-a_1.x").is_ok());
        assert!(label_value("{{ x }}").is_err());
        assert!(label_value("-a").is_err());
        assert!(label_value(&"a".repeat(64)).is_err());
        assert!(qualified_key("app.kubernetes.io/name").is_ok());
        assert!(qualified_key("team").is_ok());
        assert!(qualified_key("Example.com/x").is_err());
        assert!(qualified_key("example.com/").is_err());
        assert!(qualified_key("a b").is_err());
    }

    #[test]
    fn namespaces_and_subdomains_follow_dns_1123() {
        assert!(namespace("argocd").is_ok());
        assert!(namespace(&"n".repeat(63)).is_ok());
        assert!(namespace(&"n".repeat(64)).is_err());
        assert!(namespace("kube.system").is_err());
        assert!(dns_subdomain("sa-argocd").is_ok());
        assert!(dns_subdomain("a.b-c.d").is_ok());
        assert!(dns_subdomain(&"s".repeat(254)).is_err());
        agrees(
            DNS_SUBDOMAIN,
            |s| dns_subdomain(s).map(|_| ()),
            &[
                "a",
                "a.b",
                "a..b",
                ".a",
                "a.",
                "A.b",
                "a_b",
                "sa-argocd",
                "",
            ],
        );
    }

    #[test]
    fn regions_of_every_partition_are_accepted() {
        for region in KNOWN_REGIONS {
            assert!(super::region(region).is_ok(), "{region}");
        }
        for good in [
            "ap-southeast-2",
            "me-south-1",
            "af-south-1",
            "il-central-1",
            "mx-central-1",
        ] {
            assert!(region(good).is_ok(), "{good}");
        }
        for bad in [
            "eu-centrl-1",
            "EU-CENTRAL-1",
            "us-east-1a",
            "cn-south-1",
            "us-gov-central-1",
            "mars-1",
            "",
        ] {
            assert!(region(bad).is_err(), "{bad}");
        }
        assert_eq!(
            region("eu-centrl-1").expect_err("typo").hint.as_deref(),
            Some("did you mean `eu-central-1`?")
        );
        assert_eq!(
            region("EU-CENTRAL-1").expect_err("case").hint.as_deref(),
            Some("did you mean `eu-central-1`?")
        );
        let mut samples: Vec<&str> = KNOWN_REGIONS.to_vec();
        samples.extend([
            "eu-centrl-1",
            "us-east-01",
            "us-east-0",
            "us-east-10",
            "cn-north-2",
            "us-gov-west-2",
            "x",
        ]);
        agrees(AWS_REGION, region, &samples);
    }

    #[test]
    fn descriptors_with_whitespace_around_them_are_refused_like_kubernetes_does() {
        for bad in [" @hourly", "@hourly ", "\t@daily", "@midnight\n"] {
            let finding = schedule(bad).expect_err(bad);
            assert!(
                finding.label.contains("whitespace around"),
                "{bad:?}: {finding:?}"
            );
        }
        assert!(schedule("@hourly").is_ok());
    }

    #[test]
    fn schedules_have_five_fields() {
        for good in [
            "0 */10 * * *",
            "*/5 * * * *",
            "0 0 * * MON-FRI",
            "0 0 1 jan,jul *",
            "@hourly",
            " 0 1 * * 0 ",
            "5/15 * * * *",
            "0 0 ? * SUN",
            // What robfig/cron (Kubernetes) reads, odd as it looks.
            "? ? * * *",
            "0 12,* * * *",
            "+0 */10 * * *",
            "0 0,,11 * * *",
            "*-5 * * * *",
            "@every 1h",
            "@every 1h30m",
        ] {
            assert!(schedule(good).is_ok(), "{good}: {:?}", schedule(good));
        }
        for bad in [
            "0 0 */10 * * *",
            "0 0 0 * * * 2025",
            "* * * *",
            "every hour",
            "61 * * * *",
            "0 25 * * *",
            "0 0 L * *",
            "@every 1",
            "@every 1h ",
            "0 0 * * 7",
            "*/0 * * * *",
            "0 5-2 * * *",
            "0 0 * foo *",
            "",
            "TZ=UTC 0 * * * *",
            "CRON_TZ=Europe/Berlin 0 * * * *",
        ] {
            assert!(schedule(bad).is_err(), "{bad}");
        }
        let tz = schedule("TZ=UTC 0 * * * *").expect_err("TZ");
        assert!(
            tz.hint
                .as_deref()
                .unwrap_or("")
                .contains("cronJob.timeZone"),
            "{tz:?}"
        );
        let six = schedule("0 0 */10 * * *").expect_err("6 fields");
        assert!(six.label.contains("6 fields"), "{six:?}");
        assert!(
            six.hint
                .as_deref()
                .unwrap_or("")
                .contains("minute hour day-of-month month day-of-week")
        );
        // The schema's shape pattern accepts every schedule the check accepts.
        let schema = serde_json::json!({"type": "string", "pattern": CRON_SCHEDULE});
        let validator = jsonschema::validator_for(&schema).expect("pattern compiles");
        for good in [
            "0 */10 * * *",
            "0 0 * * MON-FRI",
            "@hourly",
            " 0 1 * * 0 ",
            "? ? * * *",
            "0 12,* * * *",
            "+0 */10 * * *",
            "0 0,,11 * * *",
            "*-5 * * * *",
            "@every 1h30m",
            "@every .5h",
            "@every 5\u{b5}s",
            "0 0 * * FR\u{130}",
        ] {
            assert!(schedule(good).is_ok(), "{good}");
            assert!(validator.is_valid(&serde_json::json!(good)), "{good}");
        }
        for bad in [
            "0 0 */10 * * *",
            "* * * *",
            "@every 1",
            "@every1h",
            "",
            " @hourly",
            "@hourly ",
        ] {
            assert!(!validator.is_valid(&serde_json::json!(bad)), "{bad}");
        }
    }

    #[test]
    fn quantities_use_kubernetes_syntax() {
        let samples = [
            "100m",
            "64Mi",
            "1.5",
            "2e3",
            "1",
            "0.5Gi",
            ".5",
            "1E3",
            "1E",
            "+1",
            "128974848",
            "1e-3",
            "64MB",
            "abc",
            "-1",
            "1e",
            "1.2.3",
            "Mi",
            "",
            "1 Gi",
            "1mi",
            "1Kb",
            ".",
        ];
        for good in &samples[..12] {
            assert!(quantity(good).is_ok(), "{good}: {:?}", quantity(good));
        }
        for bad in &samples[12..] {
            assert!(quantity(bad).is_err(), "{bad}");
        }
        assert_eq!(
            quantity("64MB").expect_err("MB").hint.as_deref(),
            Some("did you mean `64Mi` (binary, 1024-based) or `64M` (decimal)?")
        );
        agrees(QUANTITY, quantity, &samples);
    }

    #[test]
    fn durations_use_go_syntax() {
        let samples = [
            "1h", "30m", "1h30m", "90s", "0", "1.5h", "100ms", "2us", "1d", "1", "", "h", "-1h",
            "1h 30m", ".h",
        ];
        for good in &samples[..8] {
            assert!(go_duration(good).is_ok(), "{good}");
        }
        for bad in &samples[8..] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
        agrees(GO_DURATION, go_duration, &samples);
    }

    #[test]
    fn time_zones_are_known_iana_names() {
        assert!(time_zone("Europe/Berlin").is_ok());
        assert!(time_zone("Etc/UTC").is_ok());
        assert!(time_zone("").is_err());
        assert!(time_zone("  ").is_err());
        let case = time_zone("europe/berlin").expect_err("case");
        assert_eq!(case.hint.as_deref(), Some("did you mean `Europe/Berlin`?"));
        let typo = time_zone("Europe/Berln").expect_err("typo");
        assert_eq!(typo.hint.as_deref(), Some("did you mean `Europe/Berlin`?"));
        assert!(time_zone("Mars/Olympus_Mons").is_err());
    }

    #[test]
    fn role_arns_name_an_iam_role_of_a_partition() {
        let samples = [
            "arn:aws:iam::123456789012:role/ecr-pull",
            "arn:aws-cn:iam::123456789012:role/team/ecr+pull@x",
            "arn:aws-us-gov:iam::123456789012:role/a/b/c",
            "arn:aws:iam::123456789012:user/ecr-pull",
            "arn:aws:sts::123456789012:assumed-role/x/y",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam:eu-central-1:123456789012:role/x",
            "arn:azure:iam::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:iam::123456789012:role//x",
            "ecr-pull",
            "",
        ];
        for good in &samples[..3] {
            assert!(role_arn(good).is_ok(), "{good}: {:?}", role_arn(good));
        }
        for bad in &samples[3..] {
            assert!(role_arn(bad).is_err(), "{bad}");
        }
        assert!(
            role_arn(&format!(
                "arn:aws:iam::123456789012:role/{}",
                "r".repeat(65)
            ))
            .is_err()
        );
        agrees(ROLE_ARN, role_arn, &samples);
    }

    #[test]
    fn account_ids_have_twelve_digits() {
        let samples = [
            "123456789012",
            "012345678901",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "",
        ];
        assert!(account_id(samples[0]).is_ok());
        assert!(account_id(samples[1]).is_ok());
        for bad in &samples[2..] {
            assert!(account_id(bad).is_err(), "{bad}");
        }
        agrees(ACCOUNT_ID, account_id, &samples);
    }

    #[test]
    fn remote_key_templates_use_known_placeholders_and_key() {
        let samples = [
            "{prefix}/aws/ecr/{name}/{key}",
            "ecr-{name}-{key}",
            "{key}",
            "{prefix}/{name}",
            "{prefix}/{account}/{key}",
            "{prefix}/{name}/{key",
            "x}/{key}",
            "{}{key}",
            "",
        ];
        for good in &samples[..3] {
            assert!(remote_key_template(good).is_ok(), "{good}");
        }
        for bad in &samples[3..] {
            assert!(remote_key_template(bad).is_err(), "{bad}");
        }
        let unknown = remote_key_template("{prefix}/{nmae}/{key}").expect_err("typo");
        assert_eq!(
            unknown.label,
            "unknown placeholder `{nmae}`: did you mean `{name}`?"
        );
        agrees(REMOTE_KEY_TEMPLATE, remote_key_template, &samples);
    }

    #[test]
    fn image_repositories_follow_the_reference_grammar_without_tag() {
        let samples = [
            "ghcr.io/ecr-registry-helper/ecr-refresher",
            "localhost:5000/refresher",
            "refresher",
            "my-registry.example.com/team/ecr__refresher",
            "team/ab_c--d.e",
            "",
            " ",
            "ghcr.io/x/refresher ",
            "ghcr.io/x/refresher:1.0",
            "ghcr.io/x/refresher@sha256:abc",
            "ghcr.io/X/Refresher",
            "ghcr.io//refresher",
            "ghcr.io/-x",
            "ghcr.io/x./y",
            "-host.io/x",
        ];
        for good in &samples[..5] {
            assert!(
                image_repository(good).is_ok(),
                "{good}: {:?}",
                image_repository(good)
            );
        }
        for bad in &samples[5..] {
            assert!(image_repository(bad).is_err(), "{bad}");
        }
        let tagged = image_repository("ghcr.io/x/refresher:1.0").expect_err("tag");
        assert_eq!(
            tagged.hint.as_deref(),
            Some("write `repository: ghcr.io/x/refresher` and `tag: 1.0`")
        );
        assert!(image_repository(&format!("r/{}", "a".repeat(254))).is_err());
        agrees(IMAGE_REPOSITORY, image_repository, &samples);
    }

    #[test]
    fn image_tags_are_empty_or_valid_reference_tags() {
        let samples = [
            "", "0.1.0", "latest", "_x", "v1-rc.2", " 1", "1.0 ", ".x", "-x", "a/b", "a:b",
        ];
        for good in &samples[..5] {
            assert!(image_tag(good).is_ok(), "{good}");
        }
        for bad in &samples[5..] {
            assert!(image_tag(bad).is_err(), "{bad}");
        }
        assert!(image_tag(&"t".repeat(128)).is_ok());
        assert!(image_tag(&"t".repeat(129)).is_err());
        agrees(IMAGE_TAG, image_tag, &samples);
    }

    #[test]
    fn priority_class_names_are_empty_or_dns_subdomains() {
        let samples = [
            "",
            "high",
            "system-cluster-critical",
            "a.b",
            "High",
            "a_b",
            "a..b",
            " ",
        ];
        for good in &samples[..4] {
            assert!(optional_dns_subdomain(good).is_ok(), "{good}");
        }
        for bad in &samples[4..] {
            assert!(optional_dns_subdomain(bad).is_err(), "{bad}");
        }
        agrees(OPTIONAL_DNS_SUBDOMAIN, optional_dns_subdomain, &samples);
    }

    #[test]
    fn external_secret_api_versions_are_the_ones_eso_serves() {
        let samples = [
            "external-secrets.io/v1",
            "external-secrets.io/v1beta1",
            "",
            "external-secrets.io/v1alpha1",
            "external-secrets.io/v2",
            "v1",
            " external-secrets.io/v1",
        ];
        for good in &samples[..2] {
            assert!(eso_api_version(good).is_ok(), "{good}");
        }
        for bad in &samples[2..] {
            assert!(eso_api_version(bad).is_err(), "{bad}");
        }
        agrees(ESO_API_VERSION, eso_api_version, &samples);
    }

    #[test]
    fn user_labels_may_not_reuse_the_chart_label_keys() {
        for key in names::CHART_LABEL_KEYS {
            let finding = user_label_key(key).expect_err(key);
            assert!(
                finding
                    .hint
                    .as_deref()
                    .unwrap_or("")
                    .contains("use a key of your own"),
                "{finding:?}"
            );
        }
        assert!(user_label_key("team").is_ok());
        assert!(user_label_key("app.kubernetes.io/component").is_ok());
        assert!(user_label_key("Bad Key").is_err());
    }

    #[test]
    fn suggestions_pick_the_closest_candidate_or_none() {
        let keys = ["name", "region", "namespace", "schedule"];
        assert_eq!(suggest("shedule", keys, 0.8), Some("schedule"));
        assert_eq!(suggest("Region", keys, 0.8), Some("region"));
        assert_eq!(suggest("zzz", keys, 0.8), None);
    }
}
