//! `--format ladder`: the trace as a ladder diagram in text, as a teacher draws it on the
//! board. One lane per side (clients on the left, servers on the right), time going down,
//! each line of the trace a row: a mark on its side's lane and its text to the right of the
//! lanes; arrows from lane to lane for the bytes (or, with `--wire`, the packets) that went
//! between them; a TCP state at the lane where it changes; the notes as numbered footnotes
//! after each section.
//!
//! The picture needs the whole lab (an arrow starts at a send and ends at a later recv), so
//! the renderer keeps the events and draws them when the lab ends. It fits the width it is
//! given (80 columns when not a terminal), display columns counted as the text trace counts
//! them; the marks are ASCII, whose width no terminal doubts.

use std::io::{self, Write};

use super::diagram::{add_marker, row_text, Arrow, Carries, Diagram, Mark, Place, Row};
use super::wrap::{columns, lay_out, Style};
use super::{LabEnd, Sink};
use crate::event::{Event, Lang, Text};
use crate::phrases;

/// Columns for the event's number: `NNN `.
const SEQ: usize = 4;
/// Columns between the last lane and the text.
const TEXT_GAP: usize = 3;
/// The shortest a horizontal stub (a packet to or from no lane) is drawn.
const STUB: usize = 5;
/// Columns from a channel to the lane or channel its arrow goes to, for a label of four
/// digits between them.
const LABEL_ROOM: usize = 8;

/// Draws each lab as a ladder diagram when it ends.
pub struct LadderRenderer<W: Write> {
    out: W,
    lang: Lang,
    width: usize,
    lab: String,
    title: Option<Text>,
    live: Option<String>,
    events: Vec<Event>,
}

impl<W: Write> LadderRenderer<W> {
    pub fn new(out: W, lang: Lang, width: usize) -> Self {
        LadderRenderer {
            out,
            lang,
            width,
            lab: String::new(),
            title: None,
            live: None,
            events: Vec::new(),
        }
    }
}

impl<W: Write> Sink for LadderRenderer<W> {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        self.lab = id.to_string();
        self.title = Some(title.clone());
        self.live = None;
        self.events.clear();
        Ok(())
    }

    fn live(&mut self, flag: &str) -> io::Result<()> {
        self.live = Some(flag.to_string());
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.events.push(event.clone());
        Ok(())
    }

    fn lab_end(&mut self, end: &LabEnd) -> io::Result<()> {
        let title = self.title.take().unwrap_or_else(|| Text::same(""));
        let mut lines = Vec::new();
        let heading = format!("netlab {}: {}", self.lab, title.get(self.lang));
        lines.extend(lay_out(&heading, Style::Prose, 0, 2, self.width));
        if let Some(flag) = &self.live {
            let paced = phrases::paced_run(flag);
            lines.extend(lay_out(
                paced.get(self.lang),
                Style::Prose,
                0,
                3,
                self.width,
            ));
        }
        let legend = phrases::ladder_legend();
        let legend = lay_out(legend.get(self.lang), Style::Prose, 2, 2, self.width);
        lines.extend(legend.into_iter().enumerate().map(|(k, line)| {
            if k == 0 {
                format!("  {line}")
            } else {
                line
            }
        }));
        let diagram = Diagram::new(&self.events);
        lines.extend(draw(&diagram, self.lang, self.width));
        if end.completed() {
            lines.push(String::new());
            for line in phrases::next_steps(end.id, end.next) {
                lines.push(line.get(self.lang).to_string());
            }
        }
        for line in lines {
            writeln!(self.out, "{}", line.trim_end())?;
        }
        self.out.flush()
    }
}

/// Where the lanes and the text are, for a width and a number of lanes.
struct Layout {
    /// The column of each lane.
    lanes: Vec<usize>,
    /// The column where a row's text starts.
    text: usize,
    width: usize,
}

impl Layout {
    /// Lanes a quarter of the width apart, closer when there are many, so the text keeps
    /// at least half the width.
    fn new(width: usize, lanes: usize) -> Layout {
        let first = SEQ + 1;
        let gap = match lanes {
            0 | 1 => 0,
            n => (width / 4).min(width * 45 / 100 / (n - 1)).max(3),
        };
        let lanes: Vec<usize> = (0..lanes).map(|i| first + i * gap).collect();
        let text = lanes.last().map_or(SEQ, |&last| last + TEXT_GAP);
        Layout { lanes, text, width }
    }
}

/// One line of output: plain text across the width, or a line of the lanes with text.
enum Line {
    Plain(String),
    Lanes {
        /// The event's number, on a row's first line.
        seq: Option<u32>,
        text: String,
    },
}

/// Everything drawn: the lines, and the graphic part of each line of the lanes.
struct Canvas {
    lines: Vec<Line>,
    /// For each line, its cells left of the text (None for a plain line).
    cells: Vec<Option<Vec<char>>>,
    /// For each row of the diagram, the index of its first line.
    row_line: Vec<usize>,
}

impl Canvas {
    fn push(&mut self, line: Line, lanes: &Layout) {
        let cells = match &line {
            Line::Plain(_) => None,
            Line::Lanes { .. } => {
                let mut cells = vec![' '; lanes.text];
                for &lane in &lanes.lanes {
                    cells[lane] = '|';
                }
                Some(cells)
            }
        };
        self.lines.push(line);
        self.cells.push(cells);
    }

    fn plain(&mut self, text: impl Into<String>, lanes: &Layout) {
        self.push(Line::Plain(text.into()), lanes);
    }

    fn cell(&mut self, line: usize, col: usize) -> Option<&mut char> {
        self.cells.get_mut(line)?.as_mut()?.get_mut(col)
    }

    fn into_lines(self) -> Vec<String> {
        self.lines
            .into_iter()
            .zip(self.cells)
            .map(|(line, cells)| match line {
                Line::Plain(text) => text,
                Line::Lanes { seq, text } => {
                    let mut cells: String = cells.unwrap_or_default().into_iter().collect();
                    if let Some(seq) = seq {
                        let number = format!("{seq:>3}");
                        cells.replace_range(..number.len(), &number);
                    }
                    format!("{cells}{text}")
                }
            })
            .collect()
    }
}

/// The diagram as lines of text.
fn draw(diagram: &Diagram, lang: Lang, width: usize) -> Vec<String> {
    let layout = Layout::new(width, diagram.lanes.len());
    let mut canvas = Canvas {
        lines: Vec::new(),
        cells: Vec::new(),
        row_line: Vec::new(),
    };
    let mut pending_notes: Vec<&Row> = Vec::new();
    for (i, row) in diagram.rows.iter().enumerate() {
        if let Some(section) = &row.event.section {
            footnotes(&mut canvas, &mut pending_notes, lang, &layout);
            canvas.plain("", &layout);
            let heading = format!("-- {} --", section.get(lang));
            for line in lay_out(&heading, Style::Prose, 0, 3, width) {
                canvas.plain(line, &layout);
            }
            lane_names(&mut canvas, diagram, &layout);
        } else if i == 0 {
            lane_names(&mut canvas, diagram, &layout);
        }
        canvas.row_line.push(canvas.lines.len());
        row_lines(&mut canvas, row, lang, &layout);
        if row.footnote.is_some() {
            pending_notes.push(row);
        }
    }
    footnotes(&mut canvas, &mut pending_notes, lang, &layout);
    let (packets, transfers): (Vec<&Arrow>, Vec<&Arrow>) = diagram
        .arrows
        .iter()
        .partition(|arrow| arrow.carries == Carries::Packet);
    for arrow in packets {
        packet(&mut canvas, arrow, &layout);
    }
    channels(&mut canvas, &transfers, &layout);
    for (i, row) in diagram.rows.iter().enumerate() {
        let line = canvas.row_line[i];
        mark(&mut canvas, row, line, &layout);
    }
    canvas.into_lines()
}

/// The sides' names over their lanes (on more lines where they would touch), and a line
/// of the lanes.
fn lane_names(canvas: &mut Canvas, diagram: &Diagram, layout: &Layout) {
    let mut name_lines: Vec<String> = Vec::new();
    for (name, &lane) in diagram.lanes.iter().zip(&layout.lanes) {
        let start = lane.saturating_sub(columns(name) / 2);
        let fits = |line: &String| columns(line) < start || line.is_empty();
        let at = match name_lines.iter().position(fits) {
            Some(at) => at,
            None => {
                name_lines.push(String::new());
                name_lines.len() - 1
            }
        };
        let line = &mut name_lines[at];
        let pad = start.saturating_sub(columns(line));
        line.push_str(&" ".repeat(pad));
        line.push_str(name);
    }
    for line in name_lines {
        canvas.plain(line, layout);
    }
    canvas.push(
        Line::Lanes {
            seq: None,
            text: String::new(),
        },
        layout,
    );
}

/// A row's lines: its text to the right of the lanes (a summary across the width), its
/// footnote's number at the end.
fn row_lines(canvas: &mut Canvas, row: &Row, lang: Lang, layout: &Layout) {
    let event = row.event;
    let start = match row.place {
        Place::Across => SEQ,
        Place::Lane(_) | Place::Aside => layout.text,
    };
    let columns = layout.width.saturating_sub(start);
    let mut lines = row_text(row, lang, columns);
    if let Some(number) = row.footnote {
        add_marker(&mut lines, &format!("[{number}]"), columns);
    }
    for (k, line) in lines.into_iter().enumerate() {
        if row.place == Place::Across {
            let number = if k == 0 {
                format!("{:>3} ", event.seq)
            } else {
                " ".repeat(SEQ)
            };
            canvas.plain(format!("{number}{line}"), layout);
        } else {
            let seq = (k == 0).then_some(event.seq);
            canvas.push(Line::Lanes { seq, text: line }, layout);
        }
    }
}

/// The notes of the rows since the last section, as numbered paragraphs across the width.
fn footnotes(canvas: &mut Canvas, rows: &mut Vec<&Row>, lang: Lang, layout: &Layout) {
    if rows.is_empty() {
        return;
    }
    canvas.plain("", layout);
    for row in rows.drain(..) {
        let Some(number) = row.footnote else {
            continue;
        };
        let marker = format!("[{number}] ");
        let indent = 2 + columns(&marker);
        for (k, note) in row.event.notes.iter().enumerate() {
            let lines = lay_out(note.get(lang), Style::Prose, indent, indent, layout.width);
            for (j, line) in lines.into_iter().enumerate() {
                let text = match (k, j) {
                    (0, 0) => format!("  {marker}{line}"),
                    (_, 0) => format!("{:indent$}{line}", ""),
                    _ => line,
                };
                canvas.plain(text, layout);
            }
        }
    }
}

/// A row's mark on its lane, and a changed TCP state beside it where there is room.
fn mark(canvas: &mut Canvas, row: &Row, line: usize, layout: &Layout) {
    let Place::Lane(lane) = row.place else {
        return;
    };
    let col = layout.lanes[lane];
    let glyph = match row.mark {
        Mark::Call => 'o',
        Mark::Raised => 'x',
        Mark::Blocked => '~',
        Mark::Kernel => '#',
        Mark::Packet | Mark::Summary => return,
    };
    if let Some(cell) = canvas.cell(line, col) {
        *cell = glyph;
    }
    if let Some(state) = row.state {
        let label = format!("[{state}]");
        let len = label.chars().count();
        let start = if lane == 0 {
            col
        } else if lane + 1 == layout.lanes.len() {
            (col + 1).saturating_sub(len)
        } else {
            col.saturating_sub(len / 2)
        };
        let free = (start..start + len).all(|c| {
            c < layout.text - 1
                && canvas
                    .cell(line, c)
                    .is_some_and(|cell| *cell == ' ' || (c == col && *cell == glyph))
        });
        if free && start > SEQ {
            for (c, ch) in (start..).zip(label.chars()) {
                if let Some(cell) = canvas.cell(line, c) {
                    *cell = ch;
                }
            }
        }
    }
}

/// A packet's arrow within its row, its flags on it where they fit.
fn packet(canvas: &mut Canvas, arrow: &Arrow, layout: &Layout) {
    let line = canvas.row_line[arrow.from_row];
    let last = layout.lanes.len().saturating_sub(1);
    let lane_col = |lane: usize| layout.lanes[lane];
    let (from, to) = match (arrow.from_lane, arrow.to_lane) {
        (Some(a), Some(b)) if a != b => (lane_col(a), lane_col(b)),
        // To or from no lane: a stub, on the side where the lanes leave room.
        (Some(a), None) => {
            let col = lane_col(a);
            (
                col,
                if a < last || a == 0 {
                    col + STUB
                } else {
                    col - STUB
                },
            )
        }
        (None, Some(b)) => {
            let col = lane_col(b);
            (
                if b < last || b == 0 {
                    col + STUB
                } else {
                    col - STUB
                },
                col,
            )
        }
        _ => return,
    };
    let right = to > from;
    let (lo, hi) = if right { (from, to) } else { (to, from) };
    for col in lo + 1..hi {
        if let Some(cell) = canvas.cell(line, col) {
            if *cell == ' ' {
                *cell = '-';
            }
        }
    }
    let head = if right { to - 1 } else { to + 1 };
    if let Some(cell) = canvas.cell(line, head) {
        *cell = if right { '>' } else { '<' };
    }
    if arrow.from_lane.is_none() {
        // Comes from outside the lanes: its tail starts in the open.
        if let Some(cell) = canvas.cell(line, from) {
            *cell = if *cell == '|' { '|' } else { '-' };
        }
    }
    let label: Vec<char> = arrow.label.chars().collect();
    let room = hi - lo - 1;
    if !label.is_empty() && label.len() + 4 <= room {
        let start = lo + 1 + (room - label.len()) / 2;
        for (c, ch) in (start..).zip(label) {
            if let Some(cell) = canvas.cell(line, c) {
                *cell = ch;
            }
        }
    }
}

/// A send's bytes on their way: one vertical channel from the send down to the last recv
/// that took some of them, joined to the send's lane at the top and to each recv's lane
/// with an arrow, labelled with the bytes that recv got from it.
struct Channel<'a> {
    from_line: usize,
    from_col: usize,
    /// The recvs' first lines, lanes and labels, top to bottom.
    ends: Vec<(usize, usize, &'a str)>,
    col: usize,
}

fn channels(canvas: &mut Canvas, arrows: &[&Arrow], layout: &Layout) {
    let mut channels: Vec<Channel> = Vec::new();
    let mut by_send: Vec<(usize, Vec<&Arrow>)> = Vec::new();
    for arrow in arrows {
        match by_send.iter_mut().find(|(row, _)| *row == arrow.from_row) {
            Some((_, list)) => list.push(arrow),
            None => by_send.push((arrow.from_row, vec![arrow])),
        }
    }
    by_send.sort_by_key(|(row, _)| *row);
    for (from_row, list) in by_send {
        let (Some(from_lane), Some(to_lane)) = (list[0].from_lane, list[0].to_lane) else {
            continue;
        };
        let from_col = layout.lanes[from_lane];
        let to_col = layout.lanes[to_lane];
        if from_col == to_col {
            continue;
        }
        let from_line = canvas.row_line[from_row];
        let mut ends: Vec<(usize, usize, &str)> = list
            .iter()
            .filter_map(|a| {
                Some((
                    canvas.row_line[a.to_row],
                    layout.lanes[a.to_lane?],
                    a.label.as_str(),
                ))
            })
            .collect();
        ends.sort_by_key(|end| end.0);
        let last_line = ends.last().map_or(from_line, |end| end.0);
        // Older bytes nearer the receiving lane: they are taken first, so a later recv's
        // arrow crosses no channel that goes on. Channels keep room between them for the
        // labels where they can, closer where they must.
        let toward_sender: Vec<usize> = if to_col > from_col {
            (from_col + 2..to_col - 1).rev().collect()
        } else {
            (to_col + 2..from_col - 1).collect()
        };
        let preferred = toward_sender.iter().skip(LABEL_ROOM - 2);
        let busy = |col: usize, apart: usize, channels: &[Channel]| {
            layout
                .lanes
                .iter()
                .any(|&lane| lane.abs_diff(col) < apart.min(2))
                || channels.iter().any(|c| {
                    let c_last = c.ends.last().map_or(c.from_line, |e| e.0);
                    c.col.abs_diff(col) < apart && c.from_line <= last_line && from_line <= c_last
                })
        };
        let col = preferred
            .clone()
            .find(|&&col| !busy(col, LABEL_ROOM - 2, &channels))
            .or_else(|| toward_sender.iter().find(|&&col| !busy(col, 2, &channels)));
        let Some(&col) = col else {
            continue;
        };
        channels.push(Channel {
            from_line,
            from_col,
            ends,
            col,
        });
    }
    for channel in &channels {
        draw_channel(canvas, channel);
    }
}

fn draw_channel(canvas: &mut Canvas, channel: &Channel) {
    let col = channel.col;
    let last_line = channel.ends.last().map_or(channel.from_line, |e| e.0);
    for line in channel.from_line + 1..last_line {
        if let Some(cell) = canvas.cell(line, col) {
            if *cell == ' ' || *cell == '-' {
                *cell = '|';
            }
        }
    }
    // From the send's lane to the channel.
    leg(canvas, channel.from_line, channel.from_col, col, None);
    if let Some(cell) = canvas.cell(channel.from_line, col) {
        *cell = '.';
    }
    for (k, &(line, lane_col, label)) in channel.ends.iter().enumerate() {
        let corner = if k + 1 == channel.ends.len() {
            '\''
        } else {
            '+'
        };
        if let Some(cell) = canvas.cell(line, col) {
            *cell = corner;
        }
        leg(canvas, line, col, lane_col, Some(label));
        let head = if lane_col > col {
            lane_col - 1
        } else {
            lane_col + 1
        };
        if let Some(cell) = canvas.cell(line, head) {
            *cell = if lane_col > col { '>' } else { '<' };
        }
    }
}

/// A horizontal line between two columns (ends not included), over blanks only: a channel
/// that goes on and a lane stay visible. A label is written from the `from` end where it
/// fits.
fn leg(canvas: &mut Canvas, line: usize, from: usize, to: usize, label: Option<&str>) {
    let cols: Vec<usize> = if to > from {
        (from + 1..to).collect()
    } else {
        (to + 1..from).rev().collect()
    };
    for &col in &cols {
        if let Some(cell) = canvas.cell(line, col) {
            if *cell == ' ' {
                *cell = '-';
            }
        }
    }
    let Some(label) = label.filter(|l| !l.is_empty()) else {
        return;
    };
    let label: Vec<char> = label.chars().collect();
    // The first stretch of the line with a dash on each side of the label, and the cell
    // next to the lane left for the arrow's head.
    let is_dash =
        |canvas: &mut Canvas, col: usize| canvas.cell(line, col).is_some_and(|c| *c == '-');
    let Some(at) = (1..cols.len().saturating_sub(label.len() + 1)).find(|&at| {
        cols[at - 1..at + label.len() + 1]
            .iter()
            .all(|&col| is_dash(canvas, col))
    }) else {
        return;
    };
    let mut spots = cols[at..at + label.len()].to_vec();
    spots.sort_unstable();
    for (&col, ch) in spots.iter().zip(label) {
        if let Some(cell) = canvas.cell(line, col) {
            *cell = ch;
        }
    }
}
