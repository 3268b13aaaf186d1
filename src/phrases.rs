//! Every phrase the engine itself writes into a trace, in English and Chinese, in one place a
//! translator can read top to bottom. Labs write their own notes; the engine writes only these
//! words around the Python values and figures it fills in.
//!
//! Figures come in already formatted (a number, or a stable name such as `SENT`), so a phrase
//! never decides how a figure shows.

use crate::event::{Lang, Text};
use crate::sockdiag::TableSource;

// ---------------------------------------------------------------------------------------
// What a socket call returned
// ---------------------------------------------------------------------------------------

/// `bind(('127.0.0.1', 0))` returned: the kernel picked the port.
pub fn kernel_chose_port(port: &str) -> Text {
    Text::new(
        format!("None (the kernel chose port {port})"),
        format!("None（内核选了端口 {port}）"),
    )
}

/// `connect()` returned: the kernel gave the client its ephemeral port.
pub fn kernel_gave_port(port: &str) -> Text {
    Text::new(
        format!("None (the kernel gave this end port {port})"),
        format!("None（内核给这一端分配了端口 {port}）"),
    )
}

/// `sendall()` returned after handing the kernel every byte.
pub fn sendall_returned(sent: &str) -> Text {
    Text::new(
        format!("None ({sent} bytes sent)"),
        format!("None（已发送 {sent} 字节）"),
    )
}

/// Bytes a call returned or a step produced: `b'hello' (5 bytes)`.
pub fn bytes_with_length(literal: &str, len: &str) -> Text {
    Text::new(
        format!("{literal} ({len} bytes)"),
        format!("{literal}（{len} 字节）"),
    )
}

/// `recvfrom()` returned `(data, addr)`; a datagram longer than the buffer was cut.
pub fn datagram_received(pair: &str, len: usize, full_len: usize) -> Text {
    if full_len > len {
        Text::new(
            format!("{pair} ({len} bytes; the datagram had {full_len}, the rest is lost)"),
            format!("{pair}（{len} 字节；数据报原有 {full_len} 字节，其余丢失）"),
        )
    } else {
        bytes_with_length(pair, &len.to_string())
    }
}

/// The second line of a `sendall()` that blocked and went on later.
pub fn continued_from(call: &str, line: u32) -> Text {
    Text::new(
        format!("{call} (continued from line {line})"),
        format!("{call}（接第 {line} 行）"),
    )
}

// ---------------------------------------------------------------------------------------
// A call that would block: what showed it. For a peer in the lab that is the kernel's
// evidence (nothing on its way, and a non-blocking attempt said "not ready"); only a peer
// outside netlab is watched on a clock, and the phrase then says how long.
// ---------------------------------------------------------------------------------------

/// `recv()` on a stream socket: nothing waits and nothing is on its way.
pub fn recv_blocks() -> Text {
    Text::new(
        "blocks: nothing is on its way (the receive queue is empty and the peer has sent nothing more)",
        "阻塞：没有任何数据在路上（接收队列是空的，对方也没有再发送任何东西）",
    )
}

/// `recvfrom()` on a UDP socket: no datagram waits and none is on its way.
pub fn recvfrom_blocks() -> Text {
    Text::new(
        "blocks: nothing is on its way (no datagram is waiting and no socket has sent this one anything more)",
        "阻塞：没有任何数据在路上（没有数据报在等，也没有别的套接字再给它发任何东西）",
    )
}

/// `accept()`: the accept queue is empty and no client is dialling.
pub fn accept_blocks() -> Text {
    Text::new(
        "blocks: no connection is on its way (the accept queue is empty and no client is dialling)",
        "阻塞：没有任何连接在路上（accept 队列是空的，也没有客户端在拨号）",
    )
}

/// `select()` without a timeout: no socket it watches is ready and nothing is on its way.
pub fn select_blocks() -> Text {
    Text::new(
        "blocks: no socket it watches is ready and nothing is on its way to any of them",
        "阻塞：它监视的套接字没有一个就绪，也没有任何东西在发往它们的路上",
    )
}

/// `connect()` to a listener whose accept queue is full: the SYN is dropped.
pub fn connect_blocks() -> Text {
    Text::new(
        "blocks: no SYN-ACK is on its way (the server's accept queue is full, so its kernel drops the SYN)",
        "阻塞：不会有 SYN-ACK 回来（服务端的 accept 队列已满，它的内核丢掉了 SYN）",
    )
}

/// A send whose buffer is full, where no count is shown.
pub fn buffer_full_blocks() -> Text {
    Text::new(
        "blocks: the send buffer is full and the peer is not reading",
        "阻塞：发送缓冲区已满，对方没有在读",
    )
}

/// A call waiting for a program outside netlab, which may still act: watched for `ms`.
pub fn blocks_watched(ms: u128) -> Text {
    Text::new(
        format!("blocks (still waiting after {ms} ms; netlab stops watching here)"),
        format!("阻塞（等了 {ms} 毫秒仍在等；netlab 在这里停止等待）"),
    )
}

/// A call that waited for a program outside netlab (peer mode) for the whole declared limit,
/// written as the trace writes it (`30 s`).
pub fn blocks_for(waited: &str, waited_zh: &str) -> Text {
    Text::new(
        format!("blocks (nothing for {waited}; netlab stops waiting here)"),
        format!("阻塞（{waited_zh} 内什么也没来；netlab 在这里停止等待）"),
    )
}

/// `connect()` whose handshake did not finish while watched for `ms`.
pub fn connect_watched(ms: u128) -> Text {
    Text::new(
        format!("blocks: handshake not finished after {ms} ms; netlab stops watching here"),
        format!("阻塞：{ms} 毫秒后握手仍未完成；netlab 在这里停止等待"),
    )
}

/// A blocking `send()` whose send buffer filled up.
pub fn send_blocks(sent: &str, total: usize) -> Text {
    Text::new(
        format!("blocks: the kernel took {sent} of {total} bytes; the send buffer is full and the peer is not reading"),
        format!("阻塞：内核只收下了 {total} 字节中的 {sent} 字节；发送缓冲区已满，对方没有在读"),
    )
}

/// A `sendall()` whose send buffer filled up; it goes on when the peer reads.
pub fn sendall_blocks(taken: &str) -> Text {
    Text::new(
        format!("blocks after the kernel took {taken} bytes: the send buffer is full and the peer is not reading"),
        format!("阻塞：内核收下 {taken} 字节后发送缓冲区满了，对方没有在读"),
    )
}

/// A `sendall()` that blocked, went on, and blocked again.
pub fn sendall_still_blocks(taken: &str) -> Text {
    Text::new(
        format!("still blocks: the kernel has taken {taken} bytes; the peer is not reading"),
        format!("仍然阻塞：内核一共收下了 {taken} 字节；对方没有在读"),
    )
}

/// `recv(n, MSG_WAITALL)` with fewer than n bytes arrived and nothing more on its way.
pub fn waitall_blocks(arrived: &str, wanted: usize) -> Text {
    Text::new(
        format!("blocks: {arrived} of {wanted} bytes arrived and nothing more is on its way"),
        format!("阻塞：{wanted} 字节中只到了 {arrived} 字节，再没有数据在路上"),
    )
}

/// `recv(n, MSG_WAITALL)` from a program outside netlab, watched for `ms` without progress.
pub fn waitall_watched(arrived: &str, wanted: usize, ms: u128) -> Text {
    Text::new(
        format!("blocks: {arrived} of {wanted} bytes arrived, none more in {ms} ms; netlab stops watching here"),
        format!("阻塞：{wanted} 字节中只到了 {arrived} 字节，{ms} 毫秒内再没有新数据；netlab 在这里停止等待"),
    )
}

// ---------------------------------------------------------------------------------------
// Kernel probes: what was read (`server conn: receive queue (FIONREAD)`) and the answer
// ---------------------------------------------------------------------------------------

/// What a probe read about one socket: `(English, Chinese)`.
pub type Probe = (&'static str, &'static str);

pub const RECEIVE_QUEUE: Probe = ("receive queue (FIONREAD)", "接收队列（FIONREAD）");
pub const SEND_QUEUE: Probe = ("send queue (SIOCOUTQ)", "发送队列（SIOCOUTQ）");
pub const UNSENT_QUEUE: Probe = (
    "send queue, not yet transmitted (SIOCOUTQNSD)",
    "发送队列中尚未发出的部分（SIOCOUTQNSD）",
);
pub const TCP_STATE: Probe = ("TCP state", "TCP 状态");
pub const ACCEPT_QUEUE: Probe = ("accept queue", "accept 队列");
pub const BYTES_SENT: Probe = (
    "data bytes sent on the wire so far (TCP_INFO tcpi_bytes_sent)",
    "迄今实际发到线路上的数据字节（TCP_INFO tcpi_bytes_sent）",
);

/// `server conn: receive queue (FIONREAD)`: a probe of one side's socket.
pub fn about(who: &str, (en, zh): Probe) -> Text {
    Text::new(format!("{who}: {en}"), format!("{who}：{zh}"))
}

pub fn bytes_waiting(n: &str) -> Text {
    Text::new(format!("{n} bytes waiting"), format!("{n} 字节待读"))
}

/// FIONREAD on a UDP socket: the size of the next datagram only.
pub fn bytes_in_next_datagram(n: &str) -> Text {
    Text::new(
        format!("{n} bytes in the next datagram"),
        format!("下一个数据报有 {n} 字节"),
    )
}

pub fn bytes_not_acknowledged(n: &str) -> Text {
    Text::new(
        format!("{n} bytes not yet acknowledged"),
        format!("{n} 字节尚未被确认"),
    )
}

pub fn bytes_not_transmitted(n: &str) -> Text {
    Text::new(
        format!("{n} bytes still waiting to be transmitted"),
        format!("{n} 字节还在等待发出"),
    )
}

pub fn bytes(n: &str) -> Text {
    Text::new(format!("{n} bytes"), format!("{n} 字节"))
}

pub fn accept_queue(waiting: u32, limit: u32) -> Text {
    let connections = if waiting == 1 {
        "connection"
    } else {
        "connections"
    };
    Text::new(
        format!("{waiting} {connections} waiting to be accepted (limit {limit})"),
        format!("{waiting} 个连接等待 accept（上限 {limit}）"),
    )
}

/// A connection looked up in the kernel's TCP table, which also lists ends no fd holds.
/// `sock_diag (as ss -tan): connection FROM to TO`: a look-up in the kernel's TCP table,
/// naming where the answer came from so a student can check it by hand.
pub fn tcp_connection(source: TableSource, from: &str, to: &str) -> Text {
    let (en, zh) = match source {
        TableSource::SockDiag => ("sock_diag (as ss -tan)", "sock_diag（与 ss -tan 同源）"),
        TableSource::ProcNetTcp => ("/proc/net/tcp", "/proc/net/tcp"),
    };
    Text::new(
        format!("{en}: connection {from} to {to}"),
        format!("{zh}：连接 {from} 到 {to}"),
    )
}

/// `sock_diag (as ss -tn): receive queue of FROM (connected to TO)`: what the other end of a
/// connection, a program outside netlab on this machine, has not read yet.
pub fn peer_receive_queue(source: TableSource, from: &str, to: &str) -> Text {
    let (en, zh) = match source {
        TableSource::SockDiag => ("sock_diag (as ss -tn)", "sock_diag（与 ss -tn 同源）"),
        TableSource::ProcNetTcp => ("/proc/net/tcp", "/proc/net/tcp"),
    };
    Text::new(
        format!("{en}: receive queue of {from} (connected to {to})"),
        format!("{zh}：{from}（连到 {to}）的接收队列"),
    )
}

/// `sock_diag (as ss -ltn): accept queue of ('127.0.0.1', 8080)`: the other program's
/// listening socket, looked up in the kernel's table.
pub fn peer_accept_queue(source: TableSource, at: &str) -> Text {
    let (en, zh) = match source {
        TableSource::SockDiag => ("sock_diag (as ss -ltn)", "sock_diag（与 ss -ltn 同源）"),
        TableSource::ProcNetTcp => ("/proc/net/tcp", "/proc/net/tcp"),
    };
    Text::new(
        format!("{en}: accept queue of {at}"),
        format!("{zh}：{at} 的 accept 队列"),
    )
}

/// `1 connection waiting to be accepted`, without the limit (which the kernel's table of
/// another program's socket does not always give).
pub fn connections_waiting(waiting: u32) -> Text {
    let connections = if waiting == 1 {
        "connection"
    } else {
        "connections"
    };
    Text::new(
        format!("{waiting} {connections} waiting to be accepted"),
        format!("{waiting} 个连接等待 accept"),
    )
}

/// The kernel's table has no listening socket on that port.
pub fn nothing_listens() -> Text {
    Text::new("no socket listens there", "那里没有在监听的套接字")
}

/// A setting only newer kernels have, missing here: the value this kernel behaves as.
pub fn no_such_setting(absent: u64) -> Text {
    Text::new(
        format!("no such file: this kernel has no such setting and works as with {absent}"),
        format!("没有这个文件：这个内核没有这项设置，效果等同于 {absent}"),
    )
}

pub fn no_such_connection() -> Text {
    Text::new("no such connection", "没有这条连接")
}

pub fn mem_total() -> Text {
    Text::new("/proc/meminfo: MemTotal", "/proc/meminfo：MemTotal")
}

/// `file 'TMP/echo.sock'`: what the filesystem holds at a path.
pub fn file(path: &str) -> Text {
    Text::new(format!("file {path}"), format!("文件 {path}"))
}

pub const SOCKET_FILE: Probe = ("a socket file (S_IFSOCK)", "套接字文件（S_IFSOCK）");
pub const REGULAR_FILE: Probe = ("a regular file (S_IFREG)", "普通文件（S_IFREG）");
pub const DIRECTORY: Probe = ("a directory (S_IFDIR)", "目录（S_IFDIR）");
pub const OTHER_FILE: Probe = ("another kind of file", "其他类型的文件");
pub const NO_SUCH_FILE: Probe = ("no such file (ENOENT)", "没有这个文件（ENOENT）");

// ---------------------------------------------------------------------------------------
// Program steps that are not socket calls
// ---------------------------------------------------------------------------------------

/// `b'rm -rf /' in ALLOWED_COMMANDS`: a command text refused before any process started.
pub fn command_refused(shown: &str) -> Text {
    Text::new(
        format!("False: netlab refuses {shown}, which is not on its command list; no process was started"),
        format!("False：{shown} 不在 netlab 的命令清单上，被拒绝；没有启动任何进程"),
    )
}

/// `res = subprocess.run(...)` returned.
pub fn command_finished(code: &str, stdout: usize, stderr: usize) -> Text {
    Text::new(
        format!("returncode {code}, stdout {stdout} bytes, stderr {stderr} bytes"),
        format!("returncode {code}，stdout {stdout} 字节，stderr {stderr} 字节"),
    )
}

// ---------------------------------------------------------------------------------------
// The wire (`--wire`): what the capture itself reports
// ---------------------------------------------------------------------------------------

/// The capture's buffer was full: some packets are missing from the lines around this one.
pub fn wire_dropped(packets: u32) -> Text {
    Text::new(
        format!("(the capture lost {packets} packets here: its buffer was full)"),
        format!("（抓包在这里丢了 {packets} 个包：它的缓冲区满了）"),
    )
}

/// A captured packet that netlab could not decode.
pub fn wire_undecodable(why: &str) -> Text {
    Text::new(
        format!("(a packet netlab could not decode: {why})"),
        format!("（一个 netlab 无法解析的包：{why}）"),
    )
}

/// Reading the capture failed.
pub fn wire_unreadable(why: &str) -> Text {
    Text::new(
        format!("(the capture could not be read: {why})"),
        format!("（无法读取抓包：{why}）"),
    )
}

// ---------------------------------------------------------------------------------------
// A live run (--step, --pace)
// ---------------------------------------------------------------------------------------

/// How the header line of a live run's trace begins, in each language; `snapshot::is_paced`
/// looks for it.
pub const PACED_RUN: (&str, &str) = ("== paced run (", "== 放慢的运行（");

/// The line under a live run's title: its timing is a person's, so it is not the published
/// trace. `flag` is `--step` or `--pace 300`.
pub fn paced_run(flag: &str) -> Text {
    Text::new(
        format!(
            "{}{flag}): kernel timers ran at human speed; not comparable with the snapshot ==",
            PACED_RUN.0
        ),
        format!(
            "{}{flag}）：内核的定时器按人的速度走，与快照不可比 ==",
            PACED_RUN.1
        ),
    )
}

// ---------------------------------------------------------------------------------------
// The end of a trace: where to go next
// ---------------------------------------------------------------------------------------

/// The last lines of a trace that ran to its end: the next lab and this lab's lesson.
pub fn next_steps(id: &str, next: Option<&str>) -> [Text; 2] {
    let next = match next {
        Some(next) => Text::new(
            format!("Next lab: netlab run {next}"),
            format!("下一个实验：netlab run {next}"),
        ),
        None => Text::new(
            "That was the last lab: netlab list shows them all",
            "这是最后一个实验：netlab list 列出全部实验",
        ),
    };
    let lesson = Text::new(
        format!("Read the lesson: netlab show {id}"),
        format!("阅读讲解：netlab show {id}"),
    );
    [next, lesson]
}

/// The key to a ladder diagram's marks (`--format ladder`).
pub fn ladder_legend() -> Text {
    Text::fixed(
        "o a call, x it raised, ~ it blocks, # the kernel's view, [n] note n below",
        "o 调用，x 抛出异常，~ 阻塞，# 内核看到的状态，[n] 见下方第 n 条注释",
    )
}

/// The words of the web page around its diagrams (`--format html`).
pub mod page {
    use crate::event::Text;

    /// The language's own name, on the switch that shows it.
    pub const LANGUAGE: Text = Text::fixed("English", "中文");
    pub const SWITCH_LANGUAGE: Text = Text::fixed("Show in Chinese", "显示英文");
    pub const THEME: Text = Text::fixed("Light or dark", "浅色或深色");
    pub const BACK: Text = Text::fixed("Back one event", "后退一个事件");
    pub const NEXT: Text = Text::fixed("Next event", "下一个事件");
    pub const KEYS: Text = Text::fixed(
        "Space or → next · ← back · Home, End · click a line to go there",
        "空格或 → 下一个 · ← 上一个 · Home、End 到开头、结尾 · 点击一行跳到那里",
    );
    pub const CONTENTS: Text = Text::fixed("Labs", "实验");
    pub const NOTES: Text = Text::fixed("Notes", "注释");
    pub const NO_NOTES: Text = Text::fixed(
        "No note on the lines so far in this section.",
        "本节到目前为止的各行没有注释。",
    );
    pub const STOPPED: Text = Text::fixed("The lab stopped here:", "实验在这里停止了：");
    /// The key to the marks, each with its word.
    pub const LEGEND: [Text; 6] = [
        Text::fixed("a call", "调用"),
        Text::fixed("it raised", "抛出异常"),
        Text::fixed("it blocks", "阻塞"),
        Text::fixed("the kernel's view", "内核看到的状态"),
        Text::fixed("bytes from a send to a recv", "从 send 到 recv 的字节"),
        Text::fixed("a packet on the wire", "线路上的一个报文"),
    ];
}

// ---------------------------------------------------------------------------------------
// Peer mode (`netlab serve`, `netlab connect`): the session's own lines
// ---------------------------------------------------------------------------------------

/// The title of a session's trace: the lab's title, then who plays what.
pub fn session_title(title: &Text, serve: bool) -> Text {
    if serve {
        Text::new(
            format!(
                "{} · netlab serve: netlab is the server, your program the client",
                title.en
            ),
            format!(
                "{} · netlab serve：netlab 当服务端，你的程序当客户端",
                title.zh
            ),
        )
    } else {
        Text::new(
            format!(
                "{} · netlab connect: netlab is the client, your program the server",
                title.en
            ),
            format!(
                "{} · netlab connect：netlab 当客户端，你的程序当服务端",
                title.zh
            ),
        )
    }
}

/// The heading before netlab's TCP server makes its listening socket.
pub fn server_switches_on() -> Text {
    Text::new("netlab's server switches on", "netlab 的服务端开机")
}

/// The heading before netlab's UDP server makes its socket.
pub fn server_starts() -> Text {
    Text::new("netlab's server starts", "netlab 的服务端启动")
}

/// The heading of the `n`th conversation of `serve`: a client (TCP) or a request (UDP).
pub fn conversation_heading(n: u32, udp: bool) -> Text {
    if udp {
        Text::new(format!("Request {n}"), format!("第 {n} 个请求"))
    } else {
        Text::new(format!("Client {n}"), format!("第 {n} 个客户端"))
    }
}

/// The last line of `serve`: how it ended (Ctrl-C or `--once`) ...
pub fn serve_ended(interrupted: bool) -> Text {
    let how = if interrupted { "Ctrl-C" } else { "--once" };
    Text::new(
        format!("serve ended ({how})"),
        format!("serve 结束（{how}）"),
    )
}

/// ... and what it did: `2 clients, 1 diagnosis`.
pub fn served(conversations: u32, diagnoses: usize, udp: bool) -> Text {
    let noun = match (udp, conversations == 1) {
        (false, true) => "client",
        (false, false) => "clients",
        (true, true) => "request",
        (true, false) => "requests",
    };
    let noun_zh = if udp { "个请求" } else { "个客户端" };
    let diagnosis = if diagnoses == 1 {
        "diagnosis"
    } else {
        "diagnoses"
    };
    Text::new(
        format!("{conversations} {noun}, {diagnoses} {diagnosis}"),
        format!("{conversations} {noun_zh}，{diagnoses} 条诊断"),
    )
}

/// The last line of `connect` ...
pub fn connect_ended() -> Text {
    Text::new("connect ended", "connect 结束")
}

/// ... and what netlab found: `no diagnosis`, or the codes.
pub fn found(codes: &[&str]) -> Text {
    if codes.is_empty() {
        Text::new("no diagnosis", "没有诊断")
    } else {
        let codes = codes.join(", ");
        Text::new(format!("diagnosis: {codes}"), format!("诊断：{codes}"))
    }
}

/// A conversation that ended on a failure of netlab's own (not something the peer did).
pub fn conversation_failed() -> Text {
    Text::new(
        "netlab could not go on with this conversation",
        "netlab 无法继续这次对话",
    )
}

// ---------------------------------------------------------------------------------------
// netlab's own messages (errors, verify, list, hints): not trace lines
// ---------------------------------------------------------------------------------------

/// A message netlab prints about itself, in both languages. `{name}` marks a slot that
/// [`Message::fill`] fills in; both languages have the same slots.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    pub id: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

impl Message {
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }

    /// The message in `lang` with its slots filled: `{query}` by the value named `query`.
    /// A value is inserted as it is (a slot's name inside a value is not filled again).
    pub fn fill(self, lang: Lang, values: &[(&str, &dyn std::fmt::Display)]) -> String {
        let template = self.get(lang);
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let slot = after
                .find('}')
                .map(|close| (&after[..close], &after[close + 1..]));
            match slot.and_then(|(name, tail)| {
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (v, tail))
            }) {
                Some((value, tail)) => {
                    out.push_str(&value.to_string());
                    rest = tail;
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The `{name}` slots of one language's text, in order.
    pub fn slots(text: &str) -> Vec<&str> {
        let mut slots = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            if let Some(close) = rest.find('}') {
                slots.push(&rest[..close]);
                rest = &rest[close + 1..];
            }
        }
        slots.sort_unstable();
        slots
    }
}

/// Declares netlab's messages and the list of them all (which the tests check for Chinese).
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident: $en:literal, $zh:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $name: Message = Message { id: stringify!($name), en: $en, zh: $zh };
        )*
        /// Every message netlab prints about itself.
        pub const MESSAGES: &[Message] = &[$($name),*];
    };
}

messages! {
    // Finding a lab.
    NO_LAB_SUGGEST:
        "no lab called '{query}'; did you mean {ids}?",
        "没有叫 '{query}' 的实验；你要找的是不是 {ids}？";
    NO_LAB:
        "no lab called '{query}'; `netlab list` shows the labs",
        "没有叫 '{query}' 的实验；`netlab list` 列出所有实验";
    NO_LAB_NUMBER:
        "there is no lab {number}: the labs are numbered {first}-{last}",
        "没有第 {number} 号实验：实验编号是 {first}-{last}";
    AMBIGUOUS_LAB:
        "'{query}' matches {count} labs: {ids}; write more of the name, or the number",
        "'{query}' 对应 {count} 个实验：{ids}；请把名字写得更完整，或者写编号";
    OR:
        " or ",
        " 或 ";

    // Running labs.
    LAB_STOPPED:
        "lab {id} stopped: {reason}",
        "实验 {id} 中途停止：{reason}";
    LABS_STOPPED:
        "{count} of {total} labs stopped early: {ids}",
        "{total} 个实验中有 {count} 个中途停止：{ids}";
    STEP_HINT:
        "next: event {next} · Enter, space or → step · c to the end of the section · q quit",
        "下一个：第 {next} 个事件 · 回车、空格或 → 单步 · c 走完本节 · q 退出";
    FLAG_BELONGS_TO_RUN:
        "{flag} belongs to `netlab run` (write it after the subcommand: `netlab run LAB {flag} ...`)",
        "{flag} 是 `netlab run` 的选项（写在子命令后面：`netlab run LAB {flag} ...`）";
    SIGNALS_FAILED:
        "cannot watch for Ctrl-C and other signals: {err}",
        "无法监听 Ctrl-C 等信号：{err}";
    OUTPUT_FAILED:
        "could not write the output: {err}",
        "无法写出输出：{err}";

    DRAWING_NOT_PACED:
        "--format {format} draws the whole lab once it has ended, so there is nothing for --step or --pace to hold; use them with the text trace",
        "--format {format} 要等实验结束后才画出整个实验，--step 和 --pace 在这里无事可做；请在文本输出中使用它们";

    // `netlab verify`.
    VERIFY_NOT_COMPARABLE:
        "a paced run (--step, --pace) is not comparable with the published snapshot: kernel timers run at human speed there; verify always runs the lab at full speed, without those flags",
        "放慢的运行（--step、--pace）与公开的快照不可比：那时内核的定时器按人的速度走；verify 总是全速运行实验，不接受这两个参数";
    VERIFY_FROM_DISK:
        "comparing with the snapshots in {dir}",
        "与 {dir} 中的快照比较";
    VERIFY_BUILT_IN:
        "comparing with the snapshots built into netlab {version} (no netlab project here; --snapshots DIR names one)",
        "与 netlab {version} 内置的快照比较（这里不在 netlab 项目中；可用 --snapshots DIR 指定快照目录）";
    VERIFY_OK:
        "ok",
        "一致";
    VERIFY_DIFFERS:
        "DIFFERS",
        "不同";
    VERIFY_FAILED:
        "FAILED",
        "未完成";
    VERIFY_MISSING:
        "MISSING",
        "缺快照";
    VERIFY_SAME_AS:
        "{stem}: same as {file}",
        "{stem}：与 {file} 相同";
    VERIFY_DIFFERENT_LINES:
        "{stem}: differs from {file}; changed lines: {count}",
        "{stem}：与 {file} 不同；不同的行数：{count}";
    VERIFY_DID_NOT_FINISH:
        "{stem}: did not run to the end: {reason}",
        "{stem}：没有运行到最后：{reason}";
    VERIFY_NO_SNAPSHOT:
        "{stem}: no published snapshot {file}",
        "{stem}：没有已发布的快照 {file}";
    DIFF_SNAPSHOT:
        "--- {file} (line numbers as in this file)",
        "--- {file}（行号与此文件一致）";
    DIFF_THIS_RUN:
        "+++ this run",
        "+++ 本次运行";
    DIFF_YOUR_FILE:
        "+++ {file}",
        "+++ {file}";
    CAUSE_PACED:
        "likely cause: this output was paced (--step or --pace); compare the output of a run without them",
        "可能的原因：这份输出是用 --step 或 --pace 放慢运行得到的；请比较不带这两个选项的运行输出";
    CAUSE_LANGUAGE:
        "likely cause: another language: this output matches {file}; add --lang {lang}",
        "可能的原因：语言不同：这份输出与 {file} 一致；请加上 --lang {lang}";
    CAUSE_OTHER_LAB:
        "likely cause: this is the output of another lab ({found})",
        "可能的原因：这是另一个实验（{found}）的输出";
    CAUSE_EDITED:
        "likely cause: {file} differs from the copy built into this netlab: the file was edited, or this netlab is another version (git diff snapshots/ shows edits)",
        "可能的原因：{file} 与本 netlab 内置的副本不同：文件被改过，或者 netlab 的版本不同（git diff snapshots/ 可以看到改动）";
    CAUSE_KERNEL:
        "likely cause: another kernel version or configuration: only the kernel's lines differ",
        "可能的原因：内核版本或配置不同：只有 kernel 行不同";
    CAUSE_VERSION:
        "likely cause: another version of netlab (this is {version}) or of the kernel",
        "可能的原因：netlab（本机是 {version}）或内核的版本不同";
    VERIFY_SUMMARY:
        "labs checked: {total}; {parts}",
        "检查的实验：{total} 个；{parts}";
    SUMMARY_FAILED:
        "did not run to the end: {count}",
        "没有运行到最后：{count} 个";
    SUMMARY_DIFFER:
        "different from the snapshot: {count}",
        "与快照不同：{count} 个";
    SUMMARY_MISSING:
        "without a published snapshot: {count}",
        "没有已发布的快照：{count} 个";
    LIST_SEPARATOR:
        ", ",
        "，";
    PARTS_SEPARATOR:
        "; ",
        "；";
    CANNOT_READ:
        "cannot read {file}: {err}",
        "无法读取 {file}：{err}";
    NOT_A_SNAPSHOT_DIR:
        "--snapshots {dir}: not a directory",
        "--snapshots {dir}：不是一个目录";

    // `netlab list`.
    LIST_RAN:
        "run",
        "运行";
    LIST_VERIFIED:
        "verified",
        "验证";
    LIST_LAB:
        "lab",
        "实验";
    LIST_TITLE:
        "what it shows",
        "内容";
    LIST_PROGRESS:
        "on this machine: {ran} of {total} labs run, {verified} verified",
        "本机进度：{total} 个实验中已运行 {ran} 个，已验证 {verified} 个";
    LIST_NEXT:
        "next: netlab run {id}",
        "下一步：netlab run {id}";
    LIST_NEXT_VERIFY:
        "next: netlab verify {id}",
        "下一步：netlab verify {id}";
    LIST_ALL_DONE:
        "every lab run and verified: well done",
        "所有实验都已运行并验证：做得好";

    // `netlab serve`, `netlab connect`, `netlab show --code`.
    PEER_NOT_OFFERED:
        "lab {id} has no `netlab {command}`; these labs have it: {labs}",
        "实验 {id} 没有 `netlab {command}`；有它的实验是：{labs}";
    PEER_NOT_LOOPBACK:
        "netlab serves and connects on 127.0.0.1 (loopback) only, so that no other machine can reach a lab; '{host}' is not 127.0.0.1 or localhost",
        "netlab 只在 127.0.0.1（本机回环地址）上服务和连接，这样别的机器无法访问实验；'{host}' 不是 127.0.0.1 或 localhost";
    PEER_NO_DRAWING:
        "--format ladder and --format html draw a finished run (netlab run LAB); serve and connect show their trace as it happens: use text or json",
        "--format ladder 和 --format html 画的是一次跑完的运行（netlab run LAB）；serve 和 connect 边进行边显示轨迹：请用 text 或 json";
    PEER_CONNECT_NEEDS_PORT:
        "netlab connect needs the port your server listens on: --port N (1 to 65535)",
        "netlab connect 需要你的服务端监听的端口：--port N（1 到 65535）";
    PEER_PORT_TAKEN:
        "port {port} is taken: another program uses it on 127.0.0.1 (your own server?); choose another with --port, e.g. `netlab serve {lab} --port {other}`",
        "端口 {port} 已被占用：127.0.0.1 上另有程序在用它（是你自己的服务端吗？）；用 --port 换一个，例如 `netlab serve {lab} --port {other}`";
    PEER_PORT_PRIVILEGED:
        "port {port} needs administrator rights on this machine; choose one from 1024 up with --port, e.g. `netlab serve {lab} --port {other}`",
        "在这台机器上端口 {port} 需要管理员权限；用 --port 选 1024 以上的端口，例如 `netlab serve {lab} --port {other}`";
    PEER_PORT_UNUSABLE:
        "port {port} cannot be used ({err}); choose another with --port",
        "端口 {port} 无法使用（{err}）；用 --port 换一个";
    PEER_SERVING:
        "netlab: serving {id} on {addr}; start your client in another terminal (Ctrl-C stops)",
        "netlab：正在 {addr} 上运行 {id} 的服务端；请在另一个终端启动你的客户端（Ctrl-C 停止）";
    PEER_FAILED:
        "netlab could not play its side: {reason}",
        "netlab 无法扮演它这一方：{reason}";
    PEER_COMMAND_REFUSED:
        "netlab runs only these commands: {commands}. {command} is not one of them, so nothing was run.",
        "netlab 只运行这些命令：{commands}。{command} 不在其中，所以什么也没有运行。";
    PEER_COMMAND_FAILED:
        "netlab could not run the command: {err}",
        "netlab 无法运行这个命令：{err}";
    SHOW_NO_CODE:
        "lab {id} has no programs of its own; these labs have: {labs}",
        "实验 {id} 没有自带程序；有程序的实验是：{labs}";
    SHOW_NO_SUCH_FILE:
        "lab {id} has no {file}; it has {files}",
        "实验 {id} 没有 {file}；它有 {files}";

    // clap's usage errors, in netlab's words.
    USAGE_ERROR:
        "error: {message}",
        "错误：{message}";
    USAGE_UNKNOWN_ARGUMENT:
        "unexpected argument '{arg}'",
        "多余的参数 '{arg}'";
    USAGE_INVALID_VALUE:
        "invalid value '{value}' for '{arg}'",
        "'{arg}' 的值 '{value}' 无效";
    USAGE_POSSIBLE_VALUES:
        "possible values: {values}",
        "可用的值：{values}";
    USAGE_MISSING:
        "a required argument was not given: {arg}",
        "缺少必需的参数：{arg}";
    USAGE_UNKNOWN_SUBCOMMAND:
        "unrecognized subcommand '{arg}'",
        "没有 '{arg}' 这个子命令";
    USAGE_CONFLICT:
        "'{arg}' cannot be used with '{other}'",
        "'{arg}' 不能与 '{other}' 一起使用";
    USAGE_OTHER:
        "{message}",
        "{message}";
    USAGE_LINE:
        "Usage: {usage}",
        "用法：{usage}";
    USAGE_MORE:
        "For more information, try '--help'.",
        "更多信息请运行 '--help'。";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_chinese(text: &str) -> bool {
        text.chars().any(|c| {
            ('\u{4e00}'..='\u{9fff}').contains(&c)
                || ('\u{3000}'..='\u{303f}').contains(&c)
                || ('\u{ff00}'..='\u{ffef}').contains(&c)
        })
    }

    /// Every message netlab prints about itself has its Chinese, with the same slots. A
    /// message that only repeats symbols (`{message}`, `+++ {file}`) needs no words.
    #[test]
    fn every_message_has_its_chinese_text() {
        let mut missing = Vec::new();
        for message in MESSAGES {
            let words = message.en.chars().filter(|c| c.is_alphabetic()).count()
                - Message::slots(message.en).concat().len();
            if message.zh.trim().is_empty() && !message.en.trim().is_empty()
                || (words > 0 && !has_chinese(message.zh))
            {
                missing.push(format!("{}: no Chinese text", message.id));
            }
            if Message::slots(message.en) != Message::slots(message.zh) {
                missing.push(format!("{}: the slots differ", message.id));
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn a_message_fills_its_slots_once() {
        let filled = NO_LAB.fill(Lang::En, &[("query", &"{query}x")]);
        assert_eq!(
            filled,
            "no lab called '{query}x'; `netlab list` shows the labs"
        );
        let zh = NO_LAB_NUMBER.fill(
            Lang::Zh,
            &[("number", &99), ("first", &"01"), ("last", &"16")],
        );
        assert_eq!(zh, "没有第 99 号实验：实验编号是 01-16");
    }

    #[test]
    fn the_end_of_a_trace_names_the_next_lab_and_the_lesson() {
        let [next, lesson] = next_steps("07-sticky-packet", Some("08-length-header"));
        assert_eq!(next.en, "Next lab: netlab run 08-length-header");
        assert!(lesson.zh.ends_with("netlab show 07-sticky-packet"));
        let [last, _] = next_steps("16-unix-socket", None);
        assert!(last.en.contains("last lab"));
    }
}
