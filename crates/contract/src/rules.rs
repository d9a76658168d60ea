//! Every name and format rule both binaries check: DNS-1123 labels and subdomains, label keys
//! and values, registry and release names, AWS account IDs, regions and their partitions, and
//! IAM role ARNs. Each rule answers with a typed [`Fault`]; callers add their own wording.

use std::fmt;

use crate::names::MAX_REGISTRY_NAME;

/// Longest DNS-1123 label (a namespace, each part of a subdomain, a label value).
pub const MAX_LABEL: usize = 63;
/// Longest DNS-1123 subdomain (a Secret or ServiceAccount name).
pub const MAX_SUBDOMAIN: usize = 253;
/// Longest Helm release name.
pub const MAX_RELEASE_NAME: usize = 53;
/// Longest IAM role name.
pub const MAX_ROLE_NAME: usize = 64;
/// Most bytes of annotations one object may carry: Kubernetes' `TotalAnnotationSizeLimitB`
/// (256 KiB), the sum of the lengths of every key and value (apimachinery
/// `ValidateAnnotationsSize`).
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// The size of annotations as the API server counts it against [`MAX_ANNOTATIONS_BYTES`]:
/// the byte lengths of every key and value, summed.
pub fn annotations_size<'a>(annotations: impl IntoIterator<Item = (&'a str, &'a str)>) -> usize {
    annotations
        .into_iter()
        .map(|(key, value)| key.len() + value.len())
        .sum()
}

/// What is wrong with a value, in a few words (its `Display` is a short reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Nothing was given.
    Empty,
    /// Longer than allowed (characters).
    TooLong { len: usize, max: usize },
    /// A DNS name with uppercase letters.
    Uppercase,
    /// A character the rule does not allow.
    Character(char),
    /// A DNS name that starts or ends with `-`.
    DashAtEdge,
    /// A subdomain with an empty part between dots.
    EmptyPart,
    /// A label value or key name with a character other than letters, digits, `-_.`.
    NameCharacters,
    /// A label value or key name not starting and ending with a letter or digit.
    NameEdge,
    /// A label or annotation key with nothing after its `prefix/`.
    KeyNameEmpty,
    /// A label or annotation key whose name part is wrong.
    KeyName(Box<Fault>),
    /// A label or annotation key whose name part is longer than 63 characters.
    KeyNameTooLong,
    /// A label or annotation key whose prefix is not a DNS-1123 subdomain.
    KeyPrefix,
    /// Not an AWS region of a known partition.
    Region,
    /// An account ID of digits only, but not 12 of them.
    AccountDigits(usize),
    /// An account ID with other characters than digits.
    AccountNotDigits,
    /// An ARN not of the form `arn:<partition>:iam::<account>:role/<name>`.
    ArnShape,
    /// An ARN not starting with `arn:`.
    ArnPrefix,
    /// An ARN of an unknown partition.
    ArnPartition,
    /// An ARN of another service than IAM.
    ArnService,
    /// A role ARN with a region.
    ArnRegion,
    /// A role ARN whose account is not 12 digits.
    ArnAccount,
    /// An ARN whose resource is not `role/…`.
    ArnResource,
    /// A role name or path with characters other than letters, digits and `+=,.@_-`.
    ArnName,
    /// A role name longer than 64 characters.
    ArnNameTooLong,
    /// A label selector operator other than `In`, `NotIn`, `Exists`, `DoesNotExist`.
    SelectorOperator,
    /// An `In` or `NotIn` requirement without values.
    SelectorValuesMissing,
    /// An `Exists` or `DoesNotExist` requirement with values.
    SelectorValuesGiven,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Empty => f.write_str("it is empty"),
            Fault::TooLong { len, max } => write!(f, "{len} characters (at most {max})"),
            Fault::Uppercase => f.write_str("it has uppercase letters"),
            Fault::Character(c) => write!(f, "it has the character `{c}`"),
            Fault::DashAtEdge => f.write_str("it starts or ends with `-`"),
            Fault::EmptyPart => f.write_str("it has an empty part between dots"),
            Fault::NameCharacters => {
                f.write_str("only letters, digits, '-', '_' and '.' are allowed")
            }
            Fault::NameEdge => f.write_str("it must start and end with a letter or digit"),
            Fault::KeyNameEmpty => f.write_str("the name after the prefix is empty"),
            Fault::KeyName(fault) => write!(f, "name part: {fault}"),
            Fault::KeyNameTooLong => f.write_str("the name part is longer than 63 characters"),
            Fault::KeyPrefix => f.write_str("the prefix before '/' is not a DNS-1123 subdomain"),
            Fault::Region => f.write_str("unknown AWS region"),
            Fault::AccountDigits(n) => write!(f, "{n} digits, not 12"),
            Fault::AccountNotDigits => f.write_str("not only digits"),
            Fault::ArnShape => {
                f.write_str("not of the form `arn:<partition>:iam::<account>:role/<name>`")
            }
            Fault::ArnPrefix => f.write_str("an ARN starts with `arn:`"),
            Fault::ArnPartition => f.write_str("the partition is `aws`, `aws-cn` or `aws-us-gov`"),
            Fault::ArnService => f.write_str("a role ARN names the service `iam`"),
            Fault::ArnRegion => {
                f.write_str("IAM is global: the region part of a role ARN is empty (`iam::`)")
            }
            Fault::ArnAccount => f.write_str("the account part is a 12-digit account ID"),
            Fault::ArnResource => {
                f.write_str("the resource part of a role ARN starts with `role/`")
            }
            Fault::ArnName => {
                f.write_str("a role name and path use letters, digits and `+=,.@_-` only")
            }
            Fault::ArnNameTooLong => f.write_str("a role name has at most 64 characters"),
            Fault::SelectorOperator => {
                f.write_str("the operator is `In`, `NotIn`, `Exists` or `DoesNotExist`")
            }
            Fault::SelectorValuesMissing => f.write_str(
                "`values` must be given (non-empty) when the operator is `In` or `NotIn`",
            ),
            Fault::SelectorValuesGiven => f.write_str(
                "`values` must be empty when the operator is `Exists` or `DoesNotExist`",
            ),
        }
    }
}

impl std::error::Error for Fault {}

fn too_long(s: &str, max: usize) -> Result<(), Fault> {
    let len = s.chars().count();
    if len > max {
        Err(Fault::TooLong { len, max })
    } else {
        Ok(())
    }
}

/// The characters and edges of a DNS-1123 label (lowercase letters, digits and `-`, starting
/// and ending with a letter or digit), length not checked.
fn dns_label_shape(s: &str) -> Result<(), Fault> {
    if s.is_empty() {
        return Err(Fault::Empty);
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(Fault::Uppercase);
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(Fault::Character(c));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(Fault::DashAtEdge);
    }
    Ok(())
}

/// A DNS-1123 label of at most 63 characters (a namespace).
pub fn dns_label(s: &str) -> Result<(), Fault> {
    dns_label_shape(s)?;
    too_long(s, MAX_LABEL)
}

/// A DNS-1123 subdomain: labels joined by `.`, at most 253 characters (a Secret or
/// ServiceAccount name).
pub fn dns_subdomain(s: &str) -> Result<(), Fault> {
    dns_subdomain_of(s, MAX_SUBDOMAIN)
}

fn dns_subdomain_of(s: &str, max: usize) -> Result<(), Fault> {
    if s.is_empty() {
        return Err(Fault::Empty);
    }
    for part in s.split('.') {
        dns_label_shape(part).map_err(|fault| match fault {
            Fault::Empty => Fault::EmptyPart,
            other => other,
        })?;
    }
    too_long(s, max)
}

/// A namespace: a DNS-1123 label.
pub fn namespace(s: &str) -> Result<(), Fault> {
    dns_label(s)
}

/// A registry name: a DNS-1123 label short enough for every name derived from it.
pub fn registry_name(s: &str) -> Result<(), Fault> {
    dns_label_shape(s)?;
    too_long(s, MAX_REGISTRY_NAME)
}

/// The operator of a label selector's `matchExpressions` item (Kubernetes'
/// `LabelSelectorOperator`, checked as `ValidateLabelSelectorRequirement` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorOperator {
    /// The label is set to one of the values.
    In,
    /// The label is not set, or set to none of the values.
    NotIn,
    /// The label is set.
    Exists,
    /// The label is not set.
    DoesNotExist,
}

impl SelectorOperator {
    /// Every operator's name, as the API spells it.
    pub const NAMES: [&'static str; 4] = ["In", "NotIn", "Exists", "DoesNotExist"];

    /// The operator named `s` (exact case, as the API requires).
    pub fn parse(s: &str) -> Result<Self, Fault> {
        match s {
            "In" => Ok(Self::In),
            "NotIn" => Ok(Self::NotIn),
            "Exists" => Ok(Self::Exists),
            "DoesNotExist" => Ok(Self::DoesNotExist),
            _ => Err(Fault::SelectorOperator),
        }
    }

    /// The number of `values` the operator takes: at least one for `In`/`NotIn`, none for
    /// `Exists`/`DoesNotExist` (each value is a [`label_value`]).
    pub fn check_values(self, count: usize) -> Result<(), Fault> {
        match (self, count) {
            (Self::In | Self::NotIn, 0) => Err(Fault::SelectorValuesMissing),
            (Self::Exists | Self::DoesNotExist, 1..) => Err(Fault::SelectorValuesGiven),
            _ => Ok(()),
        }
    }
}

/// A Helm release name: a DNS-1123 subdomain of at most 53 characters (Helm's own rule).
pub fn release_name(s: &str) -> Result<(), Fault> {
    dns_subdomain_of(s, MAX_RELEASE_NAME)
}

/// The name part of a label key or a label value: letters, digits, `-`, `_` and `.`, starting
/// and ending with a letter or digit (length not checked).
fn qualified_name_shape(s: &str) -> Result<(), Fault> {
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Err(Fault::NameCharacters)
    } else if !s.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !s.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        Err(Fault::NameEdge)
    } else {
        Ok(())
    }
}

/// A Kubernetes label value: empty, or at most 63 letters, digits, `-`, `_` and `.`, starting
/// and ending with a letter or digit.
pub fn label_value(s: &str) -> Result<(), Fault> {
    if s.is_empty() {
        return Ok(());
    }
    qualified_name_shape(s)?;
    too_long(s, MAX_LABEL)
}

/// A label or annotation key: `[prefix/]name`, the prefix a DNS-1123 subdomain, the name at
/// most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
pub fn qualified_key(s: &str) -> Result<(), Fault> {
    let (prefix, name) = match s.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, s),
    };
    if name.is_empty() {
        return Err(Fault::KeyNameEmpty);
    }
    qualified_name_shape(name).map_err(|f| Fault::KeyName(Box::new(f)))?;
    if name.chars().count() > MAX_LABEL {
        return Err(Fault::KeyNameTooLong);
    }
    if let Some(prefix) = prefix
        && dns_subdomain(prefix).is_err()
    {
        return Err(Fault::KeyPrefix);
    }
    Ok(())
}

/// A 12-digit AWS account ID.
pub fn account_id(s: &str) -> Result<(), Fault> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if digits == s.len() {
        Err(Fault::AccountDigits(digits))
    } else {
        Err(Fault::AccountNotDigits)
    }
}

/// An AWS partition the chart and the refresher support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// `aws`: the commercial regions.
    Aws,
    /// `aws-cn`: the China regions.
    AwsCn,
    /// `aws-us-gov`: AWS GovCloud (US).
    AwsUsGov,
}

/// The areas and directions of commercial region codes (`eu-central-1`).
const AREAS: &[&str] = &["af", "ap", "ca", "eu", "il", "me", "mx", "sa", "us"];
const DIRECTIONS: &[&str] = &[
    "central",
    "north",
    "northeast",
    "northwest",
    "south",
    "southeast",
    "southwest",
    "east",
    "west",
];

impl Partition {
    /// Every supported partition.
    pub const ALL: [Partition; 3] = [Partition::Aws, Partition::AwsCn, Partition::AwsUsGov];

    /// Its ID, as in ARNs: `aws`, `aws-cn`, `aws-us-gov`.
    pub fn id(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }

    /// The DNS suffix of its endpoints and registries.
    pub fn dns_suffix(self) -> &'static str {
        match self {
            Partition::AwsCn => "amazonaws.com.cn",
            Partition::Aws | Partition::AwsUsGov => "amazonaws.com",
        }
    }

    /// The partition of an ID (`aws-cn`).
    pub fn from_id(id: &str) -> Option<Partition> {
        Self::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The partition of a region code, if it is a region of a supported partition.
    pub fn of_region(region: &str) -> Option<Partition> {
        if let Some(rest) = region.strip_prefix("cn-") {
            return matches!(rest, "north-1" | "northwest-1").then_some(Partition::AwsCn);
        }
        if let Some(rest) = region.strip_prefix("us-gov-") {
            return matches!(rest, "east-1" | "west-1").then_some(Partition::AwsUsGov);
        }
        let mut parts = region.split('-');
        let (Some(area), Some(direction), Some(number), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let ok = AREAS.contains(&area)
            && DIRECTIONS.contains(&direction)
            && (1..=2).contains(&number.len())
            && number.bytes().all(|b| b.is_ascii_digit())
            && !number.starts_with('0');
        ok.then_some(Partition::Aws)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An AWS region of a supported partition; gives the partition.
pub fn region(s: &str) -> Result<Partition, Fault> {
    Partition::of_region(s).ok_or(Fault::Region)
}

/// An IAM role ARN, `arn:<partition>:iam::<12-digit account>:role/<optional path/><name>`;
/// gives its partition.
pub fn role_arn(s: &str) -> Result<Partition, Fault> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(Fault::ArnShape);
    };
    if *arn != "arn" {
        return Err(Fault::ArnPrefix);
    }
    let partition = Partition::from_id(partition).ok_or(Fault::ArnPartition)?;
    if *service != "iam" {
        return Err(Fault::ArnService);
    }
    if !region.is_empty() {
        return Err(Fault::ArnRegion);
    }
    if account_id(account).is_err() {
        return Err(Fault::ArnAccount);
    }
    let path_and_name = resource.strip_prefix("role/").ok_or(Fault::ArnResource)?;
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    };
    if !path_and_name.split('/').all(part_ok) {
        return Err(Fault::ArnName);
    }
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    if name.len() > MAX_ROLE_NAME {
        return Err(Fault::ArnNameTooLong);
    }
    Ok(partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels_follow_dns_1123() {
        assert_eq!(dns_label("apps-1"), Ok(()));
        assert_eq!(dns_label(""), Err(Fault::Empty));
        assert_eq!(dns_label("Apps"), Err(Fault::Uppercase));
        assert_eq!(dns_label("a_b"), Err(Fault::Character('_')));
        assert_eq!(dns_label("a.b"), Err(Fault::Character('.')));
        assert_eq!(dns_label("-a"), Err(Fault::DashAtEdge));
        assert_eq!(dns_label(&"a".repeat(63)), Ok(()));
        assert_eq!(
            dns_label(&"a".repeat(64)),
            Err(Fault::TooLong { len: 64, max: 63 })
        );
    }

    #[test]
    fn subdomains_and_release_names_are_dotted_labels() {
        assert_eq!(dns_subdomain("a.b-c.d"), Ok(()));
        assert_eq!(dns_subdomain("a..b"), Err(Fault::EmptyPart));
        assert_eq!(dns_subdomain("a.-b"), Err(Fault::DashAtEdge));
        assert_eq!(dns_subdomain("a-.b"), Err(Fault::DashAtEdge));
        assert_eq!(dns_subdomain(".a"), Err(Fault::EmptyPart));
        assert_eq!(release_name("my.release"), Ok(()));
        assert_eq!(release_name("a..b"), Err(Fault::EmptyPart));
        assert_eq!(
            release_name(&"a".repeat(54)),
            Err(Fault::TooLong { len: 54, max: 53 })
        );
    }

    #[test]
    fn registry_names_fit_their_derived_names() {
        assert_eq!(registry_name(&"a".repeat(32)), Ok(()));
        assert_eq!(
            registry_name(&"a".repeat(33)),
            Err(Fault::TooLong { len: 33, max: 32 })
        );
    }

    #[test]
    fn selector_operators_and_their_values_follow_the_api_server() {
        assert_eq!(SelectorOperator::parse("In"), Ok(SelectorOperator::In));
        assert_eq!(SelectorOperator::parse("in"), Err(Fault::SelectorOperator));
        assert_eq!(
            SelectorOperator::parse("Equals"),
            Err(Fault::SelectorOperator)
        );
        for name in SelectorOperator::NAMES {
            assert!(SelectorOperator::parse(name).is_ok(), "{name}");
        }
        assert_eq!(
            SelectorOperator::In.check_values(0),
            Err(Fault::SelectorValuesMissing)
        );
        assert_eq!(SelectorOperator::NotIn.check_values(2), Ok(()));
        assert_eq!(SelectorOperator::Exists.check_values(0), Ok(()));
        assert_eq!(
            SelectorOperator::DoesNotExist.check_values(1),
            Err(Fault::SelectorValuesGiven)
        );
    }

    #[test]
    fn label_keys_and_values_follow_the_api_server() {
        assert_eq!(label_value(""), Ok(()));
        assert_eq!(label_value("A_b.c-1"), Ok(()));
        assert_eq!(label_value("a b"), Err(Fault::NameCharacters));
        assert_eq!(label_value("_a"), Err(Fault::NameEdge));
        assert_eq!(qualified_key("example.com/team"), Ok(()));
        assert_eq!(qualified_key("team"), Ok(()));
        assert_eq!(qualified_key("example.com/"), Err(Fault::KeyNameEmpty));
        assert_eq!(qualified_key("Example.com/x"), Err(Fault::KeyPrefix));
        assert_eq!(
            qualified_key("a/-x"),
            Err(Fault::KeyName(Box::new(Fault::NameEdge)))
        );
        assert_eq!(qualified_key(&"x".repeat(64)), Err(Fault::KeyNameTooLong));
    }

    #[test]
    fn regions_name_their_partition() {
        assert_eq!(region("eu-west-1"), Ok(Partition::Aws));
        assert_eq!(region("ap-southeast-7"), Ok(Partition::Aws));
        assert_eq!(region("cn-northwest-1"), Ok(Partition::AwsCn));
        assert_eq!(region("us-gov-west-1"), Ok(Partition::AwsUsGov));
        for bad in [
            "",
            "eu-west",
            "eu-west-01",
            "xx-west-1",
            "cn-south-1",
            "us-iso-east-1",
        ] {
            assert_eq!(region(bad), Err(Fault::Region), "{bad}");
        }
        assert_eq!(Partition::AwsCn.dns_suffix(), "amazonaws.com.cn");
        assert_eq!(Partition::AwsUsGov.dns_suffix(), "amazonaws.com");
    }

    #[test]
    fn role_arns_name_an_iam_role_of_a_known_partition() {
        assert_eq!(
            role_arn("arn:aws:iam::123456789012:role/path/ecr-pull"),
            Ok(Partition::Aws)
        );
        assert_eq!(
            role_arn("arn:aws-cn:iam::123456789012:role/r"),
            Ok(Partition::AwsCn)
        );
        let cases = [
            ("arn:aws:iam::123456789012", Fault::ArnShape),
            ("urn:aws:iam::123456789012:role/r", Fault::ArnPrefix),
            ("arn:aws-iso:iam::123456789012:role/r", Fault::ArnPartition),
            ("arn:awsx:iam::123456789012:role/r", Fault::ArnPartition),
            ("arn:aws:sts::123456789012:role/r", Fault::ArnService),
            (
                "arn:aws:iam:eu-west-1:123456789012:role/r",
                Fault::ArnRegion,
            ),
            ("arn:aws:iam::1234:role/r", Fault::ArnAccount),
            ("arn:aws:iam::123456789012:user/r", Fault::ArnResource),
            ("arn:aws:iam::123456789012:role/a//b", Fault::ArnName),
            ("arn:aws:iam::123456789012:role/r/", Fault::ArnName),
        ];
        for (arn, fault) in cases {
            assert_eq!(role_arn(arn), Err(fault), "{arn}");
        }
        let long = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65));
        assert_eq!(role_arn(&long), Err(Fault::ArnNameTooLong));
    }

    #[test]
    fn annotation_sizes_count_the_bytes_of_keys_and_values() {
        assert_eq!(annotations_size([("a", "bc"), ("é", "")]), 5);
        assert_eq!(MAX_ANNOTATIONS_BYTES, 262_144);
    }

    #[test]
    fn account_ids_have_twelve_digits() {
        assert_eq!(account_id("012345678901"), Ok(()));
        assert_eq!(account_id("12345"), Err(Fault::AccountDigits(5)));
        assert_eq!(account_id("12345678901a"), Err(Fault::AccountNotDigits));
    }
}
