//! Lab 05: the backlog of listen(5) when the server does not accept.
//!
//! Eight clients dial a server that listens with backlog 5 and never calls accept(). The
//! kernel completes handshakes by itself until the accept queue is full; after that it drops
//! the SYNs, and those clients stay in SYN_SENT. Then the server accepts and the queue drains.

use netlab::prelude::*;
use netlab::syn_retries::{self, SynSettings};

pub const TITLE: Text = Text::fixed(
    "listen(5) and no accept(): eight clients dial, the accept queue fills, the rest wait in SYN_SENT",
    "listen(5) 却不 accept()：八个客户端拨号，accept 队列满了，其余的停在 SYN_SENT",
);

const BACKLOG: i32 = 5;
const CLIENTS: usize = 8;
/// net.core.somaxconn differs between machines.
const SOMAXCONN: Figure = Figure::new("SOMAXCONN");
/// The SYN retry settings and the schedule they give differ between kernels.
const SYN_RETRIES: Figure = Figure::new("SYN_RETRIES");
const SYN_LINEAR_TIMEOUTS: Figure = Figure::new("SYN_LINEAR_TIMEOUTS");
const RTO_MAX_MS: Figure = Figure::new("RTO_MAX_MS");
const SYN_SCHEDULE: Figure = Figure::new("SYN_SCHEDULE");

pub fn run(t: &Trace) -> LabResult {
    let server = t.side("server");
    let kernel = t.kernel();

    t.section(
        "The server switches on with listen(5) and does not answer",
        "服务端用 listen(5) 开机，但不接电话",
    );
    let phone = server.tcp("phone")?;
    phone.bind(&Addr::loopback(0))?;
    phone.listen(BACKLOG)?;
    t.note(
        "The server never calls accept() in this lab until every client has dialled.",
        "在所有客户端都拨过号之前，这个服务端一次也不调用 accept()。",
    );
    let (_, limit) = kernel.accept_queue(&phone)?;
    let somaxconn = kernel.sysctl("net.core.somaxconn", SOMAXCONN)?;
    t.expect(
        u64::from(limit) == (BACKLOG as u64).min(somaxconn),
        "the accept queue's limit is min(backlog, net.core.somaxconn)",
    )?;
    t.note(
        "The kernel caps every backlog at net.core.somaxconn: listen(n) gets min(n, SOMAXCONN). \
         SOMAXCONN differs between machines (4096 on Linux 5.4 and later, 128 before); here it is at \
         least 5, so the limit stays 5, as the accept queue line above shows.",
        "内核会把每个 backlog 限制在 net.core.somaxconn 以内：listen(n) 实际得到 min(n, SOMAXCONN)。\
         SOMAXCONN 因机器而异（Linux 5.4 起是 4096，之前是 128）；这里它不小于 5，\
         所以上限仍是 5，上面 accept 队列那一行就是这么显示的。",
    );

    t.section(
        "Eight clients dial, one after the other",
        "八个客户端依次拨号",
    );
    let number = phone.local_addr()?;
    let mut clients = Vec::new();
    for i in 1..=CLIENTS {
        let client = t.side(&format!("client-{i}")).tcp("phone")?;
        let mark = t.wire_mark();
        let connected = match client.connect(&number) {
            Ok(()) => true,
            Err(err) if is_blocked(&err) => false,
            Err(err) => return Err(err.into()),
        };
        let (waiting, _) = kernel.accept_queue(&phone)?;
        match (i, connected) {
            (1, true) => t.note(
                "connect() returned: the server's kernel finished the handshake by itself and queued \
                 the connection, although nobody called accept().",
                "connect() 已经返回：服务端的内核自己完成了握手，把连接放进了队列，尽管没有人调用 accept()。",
            ),
            (_, true) if waiting > limit => t.note(
                format!(
                    "{waiting} waiting, one more than the limit of {limit}: Linux turns a connection away \
                     only when the queue is already over its limit, so it holds backlog + 1."
                ),
                format!(
                    "{waiting} 个在等，比上限 {limit} 还多一个：Linux 只有在队列已经超过上限时才拒绝新连接，\
                     所以队列能装下 backlog + 1 个。"
                ),
            ),
            (_, false) if clients.iter().all(|(_, c)| *c) => t.note(
                format!(
                    "The queue is full, so the server's kernel drops client-{i}'s SYN and does not answer. \
                     connect() gets no error: it is still waiting for a SYN-ACK."
                ),
                format!(
                    "队列已满，服务端的内核把 client-{i} 的 SYN 直接丢掉，不作任何回应。\
                     connect() 并没有报错：它还在等 SYN-ACK。"
                ),
            ),
            _ => {}
        }
        let me = format!("client-{i}");
        if connected {
            t.expect_segments(mark, (&me, "server"), &[("S", 0), (".", 0)], &[("S.", 0)])?;
        } else if t.wire() {
            t.expect_segments(mark, (&me, "server"), &[("S", 0)], &[])?;
            if clients.iter().all(|(_, c)| *c) {
                t.note(
                    format!("On the wire: client-{i}'s SYN, and nothing in answer, neither a SYN-ACK nor a reset. The clients before it each got a SYN-ACK at once."),
                    format!("线上：client-{i} 的 SYN，没有任何回应，既没有 SYN-ACK，也没有重置。它前面的每个客户端都立刻收到了 SYN-ACK。"),
                );
            }
        }
        clients.push((client, connected));
    }

    t.section(
        "Which clients are connected? The kernel's answer",
        "哪些客户端连上了？看内核怎么说",
    );
    // connect() returned for a client whose handshake finished; the others were still waiting
    // when netlab stopped watching. What they are now is the kernel's answer: in a run at human
    // speed (--step, --pace) a dialling client may have given up by now.
    let mut dialling_states = Vec::new();
    for (i, (client, connected)) in clients.iter().enumerate() {
        if *connected {
            kernel.tcp_state(client, TcpState::Established)?;
        } else {
            dialling_states.push((i + 1, kernel.tcp_state_now(client)?));
        }
    }
    let established: Vec<usize> = (1..=CLIENTS).filter(|i| clients[i - 1].1).collect();
    let syn_sent: Vec<usize> = dialling_states
        .iter()
        .filter(|(_, state)| *state == TcpState::SynSent)
        .map(|(i, _)| *i)
        .collect();
    let gave_up: Vec<usize> = dialling_states
        .iter()
        .filter(|(_, state)| *state == TcpState::Close)
        .map(|(i, _)| *i)
        .collect();
    let (waiting, _) = kernel.accept_queue(&phone)?;
    t.expect(
        established.len() == limit as usize + 1 && waiting as usize == established.len(),
        "backlog + 1 clients completed the handshake and wait in the accept queue",
    )?;
    t.expect(
        established.len() + syn_sent.len() + gave_up.len() == CLIENTS
            && dialling_states.iter().all(|&(i, _)| i > established.len()),
        "every other client is in SYN_SENT, or gave up dialling (CLOSE)",
    )?;
    let names = |ids: &[usize]| -> String {
        ids.iter()
            .map(|i| format!("client-{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    t.summary(
        Text::new(
            "clients in ESTABLISHED (counted from the TCP states above)",
            "处于 ESTABLISHED 的客户端（按上面的 TCP 状态统计）",
        ),
        Text::new(
            format!("{}: {}", established.len(), names(&established)),
            format!("{} 个：{}", established.len(), names(&established)),
        ),
    );
    t.summary(
        Text::new(
            "clients in SYN_SENT (counted from the TCP states above)",
            "处于 SYN_SENT 的客户端（按上面的 TCP 状态统计）",
        ),
        Text::new(
            format!("{}: {}", syn_sent.len(), names(&syn_sent)),
            format!("{} 个：{}", syn_sent.len(), names(&syn_sent)),
        ),
    );
    t.note(
        format!(
            "backlog + 1 = {} clients are connected as far as they can tell, and wait in the accept \
             queue. The other {} are still dialling: SYN_SENT means their SYN was sent and never \
             answered.",
            established.len(),
            syn_sent.len()
        ),
        format!(
            "backlog + 1 = {} 个客户端自认为已经连上了，正在 accept 队列里排队。\
             另外 {} 个还在拨号：SYN_SENT 表示 SYN 已经发出，却一直没有回应。",
            established.len(),
            syn_sent.len()
        ),
    );
    if !gave_up.is_empty() {
        t.note(
            format!(
                "{} stopped dialling: CLOSE means the kernel gave up after its last SYN resend went \
                 unanswered, and connect() failed with TimeoutError: [Errno 110] Connection timed out. \
                 The queue was full the whole time, so every resend was dropped. This run went at \
                 human speed (--step or --pace): the kernel's SYN timer ran out before the server \
                 accepted anyone, which the default run never waits for.",
                names(&gave_up)
            ),
            format!(
                "{} 已经不再拨号：CLOSE 表示它最后一次重发 SYN 仍然没有回应，内核放弃了，\
                 connect() 抛出 TimeoutError: [Errno 110] Connection timed out。队列一直是满的，\
                 所以每次重发都被丢掉了。这次运行是按人的速度走的（--step 或 --pace）：\
                 服务端还没 accept 任何连接，内核的 SYN 定时器就到期了，默认运行从不会等这么久。",
                names(&gave_up)
            ),
        );
    }
    let first_dropped = dialling_states[0].0;
    let dropped_end = clients[first_dropped - 1].0.local_addr()?;
    kernel.tcp_state_between(&number, &dropped_end, None)?;
    t.note(
        format!(
            "The server's kernel has no entry at all for client-{first_dropped}, not even a half-open \
             one (SYN_RECV): its SYN was dropped on arrival."
        ),
        format!(
            "服务端的内核里根本没有 client-{first_dropped} 的记录，连半开的 SYN_RECV 都没有：\
             它的 SYN 一到就被丢掉了。"
        ),
    );
    t.note(
        "The course says the 7th caller gets an error. That is Windows: when the queue is full its \
         kernel answers the SYN with a reset, and the client, after retrying a SYN or two, raises \
         ConnectionRefusedError ([WinError 10061]) within a second or two. Linux says \
         nothing; the client's kernel resends the SYN on its own schedule, which depends on \
         settings that differ between kernels. netlab reads them from this kernel:",
        "课程说第 7 个来电会报错。那是 Windows 的做法：队列满了，它的内核就用重置来回应 SYN，\
         客户端再重试一两次 SYN 之后，一两秒内就抛出 ConnectionRefusedError（[WinError 10061]）。Linux 不作声；客户端的内核按自己的时间表\
         重发 SYN，而时间表取决于几项因内核而异的设置。netlab 从这个内核里读出它们：",
    );
    let settings = SynSettings {
        syn_retries: kernel.sysctl("net.ipv4.tcp_syn_retries", SYN_RETRIES)?,
        linear_timeouts: kernel.sysctl_or(
            "net.ipv4.tcp_syn_linear_timeouts",
            SYN_LINEAR_TIMEOUTS,
            0,
        )?,
        rto_max_ms: kernel.sysctl_or(
            "net.ipv4.tcp_rto_max_ms",
            RTO_MAX_MS,
            syn_retries::DEFAULT_RTO_MAX_MS,
        )?,
    };
    let plan = syn_retries::schedule(settings);
    t.summary(
        Text::new(
            "SYN resends while nobody answers (Linux's rule, from the three settings above)",
            "没有应答时的 SYN 重发（按 Linux 的规则，由上面三项设置算出）",
        ),
        Text::new(
            t.named_value(SYN_SCHEDULE, plan.describe_en()),
            t.named_value(SYN_SCHEDULE, plan.describe_zh()),
        ),
    );
    t.note(
        "The rule (net/ipv4/tcp_timer.c): the first wait is 1 s, the initial retransmission timeout, \
         and so is the wait after each of the first tcp_syn_linear_timeouts resends; after that each \
         wait doubles, up to tcp_rto_max_ms. The kernel gives up after tcp_syn_retries + \
         tcp_syn_linear_timeouts resends, or sooner once as much time has passed as tcp_syn_retries \
         doubling waits would take. connect() then fails with \
         TimeoutError: [Errno 110] Connection timed out (ETIMEDOUT). \
         The figures depend on the machine, so they show as names; --raw prints this kernel's.",
        "规则（net/ipv4/tcp_timer.c）：第一次等 1 秒，也就是初始的重传超时；前 tcp_syn_linear_timeouts 次\
         重发各自之后的等待也都是 1 秒，再往后每次等待才翻倍，最多到 tcp_rto_max_ms。重发了 \
         tcp_syn_retries + tcp_syn_linear_timeouts 次之后内核就放弃；如果经过的时间已经达到 \
         tcp_syn_retries 次翻倍等待所需的时间，也会提前放弃。这时 connect() 失败，\
         抛出 TimeoutError: [Errno 110] Connection timed out（ETIMEDOUT）。\
         这些数字因机器而异，所以显示为名字；加 --raw 可看到这个内核的实际数字。",
    );

    t.section(
        "The server accepts: the queue drains",
        "服务端开始 accept：队列逐渐清空",
    );
    // Accept while the kernel shows a connection waiting. In the default run these are the
    // backlog + 1 that dialled in time; in a run at human speed a dialling client's resent SYN
    // can find room as the queue drains and join it, and is accepted in its turn.
    let mut conns = Vec::new();
    let mut left = waiting;
    while left > 0 && conns.len() < CLIENTS {
        let (conn, peer) = phone.accept("conn")?;
        if conns.is_empty() {
            t.note(
                "accept() returns at once: the connection was waiting. First come, first served.",
                "accept() 立刻返回：连接早就在排队了。先到先得。",
            );
        }
        (left, _) = kernel.accept_queue(&phone)?;
        conns.push((conn, peer));
    }
    t.expect(left == 0, "the accept queue drained")?;
    let dialled_late = |i: usize| -> LabResult<bool> {
        let end = clients[i - 1].0.local_addr()?;
        Ok(conns.iter().any(|(_, peer)| *peer == end))
    };
    let mut late = Vec::new();
    for &(i, _) in &dialling_states {
        if dialled_late(i)? {
            late.push(i);
        }
    }
    if late.is_empty() {
        t.note(
            "Empty: every completed connection has been handed to the server program.",
            "清空了：每一条已完成的连接都交给了服务端程序。",
        );
    } else {
        t.note(
            format!(
                "Empty, after {} accept() calls instead of {}: {} joined the queue while it \
                 drained. A dialling client's kernel resends its SYN on the schedule its \
                 settings give (the SYN resends line above; the first about 1 s after the \
                 first SYN); once accept() had made room, the server's \
                 kernel answered such a resend, finished the handshake and queued the \
                 connection, and accept() handed it over like the others. This run went at \
                 human speed (--step or --pace); the default run drains the queue before the \
                 first resend.",
                conns.len(),
                established.len(),
                names(&late)
            ),
            format!(
                "清空了，不过调用了 {} 次 accept()，而不是 {} 次：{} 在队列清空的过程中排了进来。\
                 还在拨号的客户端，其内核会按它的设置所定的时间表重发 SYN（见上面 SYN 重发那一行；第一次重发大约在第一个 SYN 之后 1 秒）；\
                 accept() 腾出位置之后，服务端的内核回应了这样一次重发，完成握手，把连接放进队列，\
                 accept() 随后像对待其他连接一样把它交了出去。\
                 这次运行是按人的速度走的（--step 或 --pace）；默认运行在第一次重发之前就把队列清空了。",
                conns.len(),
                established.len(),
                names(&late)
            ),
        );
    }

    t.section(
        "The clients whose SYN was dropped, after the queue drained",
        "SYN 被丢掉的客户端：队列清空之后",
    );
    let mut still_dialling = Vec::new();
    let mut waiting_unaccepted = Vec::new();
    for &(i, _) in &dialling_states {
        match kernel.tcp_state_now(&clients[i - 1].0)? {
            TcpState::SynSent => still_dialling.push(i),
            TcpState::Established if !late.contains(&i) => waiting_unaccepted.push(i),
            _ => {}
        }
    }
    if still_dialling.len() == dialling_states.len() {
        t.note(
            "Still SYN_SENT: accept() does not call anyone back. The queue has room now, but these \
             clients are only waiting for their kernel to resend the SYN, about 1 s after the first \
             one; the retry would then be answered and connect() would return. netlab does not wait \
             for that: it stops these two clients here, still in SYN_SENT.",
            "仍然是 SYN_SENT：accept() 不会回拨任何人。队列现在有空位了，但这些客户端只能等自己的内核\
             重发 SYN（第一次发出后大约 1 秒）；到那时重发的 SYN 就会得到回应，connect() 才会返回。\
             netlab 不等这一刻：它在这里停掉这两个客户端，它们仍处于 SYN_SENT。",
        );
    } else {
        if !late.is_empty() {
            t.note(
                format!(
                    "{}: ESTABLISHED and accepted above; in Python, connect() returns as soon as \
                     the handshake finishes.",
                    names(&late)
                ),
                format!(
                    "{}：ESTABLISHED，上面已经 accept 了；在 Python 里，握手一完成 connect() 就会返回。",
                    names(&late)
                ),
            );
        }
        if !waiting_unaccepted.is_empty() {
            let (unaccepted, _) = kernel.accept_queue(&phone)?;
            t.note(
                format!(
                    "{}: ESTABLISHED, yet nobody accepted it: its resent SYN arrived after the \
                     last accept() emptied the queue, and the connection now waits there \
                     ({unaccepted} waiting, as the accept queue line above shows). This run went at human \
                     speed (--step or --pace).",
                    names(&waiting_unaccepted)
                ),
                format!(
                    "{}：ESTABLISHED，却没有人 accept 它：它重发的 SYN 在最后一次 accept() \
                     清空队列之后才到，这条连接现在就在队列里等着（上面 accept 队列那一行显示 {unaccepted} 个）。\
                     这次运行是按人的速度走的（--step 或 --pace）。",
                    names(&waiting_unaccepted)
                ),
            );
        }
        if !still_dialling.is_empty() {
            t.note(
                format!(
                    "{}: still SYN_SENT, waiting for its kernel's next resend; netlab stops it here.",
                    names(&still_dialling)
                ),
                format!(
                    "{}：仍然是 SYN_SENT，在等它的内核下一次重发；netlab 在这里停掉它。",
                    names(&still_dialling)
                ),
            );
        }
    }
    let (dialling, connected): (Vec<_>, Vec<_>) = clients.into_iter().partition(|(_, c)| !*c);
    for (client, _) in dialling {
        client.close();
    }

    t.section("Switch off", "关机");
    phone.close();
    t.note(
        "netlab ends every program here; the remaining sockets close with them.",
        "netlab 在这里结束所有程序；剩下的套接字随之关闭。",
    );
    drop(conns);
    drop(connected);
    Ok(())
}
