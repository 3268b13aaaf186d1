//! Waiting on many sockets at once, as a server that serves many clients from one thread
//! does: Python's `selectors` (`DefaultSelector` is an `EpollSelector` on Linux; socketserver
//! uses a `PollSelector`) and `select.select`.
//!
//! Each is the kernel's own call on the lab's real sockets: a `DefaultSelector` is an epoll
//! instance (epoll_create1, epoll_ctl, epoll_wait), a `PollSelector` and `select.select` ask
//! poll(2) (CPython's `select.select` calls select(2), which reports the same readiness). The
//! ready set a line shows is the one the kernel returned in that run.
//!
//! Before it asks, netlab settles every socket it asks about, as before any read: what the
//! lab's own sockets sent (data, FIN, RST) has arrived, and a client's connection whose last
//! ACK was on its way is in the accept queue. So the kernel's answer does not depend on
//! timing, and an empty answer is the kernel's evidence that nothing is ready or coming: a
//! `select()` without a timeout is then shown blocked, as any call that would wait forever.
//!
//! A selector's ready list is shown in the order the sockets were registered (epoll lists
//! them in the order they became ready, which depends on timing; the set is the kernel's).
//! Python shows each socket object with its fd and ports, which differ from run to run, so a
//! line names the objects by the program's variables instead, in an expression that Python
//! evaluates to the value returned: `[(sel.get_key(conn2), EVENT_READ)]`,
//! `([conn2], [], [])`.
//!
//! A selector watches each socket for reading (`EVENT_READ`), writing (`EVENT_WRITE`: room in
//! its send buffer) or both, and reports what it watched for that the kernel reported, the
//! way CPython's selectors turn the kernel's events into theirs (an error or a hang-up counts
//! as both).

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use super::registry::SockId;
use super::settle::Senders;
use super::wait::{self, Blocked};
use super::{blocked_error, Side, Sock};
use crate::event::{Outcome, Text};
use crate::phrases;
use crate::sys::{self, Ready};

/// What a selector asks the kernel with.
enum Backend {
    /// An epoll instance: the kernel keeps the watched set between calls.
    Epoll(OwnedFd),
    /// poll(2) over the registered sockets at every call.
    Poll,
}

/// What a selector watches a socket for, or reports it ready for: selectors' `EVENT_READ`,
/// `EVENT_WRITE`, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Events {
    read: bool,
    write: bool,
}

impl Events {
    /// `EVENT_READ`: data, a FIN, an error, or for a listener a connection to accept.
    pub const READ: Events = Events {
        read: true,
        write: false,
    };
    /// `EVENT_WRITE`: room in the socket's send buffer.
    pub const WRITE: Events = Events {
        read: false,
        write: true,
    };

    pub fn reads(self) -> bool {
        self.read
    }

    pub fn writes(self) -> bool {
        self.write
    }

    fn is_empty(self) -> bool {
        !self.read && !self.write
    }

    /// The mask as a Python expression of selectors' names.
    fn python(self) -> &'static str {
        match (self.read, self.write) {
            (true, false) => "EVENT_READ",
            (false, true) => "EVENT_WRITE",
            (true, true) => "EVENT_READ | EVENT_WRITE",
            (false, false) => "0",
        }
    }

    /// What poll(2) and epoll are asked to watch for.
    fn asked(self) -> Ready {
        let mut ready = Ready::empty();
        if self.read {
            ready |= Ready::IN;
        }
        if self.write {
            ready |= Ready::OUT;
        }
        ready
    }

    /// What selectors reports for a key watching `self` when the kernel reported `got`: as
    /// CPython writes it, any event but POLLIN counts as writable and any but POLLOUT as
    /// readable (an error or a hang-up is both), and only what the key watches is kept.
    fn reported(self, got: Ready) -> Events {
        Events {
            read: self.read && !(got - Ready::OUT).is_empty(),
            write: self.write && !(got - Ready::IN).is_empty(),
        }
    }
}

/// A socket registered with a selector, and how the trace names it.
#[derive(Clone)]
struct Key {
    id: SockId,
    /// The variable as the program's code names the object: `conn1`, `server`.
    shown: String,
    /// The socket's own variable, for the moment netlab needs the socket itself.
    var: String,
    /// What the selector watches it for.
    events: Events,
}

/// A selector of the lab's program: `sel = selectors.DefaultSelector()`.
pub struct Selector {
    side: Side,
    var: String,
    backend: Backend,
    keys: RefCell<Vec<Key>>,
}

/// The sockets a select call reported ready, by the names its line shows them with, and what
/// each was ready for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadySet {
    ready: Vec<(SockId, String, Events)>,
}

impl ReadySet {
    fn new(ready: Vec<(SockId, String, Events)>) -> ReadySet {
        ReadySet { ready }
    }

    /// The ready sockets' names, in the order the line shows them.
    pub fn names(&self) -> Vec<&str> {
        self.ready
            .iter()
            .map(|(_, name, _)| name.as_str())
            .collect()
    }

    pub fn includes(&self, sock: &Sock) -> bool {
        self.events_of(sock).is_some()
    }

    /// The ready sockets in the order the line shows them: which socket, and what for.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (SockId, Events)> + '_ {
        self.ready.iter().map(|(id, _, events)| (*id, *events))
    }

    /// What `sock` was reported ready for, if it was.
    pub fn events_of(&self, sock: &Sock) -> Option<Events> {
        self.ready
            .iter()
            .find(|(id, _, _)| *id == sock.id())
            .map(|(_, _, events)| *events)
    }

    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ready.len()
    }
}

/// A timeout as a Python number: `0`, `0.5`, `2`.
fn python_seconds(timeout: Duration) -> String {
    let seconds = timeout.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{}", timeout.as_secs())
    } else {
        format!("{seconds}")
    }
}

/// Settles every socket about to be asked about (see the module documentation), and tells
/// whether the kernel's "nothing ready" is evidence that nothing will be: only sockets of
/// this lab can make them ready, and no client's SYN waits for a retry timer.
fn settle(socks: &[Sock]) -> bool {
    let mut provable = true;
    for sock in socks {
        if sock.is_listening() {
            sock.settle_accept_queue();
            provable &= !sock.has_dialling_client();
        } else {
            sock.settle();
        }
        provable &= sock.senders() == Senders::InLab;
    }
    provable
}

/// How long a call that found nothing ready goes on waiting, if at all: nothing when its
/// timeout is 0 or nothing can come (the kernel's evidence), else its own timeout, bounded
/// where netlab watches a peer it does not control.
fn watch_for(timeout: Option<Duration>, provable: bool) -> Option<Duration> {
    match (timeout, provable) {
        (Some(t), _) if t.is_zero() => None,
        (_, true) => None,
        (None, false) => Some(wait::EXTERNAL),
        (Some(t), false) => Some(t.min(wait::EXTERNAL)),
    }
}

impl Side {
    /// `var = selectors.DefaultSelector()`: on Linux an `EpollSelector`, for which netlab
    /// makes a real epoll instance.
    pub fn default_selector(&self, var: &str) -> io::Result<Selector> {
        self.begin();
        let call = format!("{var} = selectors.DefaultSelector()");
        match sys::epoll_create() {
            Ok(epoll) => {
                self.record(call, Outcome::Returned(Text::same("")));
                Ok(self.selector(var, Backend::Epoll(epoll)))
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }

    /// `var = selectors.PollSelector()`: each `select()` is one poll(2) over the registered
    /// sockets (socketserver's `serve_forever()` uses one).
    pub fn poll_selector(&self, var: &str) -> Selector {
        self.begin();
        self.record(
            format!("{var} = selectors.PollSelector()"),
            Outcome::Returned(Text::same("")),
        );
        self.selector(var, Backend::Poll)
    }

    fn selector(&self, var: &str, backend: Backend) -> Selector {
        Selector {
            side: self.clone(),
            var: var.to_string(),
            backend,
            keys: RefCell::new(Vec::new()),
        }
    }

    /// `lhs = select.select([a, b, ...], [], [], timeout)`: which of `rlist` are readable
    /// (data, a FIN, an error, or for a listener a connection to accept), in the list's
    /// order, shown as `([b], [], [])`. `timeout` None waits until one is: shown blocked
    /// when the kernel shows that none is or will be.
    pub fn select(
        &self,
        lhs: &str,
        rlist: &[&Sock],
        timeout: Option<Duration>,
    ) -> io::Result<ReadySet> {
        self.begin();
        let names: Vec<&str> = rlist.iter().map(|s| s.var()).collect();
        let timeout_arg = timeout.map_or(String::new(), |t| format!(", {}", python_seconds(t)));
        let call = format!(
            "{lhs} = select.select([{}], [], []{timeout_arg})",
            names.join(", ")
        );
        let views: Vec<Sock> = rlist
            .iter()
            .filter_map(|s| Sock::view(self, s.id(), s.var()))
            .collect();
        let provable = settle(&views);
        let mut fired = poll_readable(&views, Duration::ZERO)?;
        if fired.iter().all(|f| !f) {
            if let Some(limit) = watch_for(timeout, provable) {
                fired = poll_readable(&views, limit)?;
            }
        }
        let ready: Vec<(SockId, String, Events)> = views
            .iter()
            .zip(&fired)
            .filter(|(_, &f)| f)
            .map(|(s, _)| (s.id(), s.var().to_string(), Events::READ))
            .collect();
        if ready.is_empty() && timeout.is_none() {
            return Err(self.select_blocked(call, provable));
        }
        let shown: Vec<&str> = ready.iter().map(|(_, name, _)| name.as_str()).collect();
        let value = format!("([{}], [], [])", shown.join(", "));
        self.record(call, Outcome::Returned(Text::same(value)));
        Ok(ReadySet::new(ready))
    }

    /// Records a select that would wait: on the kernel's evidence, or after a watch.
    fn select_blocked(&self, call: String, provable: bool) -> io::Error {
        let why = if provable {
            Blocked::NothingReady
        } else {
            Blocked::Watched(wait::EXTERNAL)
        };
        let what = match why {
            Blocked::Watched(limit) => phrases::blocks_watched(limit.as_millis()),
            _ => phrases::select_blocks(),
        };
        self.record(call, Outcome::Blocked(what));
        blocked_error(why)
    }
}

/// One poll(2) for input over `socks`, for up to `limit`: which of them reported an event
/// (input, a hang-up or an error all make a socket readable to Python).
fn poll_readable(socks: &[Sock], limit: Duration) -> io::Result<Vec<bool>> {
    let asked = vec![Events::READ; socks.len()];
    let got = poll_for(socks, &asked, limit)?;
    Ok(got.iter().map(|events| !events.is_empty()).collect())
}

/// One poll(2) over `socks`, each for what `asked` says, for up to `limit`: what each reported.
fn poll_for(socks: &[Sock], asked: &[Events], limit: Duration) -> io::Result<Vec<Ready>> {
    let watch: Vec<_> = socks
        .iter()
        .zip(asked)
        .map(|(s, events)| (s.borrowed_fd(), events.asked()))
        .collect();
    sys::poll_each(&watch, limit)
}

impl Selector {
    /// `sel.register(sock, EVENT_READ)`: watch `sock` for reading.
    pub fn register(&self, sock: &Sock) -> io::Result<()> {
        self.register_as(sock, sock.var())
    }

    /// Like [`Selector::register`] for an object that stands for the socket in the
    /// program's code (socketserver registers the server object, whose `fileno()` is its
    /// socket's): the line and every ready list name it `shown`.
    pub(crate) fn register_as(&self, sock: &Sock, shown: &str) -> io::Result<()> {
        self.register_for(sock, shown, Events::READ)
    }

    /// `sel.register(sock, events)`: watch `sock` for `events`, named `shown`.
    fn register_for(&self, sock: &Sock, shown: &str, events: Events) -> io::Result<()> {
        self.side.begin();
        let call = format!("{}.register({shown}, {})", self.var, events.python());
        if let Backend::Epoll(epoll) = &self.backend {
            let token = sock.id() as u64;
            let added = sys::epoll_add(epoll.as_fd(), sock.borrowed_fd(), token, events.asked());
            if let Err(err) = added {
                return Err(self.side.raise(call, err));
            }
        }
        self.keys.borrow_mut().push(Key {
            id: sock.id(),
            shown: shown.to_string(),
            var: sock.var().to_string(),
            events,
        });
        self.side.record(call, Outcome::Returned(Text::same("")));
        Ok(())
    }

    /// `sel.modify(sock, events)`: watch the registered `sock` for `events` from now on (a
    /// server asks for EVENT_WRITE while part of an answer waits to be sent).
    pub fn modify(&self, sock: &Sock, events: Events) -> io::Result<()> {
        self.side.begin();
        let shown = self.shown(sock);
        let call = format!("{}.modify({shown}, {})", self.var, events.python());
        if let Backend::Epoll(epoll) = &self.backend {
            let token = sock.id() as u64;
            let changed =
                sys::epoll_modify(epoll.as_fd(), sock.borrowed_fd(), token, events.asked());
            if let Err(err) = changed {
                return Err(self.side.raise(call, err));
            }
        }
        for key in self.keys.borrow_mut().iter_mut() {
            if key.id == sock.id() {
                key.events = events;
            }
        }
        self.side.record(call, Outcome::Returned(Text::same("")));
        Ok(())
    }

    /// How the lines name a registered socket (its variable when it is not registered).
    fn shown(&self, sock: &Sock) -> String {
        self.keys
            .borrow()
            .iter()
            .find(|k| k.id == sock.id())
            .map_or_else(|| sock.var().to_string(), |k| k.shown.clone())
    }

    /// The epoll instance's own fd (a `DefaultSelector`'s): readable while a socket it
    /// watches is ready, so a wait can watch it beside other fds (Ctrl-C's). None for a
    /// selector that asks poll(2).
    pub(crate) fn epoll_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.backend {
            Backend::Epoll(epoll) => Some(epoll.as_fd()),
            Backend::Poll => None,
        }
    }

    /// `sel.unregister(sock)`: stop watching `sock` (before it is closed).
    pub fn unregister(&self, sock: &Sock) -> io::Result<()> {
        self.side.begin();
        let shown = self.shown(sock);
        let call = format!("{}.unregister({shown})", self.var);
        if let Backend::Epoll(epoll) = &self.backend {
            if let Err(err) = sys::epoll_delete(epoll.as_fd(), sock.borrowed_fd()) {
                return Err(self.side.raise(call, err));
            }
        }
        self.keys.borrow_mut().retain(|k| k.id != sock.id());
        self.side.record(call, Outcome::Returned(Text::same("")));
        Ok(())
    }

    /// `lhs = sel.select(timeout=...)`: the registered sockets that are ready, as
    /// `[(sel.get_key(conn2), EVENT_READ), ...]` (see the module documentation). `timeout`
    /// None waits until one is: shown blocked when the kernel shows that none is or will be.
    pub fn select(&self, lhs: &str, timeout: Option<Duration>) -> io::Result<ReadySet> {
        self.side.begin();
        let timeout_arg =
            timeout.map_or(String::new(), |t| format!("timeout={}", python_seconds(t)));
        let call = format!("{lhs} = {}.select({timeout_arg})", self.var);
        let keys = self.keys.borrow().clone();
        // A key whose socket the lab closed without unregistering: the kernel dropped it
        // from the epoll set, and poll would report it invalid; Python would fail on it.
        let (live, views): (Vec<Key>, Vec<Sock>) = keys
            .into_iter()
            .filter_map(|k| Sock::view(&self.side, k.id, &k.var).map(|s| (k, s)))
            .unzip();
        let provable = settle(&views);
        let asked: Vec<Events> = live.iter().map(|k| k.events).collect();
        let mut fired = self.ask(&views, &asked, Duration::ZERO)?;
        if fired.is_empty() {
            if let Some(limit) = watch_for(timeout, provable) {
                fired = self.ask(&views, &asked, limit)?;
            }
        }
        let ready: Vec<(SockId, String, Events)> = live
            .iter()
            .filter_map(|k| {
                let (_, got) = fired.iter().find(|(id, _)| *id == k.id)?;
                let events = k.events.reported(*got);
                (!events.is_empty()).then(|| (k.id, k.shown.clone(), events))
            })
            .collect();
        if ready.is_empty() && timeout.is_none() {
            return Err(self.side.select_blocked(call, provable));
        }
        let pairs: Vec<String> = ready
            .iter()
            .map(|(_, shown, events)| {
                format!("({}.get_key({shown}), {})", self.var, events.python())
            })
            .collect();
        let value = format!("[{}]", pairs.join(", "));
        self.side.record(call, Outcome::Returned(Text::same(value)));
        Ok(ReadySet::new(ready))
    }

    /// The kernel's answer for `socks` (the registered sockets, each watched for what `asked`
    /// says), within `limit`: the ids of those it reported, with what it reported.
    fn ask(
        &self,
        socks: &[Sock],
        asked: &[Events],
        limit: Duration,
    ) -> io::Result<Vec<(SockId, Ready)>> {
        match &self.backend {
            Backend::Epoll(epoll) => {
                let fired = sys::epoll_ready(epoll.as_fd(), socks.len(), limit)?;
                Ok(fired
                    .into_iter()
                    .map(|(token, got)| (token as SockId, got))
                    .collect())
            }
            Backend::Poll => {
                let fired = poll_for(socks, asked, limit)?;
                Ok(socks
                    .iter()
                    .zip(fired)
                    .filter(|(_, got)| !got.is_empty())
                    .map(|(s, got)| (s.id(), got))
                    .collect())
            }
        }
    }

    /// `sel.close()`: the epoll instance is closed; the sockets stay open.
    pub fn close(self) {
        self.side.begin();
        let call = format!("{}.close()", self.var);
        drop(self.backend);
        self.side.record(call, Outcome::Returned(Text::same("")));
    }
}

#[cfg(test)]
mod tests {
    use super::python_seconds;
    use std::time::Duration;

    #[test]
    fn timeouts_are_written_as_python_numbers() {
        assert_eq!(python_seconds(Duration::ZERO), "0");
        assert_eq!(python_seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(python_seconds(Duration::from_secs(2)), "2");
        assert_eq!(python_seconds(Duration::from_millis(250)), "0.25");
    }
}
