//! Lab 11 in peer mode: the course's QQ-style chat over UDP. `netlab serve 11` is a chat
//! server that answers each message by itself (the course's server asks its user for a
//! reply); `netlab connect 11` sends your chat server a message and waits for the answer
//! your server's user types.

use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8081,
    serve: Some(Serve::Datagrams(serve)),
    connect: Some(Connect::Datagrams(connect)),
};

/// One message in, `re: ` and the message back to its sender, whoever it is.
fn serve(server: &mut Datagrams) -> PeerResult {
    let (msg, addr) = server.recvfrom(1024)?;
    if server.first() {
        server.note(
            "Any number of chat clients can send to this one socket; each recvfrom says who sent the message.",
            "任意多个聊天客户端都可以往这一个套接字发消息；每次 recvfrom 都说明是谁发来的。",
        );
    }
    let mut reply = b"re: ".to_vec();
    reply.extend_from_slice(&msg);
    server.sendto(&reply, &addr)?;
    if server.first() {
        server.note(
            "The course's server would ask its user for the reply (input()); netlab answers by itself, back to the address the message came from.",
            "课程里的服务端会让它的用户输入回复（input()）；netlab 自己回答，发回消息来的那个地址。",
        );
    }
    Ok(())
}

/// One chat message to your server, then its user's answer.
fn connect(client: &mut Datagrams) -> PeerResult {
    let server = client.server()?;
    client.sendto(b"hi, it is netlab", &server)?;
    client.note(
        "Type an answer in your chat server's terminal: netlab waits for it (bounded).",
        "请在你的聊天服务端的终端里输入回复：netlab 会等它（有时间上限）。",
    );
    client.recvfrom(1024)?;
    client.note(
        "Your server's answer came back to netlab's address: recvfrom had told your server who wrote.",
        "你的服务端的回复回到了 netlab 的地址：recvfrom 告诉了你的服务端是谁写的消息。",
    );
    Ok(())
}
