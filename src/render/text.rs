//! The text trace for people: one line per event, notes under it, coloured only when asked.

use std::io::{self, Write};

use colored::{Color, ColoredString, Colorize};

use super::Sink;
use crate::event::{Event, Kind, Lang, Outcome, Text};

/// Width of the side column: `client-2` is the longest side name labs use.
const SIDE_WIDTH: usize = 8;
/// Column where notes start: after `NNN ` and the side column.
const NOTE_INDENT: usize = 4 + SIDE_WIDTH + 2;

/// Plain or coloured text. Colour is this renderer's own flag, so a plain trace (snapshots,
/// `verify`, pipes) never depends on global state or on where stdout points.
pub struct TextRenderer<W: Write> {
    out: W,
    lang: Lang,
    color: bool,
}

impl<W: Write> TextRenderer<W> {
    /// With `color`, the caller must also allow colour globally
    /// (`colored::control::set_override(true)`).
    pub fn new(out: W, lang: Lang, color: bool) -> Self {
        TextRenderer { out, lang, color }
    }

    fn paint(&self, text: &str, style: impl FnOnce(&str) -> ColoredString) -> String {
        if self.color {
            style(text).to_string()
        } else {
            text.to_string()
        }
    }

    fn side_color(side: &str) -> Color {
        match side {
            "kernel" => Color::Magenta,
            "wire" => Color::Blue,
            "client" => Color::Green,
            s if s.starts_with("server") => Color::Cyan,
            _ => Color::Yellow,
        }
    }
}

impl<W: Write> Sink for TextRenderer<W> {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        let line = format!("netlab {id}: {}", title.get(self.lang));
        let line = self.paint(&line, |s| s.bold());
        writeln!(self.out, "{line}")?;
        self.out.flush()
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let lang = self.lang;
        if let Some(section) = &event.section {
            let heading = self.paint(&format!("-- {} --", section.get(lang)), |s| s.bold());
            writeln!(self.out, "\n{heading}")?;
        }
        let color = Self::side_color(&event.side);
        let side = self.paint(&format!("{:<SIDE_WIDTH$}", event.side), |s| s.color(color));
        let call = match event.kind {
            Kind::Call | Kind::Summary | Kind::Wire => event.call.get(lang).to_string(),
            Kind::Kernel => self.paint(event.call.get(lang), |s| s.italic()),
        };
        let result = match &event.outcome {
            Outcome::Returned(text) if text.is_empty() => String::new(),
            Outcome::Returned(text) => format!("  -> {}", text.get(lang)),
            Outcome::Raised(_) | Outcome::RaisedPython(_) => {
                let line = event.outcome.exception_line().unwrap_or_default();
                format!("  -> {}", self.paint(&line, |s| s.red().bold()))
            }
            Outcome::Blocked(text) => {
                format!("  -> {}", self.paint(text.get(lang), |s| s.yellow().bold()))
            }
        };
        writeln!(self.out, "{:>3} {side}  {call}{result}", event.seq)?;
        // The packets the event put on the wire come before the notes that explain them.
        for packet in &event.packets {
            self.event(packet)?;
        }
        for note in &event.notes {
            for line in note.get(lang).lines() {
                let line = self.paint(&format!("# {line}"), |s| s.dimmed());
                writeln!(self.out, "{:NOTE_INDENT$}{line}", "")?;
            }
        }
        self.out.flush()
    }

    fn lab_end(&mut self, _id: &str) -> io::Result<()> {
        self.out.flush()
    }
}
