//! `netlab serve` and `netlab connect` for the labs without framing (01, 02, 04), against
//! peers written here: well-behaved ones, and one for each thing netlab diagnoses. Every
//! assertion is on the JSON lines (`diagnosis` codes, calls, kernel readings, the session's
//! end) and the exit status.

mod peer_support;

use std::io::Read;
use std::net::Shutdown;
use std::time::Duration;

use peer_support::*;

#[test]
fn serve_01_answers_a_client_in_upper_case_and_stops_after_once() {
    let server = Serving::start("01", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"hello lab");
    assert_eq!(read_to_end(&mut client), b"HELLO LAB");
    let done = server.wait();
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    assert_eq!(done.calls("conn.send(b'HELLO LAB')").len(), 1);
    let accepted = done.calls("conn, addr = phone.accept()")[0];
    assert_eq!(accepted["result"], "('127.0.0.1', CLIENT_PORT_1)");
    assert_eq!(accepted["peer"], "CLIENT_PORT_1");
    let heard = done.calls("data = conn.recv(1024)")[0];
    assert_eq!(heard["result"], "b'hello lab'");
    assert_eq!(heard["bytes"]["count"], 9);
    let last = done.last_event();
    assert_eq!(
        (&last["side"], &last["kind"]),
        (&"netlab".into(), &"summary".into())
    );
    assert_eq!(
        done.session(),
        &serde_json::json!({"command": "serve", "conversations": 1, "diagnoses": [], "interrupted": false})
    );
    assert_eq!(done.end()["next"]["lab"], serde_json::Value::Null);
}

#[test]
fn serve_01_diagnoses_a_silent_client_and_serves_the_next_one() {
    let server = Serving::start("01", &["--wait", "1"]);
    let mut silent = server.dial();
    // The client "sends" b'': nothing at all. netlab gives up after 1 s and closes.
    assert_eq!(read_to_end(&mut silent), b"");
    let mut next = server.dial();
    send(&mut next, b"still there?");
    assert_eq!(read_to_end(&mut next), b"STILL THERE?");
    let done = server.interrupt();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["silent_peer"], "{}", done.shown());
    let reads = done.calls("data = conn.recv(1024)");
    assert_eq!(reads[0]["outcome"], "blocked");
    assert_eq!(reads[0]["result"], serde_json::Value::Null);
    // The diagnosis is the line right after the recv that waited in vain.
    let silent = done.diagnosis("silent_peer");
    assert_eq!(silent["seq"], reads[0]["seq"].as_u64().unwrap() + 1);
    assert_eq!(silent["side"], "netlab");
    assert_eq!(reads[1]["outcome"], "returned");
    assert_eq!(reads[1]["result"], "b'still there?'");
    assert_eq!(reads[1]["bytes"]["count"], 12);
    assert_eq!(done.last_event()["side"], "netlab");
    assert_eq!(done.session()["interrupted"], true);
    assert_eq!(done.session()["conversations"], 2);
}

#[test]
fn serve_once_exits_1_when_its_client_was_diagnosed() {
    let server = Serving::start("01", &["--once", "--wait", "1"]);
    let mut silent = server.dial();
    assert_eq!(read_to_end(&mut silent), b"");
    let done = server.wait();
    assert_eq!(done.status.code(), Some(1), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["silent_peer"]);
}

#[test]
fn connect_01_talks_to_a_well_behaved_server() {
    let done = connect_to("01", &[], |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).unwrap();
        send(&mut conn, &buf[..n].to_ascii_uppercase());
    });
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    let reply = done.calls("data = phone.recv(1024)")[0];
    assert_eq!(reply["result"], "b'HELLO NETLAB'");
    assert_eq!(reply["bytes"]["count"], 12);
    // The port the person typed shows as its number; netlab's own as a stable name.
    let dial = &done.calls("phone.connect(")[0];
    let typed = dial["peer"].as_str().unwrap();
    assert!(typed.parse::<u16>().is_ok(), "{dial}");
    assert_eq!(
        dial["call"],
        format!("phone.connect(('127.0.0.1', {typed}))")
    );
    assert_eq!(dial["port"], "CLIENT_PORT_1");
    assert_eq!(
        done.session(),
        &serde_json::json!({"command": "connect", "conversations": 1, "diagnoses": [], "interrupted": false})
    );
}

#[test]
fn connect_finds_nothing_listening() {
    let port = free_port();
    let done = run_connect("01", port, &[]);
    assert_eq!(done.status.code(), Some(1), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["refused"]);
    let dial = &done.calls("phone.connect(")[0];
    assert_eq!(dial["outcome"], "raised");
    assert_eq!(
        dial["error"],
        serde_json::json!({
            "exception": "ConnectionRefusedError",
            "errno": 111,
            "errno_name": "ECONNREFUSED",
            "python": "ConnectionRefusedError: [Errno 111] Connection refused",
        })
    );
    let refused = done.diagnosis("refused");
    assert_eq!(refused["seq"], dial["seq"].as_u64().unwrap() + 1);
    assert_eq!(
        refused["peer"],
        port.to_string(),
        "the port nothing listens on"
    );
}

#[test]
fn connect_diagnoses_a_server_that_never_answers() {
    let done = connect_to("01", &["--wait", "1"], |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf).unwrap();
        // No answer; keep the connection open until netlab gives up and closes.
        assert_eq!(read_to_end(&mut conn), b"");
    });
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(done.diagnoses(), ["silent_peer"], "{}", done.shown());
}

#[test]
fn connect_diagnoses_a_server_that_hangs_up_or_answers_wrongly() {
    let done = connect_to("01", &[], |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf).unwrap();
        conn.shutdown(Shutdown::Both).unwrap();
    });
    assert_eq!(
        done.diagnoses(),
        ["closed_without_reply"],
        "{}",
        done.shown()
    );
    let done = connect_to("01", &[], |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).unwrap();
        send(&mut conn, &buf[..n]); // an echo, not upper case
    });
    assert_eq!(done.diagnoses(), ["unexpected_reply"], "{}", done.shown());
    assert_eq!(done.status.code(), Some(1));
}

#[test]
fn a_reset_in_the_middle_of_a_conversation_is_diagnosed_and_the_server_goes_on() {
    let server = Serving::start("02", &[]);
    let mut first = server.dial();
    send(&mut first, b"ping");
    let mut buf = [0u8; 4];
    first.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"PING");
    reset(first);
    let mut second = server.dial();
    send(&mut second, b"after the reset");
    let mut buf = [0u8; 15];
    second.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"AFTER THE RESET");
    drop(second);
    std::thread::sleep(Duration::from_millis(100));
    let done = server.interrupt();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["reset"], "{}", done.shown());
    let raised = done
        .events()
        .find(|e| e["error"]["errno_name"] == "ECONNRESET")
        .expect("the recv that raised");
    assert_eq!(raised["call"], "data = conn.recv(1024)");
    assert_eq!(
        raised["error"]["python"],
        "ConnectionResetError: [Errno 104] Connection reset by peer"
    );
    assert_eq!(
        done.diagnosis("reset")["seq"],
        raised["seq"].as_u64().unwrap() + 1
    );
}

/// A server for lab 04's `connect`: answers in upper case; `on_eof_breaks` false makes it
/// spin on b'' (for a while) instead of closing, `survives_reset` false makes it stop at the
/// first ConnectionResetError.
fn lab_04_server(listener: std::net::TcpListener, on_eof_breaks: bool, survives_reset: bool) {
    // netlab's three callers, one after another.
    for _ in 0..3 {
        let Some(mut conn) = accept_within(&listener, Duration::from_secs(10)) else {
            return;
        };
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1024];
        let mut spins = 0;
        loop {
            match conn.read(&mut buf) {
                Ok(0) if on_eof_breaks => break,
                Ok(0) => {
                    // The course's first loop: b'' again and again, nothing sent.
                    spins += 1;
                    if spins > 3000 {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(n) => send(&mut conn, &buf[..n].to_ascii_uppercase()),
                Err(_) if survives_reset => break,
                Err(_) => return, // the server crashes: its listener closes with it
            }
        }
    }
}

#[test]
fn connect_04_a_server_that_survives_fin_and_rst() {
    let done = connect_to("04", &["--wait", "5"], |l| lab_04_server(l, true, true));
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    assert_eq!(done.calls("phone.shutdown(SHUT_WR)").len(), 1);
    assert_eq!(done.calls("setsockopt(SOL_SOCKET, SO_LINGER").len(), 1);
}

#[test]
fn connect_04_a_server_that_spins_on_b_empty_keeps_close_wait() {
    let done = connect_to("04", &["--wait", "1"], |l| lab_04_server(l, false, true));
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(done.diagnoses(), ["not_closed"], "{}", done.shown());
    // The server's end of the connection, read from the kernel's table (sock_diag, or
    // /proc/net/tcp where netlink is refused).
    let table: Vec<_> = ["sock_diag", "/proc/net/tcp"]
        .iter()
        .flat_map(|source| done.probes(source, None))
        .collect();
    assert_eq!(table.len(), 1, "{}", done.shown());
    assert_eq!(table[0]["tcp_state"], "CLOSE_WAIT");
    assert_eq!(table[0]["call"], serde_json::Value::Null);
    assert!(table[0]["port"].as_str().unwrap().parse::<u16>().is_ok());
    assert!(table[0]["peer"]
        .as_str()
        .unwrap()
        .starts_with("CLIENT_PORT_"));
    assert_eq!(
        done.diagnosis("not_closed")["seq"],
        table[0]["seq"].as_u64().unwrap() + 1
    );
}

#[test]
fn connect_04_a_server_that_dies_on_a_reset() {
    let done = connect_to("04", &["--wait", "2"], |l| lab_04_server(l, true, false));
    assert_eq!(done.status.code(), Some(1));
    let found = done.diagnoses();
    assert!(
        found == ["refused"] || found == ["reset"],
        "{found:?}\n{}",
        done.shown()
    );
}

#[test]
fn serve_04_shows_the_fin_as_close_wait_and_goes_on() {
    let server = Serving::start("04", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"bye soon");
    let mut buf = [0u8; 8];
    client.read_exact(&mut buf).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut client), b"");
    let done = server.wait();
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty());
    let states = done.probes("TCP_INFO", Some("server conn"));
    assert_eq!(states.last().unwrap()["tcp_state"], "CLOSE_WAIT");
    // Read when recv() returned b'', the sign of the client's FIN.
    let eof = done
        .calls("data = conn.recv(1024)")
        .into_iter()
        .find(|e| e["result"] == "b''")
        .expect("recv returned b''");
    assert_eq!(
        states.last().unwrap()["seq"],
        eof["seq"].as_u64().unwrap() + 1
    );
}
