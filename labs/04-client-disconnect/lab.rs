//! Lab 04: the client goes away while the server sits in its communication loop.
//!
//! On Linux the closing client sends FIN and the server's recv() returns b'' at once, every
//! time: a loop without `if not data: break` spins. On Windows a killed client resets the
//! connection and recv() raises ConnectionResetError; netlab reproduces that reset here with
//! an abortive close. Then the loop that handles both and goes back to accept().

use std::io::ErrorKind;

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "the client goes away: b'' forever on Linux, ConnectionResetError on Windows, and the fix",
    "客户端断开：Linux 上无限收到 b''，Windows 上 ConnectionResetError，以及修正",
);

/// One turn of both communication loops: the client says `message`, the server answers it.
fn exchange(client: &Sock, conn: &Sock, message: &[u8]) -> LabResult {
    client.send(message)?;
    let data = conn.recv(1024)?;
    conn.send(&data.to_ascii_uppercase())?;
    client.recv(1024)?;
    Ok(())
}

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let kernel = t.kernel();

    t.section(
        "A server whose loop has no `if not data: break`, and a client",
        "服务端的循环里没有 `if not data: break`；一个客户端连上来",
    );
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let number = phone.local_addr()?;
    let client = t.side("client").tcp("phone")?;
    client.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    t.note(
        "The server's communication loop is the course's first version: \
         `while True: data = conn.recv(1024); print(data); conn.send(data.upper())`.",
        "服务端的通信循环是课程最初的写法：\
         `while True: data = conn.recv(1024); print(data); conn.send(data.upper())`。",
    );
    exchange(&client, &conn, b"hi")?;

    t.section(
        "Linux: the client program ends, and its kernel sends FIN",
        "Linux：客户端程序结束，它的内核发出 FIN",
    );
    let mark = t.wire_mark();
    client.close();
    t.note(
        "Whether the client calls close(), returns, or is killed with Ctrl-C, on Linux its kernel \
         closes the socket politely with FIN (it would send RST only if unread data were left).",
        "无论客户端是调用 close()、正常退出，还是被 Ctrl-C 杀掉，Linux 内核都会用 FIN 礼貌地关闭连接\
         （只有当接收队列里还有没读的数据时才会改发 RST）。",
    );
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("F.", 0)], &[(".", 0)])?;
        t.note(
            "On the wire: the client's FIN (F.), and the server's kernel's ACK of it. A FIN closes only the client's direction; the connection lives on until the server closes too.",
            "线上：客户端的 FIN（F.），以及服务端内核对它的确认。FIN 只关闭客户端发送的那个方向；在服务端也关闭之前，这条连接还在。",
        );
    }
    kernel.tcp_state(&conn, TcpState::CloseWait)?;
    t.note(
        "The server's end got the FIN: CLOSE_WAIT, the kernel waits for the server program to close.",
        "服务端这一头收到了 FIN：CLOSE_WAIT，内核在等服务端程序自己关闭。",
    );
    let waiting = kernel.recv_queue(&conn)?;
    t.expect(waiting == 0, "no data waiting after the FIN")?;
    t.note(
        "No bytes wait, just as in lab 03, where recv() blocked. This time the FIN has marked the \
         end of the stream.",
        "和实验 03 一样没有字节可读，那时 recv() 阻塞了。这一次 FIN 已经标出了数据流的结尾。",
    );

    t.section(
        "The loop without the check spins",
        "没有判断的循环空转起来",
    );
    const TURNS: usize = 3;
    for turn in 1..=TURNS {
        let data = conn.recv(1024)?;
        t.expect(data.is_empty(), "recv() returns b'' after the FIN")?;
        if turn == 1 {
            t.note(
                "recv() returns b'' at once instead of waiting: after a FIN there will never be more \
                 data, and b'' is how recv() says so. It says it again on every call.",
                "recv() 立刻返回 b''，不再等待：收到 FIN 之后再也不会有数据了，recv() 就用 b'' 告诉你。\
                 以后每次调用都一样。",
            );
        }
        let sent = conn.send(&data.to_ascii_uppercase())?;
        t.expect(sent == 0, "send(b'') returns 0")?;
        if turn == 1 {
            t.note(
                "b''.upper() is b'', and send(b'') returns 0 without an error (lab 03). \
                 Nothing stops the loop, so it goes round again.",
                "b''.upper() 还是 b''，send(b'') 返回 0，也不报错（见实验 03）。\
                 没有任何东西让循环停下，于是它又转了一圈。",
            );
        }
    }
    t.note(
        "netlab stops the loop after three turns. The course's server would go round forever, \
         as fast as the CPU allows (one core at 100%), printing b'' each time.",
        "netlab 转了三圈就停下了。课程里的服务端会永远转下去，CPU 有多快就转多快\
         （占满一个核），每一圈都打印一个 b''。",
    );
    conn.close();
    t.note(
        "netlab closes conn by hand; the spinning server never reaches this line. The same listening \
         phone serves the next parts.",
        "netlab 手动关闭了 conn；空转的服务端永远走不到这一行。接下来的部分继续用同一个监听的 phone。",
    );

    t.section(
        "Windows: a killed client resets the connection",
        "Windows：被杀掉的客户端会重置连接",
    );
    let client2 = t.side("client-2").tcp("phone")?;
    client2.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    exchange(&client2, &conn, b"hi again")?;
    client2.set_linger_zero()?;
    t.note(
        "This part reproduces what Windows does, on this Linux machine. When a client program is \
         killed on Windows, its connections are typically reset (RST) instead of closed (FIN). \
         Linux sends RST for a close() with SO_LINGER on and a linger time of 0 s: that is how \
         netlab makes the same packet here.",
        "这一部分在这台 Linux 机器上重现 Windows 的行为。在 Windows 上，客户端程序被杀掉时，\
         它的连接通常会被重置（RST），而不是正常关闭（FIN）。在 Linux 上，打开 SO_LINGER 并把\
         等待时间设为 0 秒，close() 就会发 RST：netlab 就用这个办法在这里发出同样的报文。",
    );
    let mark = t.wire_mark();
    client2.close();
    t.note(
        "RST: \"this connection is gone\", with no goodbye.",
        "RST 的意思是“这条连接没了”，连声再见都没有。",
    );
    if t.wire() {
        t.expect_segments(mark, ("client-2", "server"), &[("R.", 0)], &[])?;
        t.note(
            "On the wire: one segment with R (reset), and nothing comes back. The FIN above was acknowledged and left the server's end in CLOSE_WAIT; a reset is never acknowledged, and it ends the connection at both ends at once.",
            "线上：一个带 R（重置）标志的报文，而且没有任何回应。上面的 FIN 得到了确认，服务端那一头进入 CLOSE_WAIT；重置从来不会被确认，它让连接的两端同时结束。",
        );
    }
    kernel.tcp_state(&conn, TcpState::Close)?;
    t.note(
        "The reset removed the server's end at once: no CLOSE_WAIT this time, the socket is CLOSE.",
        "重置让服务端这一头立刻被拆掉：这次没有 CLOSE_WAIT，套接字直接是 CLOSE。",
    );
    match conn.recv(1024) {
        Err(err) if err.kind() == ErrorKind::ConnectionReset => {}
        other => {
            return t.expect(false, format!("recv() raises ECONNRESET, got {other:?}"));
        }
    }
    t.note(
        "recv() raises instead of returning. Linux names the error ECONNRESET (104). Windows \
         reports the same event as WSAECONNRESET (10054): Python shows \
         `ConnectionResetError: [WinError 10054] An existing connection was forcibly closed by the \
         remote host`. Without try/except the exception ends the server: the course's \"crash\". \
         `if not data: break` cannot help here: recv() never returned any data to test.",
        "recv() 没有返回，而是抛出异常。Linux 把这个错误叫 ECONNRESET（104）；Windows 把同一件事\
         报告为 WSAECONNRESET（10054），Python 显示为 \
         `ConnectionResetError: [WinError 10054] 远程主机强迫关闭了一个现有的连接。` \
         没有 try/except，这个异常就会让服务端程序退出：这就是课程里说的“崩溃”。\
         `if not data: break` 在这里帮不上忙：recv() 根本没有返回数据可供判断。",
    );
    conn.close();

    t.section(
        "The fixed loop handles both, and goes back to accept()",
        "修正后的循环两种情况都能处理，并回到 accept()",
    );
    let client3 = t.side("client-3").tcp("phone")?;
    client3.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    t.note(
        "The fixed communication loop: \
         `try: data = conn.recv(1024)` / `except ConnectionResetError: break` \
         `if not data: break` / `conn.send(data.upper())`, then `conn.close()`. \
         The course writes `except Exception:`; naming the error keeps real bugs visible.",
        "修正后的通信循环：\
         `try: data = conn.recv(1024)` / `except ConnectionResetError: break` \
         `if not data: break` / `conn.send(data.upper())`，最后 `conn.close()`。\
         课程里写的是 `except Exception:`；只捕获这一个错误，别的真正的 bug 才不会被吞掉。",
    );
    exchange(&client3, &conn, b"bye soon")?;
    client3.close();
    let data = conn.recv(1024)?;
    t.expect(data.is_empty(), "recv() returns b'' after the FIN")?;
    t.note(
        "A FIN (the Linux case): b'', so `if not data: break` leaves the loop.",
        "收到 FIN（Linux 的情况）：b''，于是 `if not data: break` 跳出循环。",
    );
    conn.close();

    let client4 = t.side("client-4").tcp("phone")?;
    client4.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    t.note(
        "Back in accept(): the link loop serves the next caller.",
        "回到 accept()：链接循环接待下一个来电。",
    );
    exchange(&client4, &conn, b"bye now")?;
    client4.set_linger_zero()?;
    client4.close();
    t.note(
        "A reset (the Windows case, reproduced again with SO_LINGER 0 s).",
        "一次重置（Windows 的情况，仍然用 SO_LINGER 0 秒来重现）。",
    );
    match conn.recv(1024) {
        Err(err) if err.kind() == ErrorKind::ConnectionReset => {}
        other => {
            return t.expect(false, format!("recv() raises ECONNRESET, got {other:?}"));
        }
    }
    t.note(
        "`except ConnectionResetError: break` leaves the loop; the server keeps running.",
        "`except ConnectionResetError: break` 跳出循环；服务端继续运行。",
    );
    conn.close();
    match phone.accept("conn") {
        Err(err) if is_blocked(&err) => {}
        other => {
            return t.expect(
                false,
                format!("accept() waits for the next caller, got {:?}", other.map(|_| ())),
            );
        }
    }
    t.note(
        "Both callers left, one each way, and the server is back in accept(), waiting for the next \
         one, as a server should. netlab stops here.",
        "两个来电以两种方式离开，服务端都挺了过来，回到 accept() 等下一个来电，这才是服务端该有的样子。\
         netlab 在这里结束。",
    );
    phone.close();
    Ok(())
}
