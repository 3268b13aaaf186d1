//! The only module allowed `unsafe`: the few kernel queries that neither std, socket2 nor
//! rustix offer as safe calls (SIOCOUTQ, SIOCOUTQNSD, TCP_INFO, strftime, a signal's current
//! disposition). Where rustix has a
//! safe call (poll, epoll, FIONREAD, recvfrom with MSG_TRUNC) this module uses it.
//!
//! Every function takes a borrowed fd, so the fd is open for the whole call whatever the
//! caller does, and returns the kernel's answer unchanged; interpretation lives in
//! [`crate::kernel`].
#![allow(unsafe_code)]

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::{epoll, PollFd, PollFlags, Timespec};
use rustix::net::RecvFlags;

/// An int-valued socket ioctl that only reads the socket's state.
///
/// # Safety
///
/// `request` must be an ioctl that writes at most one `c_int` through its argument (SIOCOUTQ,
/// SIOCOUTQNSD): the kernel writes whatever the request defines into the pointer passed.
unsafe fn ioctl_int(fd: BorrowedFd<'_>, request: libc::Ioctl) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    // SAFETY: `fd` is open for the whole call (a BorrowedFd); the pointer points at a live,
    // properly aligned c_int, and the caller promises `request` writes no more than that.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, &mut value as *mut libc::c_int) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(value).unwrap_or(0))
}

/// Bytes waiting in the receive queue (`FIONREAD`, also called `SIOCINQ`). For a UDP socket
/// this is the size of the first datagram waiting.
pub fn recv_queue(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let n = rustix::io::ioctl_fionread(fd)?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Bytes in the send queue not yet acknowledged by the peer (`SIOCOUTQ`, also `TIOCOUTQ`).
pub fn send_queue(fd: BorrowedFd<'_>) -> io::Result<usize> {
    // SAFETY: SIOCOUTQ (TIOCOUTQ) writes one int.
    unsafe { ioctl_int(fd, libc::TIOCOUTQ) }
}

/// Bytes in the send queue not yet transmitted at all (`SIOCOUTQNSD`).
pub fn unsent(fd: BorrowedFd<'_>) -> io::Result<usize> {
    // The constant is a c_ulong in libc; the ioctl request type is c_int on musl.
    // SAFETY: SIOCOUTQNSD writes one int.
    unsafe { ioctl_int(fd, libc::SIOCOUTQNSD as libc::Ioctl) }
}

/// What `TCP_INFO` says about one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// Kernel TCP state number (1 = ESTABLISHED ... 10 = LISTEN), as in /proc/net/tcp.
    pub state: u8,
    /// Listening socket: connections waiting in the accept queue (`tcpi_unacked`).
    pub accept_queue: u32,
    /// Listening socket: the accept queue's limit, the effective backlog (`tcpi_sacked`).
    pub accept_queue_max: u32,
    /// Data bytes put on the wire so far, retransmissions included (`tcpi_bytes_sent`,
    /// RFC 4898 tcpEStatsPerfHCDataOctetsOut); None on kernels older than 4.19.
    pub bytes_sent: Option<u64>,
    /// Connected socket: segments transmitted and not yet acknowledged by the peer
    /// (`tcpi_unacked`, the kernel's `packets_out`; the same field a listener uses for its
    /// accept queue). Zero means every byte that went out has been acknowledged.
    pub unacked_segments: u32,
    /// Bytes the program handed the kernel that were not transmitted yet
    /// (`tcpi_notsent_bytes`, write_seq - snd_nxt, Linux 4.6+). Read in the same snapshot as
    /// [`TcpInfo::unacked_segments`]: the kernel fills TCP_INFO under the socket's lock, so an
    /// ACK being processed (which frees the window and sends held bytes in one step) is
    /// either wholly before or wholly after it. Older kernels: SIOCOUTQNSD, read separately.
    pub not_sent: u32,
    /// The receive window the peer last offered, in bytes from the first unacknowledged one
    /// (`tcpi_snd_wnd`); None on kernels older than 5.4.
    pub send_window: Option<u32>,
}

/// `getsockopt(IPPROTO_TCP, TCP_INFO)`. The kernel copies `min(len, its own size)` bytes and
/// reports how many, so an older kernel simply fills less of libc's `tcp_info`.
pub fn tcp_info(fd: BorrowedFd<'_>) -> io::Result<TcpInfo> {
    // SAFETY: all-zero is a valid `tcp_info` (integers only).
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is a live tcp_info of `len` bytes; the kernel writes at most `len` bytes
    // into it and updates `len`. `fd` is open for the whole call (a BorrowedFd).
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let filled = usize::try_from(len).unwrap_or(0);
    let bytes_sent_end =
        std::mem::offset_of!(libc::tcp_info, tcpi_bytes_sent) + std::mem::size_of::<u64>();
    let not_sent_end =
        std::mem::offset_of!(libc::tcp_info, tcpi_notsent_bytes) + std::mem::size_of::<u32>();
    let send_window_end =
        std::mem::offset_of!(libc::tcp_info, tcpi_snd_wnd) + std::mem::size_of::<u32>();
    let not_sent = if filled >= not_sent_end {
        info.tcpi_notsent_bytes
    } else {
        u32::try_from(unsent(fd)?).unwrap_or(u32::MAX)
    };
    Ok(TcpInfo {
        state: info.tcpi_state,
        accept_queue: info.tcpi_unacked,
        accept_queue_max: info.tcpi_sacked,
        bytes_sent: (filled >= bytes_sent_end).then_some(info.tcpi_bytes_sent),
        unacked_segments: info.tcpi_unacked,
        not_sent,
        send_window: (filled >= send_window_end).then_some(info.tcpi_snd_wnd),
    })
}

/// Readiness as `poll(2)` reports it.
pub use rustix::event::PollFlags as Ready;

/// `poll(2)` on one fd: the returned events, or empty when the timeout passed first.
pub fn poll(fd: BorrowedFd<'_>, events: Ready, timeout: Duration) -> io::Result<Ready> {
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    let mut fds = [PollFd::from_borrowed_fd(fd, events)];
    loop {
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) => return Ok(PollFlags::empty()),
            Ok(_) => return Ok(fds[0].revents()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// `poll(2)` on several fds, each for its own events, until one is ready or `timeout` passed:
/// the events each fd reported (all empty after a timeout). With no fds it is a plain pause.
pub fn poll_each(fds: &[(BorrowedFd<'_>, Ready)], timeout: Duration) -> io::Result<Vec<Ready>> {
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    let mut set: Vec<PollFd<'_>> = fds
        .iter()
        .map(|(fd, events)| PollFd::from_borrowed_fd(*fd, *events))
        .collect();
    loop {
        match rustix::event::poll(&mut set, Some(&timeout)) {
            Ok(0) => return Ok(vec![PollFlags::empty(); set.len()]),
            Ok(_) => return Ok(set.iter().map(PollFd::revents).collect()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// A new epoll instance (`epoll_create1(EPOLL_CLOEXEC)`), as Python's `EpollSelector` makes.
pub fn epoll_create() -> io::Result<OwnedFd> {
    Ok(epoll::create(epoll::CreateFlags::CLOEXEC)?)
}

/// `epoll_ctl(EPOLL_CTL_ADD)`: watches `fd` for `events` (IN, OUT or both; errors and
/// hang-ups are always reported), tagged `token` in what [`epoll_ready`] returns.
pub fn epoll_add(
    epoll: BorrowedFd<'_>,
    fd: BorrowedFd<'_>,
    token: u64,
    events: Ready,
) -> io::Result<()> {
    let data = epoll::EventData::new_u64(token);
    Ok(epoll::add(epoll, fd, data, epoll_flags(events))?)
}

/// `epoll_ctl(EPOLL_CTL_MOD)`: watches `fd` for other `events` from now on.
pub fn epoll_modify(
    epoll: BorrowedFd<'_>,
    fd: BorrowedFd<'_>,
    token: u64,
    events: Ready,
) -> io::Result<()> {
    let data = epoll::EventData::new_u64(token);
    Ok(epoll::modify(epoll, fd, data, epoll_flags(events))?)
}

/// epoll's flags for poll's: the kernel gives both the same numbers (EPOLLIN is POLLIN ...).
fn epoll_flags(events: Ready) -> epoll::EventFlags {
    epoll::EventFlags::from_bits_truncate(u32::from(events.bits()))
}

/// `epoll_ctl(EPOLL_CTL_DEL)`: stops watching `fd`.
pub fn epoll_delete(epoll: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(epoll::delete(epoll, fd)?)
}

/// `epoll_wait(2)` for up to `timeout`: the token of each fd it reported with the events it
/// reported, in the kernel's order (empty when the timeout passed first).
pub fn epoll_ready(
    epoll: BorrowedFd<'_>,
    max: usize,
    timeout: Duration,
) -> io::Result<Vec<(u64, Ready)>> {
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    let mut events = Vec::with_capacity(max.max(1));
    loop {
        match epoll::wait(
            epoll,
            rustix::buffer::spare_capacity(&mut events),
            Some(&timeout),
        ) {
            Ok(_) => {
                return Ok(events
                    .iter()
                    .map(|e| {
                        let flags = e.flags;
                        let bits = u16::try_from(flags.bits() & 0xffff).unwrap_or(0);
                        (e.data.u64(), Ready::from_bits_truncate(bits))
                    })
                    .collect())
            }
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// `poll(2)` for input on up to two fds (None: skipped) until one is readable or at its end,
/// or `timeout` passed: which of them are. A pipe at its end counts as readable (the read
/// returns 0).
pub fn poll_readable(
    fds: &[Option<BorrowedFd<'_>>; 2],
    timeout: Duration,
) -> io::Result<[bool; 2]> {
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    let which: Vec<usize> = (0..fds.len()).filter(|&i| fds[i].is_some()).collect();
    let mut set: Vec<PollFd<'_>> = fds
        .iter()
        .flatten()
        .map(|fd| PollFd::from_borrowed_fd(*fd, PollFlags::IN))
        .collect();
    loop {
        match rustix::event::poll(&mut set, Some(&timeout)) {
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    let mut ready = [false; 2];
    for (&i, fd) in which.iter().zip(&set) {
        ready[i] = !fd.revents().is_empty();
    }
    Ok(ready)
}

/// `recv(2)` straight into the spare capacity of `buf` (all of it: reserve exactly what the
/// call may take), appending what the kernel wrote; returns the kernel's count. The spare
/// capacity is never filled in first, so a buffer reserved for a large size costs memory only
/// where the kernel writes, as CPython's recv buffer does.
pub fn recv_append(fd: BorrowedFd<'_>, buf: &mut Vec<u8>, flags: RecvFlags) -> io::Result<usize> {
    if buf.capacity() == buf.len() {
        // recv(0): nothing to append, but the call still reports EOF, errors and EAGAIN.
        return Ok(rustix::net::recv(fd, &mut [0u8; 0][..], flags)?.1);
    }
    let (_, n) = rustix::net::recv(fd, rustix::buffer::spare_capacity(buf), flags)?;
    Ok(n)
}

/// `recvfrom(2)` like [`recv_append`]: appends what the kernel wrote and returns the
/// kernel's count (with TRUNC, the datagram's full length) and the sender.
pub fn recv_from_append(
    fd: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    flags: RecvFlags,
) -> io::Result<(usize, Option<SocketAddr>)> {
    let (n, from) = if buf.capacity() == buf.len() {
        let (_, n, from) = rustix::net::recvfrom(fd, &mut [0u8; 0][..], flags)?;
        (n, from)
    } else {
        let (_, n, from) = rustix::net::recvfrom(fd, rustix::buffer::spare_capacity(buf), flags)?;
        (n, from)
    };
    Ok((n, from.and_then(|addr| SocketAddr::try_from(addr).ok())))
}

/// Whether `signal` is ignored (SIG_IGN) in this process, as a non-interactive shell leaves
/// SIGINT for a job it started in the background.
pub fn signal_ignored(signal: libc::c_int) -> io::Result<bool> {
    // SAFETY: all-zero is a valid `sigaction` (a null handler, an empty mask, no flags).
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `current`, a live sigaction.
    let rc = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(current.sa_sigaction == libc::SIG_IGN)
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

fn ioctl_ifreq(
    fd: BorrowedFd<'_>,
    request: libc::Ioctl,
    ifreq: &mut libc::ifreq,
) -> io::Result<()> {
    // SAFETY: `fd` is an open socket owned by the caller; the SIOC[GS]IF* requests used here
    // read and write only the `struct ifreq` we pass, which is live and properly aligned.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request, ifreq as *mut libc::ifreq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets IFF_UP on interface `name` (`ip link set NAME up`), keeping its other flags, through
/// any socket `fd` of the network namespace the interface lives in.
pub fn set_interface_up(fd: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let mut request = ifreq_named(name)?;
    ioctl_ifreq(fd, libc::SIOCGIFFLAGS as libc::Ioctl, &mut request)?;
    // SAFETY: SIOCGIFFLAGS has just filled the union's `ifru_flags` member.
    let flags = unsafe { request.ifr_ifru.ifru_flags };
    request.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    ioctl_ifreq(fd, libc::SIOCSIFFLAGS as libc::Ioctl, &mut request)
}

/// The index of interface `name` in the network namespace of socket `fd` (SIOCGIFINDEX).
pub fn interface_index(fd: BorrowedFd<'_>, name: &str) -> io::Result<i32> {
    let mut request = ifreq_named(name)?;
    ioctl_ifreq(fd, libc::SIOCGIFINDEX as libc::Ioctl, &mut request)?;
    // SAFETY: SIOCGIFINDEX has just filled the union's `ifru_ifindex` member.
    Ok(unsafe { request.ifr_ifru.ifru_ifindex })
}

/// Binds the AF_PACKET socket `fd` to interface `ifindex` and to link-layer protocol
/// `protocol` (host order, e.g. ETH_P_ALL): from then on it receives that interface's frames.
pub fn bind_packet_socket(fd: BorrowedFd<'_>, ifindex: i32, protocol: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain integers and a byte array: all-zero is valid.
    let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    address.sll_family = libc::AF_PACKET as libc::c_ushort;
    address.sll_protocol = protocol.to_be();
    address.sll_ifindex = ifindex;
    // SAFETY: we pass a live sockaddr_ll and its exact size; bind only reads it.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
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
pub fn packet_drops(fd: BorrowedFd<'_>) -> io::Result<u32> {
    let mut stats = TpacketStats::default();
    let mut len = std::mem::size_of::<TpacketStats>() as libc::socklen_t;
    // SAFETY: `stats` is a live repr(C) tpacket_stats of `len` bytes; the kernel writes at
    // most `len` bytes into it. `fd` is an open AF_PACKET socket owned by the caller.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
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
