//! Logging: one line per step on stderr, as JSON (default) or plain text.

use std::io::IsTerminal;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::LogFormat;

/// Installs the global subscriber. The level is fixed at `info` on purpose: HTTP clients log
/// request and response bodies (which carry tokens) at `trace`, so there is no `RUST_LOG`
/// override. kube-client is silenced: it logs each failed request as its own ERROR line, which
/// the refresher reports itself (once, with registry, step and cause).
/// Calling it twice keeps the first subscriber.
pub fn init(format: LogFormat) {
    // A fixed target filter rather than `EnvFilter`, which would bring a regex engine along.
    let filter = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("kube_client", LevelFilter::OFF);
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false);
    // An error only means a subscriber is already installed (tests); keep that one.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(filter)
            .try_init(),
        LogFormat::Plain => builder
            .with_ansi(std::io::stderr().is_terminal())
            .finish()
            .with(filter)
            .try_init(),
    };
}
