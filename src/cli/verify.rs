//! `netlab verify`: this machine's trace against the published snapshot.

use std::io::Write;
use std::process::ExitCode;

use netlab::event::Lang;
use netlab::lab::{self, Format, Lab};
use netlab::snapshot;
use netlab::trace::TraceOptions;

use super::{complain, Failure};

/// Runs each lab and compares its trace with the published snapshot (with `wire`, the one
/// that shows the packets too). A lab that does not run to the end is reported as such, never
/// as a trace that differs.
pub fn verify(
    out: &mut impl Write,
    labs: &[&'static Lab],
    lang: Lang,
    wire: bool,
) -> Result<ExitCode, Failure> {
    let (mut missing, mut failed, mut differ) = (0, 0, 0);
    let options = TraceOptions {
        lang,
        wire,
        ..TraceOptions::default()
    };
    for lab in labs {
        let stem = if wire {
            snapshot::wire_stem(lab.id, lang)
        } else {
            snapshot::stem(lab.id, lang)
        };
        let Some(expected) = snapshot::published_stem(&stem) else {
            writeln!(
                out,
                "MISSING {stem}: no published snapshot snapshots/{stem}.snap"
            )?;
            out.flush()?;
            missing += 1;
            continue;
        };
        match lab::render(lab, options, Format::Text) {
            Err(err) => {
                failed += 1;
                writeln!(out, "FAILED  {stem}: did not run to the end: {err}")?;
            }
            Ok(actual) => match snapshot::first_difference(&expected, &actual) {
                None => writeln!(out, "ok      {stem}: same as snapshots/{stem}.snap")?,
                Some((line, want, got)) => {
                    differ += 1;
                    writeln!(out, "DIFFERS {stem}: first difference at line {line}")?;
                    writeln!(out, "  snapshot: {want}")?;
                    writeln!(out, "  this run: {got}")?;
                }
            },
        }
        out.flush()?;
    }
    let mut problems = Vec::new();
    if failed > 0 {
        problems.push(format!("{failed} did not run to the end"));
    }
    if differ > 0 {
        let verb = if differ == 1 {
            "differs from its snapshot"
        } else {
            "differ from their snapshots"
        };
        problems.push(format!("{differ} {verb}"));
    }
    if missing > 0 {
        let verb = if missing == 1 { "has" } else { "have" };
        problems.push(format!("{missing} {verb} no published snapshot"));
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    complain(format_args!(
        "of {} {}, {}",
        labs.len(),
        if labs.len() == 1 { "lab" } else { "labs" },
        problems.join(", ")
    ));
    Ok(ExitCode::FAILURE)
}
