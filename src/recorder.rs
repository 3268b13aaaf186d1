//! The event recorder: numbers each event, attaches the notes and section heading a lab writes
//! around it, and streams it to the renderer.
//!
//! An event is held back until the next one starts, so that the notes a lab writes right after
//! a call still belong to that call's line; everything is single-threaded, so the order of the
//! trace is the order of the lab's code, never of thread timing.
//!
//! Every method borrows the recorder's state only for its own few lines and never while it
//! calls out: the sink is taken out of its cell for the duration of a write and put back.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::rc::Rc;

use crate::event::{Event, Kind, Lang, Outcome, Text};
use crate::render::Sink;

/// How a lab run is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    pub lang: Lang,
    /// Show real port numbers and paths instead of stable names.
    pub raw: bool,
}

/// A figure that depends on the machine (how many bytes a non-blocking send took, a queue
/// length, a sysctl), shown under a stable name unless `--raw`. A lab declares each of its
/// figures once as a constant, `const SENT: Figure = Figure::new("SENT");`, and uses that
/// constant wherever the figure appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure(&'static str);

impl Figure {
    pub const fn new(name: &'static str) -> Figure {
        Figure(name)
    }

    /// The stable name, e.g. `SENT`.
    pub fn name(self) -> &'static str {
        self.0
    }
}

/// Records the events of one lab run. Cheap to clone: every handle shares the same run.
#[derive(Clone)]
pub struct Recorder {
    inner: Rc<Inner>,
}

struct Inner {
    options: TraceOptions,
    /// Taken out while it writes (see [`Recorder::write`]), so no borrow spans the sink's code.
    sink: Cell<Option<Box<dyn Sink>>>,
    book: RefCell<Book>,
}

/// What the recorder keeps between events.
#[derive(Default)]
struct Book {
    seq: u32,
    pending: Option<Event>,
    next_section: Option<Text>,
    next_notes: Vec<Text>,
    sink_error: Option<io::Error>,
    /// The stable name the next run-dependent figure shows as (see [`Recorder::named`]).
    figure_name: Option<Figure>,
}

impl Recorder {
    pub fn new(options: TraceOptions, sink: Box<dyn Sink>) -> Recorder {
        Recorder {
            inner: Rc::new(Inner {
                options,
                sink: Cell::new(Some(sink)),
                book: RefCell::new(Book::default()),
            }),
        }
    }

    pub fn options(&self) -> TraceOptions {
        self.inner.options
    }

    pub fn is_raw(&self) -> bool {
        self.inner.options.raw
    }

    /// Opens a new part of the lesson before the next event.
    pub fn section(&self, text: Text) {
        self.flush_pending();
        self.inner.book.borrow_mut().next_section = Some(text);
    }

    /// A note on the event just recorded (or, before any, on the next one).
    pub fn note(&self, text: Text) {
        let mut book = self.inner.book.borrow_mut();
        match book.pending.as_mut() {
            Some(event) => event.notes.push(text),
            None => book.next_notes.push(text),
        }
    }

    /// Tags the event just recorded with a diagnosis code (peer mode: what a program outside
    /// netlab did wrong), which JSON shows as its `diagnosis` field.
    pub fn diagnosis(&self, code: &'static str) {
        if let Some(event) = self.inner.book.borrow_mut().pending.as_mut() {
            event.diagnosis = Some(code);
        }
    }

    /// Records one event; the previous one is now final and goes to the renderer.
    pub fn emit(&self, side: &str, kind: Kind, call: Text, outcome: Outcome) {
        self.flush_pending();
        let mut book = self.inner.book.borrow_mut();
        book.seq += 1;
        let event = Event {
            seq: book.seq,
            side: side.to_string(),
            kind,
            call,
            outcome,
            notes: std::mem::take(&mut book.next_notes),
            section: book.next_section.take(),
            diagnosis: None,
        };
        book.pending = Some(event);
    }

    /// The number of the last line recorded.
    pub fn last_seq(&self) -> u32 {
        self.inner.book.borrow().seq
    }

    /// Runs `call` (a recorded call or probe) so that its run-dependent figure shows as
    /// `figure`'s name in its line unless `--raw`. See `Trace::named`.
    pub fn named<T>(&self, figure: Figure, call: impl FnOnce() -> T) -> T {
        self.inner.book.borrow_mut().figure_name = Some(figure);
        let result = call();
        self.inner.book.borrow_mut().figure_name = None;
        result
    }

    /// A run-dependent figure as a note shows it: the figure's name unless `--raw`.
    pub fn named_value(&self, figure: Figure, value: impl fmt::Display) -> String {
        if self.is_raw() {
            value.to_string()
        } else {
            figure.name().to_string()
        }
    }

    /// How a run-dependent figure shows in a line: the name [`Recorder::named`] gave it
    /// (once), else the number. Engine code calls this for every figure that can depend on the
    /// machine.
    pub fn figure(&self, value: impl fmt::Display) -> String {
        let name = self.inner.book.borrow_mut().figure_name.take();
        match name {
            Some(figure) if !self.is_raw() => figure.name().to_string(),
            _ => value.to_string(),
        }
    }

    pub fn start(&self, id: &str, title: &Text) -> io::Result<()> {
        self.write(|sink| sink.lab_start(id, title))
    }

    /// Sends the last event and reports any output error (a closed pipe, say).
    pub fn finish(&self, id: &str) -> io::Result<()> {
        self.flush_pending();
        if let Some(err) = self.inner.book.borrow_mut().sink_error.take() {
            return Err(err);
        }
        self.write(|sink| sink.lab_end(id))
    }

    /// Writes the event held back for its notes now: for engine code about to wait for a
    /// program outside netlab (peer mode), so the screen shows every line up to the wait.
    /// Notes written after this belong to the next event.
    pub fn flush(&self) {
        self.flush_pending();
    }

    /// Whether writing the trace has failed (a closed pipe): a run that could go on for long
    /// (`netlab serve`) stops then, since nobody sees its lines.
    pub fn output_failed(&self) -> bool {
        self.inner.book.borrow().sink_error.is_some()
    }

    fn flush_pending(&self) {
        let event = {
            let mut book = self.inner.book.borrow_mut();
            if book.sink_error.is_some() {
                book.pending = None;
                return;
            }
            book.pending.take()
        };
        if let Some(event) = event {
            if let Err(err) = self.write(|sink| sink.event(&event)) {
                self.inner.book.borrow_mut().sink_error = Some(err);
            }
        }
    }

    /// Lends the sink to `write`, with no borrow of the recorder held meanwhile.
    fn write(&self, write: impl FnOnce(&mut dyn Sink) -> io::Result<()>) -> io::Result<()> {
        let Some(mut sink) = self.inner.sink.take() else {
            return Err(io::Error::other("the trace's output is already in use"));
        };
        let result = write(sink.as_mut());
        self.inner.sink.set(Some(sink));
        result
    }
}
