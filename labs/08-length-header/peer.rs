//! Lab 08 in peer mode: the remote-command program with the first fix, a 4-byte header
//! `struct.pack('i', len(data))` before each reply. `netlab serve 08` runs your client's
//! commands (netlab's fixed list only) and, after `put`, receives a framed upload from it;
//! `netlab connect 08` reads your server's replies header first, and diagnoses a header in
//! the wrong byte order, an impossible size, a reply cut short, or bytes beyond it.

use netlab::commands;
use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8080,
    serve: Some(Serve::Calls(serve)),
    connect: Some(Connect::Calls(connect)),
};

/// The commands netlab's client sends: a long output, then a short one.
const COMMANDS: [&[u8]; 2] = [b"seq 1000 1400", b"echo hello"];

/// The remote-command server with a length header; `put` receives a framed upload.
fn serve(call: &mut Call) -> PeerResult {
    let mut replied = false;
    loop {
        let cmd = match call.recv_request("cmd", 1024)? {
            Heard::Data(cmd) => cmd,
            Heard::HungUp => return Ok(()),
        };
        let reply = if cmd == b"put" {
            match receive_upload(call)? {
                Some(reply) => reply,
                None => return Ok(()),
            }
        } else {
            call.run_command(&cmd)?
        };
        send_framed(call, &reply)?;
        if !replied {
            call.note(
                "First the size as 4 bytes (struct.pack('i', ...), little-endian here), then the data: the client reads exactly 4 bytes, then exactly that many.",
                "先用 4 个字节发大小（struct.pack('i', ...)，这里是小端序），再发数据：客户端先正好读 4 个字节，再正好读那么多字节。",
            );
        }
        replied = true;
    }
}

/// `put`: netlab answers `ready`, then reads one framed message from the client (its size as
/// struct.pack('i', n), then n bytes) and answers with what it received.
fn receive_upload(call: &mut Call) -> PeerResult<Option<Vec<u8>>> {
    call.note(
        "put is netlab's own addition to the course's program: the client uploads one message, framed the same way, so that netlab can check a header your program writes.",
        "put 是 netlab 在课程程序上加的：客户端用同样的格式上传一条消息，这样 netlab 就能检查你的程序写出的报头。",
    );
    send_framed(call, b"ready")?;
    let mut decoder = FrameDecoder::with_limit(framing::Format::LengthHeader, netlab::peer::LIMIT);
    let Some(frame) = call.recv_frame(&mut decoder)? else {
        return Ok(None);
    };
    let digest = call.side().md5_hex("digest", "data", &frame.payload);
    Ok(Some(
        format!("received {} bytes, MD5 {digest}\n", frame.payload.len()).into_bytes(),
    ))
}

/// `conn.sendall(struct.pack('i', len(data)))`, then `conn.sendall(data)`.
fn send_framed(call: &Call, data: &[u8]) -> PeerResult {
    let header = call.side().struct_pack("header", Pack::NativeInt, data.len())?;
    call.sendall(&header)?;
    call.sendall(data)
}

/// The course's client with the fix: each command, then its framed reply, read exactly.
fn connect(dialer: &Dialer) -> PeerResult {
    let mut call = dialer.dial("client", "client")?;
    let mut decoder = FrameDecoder::with_limit(framing::Format::LengthHeader, netlab::peer::LIMIT);
    for (i, cmd) in COMMANDS.into_iter().enumerate() {
        call.conn().send(cmd)?;
        let Some(frame) = call.recv_frame(&mut decoder)? else {
            return Err(call.fail(Diagnosis::ClosedWithoutReply));
        };
        call.expect_reply(&frame.payload, &commands::known_output(cmd).unwrap_or_default())?;
        call.check_nothing_more()?;
        if i == 0 {
            call.note(
                "The header announced exactly the bytes that came, and nothing is left over: your server frames its replies correctly. (netlab watches 200 ms after each reply for bytes that should not be there.)",
                "报头声明的正好是收到的字节数，也没有多余：你的服务端正确地给回复加了报头。（每个回复之后 netlab 会再观察 200 毫秒，看有没有不该有的字节。）",
            );
        }
    }
    call.hang_up();
    Ok(())
}
