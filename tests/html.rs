//! `--format html` without a browser: the page escapes whatever a lab's data holds, is the
//! same bytes on every run, holds both languages with the asked one first, and refers to
//! nothing outside itself. (tests/browser.rs opens the pages in Chromium.)

use netlab::event::{Event, Facts, Kind, Lang, Outcome, Text};
use netlab::lab::{self, Format, Recording};
use netlab::render::LabEnd;
use netlab::trace::TraceOptions;

fn recording(id: &str) -> Recording {
    let lab = lab::find(id).expect("the lab exists");
    lab::record(lab, TraceOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn event(seq: u32, side: &str, call: &str, result: &str, note: &str) -> Event {
    Event {
        seq,
        side: side.to_string(),
        kind: Kind::Call,
        call: Text::same(call),
        outcome: Outcome::Returned(Text::same(result)),
        notes: vec![Text::same(note)],
        section: Some(Text::same("<h1>section</h1>")),
        facts: Facts::default(),
        packets: Vec::new(),
    }
}

/// Markup in a call, a result, a note, a heading, a side's name and a title comes out as
/// text, never as markup.
#[test]
fn everything_from_a_lab_is_escaped() {
    let hostile = Recording {
        id: "99-hostile",
        title: Text::same("</title><script>alert('title')</script>"),
        events: vec![
            event(
                1,
                "client\"><script>alert(1)</script>",
                "phone.send(b'</text><script>alert(2)</script>')",
                "b'&amp;<img src=x onerror=alert(3)>'",
                "a note with <b>markup</b> & an `<svg onload=alert(4)>` code span",
            ),
            event(2, "server", "x = 1", "'\u{7}'", "\u{1b}[31m"),
        ],
        end: LabEnd {
            id: "99-hostile",
            stopped: Some("stopped <because>".into()),
            next: None,
            session: None,
        },
    };
    let page = hostile.render(Format::Html, Lang::En, false);
    for raw in [
        "<script>alert",
        "<img",
        "<b>markup",
        "<svg onload",
        "\u{1b}",
        "\u{7}",
        "<because>",
    ] {
        assert!(!page.contains(raw), "{raw:?} is in the page unescaped");
    }
    for escaped in [
        "&lt;script&gt;alert(&#39;title&#39;)",
        "&lt;/text&gt;&lt;script&gt;alert(2)",
        "&amp;amp;&lt;img src=x onerror=alert(3)&gt;",
        "<code>&lt;svg onload=alert(4)&gt;</code>",
        "client&quot;&gt;&lt;script&gt;",
        "\\u{1b}[31m",
    ] {
        assert!(page.contains(escaped), "{escaped:?} is not in the page");
    }
    // The page's own script is the only script.
    assert_eq!(page.matches("<script>").count(), 1);
}

/// Two runs, two pages: the same bytes.
#[test]
fn the_page_is_the_same_on_every_run() {
    let first = recording("07").render(Format::Html, Lang::En, false);
    let second = recording("07").render(Format::Html, Lang::En, false);
    assert_eq!(first, second);
}

/// Both languages are in the page, the one asked for first and shown.
#[test]
fn both_languages_the_asked_one_first() {
    let run = recording("01");
    for (lang, first, second) in [(Lang::En, "en", "zh"), (Lang::Zh, "zh", "en")] {
        let page = run.render(Format::Html, lang, false);
        assert!(page.contains(&format!(r#"<html lang="{first}" data-lang="{first}">"#)));
        let at = |code: &str| {
            page.find(&format!(r#"<div class="in-lang" data-lang="{code}""#))
                .unwrap_or_else(|| panic!("no {code} block"))
        };
        assert!(at(first) < at(second));
    }
    let page = run.render(Format::Html, Lang::En, false);
    assert!(page.contains("Buy a phone"), "the English notes");
    assert!(page.contains("买"), "the Chinese notes");
}

/// Every lab's page: a policy that forbids fetching, no address outside the page, one event
/// group per event of the trace in each language.
#[test]
fn every_page_is_self_contained_and_has_every_event() {
    for lab in lab::all() {
        let run = lab::record(lab, TraceOptions::default()).unwrap();
        let page = run.render(Format::Html, Lang::En, false);
        assert!(
            page.contains(r#"content="default-src 'none';"#),
            "{}",
            lab.id
        );
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{}",
            lab.id
        );
        for attribute in ["src=\"", "href=\""] {
            for (at, _) in page.match_indices(attribute) {
                assert!(
                    page[at + attribute.len()..].starts_with('#'),
                    "{}: {}",
                    lab.id,
                    &page[at..at + 40]
                );
            }
        }
        let events: usize = run.events.iter().map(|e| 1 + e.packets.len()).sum();
        assert_eq!(
            page.matches(r#"<g class="ev "#).count(),
            2 * events,
            "{}",
            lab.id
        );
    }
}
