//! Lab 17: the three-way handshake and the four-way close.
//!
//! connect() and its three segments, data and the ACK that answers it, a close by the client
//! (FIN, ACK: FIN_WAIT2 and CLOSE_WAIT) and then by the server (FIN, ACK: TIME_WAIT on the
//! client, the server's end gone), a half-close with shutdown(SHUT_WR) after which the server
//! still sends and is heard, and a close by the server, which then keeps the TIME_WAIT. Without
//! --wire the trace shows the TCP states each step leaves; with it, the segments themselves,
//! and every note about a segment is checked against the capture first.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "the three-way handshake and the four-way close: segments, TCP states, half-close, TIME_WAIT",
    "三次握手与四次挥手：报文、TCP 状态、半关闭与 TIME_WAIT",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");
    let kernel = t.kernel();

    t.section("The server listens", "服务端开机监听");
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let number = phone.local_addr()?;
    kernel.tcp_state(&phone, TcpState::Listen)?;
    if t.wire() {
        t.note(
            "From here on each wire line is one packet that the lab's sockets put on lo, captured in netlab's own network namespace and written much as tcpdump writes it: who sent it to whom, its flags (S for SYN, . for ACK, P for PUSH, F for FIN, R for RST), its sequence number and acknowledgement number, and how many bytes of data it carries. The numbers count from each side's first number, which the kernel picks at random, so the SYN shows as seq 0 (Wireshark counts the same way; tcpdump prints the real, random numbers on the SYN and SYN-ACK and counts from them after that).",
            "从这里开始，每一行 wire 就是本实验的套接字在 lo 上发出的一个报文，它是在 netlab 自己的网络命名空间里抓到的，写法和 tcpdump 基本一样：谁发给谁，标志位（S 表示 SYN，. 表示 ACK，P 表示 PUSH，F 表示 FIN，R 表示 RST），序列号和确认号，以及携带了多少字节的数据。序号从每一方的初始序号算起（初始序号由内核随机选取），所以 SYN 显示为 seq 0（Wireshark 也这样算；tcpdump 在 SYN 和 SYN-ACK 上显示真实的随机序号，之后才从它们算起）。",
        );
    } else {
        t.note(
            "This run shows the TCP state each step leaves behind. Run it with --wire (netlab run 17 --wire) to see the segments themselves as well.",
            "这一次运行只显示每一步之后的 TCP 状态。加上 --wire（netlab run 17 --wire）再运行，还能看到报文本身。",
        );
    }

    t.section("connect(): the three-way handshake", "connect()：三次握手");
    let phone1 = client.tcp("phone")?;
    let mark = t.wire_mark();
    phone1.connect(&number)?;
    if t.wire() {
        t.expect_segments(
            mark,
            ("client", "server"),
            &[("S", 0), (".", 0)],
            &[("S.", 0)],
        )?;
        let seen = t.wire_since(mark);
        t.expect(
            seen.tcp_numbers("server", "client") == [("S.", 0, Some(1), 0)],
            "the SYN-ACK acknowledges the client's SYN with ack 1",
        )?;
        t.note(
            "Three segments went by before connect() returned. The client's SYN (S): \"I want to talk, my numbers start here.\" The SYN-ACK (S.) from the server's kernel: its own SYN, and ack 1, the next number it expects from the client, since a SYN counts as one number. Then the client's ACK (.) of the server's SYN. Both sides now know each other's first number, so data will be numbered from 1 in each direction.",
            "connect() 返回之前，线上已经走过三个报文。客户端的 SYN（S）：“我要通话，我的编号从这里开始。”服务端内核回的 SYN-ACK（S.）：它自己的 SYN，加上 ack 1，即它期待客户端下一个序号是 1，因为 SYN 本身占一个序号。最后是客户端对服务端 SYN 的确认（.）。双方都知道了对方的初始序号，此后两个方向的数据都从 1 开始编号。",
        );
    }
    kernel.tcp_state(&phone1, TcpState::Established)?;
    let client_end = phone1.local_addr()?;
    kernel.tcp_state_between(&number, &client_end, Some(TcpState::Established))?;
    t.note(
        "Both ends are ESTABLISHED, and the server program has not called accept(): its kernel did the handshake by itself and keeps the connection in the listening socket's accept queue.",
        "两端都是 ESTABLISHED，而服务端程序还没有调用 accept()：握手是它的内核自己完成的，这条连接就放在监听套接字的 accept 队列里。",
    );
    let mark = t.wire_mark();
    let (conn, _) = phone.accept("conn")?;
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[], &[])?;
        t.note(
            "No wire line under accept(): accept() takes a finished connection out of the queue and sends nothing.",
            "accept() 下面没有 wire 行：accept() 只是从队列里取出一条已经建好的连接，什么也不发送。",
        );
    }

    t.section(
        "Data, and the ACK that answers it",
        "数据，以及回应它的 ACK",
    );
    let mark = t.wire_mark();
    phone1.send(b"hello")?;
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("P.", 5)], &[(".", 0)])?;
        let seen = t.wire_since(mark);
        t.expect(
            seen.tcp_numbers("client", "server") == [("P.", 1, Some(1), 5)]
                && seen.tcp_numbers("server", "client") == [(".", 1, Some(6), 0)],
            "the data is bytes 1 to 5 and the ACK says ack 6",
        )?;
        t.note(
            "One data segment carries the five bytes, numbered 1 to 5 (seq 1:6 counts up to, not including, 6), with PUSH (P): hand them to the program now. The server's kernel answers with a pure ACK, ack 6: everything before byte 6 has arrived. That ACK comes from the kernel; the server program has not called recv() yet.",
            "一个数据报文携带这 5 个字节，编号 1 到 5（seq 1:6 表示到 6 为止，不含 6），并带有 PUSH（P）：请立刻交给程序。服务端内核回了一个纯 ACK，ack 6：6 号之前的字节都收到了。这个 ACK 是内核发的，服务端程序还没有调用 recv()。",
        );
    }
    let unacked = kernel.send_queue(&phone1)?;
    t.expect(unacked == 0, "the server's kernel acknowledged the five bytes")?;
    t.note(
        "The client's send queue is empty: the server's kernel has acknowledged the five bytes, so the client's kernel can forget them. Bytes not acknowledged yet would wait here, ready to be sent again.",
        "客户端的发送队列是空的：服务端内核已经确认了这 5 个字节，客户端内核就可以丢掉它们了。还没被确认的字节会留在这里，随时准备重发。",
    );
    conn.recv(1024)?;

    t.section(
        "The client hangs up first: FIN, then ACK",
        "客户端先挂断：FIN，然后 ACK",
    );
    let server_end = conn.local_addr()?;
    let mark = t.wire_mark();
    phone1.close();
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("F.", 0)], &[(".", 0)])?;
        let seen = t.wire_since(mark);
        t.expect(
            seen.tcp_numbers("server", "client") == [(".", 1, Some(7), 0)],
            "the server's kernel acknowledges the FIN with ack 7",
        )?;
        t.note(
            "close() sent a FIN (F): the client has nothing more to say. A FIN takes one sequence number, like a SYN, so the server's kernel acknowledges it with ack 7.",
            "close() 发出了 FIN（F）：客户端没有话要说了。FIN 和 SYN 一样占一个序号，所以服务端内核用 ack 7 来确认它。",
        );
    }
    kernel.tcp_state_between(&client_end, &server_end, Some(TcpState::FinWait2))?;
    t.note(
        "FIN_WAIT2: the client's FIN has been acknowledged and its end now waits for the server's FIN. The client program has closed its socket already, so only the kernel's table shows this end.",
        "FIN_WAIT2：客户端的 FIN 已被确认，它这一头正在等服务端的 FIN。客户端程序已经关闭了套接字，所以只有内核的连接表还能看到这一头。",
    );
    kernel.tcp_state(&conn, TcpState::CloseWait)?;
    t.note(
        "CLOSE_WAIT: the server's end got the FIN and waits for its own program to close. A server that never closes keeps its connections in this state (lab 04).",
        "CLOSE_WAIT：服务端这一头收到了 FIN，正等自己的程序关闭。一个从不关闭连接的服务端，会让连接一直停在这个状态（实验 04）。",
    );
    let data = conn.recv(1024)?;
    t.expect(data.is_empty(), "recv() returns b'' after the FIN")?;

    t.section(
        "The server hangs up too: FIN, then ACK",
        "服务端也挂断：FIN，然后 ACK",
    );
    let mark = t.wire_mark();
    conn.close();
    if t.wire() {
        t.expect_segments(mark, ("server", "client"), &[("F.", 0)], &[(".", 0)])?;
        t.note(
            "The server's FIN, and the client's kernel's ACK of it. Four segments closed the connection, a FIN and an ACK in each direction: the four-way close. Here the server's FIN went separately from its ACK of the client's FIN because the server program closed later; a side that closes right after the other's FIN arrives can put that ACK on its own FIN, and the close then takes three segments.",
            "服务端的 FIN，以及客户端内核对它的确认。关闭这条连接一共用了四个报文，每个方向一个 FIN、一个 ACK：这就是四次挥手。这里服务端的 FIN 和它对客户端 FIN 的确认是分开发的，因为服务端程序关闭得晚一些；如果一方在对方的 FIN 刚到时就关闭，它可以把那个 ACK 捎在自己的 FIN 上，关闭就只需要三个报文。",
        );
    }
    kernel.tcp_state_between(&client_end, &server_end, Some(TcpState::TimeWait))?;
    kernel.tcp_state_between(&server_end, &client_end, None)?;
    t.note(
        "The client's end is in TIME_WAIT. The server's end is gone: after its FIN it waited in LAST_ACK for the acknowledgement, and left the table when it came. The side that sent the first FIN is the one that keeps TIME_WAIT.",
        "客户端这一头进入了 TIME_WAIT。服务端这一头已经不见了：它发出 FIN 后在 LAST_ACK 里等确认，确认一到就从连接表里消失了。先发出 FIN 的一方，才会保留 TIME_WAIT。",
    );

    t.section(
        "Half-close: shutdown(SHUT_WR), and the server still answers",
        "半关闭：shutdown(SHUT_WR)，服务端照样回话",
    );
    let phone2 = client.tcp("phone")?;
    phone2.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    t.note(
        "A client that sends one request and then wants the whole answer can say \"that is all I send\" without hanging up: shutdown(SHUT_WR) ends its sending but keeps the socket open for reading.",
        "一个客户端发完请求后还要收完整的回答，它可以只说“我要发的就这些”而不挂断：shutdown(SHUT_WR) 结束它的发送，套接字仍然可以接收。",
    );
    phone2.send(b"upper me")?;
    let mark = t.wire_mark();
    phone2.shutdown(Shutdown::Write)?;
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("F.", 0)], &[(".", 0)])?;
        t.note(
            "shutdown(SHUT_WR) put the same FIN on the wire as close() did, and the server's kernel acknowledged it the same way.",
            "shutdown(SHUT_WR) 在线上发出的 FIN 和 close() 发的一样，服务端内核也同样确认了它。",
        );
    }
    kernel.tcp_state(&phone2, TcpState::FinWait2)?;
    kernel.tcp_state(&conn, TcpState::CloseWait)?;
    t.note(
        "The same states as after the client's close(): FIN_WAIT2 and CLOSE_WAIT. But this time the client still holds its socket, so its state was read from that socket itself (TCP_INFO) instead of from the kernel's table.",
        "状态和客户端调用 close() 之后一样：FIN_WAIT2 与 CLOSE_WAIT。不同的是这次客户端还握着它的套接字，所以它的状态是直接向这个套接字问出来的（TCP_INFO），而不是查内核的连接表。",
    );
    let request = conn.recv(1024)?;
    t.expect(request == b"upper me", "the server reads the request")?;
    let end = conn.recv(1024)?;
    t.expect(end.is_empty(), "then b'': the client's FIN")?;
    t.note(
        "The server reads the request, then b'': the client's FIN marks where the request ends, so the server knows it has all of it without a length header (lab 08 needs one because its client keeps sending).",
        "服务端读到了请求，接着读到 b''：客户端的 FIN 标出了请求的结尾，服务端不需要长度报头就知道请求已经完整（实验 08 需要报头，因为那里的客户端还要继续发）。",
    );
    let mark = t.wire_mark();
    conn.send(&request.to_ascii_uppercase())?;
    if t.wire() {
        t.expect_segments(mark, ("server", "client"), &[("P.", 8)], &[(".", 0)])?;
        t.note(
            "The server still sends after the client's FIN, and the client's kernel still acknowledges: a FIN closes one direction only.",
            "收到客户端的 FIN 之后，服务端照样能发，客户端内核也照样确认：一个 FIN 只关闭一个方向。",
        );
    }
    let answer = phone2.recv(1024)?;
    t.expect(answer == b"UPPER ME", "the client hears the answer")?;
    t.note(
        "The client hears the whole answer after its shutdown(): that is the half-close. After close() it could not have read it.",
        "客户端在 shutdown() 之后仍然收到了完整的回答：这就是半关闭。如果它调用的是 close()，就读不到了。",
    );
    let client_end = phone2.local_addr()?;
    let server_end = conn.local_addr()?;
    let mark = t.wire_mark();
    conn.close();
    if t.wire() {
        t.expect_segments(mark, ("server", "client"), &[("F.", 0)], &[(".", 0)])?;
    }
    let end = phone2.recv(1024)?;
    t.expect(end.is_empty(), "the client reads b'' after the server's FIN")?;
    kernel.tcp_state_between(&client_end, &server_end, Some(TcpState::TimeWait))?;
    t.note(
        "The server's FIN ends the other direction, and the client's recv() returns b''. The client's end is in TIME_WAIT although the client program has not called close(): its FIN went first.",
        "服务端的 FIN 结束了另一个方向，客户端的 recv() 返回 b''。客户端程序还没有调用 close()，它这一头却已经进入 TIME_WAIT：因为它的 FIN 是先发的。",
    );
    let mark = t.wire_mark();
    phone2.close();
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[], &[])?;
        t.note(
            "close() puts nothing on the wire now: the FIN went with shutdown(), and the connection is already over.",
            "这次 close() 什么也没有发出：FIN 已经随 shutdown() 发过了，连接早就结束了。",
        );
    }

    t.section(
        "The server hangs up first: who keeps TIME_WAIT, and why",
        "服务端先挂断：谁保留 TIME_WAIT，为什么",
    );
    let phone3 = client.tcp("phone")?;
    phone3.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    let client_end = phone3.local_addr()?;
    let server_end = conn.local_addr()?;
    let mark = t.wire_mark();
    conn.close();
    if t.wire() {
        t.expect_segments(mark, ("server", "client"), &[("F.", 0)], &[(".", 0)])?;
    }
    kernel.tcp_state_between(&server_end, &client_end, Some(TcpState::FinWait2))?;
    kernel.tcp_state(&phone3, TcpState::CloseWait)?;
    t.note(
        "The same steps with the roles swapped: the server's end is in FIN_WAIT2, the client's in CLOSE_WAIT.",
        "同样的步骤，角色对调：服务端这一头在 FIN_WAIT2，客户端那一头在 CLOSE_WAIT。",
    );
    let end = phone3.recv(1024)?;
    t.expect(end.is_empty(), "the client reads b'' after the server's FIN")?;
    let mark = t.wire_mark();
    phone3.close();
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("F.", 0)], &[(".", 0)])?;
    }
    kernel.tcp_state_between(&server_end, &client_end, Some(TcpState::TimeWait))?;
    kernel.tcp_state_between(&client_end, &server_end, None)?;
    t.note(
        "Now the server's end keeps TIME_WAIT, on PORT, the port the server listens on: whoever sends the first FIN keeps it, client or server. On Linux it lasts 60 seconds. It has two jobs. If the last ACK is lost, the other side sends its FIN again, and the end in TIME_WAIT can still answer with an ACK instead of a reset. And old segments of this connection still on their way die out before the same pair of ports can carry a new connection. Lab 06 shows what a TIME_WAIT on the server's port does to a server restarted on that port.",
        "这一次是服务端这一头保留 TIME_WAIT，而且就在 PORT 上，也就是服务端监听的端口：谁先发 FIN，谁就保留它，不管是客户端还是服务端。在 Linux 上它持续 60 秒。它有两个用处。一是万一最后那个 ACK 丢了，对方会重发它的 FIN，处于 TIME_WAIT 的这一头还能再回一个 ACK，而不是回一个重置。二是让这条连接还在路上的旧报文都消失，之后同一对端口才能承载新的连接。实验 06 会讲服务端端口上的 TIME_WAIT 对在这个端口上重启的服务端有什么影响。",
    );

    t.section("Switch off", "关机");
    let mark = t.wire_mark();
    phone.close();
    if t.wire() {
        t.expect_segments(mark, ("server", "client"), &[], &[])?;
        t.note(
            "Closing the listening socket sends nothing: it has no connection of its own.",
            "关闭监听套接字不会发出任何报文：它自己并没有连接。",
        );
    }
    kernel.tcp_state_between(&server_end, &client_end, Some(TcpState::TimeWait))?;
    t.note(
        "The server program has no socket left, yet its port is still in use by the TIME_WAIT, which lives in the kernel's table until its 60 seconds are over.",
        "服务端程序已经一个套接字都没有了，它的端口却仍被这条 TIME_WAIT 占着，它会留在内核的连接表里，直到 60 秒结束。",
    );
    Ok(())
}
