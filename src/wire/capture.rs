//! The capture: an AF_PACKET socket on lo that keeps one copy of every packet, in the order
//! the packets were sent.
//!
//! On lo every packet passes the packet taps twice: once as it is transmitted (pkt_type
//! PACKET_OUTGOING, from `dev_queue_xmit_nit` in the transmit path) and once as loopback hands
//! it back to the receive path (PACKET_HOST, from `__netif_receive_skb_core`). We keep the
//! outgoing copy. The transmit path clones the packet into this socket's queue synchronously,
//! in the context that sends it: for a segment a syscall sends (connect's SYN, send's data,
//! close's FIN) the copy is queued before the syscall returns, and for a segment the kernel
//! sends in answer (a SYN-ACK, an ACK) the copy is queued while the kernel processes what it
//! answers, before the receiving socket's state changes. The incoming copy is queued only
//! when the NET_RX softirq runs the loopback backlog, which under load can be ksoftirqd, later.
//! Outgoing copies are also in transmission order, the order a student would draw.
//!
//! Only a packet socket bound to ETH_P_ALL sees outgoing packets (`dev_queue_xmit_nit` walks
//! the ETH_P_ALL taps only), so the socket takes every protocol and a classic BPF filter keeps
//! the outgoing copies, cut to their first [`SNAP_LEN`] bytes: the headers are all netlab reads,
//! lengths come from the headers.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};

use socket2::{Domain, SockFilter, Socket, Type};

use super::decode::{decode, DecodeError, Packet};
use crate::sys;

/// Bytes kept of each packet: an IPv4 header with options (60) and a TCP header with options
/// (60) fit, and so does an ICMP message quoting an IPv4 header and a UDP header's ports.
pub const SNAP_LEN: u32 = 128;

/// The receive buffer asked for. The kernel caps it at net.core.rmem_max (and doubles it);
/// each queued copy costs its whole buffer (up to 64 KiB on lo) however much was kept, so a
/// capture that is not drained while a lab sends megabytes can overflow: [`Drained::dropped`]
/// then says so.
const RECEIVE_BUFFER: usize = 8 * 1024 * 1024;

/// `ETH_P_ALL` (linux/if_ether.h): every link-layer protocol.
const ETH_P_ALL: u16 = 0x0003;

/// `PACKET_OUTGOING` (linux/if_packet.h).
const PACKET_OUTGOING: u32 = 4;

/// Classic BPF (linux/filter.h): accept outgoing packets, cut to SNAP_LEN bytes; drop the rest.
fn outgoing_only() -> [SockFilter; 4] {
    const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    // The ancillary load of skb->pkt_type.
    const PKTTYPE: u32 = (libc::SKF_AD_OFF + libc::SKF_AD_PKTTYPE) as u32;
    [
        SockFilter::new(LD_W_ABS, 0, 0, PKTTYPE),
        SockFilter::new(JEQ_K, 0, 1, PACKET_OUTGOING),
        SockFilter::new(RET_K, 0, 0, SNAP_LEN),
        SockFilter::new(RET_K, 0, 0, 0),
    ]
}

/// What arrived since the previous drain.
#[derive(Debug, Default)]
pub struct Drained {
    /// Each packet once, in the order it was sent; bytes that do not decode are kept as errors.
    pub packets: Vec<Result<Packet, DecodeError>>,
    /// Packets the kernel could not queue (the receive buffer was full): never zero silently.
    pub dropped: u32,
}

/// A packet socket on lo of this process's network namespace.
#[derive(Debug)]
pub struct Capture {
    socket: Socket,
    buffer: Vec<u8>,
}

impl Capture {
    /// Opens the capture on `lo`. Needs CAP_NET_RAW in the user namespace that owns the
    /// network namespace: root, or any user inside [`super::netns::enter_private`]'s namespace.
    pub fn loopback() -> io::Result<Capture> {
        // Protocol 0: the socket receives nothing until bind names one, so no packet slips in
        // before the filter is attached.
        let socket = Socket::new(Domain::PACKET, Type::DGRAM, None)?;
        socket.attach_filter(&outgoing_only())?;
        socket.set_nonblocking(true)?;
        socket.set_recv_buffer_size(RECEIVE_BUFFER)?;
        let fd = socket.as_fd();
        let lo = sys::interface_index(fd, "lo")?;
        sys::bind_packet_socket(fd, lo, ETH_P_ALL)?;
        // Reading the statistics resets them: count from here.
        sys::packet_drops(fd)?;
        Ok(Capture {
            socket,
            buffer: vec![0; SNAP_LEN as usize + 1],
        })
    }

    /// Everything queued so far, without waiting.
    pub fn drain(&mut self) -> io::Result<Drained> {
        let mut drained = Drained::default();
        loop {
            match (&self.socket).read(&mut self.buffer) {
                Ok(n) => drained.packets.push(decode(&self.buffer[..n])),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
        drained.dropped = sys::packet_drops(self.socket.as_fd())?;
        Ok(drained)
    }
}

/// For `poll`: the socket is readable when a packet is queued.
impl AsFd for Capture {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}
