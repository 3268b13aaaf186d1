//! Lab 10: a UDP echo server and client.
//!
//! No listen, no accept, no connect: the server binds and waits in recvfrom, which hands it
//! each datagram together with the sender's address, and sendto answers that address. Which
//! side starts first does not crash anything, but a datagram sent while nobody is bound to
//! the port is dropped, and nobody is told.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "a UDP echo: recvfrom tells who sent, sendto answers; a datagram sent too early is lost",
    "UDP 回显：recvfrom 告诉你谁发的，sendto 回给他；来得太早的数据报会丢失",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");

    t.section(
        "netlab finds a UDP port that nobody is bound to",
        "netlab 找一个没有人绑定的 UDP 端口",
    );
    let netlab = t.side("netlab");
    let probe = netlab.udp("probe")?;
    probe.bind(&Addr::loopback(0))?;
    let number = probe.local_addr()?;
    let guard = netlab.udp("guard")?;
    guard.bind(&elsewhere(&number))?;
    t.note(
        "The course hard-codes a port (8082), below the range the kernel draws from for sockets that \
         never call bind() (ip_local_port_range, 32768-60999 by default). PORT comes from that range, \
         so netlab keeps the number for itself with guard, on another loopback address where nothing \
         is ever sent. A port the kernel picks for such a socket must be free on every address, so \
         while guard holds PORT no client in this lab can be given PORT and end up sending to itself.",
        "课程把端口写死为 8082，它低于内核给“从不调用 bind() 的套接字”挑端口时所用的范围\
         （ip_local_port_range，默认 32768-60999）。PORT 正是从这个范围里来的，所以 netlab 用 guard \
         在另一个回环地址上占住这个号码，那个地址不会收到任何数据。内核替这种套接字挑的端口必须在\
         所有地址上都空闲，所以只要 guard 占着 PORT，本实验里就没有客户端会分到 PORT、自己发给自己。",
    );
    probe.close();
    t.note(
        "netlab closes probe: now nothing is bound to ('127.0.0.1', PORT), the address this lab \
         sends to. The server will bind it later, the way the course's server binds 8082 when it \
         starts.",
        "netlab 关闭 probe：此刻没有任何套接字绑定 ('127.0.0.1', PORT)，也就是本实验发送的目的地址。\
         稍后服务端再绑定它，就像课程里的服务端启动时绑定 8082。",
    );

    t.section(
        "The client starts first and sends before the server exists",
        "客户端先启动，在服务端出现之前就发送",
    );
    let sock = client.udp("client")?;
    t.note(
        "SOCK_DGRAM: a UDP socket. It needs no connect(): it can send as soon as it exists.",
        "SOCK_DGRAM 表示 UDP 套接字。它不需要 connect()，创建好就能发送。",
    );
    let early = b"anyone there?";
    let mark = t.wire_mark();
    let sent = sock.sendto(early, &number)?;
    t.expect(sent == early.len(), "sendto took the whole early datagram")?;
    t.note(
        "sendto returned: the kernel took the datagram and sent it to PORT at once. UDP has no \
         handshake, so nothing checks first whether anyone is bound there, and the client gets \
         no error. (A TCP client started before its server fails in connect() instead.)",
        "sendto 返回了：内核收下数据报并立即发往 PORT。UDP 没有握手，发送前不会检查那里有没有人绑定，\
         所以客户端没有收到任何错误。（TCP 客户端如果比服务端先启动，会在 connect() 时报错。）",
    );
    if t.wire() {
        let seen = t.wire_since(mark);
        t.expect(
            seen.udp_from("client") == [(13, 21)]
                && seen.port_unreachable("client") == 1
                && seen.len() == 2,
            "the early datagram went out and an ICMP port unreachable answered it",
        )?;
        t.note(
            "On the wire: the datagram went out, and the kernel answered it with an ICMP \"port unreachable\" message, since no socket was bound to PORT. That message did come back to the client's machine, but this unconnected socket is never told about it.",
            "线上：数据报发出去了，而内核因为没有套接字绑定 PORT，回了一条 ICMP“端口不可达”消息。这条消息确实回到了客户端所在的机器，但这个未连接的套接字永远不会得知。",
        );
    }

    t.section(
        "The server starts: the early datagram is not waiting for it",
        "服务端启动：先前那个数据报并没有在等它",
    );
    let srv = server.udp("server")?;
    srv.bind(&number)?;
    t.note(
        "The server binds PORT, and that is all: no listen(), no accept(). A bound UDP socket \
         receives datagrams from anyone.",
        "服务端绑定 PORT，仅此而已：没有 listen()，也没有 accept()。\
         绑定好的 UDP 套接字可以接收任何人发来的数据报。",
    );
    match srv.recvfrom(1024) {
        Err(err) if is_blocked(&err) => {}
        Err(err) => return Err(err.into()),
        Ok(_) => t.expect(false, "the early datagram was dropped, not queued")?,
    }
    t.note(
        "Nothing is queued: no socket was bound to ('127.0.0.1', PORT) when the early datagram \
         arrived, so the kernel dropped it. The kernel does not keep datagrams for a socket that \
         binds later; the datagram is simply lost. The course's server waits here until the next \
         datagram comes.",
        "接收队列是空的：那个早到的数据报抵达时没有套接字绑定 ('127.0.0.1', PORT)，内核就把它丢掉了。\
         内核不会替以后才绑定的套接字保存数据报，它就这样丢了。\
         课程里的服务端会一直在这里等下一个数据报。",
    );

    t.section(
        "Echo: recvfrom says who sent, sendto answers there",
        "回显：recvfrom 说明是谁发的，sendto 回给他",
    );
    sock.sendto(b"hello", &number)?;
    let (data, addr) = srv.recvfrom(1024)?;
    t.note(
        "recvfrom returns two things: one datagram and the sender's address. The client never \
         bound: the kernel gave it port CLIENT_PORT_1 at its first sendto.",
        "recvfrom 返回两样东西：一个数据报和发送方的地址。客户端从没调用 bind：\
         内核在它第一次 sendto 时分配了端口 CLIENT_PORT_1。",
    );
    srv.sendto(&data.to_ascii_uppercase(), &addr)?;
    t.note(
        "The server answers the address it was just given. There is no conn socket per client: \
         every sendto names its receiver.",
        "服务端把回复发到刚拿到的地址。这里没有为每个客户端单独准备的 conn 套接字：\
         每次 sendto 都要写明收件人。",
    );
    let (reply, from) = sock.recvfrom(1024)?;
    t.expect(
        reply == data.to_ascii_uppercase() && from == number,
        "the echo came back from PORT",
    )?;
    t.note(
        "The client learns who answered, too: the server's address.",
        "客户端也知道了是谁回的：服务端的地址。",
    );
    sock.sendto(b"one more", &number)?;
    let (data, addr) = srv.recvfrom(1024)?;
    srv.sendto(&data.to_ascii_uppercase(), &addr)?;
    sock.recvfrom(1024)?;
    t.note(
        "The echo loop: each turn is one sendto and one recvfrom on each side.",
        "回显循环：每一轮两边各做一次 sendto 和一次 recvfrom。",
    );

    t.section(
        "The server stops: what a client is told",
        "服务端停止：客户端会得到什么消息",
    );
    srv.close();
    let late = b"still there?";
    sock.sendto(late, &number)?;
    match sock.recvfrom(1024) {
        Err(err) if is_blocked(&err) => {}
        Err(err) => return Err(err.into()),
        Ok(_) => t.expect(false, "no answer reaches the unconnected client")?,
    }
    t.note(
        "sendto succeeded again, and recvfrom waits for an answer that will never come: on Linux the \
         course's client hangs here. On Windows it does not: Windows reports the ICMP \"port \
         unreachable\" that answers the datagram to this unconnected socket too, and recvfrom raises \
         ConnectionResetError: [WinError 10054] An existing connection was forcibly closed by the \
         remote host, which ends the course's client unless it catches it. Real UDP clients set a \
         timeout (settimeout) and send again.",
        "sendto 又成功了，而 recvfrom 在等一个永远不会来的回复：在 Linux 上，课程里的客户端会卡在这里。\
         在 Windows 上不会卡住：回应这个数据报的 ICMP“端口不可达”，Windows 也会报告给这个未连接的\
         套接字，recvfrom 抛出 ConnectionResetError: [WinError 10054]（中文系统上的说明是\
         “远程主机强迫关闭了一个现有的连接。”），课程里的客户端不捕获它就会退出。\
         实际的 UDP 客户端会设置超时（settimeout），然后重发。",
    );
    sock.close();
    t.note(
        "netlab ends the course's client here instead of letting it wait, and starts a second one \
         to show what a connected UDP socket is told.",
        "课程里的客户端会一直等下去，netlab 在这里把它关掉，再启动第二个客户端，\
         看看已连接的 UDP 套接字会得到什么消息。",
    );
    let checker = t.side("client-2").udp("client")?;
    checker.connect(&number)?;
    t.note(
        "connect() on a UDP socket sends nothing. It only fixes the destination, so send() and recv() \
         work without an address, and from now on the kernel reports errors to this socket.",
        "对 UDP 套接字调用 connect() 不会发送任何东西。它只是固定了目的地址，之后 send() 和 recv() \
         不用再写地址；从此内核也会把出错信息报告给这个套接字。",
    );
    let mark = t.wire_mark();
    checker.send(late)?;
    if t.wire() {
        let seen = t.wire_since(mark);
        t.expect(
            seen.udp_from("client-2") == [(12, 20)]
                && seen.port_unreachable("client-2") == 1
                && seen.len() == 2,
            "the datagram went out and an ICMP port unreachable answered it",
        )?;
        t.note(
            "On the wire: the datagram, and the ICMP \"port unreachable\" that answered it, as before. This time the socket is connected to that address, so its kernel keeps the message as the socket's pending error.",
            "线上：数据报，以及回应它的 ICMP“端口不可达”，和前面一样。这一次套接字连接的正是那个地址，所以内核把这条消息记成了这个套接字待报告的错误。",
        );
    }
    let refused = match checker.recv(1024) {
        Err(err) => err.kind() == std::io::ErrorKind::ConnectionRefused,
        Ok(_) => false,
    };
    t.expect(
        refused,
        "the connected UDP socket hears ConnectionRefusedError",
    )?;
    t.note(
        "Linux answered the datagram with an ICMP \"port unreachable\" message, and this connected \
         socket gets it as ConnectionRefusedError on its next call. An unconnected socket (the \
         client above) is never told, unless it asks for IP_RECVERR: it can only wait.",
        "Linux 用一条 ICMP“端口不可达”消息回应了这个数据报，这个已连接的套接字在下一次调用时\
         收到了 ConnectionRefusedError。未连接的套接字（上面的 client）不会得到通知（除非设置了 \
         IP_RECVERR），只能干等。",
    );
    checker.close();
    guard.close();
    Ok(())
}

/// The same port on 127.0.0.2: a loopback address this lab never sends to.
fn elsewhere(addr: &Addr) -> Addr {
    Addr::Inet(std::net::SocketAddr::from((
        [127, 0, 0, 2],
        addr.port().unwrap_or(0),
    )))
}
