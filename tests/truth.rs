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

/// Every note of a lab, in one language, joined.
fn notes(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| text(e, "note"))
        .collect::<Vec<_>>()
        .join("\n")
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
    let reset = find(&ev, "the reset", |e| e["error"] == "ECONNRESET");
    assert_eq!(
        reset["result"],
        "ConnectionResetError: [Errno 104] Connection reset by peer"
    );
    assert_eq!(reset["exception"], "ConnectionResetError");
    assert_eq!(reset["errno"], 104);

    for lab in lab::all() {
        for event in lab::json_events(lab, TraceOptions::default()).unwrap() {
            let Some(exception) = event["exception"].as_str() else {
                continue;
            };
            let result = text(&event, "result");
            assert!(
                result.starts_with(exception),
                "{}: {result} does not start with {exception}",
                lab.id
            );
            if let Some(symbol) = event["error"].as_str() {
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
        assert!(
            result.starts_with(r#"b'{"filename": ""#)
                && result.ends_with(&format!("({size} bytes)")),
            "{result}"
        );
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
        let note = text(empty, "note");
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
                for field in ["call", "result", "note"] {
                    let value = text(&event, field);
                    assert_eq!(module_prefixed(value), None, "{}: {value}", lab.id);
                }
            }
        }
    }
}
