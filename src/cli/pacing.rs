//! `--step` and `--pace` for a live demo. They gate the engine itself: the lab waits at its
//! gate before each call or probe (`Recorder::begin`), so the next socket call happens only
//! when the key is pressed or the pause is over, and a second pane (`ss -tan`) shows the
//! state the screen has just printed.

use std::cell::RefCell;
use std::io::{self, IsTerminal, Write};
use std::rc::Rc;
use std::time::Duration;

use netlab::event::{Lang, Text};
use netlab::phrases;
use netlab::recorder::{Gate, Stop, Waypoint};

use super::keys::{Key, Keyboard};

/// `--step` and `--pace MS` as given.
#[derive(Clone, Copy)]
pub struct Pacing {
    pub step: bool,
    pub pause: Option<Duration>,
}

/// `--step` needs keys from a terminal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NoTerminal(String);

impl Pacing {
    /// The gate that paces this run's labs, or None for a normal run. `--step` switches the
    /// terminal on standard input to key-by-key mode until the returned value is dropped;
    /// without a terminal there it fails with a message in `lang`.
    pub fn start(self, lang: Lang) -> Result<Option<Live>, NoTerminal> {
        let mode = if self.step {
            if !io::stdin().is_terminal() {
                return Err(NoTerminal(NOT_A_TERMINAL.get(lang).to_string()));
            }
            let keyboard = Keyboard::open()
                .map_err(|err| NoTerminal(format!("{} ({err})", NOT_A_TERMINAL.get(lang))))?;
            Mode::Step {
                keyboard,
                rest_of_section: false,
            }
        } else if let Some(pause) = self.pause {
            Mode::Pace(pause)
        } else {
            return Ok(None);
        };
        Ok(Some(Live {
            state: Rc::new(RefCell::new(State {
                mode,
                lang,
                shown: 0,
                hint_on_screen: false,
            })),
        }))
    }
}

const NOT_A_TERMINAL: Text = Text::fixed(
    "--step reads one key at a time from a terminal, and standard input is not one; \
     use --pace MS to run a lab slowly without keys",
    "--step 要从终端逐个读取按键，而标准输入不是终端；不用按键、只想放慢运行请用 --pace 毫秒数",
);

/// A live run's pacing, shared by the labs of one `netlab run` (one keyboard for all).
pub struct Live {
    state: Rc<RefCell<State>>,
}

struct State {
    mode: Mode,
    lang: Lang,
    /// Events shown so far in the current lab.
    shown: u32,
    /// The hint line is on the screen (stderr) and must be cleared before more output.
    hint_on_screen: bool,
}

enum Mode {
    Step {
        keyboard: Keyboard,
        /// `c` was pressed: no waiting until the next section opens.
        rest_of_section: bool,
    },
    Pace(Duration),
}

impl Live {
    /// The gate for one lab's run.
    pub fn gate(&self) -> Box<dyn Gate> {
        self.state.borrow_mut().shown = 0;
        Box::new(SharedGate(self.state.clone()))
    }

    /// One line on stderr after the gate stopped a lab: where, and that nothing is left.
    pub fn report_stop(&self, stop: Stop) {
        let state = self.state.borrow();
        let text = match stop {
            Stop::Quit => Text::new(
                format!(
                    "stopped after event {}; the lab's sockets are closed and its temporary files removed",
                    state.shown
                ),
                format!("在第 {} 个事件之后停止；实验的套接字已关闭，临时文件已删除", state.shown),
            ),
            Stop::Interrupted => Text::new(
                format!(
                    "interrupted after event {}; the lab's sockets are closed and its temporary files removed",
                    state.shown
                ),
                format!("在第 {} 个事件之后被中断；实验的套接字已关闭，临时文件已删除", state.shown),
            ),
        };
        super::complain(text.get(state.lang));
    }
}

struct SharedGate(Rc<RefCell<State>>);

impl Gate for SharedGate {
    fn flag(&self) -> String {
        match &self.0.borrow().mode {
            Mode::Step { .. } => "--step".to_string(),
            Mode::Pace(pause) => format!("--pace {}", pause.as_millis()),
        }
    }

    fn wait(&mut self, at: Waypoint) -> Result<(), Stop> {
        self.0.borrow_mut().wait(at)
    }
}

impl State {
    fn wait(&mut self, at: Waypoint) -> Result<(), Stop> {
        self.shown = at.shown;
        match &mut self.mode {
            Mode::Pace(pause) => {
                // A person's pause, not synchronisation: the kernel is left alone meanwhile.
                std::thread::sleep(*pause);
                Ok(())
            }
            Mode::Step {
                rest_of_section, ..
            } => {
                if *rest_of_section && !at.opens_section {
                    return Ok(());
                }
                *rest_of_section = false;
                self.step(at)
            }
        }
    }

    /// Shows the hint and waits for a key that means something.
    fn step(&mut self, at: Waypoint) -> Result<(), Stop> {
        if let Mode::Step { keyboard, .. } = &mut self.mode {
            if keyboard.start_waiting().is_err() {
                // The terminal cannot be set any more: nobody can step on.
                return Err(Stop::Quit);
            }
        }
        self.show_hint(at.shown + 1);
        let outcome = loop {
            let Mode::Step {
                keyboard,
                rest_of_section,
            } = &mut self.mode
            else {
                break Ok(());
            };
            match keyboard.read() {
                Ok(Key::Next) => break Ok(()),
                Ok(Key::RestOfSection) => {
                    *rest_of_section = true;
                    break Ok(());
                }
                Ok(Key::Quit) => break Err(Stop::Quit),
                Ok(Key::Interrupt) => break Err(Stop::Interrupted),
                Ok(Key::Other) => {}
                // The terminal cannot be read any more: nobody can step on.
                Err(_) => break Err(Stop::Quit),
            }
        };
        self.clear_hint();
        if let Mode::Step { keyboard, .. } = &mut self.mode {
            let _ = keyboard.stop_waiting();
        }
        outcome
    }

    /// The hint, in place on stderr's current line (a terminal only).
    fn show_hint(&mut self, next: u32) {
        let mut stderr = io::stderr();
        if !stderr.is_terminal() {
            return;
        }
        let hint = phrases::STEP_HINT.fill(self.lang, &[("next", &next)]);
        let width = terminal_columns().unwrap_or(80).saturating_sub(1);
        let hint = netlab::render::wrap::cut(&hint, width);
        let _ = write!(stderr, "\r\x1b[K{hint}");
        let _ = stderr.flush();
        self.hint_on_screen = true;
    }

    fn clear_hint(&mut self) {
        if self.hint_on_screen {
            let mut stderr = io::stderr();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
            self.hint_on_screen = false;
        }
    }
}

/// The width of the terminal on stderr (where the hint goes), if it is one.
fn terminal_columns() -> Option<usize> {
    let size = rustix::termios::tcgetwinsize(io::stderr()).ok()?;
    (size.ws_col > 0).then_some(usize::from(size.ws_col))
}
