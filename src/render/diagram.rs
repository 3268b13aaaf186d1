//! The exchange as a picture, before it is drawn: one lane per side, one row per line of the
//! trace, arrows from lane to lane. `--format ladder` draws it in text, `--format html` as
//! SVG; both take every decision from here, so they show the same picture.
//!
//! Everything is derived from the events' facts, never guessed. An arrow for a transfer of
//! bytes joins a send to each recv that returned some of its bytes: the socket facts give each
//! stream call's place in its socket's byte stream (the totals before and after it), and the
//! recv's socket names its peer, whose sends hold the same stream's bytes. A datagram goes to
//! the socket the kernel queued it for, and a recv on that socket takes the oldest one. With
//! `--wire` the arrows are the captured packets instead, which already say who sent them to
//! whom.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::wrap::{columns, lay_out, Style};
use crate::event::{Count, Event, Kind, Lang, Outcome, SocketFacts};

/// Where a row's mark goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// On this lane: a side's call, or a probe of one of its sockets.
    Lane(usize),
    /// Beside all lanes: a line about no socket of a side (a sysctl, a file).
    Aside,
    /// Across the whole width: the lab's own summary of the lines above.
    Across,
}

/// What a row's mark says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A call that returned.
    Call,
    /// A call that raised.
    Raised,
    /// A call shown blocked.
    Blocked,
    /// Something read from the kernel.
    Kernel,
    /// A packet on the wire: its arrow is the mark.
    Packet,
    /// The lab's summary.
    Summary,
}

/// One line of the trace in the picture.
#[derive(Debug)]
pub struct Row<'a> {
    pub event: &'a Event,
    pub place: Place,
    pub mark: Mark,
    /// A TCP state that this row shows for its socket for the first time, or changed: drawn
    /// at the lane. `CLOSED` where the kernel has no such connection.
    pub state: Option<&'static str>,
    /// The number of this row's footnote (its notes), when it has notes.
    pub footnote: Option<u32>,
}

/// What an arrow carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carries {
    /// Bytes of a stream, from a send to a recv that returned them.
    Bytes,
    /// One datagram, from its send to the recv that took it.
    Datagram,
    /// A packet captured on the wire (`--wire`).
    Packet,
}

/// An arrow from one row's lane to another's. A packet's arrow lies within its own row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrow {
    /// Index into [`Diagram::rows`] where it starts and where it ends.
    pub from_row: usize,
    pub to_row: usize,
    /// The lanes at its ends; None where an end is no side of this lab (a packet to a port
    /// nobody has bound, the kernel's ICMP answer).
    pub from_lane: Option<usize>,
    pub to_lane: Option<usize>,
    /// What to write on it: a byte count (`5`), a packet's flags (`S.`, `UDP`).
    pub label: String,
    pub carries: Carries,
}

/// A lab's trace as a ladder diagram.
#[derive(Debug)]
pub struct Diagram<'a> {
    /// The sides, left to right: clients first, servers last, each in the order it first
    /// appears.
    pub lanes: Vec<String>,
    pub rows: Vec<Row<'a>>,
    pub arrows: Vec<Arrow>,
}

impl<'a> Diagram<'a> {
    /// The picture of a lab's events (each with the packets it put on the wire).
    pub fn new(events: &'a [Event]) -> Diagram<'a> {
        let flat: Vec<&Event> = events
            .iter()
            .flat_map(|event| std::iter::once(event).chain(&event.packets))
            .collect();
        let lanes = lanes(&flat);
        let lane_of = |side: &str| lanes.iter().position(|lane| lane == side);
        let port_sides = port_sides(&flat);
        let mut states = States::default();
        let mut footnotes = 0;
        let rows = flat
            .iter()
            .map(|event| {
                let place = place(event, &lane_of, &port_sides);
                let footnote = (!event.notes.is_empty()).then(|| {
                    footnotes += 1;
                    footnotes
                });
                Row {
                    event,
                    place,
                    mark: mark(event),
                    state: states.shown(event, place),
                    footnote,
                }
            })
            .collect::<Vec<_>>();
        let arrows = if rows.iter().any(|row| row.event.kind == Kind::Wire) {
            packets(&rows, &lane_of)
        } else {
            let mut arrows = streams(&rows);
            arrows.extend(datagrams(&rows));
            arrows.sort_by_key(|a| (a.to_row, a.from_row));
            arrows
        };
        Diagram {
            lanes,
            rows,
            arrows,
        }
    }
}

/// Where an event's mark goes: a call on its side's lane, a probe on the lane of the side
/// whose socket it read. A connection no socket of the lab holds (yet, or any more) goes on
/// the lane of the side whose socket has its port.
fn place(
    event: &Event,
    lane_of: &dyn Fn(&str) -> Option<usize>,
    port_sides: &HashMap<String, String>,
) -> Place {
    let by_port = || lane_of(port_sides.get(event.facts.port.as_deref()?)?);
    let lane = match event.kind {
        Kind::Summary => return Place::Across,
        Kind::Wire => return Place::Aside,
        Kind::Call => lane_of(&event.side),
        Kind::Kernel => event
            .facts
            .socket
            .as_ref()
            .and_then(|s| lane_of(&s.side))
            .or_else(by_port),
    };
    lane.map_or(Place::Aside, Place::Lane)
}

/// The TCP state last shown for each connection, to show a state only where it changes.
#[derive(Default)]
struct States(HashMap<String, &'static str>);

impl States {
    /// The state a probe on a lane shows, if it is new for its connection (the socket it
    /// read, or the pair of ports of a connection no socket holds).
    fn shown(&mut self, event: &Event, place: Place) -> Option<&'static str> {
        let state = event.facts.tcp_state?;
        let facts = &event.facts;
        let connection = match (&facts.socket, &facts.port, &facts.peer) {
            (Some(socket), _, _) => format!("socket {}", socket.id),
            (None, Some(port), Some(peer)) => format!("{port} {peer}"),
            _ => return None,
        };
        if !matches!(place, Place::Lane(_)) {
            return None;
        }
        let state = state.unwrap_or("CLOSED");
        (self.0.insert(connection, state) != Some(state)).then_some(state)
    }
}

/// The sides that get a lane: those that made a call or own a probed socket, and the ends of
/// packets that are sides. Clients on the left, servers on the right, as on the board.
fn lanes(events: &[&Event]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for event in events {
        let side = match event.kind {
            Kind::Call => Some(event.side.as_str()),
            Kind::Kernel => event.facts.socket.as_ref().map(|s| s.side.as_str()),
            Kind::Summary | Kind::Wire => None,
        };
        if let Some(side) = side {
            if !seen.iter().any(|s| s == side) {
                seen.push(side.to_string());
            }
        }
    }
    let (servers, others): (Vec<String>, Vec<String>) = seen
        .into_iter()
        .partition(|side| side.starts_with("server"));
    others.into_iter().chain(servers).collect()
}

/// Which side's sockets have each port, by the port's stable name (`PORT`: the server's),
/// from the addresses the lab's sockets had.
fn port_sides(events: &[&Event]) -> HashMap<String, String> {
    let mut sides = HashMap::new();
    for socket in events.iter().filter_map(|e| e.facts.socket.as_ref()) {
        if let Some(port) = socket.local.as_deref().and_then(port_name) {
            sides
                .entry(port.to_string())
                .or_insert_with(|| socket.side.clone());
        }
    }
    sides
}

/// The port of an address as the trace shows it: `PORT` in `('127.0.0.1', PORT)`.
fn port_name(addr: &str) -> Option<&str> {
    let inner = addr.strip_prefix('(')?.strip_suffix(')')?;
    inner.rsplit_once(", ").map(|(_, port)| port)
}

fn mark(event: &Event) -> Mark {
    match (event.kind, &event.outcome) {
        (Kind::Summary, _) => Mark::Summary,
        (Kind::Kernel, _) => Mark::Kernel,
        (Kind::Wire, _) => Mark::Packet,
        (Kind::Call, Outcome::Raised(_) | Outcome::RaisedPython(_)) => Mark::Raised,
        (Kind::Call, Outcome::Blocked(_)) => Mark::Blocked,
        (Kind::Call, Outcome::Returned(_)) => Mark::Call,
    }
}

/// One packet, one arrow, within its row: from the side that sent it to the side it went to.
fn packets(rows: &[Row], lane_of: &dyn Fn(&str) -> Option<usize>) -> Vec<Arrow> {
    rows.iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let wire = row.event.facts.wire.as_ref()?;
            let end = |key: &str| wire.get(key).and_then(|v| v.as_str()).and_then(lane_of);
            let (from_lane, to_lane) = (end("src"), end("dst"));
            if from_lane.is_none() && to_lane.is_none() {
                return None;
            }
            Some(Arrow {
                from_row: i,
                to_row: i,
                from_lane,
                to_lane,
                label: packet_label(wire),
                carries: Carries::Packet,
            })
        })
        .collect()
}

/// What a packet's arrow says: its TCP flags (else its protocol), and how many bytes of data
/// it carries when it carries some.
fn packet_label(wire: &serde_json::Value) -> String {
    let kind = match wire.get("flags").and_then(|f| f.as_str()) {
        Some(flags) => format!("[{flags}]"),
        None => wire
            .get("protocol")
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_uppercase(),
    };
    match wire.get("length").and_then(|l| l.as_u64()) {
        Some(length) if length > 0 => format!("{kind} {length}"),
        _ => kind,
    }
}

/// A send's bytes in its socket's outgoing stream.
struct Sent {
    row: usize,
    /// Where its bytes lie in the stream: `start..end`, this machine's numbers.
    start: u64,
    end: u64,
    /// Its count, when the trace shows it as a number.
    count: Option<u64>,
    /// Whether every count of this socket up to this send was shown as a number: only then
    /// is a part of it (what one recv got) the same number on every machine.
    plain: bool,
}

/// A recv's bytes in its socket's incoming stream, and the socket at the other end.
struct Received {
    row: usize,
    peer: u32,
    start: u64,
    end: u64,
    plain: bool,
}

/// Transfers of bytes on stream sockets: every send, and every recv that returned some of
/// its bytes. Where a line of a socket moved its totals is what the socket facts say;
/// which sends a recv's bytes came from is where the two ranges of the same stream overlap.
fn streams(rows: &[Row]) -> Vec<Arrow> {
    let (sends, recvs) = stream_ranges(rows);
    let mut arrows = Vec::new();
    for recv in recvs {
        let Some(list) = sends.get(&recv.peer) else {
            continue;
        };
        for send in list
            .iter()
            .filter(|s| s.start < recv.end && recv.start < s.end)
        {
            let whole_send = recv.start <= send.start && send.end <= recv.end;
            let part = send.end.min(recv.end) - send.start.max(recv.start);
            let label = match send.count {
                Some(count) if whole_send => count.to_string(),
                Some(_) if send.plain && recv.plain => part.to_string(),
                _ => String::new(),
            };
            arrows.push(Arrow {
                from_row: send.row,
                to_row: recv.row,
                from_lane: lane_of_row(&rows[send.row]),
                to_lane: lane_of_row(&rows[recv.row]),
                label,
                carries: Carries::Bytes,
            });
        }
    }
    arrows.retain(|a| a.from_lane.is_some() && a.to_lane.is_some());
    arrows
}

/// Each stream socket's sends (by the socket's number), and every recv that returned bytes.
fn stream_ranges(rows: &[Row]) -> (BTreeMap<u32, Vec<Sent>>, Vec<Received>) {
    let mut sends: BTreeMap<u32, Vec<Sent>> = BTreeMap::new();
    let mut recvs = Vec::new();
    // Each socket's totals after its last line, and whether its counts were all numbers.
    let mut before: HashMap<u32, (u64, u64, bool)> = HashMap::new();
    let mut row_of_seq: HashMap<u32, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        row_of_seq.insert(row.event.seq, i);
        let Some(socket) = stream_socket(row) else {
            continue;
        };
        let (sent, received, plain) = before.get(&socket.id).copied().unwrap_or((0, 0, true));
        let count = row.event.facts.bytes.as_ref().map(|b| &b.count);
        let moved = socket.sent > sent || socket.received > received;
        let plain = plain && (!moved || matches!(count, Some(Count::Number(_))));
        before.insert(socket.id, (socket.sent, socket.received, plain));
        if socket.sent > sent {
            let list = sends.entry(socket.id).or_default();
            // A line that goes on from a blocked call (sendall) adds to that call's bytes,
            // and so do bytes the kernel took while another line ran: only a send in
            // progress hands the kernel bytes.
            let goes_on = row
                .event
                .facts
                .continues
                .and_then(|seq| row_of_seq.get(&seq));
            let merge_into = match (goes_on, count) {
                (Some(&first), _) => list.iter_mut().rev().find(|s| s.row == first),
                (None, None) => list.last_mut(),
                (None, Some(_)) => None,
            };
            match merge_into {
                Some(send) => {
                    send.end = socket.sent;
                    send.count = None;
                }
                None => list.push(Sent {
                    row: i,
                    start: sent,
                    end: socket.sent,
                    count: match count {
                        Some(Count::Number(n)) => Some(*n),
                        _ => None,
                    },
                    plain,
                }),
            }
        }
        if let (true, Some(peer)) = (socket.received > received, socket.peer_socket) {
            recvs.push(Received {
                row: i,
                peer,
                start: received,
                end: socket.received,
                plain,
            });
        }
    }
    (sends, recvs)
}

/// The socket of a call on a stream socket (TCP or AF_UNIX): datagram sockets count
/// datagrams, not a stream.
fn stream_socket<'r>(row: &'r Row) -> Option<&'r SocketFacts> {
    let socket = row.event.facts.socket.as_ref()?;
    (row.event.kind == Kind::Call && !socket.datagram).then_some(socket)
}

fn lane_of_row(row: &Row) -> Option<usize> {
    match row.place {
        Place::Lane(lane) => Some(lane),
        Place::Aside | Place::Across => None,
    }
}

/// Datagrams: each send that the kernel queued for a socket of this lab, and the recv on
/// that socket that took it, the oldest in its queue first.
fn datagrams(rows: &[Row]) -> Vec<Arrow> {
    let mut queues: HashMap<u32, VecDeque<(usize, String)>> = HashMap::new();
    let mut taken: HashMap<u32, u64> = HashMap::new();
    let mut arrows = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(socket) = row.event.facts.socket.as_ref() else {
            continue;
        };
        if row.event.kind != Kind::Call || !socket.datagram {
            continue;
        }
        if let Some(to) = socket.datagram_to {
            let label = match row.event.facts.bytes.as_ref().map(|b| &b.count) {
                Some(Count::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            queues.entry(to).or_default().push_back((i, label));
            continue;
        }
        let received = socket.datagrams_received;
        let before = taken.insert(socket.id, received).unwrap_or(0);
        if received <= before {
            continue;
        }
        let Some((from_row, label)) = queues.get_mut(&socket.id).and_then(|q| q.pop_front()) else {
            continue;
        };
        let sender = rows[from_row].event.facts.socket.as_ref();
        let sender_port = sender.and_then(|s| s.local.as_deref()).and_then(port_name);
        let from_the_sender = match (row.event.facts.peer.as_deref(), sender_port) {
            (Some(said), Some(sender)) => said == sender,
            _ => true,
        };
        if !from_the_sender {
            // The queue is not what this recv's sender says: draw nothing more for it.
            queues.remove(&socket.id);
            continue;
        }
        let (Some(from_lane), Some(to_lane)) = (lane_of_row(&rows[from_row]), lane_of_row(row))
        else {
            continue;
        };
        arrows.push(Arrow {
            from_row,
            to_row: i,
            from_lane: Some(from_lane),
            to_lane: Some(to_lane),
            label,
            carries: Carries::Datagram,
        });
    }
    arrows
}

/// A row's words, laid out in `width` columns: a call and its result as the text trace
/// writes them, a probe (`kernel:` first where no lane shows whose socket it read), a
/// packet without its ends (the arrow shows them), a summary. The first line has no
/// indentation; the others carry theirs.
pub fn row_text(row: &Row, lang: Lang, width: usize) -> Vec<String> {
    let event = row.event;
    let call = event.call.get(lang);
    let call = match event.kind {
        Kind::Wire => call.split_once(": ").map_or(call, |(_, rest)| rest),
        _ => call,
    };
    let call = if event.kind == Kind::Kernel && row.place == Place::Aside {
        format!("{}: {call}", event.side)
    } else {
        call.to_string()
    };
    let style = match event.kind {
        Kind::Call => Style::Code,
        Kind::Kernel | Kind::Summary | Kind::Wire => Style::Prose,
    };
    let mut lines = lay_out(&call, style, 0, 2, width);
    if let Some(result) = result_text(event, lang) {
        if lines.len() == 1 && columns(&lines[0]) + 5 + columns(&result) <= width {
            lines[0] = format!("{}  -> {result}", lines[0]);
        } else {
            let mut result_lines = lay_out(&result, Style::Prose, 5, 5, width).into_iter();
            let first = result_lines.next().unwrap_or_default();
            lines.push(format!("  -> {first}"));
            lines.extend(result_lines);
        }
    }
    lines
}

/// What a line shows after its call: the value returned, the exception, why it blocks.
pub fn result_text(event: &Event, lang: Lang) -> Option<String> {
    match &event.outcome {
        Outcome::Returned(text) if text.is_empty() => None,
        Outcome::Returned(text) | Outcome::Blocked(text) => Some(text.get(lang).to_string()),
        Outcome::Raised(_) | Outcome::RaisedPython(_) => event.outcome.exception_line(),
    }
}

/// Puts ` [n]` (a footnote's number) at the end of the last line, or on a line of its own
/// where it does not fit the width.
pub fn add_marker(lines: &mut Vec<String>, marker: &str, width: usize) {
    match lines.last_mut() {
        Some(last) if columns(last) + 1 + columns(marker) <= width => {
            last.push(' ');
            last.push_str(marker);
        }
        _ => lines.push(marker.to_string()),
    }
}
