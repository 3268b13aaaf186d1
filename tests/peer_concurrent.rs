//! Labs 18 and 19 in peer mode: `netlab serve` serves several clients at once, and `netlab
//! connect` calls a server with several clients at once. The peers are Rust code here: for
//! `serve`, clients on threads of this test, one of which stays connected and quiet while the
//! others are answered; for `connect`, a server with a thread per connection (no diagnosis) and
//! one that serves a client at a time, as lab 02's link loop does (`not_concurrent`, backed by
//! the kernel's table). Every assertion is on the JSON lines, the exit status, and what the
//! peers themselves saw and when.

mod peer_support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use peer_support::*;
use serde_json::Value;

/// Far less than the declared wait (30 s) after which a server that serves one client at a
/// time would give up on the quiet client and only then answer the next: an answer within this
/// came while the quiet client was still connected.
const AT_ONCE: Duration = Duration::from_secs(10);

/// The events whose Python call is exactly `call`.
fn exactly<'a>(done: &'a Finished, call: &str) -> Vec<&'a Value> {
    done.events().filter(|e| e["call"] == call).collect()
}

fn seq(event: &Value) -> u64 {
    event["seq"].as_u64().expect("every event has a seq")
}

/// The first event whose call is exactly `call`.
fn first_seq(done: &Finished, call: &str) -> u64 {
    let found = exactly(done, call);
    let event = found
        .first()
        .unwrap_or_else(|| panic!("no line {call:?}\n{}", done.shown()));
    seq(event)
}

/// With `--raw`: the connection netlab accepted from the client whose end is `stream`, as the
/// trace names it (`conn2`), from its accept line (`conn2, addr = server.accept()`, whose
/// `peer` is that client's port).
fn conn_of(done: &Finished, stream: &TcpStream) -> String {
    let port = stream.local_addr().unwrap().port().to_string();
    let accepted = done
        .calls(", addr = server.accept()")
        .into_iter()
        .find(|e| e["peer"] == port.as_str())
        .unwrap_or_else(|| panic!("no accept of port {port}\n{}", done.shown()));
    let call = accepted["call"].as_str().unwrap();
    call.split(',').next().unwrap().to_string()
}

/// Connection `var` was accepted from the client whose port shows as `client_port`, and
/// lines of its own follow: each line about a client names its connection.
fn assert_accepted_from(done: &Finished, var: &str, client_port: &str) {
    let accepted: Vec<&Value> = exactly(done, &format!("{var}, addr = server.accept()"))
        .into_iter()
        .filter(|e| e["outcome"] == "returned")
        .collect();
    assert_eq!(accepted.len(), 1, "{}", done.shown());
    assert_eq!(accepted[0]["peer"], client_port, "{}", done.shown());
    assert_eq!(
        accepted[0]["result"],
        format!("('127.0.0.1', {client_port})"),
        "{}",
        done.shown()
    );
    let named = |e: &&Value| {
        let call = e["call"].as_str().unwrap_or("");
        call.contains(&format!("{var}."))
            || call.contains(&format!("({var})"))
            || call.contains(&format!("({var},"))
    };
    let own: Vec<&Value> = done
        .events()
        .filter(named)
        .filter(|e| seq(e) > seq(accepted[0]))
        .collect();
    let made: Vec<String> = own
        .iter()
        .map(|e| e["call"].as_str().unwrap().replace(var, "CONN"))
        .collect();
    for call in [
        "CONN.setblocking(False)",
        "sel.register(CONN, EVENT_READ)",
        "sel.unregister(CONN)",
        "CONN.close()",
    ] {
        assert!(
            made.iter().any(|m| m == call),
            "{var}: no {call} in {made:?}"
        );
    }
}

fn assert_ended_cleanly(done: &Finished, conversations: u64) {
    done.assert_valid();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    assert_eq!(done.session()["interrupted"], true, "{}", done.shown());
    assert_eq!(done.session()["conversations"], conversations);
    // No thread labels: netlab's server is one event loop in one thread.
    assert!(
        done.events()
            .all(|e| !e["side"].as_str().unwrap_or("").contains("thread")),
        "{}",
        done.shown()
    );
}

#[test]
fn serve_18_answers_clients_2_and_3_while_client_1_stays_connected_and_quiet() {
    let server = Serving::start("18", &["--raw"]);
    let mut first = server.dial();
    let mut second = server.dial();
    let mut third = server.dial();
    let asked = Instant::now();
    send(&mut second, b"hello from client 2");
    assert_eq!(read_exact(&mut second, 19), b"HELLO FROM CLIENT 2");
    let second_waited = asked.elapsed();
    send(&mut third, b"hello from client 3");
    assert_eq!(read_exact(&mut third, 19), b"HELLO FROM CLIENT 3");
    // Only now does client 1 say anything, and it is answered too.
    send(&mut first, b"hello from client 1");
    assert_eq!(read_exact(&mut first, 19), b"HELLO FROM CLIENT 1");
    assert!(
        second_waited < AT_ONCE,
        "client 2 waited {second_waited:?} for its answer"
    );
    // Clients 2 and 3 leave; client 1 is still served.
    hang_up(second);
    hang_up(third);
    send(&mut first, b"bye");
    assert_eq!(read_exact(&mut first, 3), b"BYE");
    let one = port_of(&first);
    let done = server.interrupt();
    assert_ended_cleanly(&done, 3);

    let conn1 = conn_of(&done, &first);
    assert_eq!(conn1, "conn1", "client 1 was accepted first");
    assert_accepted_from(&done, &conn1, &one);
    let answered_2 = first_seq(&done, "conn2.send(b'HELLO FROM CLIENT 2')");
    let answered_3 = first_seq(&done, "conn3.send(b'HELLO FROM CLIENT 3')");
    let heard_1 = exactly(&done, "data = conn1.recv(1024)");
    assert_eq!(heard_1[0]["result"], "b'hello from client 1'");
    assert!(answered_2 < seq(heard_1[0]) && answered_3 < seq(heard_1[0]));
    assert!(first_seq(&done, "conn1, addr = server.accept()") < answered_2);
    // Client 1's connection was open all along: netlab closed it only when Ctrl-C stopped it.
    assert!(first_seq(&done, "conn1.close()") > seq(heard_1[1]));
    // Each select's list is the kernel's answer, written with the program's names.
    for select in exactly(&done, "events = sel.select()") {
        let result = select["result"].as_str().unwrap();
        assert!(result.starts_with("[(sel.get_key("), "{select}");
    }
}

/// The port of a test client's end, as `--raw` shows it.
fn port_of(stream: &TcpStream) -> String {
    stream.local_addr().unwrap().port().to_string()
}

/// A client hangs up politely (FIN) and waits until netlab has closed its end too.
fn hang_up(mut stream: TcpStream) {
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut stream), b"");
}

#[test]
fn serve_19_answers_two_clients_that_send_at_once_and_hangs_up_on_the_rest_at_ctrl_c() {
    let server = Serving::start("19", &[]);
    let pid = server.pid();
    let mut first = server.dial();
    let mut second = server.dial();
    let mut third = server.dial();
    let asked = Instant::now();
    send(&mut second, b"two");
    send(&mut third, b"three");
    assert_eq!(read_exact(&mut third, 5), b"THREE");
    assert_eq!(read_exact(&mut second, 3), b"TWO");
    assert!(asked.elapsed() < AT_ONCE);
    // Client 1 never speaks. Ctrl-C: netlab hangs up on every client and exits 0.
    let done = server.interrupt();
    assert_ended_cleanly(&done, 3);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    for client in [&mut first, &mut second, &mut third] {
        assert_eq!(read_to_end(client), b"", "netlab closed every connection");
    }
    // Stable names: connections in the order they were accepted, their clients' ports too.
    for n in 1..=3 {
        assert_accepted_from(&done, &format!("conn{n}"), &format!("CLIENT_PORT_{n}"));
        assert_eq!(exactly(&done, &format!("sel.unregister(conn{n})")).len(), 1);
        assert_eq!(exactly(&done, &format!("conn{n}.close()")).len(), 1);
    }
    assert!(exactly(&done, "data = conn1.recv(1024)").is_empty());
    let events: Vec<&Value> = done.events().collect();
    let ends: Vec<&str> = events
        .iter()
        .rev()
        .skip(1)
        .take(4)
        .map(|e| e["call"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ends,
        [
            "server.close()",
            "sel.close()",
            "sel.unregister(server)",
            "conn3.close()"
        ],
        "{}",
        done.shown()
    );
}

#[test]
fn a_client_that_misbehaves_is_diagnosed_and_never_holds_up_the_others() {
    let server = Serving::start("18", &["--wait", "1", "--raw"]);
    let mut silent = server.dial();
    let mut resetting = server.dial();
    let mut good = server.dial();
    send(&mut resetting, b"hi");
    assert_eq!(read_exact(&mut resetting, 2), b"HI");
    let resetting_port = port_of(&resetting);
    reset(resetting);
    send(&mut good, b"still here");
    assert_eq!(read_exact(&mut good, 10), b"STILL HERE");
    // The silent client is given up on after the declared wait, 1 s.
    let started = Instant::now();
    assert_eq!(read_to_end(&mut silent), b"");
    assert!(started.elapsed() < AT_ONCE);
    send(&mut good, b"and now?");
    assert_eq!(read_exact(&mut good, 8), b"AND NOW?");
    let done = server.interrupt();
    done.assert_valid();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert_eq!(
        done.diagnoses(),
        ["reset", "silent_peer"],
        "{}",
        done.shown()
    );
    // The reset shows as Python raises it on the resetting client's connection.
    let reset_conn = done
        .calls(", addr = server.accept()")
        .into_iter()
        .find(|e| e["peer"] == resetting_port.as_str())
        .map(|e| {
            e["call"]
                .as_str()
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_string()
        })
        .unwrap();
    let raised: Vec<&Value> = exactly(&done, &format!("data = {reset_conn}.recv(1024)"))
        .into_iter()
        .filter(|e| e["outcome"] == "raised")
        .collect();
    assert_eq!(raised.len(), 1, "{}", done.shown());
    assert_eq!(raised[0]["error"]["exception"], "ConnectionResetError");
    assert_eq!(seq(done.diagnosis("reset")), seq(raised[0]) + 1);
    // The good client was answered after both diagnoses.
    let good_conn = conn_of(&done, &good);
    let last_answer = exactly(&done, &format!("{good_conn}.send(b'AND NOW?')"));
    assert!(seq(last_answer[0]) > seq(done.diagnosis("silent_peer")));
}

#[test]
fn a_client_that_never_reads_is_diagnosed_and_memory_stays_bounded() {
    let server = Serving::start("19", &["--wait", "1"]);
    let flooder = server.dial();
    let socket = socket2::SockRef::from(&flooder);
    socket.set_recv_buffer_size(4096).unwrap();
    let mut flooding = flooder.try_clone().unwrap();
    // Sends and never reads: netlab's answers fill the client's receive buffer and netlab's
    // send buffer, until netlab gives up on it and closes the connection.
    let writer = thread::spawn(move || {
        flooding
            .set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let chunk = [b'x'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 256 * 1024 * 1024 {
            match flooding.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
        sent
    });
    // Another client talks before and after: it is served all along (it has talked, so
    // netlab gives it ten times the wait before its next message).
    let mut good = server.dial();
    send(&mut good, b"hello");
    assert_eq!(read_exact(&mut good, 5), b"HELLO");
    let sent = writer.join().unwrap();
    assert!(sent < 256 * 1024 * 1024, "netlab never stopped the flood");
    send(&mut good, b"am I served?");
    assert_eq!(read_exact(&mut good, 12), b"AM I SERVED?");
    let peak = server.peak_memory_kib();
    drop(flooder);
    let done = server.interrupt();
    done.assert_valid();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["not_reading"], "{}", done.shown());
    let stuck = done.diagnosis("not_reading");
    let (taken, total) = (
        stuck["bytes"]["count"].as_u64().unwrap(),
        stuck["bytes"]["of"].as_u64().unwrap(),
    );
    assert!(taken < total && total <= 1024, "{stuck}");
    assert!(!exactly(&done, "sel.modify(conn1, EVENT_WRITE)").is_empty());
    assert!(peak < 50 * 1024, "netlab's peak memory was {peak} KiB");
}

#[test]
fn at_most_32_clients_at_once_and_the_next_one_waits_in_the_accept_queue() {
    let limit = netlab::peer::MAX_CLIENTS;
    let server = Serving::start("19", &[]);
    // Each has been accepted once its message is answered (one at a time, so that the
    // accept queue of listen(5) never overflows).
    let clients: Vec<TcpStream> = (0..limit)
        .map(|i| {
            let mut client = server.dial();
            let message = format!("client {i}");
            send(&mut client, message.as_bytes());
            assert_eq!(
                read_exact(&mut client, message.len()),
                message.to_uppercase().as_bytes()
            );
            client
        })
        .collect();
    let mut clients = clients;
    let mut next = server.dial();
    send(&mut next, b"let me in");
    let mut nothing = [0u8; 1];
    next.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        next.read(&mut nothing).is_err(),
        "answered beyond the limit"
    );
    // One leaves: the next one is accepted and answered.
    clients.remove(0);
    next.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    assert_eq!(read_exact(&mut next, 9), b"LET ME IN");
    let done = server.interrupt();
    assert_ended_cleanly(&done, limit as u64 + 1);
    let stopped = first_seq(&done, "sel.unregister(server)");
    let accepted_last = exactly(&done, &format!("conn{limit}, addr = server.accept()"))
        .into_iter()
        .filter(|e| e["outcome"] == "returned")
        .map(seq)
        .next()
        .unwrap();
    assert_eq!(stopped, accepted_last + 3, "{}", done.shown());
    let watched_again = exactly(&done, "sel.register(server, EVENT_READ)");
    assert_eq!(watched_again.len(), 2);
    let beyond = format!("conn{}, addr = server.accept()", limit + 1);
    assert!(seq(watched_again[1]) < first_seq(&done, &beyond));
    // Before the limit, each accept loop ended on BlockingIOError; at the limit it stopped
    // without one.
    let raised = |call: &str| {
        exactly(&done, call)
            .iter()
            .any(|e| e["error"]["exception"] == "BlockingIOError")
    };
    assert!(raised("conn2, addr = server.accept()"));
    assert!(exactly(&done, &beyond).iter().all(|e| seq(e) > stopped));
}

// ---- connect ------------------------------------------------------------------------------

/// What a test's server read on each connection it accepted, in order.
type Heard = Vec<Vec<u8>>;

/// `netlab connect LAB --port P --format json ARGS` against `server` on a listener this test
/// holds; the server is told to stop (and has served what was left) once netlab has ended.
fn connect_against(
    lab: &str,
    args: &[&str],
    server: fn(TcpListener, Arc<AtomicBool>) -> Heard,
) -> (Finished, Heard) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let told = stop.clone();
    let playing = thread::spawn(move || server(listener, told));
    let done = run_connect(lab, port, args);
    stop.store(true, Ordering::SeqCst);
    (
        done,
        playing.join().expect("the test's server did not panic"),
    )
}

/// The next connection, or None once `stop` is set and none is waiting.
fn next_caller(listener: &TcpListener, stop: &AtomicBool) -> Option<TcpStream> {
    loop {
        if let Some(conn) = accept_within(listener, Duration::from_millis(50)) {
            return Some(conn);
        }
        if stop.load(Ordering::SeqCst) {
            return None;
        }
    }
}

/// The course's communication loop on one connection: each message back in upper case,
/// until the client hangs up (or resets). Returns everything it read.
fn talk(mut conn: TcpStream) -> Vec<u8> {
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut heard = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return heard,
            Ok(n) => {
                heard.extend_from_slice(&buf[..n]);
                if conn.write_all(&buf[..n].to_ascii_uppercase()).is_err() {
                    return heard;
                }
            }
        }
    }
}

/// Lab 18's server in Rust: a thread per connection.
fn threaded(listener: TcpListener, stop: Arc<AtomicBool>) -> Heard {
    let mut threads = Vec::new();
    while let Some(conn) = next_caller(&listener, &stop) {
        threads.push(thread::spawn(move || talk(conn)));
    }
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Lab 02's server in Rust: the link loop, one client after another.
fn one_at_a_time(listener: TcpListener, stop: Arc<AtomicBool>) -> Heard {
    let mut heard = Vec::new();
    while let Some(conn) = next_caller(&listener, &stop) {
        heard.push(talk(conn));
    }
    heard
}

#[test]
fn connect_18_and_19_find_nothing_wrong_with_a_server_that_has_a_thread_per_connection() {
    for (lab, clients) in [("18", 2), ("19", 3)] {
        let (done, heard) = connect_against(lab, &[], threaded);
        done.assert_valid();
        assert!(done.status.success(), "lab {lab}: {}", done.shown());
        assert!(done.diagnoses().is_empty(), "lab {lab}: {}", done.shown());
        assert_eq!(heard.len(), clients, "lab {lab}");
        // Client 2 had its answer before client 1 said anything.
        let answered_2 = done
            .events()
            .find(|e| e["side"] == "client-2" && e["call"] == "data = client.recv(1024)")
            .map(seq)
            .unwrap();
        let spoke_1 = done
            .events()
            .find(|e| e["side"] == "client" && e["call"] == "client.send(b'hello from client 1')")
            .map(seq)
            .unwrap();
        assert!(answered_2 < spoke_1, "lab {lab}: {}", done.shown());
        assert_eq!(heard[0], b"hello from client 1", "lab {lab}");
        assert_eq!(
            heard[1], b"hello from client 2client 2 is still here",
            "lab {lab}"
        );
    }
}

#[test]
fn connect_18_and_19_diagnose_a_server_that_serves_one_client_at_a_time() {
    for (lab, queued) in [("18", 1), ("19", 2)] {
        let (done, heard) = connect_against(lab, &["--wait", "1"], one_at_a_time);
        done.assert_valid();
        assert_eq!(done.status.code(), Some(1), "lab {lab}: {}", done.shown());
        assert_eq!(
            done.diagnoses(),
            ["not_concurrent"],
            "lab {lab}: {}",
            done.shown()
        );
        let found = done.diagnosis("not_concurrent");
        assert_eq!(found["queue"]["peer_receive"], 19, "lab {lab}: {found}");
        assert_eq!(found["queue"]["peer_accept"], queued, "lab {lab}: {found}");
        // The kernel's lines right before it: client 2's bytes unread at the server, and the
        // server's accept queue, both from its table.
        let at = seq(found);
        let unread = done.event(at - 2);
        assert_eq!(unread["queue"]["peer_receive"], 19, "{unread}");
        assert_eq!(unread["probe"]["source"], "sock_diag");
        let accept = done.event(at - 1);
        assert_eq!(accept["queue"]["peer_accept"], queued, "{accept}");
        let waited = done.event(at - 3);
        assert_eq!(
            (&waited["side"], &waited["outcome"]),
            (&"client-2".into(), &"blocked".into()),
            "{waited}"
        );
        // What the kernel showed was so: the server read client 2's message only after
        // netlab's clients had hung up, and client 1 never said anything.
        assert_eq!(heard[0], b"", "lab {lab}");
        assert_eq!(heard[1], b"hello from client 2", "lab {lab}");
    }
}

#[test]
fn the_not_concurrent_diagnosis_reads_in_both_languages() {
    let mut found = HashMap::new();
    for lang in ["en", "zh"] {
        let (done, _) = connect_against("18", &["--wait", "1", "--lang", lang], one_at_a_time);
        let diagnosis = done.diagnosis("not_concurrent");
        let notes = diagnosis["notes"].as_array().unwrap();
        assert_eq!(notes.len(), 2, "{diagnosis}");
        found.insert(lang, notes[0].as_str().unwrap().to_string());
    }
    assert_eq!(
        found["en"],
        "diagnosis: the server did not answer client 2 while client 1 was connected: 19 bytes unread for 1 s, 1 connection not accepted"
    );
    assert_eq!(
        found["zh"],
        "诊断：客户端 1 还连着时，服务端没有回答客户端 2：19 字节 1 s 内没有被读，1 个连接没有被 accept"
    );
}

#[test]
fn once_ends_when_the_clients_have_come_and_all_gone() {
    let server = Serving::start("19", &["--once"]);
    let mut first = server.dial();
    let mut second = server.dial();
    send(&mut second, b"two");
    assert_eq!(read_exact(&mut second, 3), b"TWO");
    hang_up(second);
    // Client 1 is still connected, so netlab goes on.
    send(&mut first, b"one");
    assert_eq!(read_exact(&mut first, 3), b"ONE");
    hang_up(first);
    let done = server.wait();
    done.assert_valid();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert_eq!(
        done.session(),
        &serde_json::json!({"command": "serve", "conversations": 2, "diagnoses": [], "interrupted": false})
    );
    assert_eq!(
        done.last_event()["notes"][0],
        "serve ended (--once): 2 clients, 0 diagnoses"
    );

    // With a diagnosis, --once judges the session: exit status 1.
    let server = Serving::start("18", &["--once", "--wait", "1"]);
    let mut silent = server.dial();
    assert_eq!(read_to_end(&mut silent), b"");
    let done = server.wait();
    assert_eq!(done.status.code(), Some(1), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["silent_peer"]);
}
