//! Lab 07: sticky packets. TCP carries a stream of bytes and keeps no message boundaries:
//! two quick sends come out of one recv, and a reply longer than the receiver's recv(1024)
//! leaves a tail in the queue that comes out mixed into the next reply.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "sticky packets: TCP is a byte stream and keeps no message boundaries",
    "粘包：TCP 是字节流，不保留消息边界",
);

/// The two commands the client types: one long reply, then a short one.
const LONG: &[u8] = b"seq 1000 1400";
const SHORT: &[u8] = b"echo hello";
/// The course's "just ask for more": the number in its code ...
const COURSE_CODE_RECV: i128 = 1_024_000_000_000_000_000_000_000;
/// ... and the number in the traceback it prints (a different one).
const COURSE_TRACEBACK_RECV: i128 = 1_024_000_000_000_000;

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let kernel = t.kernel();

    t.section("The server switches on", "服务端开机");
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(5)?;
    let number = phone.local_addr()?;

    t.section("Two quick sends, one recv", "连发两次，一次 recv 收走");
    let caller = t.side("client").tcp("phone")?;
    caller.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    let mark = t.wire_mark();
    caller.send(b"hello")?;
    caller.send(b"world")?;
    t.note(
        "Two send() calls of 5 bytes each, made before the server reads. Each one only appends \
         bytes to the same stream; nothing on the wire marks where 'hello' ends.",
        "服务端还没读，客户端就连发了两次，每次 5 字节。每次 send() 只是往同一条字节流末尾追加字节；\
         线路上没有任何标记说明 'hello' 在哪里结束。",
    );
    if t.wire() {
        t.expect_segments(
            mark,
            ("client", "server"),
            &[("P.", 5), ("P.", 5)],
            &[(".", 0), (".", 0)],
        )?;
        t.note(
            "Here each send() did travel as a segment of its own, 5 bytes each (the wire lines above). But segments are not messages either: the server's kernel appends the data of every segment to one receive queue and keeps no mark of where a segment ended. And a send() is not always one segment: the kernel may split a long one, or put small ones together while it waits for an ACK.",
            "这里每次 send() 确实各自成了一个报文，各 5 字节（见上面的 wire 行）。可报文也不是消息：服务端内核把每个报文的数据都追加到同一个接收队列里，并不记录一个报文在哪里结束。而且一次 send() 也不一定就是一个报文：内核可能把长的拆开，也可能在等 ACK 时把几个小的合在一起发。",
        );
    }
    let queued = kernel.recv_queue(&conn)?;
    t.expect(queued == 10, "both sends wait in one receive queue")?;
    t.note(
        "The kernel holds 10 bytes for the server: a count of bytes, not a list of two messages.",
        "内核替服务端存着 10 个字节：它记的是字节数，不是“两条消息”。",
    );
    let mark = t.wire_mark();
    let data = conn.recv(1024)?;
    t.expect(data == b"helloworld", "one recv returns both sends")?;
    t.note(
        "One recv(1024) returns all 10 bytes: the two messages stuck together. From these bytes \
         the server cannot tell whether the client sent 'helloworld' once or 'hello' and 'world'.",
        "一次 recv(1024) 把 10 个字节全拿走了：两条消息粘在了一起。服务端光看这些字节，\
         分不清客户端是发了一次 'helloworld'，还是分别发了 'hello' 和 'world'。",
    );
    if t.wire() {
        t.expect_segments(mark, ("server", "client"), &[], &[])?;
        t.note(
            "Two segments went in, one recv() of 10 bytes came out, and nothing went on the wire for the read itself.",
            "进去的是两个报文，出来的是一次 10 字节的 recv()，而读取本身并没有在线上发出任何东西。",
        );
    }
    caller.close();
    conn.close();

    t.section(
        "The remote-command program: a reply longer than recv(1024)",
        "远程执行命令：回复比 recv(1024) 长",
    );
    let caller = t.side("client").tcp("phone")?;
    caller.connect(&number)?;
    let (conn, _) = phone.accept("conn")?;
    caller.send(LONG)?;
    let cmd = conn.recv_into_var("cmd", 1024)?;
    let out = server.run_command("res", &cmd)?.combined();
    t.note(
        "The server runs the command it received as a real process, without a shell, and only \
         because it is on netlab's fixed list. seq prints 401 lines of 5 bytes.",
        "服务端把收到的命令作为真实进程运行，不经过 shell，而且只因为它在 netlab 的固定清单上才运行。\
         seq 打印 401 行，每行 5 字节。",
    );
    let sent = conn.send(&out)?;
    t.expect(sent == out.len(), "the whole output fits in the send buffer")?;
    t.note(
        "The server sends res.stdout + res.stderr in one send(): the whole reply leaves at once.",
        "服务端用一次 send() 发出 res.stdout + res.stderr：整个回复一次发完。",
    );
    let arrived = kernel.recv_queue(&caller)?;
    t.expect(arrived == out.len(), "the whole reply reached the client")?;
    let first = caller.recv_into_var("cmd_res", 1024)?;
    let left = kernel.recv_queue(&caller)?;
    t.expect(
        first.len() == 1024 && left == out.len() - 1024,
        "recv(1024) takes 1024 bytes and leaves the rest queued",
    )?;
    t.note(
        format!(
            "The whole reply had arrived, yet recv(1024) took only 1024 bytes: the head of the \
             output, cut in the middle of a line. The other {left} bytes stay in the client's \
             receive queue. The client prints the head and asks for the next command."
        ),
        format!(
            "整个回复都已到达，recv(1024) 却只拿走 1024 字节：输出的开头，还断在一行的中间。\
             剩下的 {left} 字节留在客户端的接收队列里。客户端打印这个开头，接着等下一条命令。"
        ),
    );

    t.section(
        "The next command gets the leftovers",
        "下一条命令收到的是上一次的残留",
    );
    caller.send(SHORT)?;
    let cmd = conn.recv_into_var("cmd", 1024)?;
    let out2 = server.run_command("res", &cmd)?.combined();
    conn.send(&out2)?;
    let queued = kernel.recv_queue(&caller)?;
    t.expect(queued == left + out2.len(), "old tail and new reply share the queue")?;
    t.note(
        format!(
            "The queue now holds {left} old bytes from seq followed by the {} new bytes of echo.",
            out2.len()
        ),
        format!(
            "队列里现在先是 seq 剩下的 {left} 个旧字节，后面跟着 echo 的 {} 个新字节。",
            out2.len()
        ),
    );
    let second = caller.recv_into_var("cmd_res", 1024)?;
    let expected: Vec<u8> = [&out[1024..], &out2[..]].concat();
    t.expect(second == expected, "the reply starts with the previous tail")?;
    t.note(
        "The client asked for `echo hello` and got the rest of seq's output first, starting with \
         the newline that ends the cut line, and hello only at the very end. The stream has no \
         idea which bytes answer which command: each reply comes out behind by the old tail.",
        "客户端要的是 `echo hello`，拿到的却先是 seq 输出的剩余部分（开头就是那行被截断处的换行符），\
         hello 排在最后。字节流根本不知道哪些字节回答哪条命令：每次回复都被上一次的残留拖在后面。",
    );
    kernel.recv_queue(&caller)?;
    t.note(
        "Empty again only because this time the leftovers and the new reply fit into 1024 bytes. \
         A longer reply would have left a new tail for the command after it.",
        "队列又空了，只是因为这一次残留加新回复一共没超过 1024 字节。\
         回复再长一些，就又会给下一条命令留下新的残留。",
    );

    t.section(
        "The course's bigger recv(): OverflowError, then MemoryError",
        "课程里把 recv 的数字改大：先是 OverflowError，再是 MemoryError",
    );
    caller.send(LONG)?;
    let cmd = conn.recv_into_var("cmd", 1024)?;
    let out3 = server.run_command("res", &cmd)?.combined();
    conn.send(&out3)?;
    let waiting = kernel.recv_queue(&caller)?;
    t.expect(waiting == out3.len(), "the whole reply waits for the client")?;
    t.note(
        "The client runs seq 1000 1400 again; the whole reply waits in its queue. Now it tries the \
         course's idea: ask recv() for so much that everything fits.",
        "客户端再次运行 seq 1000 1400，整个回复都在它的队列里等着。现在它试试课程里的想法：\
         让 recv() 要得多到一次全装下。",
    );
    refused(
        t,
        caller.recv_any_int("cmd_res", COURSE_CODE_RECV),
        std::io::ErrorKind::InvalidInput,
        "recv(1024000000000000000000000) raises OverflowError",
    )?;
    t.note(
        "This is the number in the course's code. recv() takes a C ssize_t, at most \
         9223372036854775807 (2**63 - 1) on a 64-bit machine, and this number is larger: Python \
         raises OverflowError while it reads the arguments, before it looks at the socket.",
        "这是课程代码里写的数字。recv() 的参数是 C 的 ssize_t，在 64 位机器上最大是 \
         9223372036854775807（2**63 - 1），这个数字比它还大：Python 在解析参数时就抛出 OverflowError，\
         根本还没碰到套接字。",
    );
    refused(
        t,
        caller.recv_any_int("cmd_res", COURSE_TRACEBACK_RECV),
        std::io::ErrorKind::OutOfMemory,
        "recv(1024000000000000) raises MemoryError",
    )?;
    t.note(
        "The traceback the course prints shows another number, recv(1024000000000000), and \
         MemoryError. That one fits ssize_t, so CPython goes on and allocates a bytes buffer of \
         that size before it reads: 1024000000000000 bytes, about 931 TiB. netlab asked this \
         machine's allocator for a buffer of that size in the same way, and it was refused.",
        "课程打印出的报错信息里是另一个数字 recv(1024000000000000)，以及 MemoryError。这个数字\
         装得进 ssize_t，于是 CPython 继续往下，在读之前先分配这么大的 bytes 缓冲区：\
         1024000000000000 字节，约 931 TiB。netlab 也照样向这台机器的内存分配器要了这么大的缓冲区，\
         同样被拒绝了。",
    );
    let kib = kernel.mem_total()?;
    t.expect(
        kib < 1_000_000_000_000,
        "this machine has less memory than the buffer would take",
    )?;
    t.note(
        "Less memory than the 1000000000000 kB that buffer needs.",
        "比那个缓冲区需要的 1000000000000 kB 少。",
    );
    let still = kernel.recv_queue(&caller)?;
    t.expect(still == out3.len(), "the failed recvs read nothing")?;
    t.note(
        "Nothing was read: both exceptions came before recv() reached the kernel, and the reply \
         still waits. In the course's client either one ends the program with a traceback.",
        "一个字节都没有读走：两个异常都发生在 recv() 找内核之前，回复还在队列里等着。\
         在课程的客户端里，不管哪一个，都会让程序带着报错信息退出。",
    );
    t.note(
        "Even with that much memory it would fix nothing: recv returns what is in the queue at \
         that moment, never \"one whole message\". A reply still on its way comes out cut, and two \
         replies already queued come out stuck together. The receiver has to be told where each \
         message ends: lab 08 sends the length first.",
        "就算内存够，也解决不了问题：recv 返回的是那一刻队列里有的字节，而不是“一整条消息”。\
         还在路上的回复照样会被截断，已经排在一起的两条回复照样粘在一起。\
         接收方必须被告知每条消息在哪里结束：实验 08 先发送长度。",
    );

    t.section("Hang up and switch off", "挂断并关机");
    let mark = t.wire_mark();
    caller.close();
    if t.wire() {
        t.expect_segments(mark, ("client", "server"), &[("R.", 0)], &[])?;
        t.note(
            "The client hangs up with the last reply still unread in its receive queue, so its kernel sends a reset (R.) instead of a FIN: the unread bytes are thrown away, and the server is told the hard way (lab 04 shows the same reset on purpose).",
            "客户端挂断时，最后那条回复还没读，留在接收队列里，所以它的内核发出的是重置（R.）而不是 FIN：没读的字节被丢弃，服务端以这种生硬的方式得知（实验 04 是故意制造了同样的重置）。",
        );
    }
    conn.close();
    phone.close();
    Ok(())
}

/// A call the lesson expects to raise: Ok when it failed with `kind` (the exception is in the
/// trace already), the lab's error for any other outcome.
fn refused(
    t: &Trace,
    result: std::io::Result<Vec<u8>>,
    kind: std::io::ErrorKind,
    what: &str,
) -> LabResult {
    match result {
        Err(err) if err.kind() == kind => Ok(()),
        Err(err) => Err(err.into()),
        Ok(_) => t.expect(false, what),
    }
}
