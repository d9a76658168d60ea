//! A registry's AWS credentials in the sync run: its credentials Secret mounted as a directory
//! (`<SYNC_CREDENTIALS_DIR>/<registry>/<KEY>`), read only when ECR must be asked.

use std::fmt;
use std::path::{Path, PathBuf};

use ecr_contract::keys;

use crate::error::Error;

/// Static AWS keys from a credentials Secret. Debug never shows the secret key or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    /// `AWS_ACCOUNT` of the Secret, which overrides the ConfigMap's.
    pub account: Option<String>,
}

impl StaticKeys {
    /// `AWS_SECRET_ACCESS_KEY`, for the SDK's credentials provider only.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// `AWS_SESSION_TOKEN`, for the SDK's credentials provider only.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("account", &self.account)
            .finish()
    }
}

/// The keys in `dir`: `None` if there is no such directory (the registry uses the pod's own AWS
/// identity). A directory without both keys fails: the Secret it mounts (optional) is missing
/// or incomplete, and the pod's identity is not this registry's. Values are trimmed (a key
/// never holds whitespace; files often end in a newline).
pub fn read(dir: &Path) -> Result<Option<StaticKeys>, Error> {
    match std::fs::metadata(dir) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::SyncRead {
                path: dir.to_path_buf(),
                source,
            });
        }
        Ok(_) => {}
    }
    let key = |name: &str| read_key(&dir.join(name));
    let access_key_id = key(keys::AWS_ACCESS_KEY_ID)?;
    let secret_access_key = key(keys::AWS_SECRET_ACCESS_KEY)?;
    let session_token = key(keys::AWS_SESSION_TOKEN)?;
    let account = key(keys::AWS_ACCOUNT)?;
    let missing = |what: String| Error::SyncCredentials {
        dir: dir.to_path_buf(),
        reason: format!(
            "{what} — the registry's credentials Secret is mounted here (optional: it may not exist yet, e.g. before External Secrets filled it); create it with both keys or fix its ExternalSecret"
        ),
    };
    match (access_key_id, secret_access_key) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(StaticKeys {
            access_key_id,
            secret_access_key,
            session_token,
            account,
        })),
        (None, None) => Err(missing(format!(
            "holds neither {} nor {}",
            keys::AWS_ACCESS_KEY_ID,
            keys::AWS_SECRET_ACCESS_KEY
        ))),
        (None, Some(_)) => Err(missing(format!("holds no {}", keys::AWS_ACCESS_KEY_ID))),
        (Some(_), None) => Err(missing(format!("holds no {}", keys::AWS_SECRET_ACCESS_KEY))),
    }
}

/// One key's file, trimmed: `None` if absent or blank. The value never appears in an error.
fn read_key(file: &PathBuf) -> Result<Option<String>, Error> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::SyncRead {
                path: file.clone(),
                source,
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::SyncSettingValue {
        file: file.clone(),
        reason: "not UTF-8 text".into(),
    })?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_directory_means_the_pods_identity_and_an_empty_one_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(&dir.path().join("absent")).expect("no dir"), None);
        let err = read(dir.path()).expect_err("empty dir");
        let msg = err.to_string();
        assert!(
            msg.contains("holds neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY"),
            "{msg}"
        );
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    }

    #[test]
    fn keys_are_trimmed_and_debug_hides_the_secret_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |k: &str, v: &str| std::fs::write(dir.path().join(k), v).expect("write");
        write(keys::AWS_ACCESS_KEY_ID, "AKIAEXAMPLE\n");
        let err = read(dir.path()).expect_err("half a key");
        assert!(
            err.to_string().contains("holds no AWS_SECRET_ACCESS_KEY"),
            "{err}"
        );
        write(keys::AWS_SECRET_ACCESS_KEY, "very-secret-key\n");
        write(keys::AWS_SESSION_TOKEN, "very-secret-token");
        write(keys::AWS_ACCOUNT, " 123456789012 ");
        let keys = read(dir.path()).expect("read").expect("keys");
        assert_eq!(keys.access_key_id, "AKIAEXAMPLE");
        assert_eq!(keys.secret_access_key(), "very-secret-key");
        assert_eq!(keys.session_token(), Some("very-secret-token"));
        assert_eq!(keys.account.as_deref(), Some("123456789012"));
        let debug = format!("{keys:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
    }
}
