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
use cli::progress::Progress;
use cli::{complain, labs, language, Failure, USAGE};
use netlab::event::Lang;
use netlab::phrases;

/// A refused allocation is one clear line and exit 1, not Rust's abort.
#[global_allocator]
static ALLOCATOR: netlab::memory::Allocator = netlab::memory::Allocator;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let lang = language::from_env(language::flag_in_args(std::env::args_os()));
            return clap_exit(err, lang);
        }
    };
    let lang = language::from_env(cli.lang.map(Lang::from));
    if let Some(flag) = cli.before_run.given() {
        if !matches!(cli.command, Command::Run(_)) {
            let message = phrases::FLAG_BELONGS_TO_RUN.fill(lang, &[("flag", &flag)]);
            let err = Cli::command().error(ErrorKind::ArgumentConflict, message);
            return clap_exit(err, lang);
        }
    }
    if let Err(code) = cli::wire::enter_if_asked(&cli, lang) {
        return code;
    }
    // ---- Anything that needs a single-threaded process (the user and network namespaces
    // that `--wire` makes) must happen above this line: from here on netlab has threads. ----
    if let Err(err) = netlab::cleanup::install_signal_handlers() {
        complain(phrases::SIGNALS_FAILED.fill(lang, &[("err", &err)]));
        return ExitCode::FAILURE;
    }
    match run(cli, lang) {
        Ok(code) => code,
        Err(Failure::Output(err)) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            complain(err.message(lang));
            ExitCode::FAILURE
        }
    }
}

/// Prints clap's help, version or usage error (a usage error in the user's language), and
/// exits as clap would; a closed pipe is a quiet success, any other output error (a full
/// disk) one line and exit 1.
fn clap_exit(err: clap::Error, lang: Lang) -> ExitCode {
    let code = u8::try_from(err.exit_code()).unwrap_or(USAGE);
    let printed = match cli::usage::translated(&err, lang) {
        Some(text) => io::stderr().write_all(text.as_bytes()),
        None => err.print().and_then(|()| io::stdout().flush()),
    };
    match printed {
        Ok(()) => ExitCode::from(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(e) => {
            complain(Failure::Output(e).message(lang));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, lang: Lang) -> Result<ExitCode, Failure> {
    let progress = Progress::new(!cli.no_progress);
    let mut out = io::stdout().lock();
    match cli.command {
        Command::List => cli::lessons::list(&mut out, lang, &progress),
        Command::Run(args) => {
            let show = cli::run::Show::new(&args, &cli.before_run, lang);
            match labs(args.lab.as_deref(), args.all, lang) {
                Ok(labs) => cli::run::run_labs(&mut out, labs, &show, &progress),
                Err(code) => Ok(code),
            }
        }
        Command::Show { lab, code } => match (labs(Some(&lab), false, lang), code) {
            (Ok(labs), None) => cli::lessons::show_lesson(&mut out, labs[0], lang),
            (Ok(labs), Some(file)) => cli::peer::show_code(&mut out, labs[0], &file, lang),
            (Err(code), _) => Ok(code),
        },
        Command::Serve(args) => cli::peer::serve(&args, lang),
        Command::Connect(args) => cli::peer::connect(&args, lang),
        Command::Verify { step, pace, .. } if step || pace.is_some() => {
            complain(phrases::VERIFY_NOT_COMPARABLE.get(lang));
            Ok(ExitCode::from(USAGE))
        }
        Command::Verify {
            lab,
            all,
            snapshots,
            file,
            wire,
            ..
        } => match labs(lab.as_deref(), all, lang) {
            Ok(labs) => {
                let request = cli::verify::Request {
                    labs,
                    lang,
                    snapshots: snapshots.as_deref(),
                    file: file.as_deref(),
                    wire,
                };
                cli::verify::verify(&mut out, &request, &progress)
            }
            Err(code) => Ok(code),
        },
        Command::Completions { shell } => {
            out.write_all(&cli::completions::script(shell))?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
