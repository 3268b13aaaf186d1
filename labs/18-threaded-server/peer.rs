//! Lab 18 in peer mode: `netlab serve 18` serves several of your clients at once, and
//! `netlab connect 18` calls your server with two clients at once. The first connects and
//! says nothing while the second talks: a server with a thread per connection answers the
//! second at once, while one that serves a client at a time (lab 02's link loop) leaves it
//! waiting, which netlab diagnoses from the kernel's table.

use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8080,
    serve: Some(Serve::EventLoop(EventLoop {
        answer: upper,
        how: &HOW,
    })),
    connect: Some(Connect::Calls(connect)),
};

/// How netlab's server differs from this lab's server.py, said where it starts.
const HOW: Text = Text::fixed(
    "netlab's server does not start a thread per connection, as this lab's server.py does: it serves every client from one event loop in one thread, the way lab 19 shows, with a selector that watches the listening socket and every connection. Your client cannot tell the difference: either way it is answered as soon as it speaks, however long the other clients stay connected.",
    "netlab 的服务端并不像本实验的 server.py 那样为每个连接开一个线程：它用一个线程里的一个事件循环服务所有客户端，也就是实验 19 讲的做法，由一个选择器监视监听套接字和每一条连接。你的客户端分辨不出两者的区别：无论哪种，它一开口就会得到回答，不管别的客户端连着多久。",
);

/// The course's answer: the message in upper case, `data.upper()`.
fn upper(data: &[u8]) -> Vec<u8> {
    data.to_ascii_uppercase()
}

/// Two clients at once: client 1 stays quiet while client 2 talks, then both talk, then
/// client 1 leaves and client 2 is still served.
fn connect(dialer: &Dialer) -> PeerResult {
    dialer.section(
        "Client 1 connects and says nothing",
        "客户端 1 连上，一句话也不说",
    );
    let mut first = dialer.dial("client", "client")?;
    first.note(
        "Client 1 is connected and stays quiet. A server that serves one client at a time (lab 02) has accepted it and now waits in recv() for its first message; a threaded server has handed it to a thread of its own and is back in accept().",
        "客户端 1 已经连上，并且一直不出声。一次只服务一个客户端的服务端（实验 02）已经接受了它，正在 recv() 里等它的第一条消息；多线程的服务端则把它交给了一个专门的线程，自己回到了 accept()。",
    );
    dialer.section(
        "Client 2 talks while client 1 is still connected",
        "客户端 1 还连着，客户端 2 开口",
    );
    let mut second = dialer.dial("client-2", "client")?;
    let message = b"hello from client 2";
    second.conn().send(message)?;
    let reply = second.recv_reply_beside(&first, "data", 1024)?;
    second.expect_reply(&reply, &upper(message))?;
    second.note(
        "Your server answered client 2 while client 1 was still connected and silent: it serves its clients concurrently, as a thread per connection does.",
        "客户端 1 还连着、一声不出，你的服务端就回答了客户端 2：它在并发地服务客户端，和每个连接一个线程的做法一样。",
    );
    dialer.section("Client 1 talks too", "客户端 1 也开口了");
    let message = b"hello from client 1";
    first.conn().send(message)?;
    let reply = first.recv_reply("data", 1024)?;
    first.expect_reply(&reply, &upper(message))?;
    dialer.section(
        "Client 1 hangs up; client 2 is still served",
        "客户端 1 挂断，客户端 2 照常得到服务",
    );
    first.hang_up();
    let message = b"client 2 is still here";
    second.conn().send(message)?;
    let reply = second.recv_reply("data", 1024)?;
    second.expect_reply(&reply, &upper(message))?;
    second.note(
        "Client 1's hang-up ended only its own conversation: your server still answers client 2.",
        "客户端 1 挂断只结束了它自己的对话：你的服务端照样回答客户端 2。",
    );
    second.hang_up();
    Ok(())
}
