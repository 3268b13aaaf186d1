//! Lab 16: AF_UNIX stream sockets.
//!
//! The same calls as the phone call of lab 01, with a filesystem path instead of
//! ('127.0.0.1', port). bind() creates a socket file; close() leaves it behind, so the next
//! bind() to that path fails with EADDRINUSE until the file is removed.

use netlab::prelude::*;

pub const TITLE: Text = Text::fixed(
    "AF_UNIX sockets: a file path instead of (ip, port), and the socket file left behind",
    "AF_UNIX 套接字：用文件路径代替 (ip, port)，以及留下来的套接字文件",
);

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let client = t.side("client");
    let kernel = t.kernel();
    let path = t.temp_dir()?.join("echo.sock");
    let address = Addr::path(&path);

    t.section(
        "The server's address is a path",
        "服务端的地址是一个路径",
    );
    let listener = server.unix_stream("server")?;
    t.note(
        "AF_UNIX: the family of sockets named by files. Both ends must be on this machine;\n\
         the data never goes through TCP/IP, the kernel copies it from one socket to the other.",
        "AF_UNIX：用文件来命名的套接字家族。两端必须在同一台机器上；数据不经过 TCP/IP，\n\
         由内核直接从一个套接字拷到另一个套接字。",
    );
    listener.bind(&address)?;
    t.note(
        "Instead of ('127.0.0.1', port) the address is a path. TMP is a new temporary directory\n\
         (run with --raw to see where it is).",
        "地址不再是 ('127.0.0.1', port)，而是一个路径。\n\
         TMP 是新建的临时目录（加 --raw 可看到它的真实位置）。",
    );
    kernel.file_type(&path, Some(FileKind::Socket))?;
    t.note(
        "bind() created this file. `ls -l` shows it with type s: it holds no data, it is the name\n\
         under which the kernel finds the listening socket.",
        "bind() 创建了这个文件。`ls -l` 显示它的类型是 s：文件里没有数据，\n\
         它只是内核用来找到监听套接字的名字。",
    );
    listener.listen(1)?;

    t.section(
        "The same calls as a TCP phone call",
        "和 TCP 通话一样的调用",
    );
    let dialer = client.unix_stream("client")?;
    dialer.connect(&address)?;
    t.note(
        "connect() takes the same path. No port is assigned: the client's end has no name at all.",
        "connect() 用的是同一个路径。这里没有端口可分配：客户端这一端根本没有名字。",
    );
    let (conn, _) = listener.accept("conn")?;
    t.note(
        "addr is '' (an empty string): that is how Python shows a peer without a name.",
        "addr 是 ''（空字符串）：Python 就是这样表示一个没有名字的对端。",
    );
    dialer.send(b"hello over a file path")?;
    let data = conn.recv(1024)?;
    conn.send(&data.to_ascii_uppercase())?;
    dialer.recv(1024)?;
    t.note(
        "send() and recv() behave exactly as over TCP: a stream of bytes in both directions.",
        "send() 和 recv() 的行为与 TCP 完全一样：双向的字节流。",
    );
    dialer.close();
    conn.recv(1024)?;
    t.note(
        "b'' again means the other side closed.",
        "同样，b'' 表示对方关闭了。",
    );
    conn.close();
    listener.close();

    t.section(
        "The socket file outlives the socket",
        "套接字关闭了，文件还在",
    );
    kernel.file_type(&path, Some(FileKind::Socket))?;
    t.note(
        "close() does not delete the file. Nothing listens behind it any more.",
        "close() 不会删除这个文件。只是它后面已经没有人在监听了。",
    );
    let late = client.unix_stream("client")?;
    let refused = late.connect(&address);
    t.expect(
        refused.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::ECONNREFUSED),
        "connect() to a socket file with no listener is refused",
    )?;
    t.note(
        "A client that dials the leftover file is refused (ECONNREFUSED): the file exists, the listener\n\
         does not.",
        "客户端拨这个残留的文件会被拒绝（ECONNREFUSED）：文件还在，监听者已经没了。",
    );
    late.close();
    let restarted = server.unix_stream("server")?;
    let again = restarted.bind(&address);
    t.expect(
        again.as_ref().err().and_then(|e| e.raw_os_error()) == Some(libc::EADDRINUSE),
        "bind() to an existing socket file fails with EADDRINUSE",
    )?;
    t.note(
        "The server restarts and binds the same path: EADDRINUSE, because bind() must create the\n\
         file and a file with that name exists. SO_REUSEADDR does not help here; the file must go.",
        "服务端重启后绑定同一个路径：EADDRINUSE，因为 bind() 要新建这个文件，而同名文件已经存在。\n\
         这里 SO_REUSEADDR 帮不上忙，只能把文件删掉。",
    );

    t.section(
        "Remove the file, then bind succeeds",
        "删掉文件，bind 就成功了",
    );
    server.unlink(&path)?;
    kernel.file_type(&path, None)?;
    restarted.bind(&address)?;
    kernel.file_type(&path, Some(FileKind::Socket))?;
    t.note(
        "With the name free, bind() creates a new socket file. Servers therefore remove a leftover\n\
         file before bind(), e.g. `if os.path.exists(path): os.unlink(path)`, and again after close().",
        "名字空出来了，bind() 又新建了一个套接字文件。所以服务端通常在 bind() 之前先删掉残留的文件，\n\
         例如 `if os.path.exists(path): os.unlink(path)`，close() 之后也再删一次。",
    );
    restarted.listen(1)?;
    let dialer = client.unix_stream("client")?;
    dialer.connect(&address)?;
    t.note(
        "The restarted server answers calls again.",
        "重启后的服务端又能接电话了。",
    );
    dialer.close();
    restarted.close();
    server.unlink(&path)?;
    Ok(())
}
