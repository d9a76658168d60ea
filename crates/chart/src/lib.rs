//! ecr-chart: values.yaml → the Kubernetes manifests (and Helm chart) that keep
//! `regcred-<name>` ECR pull secrets fresh.

pub mod chart;
pub mod cli;
pub mod error;
pub mod onboard;
pub mod render;
pub mod run;
pub mod values;

pub use error::Error;
pub use render::{Release, render};
pub use run::run;
