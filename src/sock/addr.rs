//! Socket addresses: what a lab passes to bind/connect/sendto and what the kernel reports.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use socket2::SockAddr;

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

/// The longest path an AF_UNIX address holds: `sun_path` is 108 bytes, one of them the NUL.
pub const UNIX_PATH_MAX: usize = 107;

/// An AF_UNIX path longer than [`UNIX_PATH_MAX`]. Python raises
/// `OSError: AF_UNIX path too long`; netlab also says where the length came from: labs put
/// their socket files in a temporary directory under TMPDIR.
#[derive(Debug)]
pub struct UnixPathTooLong {
    pub path: PathBuf,
    pub len: usize,
}

impl std::fmt::Display for UnixPathTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.len;
        write!(f, "OSError: AF_UNIX path too long: ")?;
        match std::env::var_os("TMPDIR") {
            Some(tmpdir) if self.path.starts_with(&tmpdir) => write!(
                f,
                "the socket file's path in TMPDIR ({}) has {len} bytes, an AF_UNIX address \
                 holds at most {UNIX_PATH_MAX}: set TMPDIR to a directory with a shorter path, \
                 such as /tmp",
                Path::new(&tmpdir).display()
            ),
            _ => write!(
                f,
                "{} has {len} bytes, an AF_UNIX address holds at most {UNIX_PATH_MAX}",
                self.path.display()
            ),
        }
    }
}

impl std::error::Error for UnixPathTooLong {}

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
            Addr::Unix(path) => {
                let len = path.as_os_str().as_bytes().len();
                if len > UNIX_PATH_MAX {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        UnixPathTooLong {
                            path: path.clone(),
                            len,
                        },
                    ));
                }
                SockAddr::unix(path)
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_too_long_for_af_unix_is_refused_with_its_length() {
        let long = PathBuf::from(format!("/{}", "d".repeat(200)));
        let err = Addr::path(&long).to_sockaddr().unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("OSError: AF_UNIX path too long"), "{text}");
        assert!(text.contains("201 bytes"), "{text}");
        assert!(Addr::path("/tmp/x.sock").to_sockaddr().is_ok());
    }
}
