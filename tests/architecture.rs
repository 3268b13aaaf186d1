//! The engine's shape, checked: its files depend one way. A module never uses one that uses it
//! back (directly or through others), so each can be read, tested and changed knowing only
//! what is below it.
//!
//! Every `use crate::...`, `use super::...` and inline `crate::a::b` path in src/ (comments
//! and string literals left out) is an edge from its file to the file of the deepest module
//! the path names; the test fails on any cycle and prints it. main.rs is a separate crate and
//! uses the library only through `netlab::`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A module as a list of names from the crate root: `["sock", "addr"]`.
type ModPath = Vec<String>;

/// The file of a module, if it exists: src/a/b.rs or src/a/b/mod.rs (src/lib.rs for the root).
fn module_file(path: &[String]) -> Option<PathBuf> {
    if path.is_empty() {
        return Some(src().join("lib.rs"));
    }
    let joined: PathBuf = path.iter().collect();
    let file = src().join(&joined).with_extension("rs");
    let dir = src().join(&joined).join("mod.rs");
    [file, dir].into_iter().find(|f| f.is_file())
}

/// The module a file under src/ holds.
fn module_of(file: &Path) -> ModPath {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: ModPath = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The source without comments, string, byte-string and char literals.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            i += 2;
            while i < chars.len() && !at(i, "*/") {
                i += 1;
            }
            i += 2;
        } else if chars[i] == 'r' && (at(i + 1, "\"") || at(i + 1, "#")) && !ident_before(&chars, i)
        {
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            j += 1;
            while j < chars.len() && !at(j, &close) {
                j += 1;
            }
            i = j + close.len();
            out.push_str("\"\"");
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if chars[i] == '\''
            && (chars.get(i + 1) == Some(&'\\') || chars.get(i + 2) == Some(&'\''))
        {
            // A char literal ('x', '\n', '\u{1b}'); a lifetime ('a) has no closing quote.
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            i = j + 1;
            out.push_str("' '");
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

fn tokens(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".into());
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
            i += 1;
        }
    }
    tokens
}

/// The paths a use tree names: `crate::{a::{self, B}, c}` gives crate::a, crate::a::B and
/// crate::c.
fn use_paths(tokens: &[String]) -> Vec<Vec<String>> {
    fn tree(tokens: &[String], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            match tokens.get(*i).map(String::as_str) {
                Some("{") => {
                    *i += 1;
                    while tokens.get(*i).is_some_and(|t| t != "}") {
                        tree(tokens, i, &path, out);
                        if tokens.get(*i).is_some_and(|t| t == ",") {
                            *i += 1;
                        }
                    }
                    *i += 1;
                    return;
                }
                Some("self") => {
                    *i += 1;
                }
                Some("*") => {
                    *i += 1;
                }
                Some("as") => {
                    *i += 2;
                }
                Some("::") => {
                    *i += 1;
                    continue;
                }
                Some(t) if t.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                    path.push(t.to_string());
                    *i += 1;
                    continue;
                }
                _ => {}
            }
            out.push(path);
            return;
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    tree(tokens, &mut i, &[], &mut out);
    out
}

/// Every `crate::`/`super::` path in a file's code, each with the inline modules it sits in
/// (`mod tests { use super::*; }` uses its own file, not the file's parent).
fn paths_in(code: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let tokens = tokens(code);
    let mut paths = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let is_ident = |t: &str| t.chars().all(|c| c.is_alphanumeric() || c == '_');
    let mut i = 0;
    while i < tokens.len() {
        let within = || {
            inline
                .iter()
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
        };
        if tokens[i] == "use" {
            let end = tokens[i..]
                .iter()
                .position(|t| t == ";")
                .map_or(tokens.len(), |e| i + e);
            let here = within();
            paths.extend(
                use_paths(&tokens[i + 1..end])
                    .into_iter()
                    .map(|p| (here.clone(), p)),
            );
            i = end;
        } else if tokens[i] == "mod"
            && tokens.get(i + 1).is_some_and(|t| is_ident(t))
            && tokens.get(i + 2).is_some_and(|t| t == "{")
        {
            depth += 1;
            inline.push((tokens[i + 1].clone(), depth));
            i += 3;
        } else if tokens[i] == "{" {
            depth += 1;
            i += 1;
        } else if tokens[i] == "}" {
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
            depth -= 1;
            i += 1;
        } else if (tokens[i] == "crate" || tokens[i] == "super")
            && tokens.get(i + 1).is_some_and(|t| t == "::")
        {
            let mut path = vec![tokens[i].clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t == "::")
                && tokens.get(j + 1).is_some_and(|t| is_ident(t))
            {
                path.push(tokens[j + 1].clone());
                j += 2;
            }
            paths.push((within(), path));
            i = j;
        } else {
            i += 1;
        }
    }
    paths
}

/// The file of the deepest module a path names, from the module `from`.
fn resolve(from: &ModPath, path: &[String]) -> Option<PathBuf> {
    let (mut module, rest) = match path.first().map(String::as_str) {
        Some("crate") => (ModPath::new(), &path[1..]),
        Some("super") => {
            let mut parent = from.clone();
            parent.pop()?;
            (parent, &path[1..])
        }
        _ => return None,
    };
    for name in rest {
        let mut deeper = module.clone();
        deeper.push(name.clone());
        if module_file(&deeper).is_none() {
            break;
        }
        module = deeper;
    }
    module_file(&module)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// file -> files it uses.
fn dependencies() -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.retain(|f| f.file_name().is_some_and(|n| n != "main.rs"));
    let mut graph = BTreeMap::new();
    for file in files {
        let code = code_only(&fs::read_to_string(&file).unwrap());
        let module = module_of(&file);
        let mut uses: Vec<PathBuf> = paths_in(&code)
            .iter()
            .filter_map(|(inline, path)| {
                let from: ModPath = module.iter().chain(inline).cloned().collect();
                resolve(&from, path)
            })
            .filter(|target| target != &file)
            .collect();
        uses.sort();
        uses.dedup();
        graph.insert(file, uses);
    }
    graph
}

/// A cycle in the graph, as the files around it, if there is one.
fn find_cycle(graph: &BTreeMap<PathBuf, Vec<PathBuf>>) -> Option<Vec<PathBuf>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &PathBuf,
        graph: &BTreeMap<PathBuf, Vec<PathBuf>>,
        marks: &mut BTreeMap<PathBuf, Mark>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, stack) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

fn show(cycle: &[PathBuf]) -> String {
    cycle
        .iter()
        .map(|f| f.strip_prefix(src()).unwrap().display().to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    let graph = dependencies();
    assert!(graph.len() > 10, "found too few files: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("src/ files import each other in a circle: {}", show(&cycle));
    }
}

#[test]
fn the_checker_sees_uses_and_finds_a_cycle() {
    // It reads use trees, inline paths and super, and ignores comments and strings.
    let code = code_only(
        "use crate::{event::{self, Text}, sock::Side};\n// use crate::commented;\n\
         let s = \"crate::in_a_string\"; fn f() { crate::kernel::Kernel::new(); super::x(); }\n\
         mod tests { use super::*; }",
    );
    let paths: Vec<String> = paths_in(&code)
        .iter()
        .map(|(inline, p)| format!("{}{}", inline.join(""), p.join("::")))
        .collect();
    assert_eq!(
        paths,
        [
            "crate::event",
            "crate::event::Text",
            "crate::sock::Side",
            "crate::kernel::Kernel::new",
            "super::x",
            "testssuper",
        ]
    );
    assert_eq!(
        resolve(
            &vec!["sock".into(), "settle".into()],
            &["super".into(), "Sock".into()]
        ),
        module_file(&["sock".to_string()])
    );
    let (a, b, c) = (PathBuf::from("a"), PathBuf::from("b"), PathBuf::from("c"));
    let graph = BTreeMap::from([
        (a.clone(), vec![b.clone()]),
        (b.clone(), vec![c.clone()]),
        (c.clone(), vec![a.clone()]),
    ]);
    assert_eq!(find_cycle(&graph), Some(vec![a.clone(), b, c, a]));
}
