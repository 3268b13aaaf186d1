//! `recv(n)` where `n` is any Python int, checked in CPython's own order: a student may write
//! a number far too big for the call (the course does), and what Python then raises depends on
//! which check comes first.

use std::io;

use super::Sock;
use crate::event::{Outcome, PyException};

/// The bytes a CPython `bytes` object needs besides its data: its header (reference count,
/// type, size, hash: four machine words) and the trailing NUL. A buffer so large that adding
/// these would overflow `ssize_t` is refused before any allocation.
const PY_BYTES_OBJECT_SIZE: i128 = 4 * std::mem::size_of::<usize>() as i128 + 1;

impl Sock {
    /// `var = sock.recv(n)` for any Python int `n`, as CPython handles it:
    ///
    /// 1. the argument must fit a C `ssize_t`, else `OverflowError: Python int too large to
    ///    convert to C ssize_t`, raised while the arguments are parsed, before anything else;
    /// 2. it must not be negative, else `ValueError: negative buffersize in recv`;
    /// 3. CPython then makes the result's `bytes` object, before it reads or waits: within a
    ///    few bytes of the `ssize_t` limit that is `OverflowError: byte string is too large`;
    ///    otherwise it allocates `n` bytes, and a size the allocator refuses raises
    ///    `MemoryError` with nothing read;
    /// 4. only then does it read the socket, as [`Sock::recv_into_var`].
    ///
    /// The checks of 1 to 3 are CPython's, made here on the same number; the allocation of
    /// step 3 is a real request of that size. The error returned is `InvalidInput` for a
    /// refused number, `OutOfMemory` for a refused allocation.
    pub fn recv_any_int(&self, var: &str, n: i128) -> io::Result<Vec<u8>> {
        self.side.begin();
        let call = format!("{var} = {}", self.call(format_args!("recv({n})")));
        let refused = if n > isize::MAX as i128 || n < isize::MIN as i128 {
            Some(PyException::new(
                "OverflowError",
                "Python int too large to convert to C ssize_t",
            ))
        } else if n < 0 {
            Some(PyException::new(
                "ValueError",
                "negative buffersize in recv",
            ))
        } else if n > isize::MAX as i128 - PY_BYTES_OBJECT_SIZE {
            Some(PyException::new(
                "OverflowError",
                "byte string is too large",
            ))
        } else {
            None
        };
        match refused {
            Some(exception) => {
                let line = exception.python();
                self.record(call, Outcome::RaisedPython(exception));
                Err(io::Error::new(io::ErrorKind::InvalidInput, line))
            }
            None => self.recv_as(call, n as usize),
        }
    }
}
