//! Renderers: the only code that turns events into bytes. Text for people (coloured only when
//! asked), JSON lines for programs. Both stream: each event is written as soon as it is final.

use std::io;

use crate::event::{Event, Text};

mod json;
mod text;

pub use json::{event_json, JsonRenderer};
pub use text::TextRenderer;

/// Where a lab's events go.
pub trait Sink {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()>;
    fn event(&mut self, event: &Event) -> io::Result<()>;
    fn lab_end(&mut self, id: &str) -> io::Result<()>;
}
