//! Outcome tests for labs 03-06 (the course's bugs), asserted from `--format json` events:
//! what the kernel did in the run, not what the notes say.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use netlab::lab;
use netlab::trace::TraceOptions;
use serde_json::Value;

/// One lab's events, from one run shared by the tests of this file.
type Run = Arc<OnceLock<Vec<Value>>>;

fn events(id: &'static str) -> Vec<Value> {
    static RUNS: OnceLock<Mutex<HashMap<&'static str, Run>>> = OnceLock::new();
    let run = RUNS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(id)
        .or_default()
        .clone();
    run.get_or_init(|| {
        lab::json_events(lab::find(id).unwrap(), TraceOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
    })
    .clone()
}

fn text<'a>(event: &'a Value, field: &str) -> &'a str {
    event[field].as_str().unwrap_or("")
}

fn blocked(event: &Value) -> bool {
    event["blocked"].as_bool().unwrap()
}

/// Position of the first event at or after `from` that matches.
fn find(events: &[Value], from: usize, pred: impl Fn(&Value) -> bool) -> usize {
    events[from..]
        .iter()
        .position(pred)
        .map(|i| i + from)
        .unwrap_or_else(|| panic!("no matching event after {from}"))
}

#[test]
fn lab_03_empty_send_returns_0_and_both_recvs_block() {
    let ev = events("03");
    let empty = find(&ev, 0, |e| e["call"] == "phone.send(b'')");
    assert_eq!(ev[empty]["side"], "client");
    assert_eq!(ev[empty]["result"], "0");
    assert!(ev[empty]["error"].is_null());

    // Nothing reached the wire: the client's data counter did not move, the server's queue is empty.
    let counters: Vec<&str> = ev
        .iter()
        .filter(|e| text(e, "call").starts_with("client phone: data bytes sent"))
        .map(|e| text(e, "result"))
        .collect();
    assert_eq!(counters[..2], ["5 bytes", "5 bytes"]);
    let queue = find(&ev, empty, |e| {
        e["call"] == "server conn: receive queue (FIONREAD)"
    });
    assert_eq!(ev[queue]["result"], "0 bytes waiting");

    // Both recvs after the empty send would block, the server's first.
    let server_recv = find(&ev, empty, |e| text(e, "call") == "data = conn.recv(1024)");
    assert_eq!(ev[server_recv]["side"], "server");
    assert!(blocked(&ev[server_recv]));
    let client_recv = find(&ev, empty, |e| text(e, "call") == "data = phone.recv(1024)");
    assert_eq!(ev[client_recv]["side"], "client");
    assert!(blocked(&ev[client_recv]));
    assert!(server_recv < client_recv);

    // Only those two calls block in the whole lab, and the fixed client's exchange works.
    assert_eq!(ev.iter().filter(|e| blocked(e)).count(), 2);
    assert!(ev
        .iter()
        .any(|e| e["side"] == "client" && e["result"] == "b'HELLO AGAIN' (11 bytes)"));
    assert!(ev.iter().all(|e| e["error"].is_null()));
}

#[test]
fn lab_04_recv_returns_empty_repeatedly_then_a_reset_raises_econnreset() {
    let ev = events("04");
    let close_wait = find(&ev, 0, |e| e["result"] == "CLOSE_WAIT");
    assert_eq!(ev[close_wait]["call"], "server conn: TCP state");

    // The spinning loop: recv returns b'' at once (never blocked), several times in a row.
    let mut empties = 0;
    let mut i = close_wait;
    while let Some(next) = ev[i + 1..]
        .iter()
        .position(|e| e["side"] == "server")
        .map(|p| p + i + 1)
    {
        let call = text(&ev[next], "call");
        if call == "data = conn.recv(1024)" && ev[next]["result"] == "b'' (0 bytes)" {
            assert!(!blocked(&ev[next]));
            empties += 1;
        } else if call != "conn.send(b'')" {
            break;
        } else {
            assert_eq!(ev[next]["result"], "0");
        }
        i = next;
    }
    assert!(empties >= 3, "recv returned b'' {empties} times in a row");

    // The reproduced Windows kill: SO_LINGER 0, close, and recv raises ECONNRESET.
    let linger = find(&ev, 0, |e| {
        e["side"] == "client-2" && text(e, "call").contains("SO_LINGER")
    });
    let torn_down = find(&ev, linger, |e| e["call"] == "server conn: TCP state");
    assert_eq!(ev[torn_down]["result"], "CLOSE");
    let reset = find(&ev, linger, |e| e["error"] == "ECONNRESET");
    assert_eq!(ev[reset]["side"], "server");
    assert_eq!(ev[reset]["call"], "data = conn.recv(1024)");
    assert_eq!(ev[reset]["errno"], 104);
    assert!(text(&ev[reset], "note").contains("WSAECONNRESET (10054)"));

    // The fixed loop survives both endings and goes back to accept(), which waits.
    let resets: Vec<usize> = (0..ev.len())
        .filter(|&i| ev[i]["error"] == "ECONNRESET")
        .collect();
    assert_eq!(resets.len(), 2);
    let last = ev
        .iter()
        .rposition(|e| text(e, "call").contains("accept()"))
        .unwrap();
    assert!(last > resets[1] && blocked(&ev[last]));
}

#[test]
fn lab_05_backlog_plus_one_established_and_the_rest_syn_sent() {
    let ev = events("05");
    let listen = find(&ev, 0, |e| text(e, "call").starts_with("phone.listen("));
    let backlog: usize = text(&ev[listen], "call")
        .trim_start_matches("phone.listen(")
        .trim_end_matches(')')
        .parse()
        .unwrap();
    let state_of = |client: usize| -> Vec<String> {
        ev.iter()
            .filter(|e| e["call"] == format!("client-{client} phone: TCP state"))
            .map(|e| text(e, "result").to_string())
            .collect()
    };
    let clients: Vec<usize> = (1..)
        .take_while(|i| ev.iter().any(|e| e["side"] == format!("client-{i}")))
        .collect();
    assert_eq!(clients.len(), 8);
    let established: Vec<usize> = clients
        .iter()
        .copied()
        .filter(|&c| state_of(c).first().map(String::as_str) == Some("ESTABLISHED"))
        .collect();
    assert_eq!(established, (1..=backlog + 1).collect::<Vec<_>>());
    for c in backlog + 2..=8 {
        assert!(
            state_of(c).iter().all(|s| s == "SYN_SENT") && !state_of(c).is_empty(),
            "client-{c}: {:?}",
            state_of(c)
        );
        let connect = ev
            .iter()
            .find(|e| e["side"] == format!("client-{c}") && text(e, "call").contains("connect("))
            .unwrap();
        assert!(blocked(connect) && connect["error"].is_null());
    }
    // The kernel's accept queue: full at backlog + 1 before accepting, then drained to 0.
    let queues: Vec<&str> = ev
        .iter()
        .filter(|e| e["call"] == "server phone: accept queue")
        .map(|e| text(e, "result"))
        .collect();
    let full = format!(
        "{} connections waiting to be accepted (limit {backlog})",
        backlog + 1
    );
    assert!(queues.contains(&full.as_str()), "{queues:?}");
    assert!(queues.last().unwrap().starts_with("0 connections"));
    let accepted = ev
        .iter()
        .filter(|e| text(e, "call").ends_with("accept()") && !blocked(e))
        .count();
    assert_eq!(accepted, backlog + 1);
    // The server's kernel has no entry for a client whose SYN was dropped.
    assert!(ev.iter().any(|e| text(e, "call")
        .starts_with("sock_diag (as ss -tan): connection ('127.0.0.1', PORT) to")
        && e["result"] == "no such connection"));
}

#[test]
fn lab_06_eaddrinuse_without_so_reuseaddr_on_both_sockets() {
    let ev = events("06");
    // Walk the server's sockets: which had SO_REUSEADDR, which port each bound, what bind did.
    struct Bind {
        port: String,
        reuse: bool,
        error: Option<String>,
    }
    let mut binds: Vec<Bind> = Vec::new();
    let mut reuse = false;
    for e in ev.iter().filter(|e| e["side"] == "server") {
        let call = text(e, "call");
        if call.starts_with("phone = socket(") {
            reuse = false;
        } else if call == "phone.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)" {
            reuse = true;
        } else if let Some(addr) = call.strip_prefix("phone.bind(('127.0.0.1', ") {
            let port = addr.trim_end_matches("))").to_string();
            let port = if port == "0" {
                let result = text(e, "result");
                result[result.find("port ").unwrap() + 5..result.len() - 1].to_string()
            } else {
                port
            };
            binds.push(Bind {
                port,
                reuse,
                error: e["error"].as_str().map(str::to_string),
            });
        }
    }
    // Which ports have a TIME_WAIT on the server's end (server closed first).
    let server_time_wait = |port: &str| {
        ev.iter().any(|e| {
            text(e, "call").starts_with(&format!(
                "sock_diag (as ss -tan): connection ('127.0.0.1', {port}) to"
            )) && e["result"] == "TIME_WAIT"
        })
    };
    // (old socket had it, new socket has it, server's end in TIME_WAIT) -> bind error
    let mut seen = Vec::new();
    for (i, bind) in binds.iter().enumerate() {
        let Some(first) = binds[..i].iter().find(|b| b.port == bind.port) else {
            assert!(bind.error.is_none());
            continue;
        };
        let case = (first.reuse, bind.reuse, server_time_wait(&bind.port));
        let expected = match case {
            (true, true, _) | (_, _, false) => None,
            _ => Some("EADDRINUSE".to_string()),
        };
        assert_eq!(bind.error, expected, "port {}: {case:?}", bind.port);
        seen.push((case, bind.error.clone()));
    }
    let eaddrinuse = Some("EADDRINUSE".to_string());
    assert_eq!(
        seen,
        [
            ((false, false, true), eaddrinuse.clone()),
            ((false, true, true), eaddrinuse.clone()),
            ((true, false, true), eaddrinuse),
            ((true, true, true), None),
            ((false, false, false), None),
        ]
    );
    // When the client closed first, the TIME_WAIT is on the client's end.
    let probes: Vec<String> = ev
        .iter()
        .filter(|e| text(e, "call").starts_with("sock_diag (as ss -tan): "))
        .map(|e| format!("{} -> {}", text(e, "call"), text(e, "result")))
        .collect();
    assert!(
        probes.contains(
            &"sock_diag (as ss -tan): connection ('127.0.0.1', CLIENT_PORT_4) to ('127.0.0.1', PORT_3) -> TIME_WAIT"
                .to_string()
        ),
        "{probes:#?}"
    );
}

/// The TCP states the kernel showed in each lab, in order: every `TCP state` probe and every
/// look-up in the TCP table, compared whole (a state's name inside another's, CLOSE in
/// CLOSE_WAIT, or in a note, does not count).
#[test]
fn labs_03_to_06_show_the_kernel_states_they_rely_on() {
    const NONE: &str = "no such connection";
    let est = "ESTABLISHED";
    for (id, expected) in [
        ("03", vec![est, est]),
        ("04", vec!["CLOSE_WAIT", "CLOSE"]),
        (
            "05",
            vec![
                est, est, est, est, est, est, "SYN_SENT", "SYN_SENT", NONE, "SYN_SENT", "SYN_SENT",
            ],
        ),
        (
            "06",
            vec![
                "CLOSE_WAIT",
                "TIME_WAIT",
                "CLOSE_WAIT",
                "TIME_WAIT",
                "TIME_WAIT",
                "CLOSE_WAIT",
                "TIME_WAIT",
                NONE,
            ],
        ),
    ] {
        let ev = events(id);
        let states: Vec<&str> = ev
            .iter()
            .filter(|e| e["kind"] == "kernel")
            .filter(|e| {
                text(e, "call").ends_with("TCP state")
                    || text(e, "call").starts_with("sock_diag (as ss -tan): connection ")
            })
            .map(|e| text(e, "result"))
            .collect();
        assert_eq!(states, expected, "lab {id}");
    }
}
