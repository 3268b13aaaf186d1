//! Lab 09: the second fix. The 4-byte header now carries the length of a JSON header, and the
//! JSON header describes the data: file name, total size and MD5. The client reads 4 bytes,
//! then the JSON, then exactly total_size bytes, and checks the MD5 it computes itself.

use netlab::framing::{self, FrameDecoder};
use netlab::prelude::*;
use netlab::sock::Sock;

pub const TITLE: Text = Text::fixed(
    "fix two: a JSON header with name, size and MD5, then the data",
    "解决办法二：JSON 报头（文件名、大小、MD5），再发数据",
);

/// The same two commands as labs 07 and 08.
const COMMANDS: [&[u8]; 2] = [b"seq 1000 1400", b"echo hello"];

/// The file the server offers: 60 numbered lines, the same bytes on every run.
fn report() -> Vec<u8> {
    (1..=60)
        .map(|i| format!("line {i:02} of report.txt: the receiver checks every byte with MD5\n"))
        .collect::<String>()
        .into_bytes()
}

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");
    let kernel = t.kernel();

    t.section("The server has a file to offer", "服务端准备好一个文件");
    let dir = t.temp_dir()?;
    let original = dir.join("report.txt");
    server.write_file(&original, &report())?;
    t.note(
        "A file made for this run in a temporary directory (TMP), removed when the lab ends.",
        "这次运行在临时目录（TMP）里生成的文件，实验结束时会被删除。",
    );

    t.section("The server switches on and the client connects", "服务端开机，客户端连上");
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let mut caller = client.tcp("phone")?;
    caller.connect(&phone.local_addr()?)?;
    let (conn, _) = phone.accept("conn")?;
    let mut decoder = FrameDecoder::new(framing::Format::JsonHeader);

    for (i, command) in COMMANDS.into_iter().enumerate() {
        if i == 0 {
            t.section(
                "seq 1000 1400 with a JSON header",
                "seq 1000 1400：带 JSON 报头",
            );
        } else {
            t.section("echo hello, the same way", "echo hello：同样的做法");
        }
        caller.send(command)?;
        let cmd = conn.recv_into_var("cmd", 1024)?;
        let out = server.run_command("res", &cmd)?.combined();
        let header = send_with_json_header(&server, &conn, "output.txt", "out", &out)?;
        if i == 0 {
            t.note(
                "out is res.stdout + res.stderr. Three sends: 4 bytes saying how long the JSON is, the\n\
                 JSON, then the data. The JSON can grow (more fields, longer names) because its own\n\
                 length travels in front of it.",
                "out 就是 res.stdout + res.stderr。发三次：4 个字节说明 JSON 有多长，然后是 JSON，\n\
                 最后是数据。JSON 可以随意加长（更多字段、更长的名字），因为它自己的长度走在它前面。",
            );
        }
        let frame = framing::read_frame(&mut caller, &mut decoder, 1024)?;
        let got = frame.map(|f| f.payload).unwrap_or_default();
        t.expect(got == out, "the client got the whole output")?;
        if i == 0 {
            t.note(
                "The client reads 4 bytes, then exactly that many bytes of JSON, then loops until it\n\
                 has total_size bytes, each recv asking for no more than is missing.",
                "客户端先读 4 个字节，再正好读那么多字节的 JSON，然后循环读到满 total_size 字节，\n\
                 每次 recv 都不多要。",
            );
        }
        let digest = client.md5_hex("digest", "data", &got);
        t.expect(digest == header.md5, "the MD5 computed by the client matches")?;
        if i == 0 {
            t.note(
                "The client hashes what it received and compares it with header_dic['md5']: equal.",
                "客户端对收到的数据算 MD5，和 header_dic['md5'] 比较：一致。",
            );
        }
        let left = kernel.recv_queue(&caller)?;
        t.expect(left == 0, "nothing is left over")?;
    }

    t.section("A file, checked by MD5 at the receiver", "传一个文件，接收方用 MD5 校验");
    caller.send(b"get report.txt")?;
    let request = conn.recv_into_var("cmd", 1024)?;
    t.note(
        "This request is not a command to run: the server program answers it itself, by reading\n\
         the one file it offers and sending it the same way.",
        "这个请求不是要运行的命令：服务端程序自己处理它，读出它提供的那个文件，用同样的方式发送。",
    );
    t.expect(request == b"get report.txt", "the request arrived whole")?;
    let data = server.read_file("data", &original)?;
    let header = send_with_json_header(&server, &conn, "report.txt", "data", &data)?;
    let frame = framing::read_frame(&mut caller, &mut decoder, 1024)?;
    let got = frame.map(|f| f.payload).unwrap_or_default();
    t.expect(got == data, "the client got the whole file")?;
    let digest = client.md5_hex("digest", "data", &got);
    t.expect(digest == header.md5, "the file's MD5 matches")?;
    t.note(
        format!(
            "{} bytes arrived and their MD5 is the one the server computed from the file: the copy\n\
             is complete and unchanged. (The course's header carries a placeholder '12345678';\n\
             netlab computes the real MD5 on both sides.)",
            got.len()
        ),
        format!(
            "收到 {} 个字节，MD5 和服务端从文件算出的一致：副本完整、没有被改动。\n\
             （课程的报头里放的是占位的 '12345678'；netlab 在两边都真的计算 MD5。）",
            got.len()
        ),
    );
    let copy = dir.join("received-report.txt");
    client.write_file(&copy, &got)?;
    t.expect(
        std::fs::read(&copy)? == std::fs::read(&original)?,
        "the saved copy equals the original file",
    )?;
    t.note(
        "The client saves what it received under a name of its own choosing. A receiver never uses\n\
         header_dic['filename'] as a path as it is: a peer could send '../../.bashrc'.",
        "客户端用它自己定的名字保存收到的数据。接收方绝不能把 header_dic['filename'] 直接当路径用：\n\
         对方可能发来 '../../.bashrc'。",
    );
    let left = kernel.recv_queue(&caller)?;
    t.expect(left == 0, "nothing is left over")?;

    t.section("Hang up and switch off", "挂断并关机");
    caller.close();
    conn.recv_into_var("cmd", 1024)?;
    conn.close();
    phone.close();
    Ok(())
}

/// The server's side of fix two: build the JSON header for `data`, send its length as
/// struct.pack('i', ...), the JSON, then the data. Returns the header it sent.
fn send_with_json_header(
    server: &netlab::sock::Side,
    conn: &Sock,
    filename: &str,
    data_var: &str,
    data: &[u8],
) -> Result<framing::JsonHeader, LabError> {
    let header = server.header_dict("header_dic", filename, data_var, data);
    let json = server.json_dumps("header_bytes", "header_dic", &header);
    let size = server.struct_pack("header", Pack::NativeInt, json.len())?;
    conn.send(&size)?;
    conn.send(&json)?;
    conn.send(data)?;
    Ok(header)
}
