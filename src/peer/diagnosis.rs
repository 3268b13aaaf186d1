//! What a program outside netlab did wrong, as netlab saw it: each diagnosis has a stable
//! code (JSON's `diagnosis` field, for tests and graders), a short title, the finding (what
//! was observed, with its figures) and a note on what it means and how to fix it, in English
//! and Chinese. Only observations make a diagnosis; none is a guess about code netlab cannot
//! see, and each note says what the course's program would do at that point.

use super::Role;
use crate::event::{ByteFacts, Count, Facts, Text};
use crate::framing::Piece;
use crate::pyrepr;
use crate::sock::registry::Registry;

/// How much of a peer's bytes a diagnosis quotes.
const QUOTED: usize = 48;

/// One thing the peer did that the lab's protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnosis {
    /// Connected, then sent nothing for the whole wait.
    Silent,
    /// After talking, the client neither sent its next request nor hung up for `waited`.
    Idle { waited: std::time::Duration },
    /// UDP: no datagram came back for the whole wait.
    NoReply,
    /// Nothing listens on the port: the kernel refused the connection.
    Refused { port: u16 },
    /// The server closed the connection (FIN) instead of answering netlab's request.
    ClosedWithoutReply,
    /// FIN in the middle of a message: `have` of the `need` bytes of `piece`.
    ShortMessage {
        piece: Piece,
        have: usize,
        need: usize,
    },
    /// Part of a message, then nothing for the whole wait (the connection still open).
    Stalled {
        piece: Piece,
        have: usize,
        need: usize,
    },
    /// RST: between messages (None) or in the middle of one.
    Reset {
        progress: Option<(Piece, usize, usize)>,
    },
    /// The peer closed its end while netlab was still sending (BrokenPipeError).
    ClosedWhileSending,
    /// A 4-byte header that gives a sensible size only when read in the other byte order.
    ByteOrder {
        header: [u8; 4],
        read: i32,
        swapped: i32,
    },
    /// A 4-byte header that reads as a negative size in either byte order.
    NegativeLength { header: [u8; 4], read: i32 },
    /// A size over netlab's limit for a message of this lab.
    InsaneLength { announced: u64, limit: usize },
    /// A JSON header that is not valid JSON, or not an object.
    BadJson { why: String },
    /// A JSON header without a field the receiver needs.
    MissingField { field: &'static str },
    /// A JSON header field of the wrong type or form.
    BadField {
        field: &'static str,
        expected: &'static str,
        found: String,
    },
    /// The data's MD5 is not the one its header promised.
    Md5Mismatch { expected: String, actual: String },
    /// Bytes already waiting after a whole message: the sender sent more than it announced.
    Leftover { bytes: usize },
    /// The client sent its next request with `bytes` of the last reply still unread.
    StaleTail { bytes: usize },
    /// A reply other than the one this lab's server sends.
    UnexpectedReply { expected: Vec<u8>, got: Vec<u8> },
    /// After netlab's FIN the server kept its end open for the whole wait.
    NotClosed,
    /// The peer stopped reading: a sendall stayed blocked for the whole wait (`selector`
    /// false), or, in netlab's event loop, the selector never reported the socket writable
    /// while the rest of a reply waited (`selector` true).
    NotReading {
        taken: usize,
        total: usize,
        selector: bool,
    },
    /// A datagram longer than the receive buffer: the rest was lost.
    DatagramCut { len: usize, kept: usize },
    /// A request that is not UTF-8, where the course's server decodes it as UTF-8.
    NotUtf8,
    /// netlab's client `client` got no answer for the whole wait while its client `quiet`
    /// was connected and silent, and its bytes wait unread in the server's socket (the
    /// kernel's table): the server serves one client at a time. `queued`: connections in the
    /// server's accept queue (None: the table had no listening socket there).
    NotConcurrent {
        client: u32,
        quiet: u32,
        unread: usize,
        queued: Option<u32>,
    },
}

/// The other program, as the notes name it.
fn peer(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Serve => ("client", "客户端"),
        Role::Connect => ("server", "服务端"),
    }
}

fn quoted(bytes: &[u8]) -> String {
    pyrepr::bytes_preview(bytes, QUOTED)
}

/// `2005-byte payload` / `2005 字节的数据`.
fn piece_text(piece: Piece) -> (String, String) {
    let zh = match piece {
        Piece::LengthHeader => "长度报头",
        Piece::JsonHeader { .. } => "JSON 报头",
        Piece::Payload { .. } => "数据",
    };
    (piece.to_string(), format!("{} 字节的{zh}", piece.len()))
}

/// A diagnosis as the trace shows it: the line's title and finding, and the note under it.
pub(crate) struct Shown {
    pub title: Text,
    pub finding: Text,
    pub advice: Text,
}

fn shown(title: Text, finding: Text, advice: Text) -> Shown {
    Shown {
        title: Text::new(
            format!("diagnosis: {}", title.en),
            format!("诊断：{}", title.zh),
        ),
        finding,
        advice,
    }
}

impl Diagnosis {
    /// Every code [`Diagnosis::code`] gives, as docs/trace.schema.json and the README list
    /// them (a test keeps the three the same).
    pub const CODES: &'static [&'static str] = &[
        "silent_peer",
        "idle_peer",
        "no_reply",
        "refused",
        "closed_without_reply",
        "short_reply",
        "closed_mid_message",
        "stalled",
        "reset",
        "reset_mid_message",
        "closed_while_sending",
        "byte_order",
        "negative_length",
        "insane_length",
        "bad_json",
        "missing_field",
        "bad_field",
        "md5_mismatch",
        "leftover_bytes",
        "stale_tail",
        "unexpected_reply",
        "not_closed",
        "not_reading",
        "datagram_cut",
        "not_utf8",
        "not_concurrent",
    ];

    /// The stable code JSON shows in `diagnosis`.
    pub fn code(&self) -> &'static str {
        match self {
            Diagnosis::Silent => "silent_peer",
            Diagnosis::Idle { .. } => "idle_peer",
            Diagnosis::NoReply => "no_reply",
            Diagnosis::Refused { .. } => "refused",
            Diagnosis::ClosedWithoutReply => "closed_without_reply",
            Diagnosis::ShortMessage {
                piece: Piece::Payload { .. },
                ..
            } => "short_reply",
            Diagnosis::ShortMessage { .. } => "closed_mid_message",
            Diagnosis::Stalled { .. } => "stalled",
            Diagnosis::Reset { progress: None } => "reset",
            Diagnosis::Reset { .. } => "reset_mid_message",
            Diagnosis::ClosedWhileSending => "closed_while_sending",
            Diagnosis::ByteOrder { .. } => "byte_order",
            Diagnosis::NegativeLength { .. } => "negative_length",
            Diagnosis::InsaneLength { .. } => "insane_length",
            Diagnosis::BadJson { .. } => "bad_json",
            Diagnosis::MissingField { .. } => "missing_field",
            Diagnosis::BadField { .. } => "bad_field",
            Diagnosis::Md5Mismatch { .. } => "md5_mismatch",
            Diagnosis::Leftover { .. } => "leftover_bytes",
            Diagnosis::StaleTail { .. } => "stale_tail",
            Diagnosis::UnexpectedReply { .. } => "unexpected_reply",
            Diagnosis::NotClosed => "not_closed",
            Diagnosis::NotReading { .. } => "not_reading",
            Diagnosis::DatagramCut { .. } => "datagram_cut",
            Diagnosis::NotUtf8 => "not_utf8",
            Diagnosis::NotConcurrent { .. } => "not_concurrent",
        }
    }

    /// The finding's figures as data, in the fields every line uses for them: how far a
    /// message got (`bytes`: `count` of `of`), bytes left in a queue (`queue`), the port
    /// where nothing listens (`peer`). A diagnosis whose figures are on the line before it
    /// (the `struct.unpack` of a refused header, the exception of a call) adds nothing.
    pub(crate) fn facts(&self, facts: &mut Facts, registry: &Registry) {
        let part = |count: usize, of: usize| {
            let mut bytes = ByteFacts::new(Count::Number(count as u64), None);
            bytes.of = Some(of as u64);
            bytes
        };
        match self {
            Diagnosis::Refused { port } => facts.peer = Some(registry.port(*port)),
            Diagnosis::ShortMessage { have, need, .. }
            | Diagnosis::Stalled { have, need, .. }
            | Diagnosis::Reset {
                progress: Some((_, have, need)),
            } => facts.bytes = Some(part(*have, *need)),
            Diagnosis::NotReading { taken, total, .. } => {
                facts.bytes = Some(part(*taken, *total));
            }
            Diagnosis::DatagramCut { len, kept } => facts.bytes = Some(part(*kept, *len)),
            Diagnosis::Leftover { bytes } => {
                facts.queue = vec![("receive", Count::Number(*bytes as u64))];
            }
            Diagnosis::StaleTail { bytes } => {
                facts.queue = vec![("peer_receive", Count::Number(*bytes as u64))];
            }
            Diagnosis::NotConcurrent { unread, queued, .. } => {
                facts.queue = vec![("peer_receive", Count::Number(*unread as u64))];
                if let Some(queued) = queued {
                    facts
                        .queue
                        .push(("peer_accept", Count::Number((*queued).into())));
                }
            }
            _ => {}
        }
    }

    /// The title, finding and note, for a peer that is `role`'s other side; `waited` is the
    /// declared wait as the trace writes it (`30 s`).
    pub(crate) fn show(&self, role: Role, waited: &Text) -> Shown {
        let (who, who_zh) = peer(role);
        let w = &waited.en;
        match self {
            Diagnosis::Silent => match role {
                Role::Serve => shown(
                    Text::new("the client sent nothing", "客户端什么也没发"),
                    Text::new(
                        format!("no byte for {w} after it connected"),
                        format!("连上之后 {w} 内没有收到任何字节"),
                    ),
                    Text::new(
                        format!("This server's recv() waits until the client sends at least one byte, so the course's server would wait here forever. A client that sends an empty message sends nothing at all: send(b'') returns 0 and puts no packet on the wire, and then both sides wait in recv() (lab 03). Skip empty input before sending, as in `if not msg: continue`. netlab gives up on this client after {w} and closes the connection: the client's next recv() returns b''."),
                        format!("服务端的 recv() 要等客户端至少发来一个字节，所以课程里的服务端会在这里一直等下去。客户端发送空消息其实什么也没发：send(b'') 返回 0，线路上没有任何数据包，结果两边都卡在 recv() 里（实验 03）。发送前先跳过空输入，例如 `if not msg: continue`。netlab 等了 {w} 后放弃这个客户端并关闭连接：客户端的下一次 recv() 会返回 b''。"),
                    ),
                ),
                Role::Connect => shown(
                    Text::new("the server did not answer", "服务端没有回答"),
                    Text::new(
                        format!("no byte for {w} after netlab's request"),
                        format!("netlab 发出请求后 {w} 内没有收到任何字节"),
                    ),
                    Text::new(
                        format!("netlab sent its request and waited {w} for the reply; the course's client would wait forever. Check that your server answers every message with send(), that it reads this connection at all (a server still in its communication loop with an earlier client accepts the next one only after that one ends, lab 02), and that it does not wait for more bytes than netlab sent."),
                        format!("netlab 发出了请求，等了 {w} 也没等到回复；课程里的客户端会一直等下去。请检查：你的服务端是否对每条消息都用 send() 回复；它是否在读这条连接（还在和前一个客户端通信循环的服务端，要等那条连接结束才会接下一个，实验 02）；它是否在等比 netlab 发出的更多的字节。"),
                    ),
                ),
            },
            Diagnosis::Idle { waited } => {
                let w = super::outside::Outside::show(*waited).en;
                shown(
                    Text::new(format!("the {who} went quiet"), format!("{who_zh}不出声了")),
                    Text::new(
                        format!("no next request for {w}"),
                        format!("{w} 内没有下一个请求"),
                    ),
                    Text::new(
                        format!("After its last request the {who} neither sent another one nor hung up for {w}. A person may still be typing (start netlab with a longer --wait); a program may be waiting for a reply it believes is still coming, or may have sent an empty message, which sends nothing (send(b''), lab 03). netlab closes this connection so that the next {who} can be served."),
                        format!("{who_zh}在上一个请求之后 {w} 内既没有发下一个请求，也没有挂断。可能有人还在打字（启动 netlab 时把 --wait 设长一点）；也可能程序在等一个它以为还会来的回复，或者发了一条空消息，而空消息什么也不会发出（send(b'')，实验 03）。netlab 关闭这条连接，好去服务下一个{who_zh}。"),
                    ),
                )
            }
            Diagnosis::NoReply => shown(
                Text::new("no reply datagram", "没有收到回复数据报"),
                Text::new(format!("nothing for {w}"), format!("{w} 内什么也没收到")),
                Text::new(
                    format!("UDP has no connection, so nothing tells an unconnected socket whether a server is there: a datagram sent to a port where no program is bound is simply dropped (lab 10), and recvfrom() would wait forever. Start your server first, check its port, and check that it sends its answer to the address recvfrom() gave it. netlab stopped waiting after {w}."),
                    format!("UDP 没有连接，未连接的套接字不会被告知服务端在不在：发往没有程序绑定的端口的数据报会被直接丢弃（实验 10），recvfrom() 会一直等下去。请先启动服务端，检查端口，并确认它把回复发往 recvfrom() 给出的地址。netlab 等了 {w} 后不再等待。"),
                ),
            ),
            Diagnosis::Refused { port } => shown(
                Text::new("nothing listens on that port", "那个端口上没有程序在监听"),
                Text::new(
                    format!("ConnectionRefusedError on 127.0.0.1:{port}"),
                    format!("127.0.0.1:{port} 上 ConnectionRefusedError"),
                ),
                Text::new(
                    format!("No socket listens on port {port}, so the kernel answered netlab's SYN with RST. Start your server first, in another terminal (`python3 server.py {port}`), or give netlab your server's port with --port. If your server answered one caller and then ended, it has no link loop: wrap accept() and the conversation in `while True:` (lab 02). If it crashed, its terminal shows the traceback."),
                    format!("端口 {port} 上没有在监听的套接字，所以内核用 RST 回应了 netlab 的 SYN。请先在另一个终端启动你的服务端（`python3 server.py {port}`），或者用 --port 告诉 netlab 你的服务端端口。如果你的服务端接完一个来电就结束了，说明它没有链接循环：把 accept() 和通信部分放进 `while True:`（实验 02）。如果它崩溃了，它的终端里会有 traceback。"),
                ),
            ),
            Diagnosis::ClosedWithoutReply => shown(
                Text::new("the server hung up without a reply", "服务端没回复就挂断了"),
                Text::new("recv() returned b''", "recv() 返回了 b''"),
                Text::new(
                    "netlab sent its request and the server closed the connection (FIN) instead of answering. Did it end after its first message, or break out of its loop on something other than b''? The course's client would print an empty reply here, and on its next send() meet BrokenPipeError.",
                    "netlab 发出了请求，服务端却关闭了连接（FIN），没有回复。它是不是收到第一条消息后就结束了，或者因为别的原因（而不是收到 b''）跳出了循环？课程里的客户端在这里会打印一个空回复，下一次 send() 会遇到 BrokenPipeError。",
                ),
            ),
            Diagnosis::ShortMessage { piece, have, need } => {
                let (p, p_zh) = piece_text(*piece);
                let payload = matches!(piece, Piece::Payload { .. });
                shown(
                    if payload {
                        Text::new("a message shorter than its header announced", "消息比报头声明的短")
                    } else {
                        Text::new(format!("the {who} closed in the middle of a header"), format!("{who_zh}在报头中途关闭了连接"))
                    },
                    Text::new(
                        format!("FIN after {have} of the {p}"),
                        format!("{p_zh}只收到 {have} 字节就收到了 FIN"),
                    ),
                    if payload {
                        Text::new(
                            format!("The header promised {need} bytes and the connection ended after {have}. A sender does this when the size it packs is not the size of what it sends: len() of a str instead of the encoded bytes, the size of stdout while it sends stdout and stderr, or a program that ended before its last send. A receiver that loops `while recv_size < total_size` meets b'' here and, without a check, loops forever."),
                            format!("报头声明了 {need} 字节，连接却在 {have} 字节后结束了。打包的大小和实际发送的大小不一致时就会这样：对 str 而不是编码后的 bytes 求 len()、声明的是 stdout 的大小却发了 stdout 加 stderr，或者程序在最后一次 send 完成前就结束了。用 `while recv_size < total_size` 循环的接收方在这里会收到 b''，如果不检查就会死循环。"),
                        )
                    } else {
                        Text::new(
                            format!("The {who} closed after {have} of the {need} bytes of the {}: the receiver cannot even tell how long the message was meant to be.", piece.name()),
                            format!("{who_zh}在 {p_zh}只发了 {have} 字节时就关闭了：接收方连这条消息本该有多长都无从知道。"),
                        )
                    },
                )
            }
            Diagnosis::Stalled { piece, have, need } => {
                let (p, p_zh) = piece_text(*piece);
                shown(
                    Text::new(format!("the {who} stopped in the middle of a message"), format!("{who_zh}在消息中途停住了")),
                    Text::new(
                        format!("{have} of the {p}, then nothing for {w}"),
                        format!("{p_zh}只来了 {have} 字节，之后 {w} 内再无数据"),
                    ),
                    Text::new(
                        format!("The header announced {need} bytes, only {have} came, and the connection is still open: a receiver that trusts the header (as it must) waits here forever. Check that the size you pack is len() of the very bytes you then send, after encode()."),
                        format!("报头声明了 {need} 字节，只来了 {have} 字节，连接却还开着：信任报头的接收方（它也只能信任报头）会在这里一直等下去。请检查打包的大小是不是之后实际发送的那个 bytes 对象（encode() 之后）的 len()。"),
                    ),
                )
            }
            Diagnosis::Reset { progress } => {
                let (finding, finding_zh) = match progress {
                    None => ("ConnectionResetError".to_string(), "ConnectionResetError".to_string()),
                    Some((piece, have, _)) => {
                        let (p, p_zh) = piece_text(*piece);
                        (
                            format!("ConnectionResetError after {have} of the {p}"),
                            format!("{p_zh}收到 {have} 字节后 ConnectionResetError"),
                        )
                    }
                };
                shown(
                    Text::new(format!("the {who} reset the connection (RST)"), format!("{who_zh}重置了连接（RST）")),
                    Text::new(finding, finding_zh),
                    Text::new(
                        format!("RST ends a connection at once, without the orderly FIN. On Linux a program sends it when it closes a socket with bytes still unread in its receive queue, or with SO_LINGER (1, 0); on Windows a program that is killed does (lab 04). recv() then raises ConnectionResetError instead of returning b''. A server survives it by catching it around its communication loop (`except ConnectionResetError: break`) and going back to accept(). netlab does exactly that and serves the next {who}."),
                        format!("RST 会立刻终止连接，不走有序的 FIN。在 Linux 上，程序关闭套接字时如果接收队列里还有没读的字节，或者设置了 SO_LINGER (1, 0)，就会发 RST；在 Windows 上，被杀掉的程序也会这样（实验 04）。这时 recv() 抛出 ConnectionResetError，而不是返回 b''。服务端要在通信循环外捕获它（`except ConnectionResetError: break`），再回到 accept()。netlab 正是这样做的，并继续服务下一个{who_zh}。"),
                    ),
                )
            }
            Diagnosis::ClosedWhileSending => shown(
                Text::new(format!("the {who} left before the reply was sent"), format!("{who_zh}在回复发完之前就走了")),
                Text::new("BrokenPipeError", "BrokenPipeError"),
                Text::new(
                    format!("netlab was still sending when the {who}'s end was already gone, so the kernel refused the bytes (EPIPE). The {who} closed or ended without reading the whole reply."),
                    format!("netlab 还在发送，{who_zh}那一头已经没了，所以内核拒收这些字节（EPIPE）。{who_zh}没有读完整个回复就关闭或结束了。"),
                ),
            ),
            Diagnosis::ByteOrder { header, read, swapped } => shown(
                Text::new("a header in the wrong byte order", "报头字节顺序不对"),
                Text::new(
                    format!("{} is {read} as 'i', {swapped} byte-swapped", pyrepr::bytes_literal(header)),
                    format!("{} 按 'i' 读是 {read}，字节反过来读是 {swapped}", pyrepr::bytes_literal(header)),
                ),
                Text::new(
                    format!("Read as struct.unpack('i', header), as the course reads it (little-endian on this machine), these 4 bytes give {read}, which is no sensible size; read in the other byte order they give {swapped}. Most likely the sender packed the size big-endian ('!i', '>i' or '!I') while the receiver unpacks the native 'i' (or these 4 bytes are no header at all). Use the same format on both sides (lab 08)."),
                    format!("按课程的写法 struct.unpack('i', header) 来读（在这台机器上是小端序），这 4 个字节得到 {read}，不是合理的大小；反过来按另一种字节顺序读，得到 {swapped}。多半是发送方用大端序打包（'!i'、'>i' 或 '!I'），接收方却用本机的 'i' 解包（也可能这 4 个字节根本不是报头）。两边要用同一种格式（实验 08）。"),
                ),
            ),
            Diagnosis::NegativeLength { header, read } => shown(
                Text::new("a negative length", "长度是负数"),
                Text::new(
                    format!("{} is {read} as 'i'", pyrepr::bytes_literal(header)),
                    format!("{} 按 'i' 读是 {read}", pyrepr::bytes_literal(header)),
                ),
                Text::new(
                    "These 4 bytes read as a negative size in either byte order, so they are not a size at all: the sender sent something else where the header belongs (data without a header, or a header of another format). A loop `while recv_size < total_size` would not even start, and the real data would be taken for the next header.",
                    "这 4 个字节不论按哪种字节顺序读都是负数，所以它们根本不是大小：发送方在报头的位置发了别的东西（没有报头的数据，或者别的格式的报头）。`while recv_size < total_size` 的循环一次都不会执行，真正的数据会被当成下一个报头。",
                ),
            ),
            Diagnosis::InsaneLength { announced, limit } => shown(
                Text::new("a length no message here can have", "不可能的长度"),
                Text::new(
                    format!("{announced} bytes announced, limit {limit}"),
                    format!("声明了 {announced} 字节，上限 {limit}"),
                ),
                Text::new(
                    format!("The header announced {announced} bytes, more than netlab accepts for one message of this lab ({limit}); a real reply here is a few kilobytes. netlab neither waits for those bytes nor reserves memory for them, and drops the connection. A program that trusted the header would try to receive (or allocate) that much. Most likely these 4 bytes are not a header: data sent without one, or something sent before it."),
                    format!("报头声明了 {announced} 字节，超过 netlab 对本实验单条消息的上限（{limit}）；这里真实的回复只有几 KB。netlab 既不等待这些字节，也不为它们预留内存，而是断开连接。信任报头的程序会试图接收（或分配）这么多。这 4 个字节多半不是报头：可能是没带报头就发出的数据，或者报头前面多发了别的东西。"),
                ),
            ),
            Diagnosis::BadJson { why } => shown(
                Text::new("a JSON header that does not parse", "JSON 报头解析失败"),
                Text::new(format!("not valid JSON: {why}"), format!("不是有效的 JSON：{why}")),
                Text::new(
                    "The bytes the length header announced are not one JSON object, so json.loads() would raise here. Send json.dumps(header_dic).encode('utf-8'), and pack len() of exactly those bytes (lab 09).",
                    "长度报头声明的那些字节不是一个 JSON 对象，json.loads() 在这里会抛出异常。应当发送 json.dumps(header_dic).encode('utf-8')，并且打包的正是这些字节的 len()（实验 09）。",
                ),
            ),
            Diagnosis::MissingField { field } => shown(
                Text::new(format!("the JSON header has no {field:?}"), format!("JSON 报头缺少 {field:?}")),
                Text::new(format!("KeyError: '{field}'"), format!("KeyError: '{field}'")),
                Text::new(
                    format!("The receiver reads header_dic['{field}'] to know how many bytes follow, and this header has no such key: the course's client raises KeyError here. Put '{field}' in header_dic before json.dumps()."),
                    format!("接收方要读 header_dic['{field}'] 才知道后面跟着多少字节，可这个报头里没有这个键：课程里的客户端会在这里抛出 KeyError。请在 json.dumps() 之前把 '{field}' 放进 header_dic。"),
                ),
            ),
            Diagnosis::BadField { field, expected, found } => shown(
                Text::new(format!("the JSON header's {field:?} is wrong"), format!("JSON 报头的 {field:?} 不对")),
                Text::new(format!("{found}, expected {expected}"), format!("是 {found}，应为 {expected}")),
                Text::new(
                    format!("header_dic['{field}'] should be {expected}. A size written as a string ('2005') or a float makes `recv_size < total_size` compare the wrong things."),
                    format!("header_dic['{field}'] 应当是 {expected}。把大小写成字符串（'2005'）或浮点数，会让 `recv_size < total_size` 比较出错。"),
                ),
            ),
            Diagnosis::Md5Mismatch { expected, actual } => shown(
                Text::new("the data does not match its MD5", "数据与 MD5 不符"),
                Text::new(format!("header says {expected}, data is {actual}"), format!("报头里是 {expected}，数据算出来是 {actual}")),
                Text::new(
                    "The receiver hashed exactly total_size bytes and got another MD5 than the header promised: the sender hashed other bytes than it sent (before encode(), or only stdout), or the reader took bytes of the wrong message.",
                    "接收方对正好 total_size 个字节算 MD5，结果和报头承诺的不一样：发送方算 MD5 的字节和实际发送的不同（encode() 之前的，或只算了 stdout），或者读到了别的消息的字节。",
                ),
            ),
            Diagnosis::Leftover { bytes } => shown(
                Text::new("bytes after a whole message", "完整消息之后还有多余字节"),
                Text::new(format!("{bytes} more bytes waiting"), format!("还有 {bytes} 字节在等待")),
                Text::new(
                    format!("netlab read exactly what the header announced, and {bytes} more bytes already wait in its receive queue: the {who} sent more than it announced (stdout and stderr after announcing one of them, or a file after the reply). They would stick to the front of the next reply: a sticky packet caught in the act (lab 07)."),
                    format!("netlab 正好读完了报头声明的字节，接收队列里却已经又有 {bytes} 字节在等：{who_zh}发的比它声明的多（只声明了 stdout 或 stderr 之一却两个都发了，或者回复之后又发了一个文件）。它们会粘到下一个回复的前面：当场抓住的粘包（实验 07）。"),
                ),
            ),
            Diagnosis::StaleTail { bytes } => shown(
                Text::new("the client left the last reply unread", "客户端没读完上一个回复"),
                Text::new(
                    format!("{bytes} bytes still in its receive queue"),
                    format!("它的接收队列里还有 {bytes} 字节"),
                ),
                Text::new(
                    format!("The client sent its next command while {bytes} bytes of the last reply still wait unread in its socket (the kernel's table shows its receive queue): it read only part of that reply, as recv(1024) does when a reply is longer. Its next recv() returns that old tail first, in front of the new reply: the sticky packet of lab 07. Lab 08 fixes it: send the size first, and read until you have that many bytes."),
                    format!("客户端发出下一条命令时，上一个回复还有 {bytes} 字节没读，留在它的套接字里（内核的连接表显示了它的接收队列）：它只读了回复的一部分，回复比 1024 长时 recv(1024) 就是这样。它的下一次 recv() 会先拿到这段旧的尾巴，排在新回复前面：这就是实验 07 的粘包。实验 08 的解决办法：先发大小，再读到够数为止。"),
                ),
            ),
            Diagnosis::UnexpectedReply { expected, got } => shown(
                Text::new("not the reply this lab's server sends", "不是本实验服务端该给的回复"),
                Text::new(
                    format!("expected {}, got {}", quoted(expected), quoted(got)),
                    format!("应为 {}，实际是 {}", quoted(expected), quoted(got)),
                ),
                Text::new(
                    format!("The course's server for this lab answers {} here. Compare what your server does with the lesson (`netlab show` prints it, `netlab show --code` the server the lesson means).", quoted(expected)),
                    format!("本实验课程里的服务端在这里会回答 {}。把你的服务端和课程内容对照一下（`netlab show` 显示课程，`netlab show --code` 显示对应的服务端程序）。", quoted(expected)),
                ),
            ),
            Diagnosis::NotClosed => shown(
                Text::new("the server did not close its end", "服务端没有关闭它那一头"),
                Text::new(
                    format!("no FIN back for {w} after netlab's FIN"),
                    format!("netlab 发出 FIN 后 {w} 内没有收到对方的 FIN"),
                ),
                Text::new(
                    "netlab sent FIN, so your server's recv() returns b'' from now on, at once and every time. A communication loop without `if not data: break` never leaves: it spins, printing b'' and sending nothing, and its end of the connection stays in CLOSE_WAIT (lab 04). Break out of the loop on b'' and close the connection.",
                    "netlab 发出了 FIN，所以从现在起你的服务端的 recv() 每次都会立刻返回 b''。没有 `if not data: break` 的通信循环永远出不来：它空转，打印 b''，什么也不发，它那一头的连接一直停在 CLOSE_WAIT（实验 04）。收到 b'' 就跳出循环并关闭连接。",
                ),
            ),
            Diagnosis::NotReading { taken, total, selector: false } => shown(
                Text::new(format!("the {who} stopped reading"), format!("{who_zh}不再读取")),
                Text::new(
                    format!("sendall blocked after {taken} of {total} bytes for {w}"),
                    format!("sendall 在 {total} 字节中发出 {taken} 字节后阻塞了 {w}"),
                ),
                Text::new(
                    format!("The reply fills both the {who}'s receive buffer and netlab's send buffer, and the {who} has not read for {w}, so sendall() cannot go on. A receiver must keep reading until it has the whole message."),
                    format!("回复塞满了{who_zh}的接收缓冲区和 netlab 的发送缓冲区，而{who_zh} {w} 内都没有再读，所以 sendall() 无法继续。接收方必须一直读，直到收齐整条消息。"),
                ),
            ),
            Diagnosis::NotReading { taken, total, selector: true } => shown(
                Text::new(format!("the {who} stopped reading"), format!("{who_zh}不再读取")),
                Text::new(
                    format!("send() took {taken} of {total} bytes, then no room for {w}"),
                    format!("send() 收下 {total} 字节中的 {taken} 字节，之后 {w} 内没有空间"),
                ),
                Text::new(
                    format!("The {who} sends and does not read its answers: they fill its receive buffer and netlab's send buffer, so send() took only part of this one, and for {w} the selector never reported the socket writable (EVENT_WRITE). netlab keeps at most that one answer for a {who}, reads nothing more from it meanwhile, and now closes the connection; its other {who}s were served all along. A receiver must keep reading what it is sent."),
                    format!("{who_zh}只发不读：它的回答塞满了它的接收缓冲区和 netlab 的发送缓冲区，所以这一次 send() 只收下一部分，而且 {w} 内选择器一次也没有报告这个套接字可写（EVENT_WRITE）。netlab 对每个{who_zh}最多留着这一个回答，其间不再读它发来的数据，现在关闭这条连接；其他{who_zh}一直照常得到服务。接收方必须把发给它的数据读走。"),
                ),
            ),
            Diagnosis::DatagramCut { len, kept } => shown(
                Text::new("a datagram longer than recvfrom's buffer", "数据报比 recvfrom 的缓冲区长"),
                Text::new(
                    format!("{len} bytes sent, {kept} kept, the rest lost"),
                    format!("发来 {len} 字节，只留下 {kept} 字节，其余丢失"),
                ),
                Text::new(
                    format!("UDP keeps a datagram whole or not at all: recvfrom({kept}) took the first {kept} bytes and the kernel dropped the rest, which no later call can read (lab 13). Keep each message within the receiver's buffer."),
                    format!("UDP 的数据报要么整个收、要么不收：recvfrom({kept}) 拿走前 {kept} 字节，其余部分被内核丢弃，之后任何调用都读不到（实验 13）。每条消息都不要超过接收方的缓冲区。"),
                ),
            ),
            Diagnosis::NotConcurrent { client, quiet, unread, queued } => {
                let (waiting, waiting_zh) = match queued {
                    Some(0) | None => (String::new(), String::new()),
                    Some(1) => (
                        ", and 1 connection waits in your server's accept queue: it has not even accepted it".to_string(),
                        "，而且有 1 个连接还在你的服务端的 accept 队列里：它连 accept 都还没做".to_string(),
                    ),
                    Some(n) => (
                        format!(", and {n} connections wait in your server's accept queue: it has not even accepted them"),
                        format!("，而且有 {n} 个连接还在你的服务端的 accept 队列里：它连 accept 都还没做"),
                    ),
                };
                let (accept, accept_zh) = match queued {
                    Some(1) => (", 1 connection not accepted".to_string(), "，1 个连接没有被 accept".to_string()),
                    Some(n) if *n > 1 => (format!(", {n} connections not accepted"), format!("，{n} 个连接没有被 accept")),
                    _ => (String::new(), String::new()),
                };
                shown(
                    Text::new(
                        format!("the server did not answer client {client} while client {quiet} was connected"),
                        format!("客户端 {quiet} 还连着时，服务端没有回答客户端 {client}"),
                    ),
                    Text::new(
                        format!("{unread} bytes unread for {w}{accept}"),
                        format!("{unread} 字节 {w} 内没有被读{accept_zh}"),
                    ),
                    Text::new(
                        format!("netlab's client {quiet} connected first and has said nothing since; client {client} connected while it was still connected, sent its message, and got no answer for {w}. Its {unread} bytes still wait unread in your server's socket (the kernel's table shows that socket's receive queue){waiting}. So your server serves one client at a time, like lab 02's link loop: it waits in recv() for client {quiet}, and client {client} is answered only after client {quiet} hangs up. Give each connection a thread of its own (lab 18), or serve every socket from one selector loop (lab 19)."),
                        format!("netlab 的客户端 {quiet} 先连上，之后一句话也没说；客户端 {client} 在它还连着的时候连上并发出消息，{w} 内没有得到回答。它的 {unread} 字节还没被读，留在你的服务端的套接字里（内核的连接表显示了那个套接字的接收队列）{waiting_zh}。所以你的服务端一次只服务一个客户端，就像实验 02 的链接循环：它在 recv() 里等客户端 {quiet}，客户端 {client} 要等客户端 {quiet} 挂断以后才会得到回答。给每个连接开一个线程（实验 18），或者用一个选择器循环服务所有套接字（实验 19）。"),
                    ),
                )
            }
            Diagnosis::NotUtf8 => shown(
                Text::new("a request that is not UTF-8", "请求不是 UTF-8"),
                Text::new("UnicodeDecodeError", "UnicodeDecodeError"),
                Text::new(
                    "The course's server decodes each request with msg.decode('utf-8'), which raises UnicodeDecodeError on these bytes, and it does not catch it: it would stop here. Send text encoded with .encode('utf-8'). netlab answers with an error message instead and goes on.",
                    "课程里的服务端用 msg.decode('utf-8') 解码每个请求，遇到这些字节会抛出 UnicodeDecodeError，而它没有捕获：它会在这里停下。发送用 .encode('utf-8') 编码的文本。netlab 则回一条错误信息并继续服务。",
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One diagnosis of every kind (and of both codes where a kind has two). The match makes
    /// a new variant fail to compile here until it has an example.
    fn examples() -> Vec<Diagnosis> {
        let payload = Piece::Payload { total: 100 };
        let all = vec![
            Diagnosis::Silent,
            Diagnosis::Idle {
                waited: std::time::Duration::from_secs(300),
            },
            Diagnosis::NoReply,
            Diagnosis::Refused { port: 8080 },
            Diagnosis::ClosedWithoutReply,
            Diagnosis::ShortMessage {
                piece: payload,
                have: 10,
                need: 100,
            },
            Diagnosis::ShortMessage {
                piece: Piece::LengthHeader,
                have: 2,
                need: 4,
            },
            Diagnosis::Stalled {
                piece: payload,
                have: 10,
                need: 100,
            },
            Diagnosis::Reset { progress: None },
            Diagnosis::Reset {
                progress: Some((payload, 10, 100)),
            },
            Diagnosis::ClosedWhileSending,
            Diagnosis::ByteOrder {
                header: [0, 0, 0, 5],
                read: 83_886_080,
                swapped: 5,
            },
            Diagnosis::NegativeLength {
                header: [0xff; 4],
                read: -1,
            },
            Diagnosis::InsaneLength {
                announced: 1 << 31,
                limit: 1 << 20,
            },
            Diagnosis::BadJson { why: "EOF".into() },
            Diagnosis::MissingField {
                field: "total_size",
            },
            Diagnosis::BadField {
                field: "total_size",
                expected: "a whole number",
                found: "'5'".into(),
            },
            Diagnosis::Md5Mismatch {
                expected: "0".repeat(32),
                actual: "1".repeat(32),
            },
            Diagnosis::Leftover { bytes: 5 },
            Diagnosis::StaleTail { bytes: 981 },
            Diagnosis::UnexpectedReply {
                expected: b"HI".to_vec(),
                got: b"hi".to_vec(),
            },
            Diagnosis::NotClosed,
            Diagnosis::NotReading {
                taken: 10,
                total: 100,
                selector: false,
            },
            Diagnosis::DatagramCut {
                len: 2000,
                kept: 1024,
            },
            Diagnosis::NotUtf8,
            Diagnosis::NotConcurrent {
                client: 2,
                quiet: 1,
                unread: 19,
                queued: Some(1),
            },
        ];
        for diagnosis in &all {
            match diagnosis {
                Diagnosis::Silent
                | Diagnosis::Idle { .. }
                | Diagnosis::NoReply
                | Diagnosis::Refused { .. }
                | Diagnosis::ClosedWithoutReply
                | Diagnosis::ShortMessage { .. }
                | Diagnosis::Stalled { .. }
                | Diagnosis::Reset { .. }
                | Diagnosis::ClosedWhileSending
                | Diagnosis::ByteOrder { .. }
                | Diagnosis::NegativeLength { .. }
                | Diagnosis::InsaneLength { .. }
                | Diagnosis::BadJson { .. }
                | Diagnosis::MissingField { .. }
                | Diagnosis::BadField { .. }
                | Diagnosis::Md5Mismatch { .. }
                | Diagnosis::Leftover { .. }
                | Diagnosis::StaleTail { .. }
                | Diagnosis::UnexpectedReply { .. }
                | Diagnosis::NotClosed
                | Diagnosis::NotReading { .. }
                | Diagnosis::DatagramCut { .. }
                | Diagnosis::NotUtf8
                | Diagnosis::NotConcurrent { .. } => {}
            }
        }
        all
    }

    #[test]
    fn the_list_of_codes_is_every_code_a_diagnosis_gives() {
        let given: Vec<&str> = examples().iter().map(Diagnosis::code).collect();
        assert_eq!(given, Diagnosis::CODES);
    }

    /// A diagnosis is one `netlab` line: its title and finding one sentence each, its note
    /// one paragraph, in both languages.
    #[test]
    fn every_diagnosis_is_one_line_and_one_paragraph_in_both_languages() {
        // The forms a kind's text takes beyond its example.
        let more = [
            Diagnosis::NotReading {
                taken: 0,
                total: 100,
                selector: true,
            },
            Diagnosis::NotConcurrent {
                client: 3,
                quiet: 1,
                unread: 19,
                queued: None,
            },
            Diagnosis::NotConcurrent {
                client: 2,
                quiet: 1,
                unread: 19,
                queued: Some(2),
            },
        ];
        for role in [Role::Serve, Role::Connect] {
            for diagnosis in examples().into_iter().chain(more.clone()) {
                let shown = diagnosis.show(role, &Text::same("30 s"));
                for text in [&shown.title, &shown.finding, &shown.advice] {
                    for words in [&text.en, &text.zh] {
                        assert!(!words.trim().is_empty(), "{diagnosis:?}");
                        assert!(!words.contains('\n'), "{diagnosis:?}: {words}");
                    }
                }
            }
        }
    }
}
