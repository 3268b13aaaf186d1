//! `netlab serve`, `netlab connect` and `netlab show --code` as a user meets them: a port that
//! is taken, an address other than loopback, a lab without peer mode (one line, exit 2), the
//! programs printed, both languages, and Ctrl-C: exit 0 with nothing left behind.

mod peer_support;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use peer_support::*;

fn netlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("netlab runs")
}

/// A usage error: exit 2, nothing on stdout, one line on stderr, which is returned.
fn one_line_and_2(output: &Output) -> String {
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn a_taken_port_is_one_line_naming_port_and_exit_2() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    let err = one_line_and_2(&netlab(&["serve", "08", "--port", &port]));
    assert!(err.contains(&format!("port {port} is taken")), "{err}");
    assert!(err.contains("--port"), "{err}");
    let zh = one_line_and_2(&netlab(&["serve", "08", "--port", &port, "--lang", "zh"]));
    assert!(zh.contains(&format!("端口 {port} 已被占用")), "{zh}");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port().to_string();
    let err = one_line_and_2(&netlab(&["serve", "10", "--port", &port]));
    assert!(err.contains("is taken"), "{err}");
}

#[test]
fn only_loopback_is_served_or_called() {
    for args in [
        &["serve", "01", "--host", "0.0.0.0"][..],
        &["serve", "01", "--host", "192.168.1.10"],
        &["connect", "08", "--host", "10.0.0.1"],
    ] {
        let err = one_line_and_2(&netlab(args));
        assert!(err.contains("127.0.0.1 (loopback) only"), "{err}");
    }
    let zh = one_line_and_2(&netlab(&["connect", "08", "--host", "::1", "--lang", "zh"]));
    assert!(zh.contains("只在 127.0.0.1"), "{zh}");
}

#[test]
fn a_lab_without_peer_mode_names_those_with_it() {
    let err = one_line_and_2(&netlab(&["serve", "05"]));
    assert!(
        err.contains("lab 05-backlog has no `netlab serve`"),
        "{err}"
    );
    assert!(err.contains("01, 02, 04, 07, 08, 09, 10, 11, 12"), "{err}");
    let err = one_line_and_2(&netlab(&["connect", "nope"]));
    assert!(err.contains("no lab called 'nope'"), "{err}");
    let err = one_line_and_2(&netlab(&["connect", "08", "--port", "0"]));
    assert!(err.contains("--port"), "{err}");
}

#[test]
fn show_code_prints_the_programs_and_one_file_as_it_is() {
    let both = netlab(&["show", "08", "--code"]);
    assert!(both.status.success());
    let text = String::from_utf8(both.stdout).unwrap();
    let server_at = text
        .find("# ---- labs/08-length-header/server.py ----")
        .unwrap();
    let client_at = text
        .find("# ---- labs/08-length-header/client.py ----")
        .unwrap();
    assert!(server_at < client_at, "server.py first: start it first");
    let one = netlab(&["show", "8", "--code", "client.py"]);
    assert!(one.status.success());
    let file = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/08-length-header/client.py"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(one.stdout).unwrap(), file);
    let err = one_line_and_2(&netlab(&["show", "05", "--code"]));
    assert!(err.contains("has no programs of its own"), "{err}");
    let err = one_line_and_2(&netlab(&["show", "08", "--code", "nope.py"]));
    assert!(err.contains("it has server.py, client.py"), "{err}");
    // Without --code, show prints the lesson, which says how to run them.
    let lesson = netlab(&["show", "08"]);
    assert!(String::from_utf8(lesson.stdout)
        .unwrap()
        .contains("netlab connect 08"));
}

#[test]
fn ctrl_c_ends_serve_01_with_0_and_leaves_nothing_behind() {
    let tmpdir = tempfile::tempdir().unwrap();
    let server = Serving::start_in("01", &[], Some(tmpdir.path()));
    let (pid, port) = (server.pid(), server.port);
    let mut client = server.dial();
    send(&mut client, b"hello");
    assert_eq!(read_to_end(&mut client), b"HELLO");
    let done = server.interrupt();
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert_eq!(done.last_event()["side"], "netlab");
    assert_eq!(done.session()["interrupted"], true);
    assert_eq!(done.session()["conversations"], 1);
    // No process: netlab is gone (reaped above) and started none.
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    // No file: TMPDIR is as empty as before.
    let left: Vec<_> = std::fs::read_dir(tmpdir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // No socket: the port can be listened on again at once.
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
}

#[test]
fn ctrl_c_while_serve_waits_for_a_silent_client_ends_at_once() {
    let server = Serving::start("08", &[]);
    let _silent = server.dial();
    std::thread::sleep(Duration::from_millis(100)); // netlab is inside its 30 s wait now
    let started = Instant::now();
    let done = server.interrupt();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "Ctrl-C waited for the client"
    );
    assert_eq!(done.status.code(), Some(0), "{}", done.shown());
    assert!(done.diagnoses().is_empty(), "{}", done.shown());
}

#[test]
fn serve_text_in_both_languages_with_colour_only_when_asked() {
    for (lang, heading) in [
        (
            "en",
            "netlab serve: netlab is the server, your program the client",
        ),
        ("zh", "netlab serve：netlab 当服务端，你的程序当客户端"),
    ] {
        let holder = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port();
        drop(holder);
        let child = Command::new(env!("CARGO_BIN_EXE_netlab"))
            .args(["serve", "01", "--once", "--lang", lang, "--color", "always"])
            .args(["--port", &port.to_string()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut client = loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(err) => panic!("netlab serve never listened: {err}"),
            }
        };
        send(&mut client, b"hi");
        assert_eq!(read_to_end(&mut client), b"HI");
        let out = child.wait_with_output().unwrap();
        let coloured = String::from_utf8(out.stdout).unwrap();
        assert!(coloured.contains('\u{1b}'), "coloured when asked");
        let text = strip_escapes(&coloured);
        // The title is wrapped like any trace's: its lines up to the first blank one.
        let title: String = text
            .lines()
            .take_while(|line| !line.is_empty())
            .flat_map(|line| line.split_whitespace())
            .collect();
        let heading: String = heading.split_whitespace().collect();
        assert!(title.contains(&heading), "{text}");
        assert_fits(&text, 80);
        // The port the person typed shows as its number.
        assert!(
            text.contains(&format!("phone.bind(('127.0.0.1', {port}))")),
            "{text}"
        );
    }
}

/// Every line of `text` fits `width` display columns (a CJK character counts two).
fn assert_fits(text: &str, width: usize) {
    use unicode_width::UnicodeWidthStr;
    let wide: Vec<&str> = text.lines().filter(|l| l.width() > width).collect();
    assert!(
        wide.is_empty(),
        "wider than {width} columns:\n{}",
        wide.join("\n")
    );
}

fn strip_escapes(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// A session's text is wrapped as `run`'s is: to 80 columns when stdout is not a terminal,
/// to `--width N` when given.
#[test]
fn session_text_wraps_to_80_columns_or_to_width() {
    let port = free_port().to_string();
    for lang in ["en", "zh"] {
        let wrapped = netlab(&["connect", "01", "--port", &port, "--lang", lang]);
        assert_eq!(wrapped.status.code(), Some(1), "refused: a diagnosis");
        let text = String::from_utf8(wrapped.stdout).unwrap();
        assert_fits(&text, 80);
        let wide = netlab(&[
            "connect", "01", "--port", &port, "--lang", lang, "--width", "300",
        ]);
        let wide = String::from_utf8(wide.stdout).unwrap();
        assert_fits(&wide, 300);
        assert!(
            wide.lines().count() < text.lines().count(),
            "--width 300 puts notes on fewer lines:\n{wide}"
        );
    }
}
