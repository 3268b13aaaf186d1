//! The only module with `unsafe`: the few kernel queries that neither std nor socket2 offer.
//!
//! Every function takes a raw fd that the caller keeps open for the duration of the call and
//! returns the kernel's answer unchanged; interpretation lives in [`crate::kernel`].

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// `SIOCOUTQNSD`: bytes in the send queue that were not sent yet (linux/sockios.h).
const SIOCOUTQNSD: libc::Ioctl = 0x894B;

fn ioctl_int(fd: RawFd, request: libc::Ioctl) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    // SAFETY: `fd` is an open socket owned by the caller; these ioctls write exactly one int
    // into the pointer we pass, which points at a live, properly aligned c_int.
    let rc = unsafe { libc::ioctl(fd, request, &mut value as *mut libc::c_int) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(value).unwrap_or(0))
}

/// Bytes waiting in the receive queue (`FIONREAD`, also called `SIOCINQ`). For a UDP socket
/// this is the size of the first datagram waiting.
pub fn recv_queue(fd: RawFd) -> io::Result<usize> {
    ioctl_int(fd, libc::FIONREAD)
}

/// Bytes in the send queue not yet acknowledged by the peer (`SIOCOUTQ`, also `TIOCOUTQ`).
pub fn send_queue(fd: RawFd) -> io::Result<usize> {
    ioctl_int(fd, libc::TIOCOUTQ)
}

/// Bytes in the send queue not yet transmitted at all (`SIOCOUTQNSD`).
pub fn unsent(fd: RawFd) -> io::Result<usize> {
    ioctl_int(fd, SIOCOUTQNSD)
}

/// The leading, ABI-stable part of the kernel's `struct tcp_info` (linux/tcp.h), up to
/// `tcpi_bytes_sent` (Linux 4.19). The kernel copies `min(len, sizeof)` bytes and reports how
/// many, so a prefix is a valid request and an older kernel simply fills less of it.
#[repr(C)]
#[derive(Default)]
#[allow(dead_code)] // most fields are only there to give the kernel's layout
struct TcpInfoPrefix {
    state: u8,
    ca_state: u8,
    retransmits: u8,
    probes: u8,
    backoff: u8,
    options: u8,
    wscale: u8,
    app_limited: u8,
    rto: u32,
    ato: u32,
    snd_mss: u32,
    rcv_mss: u32,
    /// For a listening socket: connections waiting in the accept queue.
    unacked: u32,
    /// For a listening socket: the accept queue's limit (the effective backlog).
    sacked: u32,
    lost: u32,
    retrans: u32,
    fackets: u32,
    last_data_sent: u32,
    last_ack_sent: u32,
    last_data_recv: u32,
    last_ack_recv: u32,
    pmtu: u32,
    rcv_ssthresh: u32,
    rtt: u32,
    rttvar: u32,
    snd_ssthresh: u32,
    snd_cwnd: u32,
    advmss: u32,
    reordering: u32,
    rcv_rtt: u32,
    rcv_space: u32,
    total_retrans: u32,
    pacing_rate: u64,
    max_pacing_rate: u64,
    bytes_acked: u64,
    bytes_received: u64,
    segs_out: u32,
    segs_in: u32,
    notsent_bytes: u32,
    min_rtt: u32,
    data_segs_in: u32,
    data_segs_out: u32,
    delivery_rate: u64,
    busy_time: u64,
    rwnd_limited: u64,
    sndbuf_limited: u64,
    delivered: u32,
    delivered_ce: u32,
    /// Data bytes this socket has put on the wire, retransmissions included
    /// (RFC 4898 tcpEStatsPerfHCDataOctetsOut).
    bytes_sent: u64,
}

/// What `TCP_INFO` says about one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// Kernel TCP state number (1 = ESTABLISHED ... 10 = LISTEN), as in /proc/net/tcp.
    pub state: u8,
    /// Listening socket: connections waiting in the accept queue.
    pub accept_queue: u32,
    /// Listening socket: the accept queue's limit.
    pub accept_queue_max: u32,
    /// Data bytes put on the wire so far (None on kernels older than 4.19).
    pub bytes_sent: Option<u64>,
}

pub fn tcp_info(fd: RawFd) -> io::Result<TcpInfo> {
    let mut info = TcpInfoPrefix::default();
    let mut len = std::mem::size_of::<TcpInfoPrefix>() as libc::socklen_t;
    // SAFETY: `info` is a live repr(C) struct of `len` bytes; the kernel writes at most `len`
    // bytes into it and updates `len`. `fd` is an open socket owned by the caller.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            &mut info as *mut TcpInfoPrefix as *mut libc::c_void,
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let filled = usize::try_from(len).unwrap_or(0);
    let bytes_sent_end =
        std::mem::offset_of!(TcpInfoPrefix, bytes_sent) + std::mem::size_of::<u64>();
    Ok(TcpInfo {
        state: info.state,
        accept_queue: info.unacked,
        accept_queue_max: info.sacked,
        bytes_sent: (filled >= bytes_sent_end).then_some(info.bytes_sent),
    })
}

/// Readiness bits as `poll(2)` reports them.
pub use libc::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP};

/// `poll(2)` on one fd: the returned events, or 0 when the timeout passed first.
pub fn poll(fd: RawFd, events: libc::c_short, timeout: Duration) -> io::Result<libc::c_short> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    loop {
        // SAFETY: one live pollfd, count 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc >= 0 {
            return Ok(if rc == 0 { 0 } else { pfd.revents });
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The prefix of a `recv_from` buffer that the kernel filled, as bytes.
pub fn filled_prefix(filled: &[std::mem::MaybeUninit<u8>]) -> Vec<u8> {
    // SAFETY: callers pass only the first n bytes, which the receive call reported as written.
    filled
        .iter()
        .map(|byte| unsafe { byte.assume_init() })
        .collect()
}

/// `strftime(3)` of `time` (seconds since the epoch), broken down in UTC (`gmtime_r`) or in
/// local time (`localtime_r`), in this process's locale (the C locale: netlab never calls
/// `setlocale`). The buffer grows as CPython's `time.strftime` grows it, so a result that is
/// really empty comes back as empty instead of failing.
pub fn strftime(format: &std::ffi::CStr, time: i64, utc: bool) -> io::Result<Vec<u8>> {
    let seconds = libc::time_t::try_from(time)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "time out of range"))?;
    // SAFETY: all-zero is a valid `struct tm` (integers and a null tm_zone pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers point at live values of the right types for the whole call; the
    // _r variants write only into `tm` and keep no pointer to it.
    let filled = unsafe {
        if utc {
            libc::gmtime_r(&seconds, &mut tm)
        } else {
            libc::localtime_r(&seconds, &mut tm)
        }
    };
    if filled.is_null() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "time out of range",
        ));
    }
    let fmt_len = format.to_bytes().len();
    let mut size = 1024;
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: `buf` has `size` writable bytes; `format` is NUL-terminated; `tm` was filled
        // above. strftime writes at most `size` bytes and returns how many it wrote (without
        // the NUL), or 0 when the result did not fit (or is empty).
        let n = unsafe {
            libc::strftime(
                buf.as_mut_ptr().cast::<libc::c_char>(),
                size,
                format.as_ptr(),
                &tm,
            )
        };
        if n > 0 || size >= 256 * fmt_len {
            buf.truncate(n);
            return Ok(buf);
        }
        size *= 2;
    }
}

// ---- The wire (`crate::wire`): namespaces, the loopback interface, the packet socket. ----

/// `unshare(2)` with `flags` (CLONE_NEWNET, CLONE_NEWUSER ...), for the calling thread.
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes no pointers. The flags callers pass (CLONE_NEWUSER, CLONE_NEWNET)
    // change only which namespaces this thread belongs to; none of them (unlike CLONE_FILES)
    // invalidates memory or file descriptors that Rust code holds.
    let rc = unsafe { libc::unshare(flags) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The real user id, real group id and effective user id of this process.
pub fn process_ids() -> (u32, u32, u32) {
    // SAFETY: getuid, getgid and geteuid take no arguments and cannot fail.
    unsafe { (libc::getuid(), libc::getgid(), libc::geteuid()) }
}

/// An `ifreq` naming `name` (shorter than IFNAMSIZ, no NUL inside), the rest zeroed.
fn ifreq_named(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not an interface name"),
        ));
    }
    // SAFETY: ifreq is plain data (a name array and a union of integers, sockaddrs and a
    // pointer): all-zero is a valid value of each member.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(bytes) {
        *slot = *byte as libc::c_char;
    }
    Ok(request)
}

fn ioctl_ifreq(fd: RawFd, request: libc::Ioctl, ifreq: &mut libc::ifreq) -> io::Result<()> {
    // SAFETY: `fd` is an open socket owned by the caller; the SIOC[GS]IF* requests used here
    // read and write only the `struct ifreq` we pass, which is live and properly aligned.
    let rc = unsafe { libc::ioctl(fd, request, ifreq as *mut libc::ifreq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets IFF_UP on interface `name` (`ip link set NAME up`), keeping its other flags, through
/// any socket `fd` of the network namespace the interface lives in.
pub fn set_interface_up(fd: RawFd, name: &str) -> io::Result<()> {
    let mut request = ifreq_named(name)?;
    ioctl_ifreq(fd, libc::SIOCGIFFLAGS as libc::Ioctl, &mut request)?;
    // SAFETY: SIOCGIFFLAGS has just filled the union's `ifru_flags` member.
    let flags = unsafe { request.ifr_ifru.ifru_flags };
    request.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ioctl_ifreq(fd, libc::SIOCSIFFLAGS as libc::Ioctl, &mut request)
}

/// The index of interface `name` in the network namespace of socket `fd` (SIOCGIFINDEX).
pub fn interface_index(fd: RawFd, name: &str) -> io::Result<i32> {
    let mut request = ifreq_named(name)?;
    ioctl_ifreq(fd, libc::SIOCGIFINDEX as libc::Ioctl, &mut request)?;
    // SAFETY: SIOCGIFINDEX has just filled the union's `ifru_ifindex` member.
    Ok(unsafe { request.ifr_ifru.ifru_ifindex })
}

/// Binds the AF_PACKET socket `fd` to interface `ifindex` and to link-layer protocol
/// `protocol` (host order, e.g. ETH_P_ALL): from then on it receives that interface's frames.
pub fn bind_packet_socket(fd: RawFd, ifindex: i32, protocol: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain integers and a byte array: all-zero is valid.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as libc::c_ushort;
    address.sll_protocol = protocol.to_be();
    address.sll_ifindex = ifindex;
    // SAFETY: we pass a live sockaddr_ll and its exact size; bind only reads it.
    let rc = unsafe {
        libc::bind(
            fd,
            &address as *const libc::sockaddr_ll as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `struct tpacket_stats` (linux/if_packet.h).
#[repr(C)]
#[derive(Default)]
struct TpacketStats {
    packets: libc::c_uint,
    drops: libc::c_uint,
}

/// `PACKET_STATISTICS` (linux/if_packet.h).
const PACKET_STATISTICS: libc::c_int = 6;

/// Packets an AF_PACKET socket dropped (its receive buffer was full) since the previous call:
/// the kernel resets its counters on every read.
pub fn packet_drops(fd: RawFd) -> io::Result<u32> {
    let mut stats = TpacketStats::default();
    let mut len = std::mem::size_of::<TpacketStats>() as libc::socklen_t;
    // SAFETY: `stats` is a live repr(C) tpacket_stats of `len` bytes; the kernel writes at
    // most `len` bytes into it. `fd` is an open AF_PACKET socket owned by the caller.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_PACKET,
            PACKET_STATISTICS,
            &mut stats as *mut TpacketStats as *mut libc::c_void,
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stats.drops)
}
