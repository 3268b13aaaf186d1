//! What every conversation of one peer-mode session shares: the trace, which side netlab
//! plays, how it waits for the peer, and the diagnoses found so far.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::diagnosis::Diagnosis;
use super::outside::Outside;
use super::{Ended, Role};
use crate::event::{Kind, Outcome, Text};
use crate::trace::Trace;

/// The side name of the lines netlab writes about the session itself (diagnoses, the end).
pub(crate) const NETLAB: &str = "netlab";

#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) trace: Trace,
    pub(crate) role: Role,
    pub(crate) outside: Outside,
    findings: Rc<RefCell<Vec<&'static str>>>,
    /// Clients served (TCP) or requests answered (UDP) so far; 1 for `connect`.
    conversations: Rc<Cell<u32>>,
}

impl Context {
    pub(crate) fn new(trace: Trace, role: Role, outside: Outside) -> Context {
        Context {
            trace,
            role,
            outside,
            findings: Rc::default(),
            conversations: Rc::default(),
        }
    }

    /// Records a diagnosis: a `netlab` line with its title and finding, the code and the
    /// finding's figures in JSON, and the note on what it means. The conversation may go on.
    pub(crate) fn report(&self, diagnosis: &Diagnosis) {
        let shown = diagnosis.show(self.role, &self.outside.shown_limit());
        let recorder = self.trace.recorder();
        recorder.begin();
        recorder.emit(
            NETLAB,
            Kind::Summary,
            shown.title,
            Outcome::Returned(shown.finding),
        );
        recorder.diagnosis(diagnosis.code());
        recorder.facts(|f| diagnosis.facts(f, self.trace.registry()));
        recorder.note(shown.advice);
        self.findings.borrow_mut().push(diagnosis.code());
    }

    /// Records a diagnosis that ends the conversation.
    pub(crate) fn fail(&self, diagnosis: Diagnosis) -> Ended {
        self.report(&diagnosis);
        Ended::Diagnosed(diagnosis.code())
    }

    /// The codes of every diagnosis so far, in order.
    pub(crate) fn findings(&self) -> Vec<&'static str> {
        self.findings.borrow().clone()
    }

    /// Counts a new conversation (a client, a request, the one of `connect`); returns its
    /// number, from 1.
    pub(crate) fn next_conversation(&self) -> u32 {
        let n = self.conversations.get() + 1;
        self.conversations.set(n);
        n
    }

    pub(crate) fn conversations(&self) -> u32 {
        self.conversations.get()
    }

    /// A line about the session itself: `netlab  what  -> result`.
    pub(crate) fn summary(&self, what: Text, result: Text) {
        let recorder = self.trace.recorder();
        recorder.begin();
        recorder.emit(NETLAB, Kind::Summary, what, Outcome::Returned(result));
    }

    pub(crate) fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        self.trace.note(en, zh);
    }
}
