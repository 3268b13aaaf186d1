//! The threads of a lab's Python program: `t = threading.Thread(target=talk, args=(conn,))`
//! and `t.start()`, the side whose label the new thread's calls carry (`server thread-1`), and
//! a socket handed to that thread.
//!
//! netlab starts no thread for them. One orchestrator still makes every call, in the order
//! the lab's steps give, so the trace is the same on every run; the label says which thread
//! of the Python program makes the call. The kernel cannot tell the difference: a process's
//! threads share its sockets, and a socket call is the same system call whichever thread
//! makes it. What threads change is the order of the calls, which the scheduler decides from
//! run to run: a lab says so in its notes, and its trace shows one order, which really ran.

use std::cell::Cell;
use std::rc::Rc;

use super::{Side, Sock};
use crate::event::{Outcome, Text};

/// A program of the lab, whichever of its threads is making a call.
pub(crate) struct Program {
    name: Rc<str>,
    /// Threads started so far: Python numbers them from 1 in each process (`Thread-1`).
    threads: Cell<u32>,
}

impl Program {
    pub(crate) fn new(name: &str) -> Program {
        Program {
            name: name.into(),
            threads: Cell::new(0),
        }
    }

    /// `server`: the name of the program, without a thread.
    pub(crate) fn name(&self) -> Rc<str> {
        self.name.clone()
    }

    fn next_thread(&self) -> u32 {
        let n = self.threads.get() + 1;
        self.threads.set(n);
        n
    }
}

/// `(conn,)`, `(request, client_address)`: the `args` tuple as Python writes it.
fn args_tuple(args: &[&str]) -> String {
    match args {
        [one] => format!("({one},)"),
        many => format!("({})", many.join(", ")),
    }
}

impl Side {
    /// `var = threading.Thread(target=target, args=(...))`, then `var.start()`: the program
    /// starts a thread that runs `target(*args)`. Returns the side whose label that thread's
    /// calls carry, `server thread-N`: N counts the threads this program started, as Python
    /// names them (`Thread-1 (talk)`).
    pub fn start_thread(&self, var: &str, target: &str, args: &[&str]) -> Side {
        self.begin();
        let made = format!(
            "{var} = threading.Thread(target={target}, args={})",
            args_tuple(args)
        );
        self.record(made, Outcome::Returned(Text::same("")));
        self.begin();
        self.record(format!("{var}.start()"), Outcome::Returned(Text::same("")));
        let n = self.program.next_thread();
        Side {
            recorder: self.recorder.clone(),
            registry: self.registry.clone(),
            name: format!("{} thread-{n}", self.program.name).into(),
            program: self.program.clone(),
        }
    }
}

impl Sock {
    /// The same socket in another thread of its program, which knows it as `var` (the
    /// argument `talk(conn)` was given, a handler's `self.request`): its calls carry that
    /// thread's label from now on. Nothing happens in the kernel: threads share sockets.
    pub fn handed_to(mut self, thread: &Side, var: &str) -> Sock {
        debug_assert!(
            Rc::ptr_eq(&self.side.program, &thread.program),
            "a socket is handed only to a thread of its own program"
        );
        self.side = thread.clone();
        self.var = var.to_string();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::args_tuple;

    #[test]
    fn args_are_written_as_python_writes_a_tuple() {
        assert_eq!(args_tuple(&["conn"]), "(conn,)");
        assert_eq!(
            args_tuple(&["request", "client_address"]),
            "(request, client_address)"
        );
        assert_eq!(args_tuple(&[]), "()");
    }
}
