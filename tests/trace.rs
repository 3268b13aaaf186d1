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

#[test]
fn lab_01_shows_the_kernel_states_it_teaches() {
    let lab = lab::find("01").unwrap();
    let json = lab::render_to_string(lab, Lang::En, Format::Json).unwrap();
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let result_of = |call: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["call"].as_str().unwrap().contains(call))
            .map(|e| e["result"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(result_of("server phone: TCP state"), ["LISTEN"]);
    assert_eq!(result_of("client phone: TCP state"), ["ESTABLISHED"]);
    assert_eq!(
        result_of("server conn: TCP state"),
        ["ESTABLISHED", "CLOSE_WAIT"]
    );
    assert_eq!(result_of("sock_diag (as ss -tan): "), ["TIME_WAIT"]);
    assert_eq!(
        result_of("accept()"),
        ["addr = ('127.0.0.1', CLIENT_PORT_1)"]
    );
    assert_eq!(result_of("conn.recv(1024)"), ["b'hello netlab' (12 bytes)"]);
    assert!(events.iter().all(|e| e["error"].is_null()));
}

#[test]
fn lab_02_second_caller_waits_in_the_accept_queue() {
    let lab = lab::find("02").unwrap();
    let json = lab::render_to_string(lab, Lang::En, Format::Json).unwrap();
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let position =
        |pred: &dyn Fn(&serde_json::Value) -> bool| events.iter().position(pred).unwrap();
    let second_connected =
        position(&|e| e["side"] == "client-2" && e["call"].as_str().unwrap().contains("connect("));
    let queued = position(&|e| {
        e["call"] == "server phone: accept queue" && e["result"].as_str().unwrap().starts_with("1 ")
    });
    let first_hangs_up = position(&|e| e["side"] == "client" && e["call"] == "phone.close()");
    let accepted_second = position(&|e| e["result"] == "addr = ('127.0.0.1', CLIENT_PORT_2)");
    assert!(
        events[second_connected]["error"].is_null()
            && !events[second_connected]["blocked"].as_bool().unwrap()
    );
    assert!(
        second_connected < queued && queued < first_hangs_up && first_hangs_up < accepted_second
    );
    assert_eq!(events[second_connected + 1]["result"], "ESTABLISHED");
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
