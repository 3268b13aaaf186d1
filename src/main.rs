//! The `netlab` command line.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

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
    after_help = "Examples:\n  netlab list\n  netlab run 07-sticky-packet\n  netlab run 7 --lang zh --step\n  netlab verify --all"
)]
struct Cli {
    #[command(flatten)]
    display: Display,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Display {
    /// When to colour the text output
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
    /// text for people, json for one JSON object per event per line
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Language of notes and lessons
    #[arg(long, global = true, value_enum, default_value_t = LangArg::En)]
    lang: LangArg,
    /// Show real port numbers and paths instead of stable names (PORT, CLIENT_PORT_1)
    #[arg(long, global = true)]
    raw: bool,
}

#[derive(Subcommand)]
enum Command {
    /// List the labs in order
    List,
    /// Run a lab and print its trace
    Run {
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
    },
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

/// Exit status for a bad LAB argument, like clap's usage errors.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = use_color(cli.display.color);
    colored::control::set_override(color);
    let lang = match cli.display.lang {
        LangArg::En => Lang::En,
        LangArg::Zh => Lang::Zh,
    };
    let format = match cli.display.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
    };
    let options = TraceOptions {
        lang,
        raw: cli.display.raw,
    };
    match cli.command {
        Command::List => list(lang),
        Command::Run {
            lab,
            all,
            step,
            pace,
        } => {
            let pacing = Pacing {
                step,
                pause: pace.map(Duration::from_millis),
            };
            let show = Show {
                options,
                format,
                color,
                pacing,
            };
            with_labs(lab.as_deref(), all, |labs| run(labs, show))
        }
        Command::Show { lab } => with_labs(Some(&lab), false, |labs| show(labs[0], lang)),
        Command::Verify { lab, all } => with_labs(lab.as_deref(), all, |labs| verify(labs, lang)),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "netlab", &mut io::stdout());
            ExitCode::SUCCESS
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

fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("netlab: {message}");
    ExitCode::from(code)
}

/// Resolves LAB (or --all) and hands the labs to `action`; a wrong LAB exits 2.
fn with_labs(
    query: Option<&str>,
    all: bool,
    action: impl FnOnce(&[&'static Lab]) -> ExitCode,
) -> ExitCode {
    if all {
        return action(lab::all());
    }
    match lab::find(query.unwrap_or_default()) {
        Ok(found) => action(&[found]),
        Err(err) => fail(err, USAGE),
    }
}

fn list(lang: Lang) -> ExitCode {
    let mut out = io::stdout().lock();
    for lab in lab::all() {
        if writeln!(out, "{:<22} {}", lab.id, lab.title.get(lang)).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

fn show(lab: &Lab, lang: Lang) -> ExitCode {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}: {}\n", lab.id, lab.title.get(lang));
    let _ = write!(out, "{}", lab.lesson.get(lang));
    ExitCode::SUCCESS
}

/// How `run` shows its labs.
struct Show {
    options: TraceOptions,
    format: Format,
    color: bool,
    pacing: Pacing,
}

fn run(labs: &[&'static Lab], show: Show) -> ExitCode {
    for (i, lab) in labs.iter().enumerate() {
        if i > 0 && show.format == Format::Text {
            println!();
        }
        let sink = lab::renderer(
            show.format,
            show.options.lang,
            show.color,
            Box::new(io::stdout()),
        );
        match lab::run_with_sink(lab, show.options, show.pacing.wrap(sink)) {
            Ok(()) => {}
            Err(RunError::Output(err)) if err.kind() == io::ErrorKind::BrokenPipe => {
                return ExitCode::SUCCESS;
            }
            Err(err) => return fail(err, 1),
        }
    }
    ExitCode::SUCCESS
}

fn verify(labs: &[&'static Lab], lang: Lang) -> ExitCode {
    let mut failed = 0;
    for lab in labs {
        let stem = snapshot::stem(lab.id, lang);
        let Some(expected) = snapshot::published(lab.id, lang) else {
            println!("MISSING {stem}: no published snapshot snapshots/{stem}.snap");
            failed += 1;
            continue;
        };
        let actual = match lab::render_to_string(lab, lang, Format::Text) {
            Ok(actual) => actual,
            Err(err) => {
                println!("FAILED  {stem}: {err}");
                failed += 1;
                continue;
            }
        };
        match snapshot::first_difference(&expected, &actual) {
            None => println!("ok      {stem}: same as snapshots/{stem}.snap"),
            Some((line, want, got)) => {
                failed += 1;
                println!("DIFFERS {stem}: first difference at line {line}");
                println!("  snapshot: {want}");
                println!("  this run: {got}");
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        fail(
            format!(
                "{failed} of {} traces differ from their snapshots",
                labs.len()
            ),
            1,
        )
    }
}

/// `--step` and `--pace`: pauses between events, for a live demo. Display only: the lab
/// itself never waits on these.
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
            eprintln!("(--step: press Enter for each next event)");
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
