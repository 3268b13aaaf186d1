//! Lab 18: a thread per connection, and the same server with socketserver.
//!
//! Lab 02's server, with its communication loop moved into `talk(conn)` and run in a new
//! thread for each connection: thread-1 waits in recv() for client 1 while the main thread
//! waits in accept(), and client 2 is accepted and answered at once, while client 1 is still
//! connected (lab 02's accept queue held the second caller until the first hung up). Then the
//! same server written with socketserver.ThreadingTCPServer, shown with the calls it makes
//! underneath. Lines carry the label of the thread that makes each call (`server
//! thread-1`); netlab makes every call itself, in the order below.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "a thread per connection, and socketserver: the second client is answered while the first is still connected",
    "每个连接一个线程，以及 socketserver：第一个客户端还连着，第二个客户端就得到了回答",
);

pub fn run(t: &Trace) -> LabResult {
    threads(t)?;
    socketserver(t)
}

/// The link loop with `threading.Thread(target=talk, args=(conn,))`.
fn threads(t: &Trace) -> LabResult {
    let server = t.side("server");
    let kernel = t.kernel();

    t.section("The server switches on", "服务端开机");
    let listener = server.tcp("server")?;
    listener.bind(&Addr::loopback(0))?;
    listener.listen(5)?;
    let number = listener.local_addr()?;
    t.note(
        "This is lab 02's server with one change. Its communication loop moves into a function, `def talk(conn):` (recv, `if not data: break`, send the answer, and `conn.close()` after the loop). The link loop no longer talks itself: each turn of `while True:` accepts a connection, gives it to a new thread with `t = threading.Thread(target=talk, args=(conn,))` and `t.start()`, and goes straight back to accept().",
        "这就是实验 02 的服务端，只改了一处。通信循环挪进了一个函数 `def talk(conn):`（recv，`if not data: break`，发回答复，循环结束后 `conn.close()`）。链接循环自己不再通信：`while True:` 的每一轮接受一条连接，用 `t = threading.Thread(target=talk, args=(conn,))` 和 `t.start()` 把它交给一个新线程，然后马上回到 accept()。",
    );

    t.section(
        "Client 1 dials: accept(), then a thread for its conversation",
        "客户端 1 拨号：accept()，然后为这次通话开一个线程",
    );
    let client1 = t.side("client").tcp("client")?;
    client1.connect(&number)?;
    let (conn, _) = listener.accept("conn")?;
    let thread1 = server.start_thread("t", "talk", &["conn"]);
    t.note(
        "start() returns at once, and talk(conn) now runs in a new thread, which Python names Thread-1 (talk). From here on, lines labelled `server thread-1` are the calls talk() makes in that thread, and lines labelled `server` are the main thread's. They are one process: the kernel does not care which thread makes a call, and every thread can use every socket.",
        "start() 立刻返回，talk(conn) 在一个新线程里运行，Python 给它起名 Thread-1 (talk)。从这里开始，标为 `server thread-1` 的行是 talk() 在这个线程里做的调用，标为 `server` 的行是主线程的调用。它们是同一个进程：内核并不在乎调用来自哪个线程，每个线程都能使用每个套接字。",
    );
    t.note(
        "Real threads run when the scheduler lets them, so the order of their calls changes from run to run. netlab makes every call itself, one after another, and labels each with the thread that makes it: the trace shows one order the threads can take, and every call in it really ran on the kernel in that order.",
        "真正的线程什么时候运行由调度器决定，所以它们的调用顺序每次运行都可能不同。netlab 自己一个接一个地发出每个调用，并给每个调用标上发出它的线程：这份记录展示的是线程可能走出的一种顺序，其中每个调用都按这个顺序在内核上真实执行过。",
    );
    let conn1 = conn.handed_to(&thread1, "conn");
    let waiting1 = conn1.recv_pending(1024)?;
    t.expect(
        waiting1.is_blocked(),
        "thread-1 waits for client 1's first message",
    )?;
    t.note(
        "Thread-1 waits in recv() for client 1's first message. Only thread-1 waits: the main thread goes on.",
        "线程 1 在 recv() 里等客户端 1 的第一条消息。等待的只有线程 1：主线程照常往下走。",
    );
    let accepting = listener.accept_pending("conn")?;
    t.expect(
        accepting.is_blocked(),
        "the main thread waits in accept() for the next client",
    )?;
    t.note(
        "The main thread is back in accept(). Two threads are blocked at the same time, each in its own call. In lab 02 the server had one thread, which could wait in only one of these calls at a time.",
        "主线程回到了 accept()。两个线程同时阻塞，各自停在自己的调用里。实验 02 的服务端只有一个线程，同一时刻只能在其中一个调用里等。",
    );

    t.section("Client 1 talks with thread-1", "客户端 1 与线程 1 通话");
    client1.send(b"hello from client 1")?;
    let data = waiting1.finish()?;
    t.note(
        "The recv() that thread-1 was blocked in returns with client 1's message.",
        "线程 1 阻塞着的那个 recv() 带着客户端 1 的消息返回了。",
    );
    conn1.send(&data.to_ascii_uppercase())?;
    client1.recv(1024)?;
    let waiting1 = conn1.recv_pending(1024)?;
    t.expect(
        waiting1.is_blocked(),
        "thread-1 waits for client 1's next message",
    )?;
    t.note(
        "Thread-1 goes round its loop and waits for client 1's next message. Client 1 stays connected.",
        "线程 1 转回循环开头，等客户端 1 的下一条消息。客户端 1 一直连着。",
    );

    t.section(
        "Client 2 dials while client 1 is still connected",
        "客户端 1 还连着，客户端 2 拨号",
    );
    let client2 = t.side("client-2").tcp("client")?;
    client2.connect(&number)?;
    let (conn, _) = accepting.finish()?;
    t.note(
        "The main thread was waiting in accept(), so it takes client 2's connection at once.",
        "主线程正在 accept() 里等着，所以它立刻就拿到了客户端 2 的连接。",
    );
    let (queued, _) = kernel.accept_queue(&listener)?;
    t.expect(
        queued == 0,
        "client 2's connection was accepted while client 1 is connected",
    )?;
    t.note(
        "The accept queue is empty while client 1 is still connected. At the same point in lab 02 this probe showed 1 connection waiting: the second caller stayed in the queue until the first one hung up, because the server's only thread was inside its communication loop.",
        "客户端 1 还连着，accept 队列却已经空了。在实验 02 的同一时刻，这个探测显示有 1 个连接在排队：第二个来电一直留在队列里，直到第一个挂断，因为服务端唯一的线程正困在通信循环里。",
    );
    let thread2 = server.start_thread("t", "talk", &["conn"]);
    t.note(
        "Thread-2 (talk) gets client 2's socket. The main thread's `conn` now names this new socket, but thread-1 keeps the one it was given as its argument: each thread talks with its own client.",
        "Thread-2 (talk) 拿到了客户端 2 的套接字。主线程里的 `conn` 现在指向这个新套接字，而线程 1 手里仍是当初作为参数传给它的那个：每个线程只和自己的客户端通话。",
    );
    let conn2 = conn.handed_to(&thread2, "conn");
    let accepting = listener.accept_pending("conn")?;
    t.expect(
        accepting.is_blocked(),
        "the main thread waits in accept() again",
    )?;

    t.section(
        "Client 2 is answered while client 1's connection is open",
        "客户端 1 的连接还开着，客户端 2 已经得到回答",
    );
    client2.send(b"hello from client 2")?;
    let data = conn2.recv(1024)?;
    conn2.send(&data.to_ascii_uppercase())?;
    client2.recv(1024)?;
    kernel.tcp_state(&conn1, TcpState::Established)?;
    t.note(
        "Client 2 has its answer, and client 1's connection is still ESTABLISHED, with thread-1 still waiting in recv() for client 1. That wait held up nobody else: that is what a thread per connection buys.",
        "客户端 2 已经拿到回答，而客户端 1 的连接仍是 ESTABLISHED，线程 1 还在 recv() 里等客户端 1。这个等待没有耽误任何别人：这正是每个连接一个线程带来的好处。",
    );
    let waiting2 = conn2.recv_pending(1024)?;
    t.expect(
        waiting2.is_blocked(),
        "thread-2 waits for client 2's next message",
    )?;

    t.section(
        "What the kernel sees, and what each thread costs",
        "内核看到了什么，每个线程的代价",
    );
    kernel.tcp_state(&listener, TcpState::Listen)?;
    kernel.tcp_state(&conn2, TcpState::Established)?;
    t.note(
        "The kernel knows nothing of the threads. It sees one listening socket and one connected socket per client, all in one process. The threads live in the program: each has its own stack (on Linux usually 8 MiB of address space, the size `ulimit -s` shows, of which only the pages it touches take memory), and each is a task that the kernel schedules on its own. A thousand clients make a thousand threads, most of them waiting in recv(). Lab 19 serves many clients from one thread instead.",
        "内核对线程一无所知。它看到的是一个监听套接字，外加每个客户端一个已连接的套接字，全都属于同一个进程。线程属于程序：每个线程有自己的栈（在 Linux 上通常是 8 MiB 的地址空间，也就是 `ulimit -s` 显示的大小，只有真正用到的页才占内存），每个线程都是内核单独调度的一个任务。一千个客户端就是一千个线程，其中大多数都在 recv() 里等着。实验 19 换一种做法：用一个线程服务许多客户端。",
    );

    t.section(
        "Client 1 hangs up: thread-1 ends, thread-2 goes on",
        "客户端 1 挂断：线程 1 结束，线程 2 照常",
    );
    client1.close();
    let data = waiting1.finish()?;
    t.expect(data.is_empty(), "thread-1's recv() returns b''")?;
    conn1.close();
    t.note(
        "talk() sees b'', leaves its loop and closes its connection; the function returns, and thread-1 ends. Thread-2 and client 2 did not notice.",
        "talk() 读到 b''，跳出循环并关闭自己的连接；函数返回，线程 1 随之结束。线程 2 和客户端 2 毫无察觉。",
    );
    client2.close();
    let data = waiting2.finish()?;
    t.expect(data.is_empty(), "thread-2's recv() returns b''")?;
    conn2.close();

    t.section("Switch off", "关机");
    drop(accepting);
    listener.close();
    t.note(
        "The main thread was still waiting in accept() for the next client, as a server does; Ctrl-C ends the real program.",
        "主线程还在 accept() 里等下一个客户端，服务端本来就是这样；真正的程序要用 Ctrl-C 结束。",
    );
    Ok(())
}

/// The same server with `socketserver.ThreadingTCPServer` and a handler class.
fn socketserver(t: &Trace) -> LabResult {
    t.section(
        "The same server with socketserver.ThreadingTCPServer",
        "用 socketserver.ThreadingTCPServer 写同一个服务端",
    );
    let server = t.side("server");
    let kernel = t.kernel();
    let ss = server.threading_tcp_server("server", &Addr::loopback(0), "Handler")?;
    t.note(
        "The standard library has this server ready-made. The program writes only a handler class, `class Handler(socketserver.BaseRequestHandler):`, whose `handle()` method holds the communication loop and finds its connection in `self.request`; then `server = socketserver.ThreadingTCPServer(('127.0.0.1', 8080), Handler)` and `server.serve_forever()`. This is a new program, so its threads are numbered from 1 again. The three lines after the first one run inside the constructor, written as Lib/socketserver.py writes them, with `self` for the server object: the same socket(), bind() and listen(5) as before (and no SO_REUSEADDR, since allow_reuse_address is False).",
        "标准库里有现成的这种服务端。程序只需写一个处理类 `class Handler(socketserver.BaseRequestHandler):`，它的 `handle()` 方法装着通信循环，连接就在 `self.request` 里；然后 `server = socketserver.ThreadingTCPServer(('127.0.0.1', 8080), Handler)`，再 `server.serve_forever()`。这是一个新程序，所以它的线程又从 1 开始编号。第一行之后的三行是在构造函数里执行的，写法照搬 Lib/socketserver.py，其中 `self` 就是这个服务端对象：和前面一样的 socket()、bind() 和 listen(5)（没有 SO_REUSEADDR，因为 allow_reuse_address 是 False）。",
    );
    let number = ss.socket().local_addr()?;
    let selector = ss.serve_forever()?;
    t.note(
        "serve_forever() never returns: it is the link loop. Before each accept() it waits with a selector (lab 19 explains them) until the listening socket is readable, which for a listening socket means that a connection waits to be accepted; every 0.5 s it also checks whether it was asked to stop.",
        "serve_forever() 永远不返回：它就是链接循环。每次 accept() 之前，它先用一个选择器（实验 19 会讲）等到监听套接字可读，对监听套接字来说，可读就是有连接在等着被 accept；它还每隔 0.5 秒检查一次是否有人让它停下。",
    );
    let client = t.side("client").tcp("client")?;
    client.connect(&number)?;
    let ready = selector.select("ready", Some(POLL_INTERVAL))?;
    t.expect(
        ready.includes(ss.socket()),
        "the server is ready once the client's connection waits",
    )?;
    let (request, _) = ss.get_request()?;
    let (_thread, request) = ss.process_request(request);
    t.note(
        "get_request() is accept(), and process_request() starts a thread for the connection: the same link loop as above, under other names. In the new thread, socketserver makes a Handler and calls its handle(), the program's own code, where `self` is the handler and the connection is `self.request`.",
        "get_request() 就是 accept()，process_request() 为这条连接开一个线程：和上面是同一个链接循环，只是名字不同。在新线程里，socketserver 创建一个 Handler 并调用它的 handle()，也就是程序自己写的代码，在那里 `self` 是这个处理对象，连接是 `self.request`。",
    );
    let client_end = client.local_addr();
    client.send(b"hello socketserver")?;
    let data = request.recv(1024)?;
    request.send(&data.to_ascii_uppercase())?;
    client.recv(1024)?;
    client.close();
    let end = request.recv(1024)?;
    t.expect(end.is_empty(), "handle() reads b'' after the client's FIN")?;
    t.note(
        "handle() reads b'' and returns. It does not close the connection: socketserver does that itself, in the same thread, with the next two lines (shutdown_request).",
        "handle() 读到 b'' 就返回。它并不关闭连接：socketserver 会在同一个线程里自己关闭，就是下面两行（shutdown_request）。",
    );
    let client_end = client_end?;
    let server_end = request.local_addr()?;
    ss.shutdown_request(request);
    kernel.tcp_state_between(&client_end, &server_end, Some(TcpState::TimeWait))?;
    t.note(
        "shutdown(SHUT_WR) sends the server's FIN whoever else still holds the socket object (close() alone would not, while another reference is left), and close() lets the socket go. The client's end is in TIME_WAIT: it hung up first, and the server's FIN has reached it.",
        "shutdown(SHUT_WR) 会发出服务端的 FIN，不管还有谁握着这个套接字对象（只调用 close() 的话，只要还有别的引用，就不会发），close() 随后释放套接字。客户端这一头处于 TIME_WAIT：它先挂断，而服务端的 FIN 已经到达。",
    );
    ss.server_close();
    t.note(
        "When serve_forever() has returned (server.shutdown() from another thread, or Ctrl-C caught by the program), server_close() closes the listening socket and waits for the request threads to end.",
        "serve_forever() 返回之后（另一个线程调用了 server.shutdown()，或者程序捕获了 Ctrl-C），server_close() 关闭监听套接字，并等所有请求线程结束。",
    );
    Ok(())
}
