//! `netlab serve`, `netlab connect` and `netlab show LAB --code`: peer mode, where netlab is
//! one side of a lab and the student's own program the other.
//!
//! Exit status: 0 when the session ran (serve: stopped with Ctrl-C; connect, and serve with
//! `--once`: no diagnosis), 1 when the other program was diagnosed (connect, serve --once) or
//! netlab could not run, 2 when the command cannot run as written: a wrong LAB, a lab without
//! this mode, an address other than 127.0.0.1, or a port that is taken (choose another with
//! --port).

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use netlab::event::Lang;
use netlab::lab::{self, Format, Lab};
use netlab::peer::{self, Report, Role, SessionError, Settings};
use netlab::phrases;
use netlab::render::Sink;
use netlab::trace::TraceOptions;

use super::args::{ColorWhen, FormatArg, PeerArgs, ServeArgs};
use super::run::{text_width, use_color};
use super::{complain, labs, Failure, USAGE};

/// One sentence on stderr, and exit status 2.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    complain(message);
    ExitCode::from(USAGE)
}

/// The two-digit numbers of the labs that `has`, for a message naming them.
fn lab_numbers(has: impl Fn(&Lab) -> bool) -> String {
    let numbers: Vec<String> = lab::all()
        .iter()
        .filter(|lab| has(lab))
        .map(|lab| format!("{:02}", lab.number()))
        .collect();
    numbers.join(", ")
}

/// The lab LAB names, if it offers `role`.
fn lab_for(query: &str, role: Role, lang: Lang) -> Result<&'static Lab, ExitCode> {
    let lab = labs(Some(query), false, lang)?[0];
    let offers = |lab: &Lab| lab.peer.is_some_and(|mode| mode.offers(role));
    if offers(lab) {
        return Ok(lab);
    }
    let command = match role {
        Role::Serve => "serve",
        Role::Connect => "connect",
    };
    Err(usage(phrases::PEER_NOT_OFFERED.fill(
        lang,
        &[
            ("id", &lab.id),
            ("command", &command),
            ("labs", &lab_numbers(offers)),
        ],
    )))
}

/// The session's settings from the flags, or the usage error.
fn settings(
    args: &PeerArgs,
    lab: &Lab,
    role: Role,
    once: bool,
    lang: Lang,
) -> Result<Settings, ExitCode> {
    if let Err(refused) = peer::check_host(&args.host) {
        return Err(usage(refused.message(lang)));
    }
    if matches!(args.format, Some(FormatArg::Ladder | FormatArg::Html)) {
        return Err(usage(phrases::PEER_NO_DRAWING.get(lang)));
    }
    let course_port = lab.peer.map_or(0, |mode| mode.course_port);
    let port = args.port.unwrap_or(course_port);
    if port == 0 && role == Role::Connect {
        return Err(usage(phrases::PEER_CONNECT_NEEDS_PORT.get(lang)));
    }
    Ok(Settings {
        port,
        once,
        wait: Duration::from_secs(args.wait),
    })
}

/// The trace's options and how it is shown: JSON, or text wrapped as `run` wraps it.
fn options(args: &PeerArgs, lang: Lang) -> (TraceOptions, Box<dyn Sink>) {
    let format = match args.format {
        Some(FormatArg::Json) => Format::Json,
        // A drawing needs the whole run; `settings` refuses it for a session.
        Some(FormatArg::Text | FormatArg::Ladder | FormatArg::Html) | None => Format::Text,
    };
    let color = use_color(args.color.unwrap_or(ColorWhen::Auto));
    colored::control::set_override(color);
    let sink = lab::renderer_with_width(
        format,
        lang,
        color,
        text_width(args.width),
        Box::new(io::stdout().lock()),
    );
    let options = TraceOptions {
        lang,
        raw: args.raw,
        ..TraceOptions::default()
    };
    (options, sink)
}

/// `netlab serve LAB`
pub fn serve(args: &ServeArgs, lang: Lang) -> Result<ExitCode, Failure> {
    let peer_args = &args.peer;
    let lab = match lab_for(&peer_args.lab, Role::Serve, lang) {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let settings = match settings(peer_args, lab, Role::Serve, args.once, lang) {
        Ok(settings) => settings,
        Err(code) => return Ok(code),
    };
    let (options, sink) = options(peer_args, lang);
    let mode = lab.peer.expect("lab_for checked it");
    let mut ready = |addr: std::net::SocketAddr| {
        let text = phrases::PEER_SERVING.fill(lang, &[("id", &lab.id), ("addr", &addr)]);
        let _ = writeln!(io::stderr(), "{text}");
    };
    let outcome = peer::serve(
        lab.id, &lab.title, mode, options, settings, sink, &mut ready,
    );
    finish(outcome, lang, lab, Role::Serve, args.once)
}

/// `netlab connect LAB`
pub fn connect(args: &PeerArgs, lang: Lang) -> Result<ExitCode, Failure> {
    let lab = match lab_for(&args.lab, Role::Connect, lang) {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let settings = match settings(args, lab, Role::Connect, false, lang) {
        Ok(settings) => settings,
        Err(code) => return Ok(code),
    };
    let (options, sink) = options(args, lang);
    let mode = lab.peer.expect("lab_for checked it");
    let outcome = peer::connect(lab.id, &lab.title, mode, options, settings, sink);
    finish(outcome, lang, lab, Role::Connect, false)
}

/// The exit status of a session (see the module documentation).
fn finish(
    outcome: Result<Report, SessionError>,
    lang: Lang,
    lab: &Lab,
    role: Role,
    once: bool,
) -> Result<ExitCode, Failure> {
    match outcome {
        Ok(report) => {
            let judged = role == Role::Connect || once;
            if judged && !report.stopped && !report.diagnoses.is_empty() {
                Ok(ExitCode::FAILURE)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Err(SessionError::Output(err)) => Err(Failure::Output(err)),
        Err(SessionError::PortUnavailable { port, err }) => {
            Ok(usage(port_unavailable(lab, port, &err, lang)))
        }
        Err(err) => {
            complain(phrases::PEER_FAILED.fill(lang, &[("reason", &err)]));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Why a port cannot be used, with the flag that picks another.
fn port_unavailable(lab: &Lab, port: u16, err: &io::Error, lang: Lang) -> String {
    let number = format!("{:02}", lab.number());
    let other = if port == 8090 { 8091 } else { 8090 };
    let values: [(&str, &dyn std::fmt::Display); 4] = [
        ("port", &port),
        ("lab", &number),
        ("other", &other),
        ("err", err),
    ];
    let message = match err.raw_os_error() {
        Some(libc::EADDRINUSE) => phrases::PEER_PORT_TAKEN,
        Some(libc::EACCES) => phrases::PEER_PORT_PRIVILEGED,
        _ => phrases::PEER_PORT_UNUSABLE,
    };
    message.fill(lang, &values)
}

/// `netlab show LAB --code [FILE]`: the lab's Python programs, each under a comment naming
/// its file, or one file as it is (ready to save).
pub fn show_code(
    out: &mut impl Write,
    lab: &Lab,
    file: &str,
    lang: Lang,
) -> Result<ExitCode, Failure> {
    if lab.code.is_empty() {
        let labs = lab_numbers(|lab| !lab.code.is_empty());
        return Ok(usage(
            phrases::SHOW_NO_CODE.fill(lang, &[("id", &lab.id), ("labs", &labs)]),
        ));
    }
    if file.is_empty() {
        for (i, (name, text)) in lab.code.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "# ---- labs/{}/{name} ----", lab.id)?;
            write!(out, "{text}")?;
        }
    } else {
        let Some((_, text)) = lab.code.iter().find(|(name, _)| *name == file) else {
            let names: Vec<&str> = lab.code.iter().map(|(name, _)| *name).collect();
            let files = names.join(", ");
            return Ok(usage(phrases::SHOW_NO_SUCH_FILE.fill(
                lang,
                &[("id", &lab.id), ("file", &file), ("files", &files)],
            )));
        };
        write!(out, "{text}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
