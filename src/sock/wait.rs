//! Bounded waits, declared here once.

use std::time::Duration;

/// How long a call that would block in Python is watched before netlab records it as
/// blocked and moves on. The course program would wait forever at that point.
pub const BLOCKED: Duration = Duration::from_millis(200);
/// The longest netlab waits for something it knows is on its way (data a peer in this lab
/// already sent, a handshake with a listener that has room). On loopback it takes
/// microseconds; the bound only keeps a broken kernel from hanging a lab.
pub const EXPECTED: Duration = Duration::from_secs(2);
/// How long a call waits for a peer outside this process (a student's program).
pub const EXTERNAL: Duration = Duration::from_secs(30);
