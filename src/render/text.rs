//! The text trace for people: one line per event, notes under it, coloured only when asked.

use std::io::{self, Write};

use colored::{Color, ColoredString, Colorize};

use super::wrap::{columns, lay_out, Style};
use super::{LabEnd, Sink};
use crate::event::{Event, Kind, Lang, Outcome, Text};
use crate::phrases;

/// Width of the side column: `client-2` is the longest side name labs use.
const SIDE_WIDTH: usize = 8;
/// Column where calls and notes start: after `NNN ` and the side column.
const NOTE_INDENT: usize = 4 + SIDE_WIDTH + 2;

/// The width text is wrapped to when output is not a terminal (snapshots, pipes, files), so
/// that it is the same everywhere.
pub const DEFAULT_WIDTH: usize = 80;

/// Plain or coloured text, wrapped to a width. Colour is this renderer's own flag, so a plain
/// trace (snapshots, `verify`, pipes) never depends on global state or on where stdout points.
pub struct TextRenderer<W: Write> {
    out: W,
    lang: Lang,
    color: bool,
    width: usize,
}

impl<W: Write> TextRenderer<W> {
    /// With `color`, the caller must also allow colour globally
    /// (`colored::control::set_override(true)`). Wraps to [`DEFAULT_WIDTH`].
    pub fn new(out: W, lang: Lang, color: bool) -> Self {
        TextRenderer {
            out,
            lang,
            color,
            width: DEFAULT_WIDTH,
        }
    }

    /// Wraps to `width` columns instead (a terminal's width, `--width`).
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    fn paint(&self, text: &str, style: impl FnOnce(&str) -> ColoredString) -> String {
        if self.color && !text.is_empty() {
            style(text).to_string()
        } else {
            text.to_string()
        }
    }

    /// Paints what follows a line's indentation.
    fn paint_line(&self, line: &str, style: impl FnOnce(&str) -> ColoredString) -> String {
        let body = line.trim_start_matches(' ');
        let indent = &line[..line.len() - body.len()];
        format!("{indent}{}", self.paint(body, style))
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

    /// A line of prose from column 0 (a title, a heading), continued at `indent`.
    fn heading(&mut self, text: &str, indent: usize) -> io::Result<()> {
        for line in lay_out(text, Style::Prose, 0, indent, self.width) {
            let line = self.paint_line(&line, |s| s.bold());
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// The event's line: its number, side, call and result, broken where it is too long.
    fn event_line(&mut self, event: &Event) -> io::Result<()> {
        let lang = self.lang;
        let color = Self::side_color(&event.side);
        let side = self.paint(&format!("{:<SIDE_WIDTH$}", event.side), |s| s.color(color));
        let start = 4 + SIDE_WIDTH.max(columns(&event.side)) + 2;
        let call = event.call.get(lang);
        let call_lines = match event.kind {
            Kind::Call => lay_out(call, Style::Code, start, start, self.width),
            Kind::Kernel | Kind::Summary | Kind::Wire => {
                lay_out(call, Style::Prose, start, start + 2, self.width)
            }
        };
        let paint_call = |this: &Self, line: &str| match event.kind {
            Kind::Call | Kind::Summary | Kind::Wire => line.to_string(),
            Kind::Kernel => this.paint_line(line, |s| s.italic()),
        };
        let result = match &event.outcome {
            Outcome::Returned(text) if text.is_empty() => None,
            Outcome::Returned(text) => Some((text.get(lang).to_string(), Paint::Plain)),
            Outcome::Raised(_) | Outcome::RaisedPython(_) => {
                let line = event.outcome.exception_line().unwrap_or_default();
                Some((line, Paint::Raised))
            }
            Outcome::Blocked(text) => Some((text.get(lang).to_string(), Paint::Blocked)),
        };
        let paint_result = |this: &Self, line: &str, paint: Paint| match paint {
            Paint::Plain => line.to_string(),
            Paint::Raised => this.paint_line(line, |s| s.red().bold()),
            Paint::Blocked => this.paint_line(line, |s| s.yellow().bold()),
        };
        let first = paint_call(self, &call_lines[0]);
        let one_line = call_lines.len() == 1
            && result.as_ref().map_or(true, |(text, _)| {
                start + columns(call) + "  -> ".len() + columns(text) <= self.width
            });
        if one_line {
            let tail = match &result {
                Some((text, paint)) => format!("  -> {}", paint_result(self, text, *paint)),
                None => String::new(),
            };
            return writeln!(self.out, "{:>3} {side}  {first}{tail}", event.seq);
        }
        writeln!(self.out, "{:>3} {side}  {first}", event.seq)?;
        for line in &call_lines[1..] {
            writeln!(self.out, "{}", paint_call(self, line))?;
        }
        if let Some((text, paint)) = result {
            let arrow = start + 2;
            let lines = lay_out(&text, Style::Prose, arrow + 3, arrow + 3, self.width);
            let first = paint_result(self, &lines[0], paint);
            writeln!(self.out, "{:arrow$}-> {first}", "")?;
            for line in &lines[1..] {
                writeln!(self.out, "{}", paint_result(self, line, paint))?;
            }
        }
        Ok(())
    }
}

/// How a result is coloured.
#[derive(Clone, Copy)]
enum Paint {
    Plain,
    Raised,
    Blocked,
}

impl<W: Write> Sink for TextRenderer<W> {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        let line = format!("netlab {id}: {}", title.get(self.lang));
        self.heading(&line, 2)?;
        self.out.flush()
    }

    fn live(&mut self, flag: &str) -> io::Result<()> {
        let line = crate::phrases::paced_run(flag);
        self.heading(line.get(self.lang), 3)?;
        self.out.flush()
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        let lang = self.lang;
        if let Some(section) = &event.section {
            writeln!(self.out)?;
            self.heading(&format!("-- {} --", section.get(lang)), 3)?;
        }
        self.event_line(event)?;
        // The packets the event put on the wire come before the notes that explain them.
        for packet in &event.packets {
            self.event(packet)?;
        }
        for note in &event.notes {
            let text_col = NOTE_INDENT + 2;
            let lines = lay_out(note.get(lang), Style::Prose, text_col, text_col, self.width);
            let first = self.paint(&format!("# {}", lines[0]), |s| s.dimmed());
            writeln!(self.out, "{:NOTE_INDENT$}{first}", "")?;
            for line in &lines[1..] {
                let line = self.paint_line(line, |s| s.dimmed());
                writeln!(self.out, "{line}")?;
            }
        }
        self.out.flush()
    }

    /// A trace that ran to its end closes with the next step: the next lab's command and
    /// this lab's lesson.
    fn lab_end(&mut self, end: &LabEnd) -> io::Result<()> {
        if end.completed() && end.session.is_none() {
            writeln!(self.out)?;
            for line in phrases::next_steps(end.id, end.next) {
                let line = self.paint(line.get(self.lang), |s| s.bold());
                writeln!(self.out, "{line}")?;
            }
        }
        self.out.flush()
    }
}
