//! Every phrase the engine itself writes into a trace, in English and Chinese, in one place a
//! translator can read top to bottom. Labs write their own notes; the engine writes only these
//! words around the Python values and figures it fills in.
//!
//! Figures come in already formatted (a number, or a stable name such as `SENT`), so a phrase
//! never decides how a figure shows.

use crate::event::Text;
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
// A call that would block: netlab watched it for a bounded time and moved on
// ---------------------------------------------------------------------------------------

/// A call that nothing is on its way for (`accept()`, `recv()`).
pub fn blocks(ms: u128) -> Text {
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

/// `connect()` to a listener whose accept queue is full: the SYN is dropped.
pub fn connect_blocks(ms: u128) -> Text {
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

/// `recv(n, MSG_WAITALL)` with fewer than n bytes arrived.
pub fn waitall_blocks(arrived: &str, wanted: usize) -> Text {
    Text::new(
        format!("blocks: {arrived} of {wanted} bytes arrived; netlab stops watching here"),
        format!("阻塞：{wanted} 字节中只到了 {arrived} 字节；netlab 在这里停止等待"),
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
