//! Lab 10 in peer mode: the course's UDP echo. `netlab serve 10` answers every datagram with
//! its upper case, to whoever sent it; `netlab connect 10` sends your server two datagrams and
//! waits (bounded) for each answer, since nothing else would tell it that no server is there.

use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8082,
    serve: Some(Serve::Datagrams(serve)),
    connect: Some(Connect::Datagrams(connect)),
};

/// What netlab's client sends.
const MESSAGES: [&[u8]; 2] = [b"hello udp", b"one datagram, one reply"];

/// One turn of the server's loop: a datagram in, its upper case back to its sender.
fn serve(server: &mut Datagrams) -> PeerResult {
    let (msg, addr) = server.recvfrom(1024)?;
    if server.first() {
        server.note(
            "recvfrom gives the datagram and its sender's address: no listen, no accept, no connection. The sender's port got a stable name, CLIENT_PORT_1.",
            "recvfrom 给出数据报和发送方的地址：没有 listen，没有 accept，也没有连接。发送方的端口得到了一个固定的名字 CLIENT_PORT_1。",
        );
    }
    server.sendto(&msg.to_ascii_uppercase(), &addr)?;
    if server.first() {
        server.note(
            "The answer goes to the address recvfrom returned, so it reaches the program that asked.",
            "回复发往 recvfrom 返回的地址，所以会送到提问的那个程序。",
        );
    }
    Ok(())
}

/// The course's client: sendto the server, recvfrom its answer, twice.
fn connect(client: &mut Datagrams) -> PeerResult {
    let server = client.server()?;
    for (i, message) in MESSAGES.into_iter().enumerate() {
        client.sendto(message, &server)?;
        if i == 0 {
            client.note(
                "No connect(): the datagram goes out whether or not a server is bound to that port, and sendto succeeds either way.",
                "没有 connect()：不管那个端口上有没有服务端，数据报都会发出去，sendto 都会成功。",
            );
        }
        let (reply, _) = client.recvfrom(1024)?;
        client.expect_reply(&reply, &message.to_ascii_uppercase())?;
    }
    client.note(
        "Your server answered both datagrams in upper case, each to the address it came from.",
        "你的服务端用大写回答了两个数据报，每个都回到了它来的地址。",
    );
    Ok(())
}
