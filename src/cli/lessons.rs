//! `netlab list` and `netlab show`: the labs with the student's progress, and their lesson
//! texts.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use unicode_width::UnicodeWidthStr;

use netlab::event::Lang;
use netlab::lab::{self, Lab};
use netlab::phrases;

use super::markdown;
use super::progress::Progress;
use super::Failure;

/// The mark for a lab run or verified on this machine.
const DONE: &str = "✓";

/// `text` padded with spaces to `width` terminal columns (a Chinese character takes two).
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(fill))
}

/// The labs in order; with progress, which ran and which verified on this machine, and the
/// next step.
pub fn list(out: &mut impl Write, lang: Lang, progress: &Progress) -> Result<ExitCode, Failure> {
    let labs = lab::all();
    let id_width = labs
        .iter()
        .map(|lab| lab.id.width())
        .max()
        .unwrap_or(0)
        .max(22);
    if !progress.is_enabled() {
        for lab in labs {
            writeln!(out, "{} {}", pad(lab.id, id_width), lab.title.get(lang))?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let done = progress.labs();
    let ran_heading = phrases::LIST_RAN.get(lang);
    let verified_heading = phrases::LIST_VERIFIED.get(lang);
    let (ran_width, verified_width) = (ran_heading.width(), verified_heading.width());
    writeln!(
        out,
        "{}  {}  {} {}",
        pad(ran_heading, ran_width),
        pad(verified_heading, verified_width),
        pad(phrases::LIST_LAB.get(lang), id_width),
        phrases::LIST_TITLE.get(lang)
    )?;
    let mark = |yes: bool, width: usize| pad(if yes { DONE } else { "" }, width);
    for lab in labs {
        let state = done.get(lab.id).copied().unwrap_or_default();
        writeln!(
            out,
            "{}  {}  {} {}",
            mark(state.ran, ran_width),
            mark(state.verified, verified_width),
            pad(lab.id, id_width),
            lab.title.get(lang)
        )?;
    }
    let state = |lab: &Lab| done.get(lab.id).copied().unwrap_or_default();
    let ran = labs.iter().filter(|lab| state(lab).ran).count();
    let verified = labs.iter().filter(|lab| state(lab).verified).count();
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        phrases::LIST_PROGRESS.fill(
            lang,
            &[
                ("ran", &ran),
                ("total", &labs.len()),
                ("verified", &verified)
            ]
        )
    )?;
    let next = labs
        .iter()
        .find(|lab| !state(lab).ran)
        .map(|lab| phrases::LIST_NEXT.fill(lang, &[("id", &lab.id)]))
        .or_else(|| {
            labs.iter()
                .find(|lab| !state(lab).verified)
                .map(|lab| phrases::LIST_NEXT_VERIFY.fill(lang, &[("id", &lab.id)]))
        })
        .unwrap_or_else(|| phrases::LIST_ALL_DONE.get(lang).to_string());
    writeln!(out, "{next}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A lab's lesson: rendered for the terminal (headings, emphasis, code blocks, tables
/// aligned by display width), plain Markdown when piped.
pub fn show_lesson(out: &mut impl Write, lab: &Lab, lang: Lang) -> Result<ExitCode, Failure> {
    let lesson = lab.lesson.get(lang);
    if io::stdout().is_terminal() {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let rendered = markdown::render(lesson, terminal_width(), !no_color);
        write!(out, "{rendered}")?;
    } else {
        writeln!(out, "{}: {}\n", lab.id, lab.title.get(lang))?;
        write!(out, "{lesson}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The terminal's width, capped so lines stay readable; 80 when it cannot be told.
fn terminal_width() -> usize {
    rustix::termios::tcgetwinsize(io::stdout())
        .map(|size| usize::from(size.ws_col))
        .ok()
        .filter(|&columns| columns > 0)
        .unwrap_or(80)
        .clamp(20, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column of each `│` in a line, in terminal columns.
    fn bars(line: &str) -> Vec<usize> {
        let mut at = Vec::new();
        let mut column = 0;
        for c in line.chars() {
            if c == '│' {
                at.push(column);
            }
            column += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        }
        at
    }

    #[test]
    fn a_lesson_for_the_terminal_has_no_markdown_marks_and_aligned_tables() {
        for lang in [Lang::En, Lang::Zh] {
            let lesson = lab::all()[0].lesson.get(lang);
            let shown = markdown::render(lesson, 100, false);
            for mark in ["**", "```", "`", "|---"] {
                assert!(!shown.contains(mark), "{lang:?}: {mark} in\n{shown}");
            }
            // A heading's marks are gone (a `#` inside a code block is the code's own).
            assert!(
                !shown.lines().any(|line| line.starts_with('#')),
                "{lang:?}: a heading mark in\n{shown}"
            );
            let rows: Vec<Vec<usize>> = shown.lines().map(bars).filter(|b| !b.is_empty()).collect();
            assert!(rows.len() > 3, "{lang:?}: no table rows in\n{shown}");
            assert!(
                rows.windows(2).all(|w| w[0] == w[1]),
                "{lang:?}: {rows:?}\n{shown}"
            );
        }
    }
}
