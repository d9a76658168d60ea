//! A registry login (ECR's decoded token) and the `.dockerconfigjson` built from it (pure).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use jiff::Timestamp;

/// The type of a Secret holding a `.dockerconfigjson` (the only type the refresher writes).
pub const SECRET_TYPE: &str = "kubernetes.io/dockerconfigjson";
/// The data key of the docker config in such a Secret.
pub const DATA_KEY: &str = ".dockerconfigjson";

/// A docker login for one or more registries (one token serves every registry the principal
/// may read). Debug never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryLogin {
    /// Registry hosts, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`: the registry of
    /// `AWS_ACCOUNT` (or ECR's proxyEndpoint) first, then one per `REGISTRY_IDS` account;
    /// never empty, no duplicates.
    pub hosts: Vec<String>,
    /// User name from the token (`AWS`).
    pub username: String,
    /// Password from the token.
    pub password: Password,
    /// When the token expires, if ECR said.
    pub expires_at: Option<Timestamp>,
}

impl fmt::Debug for RegistryLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryLogin")
            .field("hosts", &self.hosts)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A registry password. Debug and Display print `<redacted>`; [`Password::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The password itself, for building the dockerconfigjson only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why an authorization token could not be decoded. Never includes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not base64 (the decoder's own error is dropped: it quotes a byte of the token).
    #[error("the authorization token is not valid base64")]
    NotBase64,
    /// Decoded bytes are not UTF-8.
    #[error("the decoded authorization token is not UTF-8 text")]
    NotUtf8,
    /// No `:` between user and password.
    #[error("the decoded authorization token is not of the form <user>:<password>")]
    MissingColon,
    /// Empty user or password.
    #[error("the decoded authorization token has an empty user or password")]
    Empty,
}

/// Decodes an ECR authorization token, `base64("AWS:<password>")`, into user and password.
pub fn decode_token(encoded: &str) -> Result<(String, Password), TokenError> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|_| TokenError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| TokenError::NotUtf8)?;
    let (user, password) = text.split_once(':').ok_or(TokenError::MissingColon)?;
    if user.is_empty() || password.is_empty() {
        return Err(TokenError::Empty);
    }
    Ok((user.to_owned(), Password::new(password)))
}

/// The bytes of a `.dockerconfigjson`. Debug prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct DockerConfigJson(Vec<u8>);

impl DockerConfigJson {
    /// The JSON document, to be stored in the Secret only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The `.dockerconfigjson` of a Secret the refresher wrote before, to copy as it is (the
    /// sync run): `None` unless it is a JSON object whose `auths` is a non-empty object.
    pub fn from_existing(bytes: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let auths = value.get("auths")?.as_object()?;
        (!auths.is_empty()).then(|| Self(bytes.to_vec()))
    }
}

impl fmt::Debug for DockerConfigJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DockerConfigJson(<redacted>)")
    }
}

/// Builds `{"auths": {"<host>": {"username", "password", "auth": base64("user:password")}, …}}`,
/// one entry per registry host, all with the same token.
pub fn render(login: &RegistryLogin) -> DockerConfigJson {
    let password = login.password.expose();
    let auth = STANDARD.encode(format!("{}:{password}", login.username));
    let auths: serde_json::Map<String, serde_json::Value> = login
        .hosts
        .iter()
        .map(|host| {
            let entry = serde_json::json!({
                "username": login.username,
                "password": password,
                "auth": auth,
            });
            (host.clone(), entry)
        })
        .collect();
    let document = serde_json::json!({ "auths": auths });
    DockerConfigJson(document.to_string().into_bytes())
}

/// The document with `password` and `auth` of every entry replaced by `redacted`, as JSON
/// text: shows the registry hosts and user names, no credential. Anything that is not a
/// docker config (it never is) becomes `redacted` as a whole.
pub fn redact(document: &[u8], redacted: &str) -> String {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(document) else {
        return redacted.to_owned();
    };
    let Some(auths) = value.get_mut("auths").and_then(|a| a.as_object_mut()) else {
        return redacted.to_owned();
    };
    for entry in auths.values_mut() {
        match entry.as_object_mut() {
            Some(fields) => {
                for (key, field) in fields.iter_mut() {
                    if key != "username" {
                        *field = serde_json::Value::String(redacted.to_owned());
                    }
                }
            }
            None => *entry = serde_json::Value::String(redacted.to_owned()),
        }
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(host: &str) -> RegistryLogin {
        RegistryLogin {
            hosts: vec![host.into()],
            username: "AWS".into(),
            password: Password::new("pa$$:word"),
            expires_at: None,
        }
    }

    #[test]
    fn a_valid_token_decodes_to_user_and_password() {
        let encoded = STANDARD.encode("AWS:s3cr3t:with:colons");
        let (user, password) = decode_token(&encoded).expect("valid token");
        assert_eq!(user, "AWS");
        assert_eq!(password.expose(), "s3cr3t:with:colons");
    }

    #[test]
    fn a_token_that_is_not_base64_is_rejected_without_echoing_it() {
        let err = decode_token("not base64 at all!").expect_err("invalid");
        assert_eq!(err, TokenError::NotBase64);
        assert!(!err.to_string().contains("not base64 at all"));
    }

    #[test]
    fn a_token_without_a_colon_is_rejected() {
        let encoded = STANDARD.encode("AWSnopassword");
        assert_eq!(decode_token(&encoded), Err(TokenError::MissingColon));
    }

    #[test]
    fn a_token_with_an_empty_password_is_rejected() {
        let encoded = STANDARD.encode("AWS:");
        assert_eq!(decode_token(&encoded), Err(TokenError::Empty));
    }

    #[test]
    fn a_token_that_is_not_utf8_is_rejected() {
        let encoded = STANDARD.encode([0xff, 0xfe, b':', b'x']);
        assert_eq!(decode_token(&encoded), Err(TokenError::NotUtf8));
    }

    #[test]
    fn debug_of_a_login_hides_the_password() {
        let login = RegistryLogin {
            hosts: vec!["123456789012.dkr.ecr.eu-west-1.amazonaws.com".into()],
            username: "AWS".into(),
            password: Password::new("hunter2-very-secret"),
            expires_at: None,
        };
        let debug = format!("{login:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn the_document_has_one_auth_entry_for_the_registry_host() {
        let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
        let json: serde_json::Value =
            serde_json::from_slice(render(&login(host)).expose()).expect("valid JSON");
        assert_eq!(
            json,
            serde_json::json!({
                "auths": {
                    host: {
                        "username": "AWS",
                        "password": "pa$$:word",
                        "auth": STANDARD.encode("AWS:pa$$:word"),
                    }
                }
            })
        );
    }

    #[test]
    fn auth_is_base64_of_user_colon_password() {
        let json: serde_json::Value = serde_json::from_slice(
            render(&login("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")).expose(),
        )
        .expect("valid JSON");
        let auth = json["auths"]["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"]["auth"]
            .as_str()
            .expect("auth is a string");
        assert_eq!(STANDARD.decode(auth).expect("base64"), b"AWS:pa$$:word");
    }

    #[test]
    fn an_existing_document_is_kept_byte_for_byte_only_if_it_names_a_registry() {
        let rendered = render(&login("h"));
        let copied = DockerConfigJson::from_existing(rendered.expose()).expect("our document");
        assert_eq!(copied.expose(), rendered.expose());
        for bad in [
            &b"not json"[..],
            b"[]",
            br#"{"auths":{}}"#,
            br#"{"auths":[1]}"#,
            b"{}",
        ] {
            assert_eq!(DockerConfigJson::from_existing(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_document() {
        let debug = format!("{:?}", render(&login("h")));
        assert!(!debug.contains("pa$$"), "{debug}");
        assert!(!debug.contains("auth"), "{debug}");
    }

    #[test]
    fn every_host_gets_an_entry_with_the_same_token() {
        let mut two = login("111111111111.dkr.ecr.eu-west-1.amazonaws.com");
        two.hosts
            .push("222222222222.dkr.ecr.eu-west-1.amazonaws.com".into());
        let json: serde_json::Value =
            serde_json::from_slice(render(&two).expose()).expect("valid JSON");
        let auths = json["auths"].as_object().expect("auths");
        assert_eq!(auths.len(), 2);
        assert_eq!(
            auths["111111111111.dkr.ecr.eu-west-1.amazonaws.com"],
            auths["222222222222.dkr.ecr.eu-west-1.amazonaws.com"]
        );
        assert_eq!(
            auths["222222222222.dkr.ecr.eu-west-1.amazonaws.com"]["password"],
            "pa$$:word"
        );
    }

    #[test]
    fn the_redacted_document_shows_hosts_and_users_but_no_credential() {
        let mut two = login("111111111111.dkr.ecr.eu-west-1.amazonaws.com");
        two.hosts
            .push("222222222222.dkr.ecr.eu-west-1.amazonaws.com".into());
        let text = redact(render(&two).expose(), "<redacted>");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for host in [
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
            "222222222222.dkr.ecr.eu-west-1.amazonaws.com",
        ] {
            assert_eq!(
                json["auths"][host],
                serde_json::json!({"username": "AWS", "password": "<redacted>", "auth": "<redacted>"})
            );
        }
        assert!(!text.contains("pa$$"), "{text}");
        assert!(!text.contains(&STANDARD.encode("AWS:pa$$:word")), "{text}");
        assert_eq!(redact(b"not json", "<redacted>"), "<redacted>");
        assert_eq!(redact(br#"{"other": 1}"#, "<redacted>"), "<redacted>");
    }
}
