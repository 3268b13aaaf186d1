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

use netlab::event::{Lang, Text};
use netlab::lab::{self, Format, Lab};
use netlab::peer::{self, Report, Role, SessionError, Settings};
use netlab::trace::TraceOptions;

use super::args::{ColorWhen, FormatArg, PeerArgs, ServeArgs};
use super::run::use_color;
use super::{complain, labs, Failure, USAGE};

/// One sentence on stderr in the chosen language, and exit status 2.
fn usage(lang: Lang, text: Text) -> ExitCode {
    complain(text.get(lang));
    ExitCode::from(USAGE)
}

/// The lab LAB names, if it offers `role`.
fn lab_for(query: &str, role: Role, lang: Lang) -> Result<&'static Lab, ExitCode> {
    let lab = labs(Some(query), false, lang)?[0];
    if lab.peer.is_some_and(|mode| mode.offers(role)) {
        return Ok(lab);
    }
    let offering: Vec<String> = lab::all()
        .iter()
        .filter(|l| l.peer.is_some_and(|mode| mode.offers(role)))
        .map(|l| format!("{:02}", l.number()))
        .collect();
    let command = match role {
        Role::Serve => "serve",
        Role::Connect => "connect",
    };
    let list = offering.join(", ");
    Err(usage(
        lang,
        Text::new(
            format!(
                "lab {} has no `netlab {command}`; these labs have it: {list}",
                lab.id
            ),
            format!(
                "实验 {} 没有 `netlab {command}`；有它的实验是：{list}",
                lab.id
            ),
        ),
    ))
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
        return Err(usage(lang, refused.message()));
    }
    let course_port = lab.peer.map_or(0, |mode| mode.course_port);
    let port = args.port.unwrap_or(course_port);
    if port == 0 && role == Role::Connect {
        return Err(usage(
            lang,
            Text::new(
                "netlab connect needs the port your server listens on: --port N (1 to 65535)",
                "netlab connect 需要你的服务端监听的端口：--port N（1 到 65535）",
            ),
        ));
    }
    Ok(Settings {
        port,
        once,
        wait: Duration::from_secs(args.wait),
    })
}

fn options(args: &PeerArgs, lang: Lang) -> (TraceOptions, Format, bool) {
    let format = match args.format {
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Text) | None => Format::Text,
    };
    let color = use_color(args.color.unwrap_or(ColorWhen::Auto));
    colored::control::set_override(color);
    (
        TraceOptions {
            lang,
            raw: args.raw,
            ..TraceOptions::default()
        },
        format,
        color,
    )
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
    let (options, format, color) = options(peer_args, lang);
    let sink = lab::renderer(format, lang, color, Box::new(io::stdout().lock()));
    let mode = lab.peer.expect("lab_for checked it");
    let mut ready = |addr: std::net::SocketAddr| {
        let text = Text::new(
            format!("netlab: serving {} on {addr}; start your client in another terminal (Ctrl-C stops)", lab.id),
            format!("netlab：正在 {addr} 上运行 {} 的服务端；请在另一个终端启动你的客户端（Ctrl-C 停止）", lab.id),
        );
        let _ = writeln!(io::stderr(), "{}", text.get(lang));
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
    let (options, format, color) = options(args, lang);
    let sink = lab::renderer(format, lang, color, Box::new(io::stdout().lock()));
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
            Ok(usage(lang, port_unavailable(lab, port, &err)))
        }
        Err(err) => {
            complain(err);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Why a port cannot be used, with the flag that picks another.
fn port_unavailable(lab: &Lab, port: u16, err: &io::Error) -> Text {
    let number = lab.number();
    let other = if port == 8090 { 8091 } else { 8090 };
    match err.raw_os_error() {
        Some(libc::EADDRINUSE) => Text::new(
            format!("port {port} is taken: another program uses it on 127.0.0.1 (your own server?); choose another with --port, e.g. `netlab serve {number:02} --port {other}`"),
            format!("端口 {port} 已被占用：127.0.0.1 上另有程序在用它（是你自己的服务端吗？）；用 --port 换一个，例如 `netlab serve {number:02} --port {other}`"),
        ),
        Some(libc::EACCES) => Text::new(
            format!("port {port} needs administrator rights on this machine; choose one from 1024 up with --port, e.g. `netlab serve {number:02} --port {other}`"),
            format!("在这台机器上端口 {port} 需要管理员权限；用 --port 选 1024 以上的端口，例如 `netlab serve {number:02} --port {other}`"),
        ),
        _ => Text::new(
            format!("port {port} cannot be used ({err}); choose another with --port"),
            format!("端口 {port} 无法使用（{err}）；用 --port 换一个"),
        ),
    }
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
        let with: Vec<String> = lab::all()
            .iter()
            .filter(|l| !l.code.is_empty())
            .map(|l| format!("{:02}", l.number()))
            .collect();
        let list = with.join(", ");
        return Ok(usage(
            lang,
            Text::new(
                format!(
                    "lab {} has no programs of its own; these labs have: {list}",
                    lab.id
                ),
                format!("实验 {} 没有自带程序；有程序的实验是：{list}", lab.id),
            ),
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
            let names = names.join(", ");
            return Ok(usage(
                lang,
                Text::new(
                    format!("lab {} has no {file}; it has {names}", lab.id),
                    format!("实验 {} 没有 {file}；它有 {names}", lab.id),
                ),
            ));
        };
        write!(out, "{text}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
