//! Lab 12: the course's UDP time server.
//!
//! Each request is a datagram holding a strftime format; an empty datagram asks for the
//! default format. The server formats its clock and sends the text back. So that the trace is
//! the same on every run, the server's clock is a fixed instant unless `--raw` is given.

use netlab::clock::FIXED_INSTANT;
use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "a UDP time server: the request is a strftime format, the reply is the time",
    "UDP 时间服务器：请求是 strftime 格式，回复是时间",
);

/// What the server uses when the request is empty, as in the course.
const DEFAULT_FORMAT: &str = "%Y-%m-%d %X";

/// The client's requests, in order.
const REQUESTS: [&[u8]; 5] = [b"", b"%H:%M:%S", b"%A, %d %B %Y", b"day %j of %Y", b"%Q"];

pub fn run(t: &Trace) -> LabResult {
    let clock = Clock::for_trace(t);
    let fixed = netlab::clock::strftime("%Y-%m-%d %H:%M:%S", Clock::Fixed(FIXED_INSTANT))?;

    t.section("The time server starts", "时间服务器启动");
    let server = t.side("server");
    let sock = server.udp("server")?;
    sock.bind(&Addr::loopback(0))?;
    let number = sock.local_addr()?;
    let client = t.side("client").udp("client")?;

    for (i, request) in REQUESTS.into_iter().enumerate() {
        match i {
            0 => t.section(
                "An empty request asks for the default format",
                "空请求表示使用默认格式",
            ),
            1 => t.section(
                "Any strftime format the client sends",
                "客户端发来什么 strftime 格式都行",
            ),
            4 => t.section(
                "A format strftime does not know",
                "strftime 不认识的格式",
            ),
            _ => {}
        }
        client.sendto(request, &number)?;
        if i == 0 {
            t.note(
                "The client sends an empty datagram: b'' is a real message with UDP, 0 bytes long.",
                "客户端发送了一个空数据报：在 UDP 里 b'' 是一条真实的消息，长度为 0 字节。",
            );
        }
        let (msg, addr) = sock.recvfrom(1024)?;
        t.expect(msg == request, "the server got the request as sent")?;
        if i == 0 {
            t.note(
                "recvfrom returned b'' together with the client's address: an empty datagram arrived.\n\
                 With TCP, recv() returning b'' means the peer closed; here the client is still there.\n\
                 The server reads b'' as \"use the default format\", '%Y-%m-%d %X'.",
                "recvfrom 返回了 b''，同时给出客户端地址：收到的是一个空数据报。\n\
                 在 TCP 里 recv() 返回 b'' 表示对方关闭了；这里客户端还好好的。\n\
                 服务端把 b'' 理解为“使用默认格式”，即 '%Y-%m-%d %X'。",
            );
        }
        let format = if msg.is_empty() {
            DEFAULT_FORMAT
        } else {
            std::str::from_utf8(&msg).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
        };
        let back_msg = server.strftime("back_msg", format, clock)?;
        match i {
            0 => t.note(
                format!(
                    "For a trace that is the same on every run, this server's clock is fixed at\n\
                     {FIXED_INSTANT} seconds after the Unix epoch: {fixed} UTC.\n\
                     With --raw it reads the real clock in local time, as the course's server does.\n\
                     %X is the time as the locale writes it; in the C locale, %H:%M:%S."
                ),
                format!(
                    "为了让每次运行的轨迹都一样，这个服务端的时钟固定在 Unix 纪元之后第 {FIXED_INSTANT} 秒，\n\
                     即 {fixed} UTC。加 --raw 时它读取真实时钟（本地时间），和课程里的服务端一样。\n\
                     %X 是按当前区域设置书写的时间，在 C 区域设置下就是 %H:%M:%S。"
                ),
            ),
            4 => {
                t.expect(back_msg == "%Q", "strftime left the unknown %Q as it was")?;
                t.note(
                    "%Q is no strftime conversion. The C library copies what it does not know\n\
                     unchanged, so on Linux Python's strftime returns '%Q' and the server carries on.\n\
                     On Windows the same request crashes the course's server: there CPython's strftime\n\
                     raises ValueError: Invalid format string, and the server does not catch it.",
                    "%Q 不是 strftime 的转换符。C 库遇到不认识的会原样照抄，\n\
                     所以在 Linux 上 Python 的 strftime 返回 '%Q'，服务端照常运行。\n\
                     在 Windows 上，同样的请求会让课程里的服务端崩溃：那里 CPython 的 strftime\n\
                     抛出 ValueError: Invalid format string，而服务端没有捕获它。",
                );
            }
            _ => {}
        }
        sock.sendto(back_msg.as_bytes(), &addr)?;
        if i == 3 {
            let reply = client.recv(1024)?;
            t.expect(reply == back_msg.as_bytes(), "the reply is the formatted time")?;
            t.note(
                "The course's client reads with recv(), which works on a UDP socket too: it returns one\n\
                 datagram and drops the sender's address.",
                "课程里的客户端用 recv() 读取，它在 UDP 套接字上也能用：返回一个数据报，但不给发送方地址。",
            );
        } else {
            let (reply, from) = client.recvfrom(1024)?;
            t.expect(
                reply == back_msg.as_bytes() && from == number,
                "the reply is the formatted time, from the server",
            )?;
        }
    }

    t.section("The client and the server close", "客户端和服务端关闭");
    client.close();
    sock.close();
    Ok(())
}
