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
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Call => "call",
            Kind::Kernel => "kernel",
            Kind::Summary => "summary",
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
    /// What this line found wrong with a program outside netlab (peer mode), as a stable
    /// code such as `short_reply` (see `crate::peer::Diagnosis`); None on every other line.
    pub diagnosis: Option<&'static str>,
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
