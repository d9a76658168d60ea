//! moto's server (the real AWS API emulator from PyPI `moto[server]`), started per test on
//! 127.0.0.1 with a free port and killed on drop. A missing venv fails the test with a hint.
//! moto's own request recorder is on (`MOTO_ENABLE_RECORDING`, into a temporary file), so a
//! test can count the ECR calls it answered ([`Moto::ecr_token_calls`]).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HINT: &str = "run scripts/test (or: python3 -m venv .venv && .venv/bin/pip install -r tests/requirements.txt)";

/// The venv holding moto: `$ECR_TEST_VENV`, default `<repo root>/.venv`.
pub fn venv() -> PathBuf {
    match std::env::var_os("ECR_TEST_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
    }
}

fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.is_file(),
        "{} not found: moto is needed for this test — {HINT}",
        path.display()
    );
    path
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local addr")
        .port()
}

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    pub port: u16,
    log: tempfile::NamedTempFile,
    recording: tempfile::NamedTempFile,
}

impl Moto {
    /// Starts moto with every request allowed (no IAM checks).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts moto with extra environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0` to make it
    /// check signatures and IAM policies of every request.
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let server = venv_bin("moto_server");
        let log = tempfile::NamedTempFile::new().expect("log file");
        let recording = tempfile::NamedTempFile::new().expect("recording file");
        let port = free_port();
        let mut command = Command::new(&server);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", recording.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.reopen().expect("log")))
            .stderr(Stdio::from(log.reopen().expect("log")));
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e} — {HINT}", server.display()));
        let mut moto = Self {
            child,
            port,
            log,
            recording,
        };
        moto.wait_until_listening();
        moto
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("moto_server exited with {status}:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on port {} within 60 s:\n{}",
                self.port,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// moto's request log (one werkzeug line per request).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// How many ECR `GetAuthorizationToken` calls moto received so far (its recorder's entries
    /// whose `X-Amz-Target` names that action; retries count each).
    pub fn ecr_token_calls(&self) -> usize {
        let text = std::fs::read_to_string(self.recording.path()).unwrap_or_default();
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("recorder entry"))
            .filter(|entry| {
                entry["headers"].as_object().is_some_and(|headers| {
                    headers.iter().any(|(key, value)| {
                        key.eq_ignore_ascii_case("x-amz-target")
                            && value
                                .as_str()
                                .is_some_and(|v| v.ends_with(".GetAuthorizationToken"))
                    })
                })
            })
            .count()
    }

    /// How many ECR/IAM API calls (POSTs) moto answered so far.
    pub fn post_count(&self) -> usize {
        self.log_text().matches("POST / HTTP/1.1").count()
    }

    /// Creates an IAM user with an access key and no policy, through boto3 from the venv
    /// (uses two of the unauthenticated actions when moto runs with
    /// `INITIAL_NO_AUTH_ACTION_COUNT=2`). Returns (access key id, secret access key).
    pub fn create_user_without_policy(&self) -> (String, String) {
        let python = venv_bin("python");
        let script = r#"
import sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="no-ecr-permission")
key = iam.create_access_key(UserName="no-ecr-permission")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;
        let output = Command::new(&python)
            .args(["-c", script, &self.endpoint()])
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run python");
        assert!(
            output.status.success(),
            "creating an IAM user failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).expect("utf-8");
        let mut parts = text.split_whitespace();
        let id = parts.next().expect("key id").to_owned();
        let secret = parts.next().expect("secret key").to_owned();
        (id, secret)
    }
}

/// The IAM identities a test sets up in moto (see [`Moto::create_identities`]).
#[derive(Debug, Clone)]
pub struct Identities {
    /// Access key of IAM user `source`, if one was made.
    pub user_key: Option<(String, String)>,
    /// ARN of role `ecr-reader`, if one was made.
    pub role_arn: Option<String>,
}

/// How many moto actions [`Moto::create_identities`] uses: 3 for a user (create, policy,
/// key; 2 without a policy), 2 for a role (create, policy; 1 without). Start moto with
/// `INITIAL_NO_AUTH_ACTION_COUNT` = this (plus any unsigned call the test needs, e.g. web identity).
pub fn identity_actions(user: Option<Option<&str>>, role: Option<Option<&str>>) -> usize {
    let count = |spec: Option<Option<&str>>, with_policy: usize| match spec {
        None => 0,
        Some(None) => with_policy - 1,
        Some(Some(_)) => with_policy,
    };
    count(user, 3) + count(role, 2)
}

impl Moto {
    /// Starts moto, creates the identities (see [`Moto::create_identities`]) and from then on
    /// has it check signatures and IAM policies of every request.
    pub fn start_with_identities(
        user: Option<Option<&str>>,
        role: Option<Option<&str>>,
    ) -> (Self, Identities) {
        let count = identity_actions(user, role).to_string();
        let moto = Self::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", count.as_str())]);
        let ids = moto.create_identities(user, role);
        (moto, ids)
    }

    /// Creates, through boto3 from the venv, IAM user `source` (with an access key) and/or role
    /// `ecr-reader` (trusting every principal), each allowed only the given action if any:
    /// `user`/`role` = None: not made; Some(None): made without a policy; Some(Some(action)).
    pub fn create_identities(
        &self,
        user: Option<Option<&str>>,
        role: Option<Option<&str>>,
    ) -> Identities {
        let python = venv_bin("python");
        let script = r#"
import sys, json, boto3
endpoint, user, role = sys.argv[1], sys.argv[2], sys.argv[3]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
def policy(action):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
out = {}
if user != "-":
    iam.create_user(UserName="source")
    if user != "":
        iam.put_user_policy(UserName="source", PolicyName="p", PolicyDocument=policy(user))
    key = iam.create_access_key(UserName="source")["AccessKey"]
    out["user"] = [key["AccessKeyId"], key["SecretAccessKey"]]
if role != "-":
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "*"}, "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]})
    arn = iam.create_role(RoleName="ecr-reader", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if role != "":
        iam.put_role_policy(RoleName="ecr-reader", PolicyName="p", PolicyDocument=policy(role))
    out["role"] = arn
print(json.dumps(out))
"#;
        let arg = |spec: Option<Option<&str>>| match spec {
            None => "-".to_owned(),
            Some(None) => String::new(),
            Some(Some(action)) => action.to_owned(),
        };
        let output = Command::new(&python)
            .args(["-c", script, &self.endpoint(), &arg(user), &arg(role)])
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run python");
        assert!(
            output.status.success(),
            "creating IAM identities failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let out: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        Identities {
            user_key: out["user"].as_array().map(|k| {
                (
                    k[0].as_str().expect("key id").to_owned(),
                    k[1].as_str().expect("secret").to_owned(),
                )
            }),
            role_arn: out["role"].as_str().map(str::to_owned),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
