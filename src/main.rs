//! The `netlab` command line.
//!
//! Shaped like ripgrep's: [`run`] does the work and writes through a locked stdout with `?`;
//! `main` turns a closed pipe into a quiet exit 0 and any other error into one line on stderr
//! and exit 1. A wrong LAB or a misplaced flag exits 2, like clap's own usage errors.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use netlab::event::{Event, Lang, Text};
use netlab::lab::{self, Format, Lab, RunError};
use netlab::render::Sink;
use netlab::snapshot;
use netlab::trace::TraceOptions;

/// Run the socket course's labs on real kernel sockets and see, line by line, what each side
/// and the kernel did.
#[derive(Parser)]
#[command(name = "netlab", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  netlab list\n  netlab run 07-sticky-packet\n  netlab run 7 --lang zh --step\n  netlab run 7 --format json\n  netlab verify --all"
)]
struct Cli {
    /// Language of notes and lessons
    #[arg(long, global = true, value_enum, default_value_t = LangArg::En)]
    lang: LangArg,
    #[command(flatten)]
    before_run: BeforeRun,
    #[command(subcommand)]
    command: Command,
}

/// `run`'s display flags written before the subcommand (`netlab --format json run 7`), as
/// earlier versions allowed: still accepted for `run`, a usage error for anything else.
#[derive(Args)]
struct BeforeRun {
    #[arg(long, value_enum, hide = true)]
    format: Option<FormatArg>,
    #[arg(long, hide = true)]
    raw: bool,
    #[arg(long, value_enum, hide = true)]
    color: Option<ColorWhen>,
}

impl BeforeRun {
    /// The first of these flags that was given, as the user wrote it.
    fn given(&self) -> Option<&'static str> {
        if self.format.is_some() {
            Some("--format")
        } else if self.raw {
            Some("--raw")
        } else if self.color.is_some() {
            Some("--color")
        } else {
            None
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// List the labs in order
    List,
    /// Run a lab and print its trace
    Run(RunArgs),
    /// Print a lab's lesson text
    Show {
        /// Lab id, number or name
        lab: String,
    },
    /// Run a lab and compare its trace with the published snapshot
    Verify {
        /// Lab id, number or name
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        lab: Option<String>,
        /// Verify every lab
        #[arg(long)]
        all: bool,
    },
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Lab id, number or name: 07-sticky-packet, 07, 7 or sticky-packet
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    lab: Option<String>,
    /// Run every lab, in order
    #[arg(long)]
    all: bool,
    /// Wait for Enter before each event (for a live demo)
    #[arg(long)]
    step: bool,
    /// Pause this many milliseconds between events
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pace: Option<u64>,
    /// text for people, json for one JSON object per event per line
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Show real port numbers and paths instead of stable names (PORT, CLIENT_PORT_1)
    #[arg(long)]
    raw: bool,
    /// When to colour the text output
    #[arg(long, value_enum)]
    color: Option<ColorWhen>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    En,
    Zh,
}

/// A refused allocation is one clear line and exit 1, not Rust's abort.
#[global_allocator]
static ALLOCATOR: netlab::memory::Allocator = netlab::memory::Allocator;

/// Exit status for a usage error: a wrong LAB, a flag where it does not belong.
const USAGE: u8 = 2;

/// Why netlab could not finish: only output can fail here; a lab that stops is reported and
/// counted by the command itself.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("could not write the output: {0}")]
    Output(#[from] io::Error),
}

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

/// One line on stderr. If stderr itself is gone there is no one left to tell.
fn complain(message: impl std::fmt::Display) {
    let _ = writeln!(io::stderr(), "netlab: {message}");
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let lang = match cli.lang {
        LangArg::En => Lang::En,
        LangArg::Zh => Lang::Zh,
    };
    let mut out = io::stdout().lock();
    match cli.command {
        Command::List => list(&mut out, lang),
        Command::Run(args) => {
            let show = Show::new(&args, &cli.before_run, lang);
            match labs(args.lab.as_deref(), args.all) {
                Ok(labs) => run_labs(&mut out, labs, &show),
                Err(code) => Ok(code),
            }
        }
        Command::Show { lab } => match labs(Some(&lab), false) {
            Ok(labs) => show_lesson(&mut out, labs[0], lang),
            Err(code) => Ok(code),
        },
        Command::Verify { lab, all } => match labs(lab.as_deref(), all) {
            Ok(labs) => verify(&mut out, labs, lang),
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

/// Resolves LAB (or --all); a wrong LAB is one line on stderr and exit status 2.
fn labs(query: Option<&str>, all: bool) -> Result<&'static [&'static Lab], ExitCode> {
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
            complain(err);
            Err(ExitCode::from(USAGE))
        }
    }
}

fn list(out: &mut impl Write, lang: Lang) -> Result<ExitCode, Failure> {
    for lab in lab::all() {
        writeln!(out, "{:<22} {}", lab.id, lab.title.get(lang))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn show_lesson(out: &mut impl Write, lab: &Lab, lang: Lang) -> Result<ExitCode, Failure> {
    writeln!(out, "{}: {}\n", lab.id, lab.title.get(lang))?;
    write!(out, "{}", lab.lesson.get(lang))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// How `run` shows its labs.
struct Show {
    options: TraceOptions,
    format: Format,
    color: bool,
    pacing: Pacing,
}

impl Show {
    /// The run's flags; those written before `run` count when the same flag is not given
    /// after it.
    fn new(args: &RunArgs, before: &BeforeRun, lang: Lang) -> Show {
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
fn use_color(when: ColorWhen) -> bool {
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
fn run_labs(out: &mut impl Write, labs: &[&'static Lab], show: &Show) -> Result<ExitCode, Failure> {
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

/// Runs each lab and compares its trace with the published snapshot. A lab that does not run
/// to the end is reported as such, never as a trace that differs.
fn verify(out: &mut impl Write, labs: &[&'static Lab], lang: Lang) -> Result<ExitCode, Failure> {
    let (mut missing, mut failed, mut differ) = (0, 0, 0);
    for lab in labs {
        let stem = snapshot::stem(lab.id, lang);
        let Some(expected) = snapshot::published(lab.id, lang) else {
            writeln!(
                out,
                "MISSING {stem}: no published snapshot snapshots/{stem}.snap"
            )?;
            out.flush()?;
            missing += 1;
            continue;
        };
        match lab::render_to_string(lab, lang, Format::Text) {
            Err(err) => {
                failed += 1;
                writeln!(out, "FAILED  {stem}: did not run to the end: {err}")?;
            }
            Ok(actual) => match snapshot::first_difference(&expected, &actual) {
                None => writeln!(out, "ok      {stem}: same as snapshots/{stem}.snap")?,
                Some((line, want, got)) => {
                    differ += 1;
                    writeln!(out, "DIFFERS {stem}: first difference at line {line}")?;
                    writeln!(out, "  snapshot: {want}")?;
                    writeln!(out, "  this run: {got}")?;
                }
            },
        }
        out.flush()?;
    }
    let mut problems = Vec::new();
    if failed > 0 {
        problems.push(format!("{failed} did not run to the end"));
    }
    if differ > 0 {
        let verb = if differ == 1 {
            "differs from its snapshot"
        } else {
            "differ from their snapshots"
        };
        problems.push(format!("{differ} {verb}"));
    }
    if missing > 0 {
        let verb = if missing == 1 { "has" } else { "have" };
        problems.push(format!("{missing} {verb} no published snapshot"));
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    complain(format_args!(
        "of {} {}, {}",
        labs.len(),
        if labs.len() == 1 { "lab" } else { "labs" },
        problems.join(", ")
    ));
    Ok(ExitCode::FAILURE)
}

/// `--step` and `--pace`: pauses between events, for a live demo. They gate the engine
/// itself: the next socket call happens only after the pause.
#[derive(Clone, Copy)]
struct Pacing {
    step: bool,
    pause: Option<Duration>,
}

impl Pacing {
    fn wrap(self, inner: Box<dyn Sink>) -> Box<dyn Sink> {
        if self.step || self.pause.is_some() {
            Box::new(Paced {
                inner,
                pacing: self,
                started: false,
            })
        } else {
            inner
        }
    }
}

struct Paced {
    inner: Box<dyn Sink>,
    pacing: Pacing,
    started: bool,
}

impl Sink for Paced {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        if self.pacing.step && io::stdin().is_terminal() {
            let _ = writeln!(io::stderr(), "(--step: press Enter for each next event)");
        }
        self.inner.lab_start(id, title)
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        if self.started {
            if self.pacing.step {
                // Enter advances; at end of input (not a terminal) the trace just runs on.
                let mut line = String::new();
                let _ = io::stdin().read_line(&mut line);
            } else if let Some(pause) = self.pacing.pause {
                std::thread::sleep(pause);
            }
        }
        self.started = true;
        self.inner.event(event)
    }

    fn lab_end(&mut self, id: &str) -> io::Result<()> {
        self.inner.lab_end(id)
    }
}
