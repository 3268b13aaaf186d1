//! Lab 09 in peer mode: the remote-command program with the second fix, a JSON header
//! (file name, total size, MD5) behind a 4-byte length. `netlab serve 09` runs your client's
//! commands (netlab's fixed list only) and, after `put`, receives a file with a JSON header;
//! `netlab connect 09` reads your server's replies and diagnoses a JSON header that does not
//! parse or lacks total_size, an MD5 that does not match, and the length header's faults.

use netlab::commands;
use netlab::peer::prelude::*;

pub const PEER: PeerMode = PeerMode {
    course_port: 8080,
    serve: Some(Serve::Calls(serve)),
    connect: Some(Connect::Calls(connect)),
};

/// The commands netlab's client sends: a long output, then a short one.
const COMMANDS: [&[u8]; 2] = [b"seq 1000 1400", b"echo hello"];

/// The remote-command server with a JSON header; `put` receives a file.
fn serve(call: &mut Call) -> PeerResult {
    let mut replied = false;
    loop {
        let cmd = match call.recv_request("cmd", 1024)? {
            Heard::Data(cmd) => cmd,
            Heard::HungUp => return Ok(()),
        };
        let (name, reply) = if cmd == b"put" {
            match receive_file(call)? {
                Some(reply) => ("put.txt", reply),
                None => return Ok(()),
            }
        } else {
            ("output.txt", call.run_command(&cmd)?)
        };
        send_with_json_header(call, name, &reply)?;
        if !replied {
            call.note(
                "Three parts: 4 bytes giving the JSON's length, the JSON (file name, total_size, MD5 of the data), then the data.",
                "三部分：4 个字节给出 JSON 的长度，然后是 JSON（文件名、total_size、数据的 MD5），最后是数据。",
            );
        }
        replied = true;
    }
}

/// `put`: netlab answers `ready`, then reads one file from the client the way it sends
/// replies (length, JSON header, data), checks its MD5, and answers with what it received.
fn receive_file(call: &mut Call) -> PeerResult<Option<Vec<u8>>> {
    call.note(
        "put is netlab's own addition to the course's program: the client uploads a file with the same kind of header, so that netlab can check the header your program writes. netlab keeps the bytes in memory only, never as a file.",
        "put 是 netlab 在课程程序上加的：客户端用同样的报头上传一个文件，这样 netlab 就能检查你的程序写出的报头。netlab 只把这些字节放在内存里，从不写成文件。",
    );
    send_with_json_header(call, "ready.txt", b"ready")?;
    let mut decoder = FrameDecoder::with_limit(framing::Format::JsonHeader, netlab::peer::LIMIT)
        .reading_like_the_course();
    let Some(frame) = call.recv_frame(&mut decoder)? else {
        return Ok(None);
    };
    let checked = md5_note(call, &frame);
    let digest = call.side().md5_hex("digest", "data", &frame.payload);
    Ok(Some(
        format!(
            "received {} bytes, MD5 {digest}{}\n",
            frame.payload.len(),
            if checked { ", as the header said" } else { "" }
        )
        .into_bytes(),
    ))
}

/// Says whether the data could be checked against the header's MD5 (the decoder already
/// refused one that differs), and returns whether it was.
fn md5_note(call: &Call, frame: &framing::Frame) -> bool {
    let md5 = frame.header.as_ref().map(|h| h.md5.as_str()).unwrap_or("");
    let checked = md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit());
    if checked {
        call.note(
            "The MD5 of the data is the one in the header: the bytes arrived complete and unchanged.",
            "数据的 MD5 和报头里的一致：字节完整无误地到达了。",
        );
    } else {
        call.note(
            format!("The header's md5 is {md5:?}, not 32 hex digits (the course's server sends the placeholder '12345678'), so there is nothing to check the data against. Put hashlib.md5(data).hexdigest() there."),
            format!("报头里的 md5 是 {md5:?}，不是 32 位十六进制数（课程里的服务端发的是占位的 '12345678'），所以没法校验数据。请放 hashlib.md5(data).hexdigest()。"),
        );
    }
    checked
}

/// The server's side of fix two: the JSON header for `data`, its length as
/// struct.pack('i', ...), the JSON, then the data.
fn send_with_json_header(call: &Call, filename: &str, data: &[u8]) -> PeerResult {
    let side = call.side();
    let header = side.header_dict("header_dic", filename, "data", data);
    let json = side.json_dumps("header_bytes", "header_dic", &header);
    let size = side.struct_pack("header", Pack::NativeInt, json.len())?;
    call.sendall(&size)?;
    call.sendall(&json)?;
    call.sendall(data)
}

/// The course's client with fix two: each command, then the length, the JSON header and
/// exactly total_size bytes.
fn connect(dialer: &Dialer) -> PeerResult {
    let mut call = dialer.dial("client", "client")?;
    let mut decoder = FrameDecoder::with_limit(framing::Format::JsonHeader, netlab::peer::LIMIT)
        .reading_like_the_course();
    for cmd in COMMANDS {
        call.conn().send(cmd)?;
        let Some(frame) = call.recv_frame(&mut decoder)? else {
            return Err(call.fail(Diagnosis::ClosedWithoutReply));
        };
        md5_note(&call, &frame);
        call.expect_reply(&frame.payload, &commands::known_output(cmd).unwrap_or_default())?;
        call.check_nothing_more()?;
    }
    call.hang_up();
    Ok(())
}
