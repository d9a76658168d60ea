//! `ecr-refresher`: parse flags, set up logging, run once, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use ecr_refresher::{Args, Error, run, telemetry};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
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
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err @ (Error::MissingSetting { .. } | Error::InvalidSetting { .. })) => {
            tracing::error!(exit_code = 2, "{err}");
            ExitCode::from(2)
        }
        Err(err) => {
            tracing::error!(exit_code = 1, "{err}");
            ExitCode::from(1)
        }
    }
}
