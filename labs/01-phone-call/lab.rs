//! Lab 01: the one-shot phone call over TCP.
//!
//! The server buys a phone (socket), inserts the SIM (bind), switches it on (listen) and
//! answers one call (accept); the client dials (connect); each says one thing; both hang up.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "one phone call over TCP: dial, say one thing, hear the answer, hang up",
    "一次 TCP 通话：拨号、说一句、听回答、挂断",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");
    let kernel = t.kernel();

    t.section(
        "The server gets a phone, puts in a SIM card and switches it on",
        "服务端：买手机、插卡、开机",
    );
    let phone = server.tcp("phone")?;
    t.note(
        "Buy a phone: a new TCP socket. AF_INET means IPv4 addresses, SOCK_STREAM means TCP.",
        "买手机：新建一个 TCP 套接字。AF_INET 表示用 IPv4 地址，SOCK_STREAM 表示用 TCP。",
    );
    phone.bind(&Addr::loopback(0))?;
    t.note(
        "Insert the SIM: the address is the phone number. The course writes a fixed port such as 8080;\n\
         netlab asks for port 0 so the kernel picks a free one, and any number of labs can run at once.\n\
         The trace calls that port PORT (run with --raw to see the real number).",
        "插卡：地址就是电话号码。课程里写死了端口（如 8080）；netlab 请求端口 0，由内核挑一个空闲端口，\n\
         这样多个实验可以同时运行。轨迹里把这个端口记作 PORT（加 --raw 可看到真实数字）。",
    );
    phone.listen(5)?;
    t.note(
        "Switch it on: from now on the kernel itself answers handshakes on PORT, even before accept().",
        "开机：从现在起，即使程序还没调用 accept()，内核也会替它在 PORT 上完成握手。",
    );
    kernel.tcp_state(&phone, TcpState::Listen)?;

    t.section("The client dials", "客户端拨号");
    let dialer = client.tcp("phone")?;
    dialer.connect(&phone.local_addr()?)?;
    t.note(
        "Dial: connect() runs the three-way handshake (SYN, SYN-ACK, ACK) with the server's kernel.\n\
         The client never chose its own port: the kernel gave it an ephemeral one\n\
         (from net.ipv4.ip_local_port_range), shown as CLIENT_PORT_1.",
        "拨号：connect() 与服务端的内核完成三次握手（SYN、SYN-ACK、ACK）。\n\
         客户端没有自己选端口：内核从临时端口范围（net.ipv4.ip_local_port_range）里分了一个，记作 CLIENT_PORT_1。",
    );
    kernel.tcp_state(&dialer, TcpState::Established)?;
    let (waiting, _) = kernel.accept_queue(&phone)?;
    t.expect(waiting == 1, "the connection waits in the accept queue")?;
    t.note(
        "The call is already connected, yet the server program has not answered: the finished\n\
         connection waits in the listening socket's accept queue.",
        "电话已经接通，可服务端程序还没接听：建立好的连接正在监听套接字的 accept 队列里等着。",
    );

    t.section("The server answers", "服务端接电话");
    let (conn, _addr) = phone.accept("conn")?;
    t.note(
        "Answer: accept() takes the connection out of the queue and returns a new socket, conn, for\n\
         this one call; phone keeps listening for the next. addr is the caller's number: the\n\
         client's IP address and the port the kernel gave it.",
        "接电话：accept() 从队列里取出这条连接，返回一个新的套接字 conn，专门负责这通电话；\n\
         phone 继续等下一个来电。addr 是来电号码：客户端的 IP 和内核分配给它的端口。",
    );
    kernel.tcp_state(&conn, TcpState::Established)?;
    t.note(
        "A connection has two ends, each an ESTABLISHED socket: the client's phone and the server's conn.",
        "一条连接有两端，各是一个 ESTABLISHED 的套接字：客户端的 phone 和服务端的 conn。",
    );

    t.section("They talk", "通话");
    let message = b"hello netlab";
    dialer.send(message)?;
    t.note(
        "Speak: send() copies the bytes into the client's kernel and returns at once; it does not\n\
         wait for the server to read them. Only bytes can be sent: Python code writes msg.encode('utf-8').",
        "说话：send() 把字节交给客户端的内核就立即返回，并不等服务端读取。\n\
         只能发送字节：Python 里要写 msg.encode('utf-8')。",
    );
    let waiting = kernel.recv_queue(&conn)?;
    t.expect(
        waiting == message.len(),
        "the bytes wait in the server's receive queue",
    )?;
    t.note(
        "The bytes already wait in the server's receive queue, before the server program asks for them.",
        "服务端程序还没来取，这些字节已经在服务端的接收队列里等着了。",
    );
    let data = conn.recv(1024)?;
    t.note(
        "Listen: recv(1024) takes up to 1024 bytes from the receive queue.",
        "听：recv(1024) 从接收队列里最多取走 1024 个字节。",
    );
    conn.send(&data.to_ascii_uppercase())?;
    dialer.recv(1024)?;
    t.note(
        "The answer in upper case: the whole call was two send()s and two recv()s.",
        "回话是大写的：整通电话就是两次 send() 和两次 recv()。",
    );

    t.section("They hang up", "挂电话");
    let client_end = dialer.local_addr()?;
    let server_end = conn.local_addr()?;
    dialer.close();
    t.note(
        "Hang up: close() sends FIN, \"I have nothing more to say\".",
        "挂断：close() 发出 FIN，意思是“我没有话要说了”。",
    );
    kernel.tcp_state(&conn, TcpState::CloseWait)?;
    t.note(
        "The server's end saw the FIN and waits for its own program to close: CLOSE_WAIT.",
        "服务端这一头收到了 FIN，正等自己的程序关闭：CLOSE_WAIT。",
    );
    conn.close();
    phone.close();
    t.note(
        "The server hangs up this call and switches the phone off.",
        "服务端挂断这通电话，再把手机关机。",
    );
    kernel.tcp_state_between(&client_end, &server_end, Some(TcpState::TimeWait))?;
    t.note(
        "Both programs closed their sockets, yet the kernel keeps the client's end for a while in\n\
         TIME_WAIT, because the client hung up first. No fd is left; only the kernel's connection\n\
         table shows it (`ss -tan`, /proc/net/tcp). Lab 06 shows why this matters when a server\n\
         restarts.",
        "两边的程序都关闭了套接字，但因为客户端先挂断，内核还会把客户端这一头在 TIME_WAIT 里保留一段时间。\n\
         它已经没有文件描述符，只有内核的连接表（`ss -tan`、/proc/net/tcp）能看到。\n\
         实验 06 会讲它对重启服务端的影响。",
    );
    Ok(())
}
