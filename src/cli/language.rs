//! Which language netlab speaks: `--lang` when given; else NETLAB_LANG; else the POSIX locale
//! variables (the first of LC_ALL, LC_MESSAGES, LANG that is set and not empty decides, as
//! for any program's messages); `zh...` gives Chinese, anything else English.

use std::ffi::{OsStr, OsString};

use netlab::event::Lang;

/// The locale variables in the order POSIX consults them for messages.
const LOCALE_VARIABLES: [&str; 3] = ["LC_ALL", "LC_MESSAGES", "LANG"];

/// The language: the flag if given, else what the environment says (`env` reads a variable).
pub fn detect(flag: Option<Lang>, env: impl Fn(&str) -> Option<OsString>) -> Lang {
    if let Some(lang) = flag {
        return lang;
    }
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    let value = set("NETLAB_LANG").or_else(|| LOCALE_VARIABLES.iter().find_map(|name| set(name)));
    match value {
        Some(value) if starts_with_zh(&value) => Lang::Zh,
        _ => Lang::En,
    }
}

/// The language of this process's environment and flag.
pub fn from_env(flag: Option<Lang>) -> Lang {
    detect(flag, |name| std::env::var_os(name))
}

/// `zh`, `zh_CN.UTF-8`, `zh_TW`, `zh-Hans`: Chinese (NETLAB_LANG takes a code or a locale name).
fn starts_with_zh(value: &OsStr) -> bool {
    let bytes = value.as_encoded_bytes();
    bytes.len() >= 2
        && bytes[..2].eq_ignore_ascii_case(b"zh")
        && bytes
            .get(2)
            .map_or(true, |b| matches!(b, b'_' | b'-' | b'.' | b'@'))
}

/// `--lang` as written on a command line that clap refused, so its usage error can still be
/// in the language asked for: the last `--lang X` or `--lang=X`.
pub fn flag_in_args(args: impl IntoIterator<Item = OsString>) -> Option<Lang> {
    let mut lang = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let value = if arg == "--lang" {
            args.next()
        } else {
            arg.to_str()
                .and_then(|a| a.strip_prefix("--lang="))
                .map(OsString::from)
        };
        match value.as_deref().and_then(OsStr::to_str) {
            Some("zh") => lang = Some(Lang::Zh),
            Some("en") => lang = Some(Lang::En),
            _ => {}
        }
    }
    lang
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn the_flag_wins_then_netlab_lang_then_the_locale() {
        let zh_locale = [("LANG", "zh_CN.UTF-8")];
        assert_eq!(detect(None, with(&zh_locale)), Lang::Zh);
        assert_eq!(detect(Some(Lang::En), with(&zh_locale)), Lang::En);
        assert_eq!(
            detect(
                None,
                with(&[("NETLAB_LANG", "en"), ("LANG", "zh_CN.UTF-8")])
            ),
            Lang::En
        );
        assert_eq!(
            detect(None, with(&[("NETLAB_LANG", "zh"), ("LANG", "C")])),
            Lang::Zh
        );
        assert_eq!(detect(None, with(&[])), Lang::En);
    }

    #[test]
    fn the_first_locale_variable_set_and_not_empty_decides() {
        assert_eq!(
            detect(
                None,
                with(&[("LC_ALL", "C.UTF-8"), ("LANG", "zh_CN.UTF-8")])
            ),
            Lang::En
        );
        assert_eq!(
            detect(
                None,
                with(&[
                    ("LC_ALL", ""),
                    ("LC_MESSAGES", "zh_TW.UTF-8"),
                    ("LANG", "en_US")
                ])
            ),
            Lang::Zh
        );
        assert_eq!(detect(None, with(&[("LANG", "zh")])), Lang::Zh);
        assert_eq!(detect(None, with(&[("LANG", "zha_XX")])), Lang::En);
        assert_eq!(
            detect(None, with(&[("NETLAB_LANG", ""), ("LANG", "zh_HK")])),
            Lang::Zh
        );
    }

    #[test]
    fn a_refused_command_line_still_says_its_language() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            flag_in_args(args(&["netlab", "run", "--lang", "zh", "x"])),
            Some(Lang::Zh)
        );
        assert_eq!(
            flag_in_args(args(&["netlab", "--lang=en", "run"])),
            Some(Lang::En)
        );
        assert_eq!(flag_in_args(args(&["netlab", "--lang"])), None);
    }
}
