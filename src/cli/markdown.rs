//! A lesson's Markdown as a terminal shows it. pulldown-cmark parses; this module only lays
//! out what it found: headings, paragraphs wrapped to the terminal's width, emphasis, inline
//! code, code blocks, lists, and tables whose columns line up by display width (a Chinese
//! character takes two columns). Styling (colours, bold) is optional, so the layout is the
//! same with NO_COLOR.

use colored::Colorize;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How a piece of inline text looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    bold: bool,
    italic: bool,
    code: bool,
    heading: bool,
}

/// A run of text in one style.
#[derive(Debug, Clone)]
struct Span {
    text: String,
    style: Style,
}

/// Lays out Markdown for a terminal `width` columns wide.
pub fn render(markdown: &str, width: usize, styled: bool) -> String {
    let mut layout = Layout {
        out: String::new(),
        width,
        styled,
        style: Style::default(),
        spans: Vec::new(),
        lists: Vec::new(),
        table: None,
        code: None,
        soft_break: false,
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        layout.event(event);
    }
    layout.out.trim_end().to_string() + "\n"
}

/// A list being laid out: the next item's number (None for bullets).
struct List {
    next: Option<u64>,
}

/// A table being collected: rows of cells, each cell a list of spans.
#[derive(Default)]
struct Table {
    rows: Vec<Vec<Vec<Span>>>,
    header_rows: usize,
    in_header: bool,
}

struct Layout {
    out: String,
    width: usize,
    styled: bool,
    style: Style,
    /// The inline text of the block being read.
    spans: Vec<Span>,
    lists: Vec<List>,
    table: Option<Table>,
    /// The lines of a code block being read.
    code: Option<String>,
    /// A line break in the source: a space, unless it falls between two Chinese characters.
    soft_break: bool,
}

impl Layout {
    fn event(&mut self, event: Event) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code {
                Some(code) => code.push_str(&text),
                None => self.push(&text),
            },
            Event::Code(text) => {
                let outer = self.style;
                self.style.code = true;
                self.push(&text);
                self.style = outer;
            }
            Event::SoftBreak => self.soft_break = true,
            Event::HardBreak => self.push("\n"),
            Event::Rule => {
                let rule = "─".repeat(self.width.min(40));
                self.out.push_str(&format!("{rule}\n\n"));
            }
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag) {
        match tag {
            Tag::Heading { .. } => self.style.heading = true,
            Tag::Emphasis => self.style.italic = true,
            Tag::Strong => self.style.bold = true,
            Tag::CodeBlock(_) => self.code = Some(String::new()),
            Tag::List(first) => {
                self.flush_item();
                self.lists.push(List { next: first });
            }
            Tag::Item => self.flush_item(),
            Tag::Table(_) => self.table = Some(Table::default()),
            Tag::TableHead => {
                if let Some(table) = &mut self.table {
                    table.in_header = true;
                    table.rows.push(Vec::new());
                }
            }
            Tag::TableRow => {
                if let Some(table) = &mut self.table {
                    table.rows.push(Vec::new());
                }
            }
            Tag::TableCell => self.spans.clear(),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) => {
                self.style.heading = false;
                let spans = std::mem::take(&mut self.spans);
                let text = self.paint_spans(&spans);
                self.out.push_str(&format!("{text}\n\n"));
            }
            TagEnd::Emphasis => self.style.italic = false,
            TagEnd::Strong => self.style.bold = false,
            TagEnd::Paragraph if self.lists.is_empty() => {
                let spans = std::mem::take(&mut self.spans);
                self.paragraph(&spans, "", "");
                self.out.push('\n');
            }
            TagEnd::CodeBlock => {
                let code = self.code.take().unwrap_or_default();
                for line in code.lines() {
                    let line = format!("    {line}");
                    let line = if self.styled {
                        line.green().to_string()
                    } else {
                        line
                    };
                    self.out.push_str(line.trim_end());
                    self.out.push('\n');
                }
                self.out.push('\n');
            }
            TagEnd::Item => self.flush_item(),
            TagEnd::List(_) => {
                self.flush_item();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.out.push('\n');
                }
            }
            TagEnd::TableHead => {
                if let Some(table) = &mut self.table {
                    table.in_header = false;
                    table.header_rows = table.rows.len();
                }
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.spans);
                if let Some(row) = self.table.as_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(cell);
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.table(&table);
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, text: &str) {
        if std::mem::take(&mut self.soft_break) {
            let before = self.spans.last().and_then(|s| s.text.chars().last());
            let wide = |c: Option<char>| c.and_then(UnicodeWidthChar::width) == Some(2);
            // Full-width punctuation (，。：) carries its own space.
            let punctuation = before.is_some_and(|c| {
                ('\u{3000}'..='\u{303f}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
            });
            let joined = punctuation || (wide(before) && wide(text.chars().next()));
            if !joined {
                // The space belongs to the text around, never to a code span.
                let style = self.style;
                self.style.code = false;
                self.push(" ");
                self.style = style;
            }
        }
        match self.spans.last_mut() {
            Some(last) if last.style == self.style => last.text.push_str(text),
            _ => self.spans.push(Span {
                text: text.to_string(),
                style: self.style,
            }),
        }
    }

    /// Writes the list item read so far (if any), with its bullet or number.
    fn flush_item(&mut self) {
        if self.spans.iter().all(|s| s.text.trim().is_empty()) {
            self.spans.clear();
            return;
        }
        let depth = self.lists.len().saturating_sub(1);
        let indent = "  ".repeat(depth);
        let marker = match self.lists.last_mut().and_then(|l| l.next.as_mut()) {
            Some(n) => {
                *n += 1;
                format!("{}. ", *n - 1)
            }
            None => "• ".to_string(),
        };
        let first = format!("{indent}{marker}");
        let rest = " ".repeat(first.width());
        let spans = std::mem::take(&mut self.spans);
        self.paragraph(&spans, &first, &rest);
    }

    /// Inline text wrapped to the width: `first` before the first line, `rest` before the
    /// others.
    fn paragraph(&mut self, spans: &[Span], first: &str, rest: &str) {
        let mut lines: Vec<Vec<Span>> = vec![Vec::new()];
        let mut used = first.width();
        for span in spans {
            for piece in pieces(&span.text) {
                if piece == "\n" {
                    lines.push(Vec::new());
                    used = rest.width();
                    continue;
                }
                let width = piece.width();
                let line_empty = lines.last().map_or(true, Vec::is_empty);
                if !line_empty && used + width > self.width && !piece.trim().is_empty() {
                    lines.push(Vec::new());
                    used = rest.width();
                }
                let line = lines.last_mut().expect("there is always a line");
                let piece = if line.is_empty() {
                    piece.trim_start()
                } else {
                    piece
                };
                if piece.is_empty() {
                    continue;
                }
                used += width;
                match line.last_mut() {
                    Some(last) if last.style == span.style => last.text.push_str(piece),
                    _ => line.push(Span {
                        text: piece.to_string(),
                        style: span.style,
                    }),
                }
            }
        }
        for (i, line) in lines.iter().enumerate() {
            let prefix = if i == 0 { first } else { rest };
            let text = self.paint_spans(line);
            self.out.push_str(&format!("{prefix}{}\n", text.trim_end()));
        }
    }

    /// A table, its columns as wide as their widest cell in terminal columns.
    fn table(&mut self, table: &Table) {
        let columns = table.rows.iter().map(Vec::len).max().unwrap_or(0);
        let plain = |cell: &[Span]| cell.iter().map(|s| s.text.as_str()).collect::<String>();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                table
                    .rows
                    .iter()
                    .filter_map(|row| row.get(c))
                    .map(|cell| plain(cell).trim().width())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (r, row) in table.rows.iter().enumerate() {
            let cells: Vec<String> = (0..columns)
                .map(|c| {
                    let cell = row.get(c).map(Vec::as_slice).unwrap_or_default();
                    let text_width = plain(cell).trim().width();
                    let mut spans = cell.to_vec();
                    if let Some(first) = spans.first_mut() {
                        first.text = first.text.trim_start().to_string();
                    }
                    if let Some(last) = spans.last_mut() {
                        last.text = last.text.trim_end().to_string();
                    }
                    let mut shown = self.paint_spans(&spans);
                    if r < table.header_rows && self.styled {
                        shown = shown.bold().to_string();
                    }
                    let fill = " ".repeat(widths[c].saturating_sub(text_width));
                    format!(" {shown}{fill} ")
                })
                .collect();
            self.out.push_str(cells.join("│").trim_end());
            self.out.push('\n');
            if r + 1 == table.header_rows {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
                self.out.push_str(&rule.join("┼"));
                self.out.push('\n');
            }
        }
        self.out.push('\n');
    }

    fn paint_spans(&self, spans: &[Span]) -> String {
        spans.iter().map(|span| self.paint(span)).collect()
    }

    fn paint(&self, span: &Span) -> String {
        if !self.styled {
            return span.text.clone();
        }
        let mut shown = span.text.normal();
        if span.style.code {
            shown = shown.green();
        }
        if span.style.bold {
            shown = shown.bold().yellow();
        }
        if span.style.italic {
            shown = shown.italic();
        }
        if span.style.heading {
            shown = shown.bold().cyan();
        }
        shown.to_string()
    }
}

/// Text cut where a line may break: before each space-separated word (the space goes with
/// the word) and around each wide (Chinese) character.
fn pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous_wide = false;
    for (i, c) in text.char_indices() {
        let wide = c.width() == Some(2);
        let breaks = i > start && (c == ' ' || c == '\n' || wide || previous_wide);
        if breaks {
            pieces.push(&text[start..i]);
            start = i;
        }
        if c == '\n' {
            pieces.push("\n");
            start = i + 1;
        }
        previous_wide = wide;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_marks_go_and_lines_wrap_to_the_width() {
        let shown = render(
            "# Title\n\nSome **bold** and `code` text that is long enough to wrap here.\n\n```python\nx = 1\n```\n\n- one\n- two\n",
            30,
            false,
        );
        assert_eq!(
            shown,
            "Title\n\nSome bold and code text that\nis long enough to wrap here.\n\n    x = 1\n\n• one\n• two\n"
        );
    }

    #[test]
    fn a_line_break_between_chinese_characters_is_no_space() {
        assert_eq!(
            render("内核把数据\n放进队列，\n`recv()`\n取走。\n", 80, false),
            "内核把数据放进队列，recv() 取走。\n"
        );
    }

    #[test]
    fn table_columns_line_up_by_display_width() {
        let shown = render(
            "| a | b |\n|---|---|\n| 买手机 | `x` |\n| ok | yy |\n",
            80,
            false,
        );
        let rows: Vec<&str> = shown.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(rows[0], " a      │ b");
        assert_eq!(rows[1], "────────┼────");
        assert_eq!(rows[2], " 买手机 │ x");
        assert_eq!(rows[3], " ok     │ yy");
    }
}
