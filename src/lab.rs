//! What a lab is, how the engine finds one by id, number or name, and how it runs one.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use crate::event::{Event, Lang, Text};
use crate::peer::PeerMode;
use crate::phrases;
use crate::recorder::{self, Gate, Stop};
use crate::render::{
    HtmlRenderer, JsonRenderer, LabEnd, LadderRenderer, Sink, TextRenderer, DEFAULT_WIDTH,
};
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

/// Finds a lab, case-insensitively, by id (`07-sticky-packet`), number (`07`, `7`), name
/// (`sticky-packet`), or by what only one lab starts with: the start of its id (`07-sticky`)
/// or of its name or of a word of its name (`sticky`, `udp-e`). A query that fits several
/// labs names them all; a number no lab has names the range.
pub fn find(query: &str) -> Result<&'static Lab, LookupError> {
    let trimmed = query.trim();
    let shown = shorten(trimmed, SHOWN_QUERY);
    let query = trimmed.to_lowercase();
    if !query.is_empty() && query.bytes().all(|b| b.is_ascii_digit()) {
        let number = query.parse::<u32>().ok();
        return all()
            .iter()
            .copied()
            .find(|lab| Some(lab.number()) == number)
            .ok_or_else(|| LookupError::NoNumber {
                number: shown,
                first: all().first().map_or(0, |lab| lab.number()),
                last: all().last().map_or(0, |lab| lab.number()),
            });
    }
    if let Some(lab) = all()
        .iter()
        .copied()
        .find(|lab| lab.id == query || lab.name() == query)
    {
        return Ok(lab);
    }
    let matches: Vec<&'static Lab> = if query.is_empty() {
        Vec::new()
    } else {
        all()
            .iter()
            .copied()
            .filter(|lab| lab.starts_with(&query))
            .collect()
    };
    match matches[..] {
        [lab] => Ok(lab),
        [] => Err(LookupError::Unknown {
            suggestions: closest(&query),
            query: shown,
        }),
        _ => Err(LookupError::Ambiguous {
            query: shown,
            matches: matches.iter().map(|lab| lab.id).collect(),
        }),
    }
}

impl Lab {
    /// Whether a lower-case query is the start of this lab's id (`07-sticky`, also written
    /// `7-sticky`), of its name (`udp-e`) or of a word of its name (`sticky`).
    fn starts_with(&self, query: &str) -> bool {
        let by_number = query.split_once('-').is_some_and(|(number, rest)| {
            number.parse::<u32>().ok() == Some(self.number()) && self.name().starts_with(rest)
        });
        by_number
            || self.id.starts_with(query)
            || self.name().starts_with(query)
            || self.name().split('-').any(|word| word.starts_with(query))
    }
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

/// A LAB argument that names no single lab. Each case keeps what its message needs, so
/// the command line can say it in the user's language ([`LookupError::message`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Nothing fits; the closest ids, best first (maybe none).
    #[error("{}", self.message(Lang::En))]
    Unknown {
        /// The argument as the message shows it (cut when long).
        query: String,
        suggestions: Vec<&'static str>,
    },
    /// Several labs fit: every one of them.
    #[error("{}", self.message(Lang::En))]
    Ambiguous {
        query: String,
        matches: Vec<&'static str>,
    },
    /// A number that no lab has, and the range of numbers that exist.
    #[error("{}", self.message(Lang::En))]
    NoNumber {
        number: String,
        first: u32,
        last: u32,
    },
}

impl LookupError {
    /// The one-line message, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            LookupError::Unknown { query, suggestions } if suggestions.is_empty() => {
                phrases::NO_LAB.fill(lang, &[("query", query)])
            }
            LookupError::Unknown { query, suggestions } => {
                let ids = suggestions.join(phrases::OR.get(lang));
                phrases::NO_LAB_SUGGEST.fill(lang, &[("query", query), ("ids", &ids)])
            }
            LookupError::Ambiguous { query, matches } => {
                let ids = matches.join(phrases::LIST_SEPARATOR.get(lang));
                phrases::AMBIGUOUS_LAB.fill(
                    lang,
                    &[("query", query), ("count", &matches.len()), ("ids", &ids)],
                )
            }
            LookupError::NoNumber {
                number,
                first,
                last,
            } => phrases::NO_LAB_NUMBER.fill(
                lang,
                &[
                    ("number", number),
                    ("first", &format!("{first:02}")),
                    ("last", &format!("{last:02}")),
                ],
            ),
        }
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

/// The lab after this one, None for the last.
pub fn next(lab: &Lab) -> Option<&'static Lab> {
    let all = all();
    let at = all.iter().position(|other| other.id == lab.id)?;
    all.get(at + 1).copied()
}

/// Output format of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    /// A ladder diagram in text.
    Ladder,
    /// A web page with the ladder diagram as SVG.
    Html,
}

/// The renderer for a format: plain or coloured text (wrapped to [`DEFAULT_WIDTH`]), or JSON
/// lines.
pub fn renderer<'a>(
    format: Format,
    lang: Lang,
    color: bool,
    out: Box<dyn Write + 'a>,
) -> Box<dyn Sink + 'a> {
    renderer_with_width(format, lang, color, DEFAULT_WIDTH, out)
}

/// [`renderer`] with text wrapped to `width` columns (a terminal's width, `--width`).
pub fn renderer_with_width<'a>(
    format: Format,
    lang: Lang,
    color: bool,
    width: usize,
    out: Box<dyn Write + 'a>,
) -> Box<dyn Sink + 'a> {
    match format {
        Format::Text => Box::new(TextRenderer::new(out, lang, color).with_width(width)),
        Format::Json => Box::new(JsonRenderer::new(out, lang)),
        Format::Ladder => Box::new(LadderRenderer::new(out, lang, width)),
        Format::Html => Box::new(HtmlRenderer::new(out, lang)),
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
    run_live(lab, options, sink, None).map(|_| ())
}

/// How a live run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The lab ran to its end.
    Completed,
    /// Its gate stopped it (`q`, Esc, Ctrl-C at the prompt); everything it made is gone.
    Stopped(Stop),
}

/// Runs one lab that waits at `gate` before each call or probe (`--step`, `--pace`); without
/// a gate, as [`run_with_sink`].
pub fn run_live(
    lab: &'static Lab,
    options: TraceOptions,
    sink: Box<dyn Sink>,
    gate: Option<Box<dyn Gate>>,
) -> Result<Ended, RunError> {
    let trace = Trace::new(lab.id, options, sink, gate)
        .map_err(|err| RunError::Lab(lab.id, LabError::Call(err)))?;
    trace.start(&lab.title).map_err(RunError::Output)?;
    let outcome = recorder::until_stopped(|| (lab.run)(&trace));
    let stopped = match &outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(Stop::Quit) => Some("stopped by the user (q)".to_string()),
        Err(Stop::Interrupted) => Some("stopped by the user (Ctrl-C)".to_string()),
    };
    let end = LabEnd::of_run(lab.id, stopped, next(lab).map(|next| next.id));
    trace.finish(&end).map_err(RunError::Output)?;
    match outcome {
        Ok(Ok(())) => Ok(Ended::Completed),
        Ok(Err(e)) => Err(RunError::Lab(lab.id, e)),
        Err(stop) => Ok(Ended::Stopped(stop)),
    }
}

/// A finished run: its events carry both languages, so one run renders as English or Chinese
/// text and as JSON.
pub struct Recording {
    pub id: &'static str,
    pub title: Text,
    pub events: Vec<Event>,
    /// How the run ended and what comes next.
    pub end: LabEnd,
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
            sink.lab_end(&self.end)
        };
        replay().expect("writing into memory cannot fail");
        drop(sink);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Runs a lab and keeps its events.
pub fn record(lab: &'static Lab, options: TraceOptions) -> Result<Recording, RunError> {
    let kept = Rc::new(RefCell::new(Kept::default()));
    run_with_sink(lab, options, Box::new(Keep(kept.clone())))?;
    let kept = kept.take();
    Ok(Recording {
        id: lab.id,
        title: lab.title.clone(),
        events: kept.events,
        end: kept
            .end
            .unwrap_or(LabEnd::of_run(lab.id, None, next(lab).map(|next| next.id))),
    })
}

/// What [`Keep`] kept of a run.
#[derive(Default)]
struct Kept {
    events: Vec<Event>,
    end: Option<LabEnd>,
}

/// A sink that keeps every event and how the run ended.
struct Keep(Rc<RefCell<Kept>>);

impl Sink for Keep {
    fn lab_start(&mut self, _id: &str, _title: &Text) -> io::Result<()> {
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.0.borrow_mut().events.push(event.clone());
        Ok(())
    }

    fn lab_end(&mut self, end: &LabEnd) -> io::Result<()> {
        self.0.borrow_mut().end = Some(end.clone());
        Ok(())
    }
}

/// A lab's default output as a string: what snapshots hold and `verify` compares.
pub fn render_to_string(lab: &'static Lab, lang: Lang, format: Format) -> Result<String, RunError> {
    render(
        lab,
        TraceOptions {
            lang,
            ..TraceOptions::default()
        },
        format,
    )
}

/// A lab's output with any options, as a string (plain text, never coloured).
pub fn render(
    lab: &'static Lab,
    options: TraceOptions,
    format: Format,
) -> Result<String, RunError> {
    Ok(record(lab, options)?.render(format, options.lang, false))
}

/// A lab's event records as `--format json` prints them (without `lab_start` and
/// `lab_end`): what tests assert on.
pub fn json_events(
    lab: &'static Lab,
    options: TraceOptions,
) -> Result<Vec<serde_json::Value>, RunError> {
    let json = render(lab, options, Format::Json)?;
    Ok(json
        .lines()
        .map(|line| serde_json::from_str(line).expect("the JSON renderer writes valid JSON lines"))
        .filter(|record: &serde_json::Value| record["record"] == "event")
        .collect())
}
