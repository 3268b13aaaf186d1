//! The orchestrator a lab drives: it hands out sides (server, client ...) whose sockets record
//! every call, keeps the stable names, and streams events to the renderer.
//!
//! An event is held back until the next one starts, so that the notes a lab writes right after
//! a call still belong to that call's line; everything is single-threaded, so the order of the
//! trace is the order of the lab's code, never of thread timing.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;

use crate::event::{Event, Kind, Lang, Outcome, Text};
use crate::kernel::Kernel;
use crate::names::Names;
use crate::render::Sink;
use crate::sock::{Side, SockRecord};

/// How a lab run is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    pub lang: Lang,
    /// Show real port numbers and paths instead of stable names.
    pub raw: bool,
}

/// Why a lab stopped early: a call failed that the lesson did not expect, or the kernel did
/// not behave as the lesson says (the trace up to that point is still printed).
#[derive(Debug)]
pub struct LabError(pub String);

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LabError {}

impl From<io::Error> for LabError {
    fn from(err: io::Error) -> Self {
        LabError(match crate::errno::of(&err) {
            Some(errno) => errno.python(),
            None => err.to_string(),
        })
    }
}

impl From<crate::framing::ReadError> for LabError {
    fn from(err: crate::framing::ReadError) -> Self {
        LabError(err.to_string())
    }
}

impl From<crate::commands::CommandError> for LabError {
    fn from(err: crate::commands::CommandError) -> Self {
        LabError(err.to_string())
    }
}

pub type LabResult = Result<(), LabError>;

pub(crate) struct State {
    sink: Box<dyn Sink>,
    seq: u32,
    pending: Option<Event>,
    next_section: Option<Text>,
    next_notes: Vec<Text>,
    sink_error: Option<io::Error>,
    pub(crate) names: Names,
    pub(crate) sockets: Vec<SockRecord>,
    temp_dir: Option<tempfile::TempDir>,
    /// The stable name the next run-dependent figure shows as (see [`Trace::named`]).
    figure_name: Option<String>,
}

/// A running lab. Cheap to clone: every handle shares the same state.
#[derive(Clone)]
pub struct Trace {
    lab: &'static str,
    options: TraceOptions,
    state: Rc<RefCell<State>>,
}

impl Trace {
    pub(crate) fn new(lab: &'static str, options: TraceOptions, sink: Box<dyn Sink>) -> Trace {
        Trace {
            lab,
            options,
            state: Rc::new(RefCell::new(State {
                sink,
                seq: 0,
                pending: None,
                next_section: None,
                next_notes: Vec::new(),
                sink_error: None,
                names: Names::new(options.raw),
                sockets: Vec::new(),
                temp_dir: None,
                figure_name: None,
            })),
        }
    }

    /// A program taking part: `server`, `client`, `client-2` ...
    pub fn side(&self, name: &str) -> Side {
        Side::new(self.clone(), name)
    }

    /// Observations read from the kernel, shown as `kernel` lines.
    pub fn kernel(&self) -> Kernel {
        Kernel::new(self.clone())
    }

    /// Opens a new part of the lesson before the next event.
    pub fn section(&self, en: &'static str, zh: &'static str) {
        self.flush_pending();
        self.state().next_section = Some(Text::new(en, zh));
    }

    /// A note on the event just recorded (or, before any, on the next one).
    pub fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        let text = Text::new(en.into(), zh.into());
        let mut state = self.state();
        match state.pending.as_mut() {
            Some(event) => event.notes.push(text),
            None => state.next_notes.push(text),
        }
    }

    /// Stops the lab with an error when the kernel did not do what the lesson relies on.
    /// Labs use it to state their assumptions, so a surprising kernel fails loudly instead of
    /// printing a lesson that this run did not show.
    pub fn expect(&self, holds: bool, what: impl Into<String>) -> LabResult {
        if holds {
            Ok(())
        } else {
            Err(LabError(format!(
                "the kernel did not behave as this lab expects: {}",
                what.into()
            )))
        }
    }

    pub fn lab_id(&self) -> &'static str {
        self.lab
    }

    pub fn lang(&self) -> Lang {
        self.options.lang
    }

    pub fn is_raw(&self) -> bool {
        self.options.raw
    }

    /// A temporary directory for this run, removed when the lab ends; shown as `TMP`.
    pub fn temp_dir(&self) -> io::Result<PathBuf> {
        let mut state = self.state();
        if state.temp_dir.is_none() {
            let dir = tempfile::Builder::new().prefix("netlab-").tempdir()?;
            state.names.name_dir(dir.path(), "TMP");
            state.temp_dir = Some(dir);
        }
        Ok(state
            .temp_dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default())
    }

    /// A run-dependent number under a stable name (`NAME`) unless `--raw`.
    pub fn named_value(&self, name: &str, value: impl fmt::Display) -> String {
        if self.options.raw {
            value.to_string()
        } else {
            name.to_string()
        }
    }

    /// Runs one recorded call or probe whose figure depends on the machine (how many bytes a
    /// non-blocking `send()` took, a queue length) and shows that figure as `name` in its trace
    /// line unless `--raw`, so default output stays the same everywhere:
    ///
    /// ```ignore
    /// let sent = t.named("SENT", || sock.send(&data))?;   // sock.send(b'...')  -> SENT
    /// ```
    ///
    /// Only the call's run-dependent figure takes the name (a send's count, a queue's length,
    /// a recv's byte count, the bytes a sendall took); fixed figures stay numbers. Write the
    /// relation the lesson relies on (`sent < data.len()`) as a `t.expect`, and use
    /// [`Trace::named_value`] for the same figure in notes.
    pub fn named<T>(&self, name: &str, call: impl FnOnce() -> T) -> T {
        self.state().figure_name = Some(name.to_string());
        let result = call();
        self.state().figure_name = None;
        result
    }

    /// How a run-dependent figure shows: the name [`Trace::named`] gave it (once), else the
    /// number. Engine code calls this for every figure that can depend on the machine.
    pub(crate) fn figure(&self, value: impl fmt::Display) -> String {
        match self.state().figure_name.take() {
            Some(name) if !self.options.raw => name,
            _ => value.to_string(),
        }
    }

    /// The number of the last line recorded.
    pub(crate) fn last_seq(&self) -> u32 {
        self.state().seq
    }

    pub(crate) fn state(&self) -> RefMut<'_, State> {
        self.state.borrow_mut()
    }

    /// Records one event; the previous one is now final and goes to the renderer.
    pub(crate) fn emit(&self, side: &str, kind: Kind, call: Text, outcome: Outcome) {
        self.flush_pending();
        let mut state = self.state();
        state.seq += 1;
        let event = Event {
            seq: state.seq,
            side: side.to_string(),
            kind,
            call,
            outcome,
            notes: std::mem::take(&mut state.next_notes),
            section: state.next_section.take(),
        };
        state.pending = Some(event);
    }

    fn flush_pending(&self) {
        let mut state = self.state();
        if let Some(event) = state.pending.take() {
            if state.sink_error.is_none() {
                if let Err(err) = state.sink.event(&event) {
                    state.sink_error = Some(err);
                }
            }
        }
    }

    pub(crate) fn start(&self, title: &Text) -> io::Result<()> {
        self.state().sink.lab_start(self.lab, title)
    }

    /// Sends the last event and reports any output error (a closed pipe, say).
    pub(crate) fn finish(&self) -> io::Result<()> {
        self.flush_pending();
        let mut state = self.state();
        if let Some(err) = state.sink_error.take() {
            return Err(err);
        }
        state.sink.lab_end(self.lab)
    }
}
