//! Logging: one line per step on stderr, as JSON (default) or plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber. The level is fixed at `info` on purpose: HTTP clients log
/// request and response bodies (which carry tokens) at `trace`, so there is no `RUST_LOG`
/// override. kube-client is silenced: it logs each failed request as its own ERROR line, which
/// the refresher reports itself (once, with registry, step and cause).
/// Calling it twice keeps the first subscriber.
pub fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(EnvFilter::new("info,kube_client=off"))
        .with_target(false);
    // An error only means a subscriber is already installed (tests); keep that one.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Plain => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}
