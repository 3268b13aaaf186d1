//! Finds the labs: every folder `labs/NN-name/` with a `lab.rs` becomes a module, listed in
//! number order, so adding a lab is adding a folder. The folder gives the lab its id (its
//! name) and its lesson (lesson.en.md, lesson.zh.md); the lab file gives only its title and
//! steps. A missing lesson file compiles as an empty lesson, and tests/lab_folders.rs names it.
//! A folder may also offer peer mode: its peer.rs declares `PEER` (what netlab plays against a
//! student's program), and its server.py and client.py are that program, printed by
//! `netlab show LAB --code`.
//! Also embeds the published snapshots for `netlab verify`, and writes the per-lab tests for
//! tests/labs.rs.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=labs");
    println!("cargo:rerun-if-changed=snapshots");

    let labs = lab_ids(&root.join("labs"));
    let mut modules = String::new();
    let mut list =
        String::from("/// Every lab, in number order.\npub static ALL: &[&crate::lab::Lab] = &[\n");
    let mut tests = String::new();
    for id in &labs {
        let module = format!("lab_{}", id.replace('-', "_"));
        let folder = root.join("labs").join(id);
        let file = folder.join("lab.rs");
        println!("cargo:rerun-if-changed={}", file.display());
        modules.push_str(&format!(
            "#[path = {:?}]\nmod {module};\n",
            file.display().to_string()
        ));
        let lesson = |lang: &str| {
            let path = folder.join(format!("lesson.{lang}.md"));
            println!("cargo:rerun-if-changed={}", path.display());
            if path.is_file() {
                format!("include_str!({:?})", path.display().to_string())
            } else {
                "\"\"".to_string()
            }
        };
        let peer_file = folder.join("peer.rs");
        println!("cargo:rerun-if-changed={}", peer_file.display());
        let peer = if peer_file.is_file() {
            modules.push_str(&format!(
                "#[path = {:?}]\nmod {module}_peer;\n",
                peer_file.display().to_string()
            ));
            format!("Some(&{module}_peer::PEER)")
        } else {
            "None".to_string()
        };
        let code: String = programs(&folder)
            .iter()
            .map(|name| {
                let path = folder.join(name);
                println!("cargo:rerun-if-changed={}", path.display());
                format!(
                    "({name:?}, include_str!({:?})), ",
                    path.display().to_string()
                )
            })
            .collect();
        list.push_str(&format!(
            "    &crate::lab::Lab {{\n        id: {id:?},\n        title: {module}::TITLE,\n        \
             lesson: crate::event::Text::fixed({}, {}),\n        run: {module}::run,\n        \
             peer: {peer},\n        code: &[{code}],\n    }},\n",
            lesson("en"),
            lesson("zh"),
        ));
        tests.push_str(&format!("lab_tests!({module}, {id:?});\n"));
    }
    list.push_str("];\n");
    write(&out.join("labs.rs"), &(modules + &list));
    write(&out.join("lab_tests.rs"), &tests);

    let mut snaps = String::from("/// Published snapshots: (file stem, contents).\npub static SNAPSHOTS: &[(&str, &str)] = &[\n");
    for stem in snapshot_stems(&root.join("snapshots")) {
        let file = root.join("snapshots").join(format!("{stem}.snap"));
        snaps.push_str(&format!(
            "    ({stem:?}, include_str!({:?})),\n",
            file.display().to_string()
        ));
    }
    snaps.push_str("];\n");
    write(&out.join("snapshots.rs"), &snaps);
}

/// Folder names under `labs/` that look like `NN-name` and hold a lab.rs, sorted.
fn lab_ids(dir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().join("lab.rs").is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| {
                    name.len() > 3
                        && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                        && name.as_bytes()[2] == b'-'
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The Python programs in a lab folder, server.py and client.py first (the order a student
/// starts them in), then any other `.py` file by name.
fn programs(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| name.ends_with(".py"))
                .collect()
        })
        .unwrap_or_default();
    let rank = |name: &str| match name {
        "server.py" => 0,
        "client.py" => 1,
        _ => 2,
    };
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    names
}

fn snapshot_stems(dir: &Path) -> Vec<String> {
    let mut stems: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|name| name.strip_suffix(".snap").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    stems.sort();
    stems
}

fn write(path: &Path, contents: &str) {
    // Rewrite only on change, so unchanged output does not trigger recompiles.
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
