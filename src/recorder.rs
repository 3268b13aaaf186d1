//! The event recorder: numbers each event, attaches the notes and section heading a lab writes
//! around it, and streams it to the renderer.
//!
//! An event is held back until the next one starts, so that the notes a lab writes right after
//! a call still belong to that call's line; everything is single-threaded, so the order of the
//! trace is the order of the lab's code, never of thread timing.
//!
//! A live run (`--step`, `--pace`) waits at a [`Gate`] where the next call or probe is about to
//! start: [`Recorder::begin`], which every recorded call and probe of the engine calls first,
//! sends the event before it (its notes are complete once the next call starts), then waits.
//! So the kernel is always in the state the screen has just shown, and a second pane
//! (`ss -tan`) agrees with it.
//!
//! Every method borrows the recorder's state only for its own few lines and never while it
//! calls out: the sink and the gate are taken out of their cells while they run and put back.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use crate::event::{Event, Facts, Kind, Lang, Outcome, Text};
use crate::render::{LabEnd, Sink};

/// How a lab run is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceOptions {
    pub lang: Lang,
    /// Show real port numbers and paths instead of stable names.
    pub raw: bool,
    /// Capture the lab's packets on lo and show them as `wire` lines (`--wire`: the process
    /// must be in a private network namespace, see [`crate::wire`]).
    pub wire: bool,
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

/// Lines that happened because of the event just recorded, added right after it: the packets
/// the wire capture saw (`--wire`). The recorder asks for them with every event it records,
/// and tells the tap when the run ends.
pub trait Tap {
    /// What to show now: each line's text and its facts as JSON fields.
    fn lines(&mut self) -> Vec<(Text, serde_json::Value)>;
    /// The run is over: let whatever the lab's last steps started finish, so that nothing of
    /// this run is left on the wire for the next one.
    fn finish(&mut self) {}
}

/// Where a live run waits: before each recorded call or probe starts, with every event before
/// it already on screen. `--step` waits for a key, `--pace` for a pause.
pub trait Gate {
    /// The flag that made this run live, as the trace marks it: `--step`, `--pace 300`.
    fn flag(&self) -> String;

    /// Waits until the next call or probe may start. `Err` stops the run there: the lab's
    /// steps end at once and everything it made is dropped (see [`until_stopped`]).
    fn wait(&mut self, at: Waypoint) -> Result<(), Stop>;
}

/// Where a run is when it reaches its gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waypoint {
    /// Events shown so far; the next one is `shown + 1`.
    pub shown: u32,
    /// The next event opens a new section of the lesson.
    pub opens_section: bool,
}

/// Why a live run stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The user asked to stop (`q`, Esc).
    Quit,
    /// The user pressed Ctrl-C at the prompt (raw mode reads it as a key, not a signal).
    Interrupted,
}

/// What unwinds a lab's steps when its gate stops the run; only [`until_stopped`] catches it.
struct Stopped(Stop);

/// Runs a lab's steps; a gate that stops the run ends them where they are. The stop unwinds
/// the lab's stack (as a cancelled query unwinds in salsa): every socket, temporary directory
/// and child process the steps hold is dropped on the way, and no lab code can mistake the
/// stop for an error of its own and carry on. Any other panic goes on unwinding.
pub fn until_stopped<T>(steps: impl FnOnce() -> T) -> Result<T, Stop> {
    match panic::catch_unwind(AssertUnwindSafe(steps)) {
        Ok(value) => Ok(value),
        Err(payload) => match payload.downcast::<Stopped>() {
            Ok(stopped) => Err(stopped.0),
            Err(other) => panic::resume_unwind(other),
        },
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
    /// Taken out while it waits, like the sink.
    gate: Cell<Option<Box<dyn Gate>>>,
    /// Taken out while it works, like the sink.
    tap: Cell<Option<Box<dyn Tap>>>,
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
    /// The event count at the last gate: a run waits once per event, however many steps
    /// of one call begin.
    gated_at: Option<u32>,
    /// Set once the gate stopped the run: nothing more is recorded or waited for.
    stopped: Option<Stop>,
}

impl Recorder {
    pub fn new(options: TraceOptions, sink: Box<dyn Sink>) -> Recorder {
        Recorder::gated(options, sink, None)
    }

    /// A recorder for a live run: it waits at `gate` before each call or probe.
    pub fn gated(
        options: TraceOptions,
        sink: Box<dyn Sink>,
        gate: Option<Box<dyn Gate>>,
    ) -> Recorder {
        Recorder {
            inner: Rc::new(Inner {
                options,
                sink: Cell::new(Some(sink)),
                gate: Cell::new(gate),
                tap: Cell::new(None),
                book: RefCell::new(Book::default()),
            }),
        }
    }

    /// A recorded call or probe is about to start: the event before it is final and goes to
    /// the renderer, then a live run waits at its gate. Every engine function that records a
    /// line calls this first, before it touches the kernel, so a paused run shows the kernel
    /// exactly as the last printed line left it. Calling it again before the next event is
    /// recorded does nothing.
    pub fn begin(&self) {
        self.flush_pending();
        let at = {
            let mut book = self.inner.book.borrow_mut();
            if book.stopped.is_some() || book.gated_at == Some(book.seq) {
                return;
            }
            book.gated_at = Some(book.seq);
            Waypoint {
                shown: book.seq,
                opens_section: book.next_section.is_some(),
            }
        };
        let Some(mut gate) = self.inner.gate.take() else {
            return;
        };
        let passed = gate.wait(at);
        self.inner.gate.set(Some(gate));
        if let Err(stop) = passed {
            self.inner.book.borrow_mut().stopped = Some(stop);
            panic::resume_unwind(Box::new(Stopped(stop)));
        }
    }

    /// The flag that made this run live (`--step`, `--pace 300`), or None for a normal run.
    pub fn live_flag(&self) -> Option<String> {
        let gate = self.inner.gate.take()?;
        let flag = gate.flag();
        self.inner.gate.set(Some(gate));
        Some(flag)
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
        if book.stopped.is_some() {
            return;
        }
        match book.pending.as_mut() {
            Some(event) => event.notes.push(text),
            None => book.next_notes.push(text),
        }
    }

    /// Adds the lines `tap` has after every event (see [`Tap`]).
    pub fn set_tap(&self, tap: Box<dyn Tap>) {
        self.inner.tap.set(Some(tap));
    }

    /// Tags the event just recorded with a diagnosis code (peer mode: what a program outside
    /// netlab did wrong), which JSON shows as its `diagnosis` field.
    pub fn diagnosis(&self, code: &'static str) {
        self.facts(|f| f.diagnosis = Some(code));
    }

    /// Records one event; the previous one is now final and goes to the renderer. The tap's
    /// lines become the event's packets, numbered after it; the notes a lab writes next still
    /// belong to the event.
    pub fn emit(&self, side: &str, kind: Kind, call: Text, outcome: Outcome) {
        self.flush_pending();
        let lines = match self.inner.tap.take() {
            Some(mut tap) => {
                let lines = tap.lines();
                self.inner.tap.set(Some(tap));
                lines
            }
            None => Vec::new(),
        };
        let mut book = self.inner.book.borrow_mut();
        if book.stopped.is_some() {
            // Steps that run while a stop unwinds (a Drop that records) show nothing more.
            return;
        }
        book.seq += 1;
        let mut event = Event {
            seq: book.seq,
            side: side.to_string(),
            kind,
            call,
            outcome,
            notes: std::mem::take(&mut book.next_notes),
            section: book.next_section.take(),
            facts: Facts::default(),
            packets: Vec::new(),
        };
        for (line, fields) in lines {
            book.seq += 1;
            event.packets.push(Event {
                seq: book.seq,
                side: "wire".to_string(),
                kind: Kind::Wire,
                call: line,
                outcome: Outcome::Returned(Text::same("")),
                notes: Vec::new(),
                section: None,
                facts: Facts {
                    wire: Some(fields),
                    ..Facts::default()
                },
                packets: Vec::new(),
            });
        }
        book.pending = Some(event);
    }

    /// Adds to the data of the event just recorded (see [`Facts`]): what its line says, as
    /// values for `--format json`.
    pub fn facts(&self, add: impl FnOnce(&mut Facts)) {
        if let Some(event) = self.inner.book.borrow_mut().pending.as_mut() {
            add(&mut event.facts);
        }
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
        self.write(|sink| sink.lab_start(id, title))?;
        match self.live_flag() {
            Some(flag) => self.write(|sink| sink.live(&flag)),
            None => Ok(()),
        }
    }

    /// Sends the last event and how the run ended, and reports any output error (a closed
    /// pipe, say).
    pub fn finish(&self, end: &LabEnd) -> io::Result<()> {
        if let Some(mut tap) = self.inner.tap.take() {
            tap.finish();
        }
        self.flush_pending();
        if let Some(err) = self.inner.book.borrow_mut().sink_error.take() {
            return Err(err);
        }
        self.write(|sink| sink.lab_end(end))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps the events it is given.
    struct Keep(Rc<RefCell<Vec<Event>>>);

    impl Sink for Keep {
        fn lab_start(&mut self, _id: &str, _title: &Text) -> io::Result<()> {
            Ok(())
        }
        fn event(&mut self, event: &Event) -> io::Result<()> {
            self.0.borrow_mut().push(event.clone());
            Ok(())
        }
        fn lab_end(&mut self, _end: &LabEnd) -> io::Result<()> {
            Ok(())
        }
    }

    /// Has one line after the first event, none after the others.
    struct OneLine(bool);

    impl Tap for OneLine {
        fn lines(&mut self) -> Vec<(Text, serde_json::Value)> {
            if std::mem::replace(&mut self.0, false) {
                vec![(
                    Text::same("a > b: Flags [S]"),
                    serde_json::json!({"flags": "S"}),
                )]
            } else {
                Vec::new()
            }
        }
    }

    #[test]
    fn a_taps_lines_are_the_events_packets_numbered_after_it_and_notes_stay_on_the_event() {
        let events = Rc::new(RefCell::new(Vec::new()));
        let recorder = Recorder::new(TraceOptions::default(), Box::new(Keep(events.clone())));
        recorder.set_tap(Box::new(OneLine(true)));
        let returned = || Outcome::Returned(Text::same(""));
        recorder.emit("client", Kind::Call, Text::same("connect()"), returned());
        recorder.note(Text::same("the handshake"));
        recorder.emit("kernel", Kind::Kernel, Text::same("state"), returned());
        recorder.finish(&LabEnd::of_run("lab", None, None)).unwrap();
        let events = events.borrow();
        assert_eq!(events.len(), 2);
        let (call, probe) = (&events[0], &events[1]);
        assert_eq!(call.seq, 1);
        assert_eq!(call.notes, [Text::same("the handshake")]);
        assert_eq!(call.packets.len(), 1);
        let packet = &call.packets[0];
        assert_eq!(
            (packet.seq, packet.kind, packet.side.as_str()),
            (2, Kind::Wire, "wire")
        );
        assert_eq!(packet.facts.wire, Some(serde_json::json!({"flags": "S"})));
        assert_eq!((probe.seq, probe.packets.len()), (3, 0));
    }
}
