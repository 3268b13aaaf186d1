//! The JSON lines of `netlab serve` and `netlab connect` keep the contract of `netlab run`'s:
//! every line valid against docs/trace.schema.json (as tests/labs.rs checks for the labs), a
//! `lab_start` first, events numbered from 1, a `lab_end` with the session's figures last,
//! in English and in Chinese, and, for a session that goes the same way twice, the same
//! lines in both languages but for titles, headings and notes. The sessions cover every kind
//! of line peer mode writes: calls that wait for the peer in vain, diagnoses with their
//! figures, the other program's queue and state from the kernel's table, UDP.

mod peer_support;

use std::io::Read;
use std::net::UdpSocket;
use std::time::Duration;

use netlab::peer::Diagnosis;
use peer_support::*;
use serde_json::Value;

/// Checks a finished session's JSON lines against the schema and the record order; returns
/// its codes, for the caller's own assertions.
fn check(done: &Finished, lang: &str, command: &str) -> Vec<String> {
    assert!(!done.records.is_empty(), "{}", done.shown());
    done.assert_valid();
    let start = &done.records[0];
    assert_eq!(start["record"], "lab_start");
    assert_eq!(start["lang"], lang);
    for (i, event) in done.records[1..done.records.len() - 1].iter().enumerate() {
        assert_eq!(event["record"], "event", "{}", done.shown());
        assert_eq!(event["seq"], i + 1, "seq out of order\n{}", done.shown());
        assert_eq!(event["lab"], start["lab"]);
    }
    let end = done.end();
    assert_eq!(end["outcome"], "completed", "{}", done.shown());
    assert_eq!(
        end["next"]["lab"],
        Value::Null,
        "a session names no next lab"
    );
    assert_eq!(end["session"]["command"], command);
    done.diagnoses()
}

/// A record without the words of its language, and with the port a person typed (which a
/// test's own server takes afresh for each run) as `TYPED`.
fn without_words(record: &Value, typed: Option<&str>) -> Value {
    fn replace(value: &mut Value, typed: &str) {
        match value {
            Value::String(text) => *text = text.replace(typed, "TYPED"),
            Value::Array(items) => items.iter_mut().for_each(|v| replace(v, typed)),
            Value::Object(fields) => fields.values_mut().for_each(|v| replace(v, typed)),
            _ => {}
        }
    }
    let mut record = record.clone();
    if let Some(object) = record.as_object_mut() {
        for field in ["title", "section", "notes", "lang"] {
            object.remove(field);
        }
    }
    if let Some(typed) = typed {
        replace(&mut record, typed);
    }
    record
}

/// The port `connect` was given: the other end of its first connect().
fn typed_port(done: &Finished) -> Option<String> {
    done.calls(".connect((")
        .first()
        .and_then(|call| call["peer"].as_str().map(str::to_string))
}

/// Runs `session` in English and in Chinese, checks both, and returns them.
fn both(command: &str, session: impl Fn(&str) -> Finished) -> [(Finished, Vec<String>); 2] {
    ["en", "zh"].map(|lang| {
        let done = session(lang);
        let codes = check(&done, lang, command);
        (done, codes)
    })
}

/// The same session twice, in English and Chinese: the same diagnoses, and (`same_lines`)
/// the same lines but for the words.
fn in_both_languages(
    command: &str,
    same_lines: bool,
    session: impl Fn(&str) -> Finished,
) -> Vec<String> {
    let [(en, en_codes), (zh, zh_codes)] = both(command, session);
    assert_eq!(en_codes, zh_codes);
    if same_lines {
        assert_eq!(
            en.records.len(),
            zh.records.len(),
            "{}\n{}",
            en.shown(),
            zh.shown()
        );
        let (en_port, zh_port) = (typed_port(&en), typed_port(&zh));
        for (en, zh) in en.records.iter().zip(&zh.records) {
            assert_eq!(
                without_words(en, en_port.as_deref()),
                without_words(zh, zh_port.as_deref()),
                "the JSON differs by language"
            );
        }
    }
    en_codes
}

#[test]
fn the_schema_lists_every_diagnosis_code_and_so_does_the_readme() {
    let schema: Value = serde_json::from_str(&schema_text()).unwrap();
    let listed: Vec<&str> = schema["$defs"]["event"]["properties"]["diagnosis"]["enum"]
        .as_array()
        .expect("the schema lists the codes")
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    assert_eq!(listed, Diagnosis::CODES);
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable");
    for code in Diagnosis::CODES {
        assert!(readme.contains(&format!("`{code}`")), "README names {code}");
    }
}

// ---- serve ------------------------------------------------------------------------------

#[test]
fn serve_01_a_client_that_talks() {
    let codes = in_both_languages("serve", true, |lang| {
        let server = Serving::start("01", &["--once", "--lang", lang]);
        let mut client = server.dial();
        send(&mut client, b"hello lab");
        assert_eq!(read_to_end(&mut client), b"HELLO LAB");
        server.wait()
    });
    assert!(codes.is_empty());
}

#[test]
fn serve_01_a_silent_client_then_ctrl_c() {
    let codes = in_both_languages("serve", true, |lang| {
        let server = Serving::start("01", &["--wait", "1", "--lang", lang]);
        let mut silent = server.dial();
        assert_eq!(read_to_end(&mut silent), b"");
        let done = server.interrupt();
        assert_eq!(done.session()["interrupted"], true);
        done
    });
    assert_eq!(codes, ["silent_peer"]);
}

#[test]
fn serve_07_a_client_that_leaves_a_tail() {
    let codes = in_both_languages("serve", false, |lang| {
        let server = Serving::start("07", &["--once", "--lang", lang]);
        let mut client = server.dial();
        send(&mut client, b"seq 1000 1400");
        read_exact(&mut client, 1024);
        send(&mut client, b"echo hello");
        await_queue_above(&client, 981);
        read_exact(&mut client, 981 + 6);
        drop(client);
        server.wait()
    });
    assert_eq!(codes, ["stale_tail"]);
}

#[test]
fn serve_08_uploads_cut_short_stalled_and_impossible() {
    let codes = in_both_languages("serve", true, |lang| {
        let server = Serving::start("08", &["--wait", "1", "--lang", lang]);
        let upload = |send_it: &dyn Fn(&mut std::net::TcpStream)| {
            let mut client = server.dial();
            send(&mut client, b"put");
            let header = read_exact(&mut client, 4);
            assert_eq!(header, 5i32.to_le_bytes());
            assert_eq!(read_exact(&mut client, 5), b"ready");
            send_it(&mut client);
            assert_eq!(read_to_end(&mut client), b"");
        };
        upload(&|c| send(c, &i32::MAX.to_le_bytes()));
        upload(&|c| {
            send(c, &100i32.to_le_bytes());
            send(c, b"0123456789");
            c.shutdown(std::net::Shutdown::Write).unwrap();
        });
        upload(&|c| {
            send(c, &100i32.to_le_bytes());
            send(c, b"0123456789");
        });
        server.interrupt()
    });
    assert_eq!(codes, ["insane_length", "short_reply", "stalled"]);
}

#[test]
fn serve_10_a_datagram_longer_than_the_buffer() {
    let codes = in_both_languages("serve", true, |lang| {
        let server = Serving::start("10", &["--once", "--lang", lang]);
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        client
            .send_to(&[b'a'; 2000], ("127.0.0.1", server.port))
            .unwrap();
        let mut buf = [0u8; 4096];
        let (n, _) = client.recv_from(&mut buf).expect("a reply");
        assert_eq!(n, 1024);
        server.wait()
    });
    assert_eq!(codes, ["datagram_cut"]);
}

// ---- connect ----------------------------------------------------------------------------

#[test]
fn connect_01_nothing_listens() {
    let port = free_port();
    let codes = in_both_languages("connect", true, |lang| {
        run_connect("01", port, &["--lang", lang])
    });
    assert_eq!(codes, ["refused"]);
}

#[test]
fn connect_04_a_server_that_keeps_its_end_open() {
    let codes = in_both_languages("connect", false, |lang| {
        // A server that answers once, then holds its end open (CLOSE_WAIT after netlab's
        // FIN) until netlab has ended.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let playing = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).unwrap();
            send(&mut conn, &buf[..n].to_ascii_uppercase());
            let _ = done_rx.recv_timeout(Duration::from_secs(30));
        });
        let done = run_connect("04", port, &["--wait", "1", "--lang", lang]);
        done_tx.send(()).unwrap();
        playing.join().unwrap();
        done
    });
    assert_eq!(codes, ["not_closed"]);
}

#[test]
fn connect_08_a_server_that_sends_more_than_it_announced() {
    let codes = in_both_languages("connect", true, |lang| {
        connect_to("08", &["--wait", "2", "--lang", lang], |listener| {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).unwrap();
            let out: Vec<u8> = (1000..=1400)
                .flat_map(|n| format!("{n}\n").into_bytes())
                .collect();
            let reply = [&(out.len() as i32).to_le_bytes()[..], &out, b"EXTRA"].concat();
            send(&mut conn, &reply);
            let _ = read_to_end(&mut conn);
        })
    });
    assert_eq!(codes, ["leftover_bytes"]);
}

#[test]
fn connect_10_no_reply() {
    let port = free_port();
    let codes = in_both_languages("connect", true, |lang| {
        run_connect("10", port, &["--wait", "1", "--lang", lang])
    });
    assert_eq!(codes, ["no_reply"]);
}
