//! The remote-command program's runner, made safe.
//!
//! The course's server passes whatever text arrives to a shell. netlab never does: a command
//! text is looked up, byte for byte, in a fixed list ([`ALLOWED`]); only an entry of that list
//! can be run, as a real process with a fixed argv, no shell, a clean environment and a time
//! limit. Every entry prints the same bytes on every Linux machine (coreutils or busybox), so
//! traces stay identical everywhere.
//!
//! Refusing happens before anything is spawned: [`run`] takes an [`AllowedCommand`], which
//! only this module can make, and [`processes_started`] counts spawns so tests can check it.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::pyrepr;

/// One command the remote-command program may run.
#[derive(Debug, PartialEq, Eq)]
pub struct AllowedCommand {
    text: &'static str,
    argv: &'static [&'static str],
}

impl AllowedCommand {
    /// The text a client sends for it, e.g. `seq 1000 1400`.
    pub fn text(&self) -> &'static str {
        self.text
    }

    /// The program and its arguments, e.g. `["seq", "1000", "1400"]`.
    pub fn argv(&self) -> &'static [&'static str] {
        self.argv
    }

    /// The argv as a Python list: `['seq', '1000', '1400']`.
    pub fn python_argv(&self) -> String {
        let items: Vec<String> = self.argv.iter().map(|a| pyrepr::str_literal(a)).collect();
        format!("[{}]", items.join(", "))
    }
}

const fn allowed(text: &'static str, argv: &'static [&'static str]) -> AllowedCommand {
    AllowedCommand { text, argv }
}

/// The only commands netlab runs. Their output is fixed: it does not depend on the machine,
/// the user, the time or the locale.
pub static ALLOWED: &[AllowedCommand] = &[
    allowed("echo hello", &["echo", "hello"]),
    allowed("seq 1 10", &["seq", "1", "10"]),
    // 401 lines of 5 bytes: 2005 bytes, more than one recv(1024), cut in mid-line.
    allowed("seq 1000 1400", &["seq", "1000", "1400"]),
    // 588895 bytes: far more than a socket's buffers hold at once.
    allowed("seq 1 100000", &["seq", "1", "100000"]),
];

/// The longest a command may run before it is killed.
pub const TIME_LIMIT: Duration = Duration::from_secs(2);
/// The most output kept from one stream (stdout or stderr); the rest is dropped.
pub const OUTPUT_LIMIT: usize = 1024 * 1024;
/// The PATH commands are looked up in.
const PATH: &str = "/usr/bin:/bin";

/// What a finished command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl CommandOutput {
    /// `res.stdout + res.stderr`: what the course's server sends back.
    pub fn combined(&self) -> Vec<u8> {
        [&self.stdout[..], &self.stderr[..]].concat()
    }
}

/// A command text that is not on the list. Nothing was started for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub text: Vec<u8>,
}

impl Refused {
    /// The text as a Python literal: `'rm -rf /'`, or `b'\xff'` when it is not UTF-8.
    pub fn shown(&self) -> String {
        match std::str::from_utf8(&self.text) {
            Ok(text) => pyrepr::str_literal(text),
            Err(_) => pyrepr::bytes_literal(&self.text),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<&str> = ALLOWED.iter().map(|c| c.text).collect();
        write!(
            f,
            "netlab refused to run {}: it runs only the commands on its list ({}), so no process was started",
            self.shown(),
            list.join(", ")
        )
    }
}

impl std::error::Error for Refused {}

/// Why a command gave no output.
#[derive(Debug)]
pub enum CommandError {
    /// The text is not on the list; nothing was started.
    Refused(Refused),
    /// The program could not be started or waited for.
    Io(io::Error),
    /// It ran longer than [`TIME_LIMIT`] and was killed.
    TimedOut(&'static AllowedCommand),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Refused(refused) => refused.fmt(f),
            CommandError::Io(err) => write!(f, "the command could not be run: {err}"),
            CommandError::TimedOut(cmd) => write!(
                f,
                "'{}' ran longer than {} s and was killed",
                cmd.text,
                TIME_LIMIT.as_secs()
            ),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<Refused> for CommandError {
    fn from(refused: Refused) -> Self {
        CommandError::Refused(refused)
    }
}

/// The list entry whose text is exactly `text` (no trimming, no shell parsing).
pub fn lookup(text: &[u8]) -> Result<&'static AllowedCommand, Refused> {
    ALLOWED
        .iter()
        .find(|c| c.text.as_bytes() == text)
        .ok_or_else(|| Refused {
            text: text.to_vec(),
        })
}

thread_local! {
    static STARTED: Cell<usize> = const { Cell::new(0) };
}

/// How many processes this thread has started through [`run`]: lets a test prove that a
/// refused command started none.
pub fn processes_started() -> usize {
    STARTED.with(Cell::get)
}

/// Runs a listed command: no shell, stdin empty, environment cleared (only PATH and
/// `LC_ALL=C`), killed after [`TIME_LIMIT`], each output stream capped at [`OUTPUT_LIMIT`].
pub fn run(cmd: &'static AllowedCommand) -> Result<CommandOutput, CommandError> {
    let (program, args) = cmd.argv.split_first().expect("every entry names a program");
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", PATH)
        .env("LC_ALL", "C")
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    STARTED.with(|n| n.set(n.get() + 1));
    // Registered until reaped, so an interrupted run ends it too (see crate::cleanup).
    let mut child = crate::cleanup::Child::spawn(&mut command).map_err(CommandError::Io)?;
    let stdout = match child.take_stdout().map(capped_reader).transpose() {
        Ok(reader) => reader,
        Err(err) => return Err(abandon(child, [], err)),
    };
    let stderr = match child.take_stderr().map(capped_reader).transpose() {
        Ok(reader) => reader,
        Err(err) => return Err(abandon(child, stdout, err)),
    };
    let deadline = Instant::now() + TIME_LIMIT;
    let status = loop {
        match child.try_wait().map_err(CommandError::Io)? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                return Err(CommandError::TimedOut(cmd));
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    let collect = |reader: Option<std::thread::JoinHandle<io::Result<Vec<u8>>>>| {
        reader
            .map(|r| r.join().unwrap_or_else(|_| Ok(Vec::new())))
            .unwrap_or_else(|| Ok(Vec::new()))
            .map_err(CommandError::Io)
    };
    Ok(CommandOutput {
        status: status.code(),
        stdout: collect(stdout)?,
        stderr: collect(stderr)?,
    })
}

type Reader = std::thread::JoinHandle<io::Result<Vec<u8>>>;

/// Stack for a pipe reader: it needs only its 8 KiB chunk, and a small stack lets it start
/// under a tight address-space limit (`ulimit -v`), where the default 2 MiB may not fit.
const READER_STACK: usize = 64 * 1024;

/// Reads a child's pipe on its own thread (so a full pipe never stalls the child). Starting
/// the thread can fail (no memory for its stack, too many threads): that is an error to
/// report, not a panic.
fn capped_reader(pipe: impl Read + Send + 'static) -> io::Result<Reader> {
    std::thread::Builder::new()
        .name("netlab-pipe".to_string())
        .stack_size(READER_STACK)
        .spawn(move || read_capped(pipe))
        .map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("netlab could not start a thread to read the command's output ({err})"),
            )
        })
}

/// Keeps at most [`OUTPUT_LIMIT`] bytes of `pipe` and drains the rest, so the child never
/// blocks on a full pipe; memory for what is kept is asked for without aborting.
fn read_capped(mut pipe: impl Read) -> io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut refused = None;
    let mut chunk = [0u8; 8192];
    loop {
        let n = match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let keep = n.min(OUTPUT_LIMIT - kept.len());
        if keep > 0 && refused.is_none() {
            match crate::memory::grow(&mut kept, keep) {
                Ok(()) => kept.extend_from_slice(&chunk[..keep]),
                Err(_) => refused = Some(crate::memory::out_of_memory(keep, "a command's output")),
            }
        }
    }
    refused.map_or(Ok(kept), Err)
}

/// Ends a child whose output cannot be read (a reader thread did not start): kills it,
/// reaps it, lets the readers already started finish on the closed pipes, and reports why.
fn abandon(
    mut child: crate::cleanup::Child,
    readers: impl IntoIterator<Item = Reader>,
    err: io::Error,
) -> CommandError {
    let _ = child.kill();
    for reader in readers {
        let _ = reader.join();
    }
    CommandError::Io(err)
}

/// Looks `text` up and runs it; a text not on the list is refused before anything starts.
pub fn run_text(text: &[u8]) -> Result<CommandOutput, CommandError> {
    run(lookup(text)?)
}
