//! What a lab holds while it runs: it hands out sides (server, client ...) whose sockets record
//! every call, the kernel's probes, notes and section headings, and the lab's own summary
//! lines. It ties the recorder (the trace's events) to the register of the lab's sockets.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::commands::CommandError;
use crate::event::{Kind, Lang, Outcome, Text};
use crate::framing::ReadError;
use crate::kernel::{Kernel, Mismatch, ProbeError};
pub use crate::recorder::{Figure, TraceOptions};
use crate::recorder::{Gate, Recorder};
use crate::render::{LabEnd, Sink};
use crate::sock::registry::Registry;
use crate::sock::Side;
use crate::wire::tap::{Seen, WireLog, WireTap};

/// Why a lab stopped early (the trace up to that point is still printed).
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A call failed that the lesson expects to succeed.
    #[error("{}", python_error(.0))]
    Call(#[from] io::Error),
    /// A probe showed something other than what the lab's notes describe.
    #[error("the kernel did not show what this lab describes: {0}")]
    Observed(#[from] Mismatch),
    /// A relation the lab relies on did not hold (see [`Trace::expect`]).
    #[error("the kernel did not behave as this lab expects: {0}")]
    Unexpected(String),
    /// Reading a framed message failed.
    #[error(transparent)]
    Framing(#[from] ReadError),
    /// The remote-command program could not run a command.
    #[error(transparent)]
    Command(#[from] CommandError),
}

impl From<ProbeError> for LabError {
    fn from(err: ProbeError) -> Self {
        match err {
            ProbeError::Io(err) => LabError::Call(err),
            ProbeError::Mismatch(mismatch) => LabError::Observed(mismatch),
        }
    }
}

/// A failed call as Python reports it, or the error's own words when no errno is behind it.
fn python_error(err: &io::Error) -> String {
    match crate::errno::of(err) {
        Some(errno) => errno.python(),
        None => err.to_string(),
    }
}

pub type LabResult<T = ()> = Result<T, LabError>;

/// A running lab. Cheap to clone: every handle shares the same run.
#[derive(Clone)]
pub struct Trace {
    lab: &'static str,
    recorder: Recorder,
    registry: Registry,
    /// The packets captured so far, with `--wire`.
    wire: Option<WireLog>,
}

/// A point in a run's capture (see [`Trace::wire_mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireMark(usize);

impl Trace {
    /// With `options.wire`, also opens the capture whose packets follow each event as `wire`
    /// lines; that fails outside the namespace netlab makes for `--wire`.
    pub(crate) fn new(
        lab: &'static str,
        options: TraceOptions,
        sink: Box<dyn Sink>,
        gate: Option<Box<dyn Gate>>,
    ) -> io::Result<Trace> {
        let recorder = Recorder::gated(options, sink, gate);
        let registry = Registry::new(options.raw);
        let wire = if options.wire {
            let log = WireLog::default();
            let tap = WireTap::open(registry.clone(), log.clone())?;
            recorder.set_tap(Box::new(tap));
            Some(log)
        } else {
            None
        };
        Ok(Trace {
            lab,
            recorder,
            registry,
            wire,
        })
    }

    /// Whether this run shows the wire (`--wire`). A note that speaks of segments is written
    /// only then, and only after checking ([`Trace::wire_since`]) that the capture showed them.
    pub fn wire(&self) -> bool {
        self.wire.is_some()
    }

    /// The capture's current point: [`Trace::wire_since`] gives what came after it.
    pub fn wire_mark(&self) -> WireMark {
        WireMark(self.wire.as_ref().map_or(0, WireLog::mark))
    }

    /// The packets the trace showed as `wire` lines since `mark` (none without `--wire`), for
    /// the lab to check what its notes are about to say:
    ///
    /// ```ignore
    /// let mark = t.wire_mark();
    /// client.send(b"")?;
    /// if t.wire() {
    ///     t.expect(t.wire_since(mark).is_empty(), "send(b'') puts nothing on the wire")?;
    ///     t.note("No wire line follows send(b''): ...", "...");
    /// }
    /// ```
    pub fn wire_since(&self, mark: WireMark) -> Seen {
        self.wire
            .as_ref()
            .map_or_else(Seen::default, |log| log.since(mark.0))
    }

    /// With `--wire`, stops the lab unless the packets since `mark` were exactly these TCP
    /// segments, (flags, data length) in order, from `a` to `b` and from `b` to `a`, and
    /// nothing else; without `--wire` there is nothing to check. A note about those segments
    /// comes after this check.
    pub fn expect_segments(
        &self,
        mark: WireMark,
        (a, b): (&str, &str),
        a_to_b: &[(&str, u16)],
        b_to_a: &[(&str, u16)],
    ) -> LabResult {
        if !self.wire() {
            return Ok(());
        }
        let seen = self.wire_since(mark);
        let expected = a_to_b.len() + b_to_a.len();
        if seen.tcp(a, b) == a_to_b && seen.tcp(b, a) == b_to_a && seen.0.len() == expected {
            return Ok(());
        }
        let show = |segments: &[(&str, u16)]| -> String {
            let shown: Vec<String> = segments
                .iter()
                .map(|(flags, len)| format!("[{flags}] length {len}"))
                .collect();
            if shown.is_empty() {
                "nothing".to_string()
            } else {
                shown.join(", ")
            }
        };
        let captured: Vec<String> = seen
            .0
            .iter()
            .map(|c| format!("{} > {}: {:?}", c.from, c.to, c.what))
            .collect();
        Err(LabError::Unexpected(format!(
            "on the wire the lab expects {a} > {b}: {}, and {b} > {a}: {}; the capture shows {}",
            show(a_to_b),
            show(b_to_a),
            if captured.is_empty() {
                "no packet".to_string()
            } else {
                captured.join("; ")
            }
        )))
    }

    /// A program taking part: `server`, `client`, `client-2` ...
    pub fn side(&self, name: &str) -> Side {
        Side::new(self.recorder.clone(), self.registry.clone(), name)
    }

    /// Observations read from the kernel, shown as `kernel` lines.
    pub fn kernel(&self) -> Kernel {
        Kernel::new(self.recorder.clone(), self.registry.clone())
    }

    /// Opens a new part of the lesson before the next event.
    pub fn section(&self, en: &'static str, zh: &'static str) {
        self.recorder.section(Text::new(en, zh));
    }

    /// A note on the event just recorded (or, before any, on the next one).
    pub fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        self.recorder.note(Text::new(en.into(), zh.into()));
    }

    /// A line of the lab's own, labelled `lab`: a summary it drew from the lines above (how
    /// many clients the probes found in each state, say). Unlike a `kernel` line it is not a
    /// reading of the kernel, and the trace says so by its label.
    pub fn summary(&self, what: Text, result: Text) {
        self.recorder.begin();
        self.recorder
            .emit("lab", Kind::Summary, what, Outcome::Returned(result));
    }

    /// Stops the lab with an error when the kernel did not do what the lesson relies on.
    /// Labs use it to state their assumptions, so a surprising kernel fails loudly instead of
    /// printing a lesson that this run did not show.
    pub fn expect(&self, holds: bool, what: impl Into<String>) -> LabResult {
        if holds {
            Ok(())
        } else {
            Err(LabError::Unexpected(what.into()))
        }
    }

    pub fn lab_id(&self) -> &'static str {
        self.lab
    }

    pub fn lang(&self) -> Lang {
        self.recorder.options().lang
    }

    pub fn is_raw(&self) -> bool {
        self.recorder.is_raw()
    }

    /// A temporary directory for this run, removed when the lab ends (or on a signal); shown
    /// as `TMP`.
    pub fn temp_dir(&self) -> io::Result<PathBuf> {
        self.registry.temp_dir()
    }

    /// A run-dependent figure as a note shows it: `figure`'s name unless `--raw`.
    pub fn named_value(&self, figure: Figure, value: impl fmt::Display) -> String {
        self.recorder.named_value(figure, value)
    }

    /// Runs one recorded call or probe whose figure depends on the machine (how many bytes a
    /// non-blocking `send()` took, a queue length) and shows that figure as `figure`'s name in
    /// its trace line unless `--raw`, so default output stays the same everywhere:
    ///
    /// ```ignore
    /// const SENT: Figure = Figure::new("SENT");
    /// let sent = t.named(SENT, || sock.send(&data))?;   // sock.send(b'...')  -> SENT
    /// ```
    ///
    /// Only the call's run-dependent figure takes the name (a send's count, a queue's length,
    /// a recv's byte count, the bytes a sendall took); fixed figures stay numbers. Write the
    /// relation the lesson relies on (`sent < data.len()`) as a `t.expect`, and use
    /// [`Trace::named_value`] for the same figure in notes.
    pub fn named<T>(&self, figure: Figure, call: impl FnOnce() -> T) -> T {
        self.recorder.named(figure, call)
    }

    /// The recorder, for engine code that writes lines of its own (peer mode's diagnoses).
    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The register of this run's sockets and names.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn start(&self, title: &Text) -> io::Result<()> {
        self.recorder.start(self.lab, title)
    }

    /// Sends the last event and how the run ended, and reports any output error (a closed
    /// pipe, say).
    pub(crate) fn finish(&self, end: &LabEnd) -> io::Result<()> {
        self.recorder.finish(end)
    }
}
