//! The `wire` lines of a lab run (`--wire`): after every event, the packets captured since the
//! previous one, each named by the lab's sides (`client > server`), and a log of them that the
//! lab checks its notes against (see [`Seen`]).
//!
//! Names come from the register of the lab's sockets: a TCP end is the side whose socket has
//! that address and that peer, or the listener at that address (a handshake happens before
//! accept() made the server's socket), or the socket whose connect() went to the other end (a
//! refused connect leaves its socket without a port). A UDP end is the side whose open socket
//! is bound there. An address no socket of the lab has shows as tcpdump shows it, with the
//! port's stable name when it has one (`127.0.0.1.PORT`).

use std::cell::RefCell;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;

use super::capture::Capture;
use super::decode::Packet;
use super::notation::{flags_text, Naming, Notation, Style, Wire};
use super::settle;
use crate::event::Text;
use crate::phrases;
use crate::recorder::Tap;
use crate::sock::addr::{Addr, Proto};
use crate::sock::registry::{Registry, SockRecord};

/// How long the end of a run waits for its last packets (see [`Tap::finish`]).
const LAST_PACKETS_WITHIN: Duration = Duration::from_secs(2);

/// One captured packet as a lab can check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Who sent it, as its line names it: a side, `kernel` for an ICMP message, or an address.
    pub from: String,
    /// Whom it went to, named the same way (for an ICMP message, the sender of the datagram
    /// it answers).
    pub to: String,
    pub what: What,
}

/// What a captured packet was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A TCP segment: its flags as tcpdump prints them (`S`, `S.`, `.`, `P.`, `F.`, `R.`),
    /// its numbers as its line shows them (relative), and the bytes of data it carries.
    Tcp {
        flags: String,
        seq: u32,
        ack: Option<u32>,
        len: u16,
    },
    /// A UDP datagram: its payload's length and the header's length field (8 more).
    Udp { len: u16, length_field: u16 },
    /// ICMP port unreachable.
    PortUnreachable,
    /// Anything else (shown, never left out).
    Other,
}

/// The packets captured between two points of a run (see `Trace::wire_since`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen(pub Vec<Captured>);

impl Seen {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many packets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The UDP datagrams `from` sent, whoever they went to: (payload length, length field).
    pub fn udp_from(&self, from: &str) -> Vec<(u16, u16)> {
        self.0
            .iter()
            .filter(|c| c.from == from)
            .filter_map(|c| match c.what {
                What::Udp { len, length_field } => Some((len, length_field)),
                _ => None,
            })
            .collect()
    }

    /// The TCP segments from `from` to `to`, in order: (flags, data length).
    pub fn tcp(&self, from: &str, to: &str) -> Vec<(&str, u16)> {
        self.0
            .iter()
            .filter(|c| c.from == from && c.to == to)
            .filter_map(|c| match &c.what {
                What::Tcp { flags, len, .. } => Some((flags.as_str(), *len)),
                _ => None,
            })
            .collect()
    }

    /// The TCP segments from `from` to `to` with their numbers: (flags, seq, ack, length).
    pub fn tcp_numbers(&self, from: &str, to: &str) -> Vec<(&str, u32, Option<u32>, u16)> {
        self.0
            .iter()
            .filter(|c| c.from == from && c.to == to)
            .filter_map(|c| match &c.what {
                What::Tcp {
                    flags,
                    seq,
                    ack,
                    len,
                } => Some((flags.as_str(), *seq, *ack, *len)),
                _ => None,
            })
            .collect()
    }

    /// The UDP datagrams from `from` to `to`, in order: (payload length, length field).
    pub fn udp(&self, from: &str, to: &str) -> Vec<(u16, u16)> {
        self.0
            .iter()
            .filter(|c| c.from == from && c.to == to)
            .filter_map(|c| match c.what {
                What::Udp { len, length_field } => Some((len, length_field)),
                _ => None,
            })
            .collect()
    }

    /// How many ICMP port unreachables went to `to`.
    pub fn port_unreachable(&self, to: &str) -> usize {
        self.0
            .iter()
            .filter(|c| c.to == to && c.what == What::PortUnreachable)
            .count()
    }

    /// How many packets anyone sent to `to`.
    pub fn to(&self, to: &str) -> usize {
        self.0.iter().filter(|c| c.to == to).count()
    }
}

/// Every packet of the run so far, shared by the tap (which adds) and the trace (which reads).
#[derive(Debug, Clone, Default)]
pub struct WireLog(Rc<RefCell<Vec<Captured>>>);

impl WireLog {
    /// How many packets the log holds: a mark for [`WireLog::since`].
    pub fn mark(&self) -> usize {
        self.0.borrow().len()
    }

    /// The packets logged after `mark`.
    pub fn since(&self, mark: usize) -> Seen {
        Seen(self.0.borrow().get(mark..).unwrap_or_default().to_vec())
    }

    fn push(&self, captured: Captured) {
        self.0.borrow_mut().push(captured);
    }
}

/// The recorder's tap for `--wire`: a capture on lo and the run's numbering of it.
pub struct WireTap {
    capture: Capture,
    notation: Notation,
    registry: Registry,
    log: WireLog,
}

impl WireTap {
    /// Opens the capture. Only inside the namespace netlab made for `--wire`: on the host's lo
    /// a capture would see other programs' traffic, which no trace of a lab should show.
    pub(crate) fn open(registry: Registry, log: WireLog) -> io::Result<WireTap> {
        if !super::netns::is_entered() {
            return Err(io::Error::other(
                "--wire needs the private network namespace that netlab makes at start-up",
            ));
        }
        let capture = Capture::loopback().map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("cannot open the packet capture on lo: {err}"),
            )
        })?;
        Ok(WireTap {
            capture,
            notation: Notation::new(),
            registry,
            log,
        })
    }

    /// One packet's line, its JSON fields, and what the lab's checks see of it.
    fn show(&mut self, packet: Packet) -> (Text, Value) {
        let records = self.registry.all();
        let wire = self.notation.wire(packet);
        let names = Ends::of(&wire, &records, &self.registry);
        let line = wire.text(&names, Style::default());
        let mut fields = wire.json(&names);
        if let Some((src, dst)) = ports(&wire) {
            fields["src_port"] = self.port_field(src);
            fields["dst_port"] = self.port_field(dst);
        }
        self.log.push(names.captured(&wire));
        (Text::same(line), fields)
    }

    /// A port as JSON: its stable name, the number under `--raw`, null when it has no name.
    fn port_field(&self, port: u16) -> Value {
        if self.registry.is_raw() {
            return Value::from(port);
        }
        self.registry
            .port_name(port)
            .map_or(Value::Null, Value::from)
    }
}

/// The two ports of a TCP segment or UDP datagram.
fn ports(wire: &Wire) -> Option<(u16, u16)> {
    match wire {
        Wire::Tcp(tcp) => Some((tcp.src.port(), tcp.dst.port())),
        Wire::Udp(udp) => Some((udp.src.port(), udp.dst.port())),
        _ => None,
    }
}

impl Tap for WireTap {
    fn lines(&mut self) -> Vec<(Text, Value)> {
        let drained = match self.capture.drain() {
            Ok(drained) => drained,
            Err(err) => {
                let text = phrases::wire_unreadable(&err.to_string());
                return vec![(text, serde_json::json!({ "error": err.to_string() }))];
            }
        };
        let mut lines = Vec::new();
        for packet in drained.packets {
            lines.push(match packet {
                Ok(packet) => self.show(packet),
                Err(err) => (
                    phrases::wire_undecodable(&err.to_string()),
                    serde_json::json!({ "undecodable": err.to_string() }),
                ),
            });
        }
        if drained.dropped > 0 {
            lines.push((
                phrases::wire_dropped(drained.dropped),
                serde_json::json!({ "dropped": drained.dropped }),
            ));
        }
        lines
    }

    fn finish(&mut self) {
        settle::until_quiet(LAST_PACKETS_WITHIN);
    }
}

/// How one packet's ends show: side names from the register, looked up once per packet.
struct Ends<'a> {
    named: Vec<(SocketAddrV4, String)>,
    registry: &'a Registry,
}

impl<'a> Ends<'a> {
    fn of(wire: &Wire, records: &[SockRecord], registry: &'a Registry) -> Ends<'a> {
        let named = match wire {
            Wire::Tcp(tcp) => vec![
                (tcp.src, tcp_side(records, tcp.src, tcp.dst)),
                (tcp.dst, tcp_side(records, tcp.dst, tcp.src)),
            ],
            Wire::Udp(udp) => vec![
                (udp.src, udp_side(records, udp.src)),
                (udp.dst, udp_side(records, udp.dst)),
            ],
            Wire::PortUnreachable(icmp) => {
                vec![(icmp.original_src, udp_side(records, icmp.original_src))]
            }
            _ => Vec::new(),
        };
        let named = named
            .into_iter()
            .filter_map(|(addr, side)| Some((addr, side?)))
            .collect();
        Ends { named, registry }
    }

    /// What the lab's checks see of the packet, with the names its line shows.
    fn captured(&self, wire: &Wire) -> Captured {
        let (from, to, what) = match wire {
            Wire::Tcp(tcp) => (
                self.endpoint(tcp.src),
                self.endpoint(tcp.dst),
                What::Tcp {
                    flags: flags_text(tcp.flags),
                    seq: tcp.seq.value,
                    ack: tcp.ack.map(|ack| ack.value),
                    len: tcp.payload_len,
                },
            ),
            Wire::Udp(udp) => (
                self.endpoint(udp.src),
                self.endpoint(udp.dst),
                What::Udp {
                    len: udp.payload_len,
                    length_field: udp.length_field,
                },
            ),
            Wire::PortUnreachable(icmp) => (
                self.host(icmp.src),
                self.endpoint(icmp.original_src),
                What::PortUnreachable,
            ),
            Wire::OtherIpv4 { src, dst, .. } => (self.host(*src), self.host(*dst), What::Other),
            Wire::NotIpv4 { .. } => (String::new(), String::new(), What::Other),
        };
        Captured { from, to, what }
    }
}

impl Naming for Ends<'_> {
    fn endpoint(&self, addr: SocketAddrV4) -> String {
        match self.named.iter().find(|(end, _)| *end == addr) {
            Some((_, side)) => side.clone(),
            None => format!("{}.{}", addr.ip(), self.port(addr.port())),
        }
    }

    fn port(&self, port: u16) -> String {
        self.registry.port(port)
    }

    /// The sender of an ICMP message is a kernel, not a socket.
    fn host(&self, _ip: Ipv4Addr) -> String {
        "kernel".to_string()
    }
}

fn is_at(addr: &Option<Addr>, end: SocketAddrV4) -> bool {
    matches!(addr, Some(Addr::Inet(SocketAddr::V4(a))) if *a == end)
}

/// The side of the TCP end `end` of a segment between `end` and `other` (see the module doc).
fn tcp_side(records: &[SockRecord], end: SocketAddrV4, other: SocketAddrV4) -> Option<String> {
    let newest_first = || records.iter().rev().filter(|r| r.proto == Proto::Tcp);
    let has_no_port = |r: &&SockRecord| r.local.as_ref().and_then(Addr::port).unwrap_or(0) == 0;
    newest_first()
        .find(|r| is_at(&r.local, end) && is_at(&r.peer, other))
        .or_else(|| newest_first().find(|r| r.listening && is_at(&r.local, end)))
        .or_else(|| {
            newest_first()
                .filter(has_no_port)
                .find(|r| is_at(&r.connecting_to, other))
        })
        .or_else(|| newest_first().find(|r| is_at(&r.local, end)))
        .map(|r| r.side.to_string())
}

/// The side whose open UDP socket is bound at `end` (or at its port on the wildcard address).
fn udp_side(records: &[SockRecord], end: SocketAddrV4) -> Option<String> {
    let target = Addr::Inet(SocketAddr::V4(end));
    records
        .iter()
        .rev()
        .filter(|r| r.proto == Proto::Udp && r.is_open())
        .find(|r| {
            r.local
                .as_ref()
                .is_some_and(|local| crate::sock::addr::receives_at(local, &target))
        })
        .map(|r| r.side.to_string())
}
