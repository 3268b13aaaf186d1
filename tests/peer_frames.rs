//! Peer mode for the remote-command labs (07, 08, 09): netlab's server against clients written
//! here, netlab's client against servers written here, one for each diagnosis of framing:
//! sticky tails, wrong byte order, negative and impossible sizes (never allocated), replies
//! cut short by FIN or RST, stalls, bytes beyond a whole message, JSON headers that do not
//! parse, lack total_size or carry a wrong MD5.

mod peer_support;

use std::io::Read;
use std::net::TcpStream;

use peer_support::*;

fn seq_1000_1400() -> Vec<u8> {
    (1000..=1400)
        .map(|n| format!("{n}\n"))
        .collect::<String>()
        .into_bytes()
}

/// A reply framed as lab 08 frames it, read by the test: 4 bytes 'i', then the data.
fn read_framed(stream: &mut TcpStream) -> Vec<u8> {
    let header = read_exact(stream, 4);
    let n = i32::from_le_bytes(header.try_into().unwrap());
    read_exact(stream, usize::try_from(n).unwrap())
}

/// A reply framed as lab 09 frames it: 4 bytes, the JSON header, the data.
fn read_json_framed(stream: &mut TcpStream) -> (serde_json::Value, Vec<u8>) {
    let len = i32::from_le_bytes(read_exact(stream, 4).try_into().unwrap());
    let json: serde_json::Value =
        serde_json::from_slice(&read_exact(stream, len as usize)).unwrap();
    let total = json["total_size"].as_u64().unwrap() as usize;
    (json, read_exact(stream, total))
}

fn le(n: i32) -> [u8; 4] {
    n.to_le_bytes()
}

// ---- lab 07: replies without a header -------------------------------------------------------

#[test]
fn serve_07_a_client_that_reads_whole_replies_is_not_diagnosed() {
    let server = Serving::start("07", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"seq 1000 1400");
    assert_eq!(read_exact(&mut client, 2005), seq_1000_1400());
    send(&mut client, b"echo hello");
    assert_eq!(read_exact(&mut client, 6), b"hello\n");
    drop(client);
    let done = server.wait();
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    // netlab looks at the client's queue when each request (and the final FIN) comes.
    let looked = done.peer_queues();
    assert!(!looked.is_empty(), "{}", done.shown());
    for look in looked {
        assert_eq!(look["queue"]["peer_receive"], 0, "{look}");
        assert_eq!(look["port"], "CLIENT_PORT_1", "the client's socket");
    }
}

#[test]
fn serve_07_catches_the_course_client_that_reads_only_1024_bytes() {
    let server = Serving::start("07", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"seq 1000 1400");
    let head = read_exact(&mut client, 1024); // the course's cmd_res = client.recv(1024)
    assert_eq!(head, seq_1000_1400()[..1024]);
    send(&mut client, b"echo hello");
    // The course's client is in input() meanwhile; this one waits until the new reply has
    // arrived behind the tail (netlab looked at the tail before it answered).
    await_queue_above(&client, 981);
    // Its next read starts with the old tail.
    let next = read_exact(&mut client, 981 + 6);
    assert_eq!(&next[..981], &seq_1000_1400()[1024..]);
    drop(client);
    let done = server.wait();
    assert_eq!(done.status.code(), Some(1), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["stale_tail"], "{}", done.shown());
    let looked = done.peer_queues();
    assert_eq!(looked[0]["queue"]["peer_receive"], 981, "{}", done.shown());
    assert_eq!(looked[0]["port"], "CLIENT_PORT_1");
    assert_eq!(looked[0]["probe"]["socket"], serde_json::Value::Null);
    let stale = done.diagnosis("stale_tail");
    assert_eq!(stale["queue"]["peer_receive"], 981);
    // Diagnosed when the next request comes: after the recv that took it.
    let request = done.calls("cmd = conn.recv(1024)")[1];
    assert_eq!(request["result"], "b'echo hello'");
    assert!(stale["seq"].as_u64() > request["seq"].as_u64());
}

#[test]
fn serve_07_a_client_that_closes_with_a_reply_unread_is_a_reset_not_a_failure() {
    let server = Serving::start("07", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"seq 1000 1400");
    assert_eq!(read_exact(&mut client, 2005), seq_1000_1400());
    send(&mut client, b"echo hello");
    // The reply arrives and is never read: close() then sends RST, not FIN.
    await_queue_above(&client, 5);
    drop(client);
    let done = server.wait();
    assert_eq!(done.status.code(), Some(1), "{}", done.shown());
    assert_eq!(done.diagnoses(), ["reset"], "{}", done.shown());
    let raised = done
        .calls("cmd = conn.recv(1024)")
        .into_iter()
        .find(|e| e["outcome"] == "raised")
        .expect("the recv that raised");
    assert_eq!(raised["error"]["errno_name"], "ECONNRESET");
    // netlab's own lines are the diagnosis and the end: nothing of netlab's failed.
    let netlab_lines: Vec<_> = done.events().filter(|e| e["side"] == "netlab").collect();
    assert_eq!(netlab_lines.len(), 2, "{}", done.shown());
    // Before that recv, the kernel's table no longer has the client's socket.
    let looked = done.event(raised["seq"].as_u64().unwrap() - 2);
    assert_eq!(looked["port"], "CLIENT_PORT_1", "{}", done.shown());
    assert_eq!(looked["tcp_state"], serde_json::Value::Null);
    assert!(looked.get("tcp_state").is_some(), "no such connection");
}

#[test]
fn serve_07_refuses_a_command_outside_its_list_and_says_why() {
    let server = Serving::start("07", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"rm -rf /");
    let mut reply = [0u8; 4096];
    let n = client.read(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]).into_owned();
    assert!(reply.contains("'rm -rf /' is not one of them"), "{reply}");
    drop(client);
    let done = server.wait();
    let refused = done.calls("b'rm -rf /' in ALLOWED_COMMANDS");
    assert_eq!(refused.len(), 1, "{}", done.shown());
    assert_eq!(refused[0]["result"], "False");
    assert!(done.calls("subprocess.run").is_empty());
}

#[test]
fn connect_07_shows_the_tail_in_front_of_the_next_reply() {
    let done = connect_to("07", &[], |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"seq 1000 1400");
        send(&mut conn, &seq_1000_1400());
        let n = conn.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hello");
        send(&mut conn, b"hello\n");
        let _ = read_to_end(&mut conn);
    });
    assert!(done.status.success(), "{}", done.shown());
    let reads = done.calls("cmd_res = client.recv(1024)");
    assert_eq!(reads.len(), 2);
    assert!(reads[1]["result"]
        .as_str()
        .unwrap()
        .starts_with("b'\\n1205\\n1206"));
    let queues = done.probes("FIONREAD", Some("client client"));
    assert_eq!(queues[0]["queue"]["receive"], 2005); // before the first recv(1024)
    assert_eq!(queues[1]["queue"]["receive"], 981); // after it
    assert!(reads[0]["seq"].as_u64() < queues[1]["seq"].as_u64());
}

// ---- lab 08: a 4-byte length header ---------------------------------------------------------

#[test]
fn serve_08_frames_replies_and_takes_a_well_framed_upload() {
    let server = Serving::start("08", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"seq 1000 1400");
    assert_eq!(read_framed(&mut client), seq_1000_1400());
    send(&mut client, b"put");
    assert_eq!(read_framed(&mut client), b"ready");
    send(&mut client, &le(5));
    send(&mut client, b"hello");
    let receipt = String::from_utf8(read_framed(&mut client)).unwrap();
    assert_eq!(
        receipt,
        "received 5 bytes, MD5 5d41402abc4b2a76b9719d911017c592\n"
    );
    drop(client);
    let done = server.wait();
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
}

/// Starts an upload to lab 08's server: `put`, then the `ready` reply.
fn start_upload(server: &Serving) -> TcpStream {
    let mut client = server.dial();
    send(&mut client, b"put");
    assert_eq!(read_framed(&mut client), b"ready");
    client
}

#[test]
fn serve_08_a_2_gb_header_garbage_and_a_vanished_client_leave_memory_small_and_the_next_client_served(
) {
    let server = Serving::start("08", &["--wait", "1"]);
    // 2 GB announced: i32::MAX as struct.pack('i').
    let mut big = start_upload(&server);
    send(&mut big, &le(i32::MAX));
    assert_eq!(read_to_end(&mut big), b"", "netlab drops the connection");
    // Garbage where the header belongs.
    let mut garbage = start_upload(&server);
    send(&mut garbage, b"this is no header at all");
    assert_eq!(read_to_end(&mut garbage), b"");
    // A negative size.
    let mut negative = start_upload(&server);
    send(&mut negative, &le(-5));
    assert_eq!(read_to_end(&mut negative), b"");
    // 100 bytes announced, 10 sent, then FIN.
    let mut vanished = start_upload(&server);
    send(&mut vanished, &le(100));
    send(&mut vanished, b"0123456789");
    vanished.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_to_end(&mut vanished), b"");
    // The same, then RST.
    let mut reset_one = start_upload(&server);
    send(&mut reset_one, &le(100));
    send(&mut reset_one, b"0123456789");
    std::thread::sleep(std::time::Duration::from_millis(50));
    reset(reset_one);
    // 100 announced, 10 sent, then silence with the connection open.
    let mut stalled = start_upload(&server);
    send(&mut stalled, &le(100));
    send(&mut stalled, b"0123456789");
    assert_eq!(read_to_end(&mut stalled), b"");
    // The size packed big-endian.
    let mut swapped = start_upload(&server);
    send(&mut swapped, &5i32.to_be_bytes());
    send(&mut swapped, b"hello");
    assert_eq!(read_to_end(&mut swapped), b"");
    // And the next client is served.
    let mut next = server.dial();
    send(&mut next, b"echo hello");
    assert_eq!(read_framed(&mut next), b"hello\n");
    drop(next);
    let peak = server.peak_memory_kib();
    let done = server.interrupt();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert_eq!(
        done.diagnoses(),
        [
            "insane_length",
            "insane_length",
            "negative_length",
            "short_reply",
            "reset_mid_message",
            "stalled",
            "byte_order"
        ],
        "{}",
        done.shown()
    );
    assert!(peak < 50 * 1024, "netlab's peak memory: {peak} KiB");
    // The 2 GB header: unpacked as the course's reader would, then refused at once.
    let two_gb = done.diagnosis("insane_length");
    let unpacked = done.event(two_gb["seq"].as_u64().unwrap() - 1);
    assert_eq!(
        unpacked["call"],
        "total_size = struct.unpack('i', b'\\xff\\xff\\xff\\x7f')[0]"
    );
    assert_eq!(unpacked["result"], "2147483647");
    // How far each cut-off upload got: 10 of the 100 bytes announced.
    for code in ["short_reply", "reset_mid_message", "stalled"] {
        let found = done.diagnosis(code);
        assert_eq!(
            found["bytes"],
            serde_json::json!({"count": 10, "of": 100}),
            "{code}"
        );
    }
    let swapped = done.diagnosis("byte_order");
    let unpacked = done.event(swapped["seq"].as_u64().unwrap() - 1);
    assert_eq!(
        unpacked["result"], "83886080",
        "5 packed big-endian, read as 'i'"
    );
}

#[test]
fn connect_08_reads_a_well_framed_server() {
    let done = connect_to("08", &[], |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        for _ in 0..2 {
            let n = conn.read(&mut buf).unwrap();
            let out = if &buf[..n] == b"echo hello" {
                b"hello\n".to_vec()
            } else {
                seq_1000_1400()
            };
            send(&mut conn, &le(out.len() as i32));
            send(&mut conn, &out);
        }
        let _ = read_to_end(&mut conn);
    });
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    assert_eq!(
        done.calls("total_size = struct.unpack('i', header)[0]")[0]["result"],
        "2005"
    );
}

/// A lab 08 server that answers the first command with `reply` (raw bytes, header included),
/// then closes (`close`) or keeps the connection open until netlab leaves.
fn serve_08_once(reply: Vec<u8>, close: bool) -> impl FnOnce(std::net::TcpListener) + Send {
    move |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = conn.read(&mut buf).unwrap();
        send(&mut conn, &reply);
        if close {
            drop(conn);
        } else {
            let _ = read_to_end(&mut conn);
        }
    }
}

#[test]
fn connect_08_diagnoses_each_way_a_server_can_frame_wrongly() {
    let out = seq_1000_1400();
    let framed = |header: [u8; 4], body: &[u8]| [&header[..], body].concat();
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("byte_order", framed(2005i32.to_be_bytes(), &out), false),
        ("insane_length", le(i32::MAX).to_vec(), false),
        ("negative_length", le(-1).to_vec(), false),
        ("short_reply", framed(le(2005), &out[..1000]), true),
        ("closed_mid_message", vec![0xd5, 0x07], true),
        (
            "leftover_bytes",
            [framed(le(2005), &out), b"EXTRA".to_vec()].concat(),
            false,
        ),
        ("unexpected_reply", framed(le(5), b"hello"), false),
    ];
    for (code, reply, close) in cases {
        let done = connect_to("08", &["--wait", "2"], serve_08_once(reply, close));
        assert_eq!(done.diagnoses(), [code], "{}", done.shown());
        assert_eq!(done.status.code(), Some(1), "{code}");
    }
}

// ---- lab 09: a JSON header ------------------------------------------------------------------

/// `len, JSON, data` as lab 09 frames it.
fn json_framed(json: &str, data: &[u8]) -> Vec<u8> {
    [&le(json.len() as i32)[..], json.as_bytes(), data].concat()
}

#[test]
fn serve_09_replies_with_a_json_header_and_checks_an_upload() {
    let server = Serving::start("09", &["--once"]);
    let mut client = server.dial();
    send(&mut client, b"echo hello");
    let (header, data) = read_json_framed(&mut client);
    assert_eq!(data, b"hello\n");
    assert_eq!(header["md5"], "b1946ac92492d2347c6235b4d2611184");
    send(&mut client, b"put");
    assert_eq!(read_json_framed(&mut client).1, b"ready");
    let json =
        r#"{"filename": "a.txt", "total_size": 5, "md5": "5d41402abc4b2a76b9719d911017c592"}"#;
    send(&mut client, &json_framed(json, b"hello"));
    let receipt = String::from_utf8(read_json_framed(&mut client).1).unwrap();
    assert!(receipt.ends_with("as the header said\n"), "{receipt}");
    drop(client);
    let done = server.wait();
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    assert!(done.status.success());
}

#[test]
fn serve_09_diagnoses_json_headers_that_do_not_parse_lack_a_field_or_lie() {
    let server = Serving::start("09", &[]);
    let uploads: [(&str, &[u8]); 3] = [
        ("not json at all", b""),
        (r#"{"filename": "a.txt"}"#, b""),
        (
            r#"{"filename": "a.txt", "total_size": 5, "md5": "00000000000000000000000000000000"}"#,
            b"hello",
        ),
    ];
    for (json, data) in uploads {
        let mut client = server.dial();
        send(&mut client, b"put");
        assert_eq!(read_json_framed(&mut client).1, b"ready");
        send(&mut client, &json_framed(json, data));
        assert_eq!(read_to_end(&mut client), b"");
    }
    let done = server.interrupt();
    assert_eq!(
        done.diagnoses(),
        ["bad_json", "missing_field", "md5_mismatch"],
        "{}",
        done.shown()
    );
}

#[test]
fn connect_09_reads_the_course_server_with_its_placeholder_md5() {
    let done = connect_to("09", &[], |listener| {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        for _ in 0..2 {
            let n = conn.read(&mut buf).unwrap();
            let out = if &buf[..n] == b"echo hello" {
                b"hello\n".to_vec()
            } else {
                seq_1000_1400()
            };
            let json = format!(
                r#"{{"filename": "a.txt", "total_size": {}, "md5": "12345678"}}"#,
                out.len()
            );
            send(&mut conn, &json_framed(&json, &out));
        }
        let _ = read_to_end(&mut conn);
    });
    assert!(done.status.success(), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
    assert!(done.stdout.contains("'12345678'"), "{}", done.shown());
}

#[test]
fn connect_09_diagnoses_a_header_without_total_size_or_far_too_long() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "missing_field",
            json_framed(r#"{"filename": "a.txt"}"#, b""),
        ),
        ("insane_length", le(100_000).to_vec()),
        ("bad_json", json_framed("{not json", b"")),
    ];
    for (code, reply) in cases {
        let done = connect_to("09", &["--wait", "2"], serve_08_once(reply, false));
        assert_eq!(done.diagnoses(), [code], "{}", done.shown());
    }
}
