//! The crate's module graph, read from the `use crate::…` (and `pub use`) lines of `src/*.rs`: no import circle,
//! and the leaves (error wording, the login and dockerconfig code, the retry policy) import no
//! other module of the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module (file stem) and the crate modules it names in `use crate::…` lines.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("src/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let module = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name")
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("read module");
        let used: BTreeSet<String> = text
            .lines()
            .map(|line| line.trim().trim_start_matches("pub "))
            .filter_map(|line| line.strip_prefix("use crate::"))
            .map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .filter(|m| *m != module)
            .collect();
        graph.insert(module, used);
    }
    graph
}

/// A module on an import circle, if there is one (depth-first search).
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        module: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut found = path[start..].to_vec();
            found.push(module.to_owned());
            return Some(found);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_import_each_other_without_a_circle() {
    let graph = imports();
    assert!(graph.contains_key("lib") && graph.len() > 5, "{graph:?}");
    assert_eq!(circle(&graph), None, "{graph:#?}");
}

#[test]
fn the_error_wording_the_login_code_and_the_retry_policy_are_leaves() {
    let graph = imports();
    for leaf in ["cause", "dockerconfig", "retry"] {
        assert_eq!(
            graph.get(leaf),
            Some(&BTreeSet::new()),
            "{leaf}: {graph:#?}"
        );
    }
    let error: Vec<&str> = graph["error"].iter().map(String::as_str).collect();
    assert_eq!(
        error,
        ["cause", "dockerconfig"],
        "error.rs depends on leaves only"
    );
}

#[test]
fn a_circle_is_found_when_there_is_one() {
    let graph = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(
        circle(&graph),
        Some(vec!["a".to_owned(), "b".to_owned(), "a".to_owned()])
    );
}
