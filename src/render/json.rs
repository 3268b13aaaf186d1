//! JSON lines for programs: one object per event.

use std::io::{self, Write};

use super::Sink;
use crate::event::{Event, Lang, Outcome, Text};

/// One JSON object per event per line.
pub struct JsonRenderer<W: Write> {
    out: W,
    lang: Lang,
    lab: String,
}

impl<W: Write> JsonRenderer<W> {
    pub fn new(out: W, lang: Lang) -> Self {
        JsonRenderer {
            out,
            lang,
            lab: String::new(),
        }
    }
}

/// The JSON form of one event (also used by tests that assert on outcomes). For a call that
/// raised, `result` is the exception line exactly as CPython prints it, `exception` its class
/// (`ConnectionResetError`, `MemoryError`), `error` the errno's name (`ECONNRESET`, or the
/// class for an exception without errno) and `errno` its number (null without one).
/// `diagnosis` is null except on the lines where peer mode (`netlab serve`, `netlab connect`)
/// says what the program outside netlab did wrong: a stable code such as `short_reply`.
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
        "diagnosis": event.diagnosis,
    })
}

impl<W: Write> Sink for JsonRenderer<W> {
    fn lab_start(&mut self, id: &str, _title: &Text) -> io::Result<()> {
        self.lab = id.to_string();
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        writeln!(self.out, "{}", event_json(&self.lab, event, self.lang))?;
        self.out.flush()
    }

    fn lab_end(&mut self, _id: &str) -> io::Result<()> {
        self.out.flush()
    }
}
