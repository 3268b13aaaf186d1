//! Outcomes of the UDP labs (10-13), asserted from their JSON events: what the kernel did in
//! the run, not what the notes say.

use netlab::lab::{self};
use netlab::trace::TraceOptions;
use serde_json::Value;

fn events(id: &str) -> Vec<Value> {
    lab::json_events(lab::find(id).unwrap(), TraceOptions::default()).unwrap()
}

fn text<'a>(event: &'a Value, field: &str) -> &'a str {
    event[field].as_str().unwrap_or("")
}

fn is_recvfrom(event: &Value, side: &str) -> bool {
    event["side"] == side && text(event, "call").contains(".recvfrom(")
}

/// The address shown in a recvfrom result `(b'...', ('127.0.0.1', NAME))`.
fn sender(result: &str) -> &str {
    let start = result.find("('127.0.0.1', ").expect("an address");
    let end = start + result[start..].find(')').unwrap() + 1;
    &result[start..end]
}

#[test]
fn lab_10_loses_the_datagram_sent_before_the_bind() {
    let events = events("10");
    let bind = events
        .iter()
        .position(|e| e["side"] == "server" && text(e, "call").contains(".bind("))
        .expect("the server binds");
    let early = events[..bind]
        .iter()
        .find(|e| e["side"] == "client" && text(e, "call").contains(".sendto("))
        .expect("the client sends before the server binds");
    assert!(text(early, "call").contains("b'anyone there?'"));
    assert_eq!(text(early, "result"), "13", "sendto took it without error");
    assert!(early["error"].is_null());

    let server_reads: Vec<&Value> = events[bind..]
        .iter()
        .filter(|e| is_recvfrom(e, "server"))
        .collect();
    assert_eq!(
        server_reads[0]["outcome"], "blocked",
        "nothing was queued: {}",
        server_reads[0]
    );
    assert!(server_reads
        .iter()
        .all(|e| !text(e, "result").contains("anyone there?")));
    assert_eq!(
        text(server_reads[1], "result"),
        "(b'hello', ('127.0.0.1', CLIENT_PORT_1))"
    );
    assert_eq!(server_reads[1]["peer"], "CLIENT_PORT_1");
    assert_eq!(
        server_reads[1]["bytes"],
        serde_json::json!({"count": 5, "data": "b'hello'"})
    );

    // After the server stops: the unconnected client is told nothing, the connected one is.
    let last_client_read = events
        .iter()
        .rev()
        .find(|e| is_recvfrom(e, "client"))
        .unwrap();
    assert_eq!(last_client_read["outcome"], "blocked");
    assert!(last_client_read["error"].is_null());
    let refused = events
        .iter()
        .find(|e| e["side"] == "client-2" && text(e, "call").contains(".recv("))
        .unwrap();
    assert_eq!(refused["error"]["errno_name"], "ECONNREFUSED");
}

#[test]
fn lab_11_answers_three_distinct_clients_on_one_socket() {
    let events = events("11");
    assert!(
        !events.iter().any(|e| {
            let call = text(e, "call");
            call.contains("accept(") || call.contains("listen(") || call.contains(".connect(")
        }),
        "UDP chat has no accept, listen or connect"
    );
    let server_sockets = events
        .iter()
        .filter(|e| e["side"] == "server" && text(e, "call").contains("= socket("))
        .count();
    assert_eq!(server_sockets, 1, "one socket serves all");

    let reads: Vec<&Value> = events.iter().filter(|e| is_recvfrom(e, "server")).collect();
    let mut senders: Vec<&str> = reads.iter().map(|e| sender(text(e, "result"))).collect();
    senders.truncate(3);
    let mut distinct = senders.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        3,
        "three distinct client addresses: {senders:?}"
    );

    for (i, side) in ["client-1", "client-2", "client-3"].iter().enumerate() {
        // What this client sent first, and where the server answered.
        let sent = events
            .iter()
            .find(|e| e["side"] == *side && text(e, "call").contains(".sendto("))
            .unwrap();
        let call = text(sent, "call");
        let message = &call[call.find("(b'").unwrap() + 1..call.find("', (").unwrap() + 1];
        assert!(
            text(reads[i], "result").starts_with(&format!("({message}, ")),
            "the server read {side}'s message {message} from {}",
            senders[i]
        );
        let answered = events
            .iter()
            .filter(|e| e["side"] == "server" && text(e, "call").contains(".sendto("))
            .any(|e| text(e, "call").ends_with(&format!(", {})", senders[i])));
        assert!(answered, "the server answered {}", senders[i]);
        let reply = events
            .iter()
            .find(|e| is_recvfrom(e, side))
            .map(|e| text(e, "result"))
            .unwrap();
        let expected = format!("(b're: {}, ('127.0.0.1', PORT))", &message[2..]);
        assert!(
            reply.starts_with(&expected),
            "{side} got the reply to its own message: {reply} (expected {expected})"
        );
    }
}

#[test]
fn lab_12_formats_the_requested_time() {
    let events = events("12");
    let formatted: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| text(e, "call").starts_with("back_msg = strftime("))
        .map(|e| (text(e, "call"), text(e, "result")))
        .collect();
    assert_eq!(
        formatted,
        [
            (
                "back_msg = strftime('%Y-%m-%d %X')",
                "'2001-09-09 01:46:40'"
            ),
            ("back_msg = strftime('%H:%M:%S')", "'01:46:40'"),
            (
                "back_msg = strftime('%A, %d %B %Y')",
                "'Sunday, 09 September 2001'"
            ),
            ("back_msg = strftime('day %j of %Y')", "'day 252 of 2001'"),
            ("back_msg = strftime('%Q')", "'%Q'"),
        ]
    );
    let empty_request = events.iter().find(|e| is_recvfrom(e, "server")).unwrap();
    assert_eq!(
        text(empty_request, "result"),
        "(b'', ('127.0.0.1', CLIENT_PORT_1))"
    );
}

#[test]
fn lab_13_shows_empty_and_truncated_datagrams() {
    let events = events("13");
    let reads: Vec<&Value> = events.iter().filter(|e| is_recvfrom(e, "server")).collect();
    assert!(text(reads[0], "result").starts_with("(b'first', "));
    assert!(text(reads[1], "result").starts_with("(b'second, longer', "));

    let empty = reads
        .iter()
        .find(|e| text(e, "result").starts_with("(b'', "))
        .expect("an empty datagram was received");
    assert_eq!(empty["bytes"]["count"], 0);
    assert!(sender(text(empty, "result")).contains("CLIENT_PORT_1"));

    let long_send = events
        .iter()
        .find(|e| e["side"] == "client" && text(e, "result") == "38")
        .expect("the long datagram was sent whole");
    assert!(text(long_send, "call").contains(".sendto(b'this datagram is longer"));
    let cut = reads
        .iter()
        .position(|e| text(e, "call").ends_with("recvfrom(10)"))
        .unwrap();
    assert_eq!(
        reads[cut]["bytes"],
        serde_json::json!({"count": 10, "data": "b'this datag'", "of": 38}),
        "the datagram is cut"
    );
    assert_eq!(
        reads[cut + 1]["outcome"],
        "blocked",
        "the rest is not queued"
    );
}
