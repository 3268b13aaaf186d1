//! Lab 13: datagrams keep their boundaries.
//!
//! Two sendto calls arrive as two recvfrom results, never glued together as TCP's byte stream
//! can glue them. An empty datagram is a real datagram. A datagram longer than the receive
//! buffer is cut, and on Linux the rest is gone.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "UDP keeps message boundaries: one sendto, one recvfrom; empty and oversized datagrams",
    "UDP 保留消息边界：一次 sendto 对应一次 recvfrom；空数据报与超长数据报",
);

pub fn run(t: &Trace) -> LabResult {
    let kernel = t.kernel();

    t.section("A receiver and a sender", "一个接收方和一个发送方");
    let server = t.side("server").udp("sock")?;
    server.bind(&Addr::loopback(0))?;
    let number = server.local_addr()?;
    let client = t.side("client").udp("sock")?;

    t.section(
        "Two sendto, two recvfrom: each datagram keeps its boundary",
        "两次 sendto，两次 recvfrom：每个数据报都保留自己的边界",
    );
    let first: &[u8] = b"first";
    let second: &[u8] = b"second, longer";
    client.sendto(first, &number)?;
    client.sendto(second, &number)?;
    let next = kernel.recv_queue(&server)?;
    t.expect(next == first.len(), "FIONREAD shows the first datagram only")?;
    t.note(
        format!(
            "{} bytes wait in two datagrams, and the kernel keeps them apart: FIONREAD tells the \
             size of the next datagram only.",
            first.len() + second.len()
        ),
        format!(
            "一共有 {} 字节在等待，分属两个数据报，内核把它们分开存放：FIONREAD 只报告下一个数据报的大小。",
            first.len() + second.len()
        ),
    );
    let (data, _) = server.recvfrom(1024)?;
    t.expect(data == first, "one recvfrom returns exactly the first datagram")?;
    t.note(
        "recvfrom(1024) may take up to 1024 bytes and more were waiting, yet it returns exactly one \
         datagram. With TCP two sends can come out of one recv glued together (lab 07, the sticky \
         packet): TCP carries a stream of bytes, UDP carries separate messages.",
        "recvfrom(1024) 最多能取 1024 字节，等待的字节也不止这些，可它只返回恰好一个数据报。\
         用 TCP 时，两次 send 的数据可能被一次 recv 粘在一起取出（实验 07，粘包）：\
         TCP 传的是字节流，UDP 传的是一条条独立的消息。",
    );
    let (data, _) = server.recvfrom(1024)?;
    t.expect(data == second, "the second recvfrom returns the second datagram")?;

    t.section("An empty datagram is real", "空数据报是真实存在的");
    let mark = t.wire_mark();
    client.sendto(b"", &number)?;
    t.note(
        "sendto(b'') sends a datagram with no data: only the 8-byte UDP header, whose length field \
         says 8, because it counts the header's own 8 bytes.",
        "sendto(b'') 发出一个没有数据的数据报：只有 8 字节的 UDP 报头，报头里的长度字段写的是 8，\
         因为这个长度把报头自己的 8 个字节也算在内。",
    );
    if t.wire() {
        let seen = t.wire_since(mark);
        t.expect(
            seen.udp("client", "server") == [(0, 8)] && seen.len() == 1,
            "one UDP datagram with 0 bytes of data and length field 8 on the wire",
        )?;
        t.note(
            "The wire line shows it: a datagram with 0 bytes of data and the length field 8, the header alone. An empty TCP send() puts nothing on the wire (lab 03); an empty sendto() puts a whole datagram there.",
            "wire 行正好显示了这一点：一个数据长度为 0、长度字段为 8 的数据报，只有报头。TCP 的空 send() 在线上什么也不发（实验 03）；UDP 的空 sendto() 却会发出一个完整的数据报。",
        );
    }
    let (data, from) = server.recvfrom(1024)?;
    t.expect(data.is_empty(), "the empty datagram arrived empty")?;
    t.expect(
        from.port() == client.local_addr()?.port(),
        "the empty datagram came from the client",
    )?;
    t.note(
        "recvfrom returned b'' with the sender's address: one empty datagram arrived. With TCP, \
         send(b'') puts nothing on the wire and recv() returning b'' means the peer closed (lab 03).",
        "recvfrom 返回 b''，并附上发送方地址：收到了一个空数据报。用 TCP 时，send(b'') 什么也不会发出，\
         而 recv() 返回 b'' 表示对方关闭了（实验 03）。",
    );

    t.section(
        "A datagram longer than the buffer is cut",
        "比缓冲区长的数据报会被截断",
    );
    let long: &[u8] = b"this datagram is longer than ten bytes";
    client.sendto(long, &number)?;
    let next = kernel.recv_queue(&server)?;
    t.expect(next == long.len(), "the long datagram waits whole")?;
    let (data, _) = server.recvfrom(10)?;
    t.expect(data == long[..10], "recvfrom(10) gives the first 10 bytes")?;
    t.note(
        "recvfrom(10) returns the first 10 bytes. Python shows only those: netlab asked the kernel \
         (flag MSG_TRUNC) how long the datagram really was.",
        "recvfrom(10) 返回前 10 个字节。Python 只会给出这些；数据报原本有多长，是 netlab 用 \
         MSG_TRUNC 标志向内核问来的。",
    );
    match server.recvfrom(1024) {
        Err(err) if is_blocked(&err) => {}
        Err(err) => return Err(err.into()),
        Ok(_) => t.expect(false, "the rest of the cut datagram is gone")?,
    }
    t.note(
        format!(
            "The other {} bytes are not waiting for a second call: on Linux the rest of a cut datagram \
             is thrown away (with TCP they would wait for the next recv). On Windows the same recvfrom \
             raises OSError: [WinError 10040] A message sent on a datagram socket was larger than the internal message buffer or some other network limit, or the buffer used to receive a datagram into was smaller than the datagram itself (WSAEMSGSIZE): \
             the rest is thrown away there too, and the program gets the error instead of the data. \
             Use a buffer as large as the largest datagram you expect.",
            long.len() - 10
        ),
        format!(
            "剩下的 {} 字节并没有留给下一次调用：在 Linux 上，被截断的数据报其余部分直接丢弃\
             （换成 TCP，它们会留给下一次 recv）。在 Windows 上，同样的 recvfrom 会抛出 \
             OSError: [WinError 10040]，后面是 Windows 对 WSAEMSGSIZE 的说明（消息比缓冲区长）：剩余部分同样被丢弃，\
             而且程序拿到的是这个异常，而不是数据。缓冲区要开到不小于预期的最大数据报。",
            long.len() - 10
        ),
    );

    t.section("Close", "关闭");
    client.close();
    server.close();
    Ok(())
}
