//! Peer mode for the UDP labs (10, 11, 12): netlab's server answering datagrams from a socket
//! in the test, netlab's client against a UDP server in the test, and what UDP lets netlab
//! diagnose: no reply at all, a datagram cut by the receive buffer, a request that is not
//! UTF-8, a wrong answer.

mod peer_support;

use std::net::UdpSocket;
use std::time::Duration;

use peer_support::*;

/// A UDP client for `serve`: sends `request`, returns the reply.
fn ask(client: &UdpSocket, port: u16, request: &[u8]) -> Vec<u8> {
    client.send_to(request, ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 65536];
    let (n, from) = client.recv_from(&mut buf).expect("a reply");
    assert_eq!(from.port(), port, "the reply comes from the server's port");
    buf[..n].to_vec()
}

fn udp_client() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    socket
}

#[test]
fn serve_10_answers_each_datagram_to_its_sender() {
    let server = Serving::start("10", &[]);
    let client = udp_client();
    assert_eq!(ask(&client, server.port, b"hello"), b"HELLO");
    let other = udp_client();
    assert_eq!(ask(&other, server.port, b"me too"), b"ME TOO");
    let done = server.interrupt();
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    let reads = done.calls("data, addr = server.recvfrom(1024)");
    assert_eq!(
        reads[0]["result"],
        "(b'hello', ('127.0.0.1', CLIENT_PORT_1))"
    );
    assert_eq!(reads[0]["bytes"]["count"], 5);
    assert_eq!(reads[0]["peer"], "CLIENT_PORT_1");
    assert_eq!(
        reads[1]["result"],
        "(b'me too', ('127.0.0.1', CLIENT_PORT_2))"
    );
    assert_eq!(reads[1]["bytes"]["count"], 6);
    assert_eq!(reads[1]["peer"], "CLIENT_PORT_2");
    assert_eq!(
        done.session(),
        &serde_json::json!({"command": "serve", "conversations": 2, "diagnoses": [], "interrupted": true})
    );
}

#[test]
fn serve_10_diagnoses_a_datagram_longer_than_its_buffer() {
    let server = Serving::start("10", &["--once"]);
    let client = udp_client();
    let reply = ask(&client, server.port, &[b'a'; 2000]);
    assert_eq!(reply, vec![b'A'; 1024], "the rest was lost");
    let done = server.wait();
    assert_eq!(done.diagnoses(), ["datagram_cut"], "{}", done.shown());
    let cut = done.diagnosis("datagram_cut");
    assert_eq!(cut["bytes"], serde_json::json!({"count": 1024, "of": 2000}));
    // The recvfrom just before it shows the same: 1024 bytes kept of a 2000-byte datagram.
    let read = done.event(cut["seq"].as_u64().unwrap() - 1);
    assert_eq!(read["call"], "data, addr = server.recvfrom(1024)");
    assert_eq!(read["bytes"]["count"], 1024);
    assert_eq!(read["bytes"]["of"], 2000);
}

#[test]
fn connect_10_to_an_echo_server_and_to_nobody() {
    let done = connect_udp("10", &[], |data| Some(data.to_ascii_uppercase()));
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());

    let nobody = run_connect("10", free_port(), &["--wait", "1"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert_eq!(nobody.diagnoses(), ["no_reply"], "{}", nobody.shown());

    let echo = connect_udp("10", &[], |data| Some(data.to_vec()));
    assert_eq!(echo.diagnoses(), ["unexpected_reply"], "{}", echo.shown());
}

#[test]
fn serve_11_answers_every_chatter() {
    let server = Serving::start("11", &[]);
    let ann = udp_client();
    let bo = udp_client();
    assert_eq!(ask(&ann, server.port, b"hi from Ann"), b"re: hi from Ann");
    assert_eq!(ask(&bo, server.port, b"Bo here"), b"re: Bo here");
    let done = server.interrupt();
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
}

#[test]
fn connect_11_waits_for_the_answer_your_user_types() {
    let done = connect_udp("11", &[], |_| Some(b"hello netlab".to_vec()));
    assert!(done.status.success(), "{}", done.shown());
    let silent = connect_udp("11", &["--wait", "1"], |_| None);
    assert_eq!(silent.diagnoses(), ["no_reply"], "{}", silent.shown());
}

#[test]
fn serve_12_tells_the_fixed_time_and_refuses_bytes_that_are_not_utf8() {
    let server = Serving::start("12", &[]);
    let client = udp_client();
    assert_eq!(ask(&client, server.port, b""), b"2001-09-09 01:46:40");
    assert_eq!(ask(&client, server.port, b"%Y"), b"2001");
    let refused = ask(&client, server.port, b"\xff\xfe");
    assert!(refused.starts_with(b"netlab: the request is not UTF-8"));
    let done = server.interrupt();
    assert_eq!(done.diagnoses(), ["not_utf8"], "{}", done.shown());
    assert_eq!(
        done.calls("back_msg = strftime('%Y-%m-%d %X')")[0]["result"],
        "'2001-09-09 01:46:40'"
    );
}

#[test]
fn connect_12_asks_for_the_default_format_and_its_own() {
    let done = connect_udp("12", &[], |data| {
        Some(if data.is_empty() {
            b"2024-01-02 03:04:05".to_vec()
        } else {
            b"03:04:05".to_vec()
        })
    });
    assert!(done.status.success(), "{}", done.shown());
    assert_eq!(done.calls("client.sendto(b'', ").len(), 1);
}
