//! What every conversation of one peer-mode session shares: the trace, which side netlab
//! plays, how it waits for the peer, and the diagnoses found so far.

use std::cell::RefCell;
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
}

impl Context {
    pub(crate) fn new(trace: Trace, role: Role, outside: Outside) -> Context {
        Context {
            trace,
            role,
            outside,
            findings: Rc::default(),
        }
    }

    /// Records a diagnosis: a `netlab` line with its title and finding, the code in JSON, and
    /// the note on what it means. The conversation may go on.
    pub(crate) fn report(&self, diagnosis: &Diagnosis) {
        let shown = diagnosis.show(self.role, &self.outside.shown_limit());
        let recorder = self.trace.recorder();
        recorder.emit(
            NETLAB,
            Kind::Summary,
            shown.title,
            Outcome::Returned(shown.finding),
        );
        recorder.diagnosis(diagnosis.code());
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

    /// A line about the session itself: `netlab  what  -> result`.
    pub(crate) fn summary(&self, what: Text, result: Text) {
        self.trace
            .recorder()
            .emit(NETLAB, Kind::Summary, what, Outcome::Returned(result));
    }

    pub(crate) fn note(&self, en: impl Into<String>, zh: impl Into<String>) {
        self.trace.note(en, zh);
    }
}
