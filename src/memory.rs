//! Large buffers that fail politely. Rust aborts the whole process when an allocation fails,
//! so netlab asks for every buffer whose size a lab or a peer chooses (a 1 MiB message, a
//! recv buffer of the size the program asked for) with `try_reserve`: a refusal (a small
//! `ulimit -v`, say) becomes one clear error instead of an abort.

use std::io;

/// The allocator the netlab binary installs (`#[global_allocator]` in main.rs): a refused
/// allocation ends netlab with one clear line and exit 1, never an abort.
pub use crate::sys::Allocator;

/// An empty buffer with room for `len` bytes, none of them written yet.
pub fn reserve(len: usize, what: &str) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    grow(&mut buf, len).map_err(|_| out_of_memory(len, what))?;
    Ok(buf)
}

/// Room for `additional` more bytes in `buf`, or an error when the allocator refuses: the one
/// place where a refused allocation comes back to netlab instead of ending it with a clear
/// line (see `sys::Allocator`).
pub fn grow(buf: &mut Vec<u8>, additional: usize) -> Result<(), std::collections::TryReserveError> {
    crate::sys::fallible(|| buf.try_reserve_exact(additional))
}

/// `len` copies of `byte`, like Python's `b'x' * len`.
pub fn filled(byte: u8, len: usize, what: &str) -> io::Result<Vec<u8>> {
    let mut buf = reserve(len, what)?;
    buf.resize(len, byte);
    Ok(buf)
}

/// The error for a buffer the allocator refused.
pub fn out_of_memory(len: usize, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        format!(
            "netlab could not get {len} bytes of memory for {what} (is a memory limit such as `ulimit -v` in force?)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_no_allocator_grants_is_an_error_not_an_abort() {
        let err = reserve(usize::MAX / 2, "a test buffer").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::OutOfMemory);
        assert!(err.to_string().contains("a test buffer"), "{err}");
        assert_eq!(filled(b'x', 3, "three bytes").unwrap(), b"xxx");
        assert!(reserve(1024, "a recv buffer").unwrap().capacity() >= 1024);
    }
}
