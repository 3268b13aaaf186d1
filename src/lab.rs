//! What a lab is, how the engine finds one by id, number or name, and how it runs one.

use std::io::{self, Write};

use crate::event::{Lang, Text};
use crate::render::{JsonRenderer, Sink, TextRenderer};
use crate::trace::{LabResult, Trace, TraceOptions};

/// One lab: a folder under `labs/`, compiled in by the build script.
pub struct Lab {
    /// `07-sticky-packet`: the folder name.
    pub id: &'static str,
    /// One line for `netlab list` and the trace header.
    pub title: Text,
    /// The lesson text `netlab show` prints (the folder's lesson.en.md / lesson.zh.md).
    pub lesson: Text,
    /// The lab's steps: socket calls, kernel probes and notes, top to bottom.
    pub run: fn(&Trace) -> LabResult,
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
    crate::labs::ALL
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
            query: query.to_string(),
            suggestions: closest(query),
        })
}

/// A LAB argument that names no lab, with the closest ids.
#[derive(Debug)]
pub struct LookupError {
    pub query: String,
    pub suggestions: Vec<&'static str>,
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no lab called '{}'", self.query)?;
        match self.suggestions.as_slice() {
            [] => write!(f, "; `netlab list` shows the labs"),
            ids => write!(f, "; did you mean {}?", ids.join(" or ")),
        }
    }
}

impl std::error::Error for LookupError {}

/// Up to three ids whose id, name or a word of the name is closest to `query`, best first
/// (`phone-cal` finds 01-phone-call, `stiky` finds 07-sticky-packet).
fn closest(query: &str) -> Vec<&'static str> {
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
pub fn renderer(format: Format, lang: Lang, color: bool, out: Box<dyn Write>) -> Box<dyn Sink> {
    match format {
        Format::Text => Box::new(TextRenderer::new(out, lang, color)),
        Format::Json => Box::new(JsonRenderer::new(out, lang)),
    }
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
    outcome.map_err(|e| RunError::Lab(lab.id, e.0))
}

/// Why a run did not complete.
#[derive(Debug)]
pub enum RunError {
    /// The lab stopped: a call failed unexpectedly or the kernel behaved differently.
    Lab(&'static str, String),
    /// Writing the trace failed (e.g. a closed pipe).
    Output(io::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Lab(id, why) => write!(f, "lab {id} stopped: {why}"),
            RunError::Output(err) => write!(f, "could not write the trace: {err}"),
        }
    }
}

impl std::error::Error for RunError {}

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
    let buffer = SharedBuffer::default();
    let sink = renderer(format, options.lang, false, Box::new(buffer.clone()));
    run_with_sink(lab, options, sink)?;
    let bytes = buffer.0.borrow().clone();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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

/// A Vec<u8> writer that stays readable after being handed to a renderer.
#[derive(Clone, Default)]
pub struct SharedBuffer(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
