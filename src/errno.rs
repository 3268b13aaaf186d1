//! How a failed socket call looks to a Python student: the exception class, `[Errno N]`, the
//! message, and the errno symbol. The table is fixed (glibc's wording) so that traces do not
//! depend on the C library of the machine they ran on.

use std::io;

/// One errno as Python reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyErrno {
    pub number: i32,
    pub symbol: &'static str,
    pub exception: &'static str,
    pub message: &'static str,
}

const TABLE: &[PyErrno] = &[
    e(
        libc::EPERM,
        "EPERM",
        "PermissionError",
        "Operation not permitted",
    ),
    e(
        libc::ENOENT,
        "ENOENT",
        "FileNotFoundError",
        "No such file or directory",
    ),
    e(
        libc::EINTR,
        "EINTR",
        "InterruptedError",
        "Interrupted system call",
    ),
    e(libc::EBADF, "EBADF", "OSError", "Bad file descriptor"),
    e(
        libc::EAGAIN,
        "EAGAIN",
        "BlockingIOError",
        "Resource temporarily unavailable",
    ),
    e(
        libc::EACCES,
        "EACCES",
        "PermissionError",
        "Permission denied",
    ),
    e(libc::ENOMEM, "ENOMEM", "OSError", "Cannot allocate memory"),
    e(libc::EINVAL, "EINVAL", "OSError", "Invalid argument"),
    e(libc::ENOSPC, "ENOSPC", "OSError", "No space left on device"),
    e(libc::EPIPE, "EPIPE", "BrokenPipeError", "Broken pipe"),
    e(libc::EUSERS, "EUSERS", "OSError", "Too many users"),
    e(
        libc::ENOTSOCK,
        "ENOTSOCK",
        "OSError",
        "Socket operation on non-socket",
    ),
    e(libc::EMSGSIZE, "EMSGSIZE", "OSError", "Message too long"),
    e(
        libc::EADDRINUSE,
        "EADDRINUSE",
        "OSError",
        "Address already in use",
    ),
    e(
        libc::EADDRNOTAVAIL,
        "EADDRNOTAVAIL",
        "OSError",
        "Cannot assign requested address",
    ),
    e(
        libc::ENETUNREACH,
        "ENETUNREACH",
        "OSError",
        "Network is unreachable",
    ),
    e(
        libc::ECONNABORTED,
        "ECONNABORTED",
        "ConnectionAbortedError",
        "Software caused connection abort",
    ),
    e(
        libc::ECONNRESET,
        "ECONNRESET",
        "ConnectionResetError",
        "Connection reset by peer",
    ),
    e(
        libc::EISCONN,
        "EISCONN",
        "OSError",
        "Transport endpoint is already connected",
    ),
    e(
        libc::ENOTCONN,
        "ENOTCONN",
        "OSError",
        "Transport endpoint is not connected",
    ),
    e(
        libc::ETIMEDOUT,
        "ETIMEDOUT",
        "TimeoutError",
        "Connection timed out",
    ),
    e(
        libc::ECONNREFUSED,
        "ECONNREFUSED",
        "ConnectionRefusedError",
        "Connection refused",
    ),
    e(
        libc::EHOSTUNREACH,
        "EHOSTUNREACH",
        "OSError",
        "No route to host",
    ),
    e(
        libc::EALREADY,
        "EALREADY",
        "BlockingIOError",
        "Operation already in progress",
    ),
    e(
        libc::EINPROGRESS,
        "EINPROGRESS",
        "BlockingIOError",
        "Operation now in progress",
    ),
];

const fn e(
    number: i32,
    symbol: &'static str,
    exception: &'static str,
    message: &'static str,
) -> PyErrno {
    PyErrno {
        number,
        symbol,
        exception,
        message,
    }
}

/// Looks up an errno number; unknown numbers still get an honest `OSError`.
pub fn lookup(number: i32) -> PyErrno {
    TABLE
        .iter()
        .copied()
        .find(|entry| entry.number == number)
        .unwrap_or(PyErrno {
            number,
            symbol: "E?",
            exception: "OSError",
            message: "Unknown error",
        })
}

/// The errno behind an io::Error from a system call, if it came from one.
pub fn of(err: &io::Error) -> Option<PyErrno> {
    err.raw_os_error().map(lookup)
}

impl PyErrno {
    /// `ConnectionResetError: [Errno 104] Connection reset by peer (ECONNRESET)`
    pub fn python(&self) -> String {
        format!(
            "{}: [Errno {}] {} ({})",
            self.exception, self.number, self.message, self.symbol
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_form_matches_the_course() {
        assert_eq!(
            lookup(libc::ECONNRESET).python(),
            "ConnectionResetError: [Errno 104] Connection reset by peer (ECONNRESET)"
        );
        assert_eq!(
            lookup(libc::EADDRINUSE).python(),
            "OSError: [Errno 98] Address already in use (EADDRINUSE)"
        );
        assert_eq!(lookup(9999).symbol, "E?");
    }
}
