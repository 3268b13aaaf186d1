//! The engine's trace mechanisms as labs meet them: what lab 01 and 02 show of the kernel,
//! and that a probe carrying the lab's expectation stops the lab, after its line, when the
//! kernel shows something else.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use netlab::event::{Lang, Text};
use netlab::lab::{self, Format, Lab, RunError};
use netlab::prelude::*;
use netlab::trace::TraceOptions;

/// A lab's event records as `--format json` prints them.
fn events(id: &str) -> Vec<serde_json::Value> {
    lab::json_events(lab::find(id).unwrap(), TraceOptions::default()).unwrap()
}

/// The TCP states the kernel showed for one lab socket (`server conn`).
fn states_of(events: &[serde_json::Value], socket: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["probe"]["socket"] == socket && e["probe"]["source"] == "TCP_INFO")
        .filter_map(|e| e["tcp_state"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn lab_01_shows_the_kernel_states_it_teaches() {
    let events = events("01");
    let result_of = |call: &str| -> Vec<&serde_json::Value> {
        events
            .iter()
            .filter(|e| e["call"].as_str().is_some_and(|c| c.contains(call)))
            .collect()
    };
    assert_eq!(states_of(&events, "server phone"), ["LISTEN"]);
    assert_eq!(states_of(&events, "client phone"), ["ESTABLISHED"]);
    assert_eq!(
        states_of(&events, "server conn"),
        ["ESTABLISHED", "CLOSE_WAIT"]
    );
    let table: Vec<_> = events
        .iter()
        .filter(|e| e["probe"]["source"] == "sock_diag")
        .map(|e| (&e["tcp_state"], &e["port"], &e["peer"]))
        .collect();
    assert_eq!(
        table,
        [(&"TIME_WAIT".into(), &"CLIENT_PORT_1".into(), &"PORT".into())]
    );
    let accept = result_of("accept()");
    assert_eq!(accept[0]["result"], "('127.0.0.1', CLIENT_PORT_1)");
    assert_eq!(accept[0]["peer"], "CLIENT_PORT_1");
    let recv = result_of("conn.recv(1024)");
    assert_eq!(recv[0]["result"], "b'hello netlab'");
    assert_eq!(recv[0]["bytes"]["count"], 12);
    let bind = result_of("phone.bind(");
    assert_eq!(
        (&bind[0]["result"], &bind[0]["port"]),
        (&"None".into(), &"PORT".into())
    );
    assert!(events.iter().all(|e| e["error"].is_null()));
}

#[test]
fn lab_02_second_caller_waits_in_the_accept_queue() {
    let events = events("02");
    let position =
        |pred: &dyn Fn(&serde_json::Value) -> bool| events.iter().position(pred).unwrap();
    let second_connected = position(&|e| {
        e["side"] == "client-2" && e["call"].as_str().is_some_and(|c| c.contains("connect("))
    });
    let queued = position(&|e| e["probe"]["socket"] == "server phone" && e["queue"]["accept"] == 1);
    let first_hangs_up = position(&|e| e["side"] == "client" && e["call"] == "phone.close()");
    let accepted_second = position(&|e| e["result"] == "('127.0.0.1', CLIENT_PORT_2)");
    assert!(
        events[second_connected]["error"].is_null()
            && events[second_connected]["outcome"] == "returned"
    );
    assert!(
        second_connected < queued && queued < first_hangs_up && first_hangs_up < accepted_second
    );
    assert_eq!(events[second_connected + 1]["tcp_state"], "ESTABLISHED");
}

/// A lab whose notes describe a TCP state the kernel will not show: the server's end of a
/// connection is ESTABLISHED, the lab claims CLOSE_WAIT.
fn claims_a_state_it_does_not_see(t: &Trace) -> LabResult {
    let server = t.side("server");
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(1)?;
    let dialer = t.side("client").tcp("phone")?;
    dialer.connect(&phone.local_addr()?)?;
    let (conn, _) = phone.accept("conn")?;
    t.kernel().tcp_state(&conn, TcpState::CloseWait)?;
    t.note(
        "NOT OBSERVED: the server's end is in CLOSE_WAIT.",
        "未观察到：服务端这一头处于 CLOSE_WAIT。",
    );
    Ok(())
}

static CLAIMS: Lab = Lab {
    id: "98-claims",
    title: Text::fixed("claims", "claims"),
    lesson: Text::fixed("", ""),
    run: claims_a_state_it_does_not_see,
    peer: None,
    code: &[],
};

/// A writer whose bytes stay readable after the renderer took it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_probe_that_shows_another_state_stops_the_lab_after_its_line() {
    let out = Shared::default();
    let sink = lab::renderer(Format::Text, Lang::En, false, Box::new(out.clone()));
    let err = match lab::run_with_sink(&CLAIMS, TraceOptions::default(), sink) {
        Err(err @ RunError::Lab(..)) => err.to_string(),
        Err(other) => panic!("the run failed for another reason: {other}"),
        Ok(()) => panic!("a lab whose probe shows another state ran to the end"),
    };
    assert_eq!(
        err,
        "lab 98-claims stopped: the kernel did not show what this lab describes: \
         server conn: TCP state: the lab expects CLOSE_WAIT, the kernel shows ESTABLISHED"
    );
    let text = String::from_utf8(out.0.borrow().clone()).unwrap();
    let last = text.lines().last().unwrap();
    assert!(
        last.ends_with("kernel    server conn: TCP state  -> ESTABLISHED"),
        "the probe's line, with what the kernel showed, ends the trace: {text}"
    );
    assert!(!text.contains("NOT OBSERVED"), "{text}");
}
