//! JSON lines for programs: a `lab_start` record, one record per event, a `lab_end` record.
//! The shape is versioned ([`JSON_VERSION`]) and described by docs/trace.schema.json; the
//! README's "JSON lines" section explains it. Text in the chosen language appears only in
//! titles, section headings and notes: every other field is Python text, a stable name or a
//! number, the same whatever `--lang` says.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{LabEnd, Sink};
use crate::event::{ByteFacts, Count, Event, Kind, Lang, Outcome, Text};

/// The version of the JSON lines' shape, in every `lab_start` record. It changes when a
/// field changes meaning or goes away; new fields may appear within a version.
pub const JSON_VERSION: u32 = 1;

/// One JSON object per line: `lab_start`, the events, `lab_end`.
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

    fn write(&mut self, record: &Value) -> io::Result<()> {
        writeln!(self.out, "{record}")?;
        self.out.flush()
    }
}

/// The JSON record of one event (also what tests assert on).
pub fn event_json(lab: &str, event: &Event, lang: Lang) -> Value {
    let facts = &event.facts;
    let mut record = Map::new();
    let mut put = |key: &str, value: Value| {
        record.insert(key.to_string(), value);
    };
    put("record", json!("event"));
    put("lab", json!(lab));
    put("seq", json!(event.seq));
    put("kind", json!(event.kind.name()));
    put("side", json!(event.side));
    put(
        "section",
        json!(event.section.as_ref().map(|s| s.get(lang))),
    );
    put("call", json!(facts.python));
    put("outcome", json!(outcome_name(&event.outcome)));
    let returned = matches!(event.outcome, Outcome::Returned(_));
    put("result", json!(facts.value.as_ref().filter(|_| returned)));
    put("error", error_json(&event.outcome));
    if let Some(line) = facts.continues {
        put("continues", json!(line));
    }
    if let Some(bytes) = &facts.bytes {
        put("bytes", bytes_json(bytes));
    }
    if let Some(port) = &facts.port {
        put("port", json!(port));
    }
    if let Some(peer) = &facts.peer {
        put("peer", json!(peer));
    }
    if let Some(probe) = &facts.probe {
        put(
            "probe",
            json!({ "source": probe.source, "socket": probe.socket }),
        );
    }
    if let Some(state) = facts.tcp_state {
        put("tcp_state", json!(state));
    }
    if !facts.queue.is_empty() {
        let queue: Map<String, Value> = facts
            .queue
            .iter()
            .map(|(name, count)| (name.to_string(), count_json(count)))
            .collect();
        put("queue", Value::Object(queue));
    }
    if let Some((number, name)) = facts.errno_value {
        put(
            "returned_errno",
            json!({ "errno": number, "errno_name": name }),
        );
    }
    if let Some((name, value)) = &facts.setting {
        put(
            "setting",
            json!({ "name": name, "value": count_json(value) }),
        );
    }
    if let Some((path, kind)) = &facts.file {
        put("file", json!({ "path": path, "type": kind }));
    }
    if let Some((returncode, stdout, stderr)) = facts.process {
        put(
            "process",
            json!({ "returncode": returncode, "stdout_bytes": stdout, "stderr_bytes": stderr }),
        );
    }
    if let Some(wire) = &facts.wire {
        // A `wire` line (`--wire` only): the packet's facts, see `wire::notation::Wire::json`.
        put("wire", wire.clone());
    }
    if let Some(code) = facts.diagnosis {
        // Peer mode only: what the program outside netlab did wrong, as a stable code.
        put("diagnosis", json!(code));
    }
    put("notes", json!(notes(event, lang)));
    Value::Object(record)
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Returned(_) => "returned",
        Outcome::Raised(_) | Outcome::RaisedPython(_) => "raised",
        Outcome::Blocked(_) => "blocked",
    }
}

/// The exception a call raised: its class, its errno (number and name) when it is an
/// OSError, and the line CPython prints.
fn error_json(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Raised(errno) => json!({
            "exception": errno.exception,
            "errno": errno.number,
            "errno_name": errno.symbol,
            "python": errno.python(),
        }),
        Outcome::RaisedPython(exception) => json!({
            "exception": exception.class,
            "errno": null,
            "errno_name": null,
            "python": exception.python(),
        }),
        Outcome::Returned(_) | Outcome::Blocked(_) => Value::Null,
    }
}

fn count_json(count: &Count) -> Value {
    match count {
        Count::Number(n) => json!(n),
        Count::Named(name) => json!(name),
    }
}

fn bytes_json(bytes: &ByteFacts) -> Value {
    let mut object = Map::new();
    object.insert("count".into(), count_json(&bytes.count));
    if let Some(data) = &bytes.data {
        object.insert("data".into(), json!(data));
    }
    if let Some(of) = bytes.of {
        object.insert("of".into(), json!(of));
    }
    Value::Object(object)
}

/// The event's notes as paragraphs, each one line. A summary line (the lab's own words
/// about the lines above) comes first, as a paragraph of its own.
fn notes(event: &Event, lang: Lang) -> Vec<String> {
    let mut paragraphs = Vec::new();
    if event.kind == Kind::Summary {
        let result = match &event.outcome {
            Outcome::Returned(text) | Outcome::Blocked(text) => text.get(lang),
            Outcome::Raised(_) | Outcome::RaisedPython(_) => "",
        };
        let separator = if lang == Lang::Zh { "：" } else { ": " };
        paragraphs.push(format!("{}{separator}{result}", event.call.get(lang)));
    }
    for note in &event.notes {
        paragraphs.extend(as_paragraphs(note.get(lang)));
    }
    paragraphs
}

/// Text as paragraphs without line breaks: a blank line separates paragraphs; the lines of
/// one paragraph are joined with a space, or with nothing between two Chinese characters.
pub fn as_paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        let wide_join =
            current.chars().last().is_some_and(is_wide) && line.chars().next().is_some_and(is_wide);
        if !current.is_empty() && !wide_join {
            current.push(' ');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

/// A character that Chinese text runs together without spaces: CJK ideographs and the
/// full-width punctuation around them.
fn is_wide(c: char) -> bool {
    unicode_width::UnicodeWidthChar::width(c) == Some(2)
}

impl<W: Write> Sink for JsonRenderer<W> {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        self.lab = id.to_string();
        let record = json!({
            "record": "lab_start",
            "version": JSON_VERSION,
            "lab": id,
            "lang": self.lang.code(),
            "title": title.get(self.lang),
        });
        self.write(&record)
    }

    fn live(&mut self, flag: &str) -> io::Result<()> {
        self.paced = Some(flag.to_string());
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        // The packets the event put on the wire follow it, each a record of its own.
        for event in std::iter::once(event).chain(&event.packets) {
            let mut record = event_json(&self.lab, event, self.lang);
            if let Some(flag) = &self.paced {
                // Only a live run has the field: its timing is a person's, not the trace's.
                record["paced"] = flag.as_str().into();
            }
            self.write(&record)?;
        }
        Ok(())
    }

    fn lab_end(&mut self, end: &LabEnd) -> io::Result<()> {
        // A peer session names no next lab: it was not a step of the course's order.
        let next = end.next.filter(|_| end.session.is_none());
        let mut record = json!({
            "record": "lab_end",
            "lab": end.id,
            "outcome": if end.completed() { "completed" } else { "stopped" },
            "reason": end.stopped,
            "next": {
                "lab": next,
                "run": next.map(|next| format!("netlab run {next}")),
                "show": format!("netlab show {}", end.id),
            },
        });
        if let Some(session) = &end.session {
            record["session"] = json!({
                "command": session.command,
                "conversations": session.conversations,
                "diagnoses": session.diagnoses,
                "interrupted": session.interrupted,
            });
        }
        if let Some(flag) = &self.paced {
            record["paced"] = flag.as_str().into();
        }
        self.write(&record)
    }
}

#[cfg(test)]
mod tests {
    use super::as_paragraphs;

    #[test]
    fn notes_become_paragraphs_without_line_breaks() {
        assert_eq!(
            as_paragraphs("one line\n  and the next\n\na second paragraph"),
            ["one line and the next", "a second paragraph"]
        );
        assert_eq!(
            as_paragraphs("内核把数据\n放进队列。\nrecv(1024)\n读出"),
            ["内核把数据放进队列。 recv(1024) 读出"]
        );
    }
}
