//! The Kubernetes client's connections against the fake API server over TLS: the first request
//! on a new connection is sent at once, not held by Nagle's algorithm until the server's
//! delayed ACK of the client's last handshake record (Linux delays an ACK by at least 40 ms).

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use support::fake_kube::FakeKube;
use support::settings;

/// Linux's shortest delayed ACK (`TCP_DELACK_MIN`): a request held by Nagle waits at least this.
const DELAYED_ACK: Duration = Duration::from_millis(40);

#[tokio::test]
async fn the_first_request_on_a_new_tls_connection_is_not_held_for_a_delayed_ack() {
    let kube = FakeKube::start();
    let s = settings("apps");
    let mut fastest = Duration::MAX;
    // The fastest of a few fresh clients (each opens its own connection): load on the machine
    // can only make a run slower, never hide the 40 ms wait.
    for _ in 0..5 {
        let secrets: Api<Secret> = Api::namespaced(kube.client(&s), "apps");
        let started = Instant::now();
        let found = secrets
            .get_opt("regcred-primary")
            .await
            .expect("GET answers");
        fastest = fastest.min(started.elapsed());
        assert!(found.is_none());
    }
    assert!(
        fastest < DELAYED_ACK - Duration::from_millis(5),
        "connect + TLS handshake + one GET took at least {fastest:?}: the request waited for a delayed ACK (TCP_NODELAY off?)"
    );
    assert_eq!(kube.requests().len(), 5, "one GET per connection");
}
