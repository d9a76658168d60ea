//! The settings hash that ends an immediate Job's name: FNV-1a over everything the Job's pod is
//! made of, so changed settings give a new Job and unchanged settings the same one.
//!
//! What goes in: ecr-chart's version and the sources of `job.yaml` and `_helpers.yaml` (a new
//! chart may shape the pod differently), the image, every value the pod template reads, and
//! per registry its name, its ConfigMap data (what the refresher reads) and its credentials
//! Secret. Object labels and annotations stay out: they can be changed in place. The release's
//! name and namespace stay out too: `ecr-chart chart` renders with stand-ins for them, and
//! Helm must print the same names as `ecr-chart render` (a release of another name is another
//! set of objects anyway). FNV-1a is fixed by its definition, so the same values give the same names with every
//! build and toolchain (`std`'s hasher makes no such promise).

use serde_json::json;

use super::VERSION;
use super::env::template_source;
use crate::values::Values;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The hash state after the parts every registry shares.
#[derive(Debug, Clone, Copy)]
pub struct SettingsHash(u64);

impl SettingsHash {
    /// Hashes the parts shared by every registry's Job.
    pub fn new(values: &Values, image: &str) -> Self {
        let pod = json!({
            "pullPolicy": values.image.pull_policy,
            "serviceAccount": values.service_account.name,
            "imagePullSecrets": values.image_pull_secrets,
            "priorityClassName": values.priority_class_name,
            "nodeSelector": values.node_selector,
            "tolerations": values.tolerations,
            "affinity": values.affinity,
            "podAnnotations": values.pod_annotations,
            "podLabels": values.pod_labels,
            "resources": values.resources,
            "backoffLimit": values.cron_job.backoff_limit,
        });
        let mut hash = Self(OFFSET);
        for part in [
            VERSION,
            template_source("job.yaml").unwrap_or_default(),
            template_source("_helpers.yaml").unwrap_or_default(),
            image,
            &pod.to_string(),
        ] {
            hash.part(part);
        }
        hash
    }

    /// The hash of one registry's Job: the shared parts, then `parts`, folded to 32 bits.
    pub fn registry(self, parts: &[&str]) -> u32 {
        let mut hash = self;
        for part in parts {
            hash.part(part);
        }
        let folded = hash.0 ^ (hash.0 >> 32);
        (folded & u64::from(u32::MAX)) as u32
    }

    /// One part, then a 0xff byte (never in UTF-8 text), so parts cannot run into each other.
    fn part(&mut self, text: &str) {
        for byte in text.bytes().chain([0xff]) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv_1a_and_parts_do_not_run_into_each_other() {
        let mut empty = SettingsHash(OFFSET);
        empty.part("");
        // FNV-1a 64 of the single byte 0xff.
        assert_eq!(empty.0, (OFFSET ^ 0xff).wrapping_mul(PRIME));
        let base = SettingsHash::new(&Values::default(), "img:1");
        assert_ne!(base.registry(&["ab", "c"]), base.registry(&["a", "bc"]));
        assert_eq!(base.registry(&["ab", "c"]), base.registry(&["ab", "c"]));
    }

    #[test]
    fn another_image_or_pod_setting_changes_the_hash() {
        let values = Values::default();
        let base = SettingsHash::new(&values, "img:1").registry(&["primary"]);
        assert_ne!(
            base,
            SettingsHash::new(&values, "img:2").registry(&["primary"])
        );
        let mut other = values.clone();
        other.cron_job.backoff_limit += 1;
        assert_ne!(
            base,
            SettingsHash::new(&other, "img:1").registry(&["primary"])
        );
    }
}
