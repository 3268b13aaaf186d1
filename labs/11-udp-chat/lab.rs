//! Lab 11: the QQ-style chat over UDP.
//!
//! Three clients send to one server socket. The server never accepts anything: each
//! recvfrom hands it one datagram and the address of whoever sent it, and its sendto puts the
//! reply back to exactly that address.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "a UDP chat: three clients, one server socket, each reply back to its sender",
    "UDP 聊天：三个客户端、一个服务端套接字，每条回复都回到发送者",
);

/// Who chats, and what each says first.
const CLIENTS: [(&str, &[u8]); 3] = [
    ("client-1", b"hi, it is Ann"),
    ("client-2", b"hello from Bo"),
    ("client-3", b"Cy here, anyone?"),
];

pub fn run(t: &Trace) -> LabResult {
    let kernel = t.kernel();

    t.section("The server starts", "服务端启动");
    let server = t.side("server").udp("sock")?;
    server.bind(&Addr::loopback(0))?;
    let number = server.local_addr()?;
    t.note(
        "One bound UDP socket is the whole server: it will talk to every client through it.",
        "一个绑定好的 UDP 套接字就是整个服务端：它要通过这一个套接字和所有客户端说话。",
    );

    t.section(
        "Three clients send, before the server reads anything",
        "三个客户端先后发送，服务端一个都还没读",
    );
    let mut chatters = Vec::new();
    for (i, (side, message)) in CLIENTS.into_iter().enumerate() {
        let sock = t.side(side).udp("qq")?;
        sock.sendto(message, &number)?;
        if i == 0 {
            t.note(
                "No connect(): the client just sends to the server's address. Its first sendto\n\
                 made the kernel give it a port, CLIENT_PORT_1.",
                "没有 connect()：客户端直接发往服务端的地址。第一次 sendto 时内核给它分配了端口 CLIENT_PORT_1。",
            );
        }
        chatters.push((sock, message));
    }
    let next = kernel.recv_queue(&server)?;
    t.expect(next == CLIENTS[0].1.len(), "the first datagram is next")?;
    t.note(
        "All three datagrams wait in the one server socket's receive queue, in arrival order.\n\
         For UDP, FIONREAD tells only the size of the next datagram: client-1's.",
        "三个数据报按到达顺序排在同一个服务端套接字的接收队列里。\n\
         对 UDP 来说，FIONREAD 只报告下一个数据报的大小，也就是 client-1 那个。",
    );

    t.section(
        "The server reads each message and answers its sender",
        "服务端逐条读取，并回复各自的发送者",
    );
    let mut seen = Vec::new();
    for i in 0..CLIENTS.len() {
        let (message, addr) = server.recvfrom(1024)?;
        if i == 0 {
            t.note(
                "recvfrom gives one datagram and its sender's address. There is no accept() and\n\
                 no conn socket: this address is all the server knows about the client.",
                "recvfrom 给出一个数据报和它的发送方地址。没有 accept()，也没有 conn 套接字：\n\
                 服务端对这个客户端的全部了解就是这个地址。",
            );
        }
        let mut reply = b"re: ".to_vec();
        reply.extend_from_slice(&message);
        server.sendto(&reply, &addr)?;
        if i == 0 {
            t.note(
                "The reply goes to the address recvfrom returned, so it reaches the right client.",
                "回复发往 recvfrom 返回的地址，所以它会送到正确的客户端。",
            );
        }
        seen.push(addr);
    }
    let distinct = seen
        .iter()
        .enumerate()
        .all(|(i, a)| !seen[..i].contains(a));
    t.expect(distinct, "three clients, three addresses")?;
    t.note(
        "Three datagrams, three different addresses, one socket. The course's chat server prints\n\
         the address, so whoever types the reply knows whom they answer.",
        "三个数据报，三个不同的地址，一个套接字。课程里的聊天服务端会把地址打印出来，\n\
         这样回复的人才知道自己在回复谁。",
    );

    t.section(
        "Each client gets its own reply",
        "每个客户端收到的都是给自己的回复",
    );
    for (sock, message) in chatters.iter().rev() {
        let (reply, from) = sock.recvfrom(1024)?;
        t.expect(
            reply.ends_with(message) && from == number,
            "each client got the reply to its own message",
        )?;
    }
    t.note(
        "The clients read in reverse order, and still each finds the reply to its own message:\n\
         every client socket has its own receive queue, and the server addressed each reply.",
        "客户端按相反的顺序读取，每个仍然拿到回复自己的那条：\n\
         每个客户端套接字都有自己的接收队列，而服务端给每条回复都写明了地址。",
    );

    t.section("The chat goes on", "聊天继续");
    let (bo, _) = &chatters[1];
    bo.sendto(b"how are you?", &number)?;
    let (message, addr) = server.recvfrom(1024)?;
    t.expect(addr == seen[1], "client-2 still has the same address")?;
    let mut reply = b"re: ".to_vec();
    reply.extend_from_slice(&message);
    server.sendto(&reply, &addr)?;
    bo.recvfrom(1024)?;
    t.note(
        "client-2 keeps its address (CLIENT_PORT_2) for as long as its socket is open, so the\n\
         server recognises it; nothing was set up for it and nothing needs tearing down.",
        "只要 client-2 的套接字还开着，它的地址（CLIENT_PORT_2）就不变，所以服务端认得它；\n\
         为它什么都没建立，也就没有什么需要拆除。",
    );
    for (sock, _) in chatters {
        sock.close();
    }
    server.close();
    t.note(
        "The clients leave and the server stops; no FIN, no TIME_WAIT: UDP has no connection to end.",
        "客户端离开、服务端停止；没有 FIN，也没有 TIME_WAIT：UDP 没有需要结束的连接。",
    );
    Ok(())
}
