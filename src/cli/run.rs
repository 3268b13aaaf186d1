//! `netlab run`: the labs' traces, as text or JSON, paced for a live demo when asked.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use netlab::event::Lang;
use netlab::lab::{self, Ended, Format, Lab, RunError};
use netlab::phrases;
use netlab::recorder::Stop;
use netlab::render::{HtmlBook, DEFAULT_WIDTH};
use netlab::trace::TraceOptions;

use super::args::{BeforeRun, ColorWhen, FormatArg, RunArgs};
use super::pacing::Pacing;
use super::progress::Progress;
use super::{complain, Failure, USAGE};

/// The shell's status for a run ended by Ctrl-C (128 + SIGINT), as the signal handler gives.
const INTERRUPTED: u8 = 130;

/// How `run` shows its labs.
pub struct Show {
    options: TraceOptions,
    format: Format,
    color: bool,
    pacing: Pacing,
    /// Columns the text is wrapped to.
    width: usize,
}

/// The narrowest and widest terminal netlab wraps to by itself (`--width` goes beyond).
const TERMINAL_WIDTHS: std::ops::RangeInclusive<usize> = 60..=120;

/// `--width`, else the terminal's width on stdout kept within [`TERMINAL_WIDTHS`], else (not
/// a terminal: snapshots, pipes, files) the fixed [`DEFAULT_WIDTH`].
pub fn text_width(flag: Option<u16>) -> usize {
    if let Some(width) = flag {
        return usize::from(width);
    }
    let stdout = io::stdout();
    if !stdout.is_terminal() {
        return DEFAULT_WIDTH;
    }
    match rustix::termios::tcgetwinsize(&stdout) {
        Ok(size) if size.ws_col > 0 => {
            usize::from(size.ws_col).clamp(*TERMINAL_WIDTHS.start(), *TERMINAL_WIDTHS.end())
        }
        _ => DEFAULT_WIDTH,
    }
}

impl Show {
    /// The run's flags; those written before `run` count when the same flag is not given
    /// after it.
    pub fn new(args: &RunArgs, before: &BeforeRun, lang: Lang) -> Show {
        let format = match args.format.or(before.format) {
            Some(FormatArg::Json) => Format::Json,
            Some(FormatArg::Ladder) => Format::Ladder,
            Some(FormatArg::Html) => Format::Html,
            Some(FormatArg::Text) | None => Format::Text,
        };
        let color = use_color(args.color.or(before.color).unwrap_or(ColorWhen::Auto));
        colored::control::set_override(color);
        Show {
            options: TraceOptions {
                lang,
                raw: args.raw || before.raw,
                wire: args.wire,
            },
            format,
            color,
            pacing: Pacing {
                step: args.step,
                pause: args.pace.map(Duration::from_millis),
            },
            width: text_width(args.width),
        }
    }
}

impl Show {
    /// The format's name when it draws the whole lab at its end (`ladder`, `html`).
    fn drawing(&self) -> Option<&'static str> {
        match self.format {
            Format::Ladder => Some("ladder"),
            Format::Html => Some("html"),
            Format::Text | Format::Json => None,
        }
    }
}

/// Colour only on a terminal, never with NO_COLOR (non-empty) or `--color never`.
pub fn use_color(when: ColorWhen) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            io::stdout().is_terminal() && !no_color
        }
    }
}

/// Runs the labs in order. A lab that stops is reported at once and the next one runs; the
/// exit status is 1 if any stopped. In a live run, `q` (or Ctrl-C at the prompt) ends the
/// whole run cleanly: status 0 (130).
pub fn run_labs(
    out: &mut impl Write,
    labs: &[&'static Lab],
    show: &Show,
    progress: &Progress,
) -> Result<ExitCode, Failure> {
    let lang = show.options.lang;
    if let Some(format) = show.drawing() {
        if show.pacing.step || show.pacing.pause.is_some() {
            complain(phrases::DRAWING_NOT_PACED.fill(lang, &[("format", &format)]));
            return Ok(ExitCode::from(USAGE));
        }
    }
    let live = match show.pacing.start(lang) {
        Ok(live) => live,
        Err(err) => {
            complain(err);
            return Ok(ExitCode::from(USAGE));
        }
    };
    // Every lab of an HTML run goes into one page, written once they have all run.
    let page = (show.format == Format::Html).then(|| HtmlBook::new(lang));
    let mut stopped = Vec::new();
    for (i, lab) in labs.iter().enumerate() {
        if i > 0 && matches!(show.format, Format::Text | Format::Ladder) {
            writeln!(out)?;
            out.flush()?;
        }
        let sink = match &page {
            Some(page) => page.sink(),
            None => lab::renderer_with_width(
                show.format,
                show.options.lang,
                show.color,
                show.width,
                Box::new(io::stdout().lock()),
            ),
        };
        let gate = live.as_ref().map(|live| live.gate());
        match lab::run_live(lab, show.options, sink, gate) {
            Ok(Ended::Completed) => progress.ran(lab.id),
            Ok(Ended::Stopped(stop)) => {
                if let Some(live) = &live {
                    live.report_stop(stop);
                }
                return Ok(match stop {
                    Stop::Quit => ExitCode::SUCCESS,
                    Stop::Interrupted => ExitCode::from(INTERRUPTED),
                });
            }
            Err(RunError::Output(err)) => return Err(err.into()),
            Err(err @ RunError::Lab(..)) => {
                complain(run_error_message(&err, lang));
                stopped.push(lab.id);
            }
        }
    }
    if let Some(page) = &page {
        page.write(out)?;
    }
    if stopped.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if labs.len() > 1 {
        complain(phrases::LABS_STOPPED.fill(
            lang,
            &[
                ("count", &stopped.len()),
                ("total", &labs.len()),
                ("ids", &stopped.join(", ")),
            ],
        ));
    }
    Ok(ExitCode::FAILURE)
}

/// Why a run did not complete, in `lang` (the kernel's or Python's words inside stay as
/// they are).
pub fn run_error_message(err: &RunError, lang: Lang) -> String {
    match err {
        RunError::Lab(id, reason) => {
            phrases::LAB_STOPPED.fill(lang, &[("id", id), ("reason", reason)])
        }
        RunError::Output(err) => phrases::OUTPUT_FAILED.fill(lang, &[("err", err)]),
    }
}
