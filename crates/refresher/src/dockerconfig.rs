//! Registry login → `.dockerconfigjson` bytes (pure).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::ecr::RegistryLogin;

/// The bytes of a `.dockerconfigjson`. Debug prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct DockerConfigJson(Vec<u8>);

impl DockerConfigJson {
    /// The JSON document, to be stored in the Secret only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for DockerConfigJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DockerConfigJson(<redacted>)")
    }
}

/// Builds `{"auths": {"<host>": {"username", "password", "auth": base64("user:password")}}}`.
pub fn render(login: &RegistryLogin) -> DockerConfigJson {
    let password = login.password.expose();
    let auth = STANDARD.encode(format!("{}:{password}", login.username));
    let document = serde_json::json!({
        "auths": {
            login.host.as_str(): {
                "username": login.username,
                "password": password,
                "auth": auth,
            }
        }
    });
    DockerConfigJson(document.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecr::Password;

    fn login(host: &str) -> RegistryLogin {
        RegistryLogin {
            host: host.into(),
            username: "AWS".into(),
            password: Password::new("pa$$:word"),
            expires_at: None,
        }
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
    fn debug_hides_the_document() {
        let debug = format!("{:?}", render(&login("h")));
        assert!(!debug.contains("pa$$"), "{debug}");
        assert!(!debug.contains("auth"), "{debug}");
    }
}
