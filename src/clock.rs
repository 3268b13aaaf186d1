//! A server's clock for labs that send the time (the course's UDP time server).
//!
//! A deterministic trace cannot print the real time, so by default a lab's server reads a
//! fixed instant, [`FIXED_INSTANT`], broken down in UTC; with `--raw` it reads the real clock in
//! local time, as the course's `time.strftime(fmt)` does. Either way the text is made by the C
//! library's real `strftime(3)` (C locale), the same function CPython calls on Linux, so
//! unknown conversions such as `%Q` come back unchanged instead of failing.

use std::ffi::CString;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::event::{Outcome, Text};
use crate::pyrepr;
use crate::sock::Side;
use crate::sys;
use crate::trace::Trace;

/// The instant a lab's server clock shows by default: 1,000,000,000 seconds after the Unix
/// epoch, 2001-09-09 01:46:40 UTC.
pub const FIXED_INSTANT: i64 = 1_000_000_000;

/// Which time a server reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Seconds since the epoch, broken down in UTC.
    Fixed(i64),
    /// The machine's clock now, broken down in local time.
    Real,
}

impl Clock {
    /// The clock a lab's server uses: [`FIXED_INSTANT`] unless the trace is `--raw`.
    pub fn for_trace(trace: &Trace) -> Clock {
        if trace.is_raw() {
            Clock::Real
        } else {
            Clock::Fixed(FIXED_INSTANT)
        }
    }
}

/// `time.strftime(format)` on `clock`. Fails only as Python fails: a NUL in the format
/// (`ValueError: embedded null character`).
pub fn strftime(format: &str, clock: Clock) -> io::Result<String> {
    let c_format = CString::new(format).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "ValueError: embedded null character",
        )
    })?;
    let (time, utc) = match clock {
        Clock::Fixed(seconds) => (seconds, true),
        Clock::Real => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_err(io::Error::other)?;
            (i64::try_from(now.as_secs()).unwrap_or(i64::MAX), false)
        }
    };
    let bytes = sys::strftime(&c_format, time, utc)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl Side {
    /// `var = strftime(format)`: the server formats its clock, recorded as the Python line.
    pub fn strftime(&self, var: &str, format: &str, clock: Clock) -> io::Result<String> {
        self.begin();
        let call = format!("{var} = strftime({})", pyrepr::str_literal(format));
        match strftime(format, clock) {
            Ok(text) => {
                self.record(
                    call,
                    Outcome::Returned(Text::same(pyrepr::str_literal(&text))),
                );
                Ok(text)
            }
            Err(err) => Err(self.raise(call, err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_fixed_instant_like_python_on_linux() {
        let at = Clock::Fixed(FIXED_INSTANT);
        assert_eq!(strftime("%Y-%m-%d %X", at).unwrap(), "2001-09-09 01:46:40");
        assert_eq!(strftime("%A %d %B", at).unwrap(), "Sunday 09 September");
        assert_eq!(strftime("%Q", at).unwrap(), "%Q");
        assert_eq!(strftime("", at).unwrap(), "");
        assert_eq!(strftime("%p", at).unwrap(), "AM");
        assert!(strftime("a\0b", at).is_err());
    }

    #[test]
    fn a_long_result_is_not_cut() {
        let format = "%Y".repeat(600);
        assert_eq!(
            strftime(&format, Clock::Fixed(FIXED_INSTANT)).unwrap(),
            "2001".repeat(600)
        );
    }
}
