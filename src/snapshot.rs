//! The published snapshots and the comparison behind `netlab verify`: where the snapshots
//! come from (snapshots/ of the netlab project around the current directory, or the copies
//! built into the binary), a line diff numbered as in the .snap file, and the likely cause
//! of a difference.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

use crate::event::Lang;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/snapshots.rs"));
}

/// The snapshot file stem of a lab in a language: `07-sticky-packet`, `07-sticky-packet.zh`.
pub fn stem(lab_id: &str, lang: Lang) -> String {
    match lang {
        Lang::En => lab_id.to_string(),
        Lang::Zh => format!("{lab_id}.zh"),
    }
}

/// The stem of a lab's snapshot with `--wire` (packets included): `07-sticky-packet.wire`,
/// `07-sticky-packet.wire.zh`.
pub fn wire_stem(lab_id: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{lab_id}.wire"),
        Lang::Zh => format!("{lab_id}.wire.zh"),
    }
}

/// The body of a published snapshot built into this binary (what `netlab run` prints),
/// without insta's header.
pub fn published(lab_id: &str, lang: Lang) -> Option<String> {
    published_stem(&stem(lab_id, lang))
}

/// The body of the built-in snapshot with this stem, without insta's header.
pub fn published_stem(wanted: &str) -> Option<String> {
    built_in(wanted).map(body)
}

/// The whole .snap file built into this binary, header included.
pub fn built_in(stem: &str) -> Option<&'static str> {
    embedded::SNAPSHOTS
        .iter()
        .find(|(s, _)| *s == stem)
        .map(|(_, contents)| *contents)
}

/// insta's file is `---` header lines `---` then the body; the body ends with one newline.
/// A text without the header is taken whole (a saved `netlab run` output).
pub fn body(contents: &str) -> String {
    let text = &contents[body_start(contents).1..];
    let text = text.trim_end_matches('\n');
    format!("{text}\n")
}

/// Where the body starts: (lines before it, byte offset).
fn body_start(contents: &str) -> (usize, usize) {
    let Some(header) = contents.strip_prefix("---\n") else {
        return (0, 0);
    };
    match header.find("\n---\n") {
        Some(end) => {
            let offset = 4 + end + 5;
            (contents[..offset].lines().count(), offset)
        }
        None => (0, 0),
    }
}

/// Where `verify` finds the published snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A snapshots/ directory on disk: the project's, or one named with `--snapshots`.
    Dir(PathBuf),
    /// The copies built into this binary when it was compiled.
    BuiltIn,
}

impl Source {
    /// snapshots/ of the netlab project that holds `start` (or a parent of it), else the
    /// built-in copies.
    pub fn around(start: &Path) -> Source {
        project_root(start).map_or(Source::BuiltIn, |root| Source::Dir(root.join("snapshots")))
    }

    /// The .snap file of `stem` as this source has it: (where, contents); None when there
    /// is no such snapshot.
    pub fn load(&self, stem: &str) -> io::Result<Option<Published>> {
        let name = format!("{stem}.snap");
        match self {
            Source::BuiltIn => Ok(built_in(stem).map(|contents| Published {
                file: format!("snapshots/{name}"),
                contents: contents.to_string(),
            })),
            Source::Dir(dir) => {
                let path = dir.join(&name);
                match fs::read_to_string(&path) {
                    Ok(contents) => Ok(Some(Published {
                        file: path.display().to_string(),
                        contents,
                    })),
                    Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(err) => Err(err),
                }
            }
        }
    }
}

/// The nearest directory from `start` upwards that is the netlab project: a Cargo.toml
/// whose package is named `netlab`, beside a snapshots/ directory.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("snapshots").is_dir() && is_netlab_manifest(&dir.join("Cargo.toml")))
        .map(Path::to_path_buf)
}

/// Whether a Cargo.toml's `[package]` is named `netlab` (read line by line: only that one
/// key matters here).
fn is_netlab_manifest(path: &Path) -> bool {
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "name" {
                    return value.trim().trim_matches(|c| c == '"' || c == '\'') == "netlab";
                }
            }
        }
    }
    false
}

/// A published .snap file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Where it came from, as `verify` names it.
    pub file: String,
    /// The whole file, insta's header included.
    pub contents: String,
}

impl Published {
    pub fn body(&self) -> String {
        body(&self.contents)
    }

    /// How many lines of the file come before the body (insta's header): line 1 of the
    /// trace is line `header_lines() + 1` of the file.
    pub fn header_lines(&self) -> usize {
        body_start(&self.contents).0
    }
}

/// One line of a diff: its line number in the snapshot file and in the other text (None
/// where the line is not in it), whether it was removed or added, and the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub snapshot_line: Option<usize>,
    pub other_line: Option<usize>,
    pub change: Change,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Same,
    Removed,
    Added,
}

/// A group of changed lines with their context, as a unified diff's `@@` hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// `@@ -19,7 +16,7 @@`: first line and count in the snapshot file, then in the other.
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// How many lines of context a hunk shows around its changes.
pub const CONTEXT_LINES: usize = 3;

/// Every difference between a published snapshot and another text (this run, or a saved
/// output), as unified-diff hunks; snapshot line numbers count insta's header lines, so
/// they point into the .snap file. Empty when the texts are the same.
pub fn diff(published: &Published, other: &str) -> Vec<Hunk> {
    let expected = published.body();
    let offset = published.header_lines();
    let text_diff = TextDiff::from_lines(expected.as_str(), other);
    text_diff
        .grouped_ops(CONTEXT_LINES)
        .iter()
        .map(|group| {
            let (first, last) = (&group[0], &group[group.len() - 1]);
            let old = first.old_range().start..last.old_range().end;
            let new = first.new_range().start..last.new_range().end;
            let header = format!(
                "@@ -{},{} +{},{} @@",
                old.start + offset + 1,
                old.len(),
                new.start + 1,
                new.len()
            );
            let lines = group
                .iter()
                .flat_map(|op| text_diff.iter_changes(op))
                .map(|change| DiffLine {
                    snapshot_line: change.old_index().map(|i| i + offset + 1),
                    other_line: change.new_index().map(|i| i + 1),
                    change: match change.tag() {
                        ChangeTag::Equal => Change::Same,
                        ChangeTag::Delete => Change::Removed,
                        ChangeTag::Insert => Change::Added,
                    },
                    text: change.value().trim_end_matches('\n').to_string(),
                })
                .collect();
            Hunk { header, lines }
        })
        .collect()
}

/// How many lines of the snapshot changed or went missing, or were added.
pub fn changed_lines(hunks: &[Hunk]) -> usize {
    let (mut removed, mut added) = (0, 0);
    for line in hunks.iter().flat_map(|h| &h.lines) {
        match line.change {
            Change::Removed => removed += 1,
            Change::Added => added += 1,
            Change::Same => {}
        }
    }
    removed.max(added)
}

/// Whether `trace` comes from a live run (`--step`, `--pace`): its header says so in the line
/// under the title. Kernel timers ran at human speed there, so it is not comparable with a
/// published snapshot.
pub fn is_paced(trace: &str) -> bool {
    let (en, zh) = crate::phrases::PACED_RUN;
    trace
        .lines()
        .take(3)
        .any(|line| line.starts_with(en) || line.starts_with(zh))
}

/// The likely reason a text differs from the snapshot it was compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The output was paced.
    Paced,
    /// It is the same lab in the other language: (that snapshot's file, the language).
    Language(String, Lang),
    /// It is another lab's output (its header names that lab).
    OtherLab(String),
    /// The snapshot file on disk differs from the copy built into this netlab.
    Edited,
    /// Only the kernel's lines differ.
    Kernel,
    /// Nothing more specific: another netlab or kernel version.
    Version,
}

/// What can tell the likely cause of a difference apart.
pub struct Evidence<'a> {
    pub lab_id: &'a str,
    pub published: &'a Published,
    /// The other text (this run, or a saved output).
    pub other: &'a str,
    /// The hunks between them.
    pub hunks: &'a [Hunk],
    /// The same lab's snapshot in the other language, from the same source.
    pub other_language: Option<(&'a Published, Lang)>,
    /// The copy of this snapshot built into the binary.
    pub built_in: Option<&'a str>,
}

/// The first cause that fits, most specific first.
pub fn likely_cause(evidence: &Evidence) -> Cause {
    let other = evidence.other;
    if is_paced(other) {
        return Cause::Paced;
    }
    if let Some((published, lang)) = evidence.other_language {
        if published.body() == other {
            return Cause::Language(published.file.clone(), lang);
        }
    }
    let header = other.lines().next().unwrap_or_default();
    if let Some(id) = header
        .strip_prefix("netlab ")
        .and_then(|rest| rest.split_once(':'))
        .map(|(id, _)| id)
    {
        if id != evidence.lab_id && !id.contains(' ') {
            return Cause::OtherLab(id.to_string());
        }
    }
    if evidence
        .built_in
        .is_some_and(|copy| body(copy) != evidence.published.body())
    {
        return Cause::Edited;
    }
    let kernel_only = evidence
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter(|line| line.change != Change::Same)
        .all(|line| is_kernel_line(&line.text));
    if kernel_only {
        Cause::Kernel
    } else {
        Cause::Version
    }
}

/// A trace line of the kernel side: `NNN kernel    ...`.
fn is_kernel_line(line: &str) -> bool {
    line.get(4..)
        .is_some_and(|rest| rest.starts_with("kernel "))
        && line[..3].trim().parse::<u32>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(body: &str) -> Published {
        Published {
            file: "snapshots/x.snap".into(),
            contents: format!("---\nsource: tests/labs.rs\n---\n{body}"),
        }
    }

    #[test]
    fn diff_lines_are_numbered_as_in_the_snap_file() {
        let published = snap("a\nb\nc\nd\n");
        assert_eq!(published.header_lines(), 3);
        let hunks = diff(&published, "a\nB\nc\nD\n");
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].header, "@@ -4,4 +1,4 @@");
        let removed: Vec<_> = hunks[0]
            .lines
            .iter()
            .filter(|l| l.change == Change::Removed)
            .map(|l| (l.snapshot_line, l.text.as_str()))
            .collect();
        assert_eq!(removed, [(Some(5), "b"), (Some(7), "d")]);
        assert_eq!(changed_lines(&hunks), 2);
        assert!(diff(&published, "a\nb\nc\nd\n").is_empty());
    }

    #[test]
    fn a_saved_output_or_a_snap_file_gives_the_same_body() {
        assert_eq!(body("---\nsource: x\n---\nline\n\n"), "line\n");
        assert_eq!(body("netlab 01: x\nline\n"), "netlab 01: x\nline\n");
    }

    #[test]
    fn causes_from_the_most_specific() {
        let published = snap("netlab 01-a: title\n  1 kernel    x  -> 1\n");
        let check = |other: &str, built_in: Option<&str>| {
            let hunks = diff(&published, other);
            likely_cause(&Evidence {
                lab_id: "01-a",
                published: &published,
                other,
                hunks: &hunks,
                other_language: None,
                built_in,
            })
        };
        assert_eq!(
            check(
                "netlab 01-a: title\n== paced run (--pace 500): not comparable ==\n",
                None
            ),
            Cause::Paced
        );
        assert_eq!(
            check("netlab 02-b: other\n", None),
            Cause::OtherLab("02-b".into())
        );
        assert_eq!(
            check("netlab 01-a: title\n  1 kernel    x  -> 2\n", None),
            Cause::Kernel
        );
        assert_eq!(
            check("netlab 01-a: title\n  1 server    y\n", None),
            Cause::Version
        );
        assert_eq!(
            check(
                "netlab 01-a: title\n  1 server    y\n",
                Some("---\n---\nold\n")
            ),
            Cause::Edited
        );
    }

    #[test]
    fn the_project_is_found_from_a_subdirectory() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            project_root(&root.join("src").join("cli")),
            Some(root.to_path_buf())
        );
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(project_root(elsewhere.path()), None);
        fs::create_dir(elsewhere.path().join("snapshots")).unwrap();
        fs::write(
            elsewhere.path().join("Cargo.toml"),
            "[package]\nname = \"other\"\n",
        )
        .unwrap();
        assert_eq!(project_root(elsewhere.path()), None);
    }
}
