//! Outcomes of labs 07-09, read from their JSON events: 07 shows sends sticking together and
//! a reply carrying the previous reply's tail; 08 and 09 deliver every reply whole and leave
//! nothing in the receive queue.

use netlab::lab::{self};
use netlab::trace::TraceOptions;
use serde_json::Value;

fn events(id: &str) -> Vec<Value> {
    lab::json_events(lab::find(id).unwrap(), TraceOptions::default()).unwrap()
}

fn call(e: &Value) -> &str {
    e["call"].as_str().unwrap()
}

fn result(e: &Value) -> &str {
    e["result"].as_str().unwrap()
}

/// The number in a result such as `981 bytes waiting` or `b'..' (1024 bytes)`.
fn bytes_in(text: &str) -> usize {
    let end = text.rfind(" bytes").unwrap();
    let start = text[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    text[start..end].parse().unwrap()
}

fn client_queue(events: &[Value]) -> Vec<usize> {
    events
        .iter()
        .filter(|e| call(e) == "client phone: receive queue (FIONREAD)")
        .map(|e| bytes_in(result(e)))
        .collect()
}

#[test]
fn lab_07_two_sends_come_out_of_one_recv() {
    let events = events("07");
    let sends: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| call(e) == "phone.send(b'hello')" || call(e) == "phone.send(b'world')")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(sends.len(), 2);
    let queue = events
        .iter()
        .position(|e| call(e) == "server conn: receive queue (FIONREAD)")
        .unwrap();
    let recv = events
        .iter()
        .position(|e| call(e) == "data = conn.recv(1024)")
        .unwrap();
    assert!(sends[1] < queue && queue < recv);
    assert_eq!(result(&events[queue]), "10 bytes waiting");
    assert_eq!(result(&events[recv]), "b'helloworld' (10 bytes)");
    // The only exceptions are the two huge recvs the lab ends with.
    assert!(events
        .iter()
        .all(|e| e["error"].is_null() || call(e).starts_with("cmd_res = phone.recv(1024000")));
}

#[test]
fn lab_07_the_next_reply_carries_the_previous_tail() {
    let events = events("07");
    let runs: Vec<&str> = events
        .iter()
        .filter(|e| call(e).starts_with("res = subprocess.run("))
        .map(result)
        .collect();
    assert_eq!(
        runs,
        [
            "returncode 0, stdout 2005 bytes, stderr 0 bytes",
            "returncode 0, stdout 6 bytes, stderr 0 bytes",
            // The third run feeds the huge recvs at the end.
            "returncode 0, stdout 2005 bytes, stderr 0 bytes"
        ]
    );
    let replies: Vec<&str> = events
        .iter()
        .filter(|e| call(e) == "cmd_res = phone.recv(1024)")
        .map(result)
        .collect();
    assert_eq!(replies.len(), 2);
    // The first reply is seq's head, cut in mid-line; the second starts where it stopped.
    assert!(replies[0].starts_with("b'1000\\n1001\\n"), "{}", replies[0]);
    assert!(
        replies[0].ends_with("1203\\n1204' (1024 bytes)"),
        "{}",
        replies[0]
    );
    assert!(
        replies[1].starts_with("b'\\n1205\\n1206\\n"),
        "{}",
        replies[1]
    );
    assert!(
        replies[1].ends_with("1400\\nhello\\n' (987 bytes)"),
        "{}",
        replies[1]
    );
    // Queue before the first recv, after it, before the second, after it.
    assert_eq!(client_queue(&events)[..4], [2005, 981, 987, 0]);
}

#[test]
fn lab_07_shows_what_the_course_s_huge_recvs_raise() {
    let events = events("07");
    let huge: Vec<&Value> = events
        .iter()
        .filter(|e| call(e).starts_with("cmd_res = phone.recv(1024000"))
        .collect();
    assert_eq!(huge.len(), 2);
    assert_eq!(
        call(huge[0]),
        "cmd_res = phone.recv(1024000000000000000000000)"
    );
    assert_eq!(
        result(huge[0]),
        "OverflowError: Python int too large to convert to C ssize_t"
    );
    assert_eq!(huge[0]["exception"], "OverflowError");
    assert_eq!(call(huge[1]), "cmd_res = phone.recv(1024000000000000)");
    assert_eq!(result(huge[1]), "MemoryError");
    assert_eq!(huge[1]["error"], "MemoryError");
    let mem = events
        .iter()
        .find(|e| call(e) == "/proc/meminfo: MemTotal")
        .unwrap();
    assert_eq!(result(mem), "MEM_TOTAL kB");
    // Nothing was read: the client's queue holds the whole reply before and after.
    let queues = client_queue(&events);
    assert_eq!(queues[queues.len() - 2..], [2005, 2005]);
}

#[test]
fn lab_08_every_reply_is_whole_and_nothing_is_left() {
    let events = events("08");
    let sizes: Vec<&str> = events
        .iter()
        .filter(|e| call(e) == "total_size = struct.unpack('i', header)[0]")
        .map(result)
        .collect();
    assert_eq!(sizes, ["2005", "6"]);
    let data: Vec<usize> = events
        .iter()
        .filter(|e| call(e).starts_with("data ") && e["side"] == "client")
        .map(|e| bytes_in(result(e)))
        .collect();
    assert_eq!(data, [1024, 981, 6]);
    assert_eq!(client_queue(&events), [2009, 0, 0]);
    // The split header: recv(4) returns 2 bytes, the loop waits, then gets the other 2.
    let header_reads: Vec<(&str, &str, bool)> = events
        .iter()
        .filter(|e| call(e).starts_with("header ") && e["side"] == "client")
        .map(|e| (call(e), result(e), e["blocked"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        header_reads,
        [
            (
                "header = phone.recv(4)",
                "b'\\xd5\\x07\\x00\\x00' (4 bytes)",
                false
            ),
            ("header = phone.recv(4)", "b'\\x06\\x00' (2 bytes)", false),
            (
                "header += phone.recv(2)",
                "blocks (still waiting after 200 ms; netlab stops watching here)",
                true
            ),
            ("header += phone.recv(2)", "b'\\x00\\x00' (2 bytes)", false),
        ]
    );
    let misread = events
        .iter()
        .find(|e| call(e) == "total_size = struct.unpack('i', b'\\x00\\x00\\x07\\xd5')[0]")
        .unwrap();
    assert_eq!(result(misread), "-720961536");
    assert!(misread["note"]
        .as_str()
        .unwrap()
        .contains("cannot be negative"));
}

#[test]
fn lab_09_json_headers_and_md5_checked_at_the_receiver() {
    let events = events("09");
    let loaded: Vec<&str> = events
        .iter()
        .filter(|e| call(e) == "header_dic = json.loads(json_bytes)")
        .map(result)
        .collect();
    assert_eq!(loaded.len(), 3);
    assert!(loaded[0].contains("'total_size': 2005"));
    assert!(loaded[1].contains("'total_size': 6"));
    assert!(loaded[2].starts_with("{'filename': 'report.txt', 'total_size': 3780, 'md5': '"));
    // The md5 the client computes equals the one in each header the server sent.
    let sent_md5: Vec<String> = events
        .iter()
        .filter(|e| e["side"] == "server" && call(e).starts_with("header_dic = {"))
        .map(|e| {
            let r = result(e);
            r[r.find("'md5': ").unwrap() + 7..r.len() - 1].to_string()
        })
        .collect();
    let got_md5: Vec<&str> = events
        .iter()
        .filter(|e| call(e) == "digest = hashlib.md5(data).hexdigest()")
        .map(result)
        .collect();
    assert_eq!(sent_md5.len(), 3);
    assert_eq!(sent_md5, got_md5);
    assert_eq!(client_queue(&events), [0, 0, 0]);
    let saved = events
        .iter()
        .find(|e| call(e).starts_with("open('TMP/received-report.txt', 'wb')"))
        .unwrap();
    assert_eq!(result(saved), "3780");
}
