//! The kernel's TCP table for one pair of ports, asked through netlink `sock_diag` (the
//! interface `ss -tan` reads; see sock_diag(7)).
//!
//! Why not /proc/net/tcp: a closed socket in TIME_WAIT has no fd left to ask, so a lab has to
//! look it up in the kernel's table. /proc/net/tcp prints that whole table as text, every
//! connection of the host, and a lab that looks up its own connection a few times then takes a
//! time that grows with the host (lab 06: 28 ms on an idle host, 233 ms beside 28,500 other
//! sockets). A sock_diag dump whose request names a source and a destination port makes the
//! kernel skip every other socket before it formats anything: the answer holds only the lab's
//! own connections, in every state (TIME_WAIT and SYN_RECV included), each with the state
//! number /proc/net/tcp would print (a TIME_WAIT entry carries its sub-state, as there).
//!
//! Why a filtered dump rather than an exact look-up of one 4-tuple (a request without
//! NLM_F_DUMP): the exact look-up answers ENOENT both for "no such connection" and for "this
//! kernel has no TCP handler for sock_diag", and falls back to a listening socket when no
//! connection matches. A filtered dump says "none" as an empty, successful answer.
//!
//! This module only asks and decodes; [`crate::kernel`] decides what to do when netlink is
//! refused (it then reads /proc/net/tcp, and says so in the trace).

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags, Timer};
use netlink_packet_sock_diag::SockDiagMessage;
use socket2::{Domain, Protocol, Socket, Type};

/// Where a look-up in the kernel's TCP table was answered from: this module, or the same
/// table as text in /proc/net/tcp when netlink is refused. The trace line names it, so a
/// student can check the answer by hand (`ss -tan` reads sock_diag too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableSource {
    SockDiag,
    ProcNetTcp,
}

impl TableSource {
    /// The source as `--format json` names it in `probe.source`.
    pub fn name(self) -> &'static str {
        match self {
            TableSource::SockDiag => "sock_diag",
            TableSource::ProcNetTcp => "/proc/net/tcp",
        }
    }
}

/// One TCP socket of the kernel's table: its two ends and the kernel's state number
/// (include/net/tcp_states.h: 1 = ESTABLISHED ... 6 = TIME_WAIT ... 10 = LISTEN), the same
/// number /proc/net/tcp prints in its `st` column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TcpSocket {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: u8,
    /// The retransmission timer runs: something this socket sent (data, SYN, FIN) is not
    /// acknowledged yet (`idiag_timer` 1, as `ss -to` shows `timer:(on,...)`).
    pub awaiting_ack: bool,
}

/// The kernel answers in microseconds; this bound only keeps a kernel that never answers from
/// hanging a lab.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// Netlink never sends a dump datagram above 32 KiB; twice that tells a cut datagram (which
/// would fill the buffer) from a whole one.
const RECEIVE_BUFFER: usize = 64 * 1024;

/// Identifies our request's answers (each look-up uses a socket of its own).
const SEQUENCE: u32 = 1;

/// The TCP sockets, in every state, whose local port is `local_port` and whose remote port is
/// `remote_port`, in the address family of `family` (IPv4 or IPv6), as the kernel's table holds
/// them right now; a port 0 matches every port. Addresses are not filtered: the caller compares
/// them.
pub fn tcp_sockets(
    family: IpAddr,
    local_port: u16,
    remote_port: u16,
) -> io::Result<Vec<TcpSocket>> {
    let found = tcp_sockets_with_receive_queues(family, local_port, remote_port)?;
    Ok(found.into_iter().map(|(socket, _)| socket).collect())
}

/// Like [`tcp_sockets`], each socket with the bytes waiting unread in its receive queue
/// (`idiag_rqueue`, the Recv-Q column of `ss -tn`; for a listening socket, its accept queue).
/// The socket need not be netlab's: on loopback the other end of a connection is a socket of
/// this machine too, a student's program's, and its queue tells what that program left unread.
pub fn tcp_sockets_with_receive_queues(
    family: IpAddr,
    local_port: u16,
    remote_port: u16,
) -> io::Result<Vec<(TcpSocket, u32)>> {
    let socket = Socket::new(
        Domain::from(libc::AF_NETLINK),
        Type::DGRAM,
        Some(Protocol::from(libc::NETLINK_SOCK_DIAG)),
    )?;
    socket.set_read_timeout(Some(ANSWER_WITHIN))?;
    // An unconnected netlink socket with no destination address sends to the kernel.
    socket.send(&request(family, local_port, remote_port))?;
    let mut buffer = vec![0u8; RECEIVE_BUFFER];
    let mut found = Vec::new();
    loop {
        let n = match (&socket).read(&mut buffer) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "sock_diag: the kernel did not answer within {} s",
                        ANSWER_WITHIN.as_secs()
                    ),
                ))
            }
            Err(err) => return Err(err),
        };
        if n == buffer.len() {
            return Err(invalid("a sock_diag answer did not fit a 64 KiB buffer"));
        }
        if decode(&buffer[..n], &mut found)? == Answer::Complete {
            found.sort();
            return Ok(found);
        }
    }
}

/// The kernel's state number of a listening socket (include/net/tcp_states.h: TCP_LISTEN).
const LISTEN: u8 = 10;

/// The accept queue of the TCP socket of `family` listening on `port` (on any address):
/// connections whose handshake is done and that no accept() has taken yet, the Recv-Q column
/// of `ss -ltn` (a listening socket's `idiag_rqueue`). None when nothing listens there. The
/// kernel lists listening sockets only to a request whose remote port is 0.
pub fn accept_queue(family: IpAddr, port: u16) -> io::Result<Option<u32>> {
    let found = tcp_sockets_with_receive_queues(family, port, 0)?;
    Ok(found
        .into_iter()
        .find(|(socket, _)| socket.state == LISTEN && socket.local.port() == port)
        .map(|(_, queue)| queue))
}

/// `SOCK_DIAG_BY_FAMILY` dump request for TCP sockets in every state (the kernel adds
/// NEW_SYN_RECV to SYN_RECV itself) between the two ports.
fn request(family: IpAddr, local_port: u16, remote_port: u16) -> Vec<u8> {
    let (family, mut socket_id) = match family {
        IpAddr::V4(_) => (AF_INET, SocketId::new_v4()),
        IpAddr::V6(_) => (AF_INET6, SocketId::new_v6()),
    };
    socket_id.source_port = local_port;
    socket_id.destination_port = remote_port;
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = SEQUENCE;
    let mut message = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::all(),
            socket_id,
        })
        .into(),
    );
    message.finalize();
    let mut bytes = vec![0u8; message.buffer_len()];
    message.serialize(&mut bytes);
    bytes
}

#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Complete,
    MoreToCome,
}

/// Decodes one datagram of the answer into `found`: a sequence of netlink messages, each
/// starting at a 4-byte boundary, ended (perhaps in a later datagram) by NLMSG_DONE.
fn decode(mut datagram: &[u8], found: &mut Vec<(TcpSocket, u32)>) -> io::Result<Answer> {
    while !datagram.is_empty() {
        let message = NetlinkMessage::<SockDiagMessage>::deserialize(datagram)
            .map_err(|err| invalid(format!("an undecodable sock_diag answer: {err}")))?;
        let len = usize::try_from(message.header.length).unwrap_or(usize::MAX);
        if len == 0 || len > datagram.len() {
            return Err(invalid("a sock_diag answer with a wrong length"));
        }
        if message.header.sequence_number != SEQUENCE {
            return Err(invalid("a sock_diag answer to another request"));
        }
        match message.payload {
            NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                let id = &response.header.socket_id;
                let socket = TcpSocket {
                    local: SocketAddr::new(id.source_address, id.source_port),
                    remote: SocketAddr::new(id.destination_address, id.destination_port),
                    state: response.header.state,
                    awaiting_ack: matches!(response.header.timer, Some(Timer::Retransmit(..))),
                };
                found.push((socket, response.header.recv_queue));
            }
            // A dump that failed in the kernel (no TCP handler, say) ends with its errno here.
            NetlinkPayload::Done(done) if done.code < 0 => {
                return Err(io::Error::from_raw_os_error(done.code.saturating_neg()))
            }
            NetlinkPayload::Done(_) => return Ok(Answer::Complete),
            NetlinkPayload::Error(error) => {
                // Code 0 is an acknowledgement; anything else is the request's errno.
                if let Some(code) = error.code {
                    return Err(io::Error::from_raw_os_error(code.get().saturating_neg()));
                }
            }
            NetlinkPayload::Noop => {}
            other => {
                return Err(invalid(format!(
                    "an unexpected sock_diag answer: {other:?}"
                )))
            }
        }
        datagram = datagram.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(Answer::MoreToCome)
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn the_request_names_the_two_ports_in_network_order_and_every_state() {
        let bytes = request(LOOPBACK, 0x1234, 0xABCD);
        // nlmsghdr (16 bytes) + inet_diag_req_v2 (56 bytes)
        assert_eq!(bytes.len(), 72);
        assert_eq!(u32::from_ne_bytes(bytes[0..4].try_into().unwrap()), 72);
        assert_eq!(u16::from_ne_bytes(bytes[4..6].try_into().unwrap()), 20); // SOCK_DIAG_BY_FAMILY
        let flags = u16::from_ne_bytes(bytes[6..8].try_into().unwrap());
        assert_eq!(flags, NLM_F_REQUEST | NLM_F_DUMP);
        assert_eq!(bytes[16], libc::AF_INET as u8);
        assert_eq!(bytes[17], libc::IPPROTO_TCP as u8);
        let states = u32::from_ne_bytes(bytes[20..24].try_into().unwrap());
        assert_ne!(states & (1 << 6), 0, "TIME_WAIT is asked for");
        assert_ne!(states & (1 << 3), 0, "SYN_RECV is asked for");
        assert_eq!(&bytes[24..28], &[0x12, 0x34, 0xAB, 0xCD]);
    }

    #[test]
    fn a_refused_dump_is_an_error_and_an_empty_one_is_no_socket() {
        // NLMSG_DONE carrying -ENOENT (what a kernel without tcp_diag answers).
        let mut done = Vec::new();
        done.extend_from_slice(&20u32.to_ne_bytes());
        done.extend_from_slice(&3u16.to_ne_bytes());
        done.extend_from_slice(&2u16.to_ne_bytes());
        done.extend_from_slice(&SEQUENCE.to_ne_bytes());
        done.extend_from_slice(&0u32.to_ne_bytes());
        done.extend_from_slice(&(-libc::ENOENT).to_ne_bytes());
        let mut found = Vec::new();
        let err = decode(&done, &mut found).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));

        done[16..20].copy_from_slice(&0i32.to_ne_bytes());
        assert_eq!(decode(&done, &mut found).unwrap(), Answer::Complete);
        assert!(found.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut found = Vec::new();
        assert!(decode(&[1, 2, 3], &mut found).is_err());
        let mut wrong_length = vec![0u8; 20];
        wrong_length[0..4].copy_from_slice(&4000u32.to_ne_bytes());
        assert!(decode(&wrong_length, &mut found).is_err());
    }
}
