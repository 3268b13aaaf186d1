//! Packets in the notation students meet in tcpdump and Wireshark, and the same facts as
//! structured fields for JSON.
//!
//! A TCP line reads as tcpdump prints it, less the `IP` prefix, the TCP options and (unless
//! asked for) the window:
//!
//! ```text
//! client > server: Flags [S], seq 0, length 0
//! server > client: Flags [S.], seq 0, ack 1, length 0
//! client > server: Flags [.], ack 1, length 0
//! client > server: Flags [P.], seq 1:6, ack 1, length 5
//! client > server: Flags [F.], seq 11, ack 1, length 0
//! client > server: UDP, length 0 (length field 8)
//! kernel > client: ICMP 127.0.0.1 udp port PORT unreachable
//! ```
//!
//! Sequence and acknowledgement numbers are relative to each direction's first sequence number
//! (its SYN), as Wireshark shows them and as tcpdump does after the handshake; the SYN itself
//! shows `seq 0`. The window is left out by default: after the handshake it is scaled by a
//! shift that follows the host's net.ipv4.tcp_rmem (`win 64` on one machine, `win 512` on
//! another), so it would make a trace differ between machines.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use serde_json::{json, Value};

use super::decode::{Packet, PortUnreachable, TcpFlags, TcpSegment, UdpDatagram};

/// How addresses show in a wire line: netlab's stable names (`client`, `server`, `PORT`) or
/// the real numbers. The defaults are tcpdump's numeric form.
pub trait Naming {
    /// A TCP or UDP endpoint: `127.0.0.1.40000` by default.
    fn endpoint(&self, addr: SocketAddrV4) -> String {
        format!("{}.{}", addr.ip(), addr.port())
    }
    /// A port alone (the closed port an ICMP message names): `40000` by default.
    fn port(&self, port: u16) -> String {
        port.to_string()
    }
    /// A host without a port (the sender of an ICMP message): `127.0.0.1` by default.
    fn host(&self, ip: Ipv4Addr) -> String {
        ip.to_string()
    }
}

/// tcpdump's numeric notation (`--raw`, tests).
pub struct Numeric;

impl Naming for Numeric {}

/// What a line shows beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Show `win N` (the window field as sent): varies between machines, see the module doc.
    pub window: bool,
}

/// A sequence or acknowledgement number as shown: relative to its direction's first sequence
/// number, or absolute when that direction's start was never captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqNumber {
    pub value: u32,
    pub relative: bool,
}

/// A TCP segment with its numbers made relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpWire {
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub flags: TcpFlags,
    pub seq: SeqNumber,
    /// Present when the ACK flag is set.
    pub ack: Option<SeqNumber>,
    pub window: u16,
    pub payload_len: u16,
}

/// One captured packet, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    Tcp(TcpWire),
    Udp(UdpDatagram),
    PortUnreachable(PortUnreachable),
    /// IPv4 that netlab does not decode further: shown, never dropped silently.
    OtherIpv4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        total_len: u16,
    },
    /// Not IPv4 (IPv6, say): shown, never dropped silently.
    NotIpv4 {
        version: u8,
    },
}

/// Turns a run's packets, in capture order, into [`Wire`] records: it remembers each TCP
/// direction's first sequence number. One per capture.
#[derive(Debug, Default)]
pub struct Notation {
    /// (from, to) -> the first sequence number seen from `from` to `to`.
    initial_seq: HashMap<(SocketAddrV4, SocketAddrV4), u32>,
}

impl Notation {
    pub fn new() -> Notation {
        Notation::default()
    }

    pub fn wire(&mut self, packet: Packet) -> Wire {
        match packet {
            Packet::Tcp(segment) => Wire::Tcp(self.tcp(&segment)),
            Packet::Udp(datagram) => Wire::Udp(datagram),
            Packet::PortUnreachable(icmp) => Wire::PortUnreachable(icmp),
            Packet::OtherIpv4 {
                src,
                dst,
                protocol,
                total_len,
            } => Wire::OtherIpv4 {
                src,
                dst,
                protocol,
                total_len,
            },
            Packet::NotIpv4 { version } => Wire::NotIpv4 { version },
        }
    }

    fn tcp(&mut self, segment: &TcpSegment) -> TcpWire {
        let forward = (segment.src, segment.dst);
        let backward = (segment.dst, segment.src);
        if segment.flags.has(TcpFlags::SYN) {
            // A SYN starts a direction afresh: a new connection may reuse an old port pair.
            self.initial_seq.insert(forward, segment.seq);
            if !segment.flags.has(TcpFlags::ACK) {
                self.initial_seq.remove(&backward);
            }
        }
        let seq_base = *self.initial_seq.entry(forward).or_insert(segment.seq);
        let ack = segment
            .flags
            .has(TcpFlags::ACK)
            .then(|| match self.initial_seq.get(&backward) {
                Some(base) => SeqNumber {
                    value: segment.ack.wrapping_sub(*base),
                    relative: true,
                },
                None => SeqNumber {
                    value: segment.ack,
                    relative: false,
                },
            });
        TcpWire {
            src: segment.src,
            dst: segment.dst,
            flags: segment.flags,
            seq: SeqNumber {
                value: segment.seq.wrapping_sub(seq_base),
                relative: true,
            },
            ack,
            window: segment.window,
            payload_len: segment.payload_len,
        }
    }
}

/// The flags as tcpdump prints them: one letter each in tcpdump's order F S R P, then `.` for
/// ACK, then U E W; `none` when no flag is set. SYN+ACK is `S.`, FIN+PSH+ACK is `FP.`.
pub fn flags_text(flags: TcpFlags) -> String {
    const LETTERS: [(u8, char); 8] = [
        (TcpFlags::FIN, 'F'),
        (TcpFlags::SYN, 'S'),
        (TcpFlags::RST, 'R'),
        (TcpFlags::PSH, 'P'),
        (TcpFlags::ACK, '.'),
        (TcpFlags::URG, 'U'),
        (TcpFlags::ECE, 'E'),
        (TcpFlags::CWR, 'W'),
    ];
    let text: String = LETTERS
        .iter()
        .filter(|(bit, _)| flags.has(*bit))
        .map(|(_, letter)| *letter)
        .collect();
    if text.is_empty() {
        "none".to_string()
    } else {
        text
    }
}

impl Wire {
    /// The line as the trace shows it (see the module doc).
    pub fn text(&self, naming: &dyn Naming, style: Style) -> String {
        match self {
            Wire::Tcp(tcp) => tcp_text(tcp, naming, style),
            Wire::Udp(udp) => format!(
                "{} > {}: UDP, length {} (length field {})",
                naming.endpoint(udp.src),
                naming.endpoint(udp.dst),
                udp.payload_len,
                udp.length_field
            ),
            Wire::PortUnreachable(icmp) => format!(
                "{} > {}: ICMP {} udp port {} unreachable",
                naming.host(icmp.src),
                naming.endpoint(icmp.original_src),
                icmp.original_dst.ip(),
                naming.port(icmp.original_dst.port())
            ),
            Wire::OtherIpv4 {
                src,
                dst,
                protocol,
                total_len,
            } => format!(
                "{} > {}: IP protocol {protocol}, length {total_len}",
                naming.host(*src),
                naming.host(*dst)
            ),
            Wire::NotIpv4 { version } => format!("IP version {version} packet"),
        }
    }

    /// The same facts as JSON fields, names as `naming` gives them and numbers as numbers.
    pub fn json(&self, naming: &dyn Naming) -> Value {
        match self {
            Wire::Tcp(tcp) => json!({
                "protocol": "tcp",
                "src": naming.endpoint(tcp.src),
                "dst": naming.endpoint(tcp.dst),
                "flags": flags_text(tcp.flags),
                "seq": tcp.seq.value,
                "seq_relative": tcp.seq.relative,
                "ack": tcp.ack.map(|ack| ack.value),
                "ack_relative": tcp.ack.map(|ack| ack.relative),
                "window": tcp.window,
                "length": tcp.payload_len,
            }),
            Wire::Udp(udp) => json!({
                "protocol": "udp",
                "src": naming.endpoint(udp.src),
                "dst": naming.endpoint(udp.dst),
                "length": udp.payload_len,
                "length_field": udp.length_field,
            }),
            Wire::PortUnreachable(icmp) => json!({
                "protocol": "icmp",
                "icmp": "port unreachable",
                "src": naming.host(icmp.src),
                "dst": naming.endpoint(icmp.original_src),
                "unreachable_port": naming.port(icmp.original_dst.port()),
            }),
            Wire::OtherIpv4 {
                src,
                dst,
                protocol,
                total_len,
            } => json!({
                "protocol": protocol,
                "src": naming.host(*src),
                "dst": naming.host(*dst),
                "ip_length": total_len,
            }),
            Wire::NotIpv4 { version } => json!({ "ip_version": version }),
        }
    }
}

/// tcpdump's TCP fields: `seq` only when the segment carries data, SYN, FIN or RST (a range
/// `a:b` when it carries data), `ack` only with the ACK flag, then `win`, then `length`.
fn tcp_text(tcp: &TcpWire, naming: &dyn Naming, style: Style) -> String {
    let mut text = format!(
        "{} > {}: Flags [{}]",
        naming.endpoint(tcp.src),
        naming.endpoint(tcp.dst),
        flags_text(tcp.flags)
    );
    let flags = tcp.flags;
    let len = u32::from(tcp.payload_len);
    if len > 0 || flags.has(TcpFlags::SYN) || flags.has(TcpFlags::FIN) || flags.has(TcpFlags::RST) {
        text.push_str(&format!(", seq {}", tcp.seq.value));
        if len > 0 {
            text.push_str(&format!(":{}", tcp.seq.value.wrapping_add(len)));
        }
    }
    if let Some(ack) = tcp.ack {
        text.push_str(&format!(", ack {}", ack.value));
    }
    if style.window {
        text.push_str(&format!(", win {}", tcp.window));
    }
    text.push_str(&format!(", length {len}"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::decode::decode;
    use crate::wire::decode::tests::{port_unreachable_packet, tcp_packet, udp_packet};

    const CLIENT: u16 = 40000;
    const SERVER: u16 = 8080;
    const C_ISN: u32 = 4_157_256_957;
    const S_ISN: u32 = 2_940_269_608;

    /// Shows ports by role, as the engine will.
    struct Roles;

    impl Naming for Roles {
        fn endpoint(&self, addr: SocketAddrV4) -> String {
            match addr.port() {
                CLIENT => "client".into(),
                SERVER => "server".into(),
                other => other.to_string(),
            }
        }
        fn port(&self, port: u16) -> String {
            if port == SERVER {
                "PORT".into()
            } else {
                port.to_string()
            }
        }
        fn host(&self, _ip: Ipv4Addr) -> String {
            "kernel".into()
        }
    }

    fn lines(packets: &[Vec<u8>], naming: &dyn Naming, style: Style) -> Vec<String> {
        let mut notation = Notation::new();
        packets
            .iter()
            .map(|bytes| {
                notation
                    .wire(decode(bytes).expect("decodes"))
                    .text(naming, style)
            })
            .collect()
    }

    const S: u8 = TcpFlags::SYN;
    const A: u8 = TcpFlags::ACK;
    const P: u8 = TcpFlags::PSH;
    const F: u8 = TcpFlags::FIN;
    const R: u8 = TcpFlags::RST;

    /// The segments tcpdump showed for a connect, two 5-byte sends, and a close by each side,
    /// captured on this machine's lo (see the module doc of `wire`).
    fn conversation() -> Vec<Vec<u8>> {
        vec![
            tcp_packet(CLIENT, SERVER, C_ISN, 0, S, 0),
            tcp_packet(SERVER, CLIENT, S_ISN, C_ISN + 1, S | A, 0),
            tcp_packet(CLIENT, SERVER, C_ISN + 1, S_ISN + 1, A, 0),
            tcp_packet(CLIENT, SERVER, C_ISN + 1, S_ISN + 1, P | A, 5),
            tcp_packet(SERVER, CLIENT, S_ISN + 1, C_ISN + 6, A, 0),
            tcp_packet(CLIENT, SERVER, C_ISN + 6, S_ISN + 1, P | A, 5),
            tcp_packet(CLIENT, SERVER, C_ISN + 11, S_ISN + 1, F | A, 0),
            tcp_packet(SERVER, CLIENT, S_ISN + 1, C_ISN + 12, F | A, 0),
            tcp_packet(CLIENT, SERVER, C_ISN + 12, S_ISN + 2, A, 0),
        ]
    }

    #[test]
    fn a_conversation_reads_as_tcpdump_prints_it_relative_to_each_sides_first_seq() {
        assert_eq!(
            lines(&conversation(), &Roles, Style::default()),
            [
                "client > server: Flags [S], seq 0, length 0",
                "server > client: Flags [S.], seq 0, ack 1, length 0",
                "client > server: Flags [.], ack 1, length 0",
                "client > server: Flags [P.], seq 1:6, ack 1, length 5",
                "server > client: Flags [.], ack 6, length 0",
                "client > server: Flags [P.], seq 6:11, ack 1, length 5",
                "client > server: Flags [F.], seq 11, ack 1, length 0",
                "server > client: Flags [F.], seq 1, ack 12, length 0",
                "client > server: Flags [.], ack 2, length 0",
            ]
        );
    }

    #[test]
    fn numeric_naming_and_the_window_match_tcpdumps_own_line() {
        // tcpdump -n: "IP 127.0.0.1.40000 > 127.0.0.1.8080: Flags [P.], seq 1:6, ack 1,
        // win 65495, options [...], length 5" (our test packets carry window 65495).
        let shown = lines(&conversation()[..4], &Numeric, Style { window: true });
        assert_eq!(
            shown[3],
            "127.0.0.1.40000 > 127.0.0.1.8080: Flags [P.], seq 1:6, ack 1, win 65495, length 5"
        );
    }

    #[test]
    fn flags_print_in_tcpdumps_order() {
        assert_eq!(flags_text(TcpFlags(S)), "S");
        assert_eq!(flags_text(TcpFlags(S | A)), "S.");
        assert_eq!(flags_text(TcpFlags(F | P | A)), "FP.");
        assert_eq!(flags_text(TcpFlags(R)), "R");
        assert_eq!(flags_text(TcpFlags(R | A)), "R.");
        assert_eq!(
            flags_text(TcpFlags(S | TcpFlags::ECE | TcpFlags::CWR)),
            "SEW"
        );
        assert_eq!(flags_text(TcpFlags(0)), "none");
    }

    #[test]
    fn a_refused_syn_gets_r_dot_with_seq_0_and_ack_1() {
        let packets = [
            tcp_packet(CLIENT, SERVER, C_ISN, 0, S, 0),
            tcp_packet(SERVER, CLIENT, 0, C_ISN + 1, R | A, 0),
        ];
        assert_eq!(
            lines(&packets, &Roles, Style::default())[1],
            "server > client: Flags [R.], seq 0, ack 1, length 0"
        );
    }

    #[test]
    fn a_new_syn_on_the_same_ports_starts_the_numbering_again() {
        let mut packets = conversation();
        packets.push(tcp_packet(CLIENT, SERVER, 77, 0, S, 0));
        packets.push(tcp_packet(SERVER, CLIENT, 99, 78, S | A, 0));
        let shown = lines(&packets, &Roles, Style::default());
        assert_eq!(shown[9], "client > server: Flags [S], seq 0, length 0");
        assert_eq!(
            shown[10],
            "server > client: Flags [S.], seq 0, ack 1, length 0"
        );
    }

    #[test]
    fn an_ack_for_a_direction_never_seen_stays_absolute_and_says_so() {
        let mut notation = Notation::new();
        let wire = notation.wire(decode(&tcp_packet(CLIENT, SERVER, 5, 1234, A, 0)).unwrap());
        let Wire::Tcp(tcp) = &wire else { panic!() };
        assert_eq!(
            tcp.ack,
            Some(SeqNumber {
                value: 1234,
                relative: false
            })
        );
        assert_eq!(wire.json(&Roles)["ack_relative"], json!(false));
    }

    #[test]
    fn udp_shows_payload_and_length_field_and_icmp_names_the_closed_port() {
        let packets = [
            udp_packet(CLIENT, SERVER, 0),
            port_unreachable_packet(CLIENT, SERVER),
        ];
        assert_eq!(
            lines(&packets, &Roles, Style::default()),
            [
                "client > server: UDP, length 0 (length field 8)",
                "kernel > client: ICMP 127.0.0.1 udp port PORT unreachable",
            ]
        );
        assert_eq!(
            lines(&packets[1..], &Numeric, Style::default())[0],
            "127.0.0.1 > 127.0.0.1.40000: ICMP 127.0.0.1 udp port 8080 unreachable"
        );
    }

    #[test]
    fn json_carries_the_same_facts_as_the_line() {
        let mut notation = Notation::new();
        let mut last = Value::Null;
        for bytes in &conversation()[..4] {
            last = notation.wire(decode(bytes).unwrap()).json(&Roles);
        }
        assert_eq!(
            last,
            json!({
                "protocol": "tcp", "src": "client", "dst": "server", "flags": "P.",
                "seq": 1, "seq_relative": true, "ack": 1, "ack_relative": true,
                "window": 65495, "length": 5,
            })
        );
        let udp = Notation::new()
            .wire(decode(&udp_packet(CLIENT, SERVER, 0)).unwrap())
            .json(&Roles);
        assert_eq!(udp["length"], json!(0));
        assert_eq!(udp["length_field"], json!(8));
    }
}
