//! Renderers: the only code that turns events into bytes. Text for people (coloured only when
//! asked), JSON lines for programs: both stream, each event written as soon as it is final.
//! The drawings of the exchange (a ladder diagram in text, a web page with SVG) need the
//! whole lab, and draw it when the lab ends.

use std::io;

use crate::event::{Event, Text};

pub mod diagram;
mod html;
mod json;
mod ladder;
mod text;
pub mod wrap;

pub use html::{HtmlBook, HtmlRenderer};
pub use json::{event_json, JsonRenderer, JSON_VERSION};
pub use ladder::LadderRenderer;
pub use text::{TextRenderer, DEFAULT_WIDTH};

/// Where a lab's events go.
pub trait Sink {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()>;
    /// The run is live (`--step`, `--pace 300`: the flag), so kernel timers ran at human
    /// speed: the output says so, so that it is never taken for the deterministic trace.
    /// Comes right after `lab_start`.
    fn live(&mut self, _flag: &str) -> io::Result<()> {
        Ok(())
    }
    fn event(&mut self, event: &Event) -> io::Result<()>;
    fn lab_end(&mut self, end: &LabEnd) -> io::Result<()>;
}

/// How a lab's run ended, and where a student goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabEnd {
    /// The lab's id.
    pub id: &'static str,
    /// None when the lab ran to its end; else why it stopped (netlab's diagnostic, in
    /// English, the same in every language).
    pub stopped: Option<String>,
    /// The next lab's id, None after the last lab.
    pub next: Option<&'static str>,
    /// How a `serve`/`connect` session went, when this is one rather than a run of the lab:
    /// its end names no next lab.
    pub session: Option<SessionEnd>,
}

/// How a peer-mode session (`netlab serve`, `netlab connect`) went, for its end record: the
/// figures its last `netlab` line states in words, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnd {
    /// `serve` or `connect`.
    pub command: &'static str,
    /// Clients served (`serve`, TCP), requests answered (`serve`, UDP); 1 for `connect`.
    pub conversations: u32,
    /// The code of every diagnosis, in order (see `crate::peer::Diagnosis::code`).
    pub diagnoses: Vec<&'static str>,
    /// Whether Ctrl-C ended it.
    pub interrupted: bool,
}

impl LabEnd {
    /// The end of a lab's run: `stopped` says why it stopped early, if it did.
    pub fn of_run(id: &'static str, stopped: Option<String>, next: Option<&'static str>) -> Self {
        LabEnd {
            id,
            stopped,
            next,
            session: None,
        }
    }

    pub fn completed(&self) -> bool {
        self.stopped.is_none()
    }
}
