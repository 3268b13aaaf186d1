//! Lab 02: the communication loop and the link loop.
//!
//! One connection carries many messages (the communication loop); when that caller hangs up,
//! the server goes back to accept() and serves the next one (the link loop). The second
//! caller's handshake finished long before: it waited in the accept queue.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "the communication loop and the link loop: many messages, then the next caller",
    "通信循环与链接循环：一条连接收发多次，再接下一个来电",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let kernel = t.kernel();

    t.section("The server switches on", "服务端开机");
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let number = phone.local_addr()?;

    t.section("Link loop, first turn: the first caller", "链接循环第一轮：第一个来电");
    let first = t.side("client").tcp("phone")?;
    first.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    t.note(
        "The link loop is `while True: conn, addr = phone.accept()` around everything below.",
        "链接循环就是套在下面所有代码外面的 `while True: conn, addr = phone.accept()`。",
    );

    t.section("Communication loop: one connection, many messages", "通信循环：一条连接，多次收发");
    for (i, message) in [&b"ping 1"[..], b"ping 2", b"ping 3"].into_iter().enumerate() {
        first.send(message)?;
        let data = conn.recv(1024)?;
        conn.send(&data.to_ascii_uppercase())?;
        first.recv(1024)?;
        if i == 0 {
            t.note(
                "Each turn of `while True:` on both sides is one send and one recv; the connection stays open.",
                "两边 `while True:` 的每一轮都是一次 send 加一次 recv；连接一直保持打开。",
            );
        }
    }

    t.section(
        "A second caller dials while the server is busy with the first",
        "服务端还在忙第一个来电时，第二个客户端拨号",
    );
    let second = t.side("client-2").tcp("phone")?;
    second.connect(&number)?;
    t.note(
        "connect() returned: the handshake is complete, although the server program is still inside\n\
         its communication loop with the first caller and has not called accept().",
        "connect() 已经返回：握手完成了，尽管服务端程序还在和第一个客户端通信循环，并没有调用 accept()。",
    );
    kernel.tcp_state(&second, TcpState::Established)?;
    let (waiting, _) = kernel.accept_queue(&phone)?;
    t.expect(waiting == 1, "the second caller waits in the accept queue")?;
    t.note(
        "The kernel finished the handshake by itself and parked the connection in the accept queue.",
        "内核自己完成了握手，并把连接放进 accept 队列里排队。",
    );
    first.send(b"ping 4")?;
    let data = conn.recv(1024)?;
    conn.send(&data.to_ascii_uppercase())?;
    first.recv(1024)?;
    t.note(
        "Meanwhile the first call goes on as before: one connection at a time in this server.",
        "与此同时第一通电话照常进行：这个服务端一次只服务一条连接。",
    );

    t.section("The first caller hangs up", "第一个客户端挂断");
    first.close();
    conn.recv(1024)?;
    t.note(
        "b'' means the caller hung up (FIN). The loop checks `if not data: break`, leaves the\n\
         communication loop and closes this connection. Lab 04 shows what happens without that check.",
        "b'' 表示对方挂断了（FIN）。循环里检查 `if not data: break`，跳出通信循环并关闭这条连接。\n\
         实验 04 会演示少了这个判断会怎样。",
    );
    conn.close();

    t.section(
        "Link loop, second turn: accept() returns the waiting caller at once",
        "链接循环第二轮：accept() 立即拿到排队的来电",
    );
    let (waiting, _) = kernel.accept_queue(&phone)?;
    t.expect(waiting == 1, "the second caller still waits in the accept queue")?;
    let (conn2, _) = phone.accept("conn")?;
    t.note(
        "No waiting: the connection was already in the accept queue, so accept() returned it at once.",
        "不用等：连接早已在 accept 队列里，accept() 立刻就把它返回了。",
    );
    kernel.accept_queue(&phone)?;
    second.send(b"hello from the second caller")?;
    let data = conn2.recv(1024)?;
    conn2.send(&data.to_ascii_uppercase())?;
    second.recv(1024)?;

    t.section("Hang up and switch off", "挂断并关机");
    second.close();
    conn2.recv(1024)?;
    conn2.close();
    phone.close();
    t.note(
        "A real server would go round the link loop again and wait in accept() for the next caller.",
        "真正的服务端会再回到链接循环，在 accept() 里等下一个来电。",
    );
    Ok(())
}
