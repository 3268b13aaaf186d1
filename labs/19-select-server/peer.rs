//! Lab 19 in peer mode: `netlab serve 19` is this lab's server, one event loop over a
//! selector, for as many of your clients as you start; `netlab connect 19` calls your server
//! with three clients at once. The first connects and says nothing; the second and the third
//! both send before either reads. A server that serves every ready socket answers both at
//! once, while one that serves a client at a time (lab 02's link loop) leaves them waiting,
//! which netlab diagnoses from the kernel's table.

use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8080,
    serve: Some(Serve::EventLoop(EventLoop {
        answer: upper,
        how: &HOW,
    })),
    connect: Some(Connect::Calls(connect)),
};

/// How netlab's server compares with this lab's server.py, said where it starts.
const HOW: Text = Text::fixed(
    "netlab's server works as this lab's server.py does: one thread, a non-blocking listening socket and a DefaultSelector (a real epoll instance) that watches it and every connection. Each sel.select() below is one epoll_wait(), and its list is what the kernel reported in this run. One difference keeps netlab's memory bounded: while part of an answer waits to be sent, netlab watches that connection for writing only (EVENT_WRITE) and reads nothing more from it, where server.py would go on reading and keep every answer.",
    "netlab 的服务端和本实验的 server.py 做法一样：一个线程，一个非阻塞的监听套接字，再加一个 DefaultSelector（真正的 epoll 实例）监视它和每一条连接。下面每一次 sel.select() 都是一次 epoll_wait()，列表就是这次运行中内核报告的结果。有一处不同，是为了让 netlab 占用的内存有上限：当某个回答还有一部分等着发送时，netlab 只监视这条连接的写事件（EVENT_WRITE），不再读它发来的数据；而 server.py 会继续读，并把每个回答都留着。",
);

/// The course's answer: the message in upper case, `data.upper()`.
fn upper(data: &[u8]) -> Vec<u8> {
    data.to_ascii_uppercase()
}

/// Three clients at once: client 1 stays quiet while clients 2 and 3 talk, then client 1
/// talks, then client 3 leaves and client 2 is still served.
fn connect(dialer: &Dialer) -> PeerResult {
    dialer.section(
        "Client 1 connects and says nothing",
        "客户端 1 连上，一句话也不说",
    );
    let mut first = dialer.dial("client", "client")?;
    first.note(
        "Client 1 is connected and stays quiet: a server that waited in recv() for it would serve nobody else meanwhile (lab 02). A selector loop only reads the sockets select() reports ready.",
        "客户端 1 已经连上，并且一直不出声：如果服务端在 recv() 里等它，这期间就服务不了别人（实验 02）。选择器循环只读 select() 报告为就绪的套接字。",
    );
    dialer.section(
        "Clients 2 and 3 both send before either reads",
        "客户端 2 和 3 都先发送，谁也不先读",
    );
    let mut second = dialer.dial("client-2", "client")?;
    let mut third = dialer.dial("client-3", "client")?;
    let (two, three) = (b"hello from client 2", b"hello from client 3");
    second.conn().send(two)?;
    third.conn().send(three)?;
    second.note(
        "Both messages are on their way at once: your server's next select() may report both sockets ready, and it must answer each.",
        "两条消息同时在路上：你的服务端下一次 select() 可能同时报告两个套接字就绪，它必须分别回答。",
    );
    let reply = second.recv_reply_beside(&first, "data", 1024)?;
    second.expect_reply(&reply, &upper(two))?;
    let reply = third.recv_reply_beside(&first, "data", 1024)?;
    third.expect_reply(&reply, &upper(three))?;
    third.note(
        "Your server answered clients 2 and 3 while client 1 was still connected and silent: it serves every socket that is ready.",
        "客户端 1 还连着、一声不出，你的服务端就回答了客户端 2 和 3：它服务每一个已经就绪的套接字。",
    );
    dialer.section("Client 1 talks too", "客户端 1 也开口了");
    let message = b"hello from client 1";
    first.conn().send(message)?;
    let reply = first.recv_reply("data", 1024)?;
    first.expect_reply(&reply, &upper(message))?;
    dialer.section(
        "Client 3 hangs up; clients 1 and 2 are still served",
        "客户端 3 挂断，客户端 1 和 2 照常得到服务",
    );
    third.hang_up();
    let message = b"client 2 is still here";
    second.conn().send(message)?;
    let reply = second.recv_reply("data", 1024)?;
    second.expect_reply(&reply, &upper(message))?;
    second.note(
        "Client 3's hang-up made its socket readable with b'', and your server dropped that one only: it still answers the others.",
        "客户端 3 挂断让它的套接字变为可读并读到 b''，你的服务端只丢掉了这一个：它照样回答其他客户端。",
    );
    second.hang_up();
    first.hang_up();
    Ok(())
}
