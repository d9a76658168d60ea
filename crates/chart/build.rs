//! Embeds `chart-templates/`: writes the `(name, include_str!(…))` table of every file in it,
//! so the templates are found by name and the binary needs no files on disk.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(manifest_dir).join("../../chart-templates");
    let dir = dir
        .canonicalize()
        .unwrap_or_else(|e| panic!("cannot find {}: {e}", dir.display()));
    // A directory here makes cargo rerun this script when any file in it changes, appears or goes.
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<(String, PathBuf)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_else(|| panic!("{} is not a UTF-8 file name", path.display()))
                .to_owned();
            (name, path)
        })
        .collect();
    files.sort();
    let mut table = String::from("&[\n");
    for (name, path) in &files {
        table.push_str(&format!("    ({name:?}, include_str!({path:?})),\n"));
    }
    table.push_str("]\n");
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("templates.rs");
    fs::write(&out, table).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
