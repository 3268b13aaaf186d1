//! Properties every lab's trace must have: the same bytes on every run, valid JSON events with
//! the contract's fields, and a published snapshot that equals what `netlab run` prints.

use netlab::event::Lang;
use netlab::lab::{self, Format};

#[test]
fn every_lab_prints_the_same_bytes_twice() {
    for lab in lab::all() {
        for lang in [Lang::En, Lang::Zh] {
            let first = lab::render_to_string(lab, lang, Format::Text).unwrap();
            let second = lab::render_to_string(lab, lang, Format::Text).unwrap();
            assert_eq!(
                first,
                second,
                "{} ({}) differs between runs",
                lab.id,
                lang.code()
            );
        }
    }
}

#[test]
fn json_events_carry_the_contract_fields() {
    for lab in lab::all() {
        let json = lab::render_to_string(lab, Lang::En, Format::Json).unwrap();
        let mut expected_seq = 1;
        for line in json.lines() {
            let event: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {line}", lab.id));
            for field in ["lab", "seq", "side", "call", "result", "error", "note"] {
                assert!(
                    event.get(field).is_some(),
                    "{}: no {field} in {line}",
                    lab.id
                );
            }
            assert_eq!(event["lab"], lab.id);
            assert_eq!(event["seq"], expected_seq, "{}: seq out of order", lab.id);
            expected_seq += 1;
        }
        assert!(expected_seq > 5, "{}: too few events", lab.id);
    }
}

#[test]
fn text_output_has_no_colour_codes() {
    for lab in lab::all() {
        let text = lab::render_to_string(lab, Lang::En, Format::Text).unwrap();
        assert!(!text.contains('\u{1b}'), "{} has escape codes", lab.id);
    }
}

#[test]
fn labs_are_numbered_in_order() {
    let numbers: Vec<u32> = lab::all().iter().map(|l| l.number()).collect();
    let mut sorted = numbers.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(numbers, sorted);
    assert_eq!(numbers[..2], [1, 2]);
}

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
