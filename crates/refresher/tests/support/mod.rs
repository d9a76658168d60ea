//! Real parts the integration tests run against: moto's server and a fake Kubernetes API.
#![allow(dead_code)]

pub mod fake_kube;
pub mod moto;
pub mod pod;
pub mod rbac;

use aws_sdk_ecr::config::Credentials;
use ecr_refresher::settings::{Args, LogFormat, OutputFormat, Settings};

/// The account moto answers for.
pub const MOTO_ACCOUNT: &str = "123456789012";
/// The password moto puts in its token for [`MOTO_ACCOUNT`].
pub const MOTO_PASSWORD: &str = "123456789012-auth-token";
/// The registry host moto's proxyEndpoint names in eu-west-1.
pub const MOTO_HOST: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

/// Checked settings for registry `primary` in eu-west-1, short timeouts.
pub fn settings(namespaces: &str) -> Settings {
    Settings::from_args(&args(namespaces)).expect("valid test settings")
}

/// The flags of [`settings`], for a test to change before checking them.
pub fn args(namespaces: &str) -> Args {
    Args {
        registry_name: Some("primary".into()),
        region: Some("eu-west-1".into()),
        secret_name: None,
        namespaces: Some(namespaces.into()).filter(|n: &String| !n.is_empty()),
        namespace_selector: None,
        exclude_namespaces: None,
        prune: false,
        account: None,
        registry_ids: None,
        role_arn: None,
        image_pull_secret_for: None,
        log_format: LogFormat::Plain,
        dry_run: false,
        output: OutputFormat::Yaml,
        request_timeout: "5s".into(),
        retry_timeout: "5s".into(),
        uninstall_plan: None,
        check_plan: None,
        events: Default::default(),
        sync: Default::default(),
    }
}

/// An ECR client built like the binary's, pointed at `endpoint` with static credentials.
pub async fn ecr_client(
    settings: &Settings,
    endpoint: &str,
    key: (&str, &str),
) -> aws_sdk_ecr::Client {
    let config =
        ecr_refresher::ecr::config_loader(&settings.target.region, settings.request_timeout)
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new(key.0, key.1, None, None, "test"))
            .load()
            .await;
    aws_sdk_ecr::Client::new(&config)
}

/// Dummy credentials moto accepts when it does not check IAM.
pub const DUMMY_KEY: (&str, &str) = (
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
);

/// A port that accepts connections and never answers (for request timeouts).
pub fn black_hole() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

/// The real `ecr-refresher` with a clean environment: `home` as HOME, no AWS profile files, no
/// IMDS, and `kubeconfig` as its only way to a cluster.
pub fn isolated_refresher(
    home: &std::path::Path,
    kubeconfig: &std::path::Path,
) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ecr-refresher"));
    command
        .env_clear()
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KUBECONFIG", kubeconfig);
    command
}
