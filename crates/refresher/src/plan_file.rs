//! Reading the chart's plan files (`--uninstall-plan`, `--check-plan`): one reader for both,
//! whose errors name the plan and its file.

use std::path::Path;

use ecr_contract::plan::PlanError;

use crate::error::Error;

/// Which plan a file holds, for errors: `uninstall` or `check`.
pub type Which = &'static str;

/// The uninstall plan ([`ecr_contract::uninstall`]).
pub const UNINSTALL: Which = "uninstall";
/// The check plan ([`ecr_contract::check`]).
pub const CHECK: Which = "check";

/// The entries of the plan file at `path`, read with `parse`. A file that cannot be read is
/// [`Error::ReadPlan`] (a run-time failure, exit 1); one that is not a plan is [`Error::Plan`]
/// naming the line (bad settings, exit 2).
pub fn read<T>(
    which: Which,
    path: &Path,
    parse: fn(&str) -> Result<Vec<T>, PlanError>,
) -> Result<Vec<T>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadPlan {
        plan: which,
        path: path.to_owned(),
        source,
    })?;
    parse(&text).map_err(|source| Error::Plan {
        plan: which,
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_and_a_bad_line_both_name_the_plan_and_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("plan");
        let missing = read(CHECK, &path, ecr_contract::check::parse).expect_err("no file");
        assert!(
            !missing.is_settings(),
            "an unreadable file is a run-time failure"
        );
        let message = missing.to_string();
        assert!(message.starts_with("read check plan "), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");

        std::fs::write(&path, "# plan\nprimary Apps regcred-primary -\n").expect("write");
        let bad = read(UNINSTALL, &path, ecr_contract::uninstall::parse).expect_err("bad line");
        assert!(bad.is_settings(), "a malformed plan is bad settings");
        let message = bad.to_string();
        assert!(
            message.starts_with(&format!(
                "uninstall plan {}: line 2: namespace",
                path.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn a_good_file_reads_as_its_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("plan");
        std::fs::write(&path, "primary apps regcred-primary -\n").expect("write");
        let plan = read(UNINSTALL, &path, ecr_contract::uninstall::parse).expect("plan");
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].namespace, "apps");
    }
}
