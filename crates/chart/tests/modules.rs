//! The crate's module graph, read from every `crate::…` and `super::…` path in `src/` (tests
//! excluded): no two modules depend on each other, directly or through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module a source file defines: `values/rules.rs` → `values::rules`, `values/mod.rs` →
/// `values`, `lib.rs` → `` (the crate root).
fn module_of(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
            out.push(path);
        }
    }
}

/// The longest known module that `path` (segments after `crate::`) names.
fn resolve(modules: &BTreeSet<String>, segments: &[&str]) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// Each module and the other modules of the crate it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&src, &mut paths);
    let modules: BTreeSet<String> = paths
        .iter()
        .map(|p| module_of(p.strip_prefix(&src).expect("under src")))
        .collect();
    let mut graph = BTreeMap::new();
    for path in &paths {
        let module = module_of(path.strip_prefix(&src).expect("under src"));
        let text = std::fs::read_to_string(path).expect("read module");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut used = BTreeSet::new();
        for (at, _) in code
            .match_indices("crate::")
            .chain(code.match_indices("super::"))
        {
            let rest = &code[at..];
            let segments: Vec<&str> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            let absolute: Vec<&str> = match segments.first() {
                Some(&"crate") => segments[1..].to_vec(),
                Some(&"super") => {
                    let mut base: Vec<&str> =
                        module.split("::").filter(|s| !s.is_empty()).collect();
                    let mut rest = &segments[..];
                    while rest.first() == Some(&"super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    base.extend_from_slice(rest);
                    base
                }
                _ => continue,
            };
            if let Some(target) = resolve(&modules, &absolute)
                && target != module
                && !module.starts_with(&format!("{target}::"))
            {
                used.insert(target);
            }
        }
        graph.insert(module, used);
    }
    graph
}

/// A circle of modules, if there is one (depth-first search).
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
        if !done.insert(module.to_owned()) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_depend_on_each_other_without_a_circle() {
    let graph = graph();
    assert!(
        graph.contains_key("values::rules") && graph.len() > 10,
        "{graph:#?}"
    );
    assert_eq!(circle(&graph), None, "{graph:#?}");
}

#[test]
fn a_circle_is_found() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
