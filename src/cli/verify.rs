//! `netlab verify`: this machine's trace (or a saved `netlab run` output) against the
//! published snapshot: the project's snapshots/ when run inside the netlab project, else the
//! copies built into netlab; it says which. A difference is shown as a unified diff numbered
//! as in the .snap file, with the likely cause.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use colored::Colorize;
use unicode_width::UnicodeWidthStr;

use netlab::event::Lang;
use netlab::lab::{self, Format, Lab};
use netlab::phrases::{self, Message};
use netlab::snapshot::{self, Cause, Change, Evidence, Hunk, Published, Source};
use netlab::trace::TraceOptions;

use super::args::ColorWhen;
use super::progress::Progress;
use super::run::{run_error_message, use_color};
use super::{complain, Failure, USAGE};

/// What `verify` compares and with what.
pub struct Request<'a> {
    pub labs: &'static [&'static Lab],
    pub lang: Lang,
    /// `--snapshots DIR`.
    pub snapshots: Option<&'a Path>,
    /// `--file FILE`: a saved output instead of a run.
    pub file: Option<&'a Path>,
    /// `--wire`: run with the packets and compare with the `.wire` snapshots.
    pub wire: bool,
}

/// The width of the status column (`ok`, `DIFFERS` ...), in terminal columns.
const STATUS_WIDTH: usize = 8;

/// Runs each lab (or reads the saved file) and compares it with the published snapshot. A
/// lab that does not run to the end is reported as such, never as a trace that differs.
/// Exit 0 when all are the same, 1 when any differs or did not finish, 2 on a usage error.
pub fn verify(
    out: &mut impl Write,
    request: &Request,
    progress: &Progress,
) -> Result<ExitCode, Failure> {
    let lang = request.lang;
    let source = match request.snapshots {
        Some(dir) if dir.is_dir() => Source::Dir(dir.to_path_buf()),
        Some(dir) => {
            complain(phrases::NOT_A_SNAPSHOT_DIR.fill(lang, &[("dir", &dir.display())]));
            return Ok(ExitCode::from(USAGE));
        }
        None => Source::around(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    };
    let saved = match request.file {
        Some(path) => match fs::read(path) {
            Ok(bytes) => Some(snapshot::body(&String::from_utf8_lossy(&bytes))),
            Err(err) => {
                let file = path.display();
                complain(phrases::CANNOT_READ.fill(lang, &[("file", &file), ("err", &err)]));
                return Ok(ExitCode::from(USAGE));
            }
        },
        None => None,
    };
    let color = use_color(ColorWhen::Auto);
    colored::control::set_override(color);
    let mut report = Report { out, lang, color };
    report.source(&source)?;

    let (mut missing, mut failed, mut differ) = (0, 0, 0);
    let stem_of = |id: &str, lang: Lang| {
        if request.wire {
            snapshot::wire_stem(id, lang)
        } else {
            snapshot::stem(id, lang)
        }
    };
    let options = TraceOptions {
        lang,
        wire: request.wire,
        ..TraceOptions::default()
    };
    for &lab in request.labs {
        let stem = stem_of(lab.id, lang);
        let published = match source.load(&stem) {
            Ok(Some(published)) => published,
            Ok(None) => {
                missing += 1;
                let file = format!("snapshots/{stem}.snap");
                let line =
                    phrases::VERIFY_NO_SNAPSHOT.fill(lang, &[("stem", &stem), ("file", &file)]);
                report.status(phrases::VERIFY_MISSING, &line)?;
                continue;
            }
            Err(err) => {
                missing += 1;
                let file = format!("{stem}.snap");
                let line = phrases::CANNOT_READ.fill(lang, &[("file", &file), ("err", &err)]);
                report.status(phrases::VERIFY_MISSING, &line)?;
                continue;
            }
        };
        let actual = match &saved {
            Some(text) => text.clone(),
            None => match lab::render(lab, options, Format::Text) {
                Ok(actual) => {
                    progress.ran(lab.id);
                    actual
                }
                Err(err) => {
                    failed += 1;
                    let reason = run_error_message(&err, lang);
                    let line = phrases::VERIFY_DID_NOT_FINISH
                        .fill(lang, &[("stem", &stem), ("reason", &reason)]);
                    report.status(phrases::VERIFY_FAILED, &line)?;
                    continue;
                }
            },
        };
        let hunks = snapshot::diff(&published, &actual);
        if hunks.is_empty() {
            if saved.is_none() {
                progress.verified(lab.id);
            }
            let line =
                phrases::VERIFY_SAME_AS.fill(lang, &[("stem", &stem), ("file", &published.file)]);
            report.status(phrases::VERIFY_OK, &line)?;
            continue;
        }
        differ += 1;
        let count = snapshot::changed_lines(&hunks);
        let line = phrases::VERIFY_DIFFERENT_LINES.fill(
            lang,
            &[
                ("stem", &stem),
                ("count", &count),
                ("file", &published.file),
            ],
        );
        report.status(phrases::VERIFY_DIFFERS, &line)?;
        let other_file = request.file.map(|f| f.display().to_string());
        report.diff(&published, other_file.as_deref(), &hunks)?;
        let other_lang = match lang {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        };
        let other_language = source.load(&stem_of(lab.id, other_lang)).ok().flatten();
        let built_in = match source {
            Source::Dir(_) => snapshot::built_in(&stem),
            Source::BuiltIn => None,
        };
        let cause = snapshot::likely_cause(&Evidence {
            lab_id: lab.id,
            published: &published,
            other: &actual,
            hunks: &hunks,
            other_language: other_language.as_ref().map(|p| (p, other_lang)),
            built_in,
        });
        report.cause(&cause, &published)?;
    }
    summarize(request.labs.len(), (failed, differ, missing), lang)
}

/// The closing line on stderr when anything did not pass, and the exit status.
fn summarize(
    total: usize,
    (failed, differ, missing): (usize, usize, usize),
    lang: Lang,
) -> Result<ExitCode, Failure> {
    let parts: Vec<String> = [
        (failed, phrases::SUMMARY_FAILED),
        (differ, phrases::SUMMARY_DIFFER),
        (missing, phrases::SUMMARY_MISSING),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, message)| message.fill(lang, &[("count", &count)]))
    .collect();
    if parts.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let parts = parts.join(phrases::PARTS_SEPARATOR.get(lang));
    complain(phrases::VERIFY_SUMMARY.fill(lang, &[("total", &total), ("parts", &parts)]));
    Ok(ExitCode::FAILURE)
}

/// Writes verify's lines.
struct Report<'w, W: Write> {
    out: &'w mut W,
    lang: Lang,
    color: bool,
}

impl<W: Write> Report<'_, W> {
    fn source(&mut self, source: &Source) -> Result<(), Failure> {
        let line = match source {
            Source::Dir(dir) => {
                phrases::VERIFY_FROM_DISK.fill(self.lang, &[("dir", &dir.display())])
            }
            Source::BuiltIn => {
                phrases::VERIFY_BUILT_IN.fill(self.lang, &[("version", &env!("CARGO_PKG_VERSION"))])
            }
        };
        writeln!(self.out, "{line}")?;
        Ok(())
    }

    /// `ok      01-phone-call: same as ...`: the status word padded by display width.
    fn status(&mut self, status: Message, line: &str) -> Result<(), Failure> {
        let word = status.get(self.lang);
        let fill = " ".repeat(STATUS_WIDTH.saturating_sub(word.width()));
        let word = if !self.color {
            word.to_string()
        } else if status.id == phrases::VERIFY_OK.id {
            word.green().bold().to_string()
        } else {
            word.red().bold().to_string()
        };
        writeln!(self.out, "{word}{fill}{line}")?;
        self.out.flush()?;
        Ok(())
    }

    /// The unified diff, each line with its number in the .snap file.
    fn diff(
        &mut self,
        published: &Published,
        other_file: Option<&str>,
        hunks: &[Hunk],
    ) -> Result<(), Failure> {
        let lang = self.lang;
        let old = phrases::DIFF_SNAPSHOT.fill(lang, &[("file", &published.file)]);
        let new = match other_file {
            Some(file) => phrases::DIFF_YOUR_FILE.fill(lang, &[("file", &file)]),
            None => phrases::DIFF_THIS_RUN.get(lang).to_string(),
        };
        let indent = " ".repeat(STATUS_WIDTH);
        writeln!(self.out, "{indent}{}", self.paint(&old, Change::Removed))?;
        writeln!(self.out, "{indent}{}", self.paint(&new, Change::Added))?;
        for hunk in hunks {
            let header = if self.color {
                hunk.header.cyan().to_string()
            } else {
                hunk.header.clone()
            };
            writeln!(self.out, "{indent}{header}")?;
            for line in &hunk.lines {
                let (sign, number) = match line.change {
                    Change::Same => (' ', line.snapshot_line),
                    Change::Removed => ('-', line.snapshot_line),
                    Change::Added => ('+', None),
                };
                let number = number.map_or_else(String::new, |n| n.to_string());
                let text = format!("{sign}{number:>5}  {}", line.text);
                let text = text.trim_end();
                writeln!(self.out, "{indent}{}", self.paint(text, line.change))?;
            }
        }
        Ok(())
    }

    fn paint(&self, text: &str, change: Change) -> String {
        match change {
            _ if !self.color => text.to_string(),
            Change::Removed => text.red().to_string(),
            Change::Added => text.green().to_string(),
            Change::Same => text.to_string(),
        }
    }

    fn cause(&mut self, cause: &Cause, published: &Published) -> Result<(), Failure> {
        let lang = self.lang;
        let version = env!("CARGO_PKG_VERSION");
        let line = match cause {
            Cause::Paced => phrases::CAUSE_PACED.get(lang).to_string(),
            Cause::Language(file, other) => {
                phrases::CAUSE_LANGUAGE.fill(lang, &[("file", file), ("lang", &other.code())])
            }
            Cause::OtherLab(found) => phrases::CAUSE_OTHER_LAB.fill(lang, &[("found", found)]),
            Cause::Edited => phrases::CAUSE_EDITED.fill(lang, &[("file", &published.file)]),
            Cause::Kernel => phrases::CAUSE_KERNEL.get(lang).to_string(),
            Cause::Version => phrases::CAUSE_VERSION.fill(lang, &[("version", &version)]),
        };
        let line = if self.color {
            line.yellow().to_string()
        } else {
            line
        };
        writeln!(self.out, "{}{line}", " ".repeat(STATUS_WIDTH))?;
        self.out.flush()?;
        Ok(())
    }
}
