//! How a failed system call looks to a Python student: the exception class CPython raises for
//! its errno, `[Errno N]`, the message, and the errno's name.
//!
//! The table covers every errno Linux defines, with glibc's wording, so that a trace does not
//! depend on the C library of the machine it ran on. The exception classes are CPython's own
//! errno mapping (the OSError subclasses of PEP 3151). A number outside the table (none that
//! Linux returns today) still gets an honest line: `OSError`, the C library's message, no name.

use std::borrow::Cow;
use std::io;

/// One errno as Python reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyErrno {
    pub number: i32,
    /// The errno's name (`ECONNRESET`); None for a number Linux does not define.
    pub symbol: Option<&'static str>,
    /// The exception class CPython raises for this errno (`ConnectionResetError`).
    pub exception: &'static str,
    /// The message (`Connection reset by peer`), as glibc's strerror words it.
    pub message: Cow<'static, str>,
}

// CPython's errno -> exception mapping (Objects/exceptions.c); every other errno is OSError.
const OS: &str = "OSError";
const BLOCKING_IO: &str = "BlockingIOError";
const BROKEN_PIPE: &str = "BrokenPipeError";
const CHILD_PROCESS: &str = "ChildProcessError";
const CONNECTION_ABORTED: &str = "ConnectionAbortedError";
const CONNECTION_REFUSED: &str = "ConnectionRefusedError";
const CONNECTION_RESET: &str = "ConnectionResetError";
const FILE_EXISTS: &str = "FileExistsError";
const NOT_FOUND: &str = "FileNotFoundError";
const INTERRUPTED: &str = "InterruptedError";
const IS_A_DIRECTORY: &str = "IsADirectoryError";
const NOT_A_DIRECTORY: &str = "NotADirectoryError";
const PERMISSION: &str = "PermissionError";
const PROCESS_LOOKUP: &str = "ProcessLookupError";
const TIMEOUT: &str = "TimeoutError";

/// (number, name, exception class, glibc's message). Where two names share a number, the
/// name glibc's `strerrorname_np` gives: EAGAIN (EWOULDBLOCK), EDEADLK (EDEADLOCK),
/// EOPNOTSUPP (ENOTSUP).
#[rustfmt::skip]
const TABLE: &[(i32, &str, &str, &str)] = &[
    (libc::EPERM, "EPERM", PERMISSION, "Operation not permitted"),
    (libc::ENOENT, "ENOENT", NOT_FOUND, "No such file or directory"),
    (libc::ESRCH, "ESRCH", PROCESS_LOOKUP, "No such process"),
    (libc::EINTR, "EINTR", INTERRUPTED, "Interrupted system call"),
    (libc::EIO, "EIO", OS, "Input/output error"),
    (libc::ENXIO, "ENXIO", OS, "No such device or address"),
    (libc::E2BIG, "E2BIG", OS, "Argument list too long"),
    (libc::ENOEXEC, "ENOEXEC", OS, "Exec format error"),
    (libc::EBADF, "EBADF", OS, "Bad file descriptor"),
    (libc::ECHILD, "ECHILD", CHILD_PROCESS, "No child processes"),
    (libc::EAGAIN, "EAGAIN", BLOCKING_IO, "Resource temporarily unavailable"),
    (libc::ENOMEM, "ENOMEM", OS, "Cannot allocate memory"),
    (libc::EACCES, "EACCES", PERMISSION, "Permission denied"),
    (libc::EFAULT, "EFAULT", OS, "Bad address"),
    (libc::ENOTBLK, "ENOTBLK", OS, "Block device required"),
    (libc::EBUSY, "EBUSY", OS, "Device or resource busy"),
    (libc::EEXIST, "EEXIST", FILE_EXISTS, "File exists"),
    (libc::EXDEV, "EXDEV", OS, "Invalid cross-device link"),
    (libc::ENODEV, "ENODEV", OS, "No such device"),
    (libc::ENOTDIR, "ENOTDIR", NOT_A_DIRECTORY, "Not a directory"),
    (libc::EISDIR, "EISDIR", IS_A_DIRECTORY, "Is a directory"),
    (libc::EINVAL, "EINVAL", OS, "Invalid argument"),
    (libc::ENFILE, "ENFILE", OS, "Too many open files in system"),
    (libc::EMFILE, "EMFILE", OS, "Too many open files"),
    (libc::ENOTTY, "ENOTTY", OS, "Inappropriate ioctl for device"),
    (libc::ETXTBSY, "ETXTBSY", OS, "Text file busy"),
    (libc::EFBIG, "EFBIG", OS, "File too large"),
    (libc::ENOSPC, "ENOSPC", OS, "No space left on device"),
    (libc::ESPIPE, "ESPIPE", OS, "Illegal seek"),
    (libc::EROFS, "EROFS", OS, "Read-only file system"),
    (libc::EMLINK, "EMLINK", OS, "Too many links"),
    (libc::EPIPE, "EPIPE", BROKEN_PIPE, "Broken pipe"),
    (libc::EDOM, "EDOM", OS, "Numerical argument out of domain"),
    (libc::ERANGE, "ERANGE", OS, "Numerical result out of range"),
    (libc::EDEADLK, "EDEADLK", OS, "Resource deadlock avoided"),
    (libc::ENAMETOOLONG, "ENAMETOOLONG", OS, "File name too long"),
    (libc::ENOLCK, "ENOLCK", OS, "No locks available"),
    (libc::ENOSYS, "ENOSYS", OS, "Function not implemented"),
    (libc::ENOTEMPTY, "ENOTEMPTY", OS, "Directory not empty"),
    (libc::ELOOP, "ELOOP", OS, "Too many levels of symbolic links"),
    (libc::ENOMSG, "ENOMSG", OS, "No message of desired type"),
    (libc::EIDRM, "EIDRM", OS, "Identifier removed"),
    (libc::ECHRNG, "ECHRNG", OS, "Channel number out of range"),
    (libc::EL2NSYNC, "EL2NSYNC", OS, "Level 2 not synchronized"),
    (libc::EL3HLT, "EL3HLT", OS, "Level 3 halted"),
    (libc::EL3RST, "EL3RST", OS, "Level 3 reset"),
    (libc::ELNRNG, "ELNRNG", OS, "Link number out of range"),
    (libc::EUNATCH, "EUNATCH", OS, "Protocol driver not attached"),
    (libc::ENOCSI, "ENOCSI", OS, "No CSI structure available"),
    (libc::EL2HLT, "EL2HLT", OS, "Level 2 halted"),
    (libc::EBADE, "EBADE", OS, "Invalid exchange"),
    (libc::EBADR, "EBADR", OS, "Invalid request descriptor"),
    (libc::EXFULL, "EXFULL", OS, "Exchange full"),
    (libc::ENOANO, "ENOANO", OS, "No anode"),
    (libc::EBADRQC, "EBADRQC", OS, "Invalid request code"),
    (libc::EBADSLT, "EBADSLT", OS, "Invalid slot"),
    (libc::EBFONT, "EBFONT", OS, "Bad font file format"),
    (libc::ENOSTR, "ENOSTR", OS, "Device not a stream"),
    (libc::ENODATA, "ENODATA", OS, "No data available"),
    (libc::ETIME, "ETIME", OS, "Timer expired"),
    (libc::ENOSR, "ENOSR", OS, "Out of streams resources"),
    (libc::ENONET, "ENONET", OS, "Machine is not on the network"),
    (libc::ENOPKG, "ENOPKG", OS, "Package not installed"),
    (libc::EREMOTE, "EREMOTE", OS, "Object is remote"),
    (libc::ENOLINK, "ENOLINK", OS, "Link has been severed"),
    (libc::EADV, "EADV", OS, "Advertise error"),
    (libc::ESRMNT, "ESRMNT", OS, "Srmount error"),
    (libc::ECOMM, "ECOMM", OS, "Communication error on send"),
    (libc::EPROTO, "EPROTO", OS, "Protocol error"),
    (libc::EMULTIHOP, "EMULTIHOP", OS, "Multihop attempted"),
    (libc::EDOTDOT, "EDOTDOT", OS, "RFS specific error"),
    (libc::EBADMSG, "EBADMSG", OS, "Bad message"),
    (libc::EOVERFLOW, "EOVERFLOW", OS, "Value too large for defined data type"),
    (libc::ENOTUNIQ, "ENOTUNIQ", OS, "Name not unique on network"),
    (libc::EBADFD, "EBADFD", OS, "File descriptor in bad state"),
    (libc::EREMCHG, "EREMCHG", OS, "Remote address changed"),
    (libc::ELIBACC, "ELIBACC", OS, "Can not access a needed shared library"),
    (libc::ELIBBAD, "ELIBBAD", OS, "Accessing a corrupted shared library"),
    (libc::ELIBSCN, "ELIBSCN", OS, ".lib section in a.out corrupted"),
    (libc::ELIBMAX, "ELIBMAX", OS, "Attempting to link in too many shared libraries"),
    (libc::ELIBEXEC, "ELIBEXEC", OS, "Cannot exec a shared library directly"),
    (libc::EILSEQ, "EILSEQ", OS, "Invalid or incomplete multibyte or wide character"),
    (libc::ERESTART, "ERESTART", OS, "Interrupted system call should be restarted"),
    (libc::ESTRPIPE, "ESTRPIPE", OS, "Streams pipe error"),
    (libc::EUSERS, "EUSERS", OS, "Too many users"),
    (libc::ENOTSOCK, "ENOTSOCK", OS, "Socket operation on non-socket"),
    (libc::EDESTADDRREQ, "EDESTADDRREQ", OS, "Destination address required"),
    (libc::EMSGSIZE, "EMSGSIZE", OS, "Message too long"),
    (libc::EPROTOTYPE, "EPROTOTYPE", OS, "Protocol wrong type for socket"),
    (libc::ENOPROTOOPT, "ENOPROTOOPT", OS, "Protocol not available"),
    (libc::EPROTONOSUPPORT, "EPROTONOSUPPORT", OS, "Protocol not supported"),
    (libc::ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", OS, "Socket type not supported"),
    (libc::EOPNOTSUPP, "EOPNOTSUPP", OS, "Operation not supported"),
    (libc::EPFNOSUPPORT, "EPFNOSUPPORT", OS, "Protocol family not supported"),
    (libc::EAFNOSUPPORT, "EAFNOSUPPORT", OS, "Address family not supported by protocol"),
    (libc::EADDRINUSE, "EADDRINUSE", OS, "Address already in use"),
    (libc::EADDRNOTAVAIL, "EADDRNOTAVAIL", OS, "Cannot assign requested address"),
    (libc::ENETDOWN, "ENETDOWN", OS, "Network is down"),
    (libc::ENETUNREACH, "ENETUNREACH", OS, "Network is unreachable"),
    (libc::ENETRESET, "ENETRESET", OS, "Network dropped connection on reset"),
    (libc::ECONNABORTED, "ECONNABORTED", CONNECTION_ABORTED, "Software caused connection abort"),
    (libc::ECONNRESET, "ECONNRESET", CONNECTION_RESET, "Connection reset by peer"),
    (libc::ENOBUFS, "ENOBUFS", OS, "No buffer space available"),
    (libc::EISCONN, "EISCONN", OS, "Transport endpoint is already connected"),
    (libc::ENOTCONN, "ENOTCONN", OS, "Transport endpoint is not connected"),
    (libc::ESHUTDOWN, "ESHUTDOWN", BROKEN_PIPE, "Cannot send after transport endpoint shutdown"),
    (libc::ETOOMANYREFS, "ETOOMANYREFS", OS, "Too many references: cannot splice"),
    (libc::ETIMEDOUT, "ETIMEDOUT", TIMEOUT, "Connection timed out"),
    (libc::ECONNREFUSED, "ECONNREFUSED", CONNECTION_REFUSED, "Connection refused"),
    (libc::EHOSTDOWN, "EHOSTDOWN", OS, "Host is down"),
    (libc::EHOSTUNREACH, "EHOSTUNREACH", OS, "No route to host"),
    (libc::EALREADY, "EALREADY", BLOCKING_IO, "Operation already in progress"),
    (libc::EINPROGRESS, "EINPROGRESS", BLOCKING_IO, "Operation now in progress"),
    (libc::ESTALE, "ESTALE", OS, "Stale file handle"),
    (libc::EUCLEAN, "EUCLEAN", OS, "Structure needs cleaning"),
    (libc::ENOTNAM, "ENOTNAM", OS, "Not a XENIX named type file"),
    (libc::ENAVAIL, "ENAVAIL", OS, "No XENIX semaphores available"),
    (libc::EISNAM, "EISNAM", OS, "Is a named type file"),
    (libc::EREMOTEIO, "EREMOTEIO", OS, "Remote I/O error"),
    (libc::EDQUOT, "EDQUOT", OS, "Disk quota exceeded"),
    (libc::ENOMEDIUM, "ENOMEDIUM", OS, "No medium found"),
    (libc::EMEDIUMTYPE, "EMEDIUMTYPE", OS, "Wrong medium type"),
    (libc::ECANCELED, "ECANCELED", OS, "Operation canceled"),
    (libc::ENOKEY, "ENOKEY", OS, "Required key not available"),
    (libc::EKEYEXPIRED, "EKEYEXPIRED", OS, "Key has expired"),
    (libc::EKEYREVOKED, "EKEYREVOKED", OS, "Key has been revoked"),
    (libc::EKEYREJECTED, "EKEYREJECTED", OS, "Key was rejected by service"),
    (libc::EOWNERDEAD, "EOWNERDEAD", OS, "Owner died"),
    (libc::ENOTRECOVERABLE, "ENOTRECOVERABLE", OS, "State not recoverable"),
    (libc::ERFKILL, "ERFKILL", OS, "Operation not possible due to RF-kill"),
    (libc::EHWPOISON, "EHWPOISON", OS, "Memory page has hardware error"),
];

/// Looks up an errno number. A number Linux does not define still gets an honest `OSError`
/// with the C library's message and no name.
pub fn lookup(number: i32) -> PyErrno {
    match TABLE.iter().find(|entry| entry.0 == number) {
        Some(&(number, symbol, exception, message)) => PyErrno {
            number,
            symbol: Some(symbol),
            exception,
            message: Cow::Borrowed(message),
        },
        None => PyErrno {
            number,
            symbol: None,
            exception: OS,
            message: Cow::Owned(libc_message(number)),
        },
    }
}

/// strerror's text for `number` (`Unknown error 9999`), through the standard library.
fn libc_message(number: i32) -> String {
    let text = io::Error::from_raw_os_error(number).to_string();
    let suffix = format!(" (os error {number})");
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// The errno behind an io::Error from a system call, if it came from one.
pub fn of(err: &io::Error) -> Option<PyErrno> {
    err.raw_os_error().map(lookup)
}

impl PyErrno {
    /// The exception line exactly as CPython prints it:
    /// `ConnectionResetError: [Errno 104] Connection reset by peer`. The errno's name is not
    /// part of it; it goes in notes and in the JSON fields.
    pub fn python(&self) -> String {
        format!(
            "{}: [Errno {}] {}",
            self.exception, self.number, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_form_is_what_cpython_prints() {
        assert_eq!(
            lookup(libc::ECONNRESET).python(),
            "ConnectionResetError: [Errno 104] Connection reset by peer"
        );
        assert_eq!(
            lookup(libc::EADDRINUSE).python(),
            "OSError: [Errno 98] Address already in use"
        );
        assert_eq!(
            lookup(libc::EMFILE).python(),
            "OSError: [Errno 24] Too many open files"
        );
        assert_eq!(lookup(libc::EMFILE).symbol, Some("EMFILE"));
    }

    #[test]
    fn the_errnos_a_lab_can_meet_have_their_class_and_name() {
        let cases = [
            (libc::EMFILE, "EMFILE", OS),
            (libc::ENFILE, "ENFILE", OS),
            (libc::ENOBUFS, "ENOBUFS", OS),
            (libc::ENOMEM, "ENOMEM", OS),
            (libc::EROFS, "EROFS", OS),
            (libc::ENAMETOOLONG, "ENAMETOOLONG", OS),
            (libc::ENOSPC, "ENOSPC", OS),
            (libc::EEXIST, "EEXIST", FILE_EXISTS),
            (libc::ENOTDIR, "ENOTDIR", NOT_A_DIRECTORY),
            (libc::EISDIR, "EISDIR", IS_A_DIRECTORY),
            (libc::EAFNOSUPPORT, "EAFNOSUPPORT", OS),
            (libc::EPROTONOSUPPORT, "EPROTONOSUPPORT", OS),
            (libc::EOPNOTSUPP, "EOPNOTSUPP", OS),
            (libc::ESHUTDOWN, "ESHUTDOWN", BROKEN_PIPE),
            (libc::ECHILD, "ECHILD", CHILD_PROCESS),
            (libc::ESRCH, "ESRCH", PROCESS_LOOKUP),
            (libc::EWOULDBLOCK, "EAGAIN", BLOCKING_IO),
        ];
        for (number, symbol, exception) in cases {
            let errno = lookup(number);
            assert_eq!(errno.symbol, Some(symbol), "{number}");
            assert_eq!(errno.exception, exception, "{symbol}");
        }
    }

    #[test]
    fn an_unknown_number_gets_the_c_library_message_and_no_invented_name() {
        let errno = lookup(9999);
        assert_eq!(errno.symbol, None);
        assert_eq!(errno.exception, "OSError");
        assert!(!errno.message.contains("os error"), "{}", errno.message);
        assert!(errno.message.contains("9999"), "{}", errno.message);
        assert!(!errno.python().contains("E?"));
    }

    #[test]
    fn numbers_are_unique() {
        for (i, entry) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|other| other.0 != entry.0),
                "{} twice",
                entry.1
            );
        }
    }

    /// The whole table against the python3 on this machine, when there is one: the message
    /// (`os.strerror`), the name (an attribute of the `errno` module with that value), and the
    /// class of `OSError(n, msg)`.
    #[test]
    fn table_matches_python3() {
        let script = "import errno, os\n\
            for n in range(1, 200):\n\
            \x20   names = sorted(k for k in dir(errno) if k.startswith('E') and getattr(errno, k) == n)\n\
            \x20   print(n, type(OSError(n, 'x')).__name__, ','.join(names) or '-', os.strerror(n), sep='\\t')\n";
        let Ok(out) = std::process::Command::new("python3")
            .args(["-c", script])
            .output()
        else {
            println!("python3 not found: errno table not compared with CPython");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut compared = 0;
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let [number, exception, names, message] = fields[..] else {
                panic!("unexpected line {line:?}");
            };
            let errno = lookup(number.parse().unwrap());
            assert_eq!(errno.exception, exception, "class of errno {number}");
            assert_eq!(errno.message, message, "message of errno {number}");
            match (errno.symbol, names) {
                // A name Python's errno module lacks (EHWPOISON in older Pythons).
                (Some(_), "-") => {}
                (Some(symbol), _) => assert!(
                    names.split(',').any(|n| n == symbol),
                    "errno {number}: {symbol} is not among Python's names {names}"
                ),
                (None, _) => assert_eq!(names, "-", "errno {number} has names {names} in Python"),
            }
            if errno.symbol.is_some() {
                compared += 1;
            }
        }
        assert!(compared >= 130, "only {compared} errnos compared");
    }
}
