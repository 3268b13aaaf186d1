//! Waiting until the lab's traffic is complete, so that the packets a call caused are in the
//! capture before the call's line is followed by its `wire` lines, whatever the timers and the
//! load did.
//!
//! A packet's outgoing copy is queued to the capture before the packet reaches its receiver
//! (see [`super::capture`]), so any packet whose effect the kernel shows is already captured.
//! What the kernel can show, in the private namespace that holds only this process's sockets:
//!
//! - Every IP packet sent has been received and handled: the namespace's IP counters
//!   (/proc/net/snmp) count each packet handed to a protocol (`InDelivers`) only after the
//!   protocol's handler returned, and the handler sends what it answers at once (a SYN-ACK, a
//!   RST, the ICMP "port unreachable" for a datagram to a closed UDP port). So once the
//!   packets handled (with those dropped on the way) reach the packets transmitted
//!   (`OutTransmits`), every answer sent on receipt is sent, hence captured.
//! - No TCP socket waits for an acknowledgement: its retransmission timer runs while data, a
//!   SYN or a FIN it sent is unacknowledged (sock_diag's `idiag_timer`, the `tr` column of
//!   /proc/net/tcp). A delayed ACK (40 ms
//!   and more) is what ends that wait; so are the ACK of a FIN and the last ACK of a close.
//!   A socket in SYN_SENT is left out: its SYN went out before connect() returned, and a SYN
//!   the listener dropped (a full accept queue) is never answered.
//!
//! Both hold only once the traffic a call started is over. The two counters are read twice
//! around the TCP check and must not have moved, so a packet sent meanwhile is never missed.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use crate::sockdiag;

/// How often the kernel is asked again while something is on its way: a delayed ACK takes
/// 40 ms or more, a packet on lo microseconds.
const LOOK_EVERY: Duration = Duration::from_micros(200);

/// TCP state numbers (include/net/tcp_states.h) this module needs.
const SYN_SENT: u8 = 2;

/// Waits, at most `limit`, until nothing this namespace sent is still on its way or waiting
/// for its answer (see the module doc). Returns whether it got there; after `limit` the
/// trace goes on and shows whatever the capture holds.
pub fn until_quiet(limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if matches!(is_quiet(), Ok(true)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(LOOK_EVERY);
    }
}

fn is_quiet() -> io::Result<bool> {
    let before = IpCounters::read()?;
    if !before.all_handled() {
        return Ok(false);
    }
    Ok(!tcp_awaits_ack()? && IpCounters::read()? == before)
}

/// Whether a TCP socket of the namespace, other than one in SYN_SENT, awaits an ACK. Asks
/// sock_diag; where netlink is refused, the same table as /proc/net/tcp prints it (in this
/// namespace it holds only the lab's sockets, so it is short).
fn tcp_awaits_ack() -> io::Result<bool> {
    match sockdiag::tcp_sockets(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0, 0) {
        Ok(sockets) => Ok(sockets
            .iter()
            .any(|socket| socket.awaiting_ack && socket.state != SYN_SENT)),
        Err(_) => Ok(proc_net_tcp_awaits_ack(&std::fs::read_to_string(
            "/proc/net/tcp",
        )?)),
    }
}

/// /proc/net/tcp: `sl local_address rem_address st tx_queue:rx_queue tr:tm->when ...`, the
/// state and the timer in hex; timer 1 is the retransmission timer.
fn proc_net_tcp_awaits_ack(table: &str) -> bool {
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let state = fields.get(3).and_then(|st| u8::from_str_radix(st, 16).ok());
        let timer = fields.get(5).and_then(|tr| tr.split(':').next());
        timer == Some("01") && state != Some(SYN_SENT)
    })
}

/// The namespace's IP counters that tell whether every packet sent has been handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpCounters {
    /// Packets handed to a protocol's handler after it returned, or dropped on the way in.
    handled: u64,
    /// Packets transmitted.
    transmitted: u64,
}

impl IpCounters {
    /// From /proc/net/snmp, which shows the reading thread's network namespace.
    fn read() -> io::Result<IpCounters> {
        let snmp = std::fs::read_to_string("/proc/net/snmp")?;
        IpCounters::parse(&snmp).ok_or_else(|| {
            io::Error::other("/proc/net/snmp has no Ip counters in the form netlab expects")
        })
    }

    fn parse(snmp: &str) -> Option<IpCounters> {
        let mut ip = snmp.lines().filter(|line| line.starts_with("Ip: "));
        let (names, values) = (ip.next()?, ip.next()?);
        let field = |name: &str| -> Option<u64> {
            let at = names.split_whitespace().position(|n| n == name)?;
            values.split_whitespace().nth(at)?.parse().ok()
        };
        let dropped = [
            "InHdrErrors",
            "InAddrErrors",
            "InUnknownProtos",
            "InDiscards",
        ]
        .iter()
        .map(|name| field(name).unwrap_or(0))
        .sum::<u64>();
        Some(IpCounters {
            handled: field("InDelivers")? + dropped,
            // Kernels before 6.3 have no OutTransmits; their OutRequests counted the same.
            transmitted: field("OutTransmits").or_else(|| field("OutRequests"))?,
        })
    }

    fn all_handled(self) -> bool {
        self.handled >= self.transmitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNMP: &str = "\
Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits
Ip: 1 64 12 0 1 0 0 0 10 12 0 0 0 0 0 0 0 0 0 11
Icmp: InMsgs InErrors
Icmp: 1 0
";

    #[test]
    fn the_counters_come_from_the_ip_lines_by_name() {
        assert_eq!(
            IpCounters::parse(SNMP),
            Some(IpCounters {
                handled: 11,
                transmitted: 11
            })
        );
        assert!(IpCounters::parse(SNMP).unwrap().all_handled());
    }

    #[test]
    fn proc_net_tcp_tells_a_socket_awaiting_an_ack_by_its_timer() {
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
        let row = |st: &str, tr: &str| {
            format!("   0: 0100007F:9C40 0100007F:1F90 {st} 00000000:00000000 {tr}:00000014 00000000     0        0 1 1 0 20 4 30 10 -1\n")
        };
        let table = |rows: &[String]| format!("{header}{}", rows.concat());
        assert!(!proc_net_tcp_awaits_ack(&table(&[
            row("01", "00"),
            row("06", "03")
        ])));
        assert!(proc_net_tcp_awaits_ack(&table(&[row("04", "01")])));
        // A SYN the listener dropped is never answered: not waited for.
        assert!(!proc_net_tcp_awaits_ack(&table(&[row("02", "01")])));
    }

    #[test]
    fn an_older_kernel_without_out_transmits_counts_its_out_requests() {
        let old = SNMP.replace(" OutTransmits", "").replace(" 0 11\n", " 0\n");
        assert_eq!(IpCounters::parse(&old).unwrap().transmitted, 12);
        assert!(!IpCounters::parse(&old).unwrap().all_handled());
        assert_eq!(IpCounters::parse("Tcp: a\nTcp: 1\n"), None);
    }
}
