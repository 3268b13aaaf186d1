//! Lab 15: connect() raises, connect_ex() returns the error number.
//!
//! A port that is bound but never listened on has no one to answer a call: the kernel
//! answers the SYN with a RST, connect() raises ConnectionRefusedError and connect_ex()
//! returns 111 instead. Once the same socket listens, connect_ex() returns 0.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "connect() raises ConnectionRefusedError, connect_ex() returns 111 instead",
    "connect() 抛出 ConnectionRefusedError，connect_ex() 改为返回 111",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");
    let kernel = t.kernel();

    t.section(
        "A phone with a SIM card that is switched off: bound, not listening",
        "插了卡却没开机的手机：已绑定，没有监听",
    );
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    t.note(
        "The server takes a port from the kernel but never calls listen(). Keeping this socket open \
         reserves PORT, so no other program can start listening on it during the lab.",
        "服务端从内核拿到一个端口，却一直不调用 listen()。这个套接字一直开着，PORT 就被它占住，\
         实验期间别的程序无法在这个端口上监听。",
    );
    kernel.tcp_state(&phone, TcpState::Close)?;
    t.note(
        "CLOSE: a bound socket that is not listening. The kernel has no listener on PORT.",
        "CLOSE：一个绑定了地址但没有监听的套接字。内核在 PORT 上找不到监听者。",
    );
    let number = phone.local_addr()?;

    t.section("connect() raises an exception", "connect() 抛出异常");
    let dialer = client.tcp("phone")?;
    let mark = t.wire_mark();
    let refused = dialer.connect(&number);
    let errno = refused.as_ref().err().and_then(|e| e.raw_os_error());
    t.expect(
        errno == Some(libc::ECONNREFUSED),
        "connect() to a port with no listener fails with ECONNREFUSED",
    )?;
    t.note(
        "The client's SYN reached the server's kernel, which found no listener on PORT and answered \
         with a RST at once. connect() turns that RST into ConnectionRefusedError (errno ECONNREFUSED); \
         a program that does not catch it stops here with a traceback.",
        "客户端的 SYN 到达了服务端的内核，内核发现 PORT 上没有监听者，立刻回了一个 RST。\
         connect() 把这个 RST 变成 ConnectionRefusedError（errno ECONNREFUSED）；程序若不捕获它，就会在这里带着报错退出。",
    );
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("S", 0)], &[("R.", 0)])?;
        let seen = t.wire_since(mark);
        t.expect(
            seen.tcp_numbers("server", "client") == [("R.", 0, Some(1), 0)],
            "the reset acknowledges the SYN with ack 1",
        )?;
        t.note(
            "On the wire: the client's SYN, and the reset (R.) that answered it in place of a SYN-ACK. The reset acknowledges the SYN (ack 1) and says nobody takes calls on PORT.",
            "线上：客户端的 SYN，以及代替 SYN-ACK 回来的重置（R.）。这个重置确认了 SYN（ack 1），意思是 PORT 上没有人接电话。",
        );
    }
    kernel.tcp_state(&dialer, TcpState::Close)?;
    t.note(
        "The client's socket is back in CLOSE: the call never got connected.",
        "客户端的套接字回到了 CLOSE：这次呼叫根本没有接通。",
    );
    dialer.close();

    t.section(
        "connect_ex() returns the error number instead",
        "connect_ex() 改为返回错误码",
    );
    let dialer = client.tcp("phone")?;
    let mark = t.wire_mark();
    let code = dialer.connect_ex(&number)?;
    t.expect(
        code == libc::ECONNREFUSED && code == 111,
        "connect_ex() returns 111 (ECONNREFUSED) on Linux",
    )?;
    t.note(
        "The kernel refused again with a RST, but nothing is raised: connect_ex() returns the errno, \
         111, which the errno module names errno.ECONNREFUSED (0 would mean connected). The number \
         belongs to the system: Windows reports 10061 (WSAECONNREFUSED), macOS 61, so compare \
         with errno.ECONNREFUSED rather than with 111.",
        "内核同样回了 RST，这次却没有异常：connect_ex() 返回错误码 111，\
         errno 模块里叫 errno.ECONNREFUSED（接通时返回 0）。这个数字取决于操作系统：\
         Windows 上是 10061（WSAECONNREFUSED），macOS 上是 61，\
         所以应当和 errno.ECONNREFUSED 比较，而不是写死 111。",
    );
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("S", 0)], &[("R.", 0)])?;
        t.note(
            "The same two segments as for connect(): the difference between connect() and connect_ex() is only in how Python reports the reset.",
            "和 connect() 时一模一样的两个报文：connect() 与 connect_ex() 的区别只在于 Python 怎样报告这个重置。",
        );
    }
    let mark = t.wire_mark();    let sent = dialer.send(b"hello");
    t.expect(
        sent.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::EPIPE),
        "send() on a socket whose connect failed raises EPIPE",
    )?;
    t.note(
        "The course's client calls connect_ex() and never looks at the result. The failure then shows \
         up one step later as a puzzling BrokenPipeError (EPIPE) from send(): there is no connection to \
         send on. With connect_ex(), check the number: `if phone.connect_ex(addr) != 0: ...`.",
        "课程里的客户端调用了 connect_ex()，却从不看返回值。于是错误晚一步才出现：send() 抛出一个\
         让人摸不着头脑的 BrokenPipeError（EPIPE），因为根本没有可以发送的连接。用 connect_ex() 就要检查返回值：\
         `if phone.connect_ex(addr) != 0: ...`。",
    );
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[], &[])?;
        t.note(
            "And send() put nothing on the wire: the kernel refused it before any segment could leave.",
            "而 send() 在线上什么也没发出：内核在任何报文发出之前就拒绝了它。",
        );
    }
    dialer.close();

    t.section(
        "The server switches on: connect_ex() returns 0",
        "服务端开机：connect_ex() 返回 0",
    );
    phone.listen(5)?;
    kernel.tcp_state(&phone, TcpState::Listen)?;
    t.note(
        "Same socket, same PORT: listen() is what makes the kernel answer a SYN with SYN-ACK.",
        "还是同一个套接字、同一个 PORT：正是 listen() 让内核改用 SYN-ACK 来回应 SYN。",
    );
    let dialer = client.tcp("phone")?;
    let code = dialer.connect_ex(&number)?;
    t.expect(code == 0, "connect_ex() to a listening port returns 0")?;
    t.note(
        "0 means connected. As with connect(), the kernel gave this end an ephemeral port; \
         accept() below shows it as CLIENT_PORT_1.",
        "0 表示已接通。和 connect() 一样，内核给这一端分配了一个临时端口，\
         下面的 accept() 把它显示为 CLIENT_PORT_1。",
    );
    kernel.tcp_state(&dialer, TcpState::Established)?;
    let (conn, _) = phone.accept("conn")?;
    dialer.send(b"hello")?;
    conn.recv(1024)?;
    t.note(
        "Now send() has a connection to use, and the bytes arrive.",
        "现在 send() 有连接可用了，字节顺利到达。",
    );
    dialer.close();
    conn.close();
    phone.close();
    Ok(())
}
