//! Lab 02 in peer mode: netlab's server runs the communication loop inside the link loop
//! (`netlab serve 02`), or netlab calls your server twice, with several messages on the first
//! call (`netlab connect 02`): the second call is answered only if your server goes back to
//! accept().

use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8081,
    serve: Some(Serve::Calls(serve)),
    connect: Some(Connect::Calls(connect)),
};

/// What netlab's first caller says, one message per turn.
const MESSAGES: [&[u8]; 3] = [b"ping 1", b"ping 2", b"ping 3"];

/// One turn of the link loop: the communication loop with one client, until it hangs up.
fn serve(call: &mut Call) -> PeerResult {
    let mut turns = 0;
    loop {
        let data = match call.recv("data", 1024)? {
            Heard::Data(data) => data,
            Heard::HungUp => {
                call.note(
                    "b'' means the client hung up (FIN). The loop checks `if not data: break`, leaves the communication loop, closes this connection and goes back to accept() for the next client: the link loop.",
                    "b'' 表示客户端挂断了（FIN）。循环里检查 `if not data: break`，跳出通信循环，关闭这条连接，再回到 accept() 等下一个客户端：这就是链接循环。",
                );
                return Ok(());
            }
        };
        call.conn().send(&data.to_ascii_uppercase())?;
        if turns == 0 {
            call.note(
                "One turn of the communication loop: recv, then send the answer. The connection stays open for the next message.",
                "通信循环的一轮：recv，再 send 回答。连接一直开着，等下一条消息。",
            );
        }
        turns += 1;
    }
}

fn connect(dialer: &Dialer) -> PeerResult {
    dialer.section(
        "The first caller: one connection, several messages",
        "第一个来电：一条连接，多条消息",
    );
    let mut first = dialer.dial("client", "phone")?;
    for message in MESSAGES {
        first.conn().send(message)?;
        let reply = first.recv_reply("data", 1024)?;
        first.expect_reply(&reply, &message.to_ascii_uppercase())?;
    }
    first.note(
        "Your server answered every message on the same connection: its communication loop works.",
        "你的服务端在同一条连接上回答了每一条消息：它的通信循环没问题。",
    );
    first.hang_up();
    dialer.note(
        "netlab's first caller hangs up: close() sends FIN, and your server's recv() returns b''.",
        "netlab 的第一个来电挂断：close() 发出 FIN，你的服务端的 recv() 返回 b''。",
    );
    dialer.section(
        "The second caller: does your server go back to accept()?",
        "第二个来电：你的服务端会回到 accept() 吗？",
    );
    let mut second = dialer.dial("client-2", "phone")?;
    let message = b"hello from the second caller";
    second.conn().send(message)?;
    let reply = second.recv_reply("data", 1024)?;
    second.expect_reply(&reply, &message.to_ascii_uppercase())?;
    second.note(
        "The second caller got its answer: your server left the first call on b'' and went back to accept(), the link loop.",
        "第二个来电得到了回答：你的服务端收到 b'' 后离开了第一通电话，回到了 accept()，这就是链接循环。",
    );
    second.hang_up();
    Ok(())
}
