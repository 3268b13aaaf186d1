//! The rules a lab folder follows, checked the way rustlings' `dev check` checks exercises:
//! each broken rule is reported with the lab that breaks it, all at once.
//!
//! - every folder under labs/ is named `NN-name` (two digits, lower-case words joined by -);
//! - it holds lab.rs, lesson.en.md and lesson.zh.md, and the lessons are not empty;
//! - the numbers are unique and consecutive from 01;
//! - the lab file declares only what is its own: no id string (the folder gives the id), no
//!   include of its lessons (the build script includes them);
//! - the title has English and Chinese text;
//! - a lab that offers peer mode has the programs a student runs against it: `serve` needs a
//!   client.py, `connect` a server.py, each non-empty and taking its port from argv with the
//!   course's port as default; and its peer.rs, like lab.rs, names no id and includes nothing;
//! - Python programs belong to a lab with peer mode, and its lessons say how to run them.
//!
//! (Every note and heading having both languages is checked per lab in tests/labs.rs, from a
//! run, since notes are only known when a lab runs.)

use std::fs;
use std::path::{Path, PathBuf};

fn labs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("labs")
}

/// The problems of the folder `labs/<name>`, each naming the rule it breaks.
fn folder_problems(dir: &Path, name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let well_named = name.len() > 3
        && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
        && name.as_bytes()[2] == b'-'
        && name[3..].split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !well_named {
        problems.push(format!(
            "labs/{name}: a lab folder is named NN-name (two digits, then lower-case words joined by -)"
        ));
    }
    for file in ["lab.rs", "lesson.en.md", "lesson.zh.md"] {
        let path = dir.join(file);
        match fs::read_to_string(&path) {
            Err(_) => problems.push(format!(
                "labs/{name}: no {file} (every lab folder has lab.rs, lesson.en.md and lesson.zh.md)"
            )),
            Ok(text) if text.trim().is_empty() => {
                problems.push(format!("labs/{name}: {file} is empty"))
            }
            Ok(text) if file == "lab.rs" => {
                if text.contains(&format!("\"{name}\"")) {
                    problems.push(format!(
                        "labs/{name}: lab.rs names its own id \"{name}\" (the folder gives the id)"
                    ));
                }
                if text.contains("include_str!") {
                    problems.push(format!(
                        "labs/{name}: lab.rs includes files itself (the build script includes the lessons)"
                    ));
                }
            }
            Ok(_) => {}
        }
    }
    if let Ok(text) = fs::read_to_string(dir.join("peer.rs")) {
        if text.contains(&format!("\"{name}\"")) {
            problems.push(format!(
                "labs/{name}: peer.rs names its own id \"{name}\" (the folder gives the id)"
            ));
        }
        if text.contains("include_str!") {
            problems.push(format!(
                "labs/{name}: peer.rs includes files itself (the build script includes the programs)"
            ));
        }
    }
    problems
}

/// The problems of a compiled lab's peer mode: the Python programs it needs, and what its
/// lessons and programs say about running them.
fn peer_problems(lab: &netlab::lab::Lab) -> Vec<String> {
    let id = lab.id;
    let mut problems = Vec::new();
    let program = |name: &str| {
        lab.code
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(_, text)| *text)
    };
    // Python programs in a lab's folder are there to run against netlab: a lab that holds
    // them offers peer mode, and one that offers a mode holds the program for the student's
    // side.
    let Some(mode) = lab.peer else {
        if !lab.code.is_empty() {
            problems.push(format!(
                "labs/{id}: Python programs without peer mode (add a peer.rs that declares PEER)"
            ));
        }
        return problems;
    };
    let needed = [
        (mode.serve.is_some(), "client.py", "serve", "netlab serve"),
        (
            mode.connect.is_some(),
            "server.py",
            "connect",
            "netlab connect",
        ),
    ];
    for (offered, file, role, command) in needed {
        if !offered {
            continue;
        }
        match program(file) {
            None => problems.push(format!(
                "labs/{id}: peer mode offers {role} but the folder has no {file} (the student's side)"
            )),
            Some(text) if text.trim().is_empty() => {
                problems.push(format!("labs/{id}: {file} is empty"))
            }
            Some(text) => {
                let port = mode.course_port.to_string();
                if !text.contains("sys.argv[1]") || !text.contains(&port) {
                    problems.push(format!(
                        "labs/{id}: {file} takes its port from sys.argv[1], with the course's {port} as default"
                    ));
                }
            }
        }
        for (lang, lesson) in [("en", &lab.lesson.en), ("zh", &lab.lesson.zh)] {
            if !lesson.contains(command) {
                problems.push(format!(
                    "labs/{id}: lesson.{lang}.md does not say how to run {file} against `{command}`"
                ));
            }
        }
    }
    problems
}

#[test]
fn a_lab_with_peer_mode_has_its_programs_and_says_how_to_run_them() {
    let problems: Vec<String> = netlab::lab::all()
        .iter()
        .flat_map(|lab| peer_problems(lab))
        .collect();
    assert!(
        problems.is_empty(),
        "lab folders break these rules:\n{}",
        problems.join("\n")
    );
    let offering = netlab::lab::all()
        .iter()
        .filter(|lab| lab.peer.is_some())
        .count();
    assert!(offering >= 11, "peer mode in {offering} labs");
}

#[test]
fn a_peer_mode_without_its_programs_is_named() {
    use netlab::peer::{Connect, PeerMode, Serve};
    fn nothing(_: &mut netlab::peer::Call) -> netlab::peer::PeerResult {
        Ok(())
    }
    fn dial(_: &netlab::peer::Dialer) -> netlab::peer::PeerResult {
        Ok(())
    }
    static MODE: PeerMode = PeerMode {
        course_port: 8080,
        serve: Some(Serve::Calls(nothing)),
        connect: Some(Connect::Calls(dial)),
    };
    fn run(_: &netlab::trace::Trace) -> netlab::trace::LabResult {
        Ok(())
    }
    let lab = netlab::lab::Lab {
        id: "17-copy",
        title: netlab::event::Text::fixed("t", "t"),
        lesson: netlab::event::Text::fixed("", ""),
        run,
        peer: Some(&MODE),
        code: &[("server.py", "port = 9999\n")],
    };
    let problems = peer_problems(&lab);
    let expected = [
        "labs/17-copy: peer mode offers serve but the folder has no client.py",
        "labs/17-copy: lesson.en.md does not say how to run client.py",
        "labs/17-copy: lesson.zh.md does not say how to run client.py",
        "labs/17-copy: server.py takes its port from sys.argv[1]",
        "labs/17-copy: lesson.en.md does not say how to run server.py",
        "labs/17-copy: lesson.zh.md does not say how to run server.py",
    ];
    for start in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(start)),
            "missing {start:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn python_programs_without_peer_mode_are_named() {
    fn run(_: &netlab::trace::Trace) -> netlab::trace::LabResult {
        Ok(())
    }
    let lab = netlab::lab::Lab {
        id: "18-copy",
        title: netlab::event::Text::fixed("t", "t"),
        lesson: netlab::event::Text::fixed("", ""),
        run,
        peer: None,
        code: &[("server.py", "import sys\n")],
    };
    assert_eq!(
        peer_problems(&lab),
        ["labs/18-copy: Python programs without peer mode (add a peer.rs that declares PEER)"]
    );
}

#[test]
fn every_lab_folder_follows_the_rules() {
    let mut names: Vec<String> = fs::read_dir(labs_dir())
        .expect("labs/ exists")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut problems: Vec<String> = names
        .iter()
        .flat_map(|name| folder_problems(&labs_dir().join(name), name))
        .collect();

    let numbers: Vec<(u32, &String)> = names
        .iter()
        .filter_map(|name| Some((name.get(..2)?.parse().ok()?, name)))
        .collect();
    for (i, (number, name)) in numbers.iter().enumerate() {
        let wanted = i as u32 + 1;
        if i > 0 && numbers[i - 1].0 == *number {
            problems.push(format!(
                "labs/{name}: number {number:02} is taken by labs/{} (lab numbers are unique)",
                numbers[i - 1].1
            ));
        } else if *number != wanted {
            problems.push(format!(
                "labs/{name}: expected number {wanted:02} here (lab numbers run 01, 02, ... without gaps)"
            ));
            break;
        }
    }
    assert!(
        problems.is_empty(),
        "lab folders break these rules:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_lab_folder_is_compiled_in_with_a_title_in_both_languages() {
    let ids: Vec<&str> = netlab::lab::all().iter().map(|lab| lab.id).collect();
    let mut problems = Vec::new();
    for entry in fs::read_dir(labs_dir()).unwrap().filter_map(Result::ok) {
        let name = entry.file_name().into_string().unwrap();
        if entry.path().join("lab.rs").is_file() && !ids.contains(&name.as_str()) {
            problems.push(format!(
                "labs/{name}: not compiled in (build.rs takes folders named NN-name that hold lab.rs)"
            ));
        }
    }
    for lab in netlab::lab::all() {
        for (lang, text) in [("English", &lab.title.en), ("Chinese", &lab.title.zh)] {
            if text.trim().is_empty() {
                problems.push(format!("labs/{}: the title has no {lang} text", lab.id));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "lab folders break these rules:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_rules_name_the_lab_that_breaks_them() {
    let scratch = tempfile::tempdir().unwrap();
    let bad = scratch.path().join("17-Copy");
    fs::create_dir(&bad).unwrap();
    fs::write(
        bad.join("lab.rs"),
        "pub const ID: &str = \"17-Copy\";\nconst L: &str = include_str!(\"lesson.en.md\");\n",
    )
    .unwrap();
    fs::write(bad.join("lesson.en.md"), "").unwrap();
    let problems = folder_problems(&bad, "17-Copy");
    let expected = [
        "labs/17-Copy: a lab folder is named NN-name",
        "labs/17-Copy: lab.rs names its own id",
        "labs/17-Copy: lab.rs includes files itself",
        "labs/17-Copy: lesson.en.md is empty",
        "labs/17-Copy: no lesson.zh.md",
    ];
    for start in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(start)),
            "missing {start:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}
