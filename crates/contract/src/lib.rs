//! The contract between `ecr-chart` (which writes the manifests) and `ecr-refresher` (which
//! runs in them): the names derived from a registry's name, the ConfigMap and environment keys,
//! the label, annotation and field-manager names, and every name and format rule both check.
//!
//! Std only. Each name and each rule is defined here once; the templates get the names through
//! the chart's view model, the refresher through clap's `env = …` and its settings check.

pub mod check;
pub mod keys;
pub mod names;
pub mod plan;
pub mod rules;
pub mod uninstall;

pub use keys::{CONFIG_KEYS, CREDENTIAL_KEYS, ConfigKey};
pub use rules::{Fault, Partition};
