//! Lab 01 in peer mode: netlab answers one call from your client (`netlab serve 01`), or calls
//! your server once (`netlab connect 01`). The course's one-call programs: the client says one
//! thing, the server answers it in upper case, and both hang up.

use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8080,
    serve: Some(Serve::Calls(serve)),
    connect: Some(Connect::Calls(connect)),
};

/// What netlab's client says.
const MESSAGE: &[u8] = b"hello netlab";

/// The server's part of one call: hear one message, answer it in upper case.
fn serve(call: &mut Call) -> PeerResult {
    let data = match call.recv("data", 1024)? {
        Heard::Data(data) => data,
        Heard::HungUp => {
            call.note(
                "The client hung up without saying anything: recv() returned b'', the sign of its FIN. netlab's end is in CLOSE_WAIT until netlab closes it too.",
                "客户端一句话没说就挂断了：recv() 返回 b''，这是它发来 FIN 的标志。netlab 这一头处于 CLOSE_WAIT，直到 netlab 也关闭它。",
            );
            return Ok(());
        }
    };
    call.note(
        "Listen: the client's bytes waited in netlab's receive queue, and recv(1024) took them.",
        "听：客户端的字节已经在 netlab 的接收队列里等着，recv(1024) 把它们取走了。",
    );
    call.conn().send(&data.to_ascii_uppercase())?;
    call.note(
        "Answer in upper case. Like the course's one-call server, netlab hangs up right after its answer (conn.close()), so its end of this connection stays in TIME_WAIT for a while; then it goes back to accept() for the next caller.",
        "用大写回答。和课程里只接一次电话的服务端一样，netlab 回答完就挂断（conn.close()），所以它这一头会在 TIME_WAIT 里停留一会儿；然后它回到 accept() 等下一个来电。",
    );
    Ok(())
}

/// The client's part: dial, say one thing, hear the answer, hang up.
fn connect(dialer: &Dialer) -> PeerResult {
    let mut call = dialer.dial("client", "phone")?;
    call.note(
        "Dial: the three-way handshake with your server's kernel is done; the kernel gave netlab's end an ephemeral port, CLIENT_PORT_1.",
        "拨号：和你的服务端的内核完成了三次握手；内核给 netlab 这一端分配了一个临时端口 CLIENT_PORT_1。",
    );
    call.conn().send(MESSAGE)?;
    let reply = call.recv_reply("data", 1024)?;
    call.expect_reply(&reply, &MESSAGE.to_ascii_uppercase())?;
    call.note(
        "Your server answered in upper case, as the course's server does.",
        "你的服务端用大写回答了，和课程里的服务端一样。",
    );
    call.hang_up();
    Ok(())
}
