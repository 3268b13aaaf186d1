//! Lab 08: the first fix for sticky packets. Before each reply the server sends a fixed
//! 4-byte header, struct.pack('i', total_size); the client reads exactly 4 bytes, then
//! exactly total_size bytes, so every reply comes out whole and nothing is left over.

use netlab::framing::{self, FrameDecoder};
use netlab::prelude::*;
use netlab::pyrepr;

pub const TITLE: Text = Text::fixed(
    "fix one: a fixed 4-byte length header before each reply",
    "解决办法一：每个回复前先发固定 4 字节的长度报头",
);

/// The same two commands as lab 07.
const LONG: &[u8] = b"seq 1000 1400";
const SHORT: &[u8] = b"echo hello";

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let kernel = t.kernel();
    t.expect(
        cfg!(target_endian = "little"),
        "this machine is little-endian, as the byte-order notes say",
    )?;

    t.section("The server switches on and the client connects", "服务端开机，客户端连上");
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let mut caller = t.side("client").tcp("phone")?;
    caller.connect(&phone.local_addr()?)?;
    let (conn, _) = phone.accept("conn")?;
    let mut decoder = FrameDecoder::new(framing::Format::LengthHeader);

    t.section("seq 1000 1400: first the size, then the output", "seq 1000 1400：先发大小，再发输出");
    caller.send(LONG)?;
    let cmd = conn.recv_into_var("cmd", 1024)?;
    let out = server.run_command("res", &cmd)?.combined();
    let header = server.struct_pack("header", Pack::NativeInt, out.len())?;
    let (long_len, long_header) = (out.len(), header);
    t.note(
        format!(
            "The header is the reply's size as a 4-byte signed int, written the way this machine\n\
             stores numbers: little-endian, lowest byte first. {} = 0x{:08x}: 0x{:02x} goes first.",
            out.len(),
            out.len(),
            header[0]
        ),
        format!(
            "报头就是回复的大小，用 4 字节有符号整数表示，字节顺序跟这台机器存数字的方式一样：\n\
             小端序，低位字节在前。{} = 0x{:08x}，所以 0x{:02x} 排在最前面。",
            out.len(),
            out.len(),
            header[0]
        ),
    );
    conn.send(&header)?;
    conn.send(&out)?;
    t.note(
        "Two sends, as in the course: the header, then the output. They may stick together on the\n\
         way, and that is fine now: the first 4 bytes always say how many bytes follow.",
        "和课程一样发两次：先发报头，再发输出。它们在路上可能粘在一起，但现在没关系了：\n\
         最前面的 4 个字节总会说明后面跟着多少字节。",
    );
    let queued = kernel.recv_queue(&caller)?;
    t.expect(queued == 4 + out.len(), "header and output wait together")?;
    t.note(
        format!(
            "4 + {} bytes wait in one queue, stuck together exactly like in lab 07.",
            out.len()
        ),
        format!(
            "4 + {} 个字节挤在同一个队列里，和实验 07 一样粘在了一起。",
            out.len()
        ),
    );
    let frame = framing::read_frame(&mut caller, &mut decoder, 1024)?;
    let got = frame.map(|f| f.payload).unwrap_or_default();
    t.expect(got == out, "the client got the whole output")?;
    t.note(
        format!(
            "The client reads exactly 4 bytes, unpacks the size, then loops until it has all {} bytes.\n\
             Each recv asks for at most what is still missing (1024, then {}), never more, so it\n\
             cannot eat into whatever comes next. (The course's loop always asks for 1024; that\n\
             only works because the server sends nothing else until the next command.)",
            out.len(),
            out.len() - 1024
        ),
        format!(
            "客户端先正好读 4 个字节，解出大小，再循环读到满 {} 字节为止。\n\
             每次 recv 最多只要还缺的字节数（先 1024，再 {}），绝不多要，所以不会吃掉后面的数据。\n\
             （课程里的循环每次都要 1024；那样能行，只是因为服务端在下一条命令之前不会再发别的。）",
            out.len(),
            out.len() - 1024
        ),
    );
    let left = kernel.recv_queue(&caller)?;
    t.expect(left == 0, "nothing is left over")?;
    t.note(
        "Nothing left over: the whole reply was read, and the next reply will start clean.",
        "没有任何残留：整个回复都读完了，下一个回复会从头开始。",
    );

    t.section(
        "echo hello: even the 4-byte header can arrive in pieces",
        "echo hello：连 4 字节的报头也可能分几次到达",
    );
    caller.send(SHORT)?;
    let cmd = conn.recv_into_var("cmd", 1024)?;
    let out = server.run_command("res", &cmd)?.combined();
    let header = server.struct_pack("header", Pack::NativeInt, out.len())?;
    conn.send(&header[..2])?;
    t.note(
        "To show why the client loops even for the header, this server sends only half of it\n\
         first, as a slow network or a sender that writes byte by byte could.",
        "为了说明客户端为什么连报头也要循环读，这个服务端先只发报头的一半，\n\
         就像网络慢或者发送方一个字节一个字节地写时那样。",
    );
    let first_try = framing::read_frame(&mut caller, &mut decoder, 1024);
    let blocked = matches!(&first_try, Err(framing::ReadError::Io(e)) if is_blocked(e));
    t.expect(blocked, "the client waits for the rest of the header")?;
    t.note(
        "recv(4) returned only 2 bytes, so the loop asks for the 2 still missing and waits.\n\
         A client that trusted recv(4) to return 4 bytes would unpack garbage here.",
        "recv(4) 只返回了 2 个字节，于是循环再要还缺的 2 个字节，并等着它们到来。\n\
         如果客户端以为 recv(4) 一定返回 4 个字节，这里就会解出一个错误的数。",
    );
    conn.send(&header[2..])?;
    conn.send(&out)?;
    let frame = framing::read_frame(&mut caller, &mut decoder, 1024)?;
    let got = frame.map(|f| f.payload).unwrap_or_default();
    t.expect(got == out, "the client got the whole output")?;
    t.note(
        "The rest of the header arrived, so the same loop carries on: size 6, then exactly 6 bytes.\n\
         (In Python the client would still be inside that recv(2); it returns when the bytes come.)",
        "报头剩下的部分到了，同一个循环继续：大小是 6，再正好读 6 个字节。\n\
         （在 Python 里客户端还停在那个 recv(2) 里；字节一到它就返回。）",
    );
    let left = kernel.recv_queue(&caller)?;
    t.expect(left == 0, "nothing is left over")?;
    t.note(
        "hello arrives alone and whole: no tail of seq in front of it, as there was in lab 07.",
        "hello 单独、完整地到达：前面没有 seq 的残留，不像实验 07 那样。",
    );

    t.section("Byte order: 'i' or '!I'", "字节顺序：'i' 还是 '!I'");
    let portable = server.struct_pack("header", Pack::NetworkUnsigned, long_len)?;
    let little = pyrepr::bytes_literal(&long_header);
    t.note(
        format!(
            "'!I' means network byte order (big-endian, highest byte first) and unsigned: the same\n\
             4 bytes on every machine. Compare {little} that 'i' gave for {long_len} above."
        ),
        format!(
            "'!I' 表示网络字节序（大端序，高位字节在前）、无符号：在任何机器上都是同样的 4 个字节。\n\
             对比上面 'i' 为 {long_len} 得到的 {little}。"
        ),
    );
    let misread = t
        .side("client")
        .struct_unpack("total_size", Pack::NativeInt, portable);
    t.expect(misread < 0, "the mismatched read gives a negative size")?;
    t.note(
        "A reader that unpacks with 'i' on a little-endian machine reads those bytes backwards and\n\
         gets a negative size. That is what happens when two machines' native orders differ, and\n\
         why '!I' on both sides is the portable choice. netlab keeps the course's 'i' so that its\n\
         frames match what the course's scripts send on a usual PC.",
        "在小端机器上用 'i' 去解，就把这些字节倒着读了，得到一个负数大小。两台机器的本机字节序\n\
         不一样时就会这样，所以两边都用 '!I' 才是可移植的做法。netlab 保留课程的 'i'，\n\
         好让它的帧和课程脚本在普通 PC 上发出的一致。",
    );
    let mut check = FrameDecoder::new(framing::Format::LengthHeader);
    check.feed(&portable);
    let refused = check.next_frame();
    t.expect(
        matches!(refused, Err(framing::FrameError::NegativeSize { .. })),
        "netlab's decoder refuses a negative size",
    )?;
    let why = refused.err().map(|e| e.to_string()).unwrap_or_default();
    t.note(
        format!("Fed these 4 bytes, netlab's decoder stops with a clear error instead:\n{why}."),
        format!("把这 4 个字节交给 netlab 的解码器，它会明确报错并停下（不会去分配内存）：\n{why}."),
    );

    t.section("Hang up and switch off", "挂断并关机");
    caller.close();
    conn.recv_into_var("cmd", 1024)?;
    conn.close();
    phone.close();
    Ok(())
}
