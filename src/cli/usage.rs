//! clap's usage errors in the user's language. English is clap's own text; for Chinese,
//! netlab says the same in its own words (phrases::USAGE_*) for the errors a user meets
//! (an unknown flag or subcommand, a wrong value, a missing LAB, flags that conflict), and
//! keeps clap's text for the rare rest. Help and version output stay clap's.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use netlab::event::Lang;
use netlab::phrases;

/// The error as netlab prints it in `lang`, or None to let clap print its own (help,
/// version, English).
pub fn translated(err: &clap::Error, lang: Lang) -> Option<String> {
    if lang == Lang::En || !is_error(err.kind()) {
        return None;
    }
    let message = message(err, lang).unwrap_or_else(|| clap_message(err));
    Some(render(lang, &message, usage(err).as_deref()))
}

/// A usage error in `lang`: the message, the usage line when there is one, and where to
/// read more.
pub fn render(lang: Lang, message: &str, usage: Option<&str>) -> String {
    let mut text = phrases::USAGE_ERROR.fill(lang, &[("message", &message)]);
    text.push('\n');
    if let Some(usage) = usage {
        text.push('\n');
        text.push_str(&phrases::USAGE_LINE.fill(lang, &[("usage", &usage)]));
        text.push('\n');
    }
    text.push('\n');
    text.push_str(phrases::USAGE_MORE.get(lang));
    text.push('\n');
    text
}

fn is_error(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

fn context(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(list) => Some(list.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(list) => Some(
            list.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// netlab's words for the errors it knows; None for the others.
fn message(err: &clap::Error, lang: Lang) -> Option<String> {
    let arg = context(err, ContextKind::InvalidArg);
    match err.kind() {
        ErrorKind::UnknownArgument => {
            Some(phrases::USAGE_UNKNOWN_ARGUMENT.fill(lang, &[("arg", &arg?)]))
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context(err, ContextKind::InvalidValue)?;
            let mut text =
                phrases::USAGE_INVALID_VALUE.fill(lang, &[("value", &value), ("arg", &arg?)]);
            if let Some(values) = context(err, ContextKind::ValidValue) {
                text.push_str(phrases::LIST_SEPARATOR.get(lang));
                text.push_str(&phrases::USAGE_POSSIBLE_VALUES.fill(lang, &[("values", &values)]));
            }
            Some(text)
        }
        ErrorKind::MissingRequiredArgument => {
            Some(phrases::USAGE_MISSING.fill(lang, &[("arg", &arg?)]))
        }
        ErrorKind::InvalidSubcommand => {
            let sub = context(err, ContextKind::InvalidSubcommand)?;
            Some(phrases::USAGE_UNKNOWN_SUBCOMMAND.fill(lang, &[("arg", &sub)]))
        }
        ErrorKind::ArgumentConflict => {
            let other = context(err, ContextKind::PriorArg)?;
            Some(phrases::USAGE_CONFLICT.fill(lang, &[("arg", &arg?), ("other", &other)]))
        }
        _ => None,
    }
}

/// clap's own message: its first line without `error: `.
fn clap_message(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// `netlab run [OPTIONS] [LAB]`, without clap's `Usage: ` title.
fn usage(err: &clap::Error) -> Option<String> {
    let usage = context(err, ContextKind::Usage)?;
    let usage = usage.trim();
    Some(
        usage
            .strip_prefix("Usage:")
            .unwrap_or(usage)
            .trim()
            .to_string(),
    )
}
