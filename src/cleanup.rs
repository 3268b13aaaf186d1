//! What a run leaves on the machine (temporary directories with their socket files, child
//! processes, a terminal in the key-by-key mode of `--step`), and how it goes away even when
//! the run is interrupted.
//!
//! Everything a lab creates outside its own memory is registered here while it exists. On
//! SIGINT, SIGTERM or SIGHUP (see [`install_signal_handlers`]) a handler thread takes the
//! register, kills the children, removes the directories and ends the process with the
//! shell's status for that signal (128 + its number: 130, 143, 129). Creating, reaping and
//! removing happen while the register is held, so the handler never misses a directory that
//! was just made nor kills a process id that was already reaped.
//!
//! `netlab serve` is different: there Ctrl-C is the normal way to stop a server. After
//! [`stop_on_sigint`], the first SIGINT only asks the serve loop to stop ([`Stop`]): the loop,
//! which watches for that request while it waits, closes its sockets, writes its last line and
//! exits 0, and whatever it made goes away as usual. A second SIGINT, SIGTERM or SIGHUP still
//! ends the process at once as above.

use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{ChildStderr, ChildStdout, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use rustix::process::{kill_process, Pid, Signal};
use rustix::termios::{tcsetattr, OptionalActions, Termios};

/// Everything to remove or end if the run is interrupted.
struct Register {
    dirs: Vec<PathBuf>,
    children: Vec<u32>,
    /// Standard input's terminal settings from before `--step` changed them.
    terminal: Option<Termios>,
}

static REGISTER: Mutex<Register> = Mutex::new(Register {
    dirs: Vec::new(),
    children: Vec::new(),
    terminal: None,
});

fn register() -> MutexGuard<'static, Register> {
    // A panic elsewhere never leaves the register half-written: every change is one push or
    // one retain. So a poisoned lock is still safe to use.
    REGISTER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A temporary directory `netlab-XXXXXX` in TMPDIR, removed when dropped or on a signal.
pub struct TempDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TempDir {
    pub fn new() -> io::Result<TempDir> {
        let mut register = register();
        let dir = tempfile::Builder::new()
            .prefix("netlab-")
            .tempdir()
            .map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!(
                        "cannot make a temporary directory in {} (TMPDIR): {err}",
                        std::env::temp_dir().display()
                    ),
                )
            })?;
        let path = dir.path().to_path_buf();
        register.dirs.push(path.clone());
        Ok(TempDir {
            dir: Some(dir),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let mut register = register();
        register.dirs.retain(|dir| dir != &self.path);
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// A child process that is killed if the run is interrupted, and when dropped unreaped.
pub struct Child {
    child: std::process::Child,
    reaped: bool,
}

impl Child {
    /// Starts `command` and registers the process until it is reaped.
    pub fn spawn(command: &mut Command) -> io::Result<Child> {
        let mut register = register();
        let child = command.spawn()?;
        register.children.push(child.id());
        Ok(Child {
            child,
            reaped: false,
        })
    }

    /// The process id (the process is not reaped before `try_wait` or `kill` says so, so the
    /// id names this process until then).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// The exit status if the process has ended (it is then reaped and forgotten).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let mut register = register();
        let status = self.child.try_wait()?;
        if status.is_some() {
            self.forget(&mut register);
        }
        Ok(status)
    }

    /// Kills the process and reaps it.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        let mut register = register();
        let _ = self.child.kill();
        let status = self.child.wait()?;
        self.forget(&mut register);
        Ok(status)
    }

    fn forget(&mut self, register: &mut Register) {
        let id = self.child.id();
        register.children.retain(|child| *child != id);
        self.reaped = true;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.kill();
        }
    }
}

/// Standard input is a terminal whose settings `--step` is about to change: `saved` are the
/// settings from before, put back by [`restore_terminal`] and, if the run is interrupted, by
/// the signal handler before the process exits.
pub fn remember_terminal(saved: Termios) {
    register().terminal = Some(saved);
}

/// Puts standard input's terminal back as [`remember_terminal`] found it (once; later calls do
/// nothing). Safe to call from a panic hook.
pub fn restore_terminal() {
    let saved = register().terminal.take();
    if let Some(saved) = saved {
        let _ = tcsetattr(io::stdin(), OptionalActions::Now, &saved);
    }
}

/// The signals that end a run early, with the exit status each gives (128 + number).
const SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];

/// Starts the thread that cleans up and exits on SIGINT, SIGTERM and SIGHUP. A signal the
/// process was started with ignored (SIGINT for a shell's background job) stays ignored.
/// Starting the thread makes the process multi-threaded: anything that must happen in a
/// single-threaded process (creating namespaces) has to come first.
pub fn install_signal_handlers() -> io::Result<()> {
    let mut watched = Vec::new();
    for signal in SIGNALS {
        if !crate::sys::signal_ignored(signal)? {
            watched.push(signal);
        }
    }
    let mut signals = signal_hook::iterator::Signals::new(watched)?;
    std::thread::Builder::new()
        .name("netlab-signals".into())
        // It only waits and cleans up: a small stack lets it start under a tight `ulimit -v`.
        .stack_size(64 * 1024)
        .spawn(move || {
            for signal in signals.forever() {
                if signal == signal_hook::consts::SIGINT && request_stop() {
                    continue;
                }
                clean_up_and_exit(signal);
            }
        })?;
    Ok(())
}

/// A request to stop that a SIGINT makes once [`stop_on_sigint`] was called: a flag, and a
/// socket pair whose read end becomes readable, so a loop can wait in `poll` on its own socket
/// and on this at once.
pub struct Stop {
    requested: AtomicBool,
    wake_reader: UnixStream,
    wake_writer: UnixStream,
}

impl Stop {
    /// Whether Ctrl-C was pressed.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Readable once a stop was requested: poll it beside the socket you wait on.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake_reader.as_fd()
    }
}

static STOP: OnceLock<Stop> = OnceLock::new();

/// Makes the first SIGINT a request to stop instead of the end of the process (see the module
/// documentation); returns the request to watch. Calling it again returns the same one.
pub fn stop_on_sigint() -> io::Result<&'static Stop> {
    if let Some(stop) = STOP.get() {
        return Ok(stop);
    }
    let (wake_reader, wake_writer) = UnixStream::pair()?;
    wake_writer.set_nonblocking(true)?;
    let _ = STOP.set(Stop {
        requested: AtomicBool::new(false),
        wake_reader,
        wake_writer,
    });
    STOP.get()
        .ok_or_else(|| io::Error::other("the stop request could not be set up"))
}

/// Called on SIGINT: true when this was the first SIGINT since [`stop_on_sigint`], now a
/// request to stop; false when SIGINT still ends the process.
fn request_stop() -> bool {
    let Some(stop) = STOP.get() else {
        return false;
    };
    if stop.requested.swap(true, Ordering::SeqCst) {
        return false;
    }
    let _ = (&stop.wake_writer).write(&[1]);
    true
}

fn clean_up_and_exit(signal: i32) -> ! {
    // Held until the process ends, so the lab cannot create anything new meanwhile.
    let register = register();
    if let Some(saved) = &register.terminal {
        let _ = tcsetattr(io::stdin(), OptionalActions::Now, saved);
    }
    for &id in &register.children {
        if let Some(pid) = i32::try_from(id).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
    for dir in &register.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(128 + signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_dir_is_registered_while_it_exists() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().to_path_buf();
        assert!(path.is_dir());
        assert!(register().dirs.contains(&path));
        drop(dir);
        assert!(!path.exists());
        assert!(!register().dirs.contains(&path));
    }

    #[test]
    fn a_child_is_registered_until_reaped() {
        let mut child = Child::spawn(Command::new("sleep").arg("5")).unwrap();
        let id = child.child.id();
        assert!(register().children.contains(&id));
        child.kill().unwrap();
        assert!(!register().children.contains(&id));
    }
}
