//! One lab's ladder diagram as SVG, in one language, and the notes that go beside it.
//!
//! The layout is computed here, in fixed units of a monospace font (the browser scales the
//! whole drawing to the window), from the same [`Diagram`] as the text ladder: every row is a
//! `g.ev` with the event's number in `data-seq`, which the page's script shows or hides as
//! the instructor steps; an arrow between rows appears with the row it ends in. Every text is
//! escaped: a lab's data is arbitrary bytes.

use std::fmt::Write as _;

use super::escape;
use crate::event::{Kind, Lang};
use crate::phrases;
use crate::render::diagram::{
    add_marker, result_text, row_text, Arrow, Carries, Diagram, Mark, Place, Row,
};
use crate::render::wrap::columns;

/// The advance of one column of the monospace font at the page's 20px (page.css), and a
/// line's height.
const CH: f64 = 12.04;
const LINE: f64 = 30.0;
/// Where the first lane is, and the right edge of the events' numbers.
const FIRST_LANE: f64 = 112.0;
const SEQ_X: f64 = 50.0;
/// Columns of text beside the lanes.
const TEXT_COLS: usize = 50;
/// Height of a section's heading, with the lanes' names under it.
const SECTION: f64 = 74.0;
/// Height of the lanes' names at the top when no section opens there.
const NAMES: f64 = 40.0;
/// Space between a row's text and the next row.
const ROW_PAD: f64 = 10.0;

/// A lab's drawing: the SVG, and the notes as list items for the aside.
pub(super) struct Drawn {
    pub svg: String,
    pub notes: String,
}

struct Geometry {
    lanes: Vec<f64>,
    text_x: f64,
    width: f64,
}

impl Geometry {
    fn new(lanes: usize) -> Geometry {
        let gap = match lanes {
            0 | 1 => 0.0,
            n => (560.0 / (n - 1) as f64).clamp(96.0, 260.0),
        };
        let lanes: Vec<f64> = (0..lanes).map(|i| FIRST_LANE + gap * i as f64).collect();
        let text_x = lanes.last().map_or(FIRST_LANE, |last| last + 72.0);
        Geometry {
            width: text_x + TEXT_COLS as f64 * CH + 48.0,
            lanes,
            text_x,
        }
    }

    /// Columns a summary has across the whole width.
    fn across_cols(&self) -> usize {
        ((self.width - FIRST_LANE + 40.0 - 24.0) / CH) as usize
    }
}

/// Where a row was drawn: its top, its mark's centre line, its height.
#[derive(Clone, Copy)]
struct Placed {
    mid: f64,
}

pub(super) fn draw(diagram: &Diagram, lang: Lang) -> Drawn {
    let geo = Geometry::new(diagram.lanes.len());
    let mut body = String::new();
    let mut notes = String::new();
    let mut placed: Vec<Placed> = Vec::new();
    let mut y = 12.0;
    let mut section = 0usize;
    for (i, row) in diagram.rows.iter().enumerate() {
        if let Some(heading) = &row.event.section {
            section += 1;
            let _ = write!(
                body,
                r#"<g class="sec" data-seq="{}"><text class="heading" x="{}" y="{}">{}</text>"#,
                row.event.seq,
                fmt(FIRST_LANE - 60.0),
                fmt(y + 34.0),
                escape(heading.get(lang))
            );
            lane_names(&mut body, diagram, &geo, y + 62.0);
            body.push_str("</g>");
            let _ = write!(
                notes,
                r#"<li class="sec" data-section="{section}">{}</li>"#,
                escape(heading.get(lang))
            );
            y += SECTION;
        } else if i == 0 {
            lane_names(&mut body, diagram, &geo, y + 26.0);
            y += NAMES;
        }
        let (svg, height, mid) = draw_row(diagram, row, lang, &geo, y, section);
        body.push_str(&svg);
        placed.push(Placed { mid });
        if let Some(number) = row.footnote {
            let _ = write!(
                notes,
                r#"<li class="note" data-seq="{}" data-section="{section}"><span class="num">{number}</span>{}</li>"#,
                row.event.seq,
                row.event
                    .notes
                    .iter()
                    .map(|note| format!("<p>{}</p>", note_html(note.get(lang))))
                    .collect::<String>()
            );
        }
        y += height;
    }
    let height = y + 24.0;
    let mut arrows = String::new();
    for arrow in diagram
        .arrows
        .iter()
        .filter(|a| a.carries != Carries::Packet)
    {
        transfer(&mut arrows, diagram, arrow, &geo, &placed, lang);
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="ladder" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}">"#,
        w = fmt(geo.width),
        h = fmt(height),
        label = escape(&diagram.lanes.join(", ")),
    );
    for (lane, &x) in diagram.lanes.iter().zip(&geo.lanes) {
        let _ = write!(
            svg,
            r#"<line class="lane {}" x1="{x}" y1="12" x2="{x}" y2="{}"/>"#,
            side_class(lane),
            fmt(height - 12.0),
            x = fmt(x),
        );
    }
    svg.push_str(&body);
    svg.push_str(&arrows);
    svg.push_str("</svg>");
    Drawn { svg, notes }
}

/// The sides' names on their lanes.
fn lane_names(out: &mut String, diagram: &Diagram, geo: &Geometry, y: f64) {
    for (lane, &x) in diagram.lanes.iter().zip(&geo.lanes) {
        let _ = write!(
            out,
            r#"<text class="lane-name {}" x="{}" y="{}">{}</text>"#,
            side_class(lane),
            fmt(x),
            fmt(y),
            escape(lane)
        );
    }
}

/// One row: its band (the current row's highlight), its mark or packet, its number and
/// text, its footnote's number. Returns the SVG, the row's height and its mark's centre.
fn draw_row(
    diagram: &Diagram,
    row: &Row,
    lang: Lang,
    geo: &Geometry,
    y: f64,
    section: usize,
) -> (String, f64, f64) {
    let event = row.event;
    let (x, cols) = match row.place {
        Place::Across => (FIRST_LANE - 40.0, geo.across_cols()),
        Place::Lane(_) | Place::Aside => (geo.text_x, TEXT_COLS),
    };
    let mut lines = row_text(row, lang, cols);
    let badge = row.footnote.map(|n| n.to_string());
    if badge.is_some() {
        // Room for the badge at the end of the last line.
        add_marker(&mut lines, "[99]", cols);
        if let Some(last) = lines.last_mut() {
            let cut = last.len() - "[99]".len();
            last.truncate(cut);
        }
    }
    let height = lines.len() as f64 * LINE + ROW_PAD;
    let mid = y + 18.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<g class="ev kind-{} {}" data-seq="{}" data-section="{section}"><title>{}</title>"#,
        event.kind.name(),
        outcome_class(row.mark),
        event.seq,
        escape(&one_line(row, lang)),
    );
    let _ = write!(
        out,
        r#"<rect class="band" x="0" y="{}" width="{}" height="{}"/>"#,
        fmt(y),
        fmt(geo.width),
        fmt(height)
    );
    let _ = write!(
        out,
        r#"<text class="seq" x="{SEQ_X}" y="{}">{}</text>"#,
        fmt(y + 24.0),
        event.seq
    );
    if row.place == Place::Across {
        let _ = write!(
            out,
            r#"<rect class="summary-bar" x="{}" y="{}" width="5" height="{}"/>"#,
            fmt(x - 14.0),
            fmt(y + 4.0),
            fmt(height - ROW_PAD)
        );
    }
    if let Place::Lane(lane) = row.place {
        mark(&mut out, row, diagram, geo.lanes[lane], mid);
    }
    for arrow in diagram
        .arrows
        .iter()
        .filter(|a| a.carries == Carries::Packet && diagram.rows[a.from_row].event.seq == event.seq)
    {
        packet(&mut out, arrow, geo, mid);
    }
    let has_result = result_text(event, lang).is_some();
    let mut in_result = false;
    for (k, line) in lines.iter().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim_start_matches(' ');
        let ty = y + 25.0 + k as f64 * LINE;
        let tx = x + indent as f64 * CH;
        let class = if k == 0 { "t first" } else { "t" };
        let _ = write!(
            out,
            r#"<text class="{class}" x="{}" y="{}">"#,
            fmt(tx),
            fmt(ty)
        );
        let result_starts = match body.split_once("-> ") {
            Some((call, _)) if has_result && !in_result => {
                (k == 0 && call.ends_with("  ")) || (k > 0 && call.is_empty())
            }
            _ => false,
        };
        let outcome = outcome_class(row.mark);
        if result_starts {
            let (call, result) = body.split_once("-> ").unwrap_or_default();
            let _ = write!(
                out,
                r#"{}<tspan class="res {outcome}">-&gt; {}</tspan>"#,
                escape(call),
                escape(result)
            );
            in_result = true;
        } else if in_result {
            let _ = write!(
                out,
                r#"<tspan class="res {outcome}">{}</tspan>"#,
                escape(body)
            );
        } else {
            out.push_str(&escape(body));
        }
        out.push_str("</text>");
    }
    if let Some(badge) = badge {
        let last = lines.last().map_or("", String::as_str);
        let bx = x + columns(last) as f64 * CH + 18.0;
        let by = y + 18.0 + (lines.len() - 1) as f64 * LINE;
        let _ = write!(
            out,
            r#"<g class="badge"><circle cx="{}" cy="{}" r="12"/><text x="{}" y="{}">{}</text></g>"#,
            fmt(bx),
            fmt(by),
            fmt(bx),
            fmt(by + 5.0),
            escape(&badge)
        );
    }
    out.push_str("</g>");
    (out, height, mid)
}

/// The whole line as the text trace has it, for a tooltip: the call and its result.
fn one_line(row: &Row, lang: Lang) -> String {
    let event = row.event;
    let call = event.call.get(lang).to_string();
    let call = if event.kind == Kind::Kernel && row.place == Place::Aside {
        format!("{}: {call}", event.side)
    } else {
        call
    };
    match result_text(event, lang) {
        Some(result) => format!("{call}  -> {result}"),
        None => call,
    }
}

fn outcome_class(mark: Mark) -> &'static str {
    match mark {
        Mark::Call => "returned",
        Mark::Raised => "raised",
        Mark::Blocked => "blocked",
        Mark::Kernel => "kernel",
        Mark::Packet => "packet",
        Mark::Summary => "summary",
    }
}

/// Clients, servers and any other side get their own colours.
fn side_class(side: &str) -> &'static str {
    if side.starts_with("server") {
        "side-server"
    } else if side.starts_with("client") {
        "side-client"
    } else {
        "side-other"
    }
}

/// A row's mark on its lane; a TCP state that changed is a label on the lane instead.
fn mark(out: &mut String, row: &Row, diagram: &Diagram, x: f64, y: f64) {
    let side = match row.place {
        Place::Lane(lane) => side_class(&diagram.lanes[lane]),
        Place::Aside | Place::Across => "side-other",
    };
    if let Some(state) = row.state {
        let w = state.len() as f64 * 8.6 + 18.0;
        let _ = write!(
            out,
            r#"<g class="state"><rect x="{}" y="{}" width="{}" height="24" rx="12"/><text x="{}" y="{}">{}</text></g>"#,
            fmt(x - w / 2.0),
            fmt(y - 12.0),
            fmt(w),
            fmt(x),
            fmt(y + 5.0),
            escape(state)
        );
        return;
    }
    let _ = match row.mark {
        Mark::Call => write!(
            out,
            r#"<circle class="m call {side}" cx="{}" cy="{}" r="8"/>"#,
            fmt(x),
            fmt(y)
        ),
        Mark::Raised => write!(
            out,
            r#"<path class="m raised" d="M{a},{b}L{c},{d}M{c},{b}L{a},{d}"/>"#,
            a = fmt(x - 7.0),
            b = fmt(y - 7.0),
            c = fmt(x + 7.0),
            d = fmt(y + 7.0)
        ),
        Mark::Blocked => write!(
            out,
            r#"<circle class="m blocked" cx="{}" cy="{}" r="8"/>"#,
            fmt(x),
            fmt(y)
        ),
        Mark::Kernel => write!(
            out,
            r#"<rect class="m kernel" x="{}" y="{}" width="13" height="13" transform="rotate(45 {} {})"/>"#,
            fmt(x - 6.5),
            fmt(y - 6.5),
            fmt(x),
            fmt(y)
        ),
        Mark::Packet | Mark::Summary => Ok(()),
    };
}

/// A packet: an arrow across its own row, from the lane of the side that sent it to the
/// lane of the side it went to, its flags above it.
fn packet(out: &mut String, arrow: &Arrow, geo: &Geometry, y: f64) {
    const STUB: f64 = 70.0;
    let last = geo.lanes.len().saturating_sub(1);
    let lane = |i: usize| geo.lanes[i];
    let outward = |i: usize| if i < last || last == 0 { STUB } else { -STUB };
    let (x1, x2) = match (arrow.from_lane, arrow.to_lane) {
        (Some(a), Some(b)) if a != b => (lane(a), lane(b)),
        (Some(a), None) => (lane(a), lane(a) + outward(a)),
        (None, Some(b)) => (lane(b) + outward(b), lane(b)),
        _ => return,
    };
    let dir = if x2 > x1 { 1.0 } else { -1.0 };
    let _ = write!(
        out,
        r#"<line class="pkt" x1="{}" y1="{}" x2="{}" y2="{}" marker-end="url(#nl-head-packet)"/>"#,
        fmt(x1 + dir * 4.0),
        fmt(y),
        fmt(x2 - dir * 10.0),
        fmt(y),
    );
    if !arrow.label.is_empty() {
        let _ = write!(
            out,
            r#"<text class="plabel" x="{}" y="{}">{}</text>"#,
            fmt((x1 + x2) / 2.0),
            fmt(y - 11.0),
            escape(&arrow.label)
        );
    }
}

/// Bytes or a datagram: an arrow from the send's mark down to the recv's, which appears
/// with the recv.
fn transfer(
    out: &mut String,
    diagram: &Diagram,
    arrow: &Arrow,
    geo: &Geometry,
    placed: &[Placed],
    lang: Lang,
) {
    let (Some(from), Some(to)) = (arrow.from_lane, arrow.to_lane) else {
        return;
    };
    let (x1, y1) = (geo.lanes[from], placed[arrow.from_row].mid);
    let (x2, y2) = (geo.lanes[to], placed[arrow.to_row].mid);
    let (dx, dy) = (x2 - x1, y2 - y1);
    let length = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / length, dy / length);
    let send = diagram.rows[arrow.from_row].event.seq;
    let recv = diagram.rows[arrow.to_row].event.seq;
    let class = match arrow.carries {
        Carries::Datagram => "datagram",
        Carries::Bytes | Carries::Packet => "bytes",
    };
    let _ = write!(
        out,
        r#"<g class="arrow {class}" data-seq="{recv}" data-from="{send}"><line x1="{}" y1="{}" x2="{}" y2="{}" marker-end="url(#nl-head-{class})"/>"#,
        fmt(x1 + ux * 10.0),
        fmt(y1 + uy * 10.0),
        fmt(x2 - ux * 12.0),
        fmt(y2 - uy * 12.0),
    );
    if !arrow.label.is_empty() {
        let words = phrases::bytes(&arrow.label);
        // Near the send, where each arrow of a recv that took several sends is apart from
        // the others, a little above the line.
        let along = (length * 0.3).min(90.0);
        let (mx, my) = (x1 + ux * along, y1 + uy * along);
        // Beside the line, on the side the arrow comes from.
        let (side, x) = if dx >= 0.0 {
            ("right", mx + 14.0)
        } else {
            ("left", mx - 14.0)
        };
        let _ = write!(
            out,
            r#"<text class="alabel {side}" x="{}" y="{}">{}</text>"#,
            fmt(x),
            fmt(my - 10.0),
            escape(words.get(lang))
        );
    }
    out.push_str("</g>");
}

/// A note's paragraph as HTML: escaped, its line breaks kept, its `code` set as code.
fn note_html(note: &str) -> String {
    let mut html = String::new();
    for (i, part) in note.split('`').enumerate() {
        let part = escape(part).replace('\n', "<br>");
        if i % 2 == 1 {
            let _ = write!(html, "<code>{part}</code>");
        } else {
            html.push_str(&part);
        }
    }
    html
}

/// A coordinate, without needless decimals.
fn fmt(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}
