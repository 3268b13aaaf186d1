//! Lab 07 in peer mode: the course's remote-command program, replies without any header.
//! `netlab serve 07` runs your client's commands (from netlab's fixed list only) and catches
//! a client that reads only part of a reply; `netlab connect 07` sends your server a command
//! with a long output and reads it the course's way, recv(1024), to show the tail it leaves.

use netlab::commands;
use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8080,
    serve: Some(Serve::Calls(serve)),
    connect: Some(Connect::Calls(connect)),
};

/// A command whose output (2005 bytes) is longer than one recv(1024), then a short one.
const LONG: &[u8] = b"seq 1000 1400";
const SHORT: &[u8] = b"echo hello";

/// The remote-command server: each command in, its output out, as it is.
fn serve(call: &mut Call) -> PeerResult {
    let mut replied = false;
    loop {
        let cmd = match call.recv_request("cmd", 1024)? {
            Heard::Data(cmd) => cmd,
            Heard::HungUp => {
                call.note(
                    "The client hung up: `if len(cmd) == 0: break`, and netlab goes back to accept().",
                    "客户端挂断了：`if len(cmd) == 0: break`，netlab 回到 accept()。",
                );
                return Ok(());
            }
        };
        let out = call.run_command(&cmd)?;
        call.sendall(&out)?;
        if !replied {
            call.note(
                "The output goes back as it is, with nothing telling the client how long it is: the client cannot know where this reply ends. netlab uses sendall(), so even a long output leaves whole; it looks, when the next command comes, at what your client left unread.",
                "输出原样发回，没有任何东西告诉客户端它有多长：客户端无从知道这个回复在哪里结束。netlab 用 sendall()，所以再长的输出也会完整发出；下一条命令到来时，它会看看你的客户端还剩多少没读。",
            );
        }
        replied = true;
    }
}

/// The course's client: a command, then recv(1024) for its output, however long it is.
fn connect(dialer: &Dialer) -> PeerResult {
    dialer.section(
        "seq 1000 1400: an output longer than recv(1024)",
        "seq 1000 1400：输出比 recv(1024) 长",
    );
    let mut call = dialer.dial("client", "client")?;
    call.conn().send(LONG)?;
    let head = call.recv_reply("cmd_res", 1024)?;
    let left = call.trace().kernel().recv_queue(call.conn())?;
    let full = commands::known_output(LONG).unwrap_or_default();
    if left > 0 {
        call.note(
            format!("recv(1024) returned {} bytes, the head of the output; the other {left} bytes stay in netlab's receive queue. The course's client prints the head and asks for the next command.", head.len()),
            format!("recv(1024) 返回了 {} 字节，也就是输出的开头；其余 {left} 字节留在 netlab 的接收队列里。课程里的客户端打印这个开头，然后等下一条命令。", head.len()),
        );
    } else {
        call.note(
            format!("The whole reply fit in one recv(1024) ({} bytes; seq 1000 1400 prints {}), so no tail is left this time.", head.len(), full.len()),
            format!("整个回复一次 recv(1024) 就装下了（{} 字节；seq 1000 1400 会打印 {} 字节），所以这次没有残留。", head.len(), full.len()),
        );
    }

    dialer.section(
        "echo hello: the next reply comes after the old tail",
        "echo hello：下一个回复排在旧的尾巴后面",
    );
    call.conn().send(SHORT)?;
    call.await_more_than(left)?;
    let next = call.recv_reply("cmd_res", 1024)?;
    if left > 0 {
        call.note(
            "This recv(1024) returns the old tail of seq first; hello, the answer to this command, comes only at its end (or not at all, if the tail is long). The two replies stuck together: the sticky packet. Labs 08 and 09 fix it with a header.",
            "这次 recv(1024) 先返回 seq 的旧尾巴；这条命令真正的回答 hello 只在最后出现（如果尾巴够长，就根本不出现）。两个回复粘在了一起：这就是粘包。实验 08 和 09 用报头解决它。",
        );
    } else {
        call.expect_reply(&next, &commands::known_output(SHORT).unwrap_or_default())?;
    }
    call.trace().kernel().recv_queue(call.conn())?;
    call.hang_up();
    Ok(())
}
