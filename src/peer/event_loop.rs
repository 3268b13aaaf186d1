//! `serve` for a lab whose server serves many clients at once (labs 18 and 19): netlab's
//! server is one event loop, written the way lab 19's server.py is. Its listening socket and
//! every connection are non-blocking and registered with a `selectors.DefaultSelector` (a real
//! epoll instance); each turn of the loop is one `sel.select()`, and netlab serves what the
//! kernel reported ready: it accepts a new connection, answers a message, or sends the rest of
//! an answer. One client's silence or slowness therefore holds up no other client.
//!
//! The loop waits only in one place, for the epoll instance to become readable, watched
//! together with Ctrl-C by [`super::outside`], the one place that waits on a clock: without a
//! client until Ctrl-C (a server waits for clients), with clients at most until the first of
//! their declared limits passes; the limits are counted here, from the declared wait. A client
//! that sent nothing for the limit, stopped sending requests for [`IDLE_FACTOR`] times it, or
//! left part of an answer unread for the limit is diagnosed as in the other labs and
//! disconnected; the others go on. Memory stays bounded: at most [`MAX_CLIENTS`] connections
//! at once (the next wait in the kernel's accept queue meanwhile), one recv buffer at a time,
//! and for each client at most the rest of one answer, during which netlab reads nothing more
//! from it (TCP's flow control then holds the client back).
//!
//! The connections are named conn1, conn2 ... in the order netlab accepts them, and their
//! clients' ports CLIENT_PORT_1, CLIENT_PORT_2 ...: every line says which client it is about.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::call::IDLE_FACTOR;
use super::context::Context;
use super::diagnosis::Diagnosis;
use super::outside::Waited;
use super::EventLoop;
use crate::event::Text;
use crate::phrases;
use crate::sock::select::{Events, Selector};
use crate::sock::{is_blocked, raised_blocking_io, Addr, Sock};

/// The most clients netlab's event loop serves at once.
pub const MAX_CLIENTS: usize = 32;

/// What one `recv()` of the loop asks for, as the course's servers do.
const BUFSIZE: usize = 1024;

/// One connected client.
struct Client {
    conn: Sock,
    /// Its number, from 1, in the order netlab accepted the clients (`conn2`: client 2).
    number: u32,
    /// Whether it has sent anything yet.
    heard: bool,
    /// The rest of an answer that send() did not take yet. While it waits, netlab watches the
    /// socket for writing only and reads nothing more from this client.
    unsent: Vec<u8>,
    /// The length of the whole answer `unsent` is the rest of.
    answer_len: usize,
    /// When netlab began to wait for this client's next step.
    since: Instant,
}

impl Client {
    /// When netlab stops waiting for this client, and what a client that let the time pass
    /// did wrong: no first message, no next one, or no room for the rest of an answer.
    fn deadline(&self, limit: Duration) -> (Instant, Diagnosis) {
        if !self.unsent.is_empty() {
            let taken = self.answer_len - self.unsent.len();
            let stuck = Diagnosis::NotReading {
                taken,
                total: self.answer_len,
                selector: true,
            };
            (self.since + limit, stuck)
        } else if self.heard {
            let idle = limit.saturating_mul(IDLE_FACTOR);
            (self.since + idle, Diagnosis::Idle { waited: idle })
        } else {
            (self.since + limit, Diagnosis::Silent)
        }
    }
}

/// Notes written once per session, at the first time what they explain happens.
#[derive(Default)]
struct Told {
    accepted: bool,
    drained: bool,
    answered_beside: bool,
    hung_up: bool,
    partial: bool,
    full: bool,
}

/// The loop and what it serves.
struct Loop<'a> {
    cx: &'a Context,
    program: EventLoop,
    server: Sock,
    sel: Selector,
    clients: Vec<Client>,
    /// Whether the listening socket is registered: not while [`MAX_CLIENTS`] are connected.
    accepting: bool,
    told: Told,
}

/// Runs netlab's event loop on `server`, a socket listening at `number`, until Ctrl-C (true)
/// or, with `once`, until the first client has been served and no client is connected any
/// more (false). `ready` is told the address once the loop waits for clients.
pub(crate) fn run(
    cx: &Context,
    program: EventLoop,
    mut server: Sock,
    number: &Addr,
    once: bool,
    ready: &mut dyn FnMut(SocketAddr),
) -> io::Result<bool> {
    server.setblocking(false);
    let sel = cx.trace.side("server").default_selector("sel")?;
    sel.register(&server)?;
    let Addr::Inet(addr) = number else {
        return Err(io::Error::other("netlab serves on 127.0.0.1 only"));
    };
    let shown = cx.trace.registry().show_addr(number);
    cx.note(program.how.en.clone(), program.how.zh.clone());
    cx.note(
        format!("netlab's server waits in sel.select() for your clients at {shown}: start one or more of them, in other terminals. Whichever socket select() reports ready is served at once (a new connection accepted, a message answered), whatever the other clients do, until Ctrl-C."),
        format!("netlab 的服务端在 {shown} 上的 sel.select() 里等你的客户端：在别的终端里启动一个或几个。select() 报告哪个套接字就绪，就立刻服务哪个（接受新连接、回答消息），不管其他客户端在做什么，直到按下 Ctrl-C。"),
    );
    ready(*addr);
    let mut serving = Loop {
        cx,
        program,
        server,
        sel,
        clients: Vec::new(),
        accepting: true,
        told: Told::default(),
    };
    let stopped = serving.serve(once);
    serving.switch_off(matches!(stopped, Ok(true)))?;
    stopped
}

impl Loop<'_> {
    fn serve(&mut self, once: bool) -> io::Result<bool> {
        loop {
            // Everything so far is on screen while the server waits.
            self.cx.trace.recorder().flush();
            let wait = self.next_deadline().map(|at| {
                at.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1))
            });
            let epoll = self
                .sel
                .epoll_fd()
                .ok_or_else(|| io::Error::other("a DefaultSelector has an epoll instance"))?;
            match self.cx.outside.readable_within(epoll, wait)? {
                Waited::Stopped => return Ok(true),
                Waited::TimedOut => self.expire()?,
                Waited::Ready => self.turn()?,
            }
            if self.cx.trace.recorder().output_failed() {
                return Ok(false);
            }
            if once && self.cx.conversations() > 0 && self.clients.is_empty() {
                return Ok(false);
            }
        }
    }

    /// The first moment a client's declared limit passes, if any client is connected.
    fn next_deadline(&self) -> Option<Instant> {
        let limit = self.cx.outside.limit();
        self.clients.iter().map(|c| c.deadline(limit).0).min()
    }

    /// Diagnoses and disconnects every client whose limit has passed.
    fn expire(&mut self) -> io::Result<()> {
        let limit = self.cx.outside.limit();
        let now = Instant::now();
        let due: Vec<(u32, Diagnosis)> = self
            .clients
            .iter()
            .map(|c| (c.number, c.deadline(limit)))
            .filter(|(_, (at, _))| *at <= now)
            .map(|(number, (_, diagnosis))| (number, diagnosis))
            .collect();
        for (number, diagnosis) in due {
            self.cx.report(&diagnosis);
            self.hang_up(number)?;
        }
        Ok(())
    }

    /// One turn: `events = sel.select()`, then each socket it reported, in order.
    fn turn(&mut self) -> io::Result<()> {
        let ready = match self.sel.select("events", None) {
            Ok(ready) => ready,
            // The epoll instance was readable, yet epoll_wait found nothing for the declared
            // wait (the line says so); the loop goes on.
            Err(err) if is_blocked(&err) => return Ok(()),
            Err(err) => return Err(err),
        };
        // In the list's order, as server.py's `for key, mask in sel.select():` goes.
        let server = self.server.id();
        let fired: Vec<(Option<u32>, Events)> = ready
            .entries()
            .filter_map(|(id, events)| {
                if id == server {
                    return Some((None, events));
                }
                let client = self.clients.iter().find(|c| c.conn.id() == id)?;
                Some((Some(client.number), events))
            })
            .collect();
        for (client, events) in fired {
            match client {
                None => self.accept_all()?,
                Some(number) if events.writes() => self.send_rest(number)?,
                Some(number) => self.read(number)?,
            }
        }
        Ok(())
    }

    /// Accepts every connection waiting, as lab 19's server.py does: one event may stand for
    /// several, so the loop goes on until accept() raises BlockingIOError (or netlab serves
    /// as many clients as it will).
    fn accept_all(&mut self) -> io::Result<()> {
        while self.accepting && self.accept()? {}
        Ok(())
    }

    /// `connN, addr = server.accept()`, made non-blocking and registered for reading; false
    /// when no connection was waiting (BlockingIOError, on its line). Any other failure ends
    /// the session, as the exception would end server.py: the listening socket would stay
    /// readable, and trying again could only fail again.
    fn accept(&mut self) -> io::Result<bool> {
        let number = self.cx.conversations() + 1;
        let (mut conn, _) = match self.server.accept(&format!("conn{number}")) {
            Ok(accepted) => accepted,
            Err(err) if !raised_blocking_io(&err) => return Err(err),
            Err(_) => {
                if !self.told.drained {
                    self.told.drained = true;
                    self.cx.note(
                        "BlockingIOError: no connection is left in the accept queue, which ends the accept loop. The kernel reports the listening socket readable once however many connections wait, so the server accepts until this error.",
                        "BlockingIOError：accept 队列里已经没有连接了，accept 循环到此结束。不管有几个连接在等，内核只报告一次监听套接字可读，所以服务端要一直 accept 到出现这个错误为止。",
                    );
                }
                return Ok(false);
            }
        };
        self.cx.next_conversation();
        conn.setblocking(false);
        self.sel.register(&conn)?;
        if !self.told.accepted {
            self.told.accepted = true;
            self.cx.note(
                "netlab names the connections conn1, conn2 ... in the order it accepts them, so that every line says which client it is about (in server.py each one is `conn` when accept() returns it, and `key.fileobj` when select() reports it). Each is made non-blocking and registered for reading, like the listening socket.",
                "netlab 按接受的顺序把连接命名为 conn1、conn2……，这样每一行都能看出是哪个客户端的（在 server.py 里，accept() 返回它时它叫 `conn`，select() 报告它时它是 `key.fileobj`）。每条连接都和监听套接字一样设为非阻塞，并注册为读事件。",
            );
        }
        self.clients.push(Client {
            conn,
            number,
            heard: false,
            unsent: Vec::new(),
            answer_len: 0,
            since: Instant::now(),
        });
        if self.clients.len() >= MAX_CLIENTS {
            self.sel.unregister(&self.server)?;
            self.accepting = false;
            if !self.told.full {
                self.told.full = true;
                self.cx.note(
                    format!("netlab serves at most {MAX_CLIENTS} clients at once, so that its memory stays bounded: it stops watching the listening socket, and the next clients wait in its accept queue (listen(5), lab 05) until one of these leaves."),
                    format!("netlab 同时最多服务 {MAX_CLIENTS} 个客户端，好让它占用的内存有上限：它不再监视监听套接字，后来的客户端在它的 accept 队列里等（listen(5)，实验 05），直到这些客户端中有一个离开。"),
                );
            }
        }
        Ok(true)
    }

    fn index(&self, number: u32) -> Option<usize> {
        self.clients.iter().position(|c| c.number == number)
    }

    /// `data = connN.recv(1024)`, and the answer; `b''` ends the client's turn for good.
    fn read(&mut self, number: u32) -> io::Result<()> {
        let Some(i) = self.index(number) else {
            return Ok(());
        };
        let data = match self.clients[i].conn.recv(BUFSIZE) {
            Ok(data) => data,
            Err(err) => return self.went_wrong(number, err),
        };
        if data.is_empty() {
            if !self.told.hung_up {
                self.told.hung_up = true;
                self.cx.note(
                    format!("b'': client {number} hung up (FIN). The server unregisters its socket from the selector, then closes it; the other clients notice nothing."),
                    format!("b''：客户端 {number} 挂断了（FIN）。服务端先把它的套接字从选择器注销，再关闭它；其他客户端毫无察觉。"),
                );
            }
            return self.hang_up(number);
        }
        self.clients[i].heard = true;
        let answer = (self.program.answer)(&data);
        self.clients[i].answer_len = answer.len();
        self.send(number, answer)
    }

    /// `connN.send(answer)`: what send() does not take waits until the socket is writable.
    fn send(&mut self, number: u32, answer: Vec<u8>) -> io::Result<()> {
        let Some(i) = self.index(number) else {
            return Ok(());
        };
        let was_waiting = !self.clients[i].unsent.is_empty();
        let taken = match self.clients[i].conn.send(&answer) {
            Ok(taken) => taken,
            Err(err) if raised_blocking_io(&err) => 0,
            Err(err) => return self.went_wrong(number, err),
        };
        let client = &mut self.clients[i];
        if taken > 0 || !was_waiting {
            // A client that makes room (or a new answer) starts the wait anew.
            client.since = Instant::now();
        }
        if taken == answer.len() {
            client.unsent = Vec::new();
            if was_waiting {
                self.sel.modify(&self.clients[i].conn, Events::READ)?;
            }
            self.answered(number);
            return Ok(());
        }
        client.unsent = answer[taken..].to_vec();
        if !was_waiting {
            self.sel.modify(&self.clients[i].conn, Events::WRITE)?;
        }
        if !self.told.partial {
            self.told.partial = true;
            self.cx.note(
                format!("send() took only part of the answer: client {number} does not read, and its receive buffer and netlab's send buffer are full. netlab keeps the rest, asks the selector to report conn{number} writable instead (EVENT_WRITE), and reads nothing more from this client until the rest is sent (lab 14). The other clients are served meanwhile."),
                format!("send() 只收下了回答的一部分：客户端 {number} 不读数据，它的接收缓冲区和 netlab 的发送缓冲区都满了。netlab 留着剩下的部分，改为让选择器在 conn{number} 可写时报告（EVENT_WRITE），在剩下的发完之前不再读这个客户端的数据（实验 14）。其间其他客户端照常得到服务。"),
            );
        }
        Ok(())
    }

    /// The rest of an answer, once the selector reported the socket writable.
    fn send_rest(&mut self, number: u32) -> io::Result<()> {
        let Some(i) = self.index(number) else {
            return Ok(());
        };
        let rest = self.clients[i].unsent.clone();
        self.send(number, rest)
    }

    /// After client `number` got a whole answer: the first time another client is connected
    /// meanwhile, a note on what that shows.
    fn answered(&mut self, number: u32) {
        if self.clients.len() < 2 || self.told.answered_beside {
            return;
        }
        self.told.answered_beside = true;
        let others: Vec<&Client> = self.clients.iter().filter(|c| c.number != number).collect();
        let (en, zh) = match others.as_slice() {
            [other] if !other.heard => (
                format!(
                    "client {} stayed connected without saying anything",
                    other.number
                ),
                format!("客户端 {} 一直连着，一句话也没说", other.number),
            ),
            [other] => (
                format!("client {} stayed connected", other.number),
                format!("客户端 {} 一直连着", other.number),
            ),
            many => (
                format!("{} other clients stayed connected", many.len()),
                format!("另外 {} 个客户端一直连着", many.len()),
            ),
        };
        self.cx.note(
            format!("Client {number} got its answer while {en}: select() reports only the sockets that are ready, so no client waits for another. Lab 02's server would still sit in recv() for its first client, with the next ones in its accept queue."),
            format!("客户端 {number} 得到了回答，而{zh}：select() 只报告已经就绪的套接字，所以没有哪个客户端要等别的客户端。换成实验 02 的服务端，它还会卡在 recv() 里等第一个客户端，后来的都在 accept 队列里排队。"),
        );
    }

    /// A call that failed because of what the client did, diagnosed: RST, or a closed end
    /// netlab was still sending to. The client is disconnected; the others go on.
    fn went_wrong(&mut self, number: u32, err: io::Error) -> io::Result<()> {
        if raised_blocking_io(&err) {
            // Python's BlockingIOError, already on its line: nothing was there after all.
            return Ok(());
        }
        match err.raw_os_error() {
            Some(libc::ECONNRESET) => self.cx.report(&Diagnosis::Reset { progress: None }),
            Some(libc::EPIPE) => self.cx.report(&Diagnosis::ClosedWhileSending),
            _ => self
                .cx
                .summary(phrases::conversation_failed(), Text::same(err.to_string())),
        }
        self.hang_up(number)
    }

    /// `sel.unregister(connN)` and `connN.close()`; the listening socket is watched again
    /// when there is room for a client.
    fn hang_up(&mut self, number: u32) -> io::Result<()> {
        let Some(i) = self.index(number) else {
            return Ok(());
        };
        let client = self.clients.remove(i);
        self.sel.unregister(&client.conn)?;
        client.conn.close();
        if !self.accepting && self.clients.len() < MAX_CLIENTS {
            self.sel.register(&self.server)?;
            self.accepting = true;
        }
        Ok(())
    }

    /// Hangs up on every client still connected, then closes the selector and the listening
    /// socket.
    fn switch_off(self, stopped: bool) -> io::Result<()> {
        let Loop {
            cx,
            server,
            sel,
            clients,
            accepting,
            ..
        } = self;
        if stopped && !clients.is_empty() {
            cx.note(
                "netlab stops: it hangs up on the clients still connected, then closes its selector and its listening socket.",
                "netlab 停止：它挂断仍然连着的客户端，再关闭选择器和监听套接字。",
            );
        }
        for client in clients {
            sel.unregister(&client.conn)?;
            client.conn.close();
        }
        if accepting {
            sel.unregister(&server)?;
        }
        sel.close();
        server.close();
        Ok(())
    }
}
