//! Where peer mode talks: on 127.0.0.1 only, on the course's port unless told otherwise.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use socket2::{Domain, Socket, Type};

use crate::event::Lang;
use crate::phrases;

/// A host that is not this machine's loopback address: netlab never listens where another
/// machine could reach it, nor talks to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLoopback {
    pub host: String,
}

impl NotLoopback {
    /// The refusal, one sentence in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        phrases::PEER_NOT_LOOPBACK.fill(lang, &[("host", &self.host)])
    }
}

/// Accepts `127.0.0.1` and `localhost` (the course's address), refuses anything else.
pub fn check_host(host: &str) -> Result<Ipv4Addr, NotLoopback> {
    match host.trim() {
        "127.0.0.1" | "localhost" => Ok(Ipv4Addr::LOCALHOST),
        other => Err(NotLoopback {
            host: other.chars().take(64).collect(),
        }),
    }
}

/// Whether a server could bind `port` on 127.0.0.1 now, asked by binding a socket of the
/// same kind and options and closing it at once (it never connects, so it leaves nothing in
/// the kernel's table). The error is the bind's: EADDRINUSE when another program has it.
pub(crate) fn probe_bind(port: u16, udp: bool) -> io::Result<()> {
    let ty = if udp { Type::DGRAM } else { Type::STREAM };
    let socket = Socket::new(Domain::IPV4, ty, None)?;
    if !udp {
        // As the serving socket will: a connection of an earlier run in TIME_WAIT does not
        // keep the port from a new server (lab 06).
        socket.set_reuse_address(true)?;
    }
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    socket.bind(&addr.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_accepted() {
        assert_eq!(check_host("127.0.0.1"), Ok(Ipv4Addr::LOCALHOST));
        assert_eq!(check_host("localhost"), Ok(Ipv4Addr::LOCALHOST));
        for other in ["0.0.0.0", "192.168.1.5", "::1", "example.com", ""] {
            let refused = check_host(other).unwrap_err();
            assert!(refused.message(Lang::En).contains("loopback"), "{other}");
            assert!(refused.message(Lang::Zh).contains("回环"), "{other}");
        }
    }

    #[test]
    fn a_port_in_use_is_found_by_the_probe() {
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        let err = probe_bind(port, false).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EADDRINUSE));
        drop(holder);
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        assert!(probe_bind(port, true).is_err());
    }
}
