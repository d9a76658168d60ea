//! The one error type of ecr-chart, a variant per failed operation.

use std::path::PathBuf;

/// What can go wrong in ecr-chart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A values file could not be read.
    #[error("cannot read values file {path}: {source}")]
    ReadValues {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The values are invalid; the message lists every problem.
    #[error("{0}")]
    Values(#[from] crate::values::ValuesError),
    /// A template failed to render.
    #[error("template {template} failed to render: {source:#}")]
    Render {
        template: String,
        #[source]
        source: minijinja::Error,
    },
    /// The chart directory could not be written.
    #[error("cannot write chart to {path}: {source}")]
    WriteChart {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Output could not be written to stdout.
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
}

impl Error {
    /// Exit code: 2 for bad input, 1 for a failure at run time.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ReadValues { .. } | Error::Values(_) => 2,
            Error::Render { .. } | Error::WriteChart { .. } | Error::Output(_) => 1,
        }
    }
}
