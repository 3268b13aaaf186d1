//! The command line's shape: subcommands, their flags, and the values flags take.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::lab_arg::LabParser;

/// Run the socket course's labs on real kernel sockets and see, line by line, what each side
/// and the kernel did.
#[derive(Parser)]
#[command(name = "netlab", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  netlab list\n  netlab run 07-sticky-packet\n  netlab run 7 --lang zh --step\n  netlab run 7 --format json\n  netlab verify --all\n  netlab serve 08            (then, in another terminal: python3 client.py 8080)\n  netlab connect 08          (with your server.py running on 8080)"
)]
pub struct Cli {
    /// Language of notes, lessons and messages [default: from NETLAB_LANG, LC_ALL,
    /// LC_MESSAGES or LANG; zh_* gives zh, else en]
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
    /// Neither read nor record which labs ran and verified on this machine
    #[arg(long, global = true)]
    pub no_progress: bool,
    #[command(flatten)]
    pub before_run: BeforeRun,
    #[command(subcommand)]
    pub command: Command,
}

/// `run`'s display flags written before the subcommand (`netlab --format json run 7`), as
/// earlier versions allowed: still accepted for `run`, a usage error for anything else.
#[derive(Args)]
pub struct BeforeRun {
    #[arg(long, value_enum, hide = true)]
    pub format: Option<FormatArg>,
    #[arg(long, hide = true)]
    pub raw: bool,
    #[arg(long, value_enum, hide = true)]
    pub color: Option<ColorWhen>,
}

impl BeforeRun {
    /// The first of these flags that was given, as the user wrote it.
    pub fn given(&self) -> Option<&'static str> {
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
pub enum Command {
    /// List the labs in order
    List,
    /// Run a lab and print its trace
    Run(RunArgs),
    /// Print a lab's lesson text (or, with --code, its Python programs)
    Show {
        /// Lab id, number or name
        #[arg(value_parser = LabParser, hide_possible_values = true)]
        lab: String,
        /// Print the lab's Python programs (server.py and client.py) instead; give a file name
        /// to print only that file, ready to save: `--code client.py > client.py`
        #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
        code: Option<String>,
    },
    /// Be the lab's server for your own client program (on 127.0.0.1)
    Serve(ServeArgs),
    /// Be the lab's client for your own server program (on 127.0.0.1)
    Connect(PeerArgs),
    /// Run a lab and compare its trace with the published snapshot
    Verify {
        /// Lab id, number or name
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        #[arg(value_parser = LabParser, hide_possible_values = true)]
        lab: Option<String>,
        /// Verify every lab
        #[arg(long)]
        all: bool,
        /// Compare with the .snap files in DIR [default: snapshots/ of the netlab project
        /// around the current directory, else the copies built into netlab]
        #[arg(long, value_name = "DIR")]
        snapshots: Option<PathBuf>,
        /// Compare a saved `netlab run` output (plain text or .snap) instead of running the lab
        #[arg(long, value_name = "FILE", conflicts_with = "all")]
        file: Option<PathBuf>,
        /// Refused with a reason: a paced run is not comparable with a snapshot
        #[arg(long, hide = true)]
        step: bool,
        /// Refused with a reason, like --step
        #[arg(long, hide = true, value_name = "MS")]
        pace: Option<u64>,
        /// Compare the trace with the packets on the wire (snapshots/NN-name.wire.snap)
        #[arg(long)]
        wire: bool,
    },
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
pub struct RunArgs {
    /// Lab id, number or name: 07-sticky-packet, 07, 7, sticky-packet or sticky
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    #[arg(value_parser = LabParser, hide_possible_values = true)]
    pub lab: Option<String>,
    /// Run every lab, in order
    #[arg(long)]
    pub all: bool,
    /// Wait for a key before each socket call or probe (live demo; needs a terminal):
    /// Enter, space or → next, c to the end of the section, q or Esc stop
    #[arg(long, conflicts_with = "pace")]
    pub step: bool,
    /// Pause this many milliseconds before each socket call or probe (live demo)
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub pace: Option<u64>,
    /// Wrap text output to N columns (default: the terminal's width between 60 and 120, or
    /// 80 when output is not a terminal)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,
    /// text for people, json for one JSON object per event per line, ladder for a ladder
    /// diagram, html for a web page with the diagram (self-contained, for a projector)
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Show real port numbers and paths instead of stable names (PORT, CLIENT_PORT_1)
    #[arg(long)]
    pub raw: bool,
    /// When to colour the text output
    #[arg(long, value_enum)]
    pub color: Option<ColorWhen>,
    /// Also show the packets on the wire (in a private network namespace; needs unprivileged
    /// user namespaces, or root)
    #[arg(long)]
    pub wire: bool,
}

impl Command {
    /// Whether the command asked for `--wire`, which must be set up before anything else.
    pub fn wants_wire(&self) -> bool {
        match self {
            Command::Run(args) => args.wire,
            Command::Verify { wire, .. } => *wire,
            Command::List
            | Command::Show { .. }
            | Command::Completions { .. }
            | Command::Serve(_)
            | Command::Connect(_) => false,
        }
    }
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub peer: PeerArgs,
    /// Stop after the first client (TCP) or request (UDP); exit 1 if it was diagnosed
    #[arg(long)]
    pub once: bool,
}

#[derive(Args)]
pub struct PeerArgs {
    /// Lab id, number or name: 08-length-header, 08, 8 or length-header
    #[arg(value_parser = LabParser, hide_possible_values = true)]
    pub lab: String,
    /// The port (default: the course's port for the lab; 0 with serve: any free port)
    #[arg(long)]
    pub port: Option<u16>,
    /// The address: only 127.0.0.1 (or localhost) is accepted, netlab stays on loopback
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Seconds netlab waits for your program at any one point before it says what it saw
    #[arg(long, value_name = "SECONDS", default_value_t = netlab::sock::wait::EXTERNAL.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub wait: u64,
    /// text for people, json for one JSON object per event per line
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Show real port numbers instead of stable names (CLIENT_PORT_1) and the real clock
    #[arg(long)]
    pub raw: bool,
    /// When to colour the text output
    #[arg(long, value_enum)]
    pub color: Option<ColorWhen>,
    /// Wrap text output to N columns (default: the terminal's width between 60 and 120, or
    /// 80 when output is not a terminal)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Ladder,
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    En,
    Zh,
}

impl From<LangArg> for netlab::event::Lang {
    fn from(lang: LangArg) -> Self {
        match lang {
            LangArg::En => netlab::event::Lang::En,
            LangArg::Zh => netlab::event::Lang::Zh,
        }
    }
}
