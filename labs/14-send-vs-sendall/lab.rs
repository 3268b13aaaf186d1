//! Lab 14: send() may take only part of the data; sendall() keeps going until all is sent.
//!
//! Small buffers and a server that does not read: a non-blocking send() of 1 MiB returns
//! after the kernel took what fits. The kernel's queues show where those bytes are. Then
//! sendall() sends the rest: it blocks while the buffers are full and finishes once the
//! server reads.
//!
//! How many bytes fit depends on the machine (buffer accounting, loopback MTU, kernel
//! version), so those figures show as names (SENT, OUTQ, INQ, TAKEN, REST; --raw shows the
//! numbers) and the lab checks the relations it teaches with t.expect.

use netlab::prelude::*;

/// The buffer size both sides ask for; Linux reports twice this.
const ASKED: usize = 4096;
/// The message: far more than both buffers hold.
const MESSAGE: usize = 1 << 20;

/// What the non-blocking send() took.
const SENT: Figure = Figure::new("SENT");
/// What waits in the client's send queue (the same bytes are not yet transmitted).
const OUTQ: Figure = Figure::new("OUTQ");
/// What waits in the server's receive queue.
const INQ: Figure = Figure::new("INQ");
/// What sendall() handed the kernel before it blocked.
const TAKEN: Figure = Figure::new("TAKEN");
/// What was left for sendall() after send().
const REST: Figure = Figure::new("REST");

pub const TITLE: Text = Text::fixed(
    "send() may take only part of the data; sendall() keeps going until all is sent",
    "send() 可能只发出一部分数据；sendall() 会一直发，直到全部发完",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");
    let kernel = t.kernel();

    t.section(
        "Small buffers, set before the connection exists",
        "在建立连接之前把缓冲区调小",
    );
    let phone = server.tcp("phone")?;
    phone.set_buffer_size(false, ASKED)?;
    let rcvbuf = phone.get_buffer_size(false)?;
    t.expect(
        rcvbuf == 2 * ASKED,
        "Linux reports twice the SO_RCVBUF that was asked for",
    )?;
    t.note(
        "Asked for 4096, got 8192: Linux doubles the request, because it counts its own bookkeeping\n\
         for every packet against the buffer too (see socket(7)). netlab checks the doubling.\n\
         Set before listen(): each accepted connection inherits it, and TCP fixes its window\n\
         scaling during the handshake.",
        "要了 4096，得到 8192：Linux 会把请求的值翻倍，因为每个数据包的内核管理开销\n\
         也要算在缓冲区里（见 socket(7)）。netlab 会检查这个翻倍。要在 listen() 之前设置：\n\
         之后 accept 出来的连接都会继承它，而且 TCP 在握手时就定下了窗口的缩放比例。",
    );
    phone.bind(&Addr::loopback(0))?;
    phone.listen(1)?;
    let mut dialer = client.tcp("phone")?;
    dialer.set_buffer_size(true, ASKED)?;
    let sndbuf = dialer.get_buffer_size(true)?;
    t.expect(
        sndbuf == 2 * ASKED,
        "Linux reports twice the SO_SNDBUF that was asked for",
    )?;
    t.note(
        "The client's send buffer: doubled the same way.",
        "客户端的发送缓冲区：同样被翻倍。",
    );
    dialer.connect(&phone.local_addr()?)?;
    let (conn, _) = phone.accept("conn")?;
    conn.get_buffer_size(false)?;
    t.note(
        "conn inherited the listener's receive buffer. The server will not read for a while.",
        "conn 继承了监听套接字的接收缓冲区。服务端接下来暂时不读数据。",
    );

    t.section(
        "A non-blocking send() takes only part of 1 MiB",
        "非阻塞的 send() 只收下 1 MiB 中的一部分",
    );
    let data = netlab::memory::filled(b'x', MESSAGE, "the 1 MiB message")?;
    dialer.setblocking(false);
    let sent = t.named(SENT, || dialer.send(&data))?;
    t.expect(
        sent > 0 && sent < data.len(),
        "a non-blocking send() of 1 MiB takes only part of it",
    )?;
    let sent_shown = t.named_value(SENT, sent);
    t.note(
        format!(
            "data is 1048576 bytes; send() returned {sent_shown}, fewer than that: the kernel took only what fits\n\
             in the buffers and send() reports the count. The other bytes were not sent at all: a program that\n\
             ignores the count loses them. A blocking send() on Linux would wait for room instead, but with\n\
             setblocking(False) or a timeout it returns early like this. (The count depends on the machine:\n\
             netlab shows it as SENT and checks 0 < SENT < 1048576; --raw shows the number.)"
        ),
        format!(
            "data 有 1048576 字节；send() 返回 {sent_shown}，比这少：内核只收下了缓冲区放得下的部分，\n\
             send() 报告的就是这个数。其余字节根本没有发出去：不看返回值的程序就把它们弄丢了。\n\
             Linux 上阻塞的 send() 会等到有空间为止，但在 setblocking(False) 或设置了超时的情况下，\n\
             它就会像这样提前返回。（这个数因机器而异：netlab 记作 SENT，\n\
             并检查 0 < SENT < 1048576；加 --raw 可看到真实数字。）"
        ),
    );
    let outq = t.named(OUTQ, || kernel.send_queue(&dialer))?;
    let unsent = t.named(OUTQ, || kernel.unsent_queue(&dialer))?;
    t.expect(
        unsent == outq,
        "once the server acknowledged what reached it, the whole send queue is untransmitted",
    )?;
    let outq_shown = t.named_value(OUTQ, outq);
    t.note(
        format!(
            "The client's kernel still holds {outq_shown} of those bytes and has not even transmitted them: the\n\
             server's kernel has no room left to offer (its receive window is used up), so the client's\n\
             kernel must wait (TCP flow control). Everything that did go out has been acknowledged."
        ),
        format!(
            "客户端内核里还压着其中的 {outq_shown} 字节，而且根本还没发出去：服务端的内核已经没有空间可以提供\n\
             （它的接收窗口用完了），客户端的内核只能等着（TCP 流量控制）。已经发出去的部分都得到了确认。"
        ),
    );
    let inq = t.named(INQ, || kernel.recv_queue(&conn))?;
    t.expect(
        inq + outq == sent,
        "every byte send() took is in the server's receive queue or the client's send queue",
    )?;
    t.expect(
        inq > 0 && inq <= rcvbuf,
        "the server's receive queue holds no more than its receive buffer",
    )?;
    let sum = format!(
        "{} + {outq_shown} = {sent_shown}",
        t.named_value(INQ, inq)
    );
    t.note(
        format!(
            "{sum} (netlab checks it): every byte send() took is either waiting in the\n\
             server's receive queue or still in the client's send queue. The server's part is less than\n\
             its 8192-byte buffer: the kernel keeps part of the buffer for its own bookkeeping."
        ),
        format!(
            "{sum}（netlab 会检查）：send() 收下的每个字节，要么在服务端的接收队列里等着，\n\
             要么还在客户端的发送队列里。服务端那部分比它 8192 字节的缓冲区小：内核要留一部分给自己记账用。"
        ),
    );

    t.section(
        "sendall() keeps going until everything is sent",
        "sendall() 一直发，直到全部发完",
    );
    dialer.setblocking(true);
    let rest = &data[sent..];
    let mut sending = t.named(TAKEN, || dialer.sendall_start(rest))?;
    t.expect(
        !sending.is_done(),
        "sendall() blocks while the server does not read",
    )?;
    let rest_shown = t.named_value(REST, rest.len());
    let taken_shown = t.named_value(TAKEN, sending.taken());
    t.note(
        format!(
            "The program now sends the rest, data[sent:], {rest_shown} bytes, with sendall(): a loop of send()\n\
             calls that waits whenever the buffer is full. The server still reads nothing, so after the\n\
             kernel took {taken_shown} more bytes the buffers are full again and sendall() waits."
        ),
        format!(
            "程序现在用 sendall() 发送剩下的 data[sent:]，共 {rest_shown} 字节：sendall() 就是一个循环调用 send()\n\
             的过程，缓冲区满了就等。服务端仍然一个字节都不读，所以内核又收下 {taken_shown} 字节后缓冲区再次装满，\n\
             sendall() 只能等待。"
        ),
    );
    let got = conn.recv_waitall(MESSAGE, Some(&mut sending))?;
    t.note(
        "The server finally reads, all 1048576 bytes at once: MSG_WAITALL makes recv() wait until that\n\
         many have arrived. Each time its receive queue empties, its kernel lets the client's kernel\n\
         transmit again, and the blocked sendall() hands over more of the rest.",
        "服务端终于开始读，一次读全部 1048576 字节：MSG_WAITALL 让 recv() 一直等到这么多字节都到齐。\n\
         每当它的接收队列被读空，它的内核就允许客户端的内核继续发送，\n\
         阻塞中的 sendall() 也就能再交出一部分数据。",
    );
    let finished = t.named(REST, || sending.finish())?;
    t.expect(
        finished == rest.len(),
        "sendall() returns after the kernel took every byte",
    )?;
    t.expect(
        got == data,
        "the server received exactly the 1048576 bytes sent",
    )?;
    t.note(
        format!(
            "sendall() returned None when the kernel had taken its last byte, while the server was still\n\
             reading (the line above). Nothing was lost: {sent_shown} bytes from send() plus {rest_shown} from\n\
             sendall() are the 1048576 the server got. Calling sendall(data) at the start does both\n\
             steps in one call."
        ),
        format!(
            "sendall() 在内核收下最后一个字节时返回 None，那时服务端还在读（上一行）。没有丢任何字节：\n\
             send() 发出的 {sent_shown} 字节加上 sendall() 发出的 {rest_shown} 字节，正是服务端收到的 1048576 字节。\n\
             一开始就调用 sendall(data)，一次调用就能完成这两步。"
        ),
    );

    t.section("Hang up", "挂断");
    dialer.close();
    conn.recv(1024)?;
    conn.close();
    phone.close();
    Ok(())
}
