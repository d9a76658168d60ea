//! Bench of the sync run (issue 13): one `ecr-refresher` sync run, whole process, over 1 000
//! namespaces matching its selector, 50 of which lack the Secret; wall time, CPU and peak RSS
//! (`benches/proc_stats.py`, as the refresh bench), and the API requests it made, by kind.
//!
//!     cargo build -p ecr-refresher --bench sync     # then run the binary it names:
//!     target/debug/deps/sync-<hash> [--refresher BIN] [--runs N]
//!
//! `scripts/bench` runs it with the image's static `ecr-refresher` (`--refresher`; default: the
//! `ecr-refresher` built with this bench). The refresher tests' fake Kubernetes API
//! (`tests/support/fake_kube.rs`, HTTPS) runs in this process, seeded with the namespaces and
//! 950 Secrets as the refresher writes them (a token valid for 11 more hours). Before each run
//! (not timed) the 50 are deleted again; each run is checked: exit 0, the Secret in all 1 000
//! namespaces, the same requests as every other run, no ECR call (there is no AWS endpoint: one
//! would fail the run). Prints a Markdown report on stdout. Timings are reported, never asserted.

#[allow(dead_code)]
#[path = "../tests/support/fake_kube.rs"]
mod fake_kube;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::Parser as _;
use ecr_refresher::{Args, Settings};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::DeleteParams;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Namespaces the selector matches.
const NAMESPACES: usize = 1_000;
/// Every this-many-th namespace lacks the Secret (50 of 1 000).
const MISSING_EVERY: usize = 20;
const REGISTRY: &str = "bench";
const SECRET: &str = "regcred-bench";

fn namespace(i: usize) -> String {
    format!("team-{i:04}")
}

fn missing(i: usize) -> bool {
    i.is_multiple_of(MISSING_EVERY)
}

/// The Secret as the refresher writes it: its labels, annotations, type and data.
fn written(refreshed_at: jiff::Timestamp) -> serde_json::Value {
    let whole = |t: jiff::Timestamp| jiff::Timestamp::from_second(t.as_second()).expect("time");
    let expires_at = refreshed_at + jiff::SignedDuration::from_hours(12);
    let config = json!({"auths": {"123456789012.dkr.ecr.eu-west-1.amazonaws.com": {
        "username": "AWS", "password": "bench-token", "auth": STANDARD.encode("AWS:bench-token"),
    }}});
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": SECRET,
            "labels": {
                "app.kubernetes.io/managed-by": "ecr-refresher",
                "ecr-registry-helper/registry": REGISTRY,
            },
            "annotations": {
                "ecr-registry-helper/refreshed-at": whole(refreshed_at).to_string(),
                "ecr-registry-helper/expires-at": whole(expires_at).to_string(),
            },
        },
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": STANDARD.encode(config.to_string())},
    })
}

/// What a request was, for the report.
fn kind(method: &str, path: &str) -> String {
    let what = match (method, path) {
        ("GET", "/api/v1/namespaces") => {
            "list namespaces, one request per page of up to 500 (`GET /api/v1/namespaces?limit=500`, then `&continue=…`)"
        }
        ("GET", "/api/v1/secrets") => {
            "list the Secret in every namespace, one request per page of up to 500 (`GET /api/v1/secrets?fieldSelector=metadata.name=regcred-bench&limit=500`, then `&continue=…`)"
        }
        ("GET", p) if p.ends_with("/secrets/regcred-bench") => {
            "read the Secret before applying it (`GET …/secrets/regcred-bench`; the sync run applies over the listed one instead)"
        }
        ("PATCH", p) if p.ends_with("/secrets/regcred-bench") => {
            "server-side apply (`PATCH …/secrets/regcred-bench`)"
        }
        ("POST", p) if p.ends_with("/events") => "Event per written Secret (`POST …/events`)",
        _ => return format!("{method} {path}"),
    };
    what.to_owned()
}

struct Options {
    refresher: PathBuf,
    runs: usize,
}

fn options() -> Options {
    let mut refresher = PathBuf::from(env!("CARGO_BIN_EXE_ecr-refresher"));
    let mut runs = 20;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--refresher" => refresher = args.next().expect("--refresher BIN").into(),
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            other => panic!("unknown argument {other:?} (--refresher BIN, --runs N)"),
        }
    }
    Options { refresher, runs }
}

/// `benches/proc_stats.py FILE BIN` with the sync run's environment; panics unless it exits 0.
fn run_once(refresher: &Path, work: &Path, times: &Path) {
    let stats = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/proc_stats.py");
    let output = Command::new("python3")
        .arg(&stats)
        .arg(times)
        .arg(refresher)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", work)
        .env("AWS_CONFIG_FILE", work.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            work.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KUBECONFIG", work.join("kubeconfig"))
        .env("SYNC_DIR", work.join("config"))
        .env("LOG_FORMAT", "json")
        .output()
        .expect("run python3 benches/proc_stats.py (GNU time at /usr/bin/time)");
    assert!(
        output.status.success(),
        "the sync run failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stderr
        .lines()
        .find(|l| l.contains("\"sync complete\""))
        .unwrap_or_else(|| panic!("no summary line:\n{stderr}"));
    let summary: serde_json::Value = serde_json::from_str(summary).expect("JSON log line");
    let missing = NAMESPACES / MISSING_EVERY;
    assert_eq!(summary["selected"], NAMESPACES, "{summary}");
    assert_eq!(summary["copied"], missing, "{summary}");
    assert_eq!(summary["present"], NAMESPACES - missing, "{summary}");
    assert_eq!(summary["ecr_calls"], 0, "{summary}");
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() {
    let opts = options();
    let kube = fake_kube::FakeKube::start();
    let refreshed_at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    for i in 0..NAMESPACES {
        let ns = namespace(i);
        kube.seed_namespace(&ns, &[("team", "bench")]);
        if !missing(i) {
            kube.seed(&ns, written(refreshed_at), "ecr-refresher");
        }
    }
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("config").join(REGISTRY);
    std::fs::create_dir_all(&config).expect("config dir");
    for (key, value) in [
        ("ECR_REGISTRY_NAME", REGISTRY),
        ("AWS_REGION", "eu-west-1"),
        ("SECRET_NAME", SECRET),
        ("NAMESPACE_SELECTOR", r#"{"matchLabels":{"team":"bench"}}"#),
    ] {
        std::fs::write(config.join(key), value).expect("write setting");
    }
    kube.kubeconfig(work.path());
    let times = work.path().join("sync.time");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let args = [
        "ecr-refresher",
        "--registry-name",
        REGISTRY,
        "--region",
        "eu-west-1",
        "--namespaces",
        "x",
    ];
    let settings = Settings::from_args(&Args::try_parse_from(args).expect("flags")).expect("valid");
    let client = runtime.block_on(async { kube.client(&settings) });
    let reset = || {
        runtime.block_on(async {
            for i in (0..NAMESPACES).filter(|i| missing(*i)) {
                let api: Api<Secret> = Api::namespaced(client.clone(), &namespace(i));
                let _ = api.delete(SECRET, &DeleteParams::default()).await;
            }
        });
    };

    let mut per_run: Option<BTreeMap<String, usize>> = None;
    // One untimed, checked run first, then the timed ones.
    for run in 0..=opts.runs {
        reset();
        let from = kube.requests().len();
        let file = if run == 0 {
            work.path().join("warmup.time")
        } else {
            times.clone()
        };
        run_once(&opts.refresher, work.path(), &file);
        let mut kinds = BTreeMap::new();
        for r in &kube.requests()[from..] {
            *kinds.entry(kind(r.method.as_str(), &r.path)).or_insert(0) += 1;
        }
        for i in 0..NAMESPACES {
            assert!(
                kube.get(&namespace(i), SECRET).is_some(),
                "{} lacks it",
                namespace(i)
            );
        }
        match &per_run {
            None => per_run = Some(kinds),
            Some(first) => assert_eq!(first, &kinds, "run {run} made other requests"),
        }
    }

    let text = std::fs::read_to_string(&times).expect("times");
    let rows: Vec<Vec<f64>> = text
        .lines()
        .map(|l| {
            l.split_whitespace()
                .map(|v| v.parse().expect("number"))
                .collect()
        })
        .collect();
    let column = |f: &dyn Fn(&[f64]) -> f64| -> (f64, f64, f64) {
        let mut values: Vec<f64> = rows.iter().map(|r| f(r)).collect();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(0.0, f64::max);
        (median(&mut values), min, max)
    };
    let ms = |s: (f64, f64, f64)| {
        format!(
            "{:.1} ms ({:.1} ms–{:.1} ms)",
            s.0 * 1e3,
            s.1 * 1e3,
            s.2 * 1e3
        )
    };
    let mib = |k: (f64, f64, f64)| {
        format!(
            "{:.1} MiB ({:.1} MiB–{:.1} MiB)",
            k.0 / 1024.0,
            k.1 / 1024.0,
            k.2 / 1024.0
        )
    };
    let wall = column(&|r| r[0]);
    let cpu = column(&|r| r[1] + r[2]);
    let rss = column(&|r| r[3]);
    let kinds = per_run.expect("at least one run");
    let total: usize = kinds.values().sum();
    println!(
        "### One sync run, {NAMESPACES} namespaces of which {} lack the Secret (whole process, {} runs; median (min–max))\n",
        NAMESPACES / MISSING_EVERY,
        opts.runs
    );
    println!("| | wall | CPU user+sys | peak RSS |\n|---|---:|---:|---:|");
    println!(
        "| `{}` with `SYNC_DIR` (one registry, selector `team=bench`) against the fake API over HTTPS | {} | {} | {} |\n",
        opts.refresher
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ms(wall),
        ms(cpu),
        mib(rss)
    );
    println!("| API requests of one run | count |\n|---|---:|");
    for (what, count) in &kinds {
        println!("| {what} | {count} |");
    }
    println!("| all | {total} |\n| ECR `GetAuthorizationToken` | 0 |");
}
