//! The `netlab` command line.
//!
//! Shaped like ripgrep's: [`run`] does the work and writes through a locked stdout with `?`;
//! `main` turns a closed pipe into a quiet exit 0 and any other error into one line on stderr
//! and exit 1. A wrong LAB or a misplaced flag exits 2, like clap's own usage errors.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use cli::args::{Cli, Command};
use cli::{complain, labs, Failure, USAGE};

/// A refused allocation is one clear line and exit 1, not Rust's abort.
#[global_allocator]
static ALLOCATOR: netlab::memory::Allocator = netlab::memory::Allocator;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_exit(err),
    };
    if let Some(flag) = cli.before_run.given() {
        if !matches!(cli.command, Command::Run(_)) {
            let err = Cli::command().error(
                ErrorKind::ArgumentConflict,
                format!("{flag} belongs to `netlab run` (write it after the subcommand: `netlab run LAB {flag} ...`)"),
            );
            return clap_exit(err);
        }
    }
    if let Err(code) = cli::wire::enter_if_asked(&cli) {
        return code;
    }
    // ---- Anything that needs a single-threaded process (the user and network namespaces
    // that `--wire` makes) must happen above this line: from here on netlab has threads. ----
    if let Err(err) = netlab::cleanup::install_signal_handlers() {
        complain(format_args!(
            "cannot watch for Ctrl-C and other signals: {err}"
        ));
        return ExitCode::FAILURE;
    }
    match run(cli) {
        Ok(code) => code,
        Err(Failure::Output(err)) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            complain(err);
            ExitCode::FAILURE
        }
    }
}

/// Prints clap's help, version or usage error, and exits as clap would; a closed pipe is a
/// quiet success, any other output error (a full disk) one line and exit 1.
fn clap_exit(err: clap::Error) -> ExitCode {
    let code = u8::try_from(err.exit_code()).unwrap_or(USAGE);
    let printed = err.print().and_then(|()| io::stdout().flush());
    match printed {
        Ok(()) => ExitCode::from(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(e) => {
            complain(Failure::Output(e));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let lang = cli.lang.lang();
    let mut out = io::stdout().lock();
    match cli.command {
        Command::List => cli::lessons::list(&mut out, lang),
        Command::Run(args) => {
            let show = cli::run::Show::new(&args, &cli.before_run, lang);
            match labs(args.lab.as_deref(), args.all) {
                Ok(labs) => cli::run::run_labs(&mut out, labs, &show),
                Err(code) => Ok(code),
            }
        }
        Command::Show { lab } => match labs(Some(&lab), false) {
            Ok(labs) => cli::lessons::show_lesson(&mut out, labs[0], lang),
            Err(code) => Ok(code),
        },
        Command::Verify { lab, all, wire } => match labs(lab.as_deref(), all) {
            Ok(labs) => cli::verify::verify(&mut out, labs, lang, wire),
            Err(code) => Ok(code),
        },
        Command::Completions { shell } => {
            // clap_complete panics when its writer fails: generate into memory, then write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "netlab", &mut script);
            out.write_all(&script)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
