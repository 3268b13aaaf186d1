//! `--format html`: one self-contained web page for a projector, the ladder diagram drawn as
//! SVG with the notes beside it.
//!
//! Nothing in it comes from the network: the style, the script and the drawing are inline,
//! and a Content-Security-Policy forbids the browser to fetch anything at all. Both
//! languages are in the page (the one asked for first); a switch shows the other. Keys step
//! through the events (space or → next, ← back, Home, End), the event's number is kept in
//! the URL's fragment (`#07-sticky-packet/10`) so a reload stays where it was, and a click
//! on a line goes there. `run --all` makes one page with a table of contents.
//!
//! Every text that goes into the page is escaped: a lab's data is arbitrary bytes.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::rc::Rc;

use super::diagram::Diagram;
use super::{LabEnd, Sink};
use crate::event::{Event, Lang, Text};
use crate::phrases::{self, page as words};

mod svg;

const STYLE: &str = include_str!("html/page.css");
const SCRIPT: &str = include_str!("html/page.js");

/// What the page shows of one lab's run.
#[derive(Debug, Clone)]
struct LabRun {
    id: String,
    title: Text,
    /// `--step` or `--pace N` when the run was live.
    paced: Option<String>,
    events: Vec<Event>,
    end: Option<LabEnd>,
}

/// Labs collected for one page: `run --all --format html` gives every lab a sink of the
/// same book, and writes the page once they have all run.
#[derive(Clone)]
pub struct HtmlBook {
    lang: Lang,
    labs: Rc<RefCell<Vec<LabRun>>>,
}

impl HtmlBook {
    pub fn new(lang: Lang) -> HtmlBook {
        HtmlBook {
            lang,
            labs: Rc::default(),
        }
    }

    /// A sink that adds the next lab it is given to this book.
    pub fn sink(&self) -> Box<dyn Sink> {
        Box::new(Collector(self.labs.clone()))
    }

    /// The page of every lab collected so far.
    pub fn page(&self) -> String {
        page(self.lang, &self.labs.borrow())
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self.page().as_bytes())?;
        out.flush()
    }
}

/// Adds each lab it is given to a book.
struct Collector(Rc<RefCell<Vec<LabRun>>>);

impl Sink for Collector {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        self.0.borrow_mut().push(LabRun {
            id: id.to_string(),
            title: title.clone(),
            paced: None,
            events: Vec::new(),
            end: None,
        });
        Ok(())
    }

    fn live(&mut self, flag: &str) -> io::Result<()> {
        if let Some(lab) = self.0.borrow_mut().last_mut() {
            lab.paced = Some(flag.to_string());
        }
        Ok(())
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        if let Some(lab) = self.0.borrow_mut().last_mut() {
            lab.events.push(event.clone());
        }
        Ok(())
    }

    fn lab_end(&mut self, end: &LabEnd) -> io::Result<()> {
        if let Some(lab) = self.0.borrow_mut().last_mut() {
            lab.end = Some(end.clone());
        }
        Ok(())
    }
}

/// One lab, one page, written when the lab ends.
pub struct HtmlRenderer<W: Write> {
    out: W,
    book: HtmlBook,
    collector: Collector,
}

impl<W: Write> HtmlRenderer<W> {
    pub fn new(out: W, lang: Lang) -> Self {
        let book = HtmlBook::new(lang);
        let collector = Collector(book.labs.clone());
        HtmlRenderer {
            out,
            book,
            collector,
        }
    }
}

impl<W: Write> Sink for HtmlRenderer<W> {
    fn lab_start(&mut self, id: &str, title: &Text) -> io::Result<()> {
        self.book.labs.borrow_mut().clear();
        self.collector.lab_start(id, title)
    }

    fn live(&mut self, flag: &str) -> io::Result<()> {
        self.collector.live(flag)
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.collector.event(event)
    }

    fn lab_end(&mut self, end: &LabEnd) -> io::Result<()> {
        self.collector.lab_end(end)?;
        self.book.write(&mut self.out)
    }
}

/// Text made safe for HTML and SVG, in element content and in quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no place in HTML text: show what they are.
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The languages in the order the page holds them: the one asked for first.
fn languages(lang: Lang) -> [Lang; 2] {
    match lang {
        Lang::En => [Lang::En, Lang::Zh],
        Lang::Zh => [Lang::Zh, Lang::En],
    }
}

/// The same words in both languages, each shown only while its language is.
fn both(text: &Text, lang: Lang) -> String {
    languages(lang)
        .iter()
        .map(|&l| {
            format!(
                r#"<span class="l" data-lang="{}">{}</span>"#,
                l.code(),
                escape(text.get(l))
            )
        })
        .collect()
}

fn page(lang: Lang, labs: &[LabRun]) -> String {
    let mut html = String::new();
    let title = match labs {
        [lab] => format!("netlab {}: {}", lab.id, lab.title.get(lang)),
        _ => "netlab".to_string(),
    };
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="{code}" data-lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="netlab {version}">
<title>{title}</title>
<style>
{STYLE}</style>
</head>
<body>
<svg class="defs" width="0" height="0" aria-hidden="true"><defs>{markers}</defs></svg>
<header class="bar">
<span class="brand">netlab</span>
<span class="keys">{keys}</span>
<span class="controls">
<button type="button" data-act="back" title="{back}">&#8592;</button>
<span class="pos" aria-live="polite"></span>
<button type="button" data-act="next" title="{next}">&#8594;</button>
<button type="button" data-act="lang" title="{switch}">{other}</button>
<button type="button" data-act="theme" title="{theme}">&#9680;</button>
</span>
</header>
"#,
        code = lang.code(),
        version = env!("CARGO_PKG_VERSION"),
        title = escape(&title),
        markers = markers(),
        keys = both(&words::KEYS, lang),
        back = escape(words::BACK.get(lang)),
        next = escape(words::NEXT.get(lang)),
        switch = escape(words::SWITCH_LANGUAGE.get(lang)),
        theme = escape(words::THEME.get(lang)),
        other = languages(lang)
            .iter()
            .rev()
            .zip(languages(lang))
            .map(|(&shown_name, showing)| format!(
                r#"<span class="l" data-lang="{}">{}</span>"#,
                showing.code(),
                escape(words::LANGUAGE.get(shown_name))
            ))
            .collect::<String>(),
    );
    if labs.len() > 1 {
        let _ = write!(
            html,
            r#"<nav class="toc"><h2>{}</h2><ol>"#,
            both(&words::CONTENTS, lang)
        );
        for lab in labs {
            let _ = write!(
                html,
                r##"<li><a href="#{id}">{id}</a> {title}</li>"##,
                id = escape(&lab.id),
                title = both(&lab.title, lang)
            );
        }
        html.push_str("</ol></nav>\n");
    }
    html.push_str("<main>\n");
    for lab in labs {
        lab_section(&mut html, lab, lang);
    }
    let _ = write!(
        html,
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    html
}

/// The arrows' heads, shared by every drawing of the page.
fn markers() -> String {
    ["bytes", "datagram", "packet"]
        .iter()
        .map(|kind| {
            format!(
                r#"<marker id="nl-head-{kind}" class="head-{kind}" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="14" markerHeight="14" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker>"#
            )
        })
        .collect()
}

/// One lab: in each language its title, the key to the marks, the drawing and the notes.
fn lab_section(html: &mut String, lab: &LabRun, lang: Lang) {
    let diagram = Diagram::new(&lab.events);
    let count = diagram.rows.len();
    let _ = write!(
        html,
        r#"<section class="lab" id="{id}" data-lab="{id}" data-events="{count}">"#,
        id = escape(&lab.id)
    );
    for l in languages(lang) {
        let drawn = svg::draw(&diagram, l);
        let _ = write!(
            html,
            r#"<div class="in-lang" data-lang="{code}" lang="{code}"><h1><span class="id">netlab {id}</span> {title}</h1>"#,
            code = l.code(),
            id = escape(&lab.id),
            title = escape(lab.title.get(l)),
        );
        if let Some(flag) = &lab.paced {
            let _ = write!(
                html,
                r#"<p class="paced">{}</p>"#,
                escape(phrases::paced_run(flag).get(l))
            );
        }
        html.push_str(&legend(l));
        let _ = write!(
            html,
            r#"<div class="stage"><div class="drawing">{}</div><aside class="notes"><h2>{}</h2><ol>{}</ol><p class="none">{}</p></aside></div>"#,
            drawn.svg,
            escape(words::NOTES.get(l)),
            drawn.notes,
            escape(words::NO_NOTES.get(l)),
        );
        if let Some(end) = &lab.end {
            match &end.stopped {
                Some(reason) => {
                    let _ = write!(
                        html,
                        r#"<p class="stopped">{} {}</p>"#,
                        escape(words::STOPPED.get(l)),
                        escape(reason)
                    );
                }
                None => {
                    html.push_str(r#"<p class="next">"#);
                    for line in phrases::next_steps(end.id, end.next) {
                        let _ = write!(html, "<span>{}</span>", escape(line.get(l)));
                    }
                    html.push_str("</p>");
                }
            }
        }
        html.push_str("</div>");
    }
    html.push_str("</section>\n");
}

/// The key to the marks, each drawn as in the diagram.
fn legend(lang: Lang) -> String {
    let icons = [
        r#"<circle class="m call side-client" cx="12" cy="12" r="7"/>"#,
        r#"<path class="m raised" d="M6,6L18,18M18,6L6,18"/>"#,
        r#"<circle class="m blocked" cx="12" cy="12" r="7"/>"#,
        r#"<rect class="m kernel" x="6" y="6" width="12" height="12" transform="rotate(45 12 12)"/>"#,
        r#"<line class="bytes-line" x1="2" y1="20" x2="16" y2="6" marker-end="url(#nl-head-bytes)"/>"#,
        r#"<line class="pkt" x1="2" y1="12" x2="16" y2="12" marker-end="url(#nl-head-packet)"/>"#,
    ];
    let mut html = String::from(r#"<ul class="legend">"#);
    for (icon, word) in icons.iter().zip(&words::LEGEND) {
        let _ = write!(
            html,
            r#"<li><svg width="24" height="24" viewBox="0 0 24 24" aria-hidden="true">{icon}</svg>{}</li>"#,
            escape(word.get(lang))
        );
    }
    html.push_str("</ul>");
    html
}
