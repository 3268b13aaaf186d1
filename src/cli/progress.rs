//! A student's progress on this machine, as rustlings keeps it: which labs ran to their end
//! and which `netlab verify` found the same as their snapshot. One small JSON file in the
//! user's data directory ($XDG_DATA_HOME/netlab, else ~/.local/share/netlab). Progress is a
//! convenience: a home that cannot be read or written, or a damaged file, never fails a
//! command; `--no-progress` neither reads nor writes it.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name inside the data directory.
const FILE: &str = "progress.json";
/// A larger file is not netlab's: it is ignored rather than read.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// What the student has done with each lab.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabProgress {
    #[serde(default)]
    pub ran: bool,
    #[serde(default)]
    pub verified: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    labs: BTreeMap<String, LabProgress>,
}

/// The progress file, or nothing when progress is off or there is no home to keep it in.
pub struct Progress {
    file: Option<PathBuf>,
}

impl Progress {
    /// Progress kept in the user's data directory; none with `--no-progress`.
    pub fn new(enabled: bool) -> Progress {
        let file = enabled
            .then(|| data_dir(|name| std::env::var_os(name)))
            .flatten()
            .map(|dir| dir.join(FILE));
        Progress { file }
    }

    pub fn is_enabled(&self) -> bool {
        self.file.is_some()
    }

    /// Each lab's progress so far (empty when none is kept or the file cannot be read).
    pub fn labs(&self) -> BTreeMap<String, LabProgress> {
        self.file
            .as_deref()
            .and_then(read)
            .map(|state| state.labs)
            .unwrap_or_default()
    }

    /// Notes that `lab` ran to its end.
    pub fn ran(&self, lab: &str) {
        self.update(lab, |p| p.ran = true);
    }

    /// Notes that `lab` ran and `netlab verify` found its trace the same as the snapshot.
    pub fn verified(&self, lab: &str) {
        self.update(lab, |p| {
            p.ran = true;
            p.verified = true;
        });
    }

    fn update(&self, lab: &str, change: impl FnOnce(&mut LabProgress)) {
        let Some(file) = &self.file else { return };
        let mut state = read(file).unwrap_or_default();
        let entry = state.labs.entry(lab.to_string()).or_default();
        let before = *entry;
        change(entry);
        if *entry != before {
            // Progress is a convenience: a read-only or full home changes nothing else.
            let _ = write(file, &state);
        }
    }
}

/// $XDG_DATA_HOME/netlab when that is an absolute path (the XDG rule), else
/// $HOME/.local/share/netlab.
fn data_dir(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let absolute = |name: &str| {
        env(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute("XDG_DATA_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".local").join("share")))
        .map(|dir| dir.join("netlab"))
}

fn read(file: &Path) -> Option<State> {
    let meta = fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    serde_json::from_slice(&fs::read(file).ok()?).ok()
}

/// Writes the whole state to a temporary file beside it, then renames it into place, so a
/// second netlab running at the same time never reads half a file.
fn write(file: &Path, state: &State) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut temp, state)?;
    temp.write_all(b"\n")?;
    temp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn the_data_directory_follows_xdg_then_home() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            data_dir(env(&[("XDG_DATA_HOME", "/d"), ("HOME", "/h")])),
            Some(PathBuf::from("/d/netlab"))
        );
        assert_eq!(
            data_dir(env(&[("XDG_DATA_HOME", "relative"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/share/netlab"))
        );
        assert_eq!(data_dir(env(&[])), None);
    }

    #[test]
    fn progress_is_kept_and_a_damaged_file_is_no_failure() {
        let dir = tempfile::tempdir().unwrap();
        let progress = Progress {
            file: Some(dir.path().join("netlab").join(FILE)),
        };
        assert!(progress.labs().is_empty());
        progress.ran("01-phone-call");
        progress.verified("02-loops");
        let labs = progress.labs();
        assert_eq!(
            labs["01-phone-call"],
            LabProgress {
                ran: true,
                verified: false
            }
        );
        assert_eq!(
            labs["02-loops"],
            LabProgress {
                ran: true,
                verified: true
            }
        );

        fs::write(dir.path().join("netlab").join(FILE), b"{not json").unwrap();
        assert!(progress.labs().is_empty());
        progress.ran("03-empty-input");
        assert!(progress.labs()["03-empty-input"].ran);
    }
}
