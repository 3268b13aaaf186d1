//! What a lab is, how the engine finds one by id, number or name, and how it runs one.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use crate::event::{Event, Lang, Text};
use crate::peer::PeerMode;
use crate::render::{JsonRenderer, Sink, TextRenderer};
use crate::trace::{LabError, LabResult, Trace, TraceOptions};

/// One lab: a folder `labs/NN-name/` compiled in by the build script, which takes the id from
/// the folder's name and the lesson from its lesson.en.md and lesson.zh.md. The folder's
/// lab.rs gives the title (`pub const TITLE`) and the steps (`pub fn run`).
pub struct Lab {
    /// `07-sticky-packet`: the folder name.
    pub id: &'static str,
    /// One line for `netlab list` and the trace header.
    pub title: Text,
    /// The lesson text `netlab show` prints (the folder's lesson.en.md / lesson.zh.md).
    pub lesson: Text,
    /// The lab's steps: socket calls, kernel probes and notes, top to bottom.
    pub run: fn(&Trace) -> LabResult,
    /// What the lab offers in peer mode (`netlab serve`, `netlab connect`): the `PEER` its
    /// folder's peer.rs declares, if it has one.
    pub peer: Option<&'static PeerMode>,
    /// The course-style programs in the lab's folder (server.py, client.py), as (file name,
    /// text), for `netlab show LAB --code`: the student's side of peer mode.
    pub code: &'static [(&'static str, &'static str)],
}

impl Lab {
    /// The number in front of the id: 7 for `07-sticky-packet`.
    pub fn number(&self) -> u32 {
        self.id
            .split('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// The id without its number: `sticky-packet`.
    pub fn name(&self) -> &'static str {
        self.id
            .split_once('-')
            .map(|(_, name)| name)
            .unwrap_or(self.id)
    }
}

/// All labs, in number order.
pub fn all() -> &'static [&'static Lab] {
    crate::catalog::ALL
}

/// Finds a lab by id (`07-sticky-packet`), number (`07`, `7`) or name (`sticky-packet`).
pub fn find(query: &str) -> Result<&'static Lab, LookupError> {
    let query = query.trim();
    let by_number = query.parse::<u32>().ok();
    all()
        .iter()
        .copied()
        .find(|lab| lab.id == query || lab.name() == query || Some(lab.number()) == by_number)
        .ok_or_else(|| LookupError {
            query: shorten(query, SHOWN_QUERY),
            suggestions: closest(query),
        })
}

/// The most characters of a wrong LAB argument an error message repeats.
const SHOWN_QUERY: usize = 40;

/// `text`, cut to `max` characters with an ellipsis when longer.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A LAB argument that names no lab, with the closest ids.
#[derive(Debug, thiserror::Error)]
#[error("no lab called '{query}'; {}", hint(suggestions))]
pub struct LookupError {
    /// The argument as the message shows it (cut when long).
    pub query: String,
    pub suggestions: Vec<&'static str>,
}

fn hint(suggestions: &[&str]) -> String {
    match suggestions {
        [] => "`netlab list` shows the labs".to_string(),
        ids => format!("did you mean {}?", ids.join(" or ")),
    }
}

/// Up to three ids whose id, name or a word of the name is closest to `query`, best first
/// (`phone-cal` finds 01-phone-call, `stiky` finds 07-sticky-packet). A query far longer than
/// any id resembles none, and is not compared at all.
fn closest(query: &str) -> Vec<&'static str> {
    if query.len() > 2 * SHOWN_QUERY {
        return Vec::new();
    }
    let query = query.to_ascii_lowercase();
    let score = |lab: &Lab| {
        std::iter::once(lab.id)
            .chain(std::iter::once(lab.name()))
            .chain(lab.name().split('-'))
            .map(|candidate| strsim::normalized_damerau_levenshtein(&query, candidate))
            .fold(0.0, f64::max)
    };
    let mut scored: Vec<(f64, &'static str)> = all()
        .iter()
        .map(|lab| (score(lab), lab.id))
        .filter(|(s, _)| *s >= 0.6)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(3).map(|(_, id)| id).collect()
}

/// Output format of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// The renderer for a format: plain or coloured text, or JSON lines.
pub fn renderer<'a>(
    format: Format,
    lang: Lang,
    color: bool,
    out: Box<dyn Write + 'a>,
) -> Box<dyn Sink + 'a> {
    match format {
        Format::Text => Box::new(TextRenderer::new(out, lang, color)),
        Format::Json => Box::new(JsonRenderer::new(out, lang)),
    }
}

/// Why a run did not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The lab stopped: a call failed unexpectedly or the kernel behaved differently.
    #[error("lab {0} stopped: {1}")]
    Lab(&'static str, LabError),
    /// Writing the trace failed (e.g. a closed pipe).
    #[error("could not write the trace: {0}")]
    Output(#[source] io::Error),
}

/// Runs one lab into any sink (the CLI adds pacing around the renderer).
pub fn run_with_sink(
    lab: &'static Lab,
    options: TraceOptions,
    sink: Box<dyn Sink>,
) -> Result<(), RunError> {
    let trace = Trace::new(lab.id, options, sink);
    trace.start(&lab.title).map_err(RunError::Output)?;
    let outcome = (lab.run)(&trace);
    trace.finish().map_err(RunError::Output)?;
    outcome.map_err(|e| RunError::Lab(lab.id, e))
}

/// A finished run: its events carry both languages, so one run renders as English or Chinese
/// text and as JSON.
pub struct Recording {
    pub id: &'static str,
    pub title: Text,
    pub events: Vec<Event>,
}

impl Recording {
    /// The run as a format would print it (plain text unless `color`).
    pub fn render(&self, format: Format, lang: Lang, color: bool) -> String {
        let mut bytes = Vec::new();
        let mut sink = renderer(format, lang, color, Box::new(&mut bytes));
        let mut replay = || -> io::Result<()> {
            sink.lab_start(self.id, &self.title)?;
            for event in &self.events {
                sink.event(event)?;
            }
            sink.lab_end(self.id)
        };
        replay().expect("writing into memory cannot fail");
        drop(sink);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Runs a lab and keeps its events.
pub fn record(lab: &'static Lab, options: TraceOptions) -> Result<Recording, RunError> {
    let events = Rc::new(RefCell::new(Vec::new()));
    run_with_sink(lab, options, Box::new(Keep(events.clone())))?;
    let events = events.take();
    Ok(Recording {
        id: lab.id,
        title: lab.title.clone(),
        events,
    })
}

/// A sink that keeps every event.
struct Keep(Rc<RefCell<Vec<Event>>>);

impl Sink for Keep {
    fn lab_start(&mut self, _id: &str, _title: &Text) -> io::Result<()> {
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.0.borrow_mut().push(event.clone());
        Ok(())
    }

    fn lab_end(&mut self, _id: &str) -> io::Result<()> {
        Ok(())
    }
}

/// A lab's default output as a string: what snapshots hold and `verify` compares.
pub fn render_to_string(lab: &'static Lab, lang: Lang, format: Format) -> Result<String, RunError> {
    render(lab, TraceOptions { lang, raw: false }, format)
}

/// A lab's output with any options, as a string (plain text, never coloured).
pub fn render(
    lab: &'static Lab,
    options: TraceOptions,
    format: Format,
) -> Result<String, RunError> {
    Ok(record(lab, options)?.render(format, options.lang, false))
}

/// A lab's events as the JSON objects `--format json` prints: what tests assert on.
pub fn json_events(
    lab: &'static Lab,
    options: TraceOptions,
) -> Result<Vec<serde_json::Value>, RunError> {
    let json = render(lab, options, Format::Json)?;
    Ok(json
        .lines()
        .map(|line| serde_json::from_str(line).expect("the JSON renderer writes valid JSON lines"))
        .collect())
}
