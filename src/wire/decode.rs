//! Decoding what the packet socket captured: IPv4 carrying TCP, UDP or ICMP.
//!
//! A hand decoder rather than a crate (etherparse, pnet_packet): netlab reads a dozen
//! fixed-offset fields of four headers, and the well-kept crate for it (etherparse) is 85,000
//! lines whose current version needs a newer Rust than netlab declares. Every field is read
//! through a bounds-checked accessor, so a short or odd packet is a [`DecodeError`], never a
//! panic (tested on random bytes below).
//!
//! Lengths come from the headers (IPv4 total length, UDP length), not from how many bytes were
//! captured: the capture keeps only the first bytes of each packet (its snap length), which
//! always hold the headers.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

/// IP protocol numbers (IANA).
const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;

/// ICMP destination unreachable (type 3), code 3: port unreachable (RFC 792).
const ICMP_DEST_UNREACHABLE: u8 = 3;
const ICMP_PORT_UNREACHABLE: u8 = 3;

/// The TCP header flags byte (RFC 9293, with ECE and CWR from RFC 3168).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
}

/// One TCP segment, numbers as they were on the wire (absolute sequence numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment {
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// The window field as sent (not multiplied by the window scale).
    pub window: u16,
    /// Bytes of TCP options (header length minus 20).
    pub options_len: u8,
    /// Bytes of data the segment carries.
    pub payload_len: u16,
}

/// One UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    /// The header's length field: 8 header bytes plus the payload.
    pub length_field: u16,
    pub payload_len: u16,
}

/// An ICMP "port unreachable": a host's answer to a UDP datagram sent to a port where no
/// socket is bound, quoting the start of that datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortUnreachable {
    /// Who sent the ICMP message (the host whose port was closed).
    pub src: Ipv4Addr,
    /// Where it went (the host that sent the datagram).
    pub dst: Ipv4Addr,
    /// The quoted datagram's source: the socket that sent it.
    pub original_src: SocketAddrV4,
    /// The quoted datagram's destination: the closed port.
    pub original_dst: SocketAddrV4,
}

/// A decoded packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Tcp(TcpSegment),
    Udp(UdpDatagram),
    PortUnreachable(PortUnreachable),
    /// IPv4 that is none of the above (another protocol, another ICMP message, a fragment).
    OtherIpv4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        total_len: u16,
    },
    /// Not IPv4 at all (IPv6, say): the version nibble.
    NotIpv4 {
        version: u8,
    },
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end before a header does.
    Truncated {
        header: &'static str,
        needed: usize,
        captured: usize,
    },
    /// A header contradicts itself or the layer below it.
    Inconsistent(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated {
                header,
                needed,
                captured,
            } => write!(
                f,
                "{header} header cut short: {needed} bytes needed, {captured} captured"
            ),
            DecodeError::Inconsistent(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Bounds-checked big-endian reads from one header.
struct Header<'a> {
    name: &'static str,
    bytes: &'a [u8],
}

impl<'a> Header<'a> {
    /// The header starting at `offset`, which must hold at least `min_len` bytes.
    fn at(
        name: &'static str,
        bytes: &'a [u8],
        offset: usize,
        min_len: usize,
    ) -> Result<Self, DecodeError> {
        let bytes = bytes.get(offset..).unwrap_or_default();
        let header = Header { name, bytes };
        header.need(min_len)?;
        Ok(header)
    }

    fn need(&self, len: usize) -> Result<(), DecodeError> {
        if self.bytes.len() < len {
            return Err(DecodeError::Truncated {
                header: self.name,
                needed: len,
                captured: self.bytes.len(),
            });
        }
        Ok(())
    }

    fn u8(&self, at: usize) -> Result<u8, DecodeError> {
        self.need(at + 1)?;
        Ok(self.bytes[at])
    }

    fn u16(&self, at: usize) -> Result<u16, DecodeError> {
        self.need(at + 2)?;
        Ok(u16::from_be_bytes([self.bytes[at], self.bytes[at + 1]]))
    }

    fn u32(&self, at: usize) -> Result<u32, DecodeError> {
        self.need(at + 4)?;
        let b = &self.bytes[at..at + 4];
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn ipv4(&self, at: usize) -> Result<Ipv4Addr, DecodeError> {
        self.u32(at).map(Ipv4Addr::from)
    }
}

/// An IPv4 header: the addresses, the protocol, and where its payload starts and how long
/// it is according to the header.
struct Ipv4 {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    total_len: u16,
    header_len: usize,
    fragment: bool,
}

impl Ipv4 {
    fn payload_len(&self) -> usize {
        usize::from(self.total_len) - self.header_len
    }
}

/// Reads an IPv4 header (RFC 791) at the start of `bytes`.
fn ipv4(bytes: &[u8]) -> Result<Ipv4, DecodeError> {
    let ip = Header::at("IPv4", bytes, 0, 20)?;
    let header_len = usize::from(ip.u8(0)? & 0x0f) * 4;
    if header_len < 20 {
        return Err(DecodeError::Inconsistent("IPv4 header length below 20"));
    }
    ip.need(header_len)?;
    let total_len = ip.u16(2)?;
    if usize::from(total_len) < header_len {
        return Err(DecodeError::Inconsistent(
            "IPv4 total length below its header length",
        ));
    }
    let fragment_field = ip.u16(6)?;
    Ok(Ipv4 {
        src: ip.ipv4(12)?,
        dst: ip.ipv4(16)?,
        protocol: ip.u8(9)?,
        total_len,
        header_len,
        // More fragments, or an offset: a piece of a packet, not a whole one.
        fragment: fragment_field & 0x3fff != 0,
    })
}

/// Decodes one captured packet that starts with its IP header (an AF_PACKET SOCK_DGRAM read).
pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    let version = Header::at("IP", bytes, 0, 1)?.u8(0)? >> 4;
    if version != 4 {
        return Ok(Packet::NotIpv4 { version });
    }
    let ip = ipv4(bytes)?;
    let other = Packet::OtherIpv4 {
        src: ip.src,
        dst: ip.dst,
        protocol: ip.protocol,
        total_len: ip.total_len,
    };
    if ip.fragment {
        return Ok(other);
    }
    match ip.protocol {
        TCP => tcp(&ip, bytes).map(Packet::Tcp),
        UDP => udp(&ip, bytes).map(Packet::Udp),
        ICMP => Ok(icmp(&ip, bytes)?
            .map(Packet::PortUnreachable)
            .unwrap_or(other)),
        _ => Ok(other),
    }
}

/// A TCP header (RFC 9293) after the IPv4 header.
fn tcp(ip: &Ipv4, bytes: &[u8]) -> Result<TcpSegment, DecodeError> {
    let tcp = Header::at("TCP", bytes, ip.header_len, 20)?;
    let header_len = usize::from(tcp.u8(12)? >> 4) * 4;
    if header_len < 20 {
        return Err(DecodeError::Inconsistent("TCP data offset below 20 bytes"));
    }
    tcp.need(header_len)?;
    let payload_len = ip
        .payload_len()
        .checked_sub(header_len)
        .ok_or(DecodeError::Inconsistent(
            "TCP header longer than the IPv4 payload",
        ))?;
    Ok(TcpSegment {
        src: SocketAddrV4::new(ip.src, tcp.u16(0)?),
        dst: SocketAddrV4::new(ip.dst, tcp.u16(2)?),
        seq: tcp.u32(4)?,
        ack: tcp.u32(8)?,
        flags: TcpFlags(tcp.u8(13)?),
        window: tcp.u16(14)?,
        // header_len is at most 60.
        options_len: (header_len - 20) as u8,
        // payload_len is at most the IPv4 total length, a u16.
        payload_len: payload_len as u16,
    })
}

/// A UDP header (RFC 768) after the IPv4 header.
fn udp(ip: &Ipv4, bytes: &[u8]) -> Result<UdpDatagram, DecodeError> {
    let udp = Header::at("UDP", bytes, ip.header_len, 8)?;
    let length_field = udp.u16(4)?;
    if length_field < 8 || usize::from(length_field) > ip.payload_len() {
        return Err(DecodeError::Inconsistent(
            "UDP length field outside 8 ..= the IPv4 payload length",
        ));
    }
    Ok(UdpDatagram {
        src: SocketAddrV4::new(ip.src, udp.u16(0)?),
        dst: SocketAddrV4::new(ip.dst, udp.u16(2)?),
        length_field,
        payload_len: length_field - 8,
    })
}

/// An ICMP message (RFC 792) after the IPv4 header: a port unreachable that quotes a UDP
/// datagram's IPv4 header and first 8 bytes, or None for any other ICMP message.
fn icmp(ip: &Ipv4, bytes: &[u8]) -> Result<Option<PortUnreachable>, DecodeError> {
    let icmp = Header::at("ICMP", bytes, ip.header_len, 8)?;
    if icmp.u8(0)? != ICMP_DEST_UNREACHABLE || icmp.u8(1)? != ICMP_PORT_UNREACHABLE {
        return Ok(None);
    }
    let quoted_at = ip.header_len + 8;
    let quoted = ipv4(bytes.get(quoted_at..).unwrap_or_default())?;
    if quoted.protocol != UDP {
        return Ok(None);
    }
    let quoted_udp = Header::at("quoted UDP", bytes, quoted_at + quoted.header_len, 4)?;
    Ok(Some(PortUnreachable {
        src: ip.src,
        dst: ip.dst,
        original_src: SocketAddrV4::new(quoted.src, quoted_udp.u16(0)?),
        original_dst: SocketAddrV4::new(quoted.dst, quoted_udp.u16(2)?),
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOCALHOST: [u8; 4] = [127, 0, 0, 1];

    /// An IPv4 header of 20 bytes (no options) for `protocol` with `payload_len` bytes after it.
    pub(crate) fn ipv4_header(protocol: u8, payload_len: usize) -> Vec<u8> {
        let total = (20 + payload_len) as u16;
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]); // id, DF, ttl, protocol
        h.extend_from_slice(&LOCALHOST);
        h.extend_from_slice(&LOCALHOST);
        h
    }

    /// A TCP segment from port `src` to `dst` with no options and `payload` bytes of data.
    pub(crate) fn tcp_packet(
        src: u16,
        dst: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: usize,
    ) -> Vec<u8> {
        let mut p = ipv4_header(TCP, 20 + payload);
        p.extend_from_slice(&src.to_be_bytes());
        p.extend_from_slice(&dst.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xd7, 0, 0, 0, 0]); // doff 5, win 65495
        p.extend(std::iter::repeat(b'x').take(payload));
        p
    }

    pub(crate) fn udp_packet(src: u16, dst: u16, payload: usize) -> Vec<u8> {
        let mut p = ipv4_header(UDP, 8 + payload);
        p.extend_from_slice(&src.to_be_bytes());
        p.extend_from_slice(&dst.to_be_bytes());
        p.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend(std::iter::repeat(b'x').take(payload));
        p
    }

    /// The port unreachable Linux sends for `udp_packet(src, dst, 0)`.
    pub(crate) fn port_unreachable_packet(src: u16, dst: u16) -> Vec<u8> {
        let quoted = udp_packet(src, dst, 0);
        let mut p = ipv4_header(ICMP, 8 + quoted.len());
        p.extend_from_slice(&[
            ICMP_DEST_UNREACHABLE,
            ICMP_PORT_UNREACHABLE,
            0,
            0,
            0,
            0,
            0,
            0,
        ]);
        p.extend_from_slice(&quoted);
        p
    }

    fn local(port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
    }

    #[test]
    fn a_tcp_segment_gives_its_fields_and_its_payload_length() {
        let packet = tcp_packet(40000, 8080, 7, 9, TcpFlags::PSH | TcpFlags::ACK, 5);
        assert_eq!(
            decode(&packet),
            Ok(Packet::Tcp(TcpSegment {
                src: local(40000),
                dst: local(8080),
                seq: 7,
                ack: 9,
                flags: TcpFlags(0x18),
                window: 65495,
                options_len: 0,
                payload_len: 5,
            }))
        );
    }

    #[test]
    fn the_payload_length_comes_from_the_header_not_from_what_was_captured() {
        let packet = tcp_packet(1, 2, 0, 0, TcpFlags::ACK, 1000);
        let Ok(Packet::Tcp(segment)) = decode(&packet[..40]) else {
            panic!("a snapped segment still decodes")
        };
        assert_eq!(segment.payload_len, 1000);
    }

    #[test]
    fn tcp_options_count_in_the_header_not_in_the_payload() {
        let mut packet = tcp_packet(1, 2, 0, 0, TcpFlags::SYN, 0);
        packet[32] = 0x80; // data offset 8: 12 bytes of options
        packet.extend_from_slice(&[1; 12]);
        packet[2..4].copy_from_slice(&52u16.to_be_bytes());
        let Ok(Packet::Tcp(segment)) = decode(&packet) else {
            panic!("decodes")
        };
        assert_eq!((segment.options_len, segment.payload_len), (12, 0));
    }

    #[test]
    fn an_empty_udp_datagram_has_length_field_8() {
        assert_eq!(
            decode(&udp_packet(5000, 6000, 0)),
            Ok(Packet::Udp(UdpDatagram {
                src: local(5000),
                dst: local(6000),
                length_field: 8,
                payload_len: 0,
            }))
        );
        let Ok(Packet::Udp(five)) = decode(&udp_packet(5000, 6000, 5)) else {
            panic!("decodes")
        };
        assert_eq!((five.length_field, five.payload_len), (13, 5));
    }

    #[test]
    fn a_port_unreachable_names_the_quoted_datagrams_ports() {
        assert_eq!(
            decode(&port_unreachable_packet(5000, 9)),
            Ok(Packet::PortUnreachable(PortUnreachable {
                src: Ipv4Addr::LOCALHOST,
                dst: Ipv4Addr::LOCALHOST,
                original_src: local(5000),
                original_dst: local(9),
            }))
        );
    }

    #[test]
    fn other_icmp_and_other_protocols_and_ipv6_are_named_not_decoded() {
        let mut echo = port_unreachable_packet(1, 2);
        echo[20] = 8; // echo request
        assert!(matches!(
            decode(&echo),
            Ok(Packet::OtherIpv4 { protocol: 1, .. })
        ));
        let sctp = ipv4_header(132, 0);
        assert!(matches!(
            decode(&sctp),
            Ok(Packet::OtherIpv4 { protocol: 132, .. })
        ));
        assert_eq!(decode(&[0x60, 0, 0, 0]), Ok(Packet::NotIpv4 { version: 6 }));
    }

    #[test]
    fn short_and_contradictory_packets_are_errors() {
        let packet = tcp_packet(1, 2, 0, 0, TcpFlags::SYN, 0);
        assert!(matches!(
            decode(&packet[..30]),
            Err(DecodeError::Truncated { header: "TCP", .. })
        ));
        assert!(decode(&[]).is_err());
        let mut ihl_small = packet.clone();
        ihl_small[0] = 0x44;
        assert!(matches!(
            decode(&ihl_small),
            Err(DecodeError::Inconsistent(_))
        ));
        let mut total_short = packet.clone();
        total_short[2..4].copy_from_slice(&30u16.to_be_bytes());
        assert!(matches!(
            decode(&total_short),
            Err(DecodeError::Inconsistent(_))
        ));
        let mut udp_long = udp_packet(1, 2, 0);
        udp_long[24..26].copy_from_slice(&9u16.to_be_bytes());
        assert!(matches!(
            decode(&udp_long),
            Err(DecodeError::Inconsistent(_))
        ));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn random_ipv4_headers_never_panic(
            protocol in prop_oneof![Just(ICMP), Just(TCP), Just(UDP), any::<u8>()],
            ihl in 0u8..16,
            total in any::<u16>(),
            rest in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut bytes = ipv4_header(protocol, 0);
            bytes[0] = 0x40 | ihl;
            bytes[2..4].copy_from_slice(&total.to_be_bytes());
            bytes.extend_from_slice(&rest);
            let _ = decode(&bytes);
        }

        #[test]
        fn every_cut_of_a_real_packet_decodes_or_errs(cut in 0usize..80, flags in any::<u8>()) {
            for packet in [
                tcp_packet(1, 2, 3, 4, flags, 9),
                udp_packet(1, 2, 3),
                port_unreachable_packet(1, 2),
            ] {
                let _ = decode(&packet[..cut.min(packet.len())]);
            }
        }
    }
}
