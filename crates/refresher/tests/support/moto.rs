//! moto's server (the real AWS API emulator from PyPI `moto[server]`), started per test on
//! 127.0.0.1 with a free port and killed on drop. A missing venv fails the test with a hint.

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
        let port = free_port();
        let mut command = Command::new(&server);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.reopen().expect("log")))
            .stderr(Stdio::from(log.reopen().expect("log")));
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e} — {HINT}", server.display()));
        let mut moto = Self { child, port, log };
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

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
