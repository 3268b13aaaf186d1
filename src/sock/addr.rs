//! Socket addresses and how they show in a trace.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

use socket2::SockAddr;

use crate::pyrepr;
use crate::trace::Trace;

/// What kind of socket, as in `socket(family, type)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    UnixStream,
}

impl Proto {
    pub(crate) fn python(self) -> &'static str {
        match self {
            Proto::Tcp => "socket(AF_INET, SOCK_STREAM)",
            Proto::Udp => "socket(AF_INET, SOCK_DGRAM)",
            Proto::UnixStream => "socket(AF_UNIX, SOCK_STREAM)",
        }
    }
}

/// A socket address: `('127.0.0.1', port)` or a filesystem path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Inet(SocketAddr),
    Unix(PathBuf),
    /// An AF_UNIX socket with no name (a client that never bound).
    Unnamed,
}

impl Addr {
    /// `('127.0.0.1', port)`: labs bind port 0 so the kernel picks a free one.
    pub fn loopback(port: u16) -> Addr {
        Addr::Inet(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)))
    }

    pub fn path(path: impl AsRef<Path>) -> Addr {
        Addr::Unix(path.as_ref().to_path_buf())
    }

    pub fn port(&self) -> Option<u16> {
        match self {
            Addr::Inet(addr) => Some(addr.port()),
            _ => None,
        }
    }

    pub(crate) fn to_sockaddr(&self) -> io::Result<SockAddr> {
        match self {
            Addr::Inet(addr) => Ok(SockAddr::from(*addr)),
            Addr::Unix(path) => SockAddr::unix(path),
            Addr::Unnamed => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        }
    }

    pub(crate) fn from_sockaddr(addr: &SockAddr) -> Addr {
        if let Some(inet) = addr.as_socket() {
            Addr::Inet(inet)
        } else if let Some(path) = addr.as_pathname() {
            Addr::Unix(path.to_path_buf())
        } else {
            Addr::Unnamed
        }
    }
}

/// Whether a socket bound to `local` receives datagrams sent to `dest`: the same address, or
/// the same port on the wildcard address (a client that never bound gets 0.0.0.0 and a port
/// at its first sendto).
pub(crate) fn receives_at(local: &Addr, dest: &Addr) -> bool {
    match (local, dest) {
        (Addr::Inet(l), Addr::Inet(d)) => {
            l.port() == d.port() && (l.ip() == d.ip() || l.ip().is_unspecified())
        }
        _ => local == dest,
    }
}

/// An address in Python notation with this trace's names.
pub fn show_addr(trace: &Trace, addr: &Addr) -> String {
    let state = trace.state();
    match addr {
        Addr::Inet(inet) => state.names.inet(inet),
        Addr::Unix(path) => pyrepr::str_literal(&state.names.path(path)),
        Addr::Unnamed => "''".to_string(),
    }
}
