//! `--step` and `--pace` for a live demo.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use netlab::event::{Event, Text};
use netlab::render::Sink;

/// `--step` and `--pace`: pauses between events, for a live demo. They gate the engine
/// itself: the next socket call happens only after the pause.
#[derive(Clone, Copy)]
pub struct Pacing {
    pub step: bool,
    pub pause: Option<Duration>,
}

impl Pacing {
    pub fn wrap(self, inner: Box<dyn Sink>) -> Box<dyn Sink> {
        if self.step || self.pause.is_some() {
            Box::new(Paced {
                inner,
                pacing: self,
                started: false,
            })
        } else {
            inner
        }
    }
}

struct Paced {
    inner: Box<dyn Sink>,
    pacing: Pacing,
    started: bool,
}

impl Sink for Paced {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        if self.pacing.step && io::stdin().is_terminal() {
            let _ = writeln!(io::stderr(), "(--step: press Enter for each next event)");
        }
        self.inner.lab_start(id, title)
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        if self.started {
            if self.pacing.step {
                // Enter advances; at end of input (not a terminal) the trace just runs on.
                let mut line = String::new();
                let _ = io::stdin().read_line(&mut line);
            } else if let Some(pause) = self.pacing.pause {
                std::thread::sleep(pause);
            }
        }
        self.started = true;
        self.inner.event(event)
    }

    fn lab_end(&mut self, id: &str) -> io::Result<()> {
        self.inner.lab_end(id)
    }
}
