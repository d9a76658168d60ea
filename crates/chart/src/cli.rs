//! Command-line arguments: data only; `run` turns them into checked work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::onboard::NewRegistry;

/// Render the Kubernetes objects that keep `regcred-<name>` ECR pull secrets fresh.
#[derive(Debug, Parser)]
#[command(name = "ecr-chart", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the manifests (a YAML stream, in `helm template` order).
    Render {
        #[command(flatten)]
        values: ValuesArgs,
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Write a Helm chart holding the manifests, for `helm upgrade --install` or ArgoCD.
    Chart {
        #[command(flatten)]
        values: ValuesArgs,
        /// Directory to write the chart to (replaced whole if ecr-chart wrote it before).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
    },
    /// Check the values and report every problem; prints nothing when they are valid.
    Validate {
        #[command(flatten)]
        values: ValuesArgs,
    },
    /// Print the JSON Schema of the values (the generated chart's values.schema.json).
    Schema,
    /// Print what to add to the values, where the credentials come from, and the IAM policies
    /// for a new registry.
    Onboard(Box<OnboardArgs>),
}

/// The arguments of `ecr-chart onboard`.
#[derive(Debug, Args)]
pub struct OnboardArgs {
    #[command(flatten)]
    pub registry: NewRegistry,
    /// Your current values files: their store settings are used and the name must be new.
    #[command(flatten)]
    pub values: ExistingValuesArgs,
}

#[derive(Debug, Args)]
pub struct ExistingValuesArgs {
    /// Values file; repeat to merge several. Without any, the defaults are used.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// Values file; repeat to merge several like Helm (maps merge, lists replace, later wins).
    /// `-` reads standard input. Without any, the embedded values.example.yaml is used.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Release name, as Helm's `.Release.Name`.
    #[arg(long, default_value = "ecr-registry-helper")]
    pub release_name: String,
    /// Release namespace, as Helm's `.Release.Namespace`: where the jobs run.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
}
