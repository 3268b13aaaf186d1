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

use cli::args::{Cli, Command, LangArg};
use cli::{complain, labs, Failure, USAGE};
use netlab::event::Lang;

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
    let lang = match cli.lang {
        LangArg::En => Lang::En,
        LangArg::Zh => Lang::Zh,
    };
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
        Command::Show { lab, code } => match (labs(Some(&lab), false), code) {
            (Ok(labs), None) => cli::lessons::show_lesson(&mut out, labs[0], lang),
            (Ok(labs), Some(file)) => cli::peer::show_code(&mut out, labs[0], &file, lang),
            (Err(code), _) => Ok(code),
        },
        Command::Serve(args) => cli::peer::serve(&args, lang),
        Command::Connect(args) => cli::peer::connect(&args, lang),
        Command::Verify { lab, all } => match labs(lab.as_deref(), all) {
            Ok(labs) => cli::verify::verify(&mut out, labs, lang),
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
