//! Outcome tests for labs 14-16 (send vs sendall, connect_ex, AF_UNIX), asserted from the
//! JSON events the labs print: what the kernel did, not how the trace is worded.

use netlab::event::Lang;
use netlab::lab::{self};
use netlab::trace::TraceOptions;
use serde_json::Value;

/// A lab's JSON events; with `raw`, real numbers instead of stable names.
fn events(id: &str, raw: bool) -> Vec<Value> {
    let options = TraceOptions {
        lang: Lang::En,
        raw,
        ..TraceOptions::default()
    };
    lab::json_events(lab::find(id).unwrap(), options).unwrap_or_else(|e| panic!("{e}"))
}

fn text<'a>(event: &'a Value, field: &str) -> &'a str {
    event[field].as_str().unwrap_or("")
}

fn find(events: &[Value], pred: impl Fn(&Value) -> bool) -> (usize, &Value) {
    events
        .iter()
        .enumerate()
        .find(|(_, e)| pred(e))
        .expect("no such event")
}

/// A count in the JSON (a number under `--raw`).
fn number(count: &Value) -> usize {
    count
        .as_u64()
        .unwrap_or_else(|| panic!("not a number: {count}")) as usize
}

fn errno_name(event: &Value) -> Option<&str> {
    event["error"]["errno_name"].as_str()
}

#[test]
fn lab_14_send_takes_part_and_sendall_finishes() {
    const MESSAGE: usize = 1 << 20;
    let raw = events("14", true);
    let (_, send) = find(&raw, |e| text(e, "call").starts_with("phone.send(b'x"));
    let sent = number(&send["bytes"]["count"]);
    assert_eq!(text(send, "result"), sent.to_string());
    assert!(
        sent > 0 && sent < MESSAGE,
        "send() took {sent} of {MESSAGE}"
    );
    assert!(send["error"].is_null());

    let queue = |source: &str, name: &str| {
        let (_, e) = find(&raw, |e| {
            e["kind"] == "kernel" && e["probe"]["source"] == source
        });
        number(&e["queue"][name])
    };
    let outq = queue("SIOCOUTQ", "send_unacknowledged");
    let inq = queue("FIONREAD", "receive");
    assert_eq!(inq + outq, sent, "queues {inq} + {outq} != sent {sent}");
    assert_eq!(queue("SIOCOUTQNSD", "send_untransmitted"), outq);

    let (blocked_at, blocked) = find(&raw, |e| text(e, "call").starts_with("phone.sendall("));
    assert_eq!(blocked["outcome"], "blocked");
    assert_eq!(number(&blocked["bytes"]["of"]), MESSAGE - sent);
    let (read_at, read) = find(&raw, |e| text(e, "call").contains("MSG_WAITALL"));
    assert_eq!(number(&read["bytes"]["count"]), MESSAGE);
    let (done_at, done) = find(&raw, |e| {
        text(e, "call").starts_with("phone.sendall(") && e.get("continues").is_some()
    });
    assert!(blocked_at < read_at && read_at < done_at);
    assert_eq!(done["continues"], blocked["seq"]);
    assert_eq!(done["outcome"], "returned");
    assert_eq!(done["result"], "None");
    assert_eq!(number(&done["bytes"]["count"]), MESSAGE - sent);

    // Default output names the machine-dependent figures.
    let named = events("14", false);
    let (_, send) = find(&named, |e| text(e, "call").starts_with("phone.send(b'x"));
    assert_eq!(send["result"], "SENT");
    assert_eq!(send["bytes"]["count"], "SENT");
}

#[test]
fn lab_15_connect_raises_and_connect_ex_returns_111() {
    let events = events("15", false);
    let (refused_at, refused) = find(&events, |e| text(e, "call").starts_with("phone.connect("));
    assert_eq!(errno_name(refused), Some("ECONNREFUSED"));
    assert_eq!(refused["error"]["errno"], 111);
    assert_eq!(refused["error"]["exception"], "ConnectionRefusedError");
    let results: Vec<(usize, &str, &Value)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| text(e, "call").starts_with("phone.connect_ex("))
        .map(|(i, e)| (i, text(e, "result"), &e["error"]))
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].1, "111");
    assert_eq!(
        events[results[0].0]["returned_errno"],
        serde_json::json!({"errno": 111, "errno_name": "ECONNREFUSED"})
    );
    assert!(results[0].2.is_null(), "connect_ex must not raise");
    assert_eq!(results[1].1, "0");
    assert!(refused_at < results[0].0);
    let (listen_at, _) = find(&events, |e| text(e, "call").starts_with("phone.listen("));
    assert!(results[0].0 < listen_at && listen_at < results[1].0);
    let (_, pipe) = find(&events, |e| errno_name(e) == Some("EPIPE"));
    assert_eq!(pipe["error"]["errno"], 32);
}

#[test]
fn lab_16_bind_fails_on_the_leftover_file_until_it_is_removed() {
    let events = events("16", false);
    let binds: Vec<(usize, &Value)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| text(e, "call").starts_with("server.bind('TMP/echo.sock')"))
        .map(|(i, e)| (i, &e["error"]["errno_name"]))
        .collect();
    assert_eq!(binds.len(), 3);
    assert!(binds[0].1.is_null());
    assert_eq!(binds[1].1, "EADDRINUSE");
    assert!(binds[2].1.is_null());
    let (unlink_at, unlink) = find(&events, |e| text(e, "call").starts_with("os.unlink("));
    assert!(unlink["error"].is_null());
    assert!(binds[1].0 < unlink_at && unlink_at < binds[2].0);

    let files: Vec<&Value> = events
        .iter()
        .filter(|e| e["file"]["path"] == "TMP/echo.sock")
        .map(|e| &e["file"]["type"])
        .collect();
    let socket = &Value::from("socket");
    assert_eq!(
        files,
        [socket, socket, &Value::Null, socket],
        "after bind, after close, after unlink, after the new bind"
    );
    let (_, accepted) = find(&events, |e| text(e, "call").contains("accept()"));
    assert_eq!(accepted["result"], "''");
    let (_, echoed) = find(&events, |e| text(e, "call") == "data = client.recv(1024)");
    assert_eq!(echoed["result"], "b'HELLO OVER A FILE PATH'");
    assert_eq!(echoed["bytes"]["count"], 22);
    let (_, stale) = find(&events, |e| errno_name(e) == Some("ECONNREFUSED"));
    assert_eq!(stale["call"], "client.connect('TMP/echo.sock')");
}
