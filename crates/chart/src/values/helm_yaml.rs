//! How Helm reads a plain YAML scalar: the resolve table of gopkg.in/yaml.v2 (`resolve.go`),
//! which sigs.k8s.io/yaml — Helm's and kubectl's values reader — uses.

/// What yaml.v2 makes of a plain (unquoted, untagged) scalar when it decodes into
/// `interface{}` (timestamps stay strings there).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HelmReads {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str,
}

impl HelmReads {
    /// How the value is called in messages.
    pub fn describe(self) -> String {
        match self {
            HelmReads::Null => "null".to_owned(),
            HelmReads::Bool(b) => format!("the boolean `{b}`"),
            HelmReads::Int(i) => format!("the number `{i}`"),
            HelmReads::Float(f) if f.is_nan() => "the number NaN".to_owned(),
            HelmReads::Float(f) if f.is_infinite() => "an infinite number".to_owned(),
            HelmReads::Float(f) => format!("the number `{f}`"),
            HelmReads::Str => "a string".to_owned(),
        }
    }
}

/// yaml.v2's `resolve("", in)` for a plain scalar.
pub fn helm_reads(plain: &str) -> HelmReads {
    let Some(&first) = plain.as_bytes().first() else {
        return HelmReads::Null;
    };
    match plain {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return HelmReads::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return HelmReads::Bool(false);
        }
        "~" | "null" | "Null" | "NULL" => return HelmReads::Null,
        ".nan" | ".NaN" | ".NAN" => return HelmReads::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return HelmReads::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return HelmReads::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match first {
        b'.' => go_parse_float(plain).map_or(HelmReads::Str, HelmReads::Float),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain: String = plain.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return HelmReads::Int(i);
            }
            if yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return HelmReads::Float(f);
            }
            HelmReads::Str
        }
        _ => HelmReads::Str,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)`: an optional sign (not for
/// unsigned), then `0x`, `0o`, `0b` or a leading `0` (octal) as the base, else decimal.
fn go_parse_int(s: &str) -> Option<i128> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1
        && let Some(rest) = lower.strip_prefix('0')
    {
        (8, rest)
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    let value = if negative {
        -i128::from(magnitude)
    } else {
        i128::from(magnitude)
    };
    // ParseInt takes what fits in an i64; ParseUint (no sign) what fits in a u64.
    let fits = i64::try_from(value).is_ok() || (s.as_bytes()[0] != b'-' && s.as_bytes()[0] != b'+');
    fits.then_some(value)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(n) => (&s[..n], Some(&s[n + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms a YAML scalar reaches it with.
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let decimal = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if !decimal {
        return None;
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_one_one_words_are_booleans_and_null() {
        for word in ["y", "Y", "yes", "on", "ON", "True"] {
            assert_eq!(helm_reads(word), HelmReads::Bool(true), "{word}");
        }
        for word in ["n", "NO", "off", "Off", "false"] {
            assert_eq!(helm_reads(word), HelmReads::Bool(false), "{word}");
        }
        assert_eq!(helm_reads("~"), HelmReads::Null);
        for word in [
            "yES",
            "nO",
            "oN",
            "nan",
            "inf",
            "linux",
            "1:20",
            "2026-01-02",
        ] {
            assert_eq!(helm_reads(word), HelmReads::Str, "{word}");
        }
    }

    #[test]
    fn go_integers_take_octal_binary_hex_and_underscores() {
        assert_eq!(helm_reads("0123"), HelmReads::Int(83));
        assert_eq!(helm_reads("0o17"), HelmReads::Int(15));
        assert_eq!(helm_reads("0b101"), HelmReads::Int(5));
        assert_eq!(helm_reads("-0b11"), HelmReads::Int(-3));
        assert_eq!(helm_reads("0x1F"), HelmReads::Int(31));
        assert_eq!(helm_reads("1_000"), HelmReads::Int(1000));
        assert_eq!(helm_reads("+12"), HelmReads::Int(12));
        assert_eq!(
            helm_reads("18446744073709551615"),
            HelmReads::Int(i128::from(u64::MAX))
        );
        // Not octal, so not an integer: the float rule reads it.
        assert_eq!(helm_reads("08"), HelmReads::Float(8.0));
        assert_eq!(helm_reads("1e3"), HelmReads::Float(1000.0));
        assert_eq!(helm_reads(".5"), HelmReads::Float(0.5));
        assert_eq!(helm_reads("1.2.3"), HelmReads::Str);
        assert_eq!(helm_reads("+"), HelmReads::Str);
    }
}
