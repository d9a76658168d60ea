//! Field paths into the values (`ecrRegistries[1].schedule`), as users read and write them.

use std::fmt;

/// One step of a field path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the top of the values to one field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The top of the document.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path extended by a mapping key.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_owned()));
        Self(segments)
    }

    /// This path extended by a list index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Self(segments)
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path without its last segment (the root stays the root).
    pub fn parent(&self) -> Self {
        let mut segments = self.0.clone();
        segments.pop();
        Self(segments)
    }

    /// The last mapping key of the path, if it ends in one.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Segment::Key(key)) => Some(key),
            _ => None,
        }
    }

    /// Every prefix of the path, the root first and the path itself last.
    pub fn prefixes(&self) -> impl DoubleEndedIterator<Item = FieldPath> + '_ {
        (0..=self.0.len()).map(|n| Self(self.0[..n].to_vec()))
    }

    /// Walk a JSON value along this path.
    pub fn lookup<'v>(&self, mut value: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        for segment in &self.0 {
            value = match segment {
                Segment::Key(key) => value.as_object()?.get(key)?,
                Segment::Index(index) => value.as_array()?.get(*index)?,
            };
        }
        Some(value)
    }

    /// Build the path of a JSON pointer (`/ecrRegistries/1/schedule`) into `value`, using the
    /// value to tell list indices from mapping keys that look like numbers.
    pub fn from_pointer(pointer: &str, mut value: Option<&serde_json::Value>) -> Self {
        let mut path = Self::root();
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let as_index = match value {
                Some(serde_json::Value::Array(_)) => token.parse::<usize>().ok(),
                _ => None,
            };
            match as_index {
                Some(index) => {
                    value = value.and_then(|v| v.get(index));
                    path.0.push(Segment::Index(index));
                }
                None => {
                    value = value.and_then(|v| v.get(&token));
                    path.0.push(Segment::Key(token));
                }
            }
        }
        path
    }
}

fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (n, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if is_plain_key(key) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[{}]", serde_json::Value::from(key.as_str()))?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_like_yaml_field_references() {
        let path = FieldPath::root()
            .key("ecrRegistries")
            .index(1)
            .key("schedule");
        assert_eq!(path.to_string(), "ecrRegistries[1].schedule");
        let odd = FieldPath::root()
            .key("nodeSelector")
            .key("kubernetes.io/os");
        assert_eq!(odd.to_string(), r#"nodeSelector["kubernetes.io/os"]"#);
        assert_eq!(FieldPath::root().to_string(), "(top level)");
    }

    #[test]
    fn pointers_use_the_value_to_tell_indices_from_numeric_keys() {
        let value = json!({"a": [{"b": 1}], "m": {"0": true}});
        let path = FieldPath::from_pointer("/a/0/b", Some(&value));
        assert_eq!(path, FieldPath::root().key("a").index(0).key("b"));
        let path = FieldPath::from_pointer("/m/0", Some(&value));
        assert_eq!(path, FieldPath::root().key("m").key("0"));
        let path = FieldPath::from_pointer("/x~1y~0z", Some(&value));
        assert_eq!(path, FieldPath::root().key("x/y~z"));
        assert_eq!(path.lookup(&value), None);
        assert_eq!(
            FieldPath::root().key("a").index(0).lookup(&value),
            Some(&json!({"b": 1}))
        );
    }
}
