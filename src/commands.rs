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
use std::os::fd::{AsFd, BorrowedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::pyrepr;
use crate::sys;

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
    let deadline = Instant::now() + TIME_LIMIT;
    let mut stdout = Capped::new(child.take_stdout());
    let mut stderr = Capped::new(child.take_stderr());
    // Both pipes are read here, on this thread, as they fill: a full pipe never stalls the
    // child, and no reader thread has to start (which can fail under a tight `ulimit -v`).
    while stdout.is_open() || stderr.is_open() {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            let _ = child.kill();
            return Err(CommandError::TimedOut(cmd));
        };
        let ready =
            sys::poll_readable(&[stdout.fd(), stderr.fd()], left).map_err(CommandError::Io)?;
        if ready[0] {
            stdout.read_some().map_err(CommandError::Io)?;
        }
        if ready[1] {
            stderr.read_some().map_err(CommandError::Io)?;
        }
    }
    // Both pipes closed: the child is ending. A pidfd turns readable the moment it exits
    // (Linux 5.3+); without one, short sleeps.
    let exited = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .and_then(|pid| {
            rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
        });
    let status = loop {
        match child.try_wait().map_err(CommandError::Io)? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                return Err(CommandError::TimedOut(cmd));
            }
            None => match &exited {
                Some(pidfd) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    sys::poll(pidfd.as_fd(), sys::Ready::IN, left).map_err(CommandError::Io)?;
                }
                None => std::thread::sleep(Duration::from_millis(1)),
            },
        }
    };
    Ok(CommandOutput {
        status: status.code(),
        stdout: stdout.finish().map_err(CommandError::Io)?,
        stderr: stderr.finish().map_err(CommandError::Io)?,
    })
}

/// One of a child's output pipes, read as it fills: keeps at most [`OUTPUT_LIMIT`] bytes and
/// drains the rest, asking for memory without aborting.
struct Capped<P> {
    pipe: Option<P>,
    kept: Vec<u8>,
    refused: Option<io::Error>,
}

impl<P: Read + AsFd> Capped<P> {
    fn new(pipe: Option<P>) -> Self {
        Capped {
            pipe,
            kept: Vec::new(),
            refused: None,
        }
    }

    fn is_open(&self) -> bool {
        self.pipe.is_some()
    }

    /// The pipe to poll, while it is open.
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.pipe.as_ref().map(AsFd::as_fd)
    }

    /// One read of what the pipe holds (poll said it would not block); closes it at its end.
    fn read_some(&mut self) -> io::Result<()> {
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(());
        };
        let mut chunk = [0u8; 8192];
        let n = match pipe.read(&mut chunk) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(err) => return Err(err),
        };
        if n == 0 {
            self.pipe = None;
            return Ok(());
        }
        let keep = n.min(OUTPUT_LIMIT - self.kept.len());
        if keep > 0 && self.refused.is_none() {
            match crate::memory::grow(&mut self.kept, keep) {
                Ok(()) => self.kept.extend_from_slice(&chunk[..keep]),
                Err(_) => {
                    self.refused = Some(crate::memory::out_of_memory(keep, "a command's output"))
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> io::Result<Vec<u8>> {
        self.refused.map_or(Ok(self.kept), Err)
    }
}

/// Looks `text` up and runs it; a text not on the list is refused before anything starts.
pub fn run_text(text: &[u8]) -> Result<CommandOutput, CommandError> {
    run(lookup(text)?)
}

/// What a listed command prints on every Linux machine, computed without running it: for
/// checking a reply from a student's server (`netlab connect`), which runs the command itself.
/// None for a text that is not on the list.
pub fn known_output(text: &[u8]) -> Option<Vec<u8>> {
    let cmd = lookup(text).ok()?;
    let printed = match cmd.argv {
        ["echo", words @ ..] => format!("{}\n", words.join(" ")),
        ["seq", first, last] => {
            let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
            (first..=last).map(|n| format!("{n}\n")).collect()
        }
        _ => return None,
    };
    Some(printed.into_bytes())
}
