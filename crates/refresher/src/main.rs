//! `ecr-refresher`: parse flags, set up logging, check settings, run once (a refresh, the
//! uninstall plan, the check plan or the sync run), print the one final error line and map the
//! outcome to an exit code; or, with `status` first, run that subcommand.

use std::process::ExitCode;

use clap::Parser;
use ecr_refresher::settings::SyncSettings;
use ecr_refresher::{
    Args, Error, PlanSettings, Settings, check, run, status, sync, telemetry, uninstall,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // `ecr-refresher status`: a person's command with its own flags (crate::status).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|word| word == "status")
    {
        return ExitCode::from(status::command(std::env::args_os().skip(1)).await);
    }
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(usage) => {
            let _ = usage.print();
            return if usage.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    telemetry::init(args.log_format);
    match PlanSettings::uninstall(&args) {
        Ok(Some(settings)) => {
            return match uninstall::run(&settings).await {
                Ok(_) => ExitCode::SUCCESS,
                Err(err) => fail(None, &err),
            };
        }
        Ok(None) => {}
        Err(err) => return fail(None, &err),
    }
    match PlanSettings::check(&args) {
        Ok(Some(settings)) => {
            let out = &mut std::io::stdout().lock();
            return match check::run(&settings, out).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(None, &err),
            };
        }
        Ok(None) => {}
        Err(err) => return fail(None, &err),
    }
    match SyncSettings::from_args(&args) {
        Ok(Some(settings)) => {
            return match sync::run(&settings).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(None, &err),
            };
        }
        Ok(None) => {}
        Err(err) => return fail(None, &err),
    }
    let settings = match Settings::from_args(&args) {
        Ok(settings) => settings,
        Err(err) => return fail(None, &err),
    };
    match run(&settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(Some(&settings.target.registry), &err),
    }
}

/// The one final ERROR line, `registry <name>: <error>` once the registry is known, and the
/// exit code: 2 for bad settings, 1 for a failure at run time.
fn fail(registry: Option<&str>, err: &Error) -> ExitCode {
    let code: u8 = if err.is_settings() { 2 } else { 1 };
    match registry {
        Some(registry) => tracing::error!(exit_code = code, "registry {registry}: {err}"),
        None => tracing::error!(exit_code = code, "{err}"),
    }
    ExitCode::from(code)
}
