//! The `netlab` command line: one module per subcommand, and the few things they share (how a
//! failure is reported, how LAB is resolved).

pub mod args;
pub mod completions;
mod keys;
mod lab_arg;
pub mod language;
pub mod lessons;
mod markdown;
pub mod pacing;
pub mod peer;
pub mod progress;
pub mod run;
pub mod usage;
pub mod verify;
pub mod wire;

use std::io::{self, Write};
use std::process::ExitCode;

use netlab::event::Lang;
use netlab::lab::{self, Lab};
use netlab::phrases;

/// Exit status for a usage error: a wrong LAB, a flag where it does not belong.
pub const USAGE: u8 = 2;

/// Why netlab could not finish: only output can fail here; a lab that stops is reported and
/// counted by the command itself.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("could not write the output: {0}")]
    Output(#[from] io::Error),
}

impl Failure {
    /// The one-line message, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Failure::Output(err) => phrases::OUTPUT_FAILED.fill(lang, &[("err", err)]),
        }
    }
}

/// One line on stderr. If stderr itself is gone there is no one left to tell.
pub fn complain(message: impl std::fmt::Display) {
    let _ = writeln!(io::stderr(), "netlab: {message}");
}

/// Resolves LAB (or --all); a wrong LAB is one line on stderr and exit status 2.
pub fn labs(
    query: Option<&str>,
    all: bool,
    lang: Lang,
) -> Result<&'static [&'static Lab], ExitCode> {
    if all {
        return Ok(lab::all());
    }
    match lab::find(query.unwrap_or_default()) {
        Ok(found) => {
            let all = lab::all();
            let at = all.iter().position(|lab| lab.id == found.id).unwrap_or(0);
            Ok(&all[at..=at])
        }
        Err(err) => {
            complain(err.message(lang));
            Err(ExitCode::from(USAGE))
        }
    }
}
