//! `netlab serve` and `netlab connect` for the labs without framing (01, 02, 04), against
//! peers written here: well-behaved ones, and one for each thing netlab diagnoses. Every
//! assertion is on the JSON events (`diagnosis` codes, calls) and the exit status.

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
    assert_eq!(
        done.calls("conn, addr = phone.accept()")[0]["result"],
        "addr = ('127.0.0.1', CLIENT_PORT_1)"
    );
    let last = done.events.last().unwrap();
    assert_eq!(last["side"], "netlab");
    assert_eq!(last["result"], "1 client, 0 diagnoses");
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
    let blocked = done.calls("data = conn.recv(1024)");
    assert_eq!(blocked[0]["blocked"], true);
    assert_eq!(blocked[1]["result"], "b'still there?' (12 bytes)");
    let last = done.events.last().unwrap();
    assert_eq!(last["call"], "serve ended (Ctrl-C)");
    assert_eq!(last["result"], "2 clients, 1 diagnosis");
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
    assert_eq!(
        done.calls("data = phone.recv(1024)")[0]["result"],
        "b'HELLO NETLAB' (12 bytes)"
    );
    // The port the person typed shows as its number; netlab's own as a stable name.
    let dial = &done.calls("phone.connect(")[0];
    assert!(dial["call"].as_str().unwrap().contains("('127.0.0.1', "));
    assert!(!dial["call"].as_str().unwrap().contains("PORT"));
    assert!(dial["result"].as_str().unwrap().contains("CLIENT_PORT_1"));
}

#[test]
fn connect_finds_nothing_listening() {
    let done = run_connect("01", free_port(), &[]);
    assert_eq!(done.status.code(), Some(1), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["refused"]);
    let dial = &done.calls("phone.connect(")[0];
    assert_eq!(dial["error"], "ECONNREFUSED");
    assert_eq!(
        dial["result"],
        "ConnectionRefusedError: [Errno 111] Connection refused"
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
        .events
        .iter()
        .find(|e| e["error"] == "ECONNRESET")
        .expect("the recv that raised");
    assert_eq!(
        raised["result"],
        "ConnectionResetError: [Errno 104] Connection reset by peer"
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
    let table = done.calls("sock_diag");
    assert_eq!(table.len(), 1, "{}", done.shown());
    assert_eq!(table[0]["result"], "CLOSE_WAIT");
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
    let states: Vec<&serde_json::Value> = done.calls("TCP state");
    assert_eq!(states.last().unwrap()["result"], "CLOSE_WAIT");
}
