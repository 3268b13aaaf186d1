//! Lab 12 in peer mode: the course's UDP time server. `netlab serve 12` answers each
//! strftime format with its clock (a fixed instant unless --raw, as in the lab); `netlab
//! connect 12` asks your time server for the default format (an empty datagram) and for one
//! of its own.

use netlab::clock::Clock;
use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 9000,
    serve: Some(Serve::Datagrams(serve)),
    connect: Some(Connect::Datagrams(connect)),
};

/// What the server uses when the request is empty, as in the course.
const DEFAULT_FORMAT: &str = "%Y-%m-%d %X";

/// One request: a format in, the time in that format back.
fn serve(server: &mut Datagrams) -> PeerResult {
    let clock = Clock::for_trace(server.trace());
    let (msg, addr) = server.recvfrom(1024)?;
    let format = if msg.is_empty() {
        if server.first() {
            server.note(
                "An empty datagram is a request too: the course's server then uses '%Y-%m-%d %X'.",
                "空数据报也是一个请求：课程里的服务端这时使用 '%Y-%m-%d %X'。",
            );
        }
        DEFAULT_FORMAT.to_string()
    } else {
        match String::from_utf8(msg) {
            Ok(format) => format,
            Err(_) => {
                server.report(Diagnosis::NotUtf8);
                let reply = b"netlab: the request is not UTF-8 text\n";
                server.sendto(reply, &addr)?;
                return Ok(());
            }
        }
    };
    let back_msg = server.side().strftime("back_msg", &format, clock)?;
    if server.first() {
        server.note(
            "So that the trace is the same on every run, this clock is fixed at 2001-09-09 01:46:40 UTC; with --raw it is the real clock, as in the course.",
            "为了每次运行的轨迹都一样，这个时钟固定在 2001-09-09 01:46:40 UTC；加 --raw 就用真实时钟，和课程里一样。",
        );
    }
    server.sendto(back_msg.as_bytes(), &addr)?;
    Ok(())
}

/// Two requests: the default format (an empty datagram), then a format of netlab's.
fn connect(client: &mut Datagrams) -> PeerResult {
    let server = client.server()?;
    client.sendto(b"", &server)?;
    client.note(
        "An empty datagram: with UDP it is a real message, 0 bytes long, and the course's server answers it in its default format.",
        "一个空数据报：在 UDP 里这是一条真实的消息，长度为 0，课程里的服务端会用默认格式回答它。",
    );
    client.recvfrom(1024)?;
    client.sendto(b"%H:%M:%S", &server)?;
    client.recvfrom(1024)?;
    client.note(
        "Your server answered both: the time on its clock, in the format asked for. (The time is your server's, so this line differs from run to run.)",
        "你的服务端回答了两次：它的时钟上的时间，用请求的格式。（时间来自你的服务端，所以这一行每次运行都不一样。）",
    );
    Ok(())
}
