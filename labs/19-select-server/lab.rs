//! Lab 19: one thread serves many clients: non-blocking sockets, selectors and select.
//!
//! `setblocking(False)` turns every call that would wait into a BlockingIOError (errno 11,
//! EAGAIN); a `selectors.DefaultSelector` (epoll on Linux, a real epoll instance here) says
//! which sockets are ready, so one thread reads only those: three clients, a client that
//! hangs up (readable, b''), `select.select` for the same question, and a non-blocking send()
//! to a slow reader that takes only part of the data (lab 14).
//!
//! How many bytes that send() takes depends on the machine, so those figures show as names
//! (SENT, OUTQ, INQ; --raw shows the numbers) and the lab checks the relations it teaches.

use std::time::Duration;

use netlab::prelude::*;

/// The buffer size the slow reader and the server's connection ask for (Linux doubles it).
const ASKED: usize = 4096;
/// The reply to the slow reader: far more than both buffers hold.
const REPLY: usize = 1 << 20;

/// What the non-blocking send() to the slow reader took.
const SENT: Figure = Figure::new("SENT");
/// What waits in the server's send queue for the slow reader.
const OUTQ: Figure = Figure::new("OUTQ");
/// What waits in the slow reader's receive queue.
const INQ: Figure = Figure::new("INQ");

pub const TITLE: Text = Text::fixed(
    "one thread serves many clients: non-blocking sockets, BlockingIOError, selectors and select",
    "一个线程服务多个客户端：非阻塞套接字、BlockingIOError、selectors 与 select",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let kernel = t.kernel();

    t.section(
        "A non-blocking server: a call that would wait raises instead",
        "非阻塞的服务端：本该等待的调用改为抛出异常",
    );
    let mut listener = server.tcp("server")?;
    listener.bind(&Addr::loopback(0))?;
    listener.listen(5)?;
    let number = listener.local_addr()?;
    listener.setblocking(false);
    let refused = listener.accept("conn").err();
    t.expect(
        refused.as_ref().is_some_and(raised_blocking_io),
        "accept() on a non-blocking socket with an empty accept queue raises BlockingIOError",
    )?;
    t.note(
        "No client has dialled, so the accept queue is empty. A blocking accept() would wait here (lab 01). After setblocking(False) the kernel answers at once with EAGAIN, errno 11, and Python raises BlockingIOError. A non-blocking server catches it and goes on with its other work: `try: conn, addr = server.accept()` then `except BlockingIOError: pass`.",
        "还没有客户端拨号，所以 accept 队列是空的。阻塞的 accept() 会在这里一直等（实验 01）。调用 setblocking(False) 之后，内核立即回答 EAGAIN，即 errno 11，Python 就抛出 BlockingIOError。非阻塞的服务端捕获它，接着做别的事：`try: conn, addr = server.accept()`，然后 `except BlockingIOError: pass`。",
    );

    t.section(
        "One selector watches every socket",
        "一个选择器监视所有套接字",
    );
    let sel = server.default_selector("sel")?;
    t.note(
        "But what other work, and when to try again? Trying every socket in turn would spin the CPU. A selector asks the kernel instead. DefaultSelector is the best one this system has: on Linux an EpollSelector. netlab made a real epoll instance for it, and each sel.select() below is one epoll_wait() call, whose answer the line shows.",
        "可是去做什么别的事，又什么时候再试？挨个去试每个套接字会让 CPU 空转。选择器的办法是去问内核。DefaultSelector 是这个系统上最好的一种：在 Linux 上就是 EpollSelector。netlab 为它建了一个真正的 epoll 实例，下面每一次 sel.select() 都是一次 epoll_wait() 调用，行里显示的就是它的回答。",
    );
    sel.register(&listener)?;
    t.note(
        "register() adds the listening socket to the epoll set that the kernel keeps: report it when it is readable (EVENT_READ, imported from selectors). For a listening socket, readable means that a connection waits to be accepted.",
        "register() 把监听套接字加进内核维护的 epoll 集合：它可读时就报告（EVENT_READ，从 selectors 导入）。对监听套接字来说，可读就是有连接在等着被 accept。",
    );
    let ready = sel.select("events", Some(Duration::ZERO))?;
    t.expect(ready.is_empty(), "nothing is ready before any client dials")?;
    t.note(
        "timeout=0 asks without waiting: nothing is ready. The server's real loop calls sel.select() with no timeout and waits there, the one place it ever waits.",
        "timeout=0 表示只问不等：没有任何套接字就绪。服务端真正的循环调用不带超时的 sel.select()，在那里等待，这也是它唯一等待的地方。",
    );

    t.section(
        "Three clients dial: one event for the listening socket",
        "三个客户端拨号：监听套接字只有一个事件",
    );
    let client1 = t.side("client").tcp("client")?;
    client1.connect(&number)?;
    let client2 = t.side("client-2").tcp("client")?;
    client2.connect(&number)?;
    let client3 = t.side("client-3").tcp("client")?;
    client3.set_buffer_size(false, ASKED)?;
    t.note(
        "Client 3 will be a slow reader: it asks for a small receive buffer before it connects (as in lab 14).",
        "客户端 3 将是一个读得很慢的客户端：它在连接之前要了一个很小的接收缓冲区（和实验 14 一样）。",
    );
    client3.connect(&number)?;
    let ready = sel.select("events", None)?;
    t.expect(
        ready.names() == ["server"],
        "the listening socket is ready once clients wait in its accept queue",
    )?;
    let (queued, _) = kernel.accept_queue(&listener)?;
    t.expect(queued == 3, "three connections wait in the accept queue")?;
    t.note(
        "One event for three waiting connections: the kernel says that the socket is readable, not how many times. So the program accepts in a loop until accept() raises BlockingIOError.",
        "三个等待的连接只换来一个事件：内核只说这个套接字可读，不说有几个。所以程序要循环 accept，直到 accept() 抛出 BlockingIOError 为止。",
    );
    let mut conns = Vec::new();
    for name in ["conn1", "conn2", "conn3"] {
        let (mut conn, _) = listener.accept(name)?;
        conn.setblocking(false);
        sel.register(&conn)?;
        if name == "conn1" {
            t.note(
                "Each accepted socket is made non-blocking as well (an accepted socket starts out blocking, whatever the listening socket is) and registered for reading. netlab numbers the connections conn1, conn2, conn3 to tell them apart; in the program each one is `conn` when accept() returns it, and `key.fileobj` when select() reports it.",
                "每个 accept 得到的套接字也要设为非阻塞（新套接字一开始总是阻塞的，不管监听套接字是什么模式），并注册为读事件。netlab 把这些连接编号为 conn1、conn2、conn3 以便区分；在程序里，accept() 返回它时它叫 `conn`，select() 报告它时它是 `key.fileobj`。",
            );
        }
        conns.push(conn);
    }
    let drained = listener.accept("conn").err();
    t.expect(
        drained.as_ref().is_some_and(raised_blocking_io),
        "the fourth accept() finds the queue empty",
    )?;
    t.note(
        "The queue is empty again: the fourth accept() raises BlockingIOError, which ends the loop.",
        "队列又空了：第四次 accept() 抛出 BlockingIOError，循环到此结束。",
    );
    let conn3 = conns.pop().expect("three connections");
    let conn2 = conns.pop().expect("three connections");
    let conn1 = conns.pop().expect("three connections");

    t.section(
        "Only the sockets that are ready get read",
        "只读已经就绪的套接字",
    );
    client2.send(b"hello from client 2")?;
    client3.send(b"hello from client 3")?;
    let ready = sel.select("events", None)?;
    t.expect(
        ready.names() == ["conn2", "conn3"],
        "select() reports exactly the two connections that have data",
    )?;
    t.note(
        "Two of the three connections have data, and select() returns exactly those two, as (key, mask) pairs: `sel.get_key(conn2)` is the SelectorKey that register() made for conn2 (its `fileobj` is conn2), and EVENT_READ says it is readable. Python would print each socket with its fd and ports, which change from run to run, so netlab writes the list with the program's names for them, in the order they were registered.",
        "三条连接里有两条有数据，select() 恰好返回这两条，形式是 (key, mask) 对：`sel.get_key(conn2)` 是 register() 为 conn2 建的 SelectorKey（它的 `fileobj` 就是 conn2），EVENT_READ 表示它可读。Python 打印套接字时会带上 fd 和端口，每次运行都不一样，所以 netlab 用程序里的名字来写这个列表，并按注册的顺序排列。",
    );
    for (conn, client) in [(&conn2, &client2), (&conn3, &client3)] {
        let data = conn.recv(1024)?;
        conn.send(&data.to_ascii_uppercase())?;
        client.recv(1024)?;
    }
    let idle = conn1.recv(1024).err();
    t.expect(
        idle.as_ref().is_some_and(raised_blocking_io),
        "recv() on the idle connection raises BlockingIOError",
    )?;
    t.note(
        "conn1 was not in the list: client 1 has sent nothing. In a blocking server this recv() would wait until client 1 speaks, and every other client would wait with it. On a non-blocking socket the kernel answers EAGAIN at once and Python raises BlockingIOError: [Errno 11] Resource temporarily unavailable. That is why the loop reads only the sockets select() reported.",
        "conn1 不在列表里：客户端 1 什么也没发。在阻塞的服务端里，这个 recv() 会一直等到客户端 1 开口，其他客户端也只好跟着等。在非阻塞套接字上，内核立即回答 EAGAIN，Python 抛出 BlockingIOError: [Errno 11] Resource temporarily unavailable。这就是循环只读 select() 报告过的套接字的原因。",
    );

    t.section(
        "A client that hangs up shows up as readable",
        "挂断的客户端表现为可读",
    );
    client1.close();
    let ready = sel.select("events", None)?;
    t.expect(
        ready.names() == ["conn1"],
        "client 1's FIN makes conn1 readable",
    )?;
    let end = conn1.recv(1024)?;
    t.expect(end.is_empty(), "recv() returns b'' after the FIN")?;
    t.note(
        "Client 1's FIN makes conn1 readable: select() reports it, and recv() returns b'' at once, the same signal as in lab 04. The program unregisters the socket, then closes it.",
        "客户端 1 的 FIN 让 conn1 变得可读：select() 报告了它，recv() 立即返回 b''，和实验 04 是同一个信号。程序先注销这个套接字，再关闭它。",
    );
    sel.unregister(&conn1)?;
    conn1.close();

    t.section(
        "The same question with select.select()",
        "用 select.select() 问同一个问题",
    );
    let watched = [&listener, &conn2, &conn3];
    let ready = server.select("r, w, x", &watched, Some(Duration::ZERO))?;
    t.expect(ready.is_empty(), "nothing is readable")?;
    t.note(
        "select.select() is the older interface: three lists in (sockets to read, to write, to watch for errors) and three lists out, the ones that are ready. With a timeout of 0 it answers at once: nothing to read.",
        "select.select() 是更老的接口：传进去三个列表（要读的、要写的、要检查异常的套接字），返回三个列表，是其中已经就绪的。超时为 0 时它立即回答：没有可读的。",
    );
    client2.send(b"bye from client 2")?;
    let ready = server.select("r, w, x", &watched, None)?;
    t.expect(
        ready.names() == ["conn2"],
        "select.select() reports conn2 readable",
    )?;
    conn2.recv(1024)?;
    t.note(
        "The difference is where the list lives. select() takes the whole list from the program on every call, and the kernel looks at every socket in it; an epoll set stays in the kernel between calls (register() adds to it), and epoll_wait() hands back only the ready ones. With thousands of mostly idle connections that matters, which is why DefaultSelector picks epoll. (CPython's select.select() calls select(2); netlab asks poll(2), which answers the same question.)",
        "区别在于列表放在哪里。select() 每次调用都要从程序那里拿到整个列表，内核要把其中每个套接字都看一遍；而 epoll 集合在两次调用之间一直留在内核里（register() 往里添加），epoll_wait() 只交回就绪的那些。连接成千上万、大多数都空闲时，这就很要紧了，所以 DefaultSelector 选择 epoll。（CPython 的 select.select() 调用的是 select(2)；netlab 用 poll(2) 来问，回答的是同一个问题。）",
    );

    t.section(
        "A send() to a slow reader takes only part",
        "向读得慢的客户端 send()，只发出一部分",
    );
    conn3.set_buffer_size(true, ASKED)?;
    let reply = netlab::memory::filled(b'x', REPLY, "the 1 MiB reply")?;
    let sent = t.named(SENT, || conn3.send(&reply))?;
    t.expect(
        sent > 0 && sent < reply.len(),
        "a non-blocking send() of 1 MiB to a slow reader takes only part of it",
    )?;
    let sent_shown = t.named_value(SENT, sent);
    t.note(
        format!(
            "conn3 has a small send buffer too, and client 3 does not read. send() on a non-blocking socket does not wait for room: it returns how many bytes the kernel took, {sent_shown} of 1048576. The program must keep `data[sent:]` and send it when the selector reports conn3 writable (registered with EVENT_WRITE). A blocking server would sit in sendall() until client 3 reads, and every other client would wait (lab 14)."
        ),
        format!(
            "conn3 的发送缓冲区也很小，而客户端 3 不读。非阻塞套接字上的 send() 不会等待空间：它返回内核收下的字节数，1048576 字节中的 {sent_shown}。程序必须留着 `data[sent:]`，等选择器报告 conn3 可写（用 EVENT_WRITE 注册）时再发。阻塞的服务端会停在 sendall() 里，直到客户端 3 读数据，其他客户端都得跟着等（实验 14）。"
        ),
    );
    let outq = t.named(OUTQ, || kernel.send_queue(&conn3))?;
    let inq = t.named(INQ, || kernel.recv_queue(&client3))?;
    t.expect(
        inq + outq == sent,
        "every byte send() took is in client 3's receive queue or conn3's send queue",
    )?;
    let sum = format!(
        "{} + {} = {sent_shown}",
        t.named_value(INQ, inq),
        t.named_value(OUTQ, outq)
    );
    t.note(
        format!(
            "{sum} (netlab checks it): every byte send() took waits in client 3's receive queue or in conn3's send queue. The rest of the reply is still in the program."
        ),
        format!(
            "{sum}（netlab 会检查）：send() 收下的每个字节，要么在客户端 3 的接收队列里等着，要么还在 conn3 的发送队列里。回复剩下的部分还在程序手里。"
        ),
    );

    t.section("Hang up and switch off", "挂断并关机");
    client2.close();
    client3.close();
    kernel.tcp_state(&conn3, TcpState::Close)?;
    t.note(
        "conn3 is CLOSE, not CLOSE_WAIT: client 3 closed with unread data in its receive queue, so its kernel reset the connection (RST) instead of closing it with a FIN (lab 04).",
        "conn3 的状态是 CLOSE，而不是 CLOSE_WAIT：客户端 3 关闭时接收队列里还有没读的数据，所以它的内核用重置（RST）结束了连接，而不是发 FIN 正常关闭（实验 04）。",
    );
    for conn in [conn2, conn3] {
        sel.unregister(&conn)?;
        conn.close();
    }
    sel.unregister(&listener)?;
    sel.close();
    listener.close();
    Ok(())
}
