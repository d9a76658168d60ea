//! ecr-chart: values.yaml → the Kubernetes manifests (and Helm chart) that keep
//! `regcred-<name>` ECR pull secrets fresh.

pub mod error;
pub mod values;

pub use error::Error;
