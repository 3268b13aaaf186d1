//! Lab 03: the user presses Enter on an empty line.
//!
//! The course client sends `input().strip()`. An empty line becomes `send(b'')`, which returns
//! 0 and puts nothing on the wire; the server's recv() waits for bytes that never come and the
//! client's recv() waits for an answer that never comes. The fix: skip empty input.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "empty input: send(b'') sends nothing, and both sides wait for each other",
    "空输入：send(b'') 什么也没发，两边互相干等",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");
    let kernel = t.kernel();

    t.section(
        "The server from lab 02 is running; a client connects",
        "实验 02 的服务端在运行，一个客户端连上来",
    );
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let dialer = client.tcp("phone")?;
    dialer.connect(&phone.local_addr()?)?;
    let (conn, _) = phone.accept("conn")?;
    t.note(
        "The client loop is `msg = input('>>: ').strip()`, then `phone.send(msg.encode('utf-8'))`, \
         then `phone.recv(1024)`. The server loop is `conn.recv(1024)`, then `conn.send(data.upper())`.",
        "客户端的循环是：`msg = input('>>: ').strip()`，然后 `phone.send(msg.encode('utf-8'))`，\
         再 `phone.recv(1024)`。服务端的循环是：`conn.recv(1024)`，然后 `conn.send(data.upper())`。",
    );

    t.section("The user types hello", "用户输入 hello");
    let mark = t.wire_mark();
    dialer.send(b"hello")?;
    t.expect_segments(mark, ("client", "server"), &[("P.", 5)], &[(".", 0)])?;
    let data = conn.recv(1024)?;
    conn.send(&data.to_ascii_uppercase())?;
    dialer.recv(1024)?;
    t.note(
        "One turn of both loops: five bytes there, five bytes back.",
        "两边的循环各转了一圈：发过去 5 个字节，回来 5 个字节。",
    );
    let before = kernel.bytes_sent(&dialer)?;
    t.expect(before == 5, "only the five bytes of hello went on the wire")?;
    t.note(
        "The kernel counts every data byte this socket has put on the wire: so far only hello.",
        "内核记着这个套接字实际发到线路上的每个数据字节：到目前为止只有 hello。",
    );

    t.section(
        "The user presses Enter on an empty line",
        "用户直接按了回车（空行）",
    );
    let mark = t.wire_mark();
    let sent = dialer.send(b"")?;
    t.expect(sent == 0, "send(b'') returns 0")?;
    t.note(
        "strip() turned the empty line (or a line of spaces) into '', so the client sends b''. \
         send() returns 0: there were 0 bytes to take. No error tells the program anything went wrong.",
        "strip() 把空行（或全是空格的一行）变成了 ''，于是客户端发送 b''。\
         send() 返回 0：本来就没有字节可交给内核。程序得不到任何出错的提示。",
    );
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[], &[])?;
        t.note(
            "No wire line follows send(b''): not a segment, not even an empty one. The send(b'hello') above put a 5-byte data segment on the wire; this one put nothing there.",
            "send(b'') 下面没有任何 wire 行：没有报文，连空报文也没有。上面的 send(b'hello') 在线上发出了一个 5 字节的数据报文，这一次什么也没有。",
        );
    }
    let after = kernel.bytes_sent(&dialer)?;
    t.expect(after == before, "send(b'') put no data on the wire")?;
    t.note(
        "Unchanged: TCP has no empty message to send, so nothing at all went onto the wire.",
        "没有变化：TCP 没有“空消息”可发，线路上什么也没有出现。",
    );
    let waiting = kernel.recv_queue(&conn)?;
    t.expect(waiting == 0, "the server's receive queue is empty")?;
    t.note(
        "The server's receive queue is empty: there is nothing for its recv() to return.",
        "服务端的接收队列是空的：它的 recv() 没有任何东西可以返回。",
    );

    t.section(
        "Both sides wait for each other",
        "两边互相等待",
    );
    match conn.recv(1024) {
        Err(err) if is_blocked(&err) => {}
        other => {
            return t.expect(false, format!("the server's recv() blocks, got {other:?}"));
        }
    }
    t.note(
        "The server's loop is back in recv(1024): it waits for at least one byte, which never comes. \
         The course program would hang here.",
        "服务端的循环又回到了 recv(1024)：它要等至少一个字节，可这个字节永远不会来。\
         课程里的程序会一直卡在这里。",
    );
    match dialer.recv(1024) {
        Err(err) if is_blocked(&err) => {}
        other => {
            return t.expect(false, format!("the client's recv() blocks, got {other:?}"));
        }
    }
    t.note(
        "The client waits for the answer to a message that never left. Each side waits for the \
         other, forever: the course program hangs here too, and the prompt >>: never comes back.",
        "客户端在等一条回复，而它的消息根本没有发出去。两边都在等对方，永远等下去：\
         课程里的客户端也卡在这里，>>: 提示符再也不会出现。",
    );

    kernel.tcp_state(&conn, TcpState::Established)?;
    kernel.tcp_state(&dialer, TcpState::Established)?;
    t.note(
        "Nothing is broken: both ends are still ESTABLISHED. The programs are simply both waiting.",
        "连接没有任何问题：两端都还是 ESTABLISHED。只是两个程序都在等。",
    );

    t.section(
        "The user gives up and stops the client (Ctrl-C)",
        "用户放弃，按 Ctrl-C 停掉客户端",
    );
    dialer.close();
    t.note(
        "When a program ends, the kernel closes its sockets: FIN goes to the server.",
        "程序结束时，内核会关闭它的套接字：FIN 发给了服务端。",
    );
    let data = conn.recv(1024)?;
    t.expect(data.is_empty(), "the server's recv() returns b'' after the FIN")?;
    t.note(
        "The server's recv() (the one blocking above) wakes up with b''. This server checks \
         `if not data: break`, closes conn and goes back to accept(). Lab 04 shows the server \
         without that check.",
        "服务端的 recv()（就是上面阻塞的那个）被唤醒，返回 b''。这个服务端检查了 `if not data: break`，\
         于是关闭 conn，回到 accept()。实验 04 演示少了这个判断的服务端。",
    );
    conn.close();

    t.section(
        "The fix: the client skips empty input",
        "修正：客户端跳过空输入",
    );
    let fixed = client.tcp("phone")?;
    fixed.connect(&phone.local_addr()?)?;
    let (conn, _) = phone.accept("conn")?;
    t.note(
        "The fixed client checks right after input(): `if not msg: continue`. An empty line goes \
         straight back to the prompt and never reaches send().",
        "修正后的客户端在 input() 之后立刻检查：`if not msg: continue`。空行直接回到提示符，\
         根本不会走到 send()。",
    );
    let before = kernel.bytes_sent(&fixed)?;
    t.note(
        "The user presses Enter on an empty line again. The fixed client skips it: no call at all, \
         and the kernel's counter of data sent on this connection is still 0.",
        "用户又按了一次空回车。修正后的客户端直接跳过：一个调用都没有，\
         内核记录的这条连接已发送数据量仍然是 0。",
    );
    t.expect(before == 0, "the fixed client sent nothing for the empty line")?;
    fixed.send(b"hello again")?;
    t.note(
        "Then the user types a real line: the exchange works as before.",
        "接着用户输入了一行真正的内容：收发和之前一样正常。",
    );
    let data = conn.recv(1024)?;
    conn.send(&data.to_ascii_uppercase())?;
    let answer = fixed.recv(1024)?;
    t.expect(answer == b"HELLO AGAIN", "the answer comes back")?;
    t.note(
        "Both loops turned once more: nobody is stuck.",
        "两边的循环又各转了一圈：谁也没有卡住。",
    );

    t.section("Hang up and switch off", "挂断并关机");
    fixed.close();
    conn.recv(1024)?;
    conn.close();
    phone.close();
    Ok(())
}
