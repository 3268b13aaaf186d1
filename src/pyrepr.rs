//! Python's spelling of values, so a trace reads like the student's own program.

/// `repr(bytes)` exactly as CPython writes it: `b'hello'`, `b"it's"`, `b'\x00\n'`.
pub fn bytes_literal(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote);
    for &byte in data {
        push_escaped(&mut out, byte, quote);
    }
    out.push(quote);
    out
}

fn push_escaped(out: &mut String, byte: u8, quote: char) {
    match byte {
        b'\\' => out.push_str("\\\\"),
        b'\t' => out.push_str("\\t"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        _ if byte as char == quote => {
            out.push('\\');
            out.push(quote);
        }
        0x20..=0x7e => out.push(byte as char),
        _ => out.push_str(&format!("\\x{byte:02x}")),
    }
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

/// A Python str literal: `'hello'`.
pub fn str_literal(text: &str) -> String {
    let mut out = String::from("'");
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            _ => out.push(ch),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cpython_repr() {
        assert_eq!(bytes_literal(b"hello"), "b'hello'");
        assert_eq!(bytes_literal(b""), "b''");
        assert_eq!(bytes_literal(b"it's"), "b\"it's\"");
        assert_eq!(bytes_literal(b"'\""), "b'\\'\"'");
        assert_eq!(
            bytes_literal(b"a\nb\t\\\x00\xff"),
            "b'a\\nb\\t\\\\\\x00\\xff'"
        );
    }

    #[test]
    fn preview_keeps_head_and_tail() {
        let data: Vec<u8> = (b'a'..=b'z').collect();
        assert_eq!(bytes_preview(&data, 8), "b'abcdef' ... b'yz'");
        assert_eq!(bytes_preview(b"short", 8), "b'short'");
    }
}
