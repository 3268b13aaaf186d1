//! Python's spelling of values, so a trace reads like the student's own program.

/// `repr(bytes)` exactly as CPython writes it: `b'hello'`, `b"it's"`, `b'\x00\n'`.
pub fn bytes_literal(data: &[u8]) -> String {
    let quote = quote_for(data.contains(&b'\''), data.contains(&b'"'));
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    for &byte in data {
        match byte {
            b'\\' | b'\t' | b'\n' | b'\r' => push_common_escape(&mut out, char::from(byte)),
            _ if char::from(byte) == quote => push_common_escape(&mut out, quote),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(quote);
    out
}

/// CPython's choice of quote, for str and bytes alike: single quotes, unless the text holds a
/// single quote and no double quote.
fn quote_for(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double {
        '"'
    } else {
        '\''
    }
}

/// The escapes str and bytes share: backslash, the quote in use, tab, newline, return.
fn push_common_escape(out: &mut String, ch: char) {
    out.push('\\');
    out.push(match ch {
        '\t' => 't',
        '\n' => 'n',
        '\r' => 'r',
        other => other,
    });
}

/// Bytes shown in a trace line: whole when short, else the head and the tail around `...`
/// so that a student still sees where a message starts and ends. `limit` is in bytes.
pub fn bytes_preview(data: &[u8], limit: usize) -> String {
    if data.len() <= limit {
        return bytes_literal(data);
    }
    let tail = (limit / 4).max(1);
    let head = limit.saturating_sub(tail).max(1);
    format!(
        "{} ... {}",
        bytes_literal(&data[..head]),
        bytes_literal(&data[data.len() - tail..])
    )
}

/// `repr(str)` exactly as CPython writes it: `'hello'`, `"it's"`, `'a\tb'`, `'\x00'`,
/// `'café'`, `'\u200b'`. Non-ASCII characters stay as they are when Python's
/// `str.isprintable()` holds for them ([`is_printable`]), else they are escaped.
pub fn str_literal(text: &str) -> String {
    let quote = quote_for(text.contains('\''), text.contains('"'));
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for ch in text.chars() {
        match ch {
            '\\' | '\t' | '\n' | '\r' => push_common_escape(&mut out, ch),
            _ if ch == quote => push_common_escape(&mut out, quote),
            ' '..='~' => out.push(ch),
            _ if !ch.is_ascii() && is_printable(ch) => out.push(ch),
            _ => {
                let code = u32::from(ch);
                match code {
                    0..=0xff => out.push_str(&format!("\\x{code:02x}")),
                    0x100..=0xffff => out.push_str(&format!("\\u{code:04x}")),
                    _ => out.push_str(&format!("\\U{code:08x}")),
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable()` for one character: false for the Unicode categories Other
/// (Cc, Cf, Cs, Co, Cn) and Separator (Zl, Zp, Zs), except the ASCII space. The categories
/// come from the Unicode Character Database (version 16 here; a Python built on an older
/// version escapes the characters assigned since).
pub fn is_printable(ch: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as C};
    if ch == ' ' {
        return true;
    }
    !matches!(
        get_general_category(ch),
        C::Control
            | C::Format
            | C::Surrogate
            | C::PrivateUse
            | C::Unassigned
            | C::LineSeparator
            | C::ParagraphSeparator
            | C::SpaceSeparator
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings and what CPython's repr() prints for them (checked with python3 3.11).
    const STR_CASES: &[(&str, &str)] = &[
        ("hello", r#"'hello'"#),
        ("", r#"''"#),
        ("it's", r#""it's""#),
        ("say \"hi\"", r#"'say "hi"'"#),
        ("both ' and \"", r#"'both \' and "'"#),
        ("a\tb", r#"'a\tb'"#),
        ("line\r\n", r#"'line\r\n'"#),
        ("nul\0", r#"'nul\x00'"#),
        ("bell\u{7}", r#"'bell\x07'"#),
        ("del\u{7f}", r#"'del\x7f'"#),
        ("back\\slash", r#"'back\\slash'"#),
        ("café", r#"'café'"#),
        ("中文", r#"'中文'"#),
        ("zero\u{200b}width", r#"'zero\u200bwidth'"#),
        ("nbsp\u{a0}", r#"'nbsp\xa0'"#),
        ("soft\u{ad}hyphen", r#"'soft\xadhyphen'"#),
        ("line\u{2028}sep", r#"'line\u2028sep'"#),
        ("private\u{e000}", r#"'private\ue000'"#),
        ("emoji 😀", r#"'emoji 😀'"#),
        ("tag\u{e0001}", r#"'tag\U000e0001'"#),
        ("unassigned\u{378}", r#"'unassigned\u0378'"#),
        ("bom\u{feff}", r#"'bom\ufeff'"#),
        ("c1\u{85}", r#"'c1\x85'"#),
        ("wide\u{3000}space", r#"'wide\u3000space'"#),
        ("mixed'\"\\", r#"'mixed\'"\\'"#),
        ("max\u{10ffff}", r#"'max\U0010ffff'"#),
        ("combining e\u{301}", "'combining e\u{301}'"),
    ];

    /// Byte strings and what CPython's repr() prints for them.
    const BYTES_CASES: &[(&[u8], &str)] = &[
        (b"hello", r#"b'hello'"#),
        (b"", r#"b''"#),
        (b"it's", r#"b"it's""#),
        (b"'\"", r#"b'\'"'"#),
        (b"a\nb\t\\\x00\xff", r#"b'a\nb\t\\\x00\xff'"#),
        (b"\r\x7f\x80 ~", r#"b'\r\x7f\x80 ~'"#),
        (b"say \"hi\"", r#"b'say "hi"'"#),
    ];

    #[test]
    fn str_matches_cpython_repr() {
        for (text, expected) in STR_CASES {
            assert_eq!(str_literal(text), *expected, "repr({text:?})");
        }
    }

    #[test]
    fn bytes_match_cpython_repr() {
        for (data, expected) in BYTES_CASES {
            assert_eq!(bytes_literal(data), *expected, "repr({data:?})");
        }
    }

    /// Runs python3 on `script` with `input` on stdin; None (and a printed message) when this
    /// machine has no python3.
    fn python3(script: &str, input: &str) -> Option<String> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let Ok(mut child) = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
        else {
            println!("python3 not found: repr not compared with CPython");
            return None;
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        Some(String::from_utf8(out.stdout).unwrap())
    }

    /// The same strings through python3's own repr, when python3 is here: the fixed table
    /// above must not drift from CPython.
    #[test]
    fn str_and_bytes_match_python3_repr() {
        let texts: Vec<&str> = STR_CASES.iter().map(|(text, _)| *text).collect();
        let blobs: Vec<&[u8]> = BYTES_CASES.iter().map(|(data, _)| *data).collect();
        let input = serde_json::json!({ "str": texts, "bytes": blobs }).to_string();
        let script = "import json, sys\n\
            cases = json.load(sys.stdin)\n\
            print(json.dumps({'str': [repr(s) for s in cases['str']],\n\
            \x20                 'bytes': [repr(bytes(b)) for b in cases['bytes']]}))\n";
        let Some(output) = python3(script, &input) else {
            return;
        };
        let reprs: serde_json::Value = serde_json::from_str(&output).unwrap();
        for (text, python) in texts.iter().zip(reprs["str"].as_array().unwrap()) {
            assert_eq!(
                str_literal(text),
                python.as_str().unwrap(),
                "repr({text:?})"
            );
        }
        for (data, python) in blobs.iter().zip(reprs["bytes"].as_array().unwrap()) {
            assert_eq!(
                bytes_literal(data),
                python.as_str().unwrap(),
                "repr({data:?})"
            );
        }
    }

    #[test]
    fn preview_keeps_head_and_tail() {
        let data: Vec<u8> = (b'a'..=b'z').collect();
        assert_eq!(bytes_preview(&data, 8), "b'abcdef' ... b'yz'");
        assert_eq!(bytes_preview(b"short", 8), "b'short'");
    }
}
