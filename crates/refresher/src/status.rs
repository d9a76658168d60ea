//! `ecr-refresher status`: what a person asks a cluster about a release's pull Secrets — one
//! row per registry and target namespace, with a verdict, as a table or JSON.
//!
//! The command runs with the person's kubeconfig ([`settings`]), lists the release's
//! ConfigMaps, CronJobs and Jobs by the chart's labels and reads each pull Secret
//! ([`gather`], the only I/O), judges every row against a clock given as a parameter
//! ([`report`], pure: the next run follows the CronJob controller through [`ecr_cron`]) and
//! prints it ([`mod@print`]). Exit codes: [`EXIT_OK`] when every row is OK, [`EXIT_NOT_OK`] when
//! one is not (or the release has no registry), [`EXIT_USAGE`] for bad flags,
//! [`EXIT_API`] when the API could not be asked. No token is printed or kept: a Secret's
//! `.dockerconfigjson` is decoded only to read its registry hosts, and dropped there.

pub mod gather;
pub mod print;
pub mod report;
pub mod settings;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser as _;
use jiff::Timestamp;

use crate::error::Error;
pub use report::{Report, Row, Verdict};
pub use settings::{StatusArgs, StatusOutput, StatusSettings};

/// Every row is OK.
pub const EXIT_OK: u8 = 0;
/// At least one row is not OK, or the release has no registry in that namespace.
pub const EXIT_NOT_OK: u8 = 1;
/// Bad flags.
pub const EXIT_USAGE: u8 = 2;
/// The Kubernetes API could not be asked (no kubeconfig, unreachable, forbidden, …).
pub const EXIT_API: u8 = 3;

/// The whole subcommand: `args` are the words after the binary's name (starting with
/// `status`). Prints the table or JSON on stdout, problems on stderr; returns the exit code.
pub async fn command(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args = match StatusArgs::try_parse_from(args) {
        Ok(args) => args,
        Err(usage) => {
            let _ = usage.print();
            return if usage.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            };
        }
    };
    let settings = match StatusSettings::from_args(&args) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_USAGE;
        }
    };
    let (client, namespace) = match settings::client(&settings).await {
        Ok(found) => found,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_API;
        }
    };
    let report = match check(&client, &namespace, &settings.release, Timestamp::now()).await {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_API;
        }
    };
    let out = &mut std::io::stdout().lock();
    if let Err(err) = write(&report, settings.output, out) {
        eprintln!("error: {err}");
        return EXIT_NOT_OK;
    }
    if report.rows.is_empty() {
        eprintln!(
            "no registry of release {:?} in namespace {:?} (looked for CronJobs and ConfigMaps labelled {}); check --release and -n",
            report.release,
            report.namespace,
            gather::selector(&report.release)
        );
    }
    report.exit_code()
}

/// Gathers the release's objects in `namespace` and judges them at `now`.
pub async fn check(
    client: &kube::Client,
    namespace: &str,
    release: &str,
    now: Timestamp,
) -> Result<Report, Error> {
    let facts = gather::gather(client, namespace, release).await?;
    Ok(report::judge(release, namespace, &facts, now))
}

/// Prints `report` to `out` as a table or JSON.
pub fn write(report: &Report, output: StatusOutput, out: &mut impl Write) -> Result<(), Error> {
    let text = match output {
        StatusOutput::Table => print::table(report),
        StatusOutput::Json => print::json(report),
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::PrintStatus)
}
