//! Lab 04 in peer mode: netlab's server runs the loop that survives a client going away, by
//! FIN or by RST (`netlab serve 04`); or netlab's clients go away from your server, first
//! politely (FIN), then abruptly (RST), and a third caller checks that your server is still
//! there (`netlab connect 04`).

use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8080,
    serve: Some(Serve::Calls(serve)),
    connect: Some(Connect::Calls(connect)),
};

/// The fixed communication loop: `if not data: break` for FIN, and an RST diagnosed (the
/// engine's `except ConnectionResetError`) instead of crashing the server.
fn serve(call: &mut Call) -> PeerResult {
    loop {
        let data = match call.recv("data", 1024)? {
            Heard::Data(data) => data,
            Heard::HungUp => {
                call.note(
                    "Your client went away politely: its kernel sent FIN, netlab's end is in CLOSE_WAIT, and recv() returned b''. It would return b'' at once every time from now on, so the course's first loop, without `if not data: break`, spins here printing b''. netlab's loop breaks out and closes the connection.",
                    "你的客户端礼貌地离开了：它的内核发出 FIN，netlab 这一头处于 CLOSE_WAIT，recv() 返回 b''。从现在起每次 recv() 都会立刻返回 b''，所以课程最初那个没有 `if not data: break` 的循环会在这里空转、不停打印 b''。netlab 的循环则跳出来并关闭连接。",
                );
                return Ok(());
            }
        };
        call.conn().send(&data.to_ascii_uppercase())?;
    }
}

fn connect(dialer: &Dialer) -> PeerResult {
    dialer.section(
        "A client that says one thing and leaves (FIN)",
        "客户端说一句话就离开（FIN）",
    );
    let mut polite = dialer.dial("client", "phone")?;
    polite.conn().send(b"hi")?;
    let reply = polite.recv_reply("data", 1024)?;
    polite.expect_reply(&reply, b"HI")?;
    polite.conn().shutdown(std::net::Shutdown::Write)?;
    polite.note(
        "netlab sends FIN, as any client does on Linux when it closes or ends; it keeps its socket open for reading, to see what your server does next.",
        "netlab 发出 FIN，就像 Linux 上任何客户端关闭或结束时那样；它让自己的套接字继续可读，看你的服务端接下来怎么做。",
    );
    polite.await_close("data")?;
    polite.note(
        "b'': your server's recv() returned b'', it left its loop and closed its end (FIN back).",
        "b''：你的服务端的 recv() 返回了 b''，它跳出循环并关闭了自己那一头（回了 FIN）。",
    );
    polite.hang_up();

    dialer.section(
        "A client that is killed (RST, as on Windows)",
        "客户端被杀掉（RST，和 Windows 上一样）",
    );
    let mut abrupt = dialer.dial("client-2", "phone")?;
    abrupt.conn().send(b"hi")?;
    let reply = abrupt.recv_reply("data", 1024)?;
    abrupt.expect_reply(&reply, b"HI")?;
    abrupt.conn().set_linger_zero()?;
    abrupt.hang_up();
    dialer.note(
        "With SO_LINGER (1, 0), close() resets the connection (RST), as Windows does for a client that is killed. Your server's recv() raises ConnectionResetError now, on Linux too.",
        "设置 SO_LINGER (1, 0) 后，close() 会重置连接（RST），就像 Windows 上客户端被杀掉时那样。你的服务端的 recv() 现在会抛出 ConnectionResetError，在 Linux 上也一样。",
    );

    dialer.section(
        "A third caller: is your server still there?",
        "第三个来电：你的服务端还在吗？",
    );
    let mut third = dialer.dial("client-3", "phone")?;
    third.conn().send(b"still there?")?;
    let reply = third.recv_reply("data", 1024)?;
    third.expect_reply(&reply, b"STILL THERE?")?;
    third.note(
        "Your server survived both: it breaks out on b'' and catches ConnectionResetError, then goes back to accept().",
        "你的服务端两种情况都扛住了：收到 b'' 就跳出，捕获 ConnectionResetError，然后回到 accept()。",
    );
    third.hang_up();
    Ok(())
}
