//! `netlab list` and `netlab show`: the labs and their lesson texts.

use std::io::Write;
use std::process::ExitCode;

use netlab::event::Lang;
use netlab::lab::{self, Lab};

use super::Failure;

pub fn list(out: &mut impl Write, lang: Lang) -> Result<ExitCode, Failure> {
    for lab in lab::all() {
        writeln!(out, "{:<22} {}", lab.id, lab.title.get(lang))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn show_lesson(out: &mut impl Write, lab: &Lab, lang: Lang) -> Result<ExitCode, Failure> {
    writeln!(out, "{}: {}\n", lab.id, lab.title.get(lang))?;
    write!(out, "{}", lab.lesson.get(lang))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
