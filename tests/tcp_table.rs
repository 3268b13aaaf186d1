//! The kernel's TCP table as netlab reads it (netlink sock_diag, for one port pair) against
//! /proc/net/tcp parsed here by hand: the same connections in the same states, for real
//! connections made in the test, TIME_WAIT included.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use netlab::kernel::{tcp_table, TcpTableSource};
use netlab::sock::Addr;
use netlab::sockdiag::{tcp_sockets, TcpSocket};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const TIME_WAIT: u8 = 6;
const ESTABLISHED: u8 = 1;

/// The lines of /proc/net/tcp between the two ports, decoded by hand: addresses are the raw
/// network-order bytes printed as one native-endian hex word, ports are hex, `st` is hex.
fn proc_net_tcp(local_port: u16, remote_port: u16) -> Vec<TcpSocket> {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp is readable");
    let endpoint = |field: &str| -> SocketAddr {
        let (ip, port) = field.split_once(':').unwrap();
        let ip = u32::from_str_radix(ip, 16).unwrap().to_ne_bytes();
        SocketAddr::new(IpAddr::from(ip), u16::from_str_radix(port, 16).unwrap())
    };
    let mut found: Vec<TcpSocket> = text
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            TcpSocket {
                local: endpoint(fields[1]),
                remote: endpoint(fields[2]),
                state: u8::from_str_radix(fields[3], 16).unwrap(),
                // `tr:when`: timer 1 is the retransmission timer.
                awaiting_ack: fields[5].split(':').next() == Some("01"),
            }
        })
        .filter(|s| s.local.port() == local_port && s.remote.port() == remote_port)
        .collect();
    found.sort();
    found
}

/// sock_diag's answer, or None (with the reason printed) where this sandbox refuses netlink.
fn sock_diag(local_port: u16, remote_port: u16) -> Option<Vec<TcpSocket>> {
    match tcp_sockets(LOOPBACK, local_port, remote_port) {
        Ok(sockets) => Some(sockets),
        Err(err) => {
            eprintln!("skipped: netlink sock_diag is refused here ({err})");
            None
        }
    }
}

/// Polls /proc/net/tcp (bounded) until the connection `local` -> `remote` shows `state`.
fn wait_for_state(local: SocketAddr, remote: SocketAddr, state: u8) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if proc_net_tcp(local.port(), remote.port())
            .iter()
            .any(|s| s.local == local && s.remote == remote && s.state == state)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("{local} -> {remote} never reached state {state}");
}

/// A connection on loopback whose client hangs up first: returns both ends' addresses once the
/// client's end is in TIME_WAIT and the server's end is gone.
fn time_wait_connection() -> (SocketAddr, SocketAddr) {
    let listener = TcpListener::bind((LOOPBACK, 0)).unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    let (client_end, server_end) = (client.local_addr().unwrap(), conn.local_addr().unwrap());
    client.write_all(b"hi").unwrap();
    let mut buf = [0u8; 2];
    conn.read_exact(&mut buf).unwrap();
    drop(client);
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(conn.read(&mut buf).unwrap(), 0, "the client's FIN arrived");
    drop(conn);
    wait_for_state(client_end, server_end, TIME_WAIT);
    (client_end, server_end)
}

#[test]
fn sock_diag_shows_a_time_wait_connection_as_proc_net_tcp_does() {
    let (client_end, server_end) = time_wait_connection();
    let Some(diag) = sock_diag(client_end.port(), server_end.port()) else {
        return;
    };
    let by_hand = proc_net_tcp(client_end.port(), server_end.port());
    assert_eq!(diag, by_hand);
    assert_eq!(
        diag,
        [TcpSocket {
            local: client_end,
            remote: server_end,
            state: TIME_WAIT,
            awaiting_ack: false,
        }]
    );
    // The server's end closed second and is gone: both sources agree it is not there.
    let diag = sock_diag(server_end.port(), client_end.port()).unwrap();
    assert_eq!(diag, proc_net_tcp(server_end.port(), client_end.port()));
    assert!(diag.is_empty(), "{diag:?}");
}

#[test]
fn sock_diag_shows_both_ends_of_an_open_connection_as_proc_net_tcp_does() {
    let listener = TcpListener::bind((LOOPBACK, 0)).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (conn, _) = listener.accept().unwrap();
    let (client_end, server_end) = (client.local_addr().unwrap(), conn.local_addr().unwrap());
    for (local, remote) in [(client_end, server_end), (server_end, client_end)] {
        let Some(diag) = sock_diag(local.port(), remote.port()) else {
            return;
        };
        assert_eq!(diag, proc_net_tcp(local.port(), remote.port()));
        assert_eq!(
            diag,
            [TcpSocket {
                local,
                remote,
                state: ESTABLISHED,
                awaiting_ack: false,
            }]
        );
    }
    // Another pair of ports, one of them the lab's: nothing (a listener has no remote port).
    let diag = sock_diag(server_end.port(), 1).unwrap();
    assert!(diag.is_empty(), "{diag:?}");
}

#[test]
fn the_kernel_probe_reads_the_table_through_sock_diag() {
    let (client_end, server_end) = time_wait_connection();
    if sock_diag(client_end.port(), server_end.port()).is_none() {
        return;
    }
    let (entries, source) = tcp_table(&Addr::Inet(client_end), &Addr::Inet(server_end)).unwrap();
    assert_eq!(source, TcpTableSource::SockDiag);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].local, Addr::Inet(client_end));
    assert_eq!(entries[0].state.name(), "TIME_WAIT");
}
