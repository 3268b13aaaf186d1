//! What the traces say, checked against what Python and the kernel really do (issue 8): every
//! assertion reads the JSON events a lab printed.

use netlab::event::Lang;
use netlab::lab;
use netlab::trace::TraceOptions;
use serde_json::Value;

fn events(id: &str) -> Vec<Value> {
    events_in(id, Lang::En)
}

fn events_in(id: &str, lang: Lang) -> Vec<Value> {
    let options = TraceOptions {
        lang,
        ..TraceOptions::default()
    };
    lab::json_events(lab::find(id).unwrap(), options).unwrap()
}

fn text<'a>(event: &'a Value, field: &str) -> &'a str {
    event[field].as_str().unwrap_or("")
}

/// An event's notes, one paragraph a line.
fn note(event: &Value) -> String {
    event["notes"]
        .as_array()
        .map(|notes| {
            notes
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Every note of a lab, in one language, joined.
fn notes(events: &[Value]) -> String {
    events.iter().map(note).collect::<Vec<_>>().join("\n")
}

/// What a call's line shows after `->`, as JSON has it: the value returned, or the
/// exception raised.
fn shown(event: &Value) -> &str {
    event["result"]
        .as_str()
        .or_else(|| event["error"]["python"].as_str())
        .unwrap_or("")
}

fn find<'a>(events: &'a [Value], what: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    events
        .iter()
        .find(|e| pred(e))
        .unwrap_or_else(|| panic!("no event: {what}"))
}

// ---------------------------------------------------------------------------
// 6. Exception lines read exactly as CPython prints them.

#[test]
fn exception_lines_are_what_cpython_prints_and_the_symbol_is_in_the_json() {
    let ev = events("04");
    let reset = find(&ev, "the reset", |e| {
        e["error"]["errno_name"] == "ECONNRESET"
    });
    assert_eq!(
        reset["error"]["python"],
        "ConnectionResetError: [Errno 104] Connection reset by peer"
    );
    assert_eq!(reset["error"]["exception"], "ConnectionResetError");
    assert_eq!(reset["error"]["errno"], 104);
    assert!(reset["result"].is_null());

    for lab in lab::all() {
        for event in lab::json_events(lab, TraceOptions::default()).unwrap() {
            let Some(exception) = event["error"]["exception"].as_str() else {
                continue;
            };
            let result = text(&event["error"], "python");
            assert!(
                result.starts_with(exception),
                "{}: {result} does not start with {exception}",
                lab.id
            );
            if let Some(symbol) = event["error"]["errno_name"].as_str() {
                assert!(
                    !result.contains(&format!("({symbol})")),
                    "{}: CPython prints no ({symbol}) suffix: {result}",
                    lab.id
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 5. Lab 09 follows the course's `json.dumps(header_dic)`: default separators.

#[test]
fn lab_09_sends_the_json_that_the_course_json_dumps_writes() {
    let ev = events("09");
    let dumps: Vec<&Value> = ev
        .iter()
        .filter(|e| text(e, "call").contains("json.dumps("))
        .collect();
    assert_eq!(dumps.len(), 3);
    for (event, size) in dumps.iter().zip([89, 86, 89]) {
        assert_eq!(
            event["call"],
            "header_bytes = json.dumps(header_dic).encode('utf-8')"
        );
        let result = text(event, "result");
        assert!(result.starts_with(r#"b'{"filename": ""#), "{result}");
        assert_eq!(event["bytes"]["count"], size, "{event}");
    }
    assert!(text(dumps[0], "result")
        .starts_with(r#"b'{"filename": "output.txt", "total_size": 2005, "'"#));
    let packs: Vec<&str> = ev
        .iter()
        .map(|e| text(e, "call"))
        .filter(|call| call.starts_with("header = struct.pack("))
        .collect();
    assert_eq!(
        packs,
        [
            "header = struct.pack('i', 89)",
            "header = struct.pack('i', 86)",
            "header = struct.pack('i', 89)"
        ]
    );
    for lang in [Lang::En, Lang::Zh] {
        let lesson = lab::find("09").unwrap().lesson.get(lang).to_string();
        assert!(lesson.contains("json.dumps(header_dic)"), "{lesson}");
        assert!(!lesson.contains("separators="), "{lesson}");
    }
}

// ---------------------------------------------------------------------------
// 1. Lab 13: the UDP length field of an empty datagram says 8.

#[test]
fn lab_13_says_an_empty_datagram_carries_a_length_field_of_8() {
    for (lang, eight) in [(Lang::En, "says 8"), (Lang::Zh, "写的是 8")] {
        let ev = events_in("13", lang);
        let empty = find(&ev, "sendto(b'')", |e| {
            e["side"] == "client" && text(e, "call").starts_with("sock.sendto(b'',")
        });
        assert_eq!(empty["result"], "0", "sendto(b'') returns 0: no data");
        let note = note(empty);
        assert!(note.contains(eight), "{note}");
        let all = notes(&ev);
        assert!(
            !all.contains("length 0") && !all.contains("长度为 0"),
            "{all}"
        );
        let lesson = lab::find("13").unwrap().lesson.get(lang).to_string();
        assert!(lesson.contains(eight), "{lesson}");
    }
}

// ---------------------------------------------------------------------------
// 2. One naming of the socket module's constants: the course's `from socket import *`.

/// `socket.X` where X is a name from the socket module: valid only after `import socket`.
fn module_prefixed(text: &str) -> Option<&str> {
    text.match_indices("socket.")
        .map(|(i, _)| &text[i..])
        .find(|rest| {
            rest["socket.".len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || rest.starts_with("socket.socket("))
        })
}

#[test]
fn constants_are_named_as_from_socket_import_star_names_them() {
    let ev = events("14");
    let waitall = find(&ev, "the MSG_WAITALL recv", |e| {
        text(e, "call").contains("MSG_WAITALL")
    });
    assert_eq!(waitall["call"], "data = conn.recv(1048576, MSG_WAITALL)");
    for lab in lab::all() {
        for lang in [Lang::En, Lang::Zh] {
            let lesson = lab.lesson.get(lang);
            assert_eq!(
                module_prefixed(lesson),
                None,
                "{} lesson ({lang:?})",
                lab.id
            );
            let options = TraceOptions {
                lang,
                ..TraceOptions::default()
            };
            for event in lab::json_events(lab, options).unwrap() {
                for value in [text(&event, "call"), text(&event, "result"), &note(&event)] {
                    assert_eq!(module_prefixed(value), None, "{}: {value}", lab.id);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 3. recv(n) with a huge n raises what CPython raises, in CPython's order.

/// Numbers a student might pass to recv(), with what CPython 3 raises for each on a connected
/// socket that has b'hello' waiting (checked with python3 3.11 on Linux x86-64).
const HUGE_RECVS: &[(i128, &str)] = &[
    (
        1_024_000_000_000_000_000_000_000,
        "OverflowError: Python int too large to convert to C ssize_t",
    ),
    (
        1 << 63,
        "OverflowError: Python int too large to convert to C ssize_t",
    ),
    ((1 << 63) - 1, "OverflowError: byte string is too large"),
    (
        (1 << 63) - 1 - 32,
        "OverflowError: byte string is too large",
    ),
    ((1 << 63) - 1 - 33, "MemoryError"),
    (1_024_000_000_000_000, "MemoryError"),
    (-1, "ValueError: negative buffersize in recv"),
    (
        -(1 << 63) - 1,
        "OverflowError: Python int too large to convert to C ssize_t",
    ),
    (5, "b'hello'"),
];

static RECV_LAB: netlab::lab::Lab = netlab::lab::Lab {
    id: "99-huge-recv",
    title: netlab::event::Text::fixed("huge recv", "huge recv"),
    lesson: netlab::event::Text::fixed("", ""),
    run: run_huge_recvs,
    peer: None,
    code: &[],
};

fn run_huge_recvs(t: &netlab::trace::Trace) -> netlab::trace::LabResult {
    use netlab::sock::Addr;
    let server = t.side("server").tcp("phone")?;
    server.bind(&Addr::loopback(0))?;
    server.listen(1)?;
    let client = t.side("client").tcp("client")?;
    client.connect(&server.local_addr()?)?;
    let (conn, _) = server.accept("conn")?;
    client.send(b"hello")?;
    for &(n, _) in HUGE_RECVS {
        let _ = conn.recv_any_int("data", n);
    }
    Ok(())
}

#[test]
fn a_huge_recv_raises_what_cpython_raises() {
    let ev = lab::json_events(&RECV_LAB, TraceOptions::default()).unwrap();
    let recvs: Vec<&Value> = ev
        .iter()
        .filter(|e| text(e, "call").starts_with("data = conn.recv("))
        .collect();
    assert_eq!(recvs.len(), HUGE_RECVS.len());
    for (event, (n, expected)) in recvs.iter().zip(HUGE_RECVS) {
        assert_eq!(event["call"], format!("data = conn.recv({n})"));
        assert!(shown(event).starts_with(expected), "{event}");
    }

    // The same numbers through python3 on a real socket, when python3 is here.
    let numbers: Vec<String> = HUGE_RECVS.iter().map(|(n, _)| n.to_string()).collect();
    let script = format!(
        "from socket import *\n\
         srv = socket(AF_INET, SOCK_STREAM); srv.bind(('127.0.0.1', 0)); srv.listen(1)\n\
         client = socket(AF_INET, SOCK_STREAM); client.connect(srv.getsockname())\n\
         conn, addr = srv.accept(); client.send(b'hello')\n\
         for n in [{}]:\n\
         \x20   try:\n\
         \x20       print(repr(conn.recv(n)))\n\
         \x20   except Exception as e:\n\
         \x20       print(type(e).__name__ + (': ' + str(e) if str(e) else ''))\n",
        numbers.join(", ")
    );
    let Ok(out) = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
    else {
        println!("python3 not found: huge recvs not compared with CPython");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = String::from_utf8(out.stdout).unwrap();
    for (line, (n, expected)) in python.lines().zip(HUGE_RECVS) {
        assert_eq!(line, *expected, "python3: recv({n})");
    }
}

// ---------------------------------------------------------------------------
// 4. Lab 05 reads the SYN retry settings of this kernel; no fixed schedule.

fn proc_sys(name: &str) -> Option<u64> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[test]
fn lab_05_derives_the_syn_schedule_from_this_kernel_s_settings() {
    use netlab::syn_retries::{schedule, SynSettings, DEFAULT_RTO_MAX_MS};
    // A sysctl's value as the kernel line shows it; the lab's summary of the schedule.
    let kernel_line = |ev: &[Value], name: &str| -> String {
        const SUMMARY: &str =
            "SYN resends while nobody answers (Linux's rule, from the three settings above): ";
        if name == "SYN resends" {
            let summary = find(ev, name, |e| {
                e["kind"] == "summary" && note(e).starts_with(SUMMARY)
            });
            return note(summary)[SUMMARY.len()..]
                .lines()
                .next()
                .unwrap()
                .to_string();
        }
        let setting = &find(ev, name, |e| e["setting"]["name"] == name)["setting"]["value"];
        setting
            .as_str()
            .map_or_else(|| setting.to_string(), str::to_string)
    };
    // Default output: stable names, the same on every machine.
    let ev = events("05");
    assert_eq!(kernel_line(&ev, "net.ipv4.tcp_syn_retries"), "SYN_RETRIES");
    assert_eq!(
        kernel_line(&ev, "net.ipv4.tcp_syn_linear_timeouts"),
        "SYN_LINEAR_TIMEOUTS"
    );
    assert_eq!(kernel_line(&ev, "net.ipv4.tcp_rto_max_ms"), "RTO_MAX_MS");
    assert_eq!(kernel_line(&ev, "SYN resends"), "SYN_SCHEDULE");
    let all = notes(&ev);
    assert!(
        !all.contains("6 by default") && !all.contains("about two minutes"),
        "{all}"
    );

    // --raw: this kernel's figures, and the schedule Linux's rule gives for them.
    let raw = lab::json_events(
        lab::find("05").unwrap(),
        TraceOptions {
            raw: true,
            ..TraceOptions::default()
        },
    )
    .unwrap();
    let retries = proc_sys("net.ipv4.tcp_syn_retries").unwrap();
    assert_eq!(
        kernel_line(&raw, "net.ipv4.tcp_syn_retries"),
        retries.to_string()
    );
    let linear = proc_sys("net.ipv4.tcp_syn_linear_timeouts");
    let linear_line = kernel_line(&raw, "net.ipv4.tcp_syn_linear_timeouts");
    match linear {
        Some(value) => assert_eq!(linear_line, value.to_string()),
        None => {
            let line = find(&raw, "the missing setting", |e| {
                e["setting"]["name"] == "net.ipv4.tcp_syn_linear_timeouts"
            });
            assert!(line["file"]["type"].is_null(), "{line}");
            assert_eq!(linear_line, "0", "{line}");
        }
    }
    let rto_max = proc_sys("net.ipv4.tcp_rto_max_ms");
    let expected = schedule(SynSettings {
        syn_retries: retries,
        linear_timeouts: linear.unwrap_or(0),
        rto_max_ms: rto_max.unwrap_or(DEFAULT_RTO_MAX_MS),
    });
    assert_eq!(kernel_line(&raw, "SYN resends"), expected.describe_en());
}

// ---------------------------------------------------------------------------
// 8. What the course's students meet on Windows.

#[test]
fn labs_10_and_12_say_what_windows_does() {
    for lang in [Lang::En, Lang::Zh] {
        // Lab 10: the unconnected client's recvfrom, blocked on Linux, raises on Windows.
        let ev = events_in("10", lang);
        let blocked = ev
            .iter()
            .rev()
            .find(|e| e["side"] == "client" && text(e, "call").contains(".recvfrom("))
            .unwrap();
        assert_eq!(blocked["outcome"], "blocked");
        let blocked_note = note(blocked);
        assert!(
            blocked_note.contains("ConnectionResetError: [WinError 10054]"),
            "{blocked_note}"
        );
        let lesson = lab::find("10").unwrap().lesson.get(lang).to_string();
        assert!(lesson.contains("[WinError 10054]"), "{lesson}");

        // Lab 12: %Q comes back unchanged on Linux; on Windows strftime raises ValueError.
        let ev = events_in("12", lang);
        let unknown = find(&ev, "strftime('%Q')", |e| {
            text(e, "call").contains("strftime('%Q')")
        });
        assert_eq!(unknown["result"], "'%Q'");
        let note = note(unknown);
        assert!(note.contains("ValueError: Invalid format string"), "{note}");
        let lesson = lab::find("12").unwrap().lesson.get(lang).to_string();
        assert!(
            lesson.contains("ValueError: Invalid format string"),
            "{lesson}"
        );
        assert!(
            !lesson.contains("does not crash") && !lesson.contains("不会让服务端崩溃"),
            "{lesson}"
        );
    }
}
