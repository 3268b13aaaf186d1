//! The trace model: one [`Event`] per socket call or kernel observation, with notes in both
//! languages. Renderers turn events into text or JSON; nothing else formats output.

use std::borrow::Cow;

use crate::errno::PyErrno;

/// The language of notes and engine phrases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// A sentence in English and Chinese. Labs write both; the renderer picks one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub en: Cow<'static, str>,
    pub zh: Cow<'static, str>,
}

impl Text {
    pub fn new(en: impl Into<Cow<'static, str>>, zh: impl Into<Cow<'static, str>>) -> Text {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// Fixed text, usable in a `static` (a lab's title and lesson).
    pub const fn fixed(en: &'static str, zh: &'static str) -> Text {
        Text {
            en: Cow::Borrowed(en),
            zh: Cow::Borrowed(zh),
        }
    }

    /// Text that reads the same in both languages (Python values, addresses).
    pub fn same(both: impl Into<String>) -> Text {
        let both = both.into();
        Text::new(both.clone(), both)
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.en.is_empty() && self.zh.is_empty()
    }
}

/// What kind of line an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A socket call made by a program (server, client ...).
    Call,
    /// Something read from the kernel about a socket: queues, TCP state.
    Kernel,
    /// A line of the lab's own: a summary it drew from the lines above, not a reading.
    Summary,
    /// A packet the lab's sockets put on the wire, captured on lo (`--wire`).
    Wire,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Kernel => "kernel",
            Kind::Summary => "summary",
            Kind::Wire => "wire",
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It returned; the result says what (may be empty for `None`).
    Returned(Text),
    /// It raised the exception a Python program would see: an OSError for a failed system
    /// call.
    Raised(PyErrno),
    /// It raised an exception that is not an OSError, which CPython raises itself before any
    /// system call: `MemoryError` when the buffer it allocates first cannot be had,
    /// `OverflowError` when a Python int does not fit the C type the call takes.
    RaisedPython(PyException),
    /// It would block; netlab waited the declared time and moved on.
    Blocked(Text),
}

/// One line of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// 1-based position in the lab's trace.
    pub seq: u32,
    /// `server`, `client`, `client-2`, ... or `kernel`.
    pub side: String,
    pub kind: Kind,
    /// The call in Python socket notation, or what was observed for kernel lines.
    pub call: Text,
    pub outcome: Outcome,
    /// Notes saying what just happened and why.
    pub notes: Vec<Text>,
    /// A section heading that opens before this event.
    pub section: Option<Text>,
    /// What the line says as data, in no language: for `--format json` and tests.
    pub facts: Facts,
    /// The packets captured right after this event (`--wire`): `wire` lines with numbers of
    /// their own, shown after this event's line and before its notes, which often explain them.
    pub packets: Vec<Event>,
}

/// What an event says as data, in no language, for programs that read `--format json` and for
/// the renderers that draw the exchange (`--format ladder`, `html`). The text line says the
/// same things in words; these fields say them as values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The call in Python notation, for a program's own line (None for kernel and summary
    /// lines, which are not Python).
    pub python: Option<String>,
    /// The Python value the call returned, as repr() writes it, when the line shows one.
    pub value: Option<String>,
    /// The line this one goes on from (a `sendall()` that blocked, then returned).
    pub continues: Option<u32>,
    /// Data the call or probe counted.
    pub bytes: Option<ByteFacts>,
    /// This socket's own port, as the trace names it (`PORT`, `CLIENT_PORT_1`).
    pub port: Option<String>,
    /// The other end's port, as the trace names it.
    pub peer: Option<String>,
    /// What a kernel line read: which probe, about which socket.
    pub probe: Option<ProbeFacts>,
    /// A TCP state the kernel showed (`CLOSE_WAIT`); `Some(None)`: no such connection.
    pub tcp_state: Option<Option<&'static str>>,
    /// Queue lengths the kernel showed, by queue: `("receive", 5)`.
    pub queue: Vec<(&'static str, Count)>,
    /// An errno a call returned as its value (`connect_ex()`), not raised.
    pub errno_value: Option<(i32, Option<&'static str>)>,
    /// A setting read from the kernel (`net.core.somaxconn`) and its value.
    pub setting: Option<(String, Count)>,
    /// A file's kind at a path (`socket`, `regular`, `directory`, `other`, None: no file).
    pub file: Option<(String, Option<&'static str>)>,
    /// A finished process: return code (None when a signal ended it), stdout and stderr
    /// byte counts.
    pub process: Option<(Option<i32>, usize, usize)>,
    /// For a `wire` line: the packet's facts as JSON fields (protocol, ends, flags, numbers).
    pub wire: Option<serde_json::Value>,
    /// What this line found wrong with a program outside netlab (peer mode), as a stable
    /// code such as `short_reply` (see `crate::peer::Diagnosis`); None on every other line.
    pub diagnosis: Option<&'static str>,
    /// The lab socket a call was made on or a probe read. Not in the JSON lines: it is what
    /// a drawing needs to tie lines together (which recv returned which send's bytes).
    pub socket: Option<SocketFacts>,
}

/// Which socket of the lab a line is about, and where the line leaves its byte streams: a
/// drawing of the exchange takes from this which send's bytes a recv returned, and draws a
/// probe beside the socket it read. Read from the engine's register of the lab's sockets, as
/// it stands at the end of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketFacts {
    /// The socket's number in this run, in the order the lab made its sockets (from 0).
    pub id: u32,
    /// The program that owns it (`server`, `client-2`) and its Python variable (`conn`).
    pub side: String,
    pub var: String,
    /// This end's address and the other end's, as the trace shows them
    /// (`('127.0.0.1', PORT)`); None before bind/connect.
    pub local: Option<String>,
    pub peer: Option<String>,
    /// A datagram socket (UDP): its sends and recvs move whole datagrams, not a stream.
    pub datagram: bool,
    /// The lab's socket at the other end of this connection, when the lab made it.
    pub peer_socket: Option<u32>,
    /// Bytes the socket had handed the kernel to send, and bytes it had read, from its first
    /// call to the end of this line: a stream call's bytes are the last ones counted. These
    /// are this machine's numbers, never shown (a shown figure is in `bytes`).
    pub sent: u64,
    pub received: u64,
    /// Datagrams the socket had taken from its queue by the end of this line.
    pub datagrams_received: u64,
    /// For a datagram sent: the lab's socket bound at the address it went to, which the
    /// kernel queues it for (None: no socket of the lab receives there).
    pub datagram_to: Option<u32>,
}

/// A figure in the facts: a number, or the stable name that a figure differing between
/// machines shows as (`SENT`) unless `--raw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    Number(u64),
    Named(String),
}

impl Count {
    /// A figure as the trace shows it: a number, else its stable name.
    pub fn shown(shown: &str) -> Count {
        shown
            .parse()
            .map_or_else(|_| Count::Named(shown.to_string()), Count::Number)
    }
}

/// Data a line counts: how many bytes, and which (the bytes literal as the line shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteFacts {
    pub count: Count,
    /// The data as a Python bytes literal (long data shortened as the line shows it).
    pub data: Option<String>,
    /// The size of the whole: the bytes a send was given, a recv waited for, or the length
    /// of a datagram that was cut.
    pub of: Option<u64>,
}

impl ByteFacts {
    pub fn new(count: Count, data: Option<String>) -> ByteFacts {
        ByteFacts {
            count,
            data,
            of: None,
        }
    }
}

/// Which kernel probe a line is, by a stable name, and the socket it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFacts {
    /// `FIONREAD`, `SIOCOUTQ`, `SIOCOUTQNSD`, `TCP_INFO`, `sock_diag`, `/proc/net/tcp`,
    /// `sysctl`, `/proc/meminfo`, `lstat`.
    pub source: &'static str,
    /// The socket as `side var` (`server conn`), when the probe read one of the lab's.
    pub socket: Option<String>,
}

/// An exception that is not an OSError, as CPython prints it: `MemoryError` (no message),
/// `OverflowError: Python int too large to convert to C ssize_t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyException {
    pub class: &'static str,
    pub message: Cow<'static, str>,
}

impl PyException {
    pub fn new(class: &'static str, message: impl Into<Cow<'static, str>>) -> PyException {
        PyException {
            class,
            message: message.into(),
        }
    }

    /// The last line of CPython's traceback: the class alone when the message is empty.
    pub fn python(&self) -> String {
        if self.message.is_empty() {
            self.class.to_string()
        } else {
            format!("{}: {}", self.class, self.message)
        }
    }
}

impl Outcome {
    /// The exception line exactly as CPython prints it, when the call raised.
    pub fn exception_line(&self) -> Option<String> {
        match self {
            Outcome::Raised(errno) => Some(errno.python()),
            Outcome::RaisedPython(exception) => Some(exception.python()),
            Outcome::Returned(_) | Outcome::Blocked(_) => None,
        }
    }

    /// The class of the exception raised (`ConnectionResetError`, `MemoryError`).
    pub fn exception_class(&self) -> Option<&'static str> {
        match self {
            Outcome::Raised(errno) => Some(errno.exception),
            Outcome::RaisedPython(exception) => Some(exception.class),
            Outcome::Returned(_) | Outcome::Blocked(_) => None,
        }
    }
}

impl Event {
    /// What went wrong, by name, for JSON and tests: the errno symbol of an OSError
    /// (`ECONNRESET`), or the class of an exception that has no errno (`MemoryError`).
    pub fn error(&self) -> Option<&'static str> {
        match &self.outcome {
            Outcome::Raised(errno) => errno.symbol,
            Outcome::RaisedPython(exception) => Some(exception.class),
            Outcome::Returned(_) | Outcome::Blocked(_) => None,
        }
    }
}
