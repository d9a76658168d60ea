//! `ecr-chart`: parse arguments, run, map the error to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ecr_chart::cli::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match ecr_chart::run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Shown escaped (a path or value may hold terminal escapes); a stderr that cannot
            // be written must not turn the refusal into a panic: the exit code still tells.
            let shown = ecr_chart::values::escape_controls(&format!("error: {err}")).into_owned();
            let _ = writeln!(std::io::stderr().lock(), "{shown}");
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(1))
        }
    }
}
