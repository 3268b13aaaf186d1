//! JSON lines for programs: one object per event.

use std::io::{self, Write};

use super::Sink;
use crate::event::{Event, Lang, Outcome, Text};

/// One JSON object per event per line.
pub struct JsonRenderer<W: Write> {
    out: W,
    lang: Lang,
    lab: String,
    /// `--step` or `--pace N` when the run is live: every event then carries it as `paced`.
    paced: Option<String>,
}

impl<W: Write> JsonRenderer<W> {
    pub fn new(out: W, lang: Lang) -> Self {
        JsonRenderer {
            out,
            lang,
            lab: String::new(),
            paced: None,
        }
    }
}

/// The JSON form of one event (also used by tests that assert on outcomes). For a call that
/// raised, `result` is the exception line exactly as CPython prints it, `exception` its class
/// (`ConnectionResetError`, `MemoryError`), `error` the errno's name (`ECONNRESET`, or the
/// class for an exception without errno) and `errno` its number (null without one).
pub fn event_json(lab: &str, event: &Event, lang: Lang) -> serde_json::Value {
    let (result, errno, blocked) = match &event.outcome {
        Outcome::Returned(text) => (text.get(lang).to_string(), None, false),
        Outcome::Raised(e) => (e.python(), Some(e.number), false),
        Outcome::RaisedPython(e) => (e.python(), None, false),
        Outcome::Blocked(text) => (text.get(lang).to_string(), None, true),
    };
    let notes: Vec<&str> = event.notes.iter().map(|n| n.get(lang)).collect();
    serde_json::json!({
        "lab": lab,
        "seq": event.seq,
        "side": event.side,
        "kind": event.kind.name(),
        "section": event.section.as_ref().map(|s| s.get(lang)),
        "call": event.call.get(lang),
        "result": result,
        "error": event.error(),
        "exception": event.outcome.exception_class(),
        "errno": errno,
        "blocked": blocked,
        "note": if notes.is_empty() { None } else { Some(notes.join("\n")) },
    })
}

impl<W: Write> Sink for JsonRenderer<W> {
    fn lab_start(&mut self, id: &str, _title: &Text) -> io::Result<()> {
        self.lab = id.to_string();
        Ok(())
    }

    fn live(&mut self, flag: &str) -> io::Result<()> {
        self.paced = Some(flag.to_string());
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let mut json = event_json(&self.lab, event, self.lang);
        if let Some(flag) = &self.paced {
            // Only a live run has the field: its timing is a person's, not the trace's.
            json["paced"] = flag.as_str().into();
        }
        writeln!(self.out, "{json}")?;
        self.out.flush()
    }

    fn lab_end(&mut self, _id: &str) -> io::Result<()> {
        self.out.flush()
    }
}
