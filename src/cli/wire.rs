//! `--wire`: the private network namespace, made before netlab starts any thread.

use std::process::ExitCode;

use netlab::event::Lang;

use super::args::Cli;
use super::{complain, USAGE};

/// Enters the namespace when the command asked for `--wire`. A refusal is one sentence in the
/// run's language, saying what was refused and which setting allows it, and exit status 2;
/// without `--wire` nothing here runs.
pub fn enter_if_asked(cli: &Cli, lang: Lang) -> Result<(), ExitCode> {
    if !cli.command.wants_wire() {
        return Ok(());
    }
    match netlab::wire::enter_private() {
        Ok(_) => Ok(()),
        Err(refused) => {
            complain(refused.text().get(lang));
            Err(ExitCode::from(USAGE))
        }
    }
}
