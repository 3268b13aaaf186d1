//! Keys read one at a time from the terminal on standard input, for `--step`.
//!
//! While a [`Keyboard`] exists the terminal neither echoes nor collects lines: a key arrives
//! as soon as it is pressed, and Enter leaves no blank line on the screen. Output is left as
//! it is (`\n` still starts a new line). Ctrl-C stays a signal while the lab works (the
//! clean-up handler then ends the run, 130) and is read as a key while netlab waits for one,
//! so that stopping at the prompt unwinds the lab like `q`. The terminal's settings are put
//! back when the keyboard is dropped, on a panic, and by the signal handler
//! (`cleanup::remember_terminal`).

use std::collections::VecDeque;
use std::io;
use std::sync::Once;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};

use netlab::cleanup;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Enter, space or →: the next event.
    Next,
    /// `c`: run on to the end of the section.
    RestOfSection,
    /// `q` or Esc: stop the lab cleanly.
    Quit,
    /// Ctrl-C: stop the lab cleanly, with the shell's status for an interrupt.
    Interrupt,
    /// Any other key: ignored.
    Other,
}

/// How long the rest of an escape sequence (→ is `ESC [ C`) may take to arrive after its
/// `ESC`: a terminal sends it in one write, so this only matters over a slow link. An `ESC`
/// alone after that is the Esc key.
const ESCAPE_SEQUENCE: Duration = Duration::from_millis(50);

/// Standard input's terminal in key-by-key mode, until dropped.
pub struct Keyboard {
    /// While the lab works: no echo, no line editing, Ctrl-C still a signal.
    working: Termios,
    /// While netlab waits for a key: the same, and Ctrl-C a key.
    waiting: Termios,
    /// Bytes read but not yet taken as keys (keys typed ahead).
    pending: VecDeque<u8>,
}

impl Keyboard {
    /// Switches standard input to key-by-key mode; fails when it is not a terminal.
    pub fn open() -> io::Result<Keyboard> {
        let saved = termios::tcgetattr(io::stdin())?;
        let mut working = saved.clone();
        working.local_modes &= !(LocalModes::ICANON | LocalModes::ECHO | LocalModes::IEXTEN);
        working.special_codes[SpecialCodeIndex::VMIN] = 1;
        working.special_codes[SpecialCodeIndex::VTIME] = 0;
        let mut waiting = working.clone();
        waiting.local_modes &= !LocalModes::ISIG;
        install_panic_hook();
        cleanup::remember_terminal(saved);
        let keyboard = Keyboard {
            working,
            waiting,
            pending: VecDeque::new(),
        };
        keyboard.set(&keyboard.working)?;
        Ok(keyboard)
    }

    /// From now on Ctrl-C is a key, until [`Keyboard::stop_waiting`]. Called before the prompt
    /// shows, so that no key pressed after it can be taken as a signal.
    pub fn start_waiting(&mut self) -> io::Result<()> {
        self.set(&self.waiting.clone())
    }

    /// Ctrl-C is a signal again while the lab works.
    pub fn stop_waiting(&mut self) -> io::Result<()> {
        self.set(&self.working.clone())
    }

    /// Waits for the next key.
    pub fn read(&mut self) -> io::Result<Key> {
        self.next_key()
    }

    fn set(&self, mode: &Termios) -> io::Result<()> {
        // Now, not after a flush: keys typed ahead stay in the queue.
        termios::tcsetattr(io::stdin(), OptionalActions::Now, mode)?;
        Ok(())
    }

    fn next_key(&mut self) -> io::Result<Key> {
        if self.pending.is_empty() && !self.fill(None)? {
            // The terminal is gone (end of input): nobody can press a key any more.
            return Ok(Key::Quit);
        }
        if self.pending.front() == Some(&ESC) && self.pending.len() == 1 {
            self.fill(Some(ESCAPE_SEQUENCE))?;
        }
        Ok(take_key(&mut self.pending))
    }

    /// Reads what the terminal has, waiting at most `timeout` (None: as long as it takes).
    /// False at the end of input or when the time passed with nothing.
    fn fill(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        if let Some(timeout) = timeout {
            let stdin = io::stdin();
            let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
            let timeout = Timespec::try_from(timeout).map_err(io::Error::other)?;
            loop {
                match poll(&mut fds, Some(&timeout)) {
                    Ok(0) => return Ok(false),
                    Ok(_) => break,
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(err) => return Err(err.into()),
                }
            }
        }
        let mut buf = [0u8; 64];
        loop {
            match rustix::io::read(io::stdin(), &mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.pending.extend(&buf[..n]);
                    return Ok(true);
                }
                Err(rustix::io::Errno::INTR) => continue,
                Err(err) => return Err(err.into()),
            }
        }
    }
}

impl Drop for Keyboard {
    fn drop(&mut self) {
        cleanup::restore_terminal();
    }
}

const ESC: u8 = 0x1b;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;

/// Takes one key from the front of `bytes` (which is not empty): a byte, or a whole escape
/// sequence (`ESC [ ... final` or `ESC O final`).
fn take_key(bytes: &mut VecDeque<u8>) -> Key {
    let Some(first) = bytes.pop_front() else {
        return Key::Other;
    };
    match first {
        b'\r' | b'\n' | b' ' => Key::Next,
        b'c' | b'C' => Key::RestOfSection,
        b'q' | b'Q' | CTRL_D => Key::Quit,
        CTRL_C => Key::Interrupt,
        ESC => match bytes.front() {
            None => Key::Quit,
            Some(b'[') | Some(b'O') => {
                bytes.pop_front();
                // Parameters, then one final byte in 0x40..=0x7e.
                let mut last = None;
                while let Some(b) = bytes.pop_front() {
                    if (0x40..=0x7e).contains(&b) {
                        last = Some(b);
                        break;
                    }
                }
                if last == Some(b'C') {
                    Key::Next
                } else {
                    Key::Other
                }
            }
            // ESC then another key: Esc was pressed, the next key waits its turn.
            Some(_) => Key::Quit,
        },
        _ => Key::Other,
    }
}

/// A panic prints its message on a terminal put back as it was.
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            cleanup::restore_terminal();
            default(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut queue: VecDeque<u8> = bytes.iter().copied().collect();
        let mut keys = Vec::new();
        while !queue.is_empty() {
            keys.push(take_key(&mut queue));
        }
        keys
    }

    #[test]
    fn enter_space_and_right_arrow_go_on() {
        assert_eq!(
            keys(b"\r\n \x1b[C\x1bOC"),
            [Key::Next, Key::Next, Key::Next, Key::Next, Key::Next]
        );
    }

    #[test]
    fn q_esc_and_ctrl_c_stop() {
        assert_eq!(keys(b"q"), [Key::Quit]);
        assert_eq!(keys(b"\x1b"), [Key::Quit]);
        assert_eq!(keys(b"\x03"), [Key::Interrupt]);
        assert_eq!(keys(b"\x1bq"), [Key::Quit, Key::Quit]);
    }

    #[test]
    fn other_keys_and_sequences_are_ignored() {
        assert_eq!(
            keys(b"x\x1b[A\x1b[1;5D"),
            [Key::Other, Key::Other, Key::Other]
        );
        assert_eq!(keys(b"c"), [Key::RestOfSection]);
    }
}
