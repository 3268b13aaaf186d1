//! Lab 06: TIME_WAIT, and restarting a server on the same port.
//!
//! The side that closes first keeps the connection in TIME_WAIT. When that side is the server,
//! restarting it on the same port fails with EADDRINUSE unless SO_REUSEADDR is set before
//! bind(); on Linux both the old server's socket and the new one need it. When the client closes
//! first, the TIME_WAIT sits on the client's port and the server restarts freely.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "TIME_WAIT and SO_REUSEADDR: restarting a server on the same port",
    "TIME_WAIT 与 SO_REUSEADDR：在同一端口上重启服务端",
);

/// Who hangs up first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    Server,
    Client,
}

/// What one finished server run left behind: its port and the two ends of its connection.
struct Finished {
    port: Addr,
    server_end: Addr,
    client_end: Addr,
}

/// A server (with or without SO_REUSEADDR) serves one caller, both hang up (`first` first),
/// and the server program ends.
fn serve_one(t: &Trace, client_side: &str, reuse: bool, first: First) -> Result<Finished, LabError> {
    let server = t.side("server");
    let kernel = t.kernel();
    let phone = server.tcp("phone")?;
    if reuse {
        phone.set_reuseaddr(true)?;
    }
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let port = phone.local_addr()?;
    let client = t.side(client_side).tcp("phone")?;
    client.connect(&port)?;
    let (conn, _) = phone.accept("conn")?;
    client.send(b"hi")?;
    let data = conn.recv(1024)?;
    conn.send(&data.to_ascii_uppercase())?;
    client.recv(1024)?;
    let server_end = conn.local_addr()?;
    let client_end = client.local_addr()?;
    match first {
        First::Server => {
            conn.close();
            t.note(
                "The server hangs up first (say it is stopped with Ctrl-C while a client is still \
                 connected: its kernel closes conn). FIN goes to the client.",
                "服务端先挂断（比如客户端还连着时服务端被 Ctrl-C 停掉，内核替它关闭 conn）。FIN 发给了客户端。",
            );
            kernel.tcp_state(&client, TcpState::CloseWait)?;
            let data = client.recv(1024)?;
            t.expect(data.is_empty(), "the client reads b'' after the server's FIN")?;
            client.close();
            phone.close();
            t.note(
                "The client sees b'' and closes too; the server program ends.",
                "客户端收到 b''，也关闭了；服务端程序结束。",
            );
        }
        First::Client => {
            client.close();
            t.note(
                "This time the client hangs up first: FIN goes to the server.",
                "这一次是客户端先挂断：FIN 发给了服务端。",
            );
            kernel.tcp_state(&conn, TcpState::CloseWait)?;
            let data = conn.recv(1024)?;
            t.expect(data.is_empty(), "the server reads b'' after the client's FIN")?;
            conn.close();
            phone.close();
            t.note(
                "The server sees b'', closes conn and ends.",
                "服务端收到 b''，关闭 conn，然后结束。",
            );
        }
    }
    Ok(Finished {
        port,
        server_end,
        client_end,
    })
}

/// The restarted server: a new socket, SO_REUSEADDR or not, bind() to the old port.
fn restart(t: &Trace, port: &Addr, reuse: bool) -> Result<(Sock, std::io::Result<()>), LabError> {
    let phone = t.side("server").tcp("phone")?;
    if reuse {
        phone.set_reuseaddr(true)?;
    }
    let bound = phone.bind(port);
    Ok((phone, bound))
}

fn in_use(result: &std::io::Result<()>) -> bool {
    matches!(result, Err(err) if err.kind() == std::io::ErrorKind::AddrInUse)
}

pub fn run(t: &Trace) -> LabResult {
    let kernel = t.kernel();

    t.section(
        "A server without SO_REUSEADDR serves a client; the server hangs up first",
        "不设 SO_REUSEADDR 的服务端接待一个客户端；服务端先挂断",
    );
    let first = serve_one(t, "client", false, First::Server)?;
    kernel.tcp_state_between(&first.server_end, &first.client_end, Some(TcpState::TimeWait))?;
    t.note(
        "Both programs closed everything, yet the server's end of the connection lives on in \
         TIME_WAIT: the side that closes first keeps it, on Linux for 60 s (fixed in the kernel). \
         It is there to answer a late copy of the peer's FIN and to let stray packets of this \
         connection die out. It still holds port PORT.",
        "两个程序都关掉了所有套接字，可服务端这一头的连接还活在 TIME_WAIT 里：先关闭的一方要保留它，\
         Linux 上保留 60 秒（写死在内核里）。它用来应付对方迟到重发的 FIN，\
         也让这条连接残留在网络里的报文自然消失。它仍然占着端口 PORT。",
    );

    t.section(
        "Restart the server on the same port",
        "在同一个端口上重启服务端",
    );
    let (_phone, bound) = restart(t, &first.port, false)?;
    t.expect(in_use(&bound), "bind() fails with EADDRINUSE")?;
    t.note(
        "The restarted server cannot bind (EADDRINUSE): the TIME_WAIT connection still uses PORT. \
         In the course's program this exception ends the server.",
        "重启的服务端绑定失败（EADDRINUSE）：TIME_WAIT 的连接还在用 PORT。\
         在课程的程序里，这个异常会让服务端直接退出。",
    );

    t.section(
        "SO_REUSEADDR on the new server only",
        "只在新的服务端上设置 SO_REUSEADDR",
    );
    let (_phone, bound) = restart(t, &first.port, true)?;
    t.expect(
        in_use(&bound),
        "bind() still fails when only the new socket has SO_REUSEADDR",
    )?;
    t.note(
        "Still in use. On Linux the flag must be on both sockets: the new one and the one holding \
         the port. The TIME_WAIT connection came from the old server's phone, which never set it. \
         So right after you add the line, restarts still fail until that old TIME_WAIT ends (60 s); \
         once the running server has the flag, its restarts work (next part).",
        "还是被占用。在 Linux 上两个套接字都要有这个标志：新的这个，以及占着端口的那个。\
         TIME_WAIT 的连接来自旧服务端的 phone，而它没有设置过。\
         所以刚加上这一行时，在旧的 TIME_WAIT 结束（60 秒）之前重启仍会失败；\
         等运行中的服务端已经带着这个标志，它以后的重启就都能成功（见下一部分）。",
    );

    t.section(
        "A server with SO_REUSEADDR serves a client and hangs up first",
        "设了 SO_REUSEADDR 的服务端接待一个客户端，并先挂断",
    );
    let second = serve_one(t, "client-2", true, First::Server)?;
    kernel.tcp_state_between(&second.server_end, &second.client_end, Some(TcpState::TimeWait))?;
    t.note(
        "The same TIME_WAIT on the server's end, but now its socket had SO_REUSEADDR: conn \
         inherited it from phone at accept().",
        "服务端这一头同样处于 TIME_WAIT，不过这次它的套接字带着 SO_REUSEADDR：\
         conn 在 accept() 时从 phone 继承了它。",
    );
    let (_phone, bound) = restart(t, &second.port, false)?;
    t.expect(
        in_use(&bound),
        "bind() fails when only the old socket had SO_REUSEADDR",
    )?;
    t.note(
        "A restarted server without the flag still fails: the new socket needs it too.",
        "重启的服务端没有设这个标志，仍然失败：新的套接字也必须设置。",
    );
    let (phone, bound) = restart(t, &second.port, true)?;
    t.expect(
        bound.is_ok(),
        "bind() succeeds when both sockets have SO_REUSEADDR",
    )?;
    t.note(
        "Both sockets have SO_REUSEADDR, each set before its bind(): the new server gets the same port.",
        "两个套接字都在各自的 bind() 之前设置了 SO_REUSEADDR：新的服务端拿到了同一个端口。",
    );
    phone.listen(5)?;
    kernel.tcp_state_between(&second.server_end, &second.client_end, Some(TcpState::TimeWait))?;
    t.note(
        "The old connection is still in TIME_WAIT: SO_REUSEADDR does not end it, it only lets a \
         new socket bind beside it.",
        "旧连接仍在 TIME_WAIT：SO_REUSEADDR 并没有结束它，只是允许新套接字在它旁边绑定。",
    );
    let client = t.side("client-3").tcp("phone")?;
    client.connect(&second.port)?;
    let (conn, _) = phone.accept("conn")?;
    client.send(b"back again")?;
    let data = conn.recv(1024)?;
    conn.send(&data.to_ascii_uppercase())?;
    client.recv(1024)?;
    t.note(
        "The restarted server works: a new caller is served on the same port.",
        "重启后的服务端工作正常：同一个端口上又接待了新的来电。",
    );
    client.close();
    conn.recv(1024)?;
    conn.close();
    phone.close();

    t.section(
        "When the client hangs up first",
        "如果客户端先挂断",
    );
    let third = serve_one(t, "client-4", false, First::Client)?;
    kernel.tcp_state_between(&third.client_end, &third.server_end, Some(TcpState::TimeWait))?;
    t.note(
        "The TIME_WAIT is now on the client's end, on its own port.",
        "这一次 TIME_WAIT 在客户端这一头，占的是客户端自己的端口。",
    );
    kernel.tcp_state_between(&third.server_end, &third.client_end, None)?;
    t.note(
        "The server's end (CLOSE_WAIT above) closed second: once the client acknowledged its FIN, \
         the kernel dropped it. Nothing holds PORT_3.",
        "服务端这一头（上面的 CLOSE_WAIT）是后关闭的：客户端确认了它的 FIN 之后，内核就把它删掉了。\
         没有任何东西占着 PORT_3。",
    );
    let (phone, bound) = restart(t, &third.port, false)?;
    t.expect(
        bound.is_ok(),
        "bind() succeeds without SO_REUSEADDR when the client closed first",
    )?;
    t.note(
        "So the restart works even without SO_REUSEADDR. A server cannot choose who hangs up first, \
         though: real servers set SO_REUSEADDR before bind() every time.",
        "所以即使不设 SO_REUSEADDR，重启也能成功。不过服务端没法决定谁先挂断：\
         实际的服务端每次都在 bind() 之前设置 SO_REUSEADDR。",
    );
    phone.listen(5)?;

    t.section(
        "Switch off. The course's other fix, sysctl, explained (never applied)",
        "关机。课程的另一个办法：sysctl（只解释，不执行）",
    );
    phone.close();
    t.note(
        "The course's other fix edits /etc/sysctl.conf. netlab changes no system setting; here is \
         what those lines do:\n\
         - net.ipv4.tcp_tw_reuse: lets new outgoing connections (connect) reuse a TIME_WAIT port \
         pair when that is safe; it does nothing for a server's bind().\n\
         - net.ipv4.tcp_tw_recycle: removed in Linux 4.12 (it broke clients behind NAT).\n\
         - net.ipv4.tcp_fin_timeout: how long an orphaned connection may stay in FIN_WAIT2 (60 s by \
         default). That is where a stopped server's end waits while its client has not closed yet \
         (the course's client sits at input()), and it holds PORT as TIME_WAIT does; TIME_WAIT \
         itself still lasts 60 s.\n\
         - net.ipv4.tcp_syncookies: a defence against SYN floods (half-open connections, not a full accept queue), not TIME_WAIT.\n\
         For a server that must restart at once, SO_REUSEADDR in the program is the fix.",
        "课程的另一个办法是修改 /etc/sysctl.conf。netlab 不改任何系统设置；这里只说明那几行的作用：\n\
         - net.ipv4.tcp_tw_reuse：允许新的主动连接（connect）在安全时复用处于 TIME_WAIT 的端口对；\
         对服务端的 bind() 不起作用。\n\
         - net.ipv4.tcp_tw_recycle：Linux 4.12 已删除（它会让 NAT 后面的客户端连不上）。\n\
         - net.ipv4.tcp_fin_timeout：孤儿连接在 FIN_WAIT2 里最多停留多久（默认 60 秒）。\
         服务端被停掉而客户端还没关闭时（课程的客户端正停在 input() 那里），服务端这一头就停在 FIN_WAIT2，\
         它和 TIME_WAIT 一样占着 PORT；TIME_WAIT 本身仍是 60 秒。\n\
         - net.ipv4.tcp_syncookies：防御 SYN 洪水（针对半开连接，不是满了的 accept 队列），与 TIME_WAIT 无关。\n\
         要让服务端能立刻重启，办法是在程序里设置 SO_REUSEADDR。",
    );
    Ok(())
}
