//! The command line's shape: subcommands, their flags, and the values flags take.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run the socket course's labs on real kernel sockets and see, line by line, what each side
/// and the kernel did.
#[derive(Parser)]
#[command(name = "netlab", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  netlab list\n  netlab run 07-sticky-packet\n  netlab run 7 --lang zh --step\n  netlab run 7 --format json\n  netlab verify --all\n  netlab serve 08            (then, in another terminal: python3 client.py 8080)\n  netlab connect 08          (with your server.py running on 8080)"
)]
pub struct Cli {
    /// Language of notes and lessons
    #[arg(long, global = true, value_enum, default_value_t = LangArg::En)]
    pub lang: LangArg,
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
pub struct RunArgs {
    /// Lab id, number or name: 07-sticky-packet, 07, 7 or sticky-packet
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub lab: Option<String>,
    /// Run every lab, in order
    #[arg(long)]
    pub all: bool,
    /// Wait for Enter before each event (for a live demo)
    #[arg(long)]
    pub step: bool,
    /// Pause this many milliseconds between events
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub pace: Option<u64>,
    /// text for people, json for one JSON object per event per line
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Show real port numbers and paths instead of stable names (PORT, CLIENT_PORT_1)
    #[arg(long)]
    pub raw: bool,
    /// When to colour the text output
    #[arg(long, value_enum)]
    pub color: Option<ColorWhen>,
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
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    En,
    Zh,
}
