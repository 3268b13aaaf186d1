//! `--format ladder`: the ladder diagram of labs 01, 07 and 17 against their snapshots
//! (snapshots/NN-name.ladder.snap, .ladder.zh.snap; with `--wire` see tests/ladder_wire.rs), every lab's
//! diagram within 80 columns in both languages, the same bytes on every run, and the arrows
//! the facts call for: lab 07's two sends of 5 bytes into its one recv of b'helloworld'.

use std::process::Command;

use netlab::event::{Event, Lang};
use netlab::lab::{self, Format, Recording};
use netlab::render::diagram::{Carries, Diagram, Place};
use netlab::trace::TraceOptions;
use unicode_width::UnicodeWidthStr;

fn recording(id: &str) -> Recording {
    let lab = lab::find(id).expect("the lab exists");
    lab::record(lab, TraceOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn ladder(recording: &Recording, lang: Lang) -> String {
    recording.render(Format::Ladder, lang, false)
}

fn check_snapshot(id: &str, lang: Lang) {
    let recording = recording(id);
    let name = match lang {
        Lang::En => format!("{}.ladder", recording.id),
        Lang::Zh => format!("{}.ladder.zh", recording.id),
    };
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name.as_str(), ladder(&recording, lang));
    });
}

#[test]
fn snapshot_01() {
    check_snapshot("01", Lang::En);
}

#[test]
fn snapshot_07() {
    check_snapshot("07", Lang::En);
}

#[test]
fn snapshot_07_zh() {
    check_snapshot("07", Lang::Zh);
}

#[test]
fn snapshot_17() {
    check_snapshot("17", Lang::En);
}

/// Every line of every lab's diagram fits 80 display columns (a CJK character counts two).
#[test]
fn every_line_of_every_lab_fits_80_columns() {
    let mut wide = Vec::new();
    for lab in lab::all() {
        let recording = recording(lab.id);
        for lang in [Lang::En, Lang::Zh] {
            for line in ladder(&recording, lang).lines() {
                if line.width() > 80 {
                    wide.push(format!(
                        "{} {}: {:>3} {line}",
                        lab.id,
                        lang.code(),
                        line.width()
                    ));
                }
            }
        }
    }
    assert!(
        wide.is_empty(),
        "lines wider than 80 columns:\n{}",
        wide.join("\n")
    );
}

/// Two runs of lab 07, two diagrams: the same bytes.
#[test]
fn the_diagram_is_the_same_on_every_run() {
    let first = ladder(&recording("07"), Lang::En);
    let second = ladder(&recording("07"), Lang::En);
    assert_eq!(first, second);
}

fn event_row(diagram: &Diagram, seq: u32) -> usize {
    diagram
        .rows
        .iter()
        .position(|row| row.event.seq == seq)
        .unwrap_or_else(|| panic!("no row for event {seq}"))
}

fn find<'a>(events: &'a [Event], call: &str) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| e.facts.python.as_deref() == Some(call))
        .collect()
}

/// Lab 07: the sends of b'hello' and b'world' (5 bytes each) both arrive in the one recv
/// that returned b'helloworld'; the reply of 2005 bytes goes to two recvs (1024, then 981
/// together with the 6 bytes of the next reply).
#[test]
fn lab_07_two_sends_arrive_in_one_recv() {
    let recording = recording("07");
    let events = &recording.events;
    let hello = find(events, "phone.send(b'hello')")[0].seq;
    let world = find(events, "phone.send(b'world')")[0].seq;
    let recv = events
        .iter()
        .find(|e| e.facts.value.as_deref() == Some("b'helloworld'"))
        .expect("the recv of b'helloworld'")
        .seq;
    let diagram = Diagram::new(events);
    let into = |seq: u32| -> Vec<(u32, String)> {
        let row = event_row(&diagram, seq);
        diagram
            .arrows
            .iter()
            .filter(|a| a.to_row == row)
            .map(|a| (diagram.rows[a.from_row].event.seq, a.label.clone()))
            .collect()
    };
    assert_eq!(
        into(recv),
        [(hello, "5".to_string()), (world, "5".to_string())]
    );
    let arrow = diagram
        .arrows
        .iter()
        .find(|a| a.to_row == event_row(&diagram, recv))
        .unwrap();
    assert_eq!(arrow.carries, Carries::Bytes);
    let lane = |name: &str| diagram.lanes.iter().position(|l| l == name);
    assert_eq!(diagram.lanes, ["client", "server"]);
    assert_eq!(
        (arrow.from_lane, arrow.to_lane),
        (lane("client"), lane("server"))
    );

    // The reply of seq 1000 1400: 1024 bytes to the first recv, 981 to the next one, which
    // also gets the 6 bytes of echo's reply.
    let sends: Vec<u32> = events
        .iter()
        .filter(|e| {
            e.side == "server"
                && e.facts
                    .python
                    .as_deref()
                    .is_some_and(|c| c.starts_with("conn.send("))
        })
        .map(|e| e.seq)
        .collect();
    let recvs: Vec<u32> = find(events, "cmd_res = phone.recv(1024)")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(into(recvs[0]), [(sends[0], "1024".to_string())]);
    assert_eq!(
        into(recvs[1]),
        [(sends[0], "981".to_string()), (sends[1], "6".to_string())]
    );
    // The second reply is never read: no arrow leaves its send.
    let unread = event_row(&diagram, sends[2]);
    assert!(diagram.arrows.iter().all(|a| a.from_row != unread));
}

/// The text shows those arrows: two channels that end in one arrow into the recv's lane.
#[test]
fn lab_07_text_shows_two_arrows_into_one_recv() {
    let text = ladder(&recording("07"), Lang::En);
    let line = text
        .lines()
        .find(|line| line.contains("data = conn.recv(1024)  -> b'helloworld'"))
        .expect("the recv's line");
    let graphic = line.split("data = ").next().unwrap();
    assert_eq!(
        graphic.matches('\'').count(),
        2,
        "two arrows end here: {line}"
    );
    assert_eq!(
        graphic.matches("-5-").count(),
        2,
        "each with its 5 bytes: {line}"
    );
    assert!(
        graphic.trim_end().ends_with(">o"),
        "into the server's recv: {line}"
    );
}

/// Datagrams: each recvfrom of lab 13 gets the arrow of the sendto whose datagram it took,
/// in order, a cut one included; the datagram lab 10 sends before the server exists has none.
#[test]
fn datagrams_go_to_the_recv_that_took_them() {
    let boundaries = recording("13");
    let diagram = Diagram::new(&boundaries.events);
    let datagrams: Vec<&_> = diagram
        .arrows
        .iter()
        .filter(|a| a.carries == Carries::Datagram)
        .collect();
    assert!(datagrams.len() >= 4, "{:?}", diagram.arrows);
    for arrow in &datagrams {
        let (from, to) = (
            diagram.rows[arrow.from_row].event,
            diagram.rows[arrow.to_row].event,
        );
        assert!(from.facts.python.as_deref().unwrap().contains("sendto("));
        assert!(to.facts.python.as_deref().unwrap().contains("recvfrom("));
        assert!(from.seq < to.seq);
    }
    let echo = recording("10");
    let diagram = Diagram::new(&echo.events);
    let early = echo
        .events
        .iter()
        .find(|e| {
            e.facts
                .python
                .as_deref()
                .is_some_and(|c| c.contains("b'anyone there?'"))
        })
        .unwrap();
    let row = event_row(&diagram, early.seq);
    assert!(diagram.arrows.iter().all(|a| a.from_row != row));
}

/// Kernel lines stand on the lane of the socket they read, and a TCP state shows where it
/// changes: lab 17's client goes ESTABLISHED, FIN_WAIT2, TIME_WAIT.
#[test]
fn probes_stand_on_their_sockets_lane_and_states_show_where_they_change() {
    let recording = recording("17");
    let diagram = Diagram::new(&recording.events);
    let client = diagram.lanes.iter().position(|l| l == "client").unwrap();
    let states: Vec<&str> = diagram
        .rows
        .iter()
        .filter(|row| row.place == Place::Lane(client))
        .filter_map(|row| row.state)
        .collect();
    assert_eq!(
        &states[..3],
        ["ESTABLISHED", "FIN_WAIT2", "TIME_WAIT"],
        "{states:?}"
    );
    for row in &diagram.rows {
        if let Some(socket) = &row.event.facts.socket {
            if row.event.kind == netlab::event::Kind::Kernel {
                assert_eq!(
                    row.place,
                    Place::Lane(
                        diagram
                            .lanes
                            .iter()
                            .position(|l| *l == socket.side)
                            .unwrap()
                    )
                );
            }
        }
    }
}

/// `--width` widens the lanes and the text; every line stays within it.
#[test]
fn the_width_is_honoured() {
    let recording = recording("07");
    let narrow = ladder(&recording, Lang::En);
    let wide = render_width(&recording, 120);
    assert!(wide.lines().all(|l| l.width() <= 120));
    assert!(wide.lines().any(|l| l.width() > 80));
    // The server's lane: where the first call's mark is.
    let server_lane = |text: &str| {
        let line = text.lines().find(|l| l.starts_with("  1 ")).unwrap();
        line.find('o').unwrap()
    };
    assert!(server_lane(&wide) > server_lane(&narrow));
}

fn render_width(recording: &Recording, width: usize) -> String {
    let mut bytes = Vec::new();
    {
        let mut sink =
            lab::renderer_with_width(Format::Ladder, Lang::En, false, width, Box::new(&mut bytes));
        sink.lab_start(recording.id, &recording.title).unwrap();
        for event in &recording.events {
            sink.event(event).unwrap();
        }
        sink.lab_end(&recording.end).unwrap();
    }
    String::from_utf8(bytes).unwrap()
}

/// `--step` and `--pace` pace a run line by line; a drawing appears only at the lab's end,
/// so netlab refuses them with the reason, and exit status 2.
#[test]
fn a_drawing_refuses_step_and_pace() {
    for args in [["--step", ""], ["--pace", "10"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_netlab"))
            .args(["run", "7", "--format", "ladder", "--lang", "en"])
            .args(args.iter().filter(|a| !a.is_empty()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--format ladder draws the whole lab"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty());
    }
}
