//! Line breaking for the text trace: notes are paragraphs, calls are Python, and both must fit
//! the width the renderer was given.
//!
//! Text is read into atoms (words, Python string and bytes literals, bracketed groups, single
//! CJK characters) with the glue between them (a space, nothing, or a break that CJK text
//! allows). Prose breaks at spaces and between CJK characters, never inside an English word
//! or a literal, keeps a code-like group such as `('127.0.0.1', PORT)` on one line when it
//! fits, and follows the basic kinsoku rules (no line starts with `，。；：）」` and the like,
//! none ends with `（「`). Code breaks only inside brackets, after a comma, the way a Python
//! programmer continues a long line: aligned with the opening bracket, or with a hanging
//! indent of four when that leaves too little room; a literal too long for any line is cut
//! into adjacent literals (`b'abc' b'def'`), which Python joins back into one.
//!
//! Widths are display columns (a CJK character is two).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How a text breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A note, a heading, a kernel line, a result: breaks at spaces and between CJK characters.
    Prose,
    /// A call in Python notation: breaks only inside its brackets.
    Code,
}

/// Display columns of `text`.
pub fn columns(text: &str) -> usize {
    text.width()
}

/// `text` cut to at most `max` display columns.
pub fn cut(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

/// Lays `text` out from column `first` (what precedes it on the first line is the caller's)
/// and continues it at column `indent`, within `width` columns. A `\n` in `text` is a line
/// break of its own; spaces after it indent that line further. The first line returned has
/// no leading spaces; every other line starts with the spaces that bring it to its column.
pub fn lay_out(text: &str, style: Style, first: usize, indent: usize, width: usize) -> Vec<String> {
    let mut out = Out::new(first, width);
    for (i, line) in text.split('\n').enumerate() {
        let body = line.trim_start_matches(' ');
        let start = indent + (line.len() - body.len());
        if i > 0 {
            out.newline(start);
        }
        // A list item's continuation lines hang under its text.
        let hang = if body.starts_with("- ") { 2 } else { 0 };
        let pieces = parse(body, style);
        let ctx = Ctx {
            indent: start + hang,
            code_group: false,
            no_breaks: style == Style::Code,
        };
        fill(&pieces, ctx, 0, &mut out);
    }
    out.finish()
}

// ---------------------------------------------------------------------------------------
// Atoms and glue
// ---------------------------------------------------------------------------------------

/// What lies between two atoms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Glue {
    /// Nothing; no break (inside a word, after an opening bracket).
    Tight,
    /// A space.
    Space,
    /// Nothing, but a line may break here (between CJK characters).
    Zero,
}

#[derive(Debug, Clone)]
enum Atom {
    Word(String),
    /// A Python string or bytes literal (`b'...'`, `'...'`), or a `code span`: whole.
    Literal {
        prefix: String,
        quote: char,
        body: String,
    },
    /// Brackets and what they hold.
    Group {
        open: char,
        items: Vec<Piece>,
        close: char,
    },
}

#[derive(Debug, Clone)]
struct Piece {
    glue: Glue,
    atom: Atom,
}

impl Atom {
    fn flat(&self) -> String {
        match self {
            Atom::Word(w) => w.clone(),
            Atom::Literal {
                prefix,
                quote,
                body,
            } => format!("{prefix}{quote}{body}{quote}"),
            Atom::Group { open, items, close } => {
                format!("{open}{}{close}", flat(items))
            }
        }
    }

    fn width(&self) -> usize {
        columns(&self.flat())
    }

    /// The text at its start and end, for the rules on breaks between atoms.
    fn first_char(&self) -> Option<char> {
        self.flat().chars().next()
    }

    fn last_char(&self) -> Option<char> {
        self.flat().chars().last()
    }
}

fn flat(pieces: &[Piece]) -> String {
    let mut s = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 && piece.glue == Glue::Space {
            s.push(' ');
        }
        s.push_str(&piece.atom.flat());
    }
    s
}

fn is_wide(c: char) -> bool {
    c.width() == Some(2)
}

/// Closing punctuation that must not begin a line (kinsoku).
fn no_line_start(c: char) -> bool {
    "，。、；：？！）」』”’》〉】…,.;:!?)]}%".contains(c)
}

/// Opening punctuation that must not end a line.
fn no_line_end(c: char) -> bool {
    "（「『“‘《〈【([{".contains(c)
}

/// The glue between two atoms with nothing between them in the text.
fn touching(prev: &Atom, next: &Atom) -> Glue {
    let (Some(a), Some(b)) = (prev.last_char(), next.first_char()) else {
        return Glue::Tight;
    };
    if (is_wide(a) || is_wide(b)) && !no_line_start(b) && !no_line_end(a) {
        Glue::Zero
    } else {
        Glue::Tight
    }
}

// ---------------------------------------------------------------------------------------
// Reading text into atoms
// ---------------------------------------------------------------------------------------

fn parse(text: &str, style: Style) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let pairs = matching_brackets(&chars);
    let mut pos = 0;
    let pieces = parse_seq(&chars, &pairs, &mut pos, chars.len());
    if style == Style::Prose {
        flatten_prose_groups(pieces)
    } else {
        pieces
    }
}

/// For each opening bracket, the index of its closing one (literals skipped); unmatched
/// brackets are plain characters.
fn matching_brackets(chars: &[char]) -> Vec<Option<usize>> {
    let mut pairs = vec![None; chars.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some(end) = whole_literal_end(chars, i) {
            i = end;
            continue;
        }
        match chars[i] {
            '(' | '[' | '{' => stack.push(i),
            c @ (')' | ']' | '}') => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if let Some(&open) = stack.last() {
                    if chars[open] == want {
                        stack.pop();
                        pairs[open] = Some(i);
                    } else {
                        // Mismatched: give up on everything open so far.
                        stack.clear();
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    pairs
}

/// Where a literal starting at `i` ends (one past its closing quote), if one starts there: a
/// quote (or backtick) that does not follow a letter or digit, with an optional Python
/// prefix (`b`, `rb` ...) before it, closed on the same line. An apostrophe inside a word
/// (`don't`, `client's`) starts none.
fn literal_end(chars: &[char], i: usize) -> Option<usize> {
    let mut q = i;
    while q < chars.len() && q - i < 2 && "bBrRfFuU".contains(chars[q]) {
        q += 1;
    }
    let quote = *chars.get(q)?;
    if !matches!(quote, '\'' | '"' | '`') {
        return None;
    }
    if quote == '`' && q != i {
        return None;
    }
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = q + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' if quote != '`' => j += 2,
            c if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

fn parse_seq(chars: &[char], pairs: &[Option<usize>], pos: &mut usize, end: usize) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut spaced = false;
    let mut word = String::new();
    let push = |pieces: &mut Vec<Piece>, atom: Atom, spaced: &mut bool| {
        let glue = match pieces.last() {
            None => Glue::Tight,
            Some(_) if *spaced => Glue::Space,
            Some(prev) => touching(&prev.atom, &atom),
        };
        *spaced = false;
        pieces.push(Piece { glue, atom });
    };
    while *pos < end {
        let i = *pos;
        let c = chars[i];
        if c == ' ' {
            if !word.is_empty() {
                push(
                    &mut pieces,
                    Atom::Word(std::mem::take(&mut word)),
                    &mut spaced,
                );
            }
            spaced = true;
            *pos += 1;
        } else if let Some(stop) =
            literal_end(chars, i).filter(|&stop| long_code_span(chars, i, stop))
        {
            // A long `code span` flows like words: its backticks stick to its first and last
            // atoms, and what is inside breaks as the text around it does.
            if !word.is_empty() {
                push(
                    &mut pieces,
                    Atom::Word(std::mem::take(&mut word)),
                    &mut spaced,
                );
            }
            push(&mut pieces, Atom::Word("`".to_string()), &mut spaced);
            *pos = i + 1;
            let mut inner = parse_seq(chars, pairs, pos, stop - 1);
            if let Some(first) = inner.first_mut() {
                first.glue = Glue::Tight;
            }
            pieces.extend(inner);
            pieces.push(Piece {
                glue: Glue::Tight,
                atom: Atom::Word("`".to_string()),
            });
            *pos = stop;
        } else if let Some(stop) = whole_literal_end(chars, i) {
            if !word.is_empty() {
                push(
                    &mut pieces,
                    Atom::Word(std::mem::take(&mut word)),
                    &mut spaced,
                );
            }
            let text: String = chars[i..stop].iter().collect();
            let open = text.find(['\'', '"', '`']).unwrap_or(0);
            let quote = text[open..].chars().next().unwrap_or('\'');
            let body = text[open + quote.len_utf8()..text.len() - quote.len_utf8()].to_string();
            let atom = Atom::Literal {
                prefix: text[..open].to_string(),
                quote,
                body,
            };
            push(&mut pieces, atom, &mut spaced);
            *pos = stop;
        } else if let Some(close) = pairs[i] {
            if !word.is_empty() {
                push(
                    &mut pieces,
                    Atom::Word(std::mem::take(&mut word)),
                    &mut spaced,
                );
            }
            *pos = i + 1;
            let items = parse_seq(chars, pairs, pos, close);
            *pos = close + 1;
            let atom = Atom::Group {
                open: c,
                items,
                close: chars[close],
            };
            push(&mut pieces, atom, &mut spaced);
        } else if is_wide(c) {
            if !word.is_empty() {
                push(
                    &mut pieces,
                    Atom::Word(std::mem::take(&mut word)),
                    &mut spaced,
                );
            }
            push(&mut pieces, Atom::Word(c.to_string()), &mut spaced);
            *pos += 1;
        } else {
            word.push(c);
            *pos += 1;
        }
    }
    if !word.is_empty() {
        push(&mut pieces, Atom::Word(word), &mut spaced);
    }
    pieces
}

/// Where a literal kept whole that starts at `i` ends: a Python literal, or a `code span`
/// that is not too long.
fn whole_literal_end(chars: &[char], i: usize) -> Option<usize> {
    literal_end(chars, i).filter(|&stop| !long_code_span(chars, i, stop))
}

/// The widest `code span` kept whole; a longer one (a whole exception line in backticks)
/// flows like the words around it.
const LONGEST_WHOLE_CODE_SPAN: usize = 30;

fn long_code_span(chars: &[char], start: usize, stop: usize) -> bool {
    chars[start] == '`'
        && chars[start..stop].iter().collect::<String>().width() > LONGEST_WHOLE_CODE_SPAN
}

/// A group holds code when every space directly inside it follows a comma or a colon or
/// stands next to `...` (`('127.0.0.1', PORT)`, `{'md5': '...'}`); a group with words
/// between its spaces is a remark in prose, `(the kernel chose port PORT)`.
fn is_code_group(items: &[Piece]) -> bool {
    items.iter().enumerate().all(|(k, piece)| {
        if piece.glue != Glue::Space {
            return !matches!(&piece.atom, Atom::Word(w) if w.chars().any(is_wide));
        }
        let prev = items[k - 1].atom.flat();
        let here = piece.atom.flat();
        prev.ends_with(',') || prev.ends_with(':') || prev == "..." || here == "..."
    })
}

/// In prose, a remark in brackets flows with the sentence: its brackets become characters
/// of the words beside them. Code groups stay whole atoms.
fn flatten_prose_groups(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for piece in pieces {
        match piece.atom {
            Atom::Group { open, items, close } if !is_code_group(&items) || items.is_empty() => {
                let mut inner = flatten_prose_groups(items);
                let open_atom = Atom::Word(open.to_string());
                let glue = if out.is_empty() {
                    Glue::Tight
                } else {
                    piece.glue
                };
                out.push(Piece {
                    glue,
                    atom: open_atom,
                });
                if let Some(first) = inner.first_mut() {
                    first.glue = Glue::Tight;
                }
                out.extend(inner);
                out.push(Piece {
                    glue: Glue::Tight,
                    atom: Atom::Word(close.to_string()),
                });
            }
            atom => out.push(Piece {
                glue: piece.glue,
                atom,
            }),
        }
    }
    // A bracket glued to a word is part of that word's unit: merge tight neighbours'
    // glue rules by recomputing the glue of touching atoms.
    for k in 1..out.len() {
        if out[k].glue != Glue::Space {
            out[k].glue = touching(&out[k - 1].atom, &out[k].atom);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Laying atoms out
// ---------------------------------------------------------------------------------------

/// The lines being written.
struct Out {
    lines: Vec<String>,
    line: String,
    col: usize,
    width: usize,
    /// Nothing but indentation on the current line yet.
    fresh: bool,
}

impl Out {
    fn new(first: usize, width: usize) -> Out {
        Out {
            lines: Vec::new(),
            line: String::new(),
            col: first,
            width,
            fresh: true,
        }
    }

    fn newline(&mut self, indent: usize) {
        let line = std::mem::replace(&mut self.line, " ".repeat(indent));
        self.lines.push(line.trim_end().to_string());
        self.col = indent;
        self.fresh = true;
    }

    fn put(&mut self, text: &str) {
        self.line.push_str(text);
        self.col += columns(text);
        self.fresh = false;
    }

    fn room(&self) -> usize {
        self.width.saturating_sub(self.col)
    }

    fn finish(mut self) -> Vec<String> {
        let last = self.line.trim_end().to_string();
        self.lines.push(last);
        self.lines
    }
}

/// Where a sequence of atoms is being laid out.
#[derive(Clone, Copy)]
struct Ctx {
    /// Column of continuation lines.
    indent: usize,
    /// Inside the brackets of code: breaks only after a comma or beside `...`.
    code_group: bool,
    /// A Python line outside brackets: no break at all.
    no_breaks: bool,
}

impl Ctx {
    fn breaks_at(&self, prev: &Atom, piece: &Piece) -> bool {
        match piece.glue {
            Glue::Tight => false,
            _ if self.no_breaks => false,
            Glue::Zero => true,
            Glue::Space if self.code_group => {
                let prev = prev.flat();
                let here = piece.atom.flat();
                prev.ends_with(',') || prev == "..." || here == "..."
            }
            Glue::Space => !piece
                .atom
                .first_char()
                .is_some_and(|c| is_wide(c) && no_line_start(c)),
        }
    }
}

/// Lays out `pieces` as units between the places a line may break; `reserve` columns after
/// the last unit are taken by what follows it on the same line (a closing bracket).
fn fill(pieces: &[Piece], ctx: Ctx, reserve: usize, out: &mut Out) {
    let mut units: Vec<&[Piece]> = Vec::new();
    let mut start = 0;
    for k in 1..pieces.len() {
        if ctx.breaks_at(&pieces[k - 1].atom, &pieces[k]) {
            units.push(&pieces[start..k]);
            start = k;
        }
    }
    if start < pieces.len() {
        units.push(&pieces[start..]);
    }
    let count = units.len();
    for (n, unit) in units.into_iter().enumerate() {
        let extra = if n + 1 == count { reserve } else { 0 };
        let gap = usize::from(n > 0 && unit[0].glue == Glue::Space);
        let w = columns(&flat_unit(unit)) + extra;
        if n == 0 || out.fresh {
            place(unit, ctx, extra, out);
        } else if out.col + gap + w <= out.width {
            out.put(&" ".repeat(gap));
            place(unit, ctx, extra, out);
        } else {
            out.newline(ctx.indent);
            place(unit, ctx, extra, out);
        }
    }
}

/// A unit's text, without the glue before its first atom.
fn flat_unit(unit: &[Piece]) -> String {
    let mut s = String::new();
    for (i, piece) in unit.iter().enumerate() {
        if i > 0 && piece.glue == Glue::Space {
            s.push(' ');
        }
        s.push_str(&piece.atom.flat());
    }
    s
}

/// Writes one unit: flat where it fits, else breaking inside its brackets or literals.
fn place(unit: &[Piece], ctx: Ctx, reserve: usize, out: &mut Out) {
    for (i, piece) in unit.iter().enumerate() {
        if i > 0 && piece.glue == Glue::Space {
            out.put(" ");
        }
        let tail = tight_tail(&unit[i + 1..], reserve);
        let atom = &piece.atom;
        if out.col + atom.width() + tail <= out.width {
            out.put(&atom.flat());
            continue;
        }
        match atom {
            Atom::Group { open, items, close } => place_group(*open, items, *close, ctx, tail, out),
            Atom::Literal {
                prefix,
                quote,
                body,
            } => place_literal(prefix, *quote, body, ctx, out),
            Atom::Word(word) => place_word(word, ctx, out),
        }
    }
}

/// The columns that must stay on the line after an atom: the rest of its unit (which has no
/// place to break), up to the opening bracket of the next group (which can break inside
/// itself), or to the end of the unit and the `reserve` after it.
fn tight_tail(rest: &[Piece], reserve: usize) -> usize {
    let mut tail = 0;
    for piece in rest {
        tail += usize::from(piece.glue == Glue::Space);
        match &piece.atom {
            Atom::Group { .. } => return tail + 1,
            atom => tail += atom.width(),
        }
    }
    tail + reserve
}

/// A group too wide for the rest of its line: its items aligned after the opening bracket,
/// or, when that leaves too little room, on new lines indented four more.
fn place_group(open: char, items: &[Piece], close: char, ctx: Ctx, after: usize, out: &mut Out) {
    out.put(&open.to_string());
    let inner = Ctx {
        indent: out.col,
        code_group: is_code_group(items),
        no_breaks: false,
    };
    let widest = widest_unit(items, inner, 1 + after);
    if out.col + widest <= out.width {
        fill(items, inner, 1 + after, out);
    } else {
        let indent = ctx.indent + 4;
        out.newline(indent);
        fill(items, Ctx { indent, ..inner }, 1 + after, out);
    }
    out.put(&close.to_string());
}

/// The widest unit of `items` (the last one with `reserve` added).
fn widest_unit(items: &[Piece], ctx: Ctx, reserve: usize) -> usize {
    let mut widest = 0;
    let mut start = 0;
    let mut widths = Vec::new();
    for k in 1..items.len() {
        if ctx.breaks_at(&items[k - 1].atom, &items[k]) {
            widths.push(columns(&flat_unit(&items[start..k])));
            start = k;
        }
    }
    if start < items.len() {
        widths.push(columns(&flat_unit(&items[start..])) + reserve);
    }
    for w in widths {
        widest = widest.max(w);
    }
    widest
}

/// A literal too wide for its line: cut into adjacent literals, each on its own line, which
/// Python reads as one (`b'abc' b'def'`). Escapes stay whole.
fn place_literal(prefix: &str, quote: char, body: &str, ctx: Ctx, out: &mut Out) {
    let frame = columns(prefix) + 2;
    let pieces = escape_units(body);
    let mut k = 0;
    if out.room() < frame + 8 && !out.fresh {
        out.newline(ctx.indent);
    }
    loop {
        let room = out.room().saturating_sub(frame).max(1);
        let mut chunk = String::new();
        let mut used = 0;
        while k < pieces.len() {
            let w = columns(&pieces[k]);
            if used + w > room && !chunk.is_empty() {
                break;
            }
            chunk.push_str(&pieces[k]);
            used += w;
            k += 1;
        }
        out.put(&format!("{prefix}{quote}{chunk}{quote}"));
        if k >= pieces.len() {
            break;
        }
        out.newline(ctx.indent);
    }
}

/// The characters of a literal's body with each backslash escape kept as one unit.
fn escape_units(body: &str) -> Vec<String> {
    let chars: Vec<char> = body.chars().collect();
    let mut units = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let len = match (chars[i], chars.get(i + 1)) {
            ('\\', Some('x')) => 4,
            ('\\', Some('u')) => 6,
            ('\\', Some('U')) => 10,
            ('\\', Some(_)) => 2,
            _ => 1,
        };
        let end = (i + len).min(chars.len());
        units.push(chars[i..end].iter().collect());
        i = end;
    }
    units
}

/// A word longer than any line (none in the labs): cut where the line ends.
fn place_word(word: &str, ctx: Ctx, out: &mut Out) {
    let mut rest = word.to_string();
    loop {
        if columns(&rest) <= out.room() || out.room() == 0 {
            out.put(&rest);
            return;
        }
        let head = cut(&rest, out.room());
        if head.is_empty() {
            out.put(&rest);
            return;
        }
        rest = rest[head.len()..].to_string();
        out.put(&head);
        out.newline(ctx.indent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prose(text: &str, width: usize) -> Vec<String> {
        lay_out(text, Style::Prose, 0, 0, width)
    }

    #[test]
    fn prose_breaks_at_spaces_and_keeps_literals_and_tuples_whole() {
        let lines = prose("say b'hello world' to ('127.0.0.1', PORT) now please", 24);
        assert_eq!(
            lines,
            ["say b'hello world' to", "('127.0.0.1', PORT) now", "please"]
        );
    }

    #[test]
    fn an_apostrophe_inside_a_word_is_no_literal() {
        let lines = prose("the client's kernel doesn't answer", 12);
        assert_eq!(lines, ["the client's", "kernel", "doesn't", "answer"]);
    }

    #[test]
    fn a_remark_in_brackets_flows_with_the_sentence() {
        let lines = prose("None (the kernel gave this end port CLIENT_PORT_1)", 30);
        assert_eq!(
            lines,
            ["None (the kernel gave this end", "port CLIENT_PORT_1)"]
        );
    }

    #[test]
    fn chinese_breaks_between_characters_by_display_width() {
        let lines = prose("队列已满，服务端的内核把 SYN 丢掉。", 12);
        for line in &lines {
            assert!(columns(line) <= 12, "{line:?}");
        }
        assert_eq!(
            lines.concat().replace(' ', ""),
            "队列已满，服务端的内核把SYN丢掉。"
        );
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        // Width 8 would end the first line after 四; the comma must come along.
        let lines = prose("一二三四，五六七八。", 8);
        assert!(lines
            .iter()
            .all(|l| !l.starts_with('，') && !l.starts_with('。')));
        assert!(lines.iter().all(|l| columns(l) <= 10));
    }

    #[test]
    fn an_english_word_in_chinese_stays_whole() {
        let lines = prose("内核重发SYN给服务端", 10);
        assert!(lines.iter().any(|l| l.contains("SYN")), "{lines:?}");
    }

    #[test]
    fn a_long_call_continues_aligned_inside_its_brackets() {
        let call = "header_dic = {'filename': 'report.txt', 'total_size': len(data), 'md5': hashlib.md5(data).hexdigest()}";
        let lines = lay_out(call, Style::Code, 14, 14, 80);
        assert_eq!(
            lines,
            [
                "header_dic = {'filename': 'report.txt', 'total_size': len(data),",
                "                            'md5': hashlib.md5(data).hexdigest()}",
            ]
        );
    }

    #[test]
    fn a_call_whose_bracket_is_far_right_uses_a_hanging_indent() {
        let call = "open('TMP/received-report.txt', 'wb').write(b'line 01 of report.txt: the receiver checks every' ... b'y byte with MD5\\n')";
        let lines = lay_out(call, Style::Code, 14, 14, 80);
        assert_eq!(
            lines,
            [
                "open('TMP/received-report.txt', 'wb').write(",
                "                  b'line 01 of report.txt: the receiver checks every' ...",
                "                  b'y byte with MD5\\n')",
            ]
        );
    }

    #[test]
    fn a_literal_longer_than_a_line_becomes_adjacent_literals() {
        let body = "\\x00".repeat(30);
        let call = format!("conn.send(b'{body}')");
        let lines = lay_out(&call, Style::Code, 0, 0, 40);
        assert!(
            lines.len() > 1 && lines.iter().all(|l| columns(l) <= 40),
            "{lines:?}"
        );
        assert_eq!(lines[0], "conn.send(");
        // Every other line is one whole literal (escapes never cut); together they are the
        // original bytes, as Python joins adjacent literals.
        let mut joined = String::new();
        for line in &lines[1..] {
            let literal = line.trim().trim_end_matches(')');
            assert!(
                literal.starts_with("b'") && literal.ends_with('\''),
                "{line}"
            );
            joined.push_str(&literal[2..literal.len() - 1]);
        }
        assert_eq!(joined, body);
    }

    #[test]
    fn explicit_line_breaks_are_kept() {
        let lines = lay_out(
            "connect() then fails with\nTimeoutError: x",
            Style::Prose,
            2,
            2,
            80,
        );
        assert_eq!(lines, ["connect() then fails with", "  TimeoutError: x"]);
    }
}
