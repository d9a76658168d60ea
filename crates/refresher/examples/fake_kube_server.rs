//! The refresher tests' fake Kubernetes API (`tests/support/fake_kube.rs`) as a process, for
//! `scripts/bench`: serves on 127.0.0.1 until killed.
//!
//!     cargo run -p ecr-refresher --example fake_kube_server -- [KUBECONFIG_DIR]
//!
//! It speaks HTTPS with the self-signed test certificate of `tests/support/tls/`, as
//! kube-apiserver speaks TLS. Prints `port=<PORT>` on its first line; with `KUBECONFIG_DIR` it
//! also writes `KUBECONFIG_DIR/kubeconfig` pointing at itself (the certificate as
//! `certificate-authority-data`) and `KUBECONFIG_DIR/ca.pem`, and prints `kubeconfig=<PATH>` and
//! `ca=<PATH>`.

#[allow(dead_code)]
#[path = "../tests/support/fake_kube.rs"]
mod fake_kube;

use std::io::Write;
use std::path::PathBuf;

fn main() {
    let server = fake_kube::FakeKube::start();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "port={}", server.port);
    if let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) {
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, fake_kube::CERT_PEM).expect("write ca.pem");
        let path = server.kubeconfig(&dir);
        let _ = writeln!(out, "ca={}", ca.display());
        let _ = writeln!(out, "kubeconfig={}", path.display());
    }
    let _ = out.flush();
    drop(out);
    // The server runs on its own thread; keep the process alive until it is killed.
    loop {
        std::thread::park();
    }
}
