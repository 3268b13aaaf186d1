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

/// `recv(2)` of at most `max` bytes straight into the spare capacity of `buf`, appending
/// what the kernel wrote; returns the kernel's count. The spare capacity is never filled in
/// first, so a buffer reserved for a large size costs memory only where the kernel writes,
/// as CPython's recv buffer does.
pub fn recv_append(
    socket: &socket2::Socket,
    buf: &mut Vec<u8>,
    max: usize,
    flags: libc::c_int,
) -> io::Result<usize> {
    let room = max.min(buf.capacity() - buf.len());
    let n = socket.recv_with_flags(&mut buf.spare_capacity_mut()[..room], flags)?;
    // SAFETY: recv(2) wrote n bytes at the start of the spare capacity; n <= room unless a
    // flag such as MSG_TRUNC reports a longer length, hence the min.
    unsafe { buf.set_len(buf.len() + n.min(room)) };
    Ok(n)
}

/// `recvfrom(2)` like [`recv_append`]: appends what the kernel wrote and returns the
/// kernel's count (with MSG_TRUNC, the datagram's full length) and the sender.
pub fn recv_from_append(
    socket: &socket2::Socket,
    buf: &mut Vec<u8>,
    max: usize,
    flags: libc::c_int,
) -> io::Result<(usize, socket2::SockAddr)> {
    let room = max.min(buf.capacity() - buf.len());
    let (n, from) = socket.recv_from_with_flags(&mut buf.spare_capacity_mut()[..room], flags)?;
    // SAFETY: as in recv_append: recvfrom(2) wrote min(n, room) bytes at the start of the
    // spare capacity.
    unsafe { buf.set_len(buf.len() + n.min(room)) };
    Ok((n, from))
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

/// netlab's allocator: the system's, except for what happens when it refuses.
///
/// Rust aborts the process (SIGABRT, "memory allocation of N bytes failed") when an ordinary
/// allocation fails, and a tight `ulimit -v` can make any small one fail. netlab promises one
/// clear line and exit 1 instead, so a refusal outside a [`fallible`] section writes that line
/// with `write(2)` (no allocation) and ends the process at once. Inside a `fallible` section the
/// null pointer goes back to the caller, whose `try_reserve` turns it into an error the trace
/// can show (Python's MemoryError for a recv buffer it cannot have).
pub struct Allocator;

std::thread_local! {
    static FALLIBLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with allocation failures returned to the caller (for `try_reserve`) instead of
/// ending the process.
pub fn fallible<T>(f: impl FnOnce() -> T) -> T {
    let before = FALLIBLE.with(|flag| flag.replace(true));
    let result = f();
    FALLIBLE.with(|flag| flag.set(before));
    result
}

/// Called with the size the system allocator refused: returns only inside [`fallible`].
fn refused(size: usize) {
    if FALLIBLE.try_with(std::cell::Cell::get).unwrap_or(false) {
        return;
    }
    let mut line = [0u8; 160];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        let n = bytes.len().min(line.len() - len);
        line[len..len + n].copy_from_slice(&bytes[..n]);
        len += n;
    };
    put(b"netlab: out of memory: could not get ");
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = size;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    put(&digits[at..]);
    put(b" bytes of memory (is a memory limit such as `ulimit -v` in force?)\n");
    // SAFETY: `line[..len]` is initialised memory we own; write(2) only reads it. _exit(2)
    // ends the process without running anything that could allocate.
    unsafe {
        libc::write(libc::STDERR_FILENO, line.as_ptr().cast(), len);
        libc::_exit(1);
    }
}

// SAFETY: every method forwards to the system allocator with the caller's layout and returns
// its answer unchanged; `refused` either returns (the null pointer goes back) or never returns.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let ptr = std::alloc::System.alloc(layout);
        if ptr.is_null() {
            refused(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let ptr = std::alloc::System.alloc_zeroed(layout);
        if ptr.is_null() {
            refused(layout.size());
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let new = std::alloc::System.realloc(ptr, layout, new_size);
        if new.is_null() {
            refused(new_size);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout)
    }
}
