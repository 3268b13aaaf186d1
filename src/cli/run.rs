//! `netlab run`: the labs' traces, as text or JSON, paced for a live demo when asked.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use netlab::event::Lang;
use netlab::lab::{self, Format, Lab, RunError};
use netlab::trace::TraceOptions;

use super::args::{BeforeRun, ColorWhen, FormatArg, RunArgs};
use super::pacing::Pacing;
use super::{complain, Failure};

/// How `run` shows its labs.
pub struct Show {
    options: TraceOptions,
    format: Format,
    color: bool,
    pacing: Pacing,
}

impl Show {
    /// The run's flags; those written before `run` count when the same flag is not given
    /// after it.
    pub fn new(args: &RunArgs, before: &BeforeRun, lang: Lang) -> Show {
        let format = match args.format.or(before.format) {
            Some(FormatArg::Json) => Format::Json,
            Some(FormatArg::Text) | None => Format::Text,
        };
        let color = use_color(args.color.or(before.color).unwrap_or(ColorWhen::Auto));
        colored::control::set_override(color);
        Show {
            options: TraceOptions {
                lang,
                raw: args.raw || before.raw,
            },
            format,
            color,
            pacing: Pacing {
                step: args.step,
                pause: args.pace.map(Duration::from_millis),
            },
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
/// exit status is 1 if any stopped.
pub fn run_labs(
    out: &mut impl Write,
    labs: &[&'static Lab],
    show: &Show,
) -> Result<ExitCode, Failure> {
    let mut stopped = Vec::new();
    for (i, lab) in labs.iter().enumerate() {
        if i > 0 && show.format == Format::Text {
            writeln!(out)?;
            out.flush()?;
        }
        let sink = lab::renderer(
            show.format,
            show.options.lang,
            show.color,
            Box::new(io::stdout().lock()),
        );
        match lab::run_with_sink(lab, show.options, show.pacing.wrap(sink)) {
            Ok(()) => {}
            Err(RunError::Output(err)) => return Err(err.into()),
            Err(err @ RunError::Lab(..)) => {
                complain(&err);
                stopped.push(lab.id);
            }
        }
    }
    if stopped.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if labs.len() > 1 {
        complain(format_args!(
            "{} of {} labs stopped early: {}",
            stopped.len(),
            labs.len(),
            stopped.join(", ")
        ));
    }
    Ok(ExitCode::FAILURE)
}
