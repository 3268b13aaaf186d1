//! The published snapshots (snapshots/*.snap, embedded at build time) and the comparison
//! behind `netlab verify`.

use crate::event::Lang;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/snapshots.rs"));
}

/// The snapshot file stem of a lab in a language: `07-sticky-packet`, `07-sticky-packet.zh`.
pub fn stem(lab_id: &str, lang: Lang) -> String {
    match lang {
        Lang::En => lab_id.to_string(),
        Lang::Zh => format!("{lab_id}.zh"),
    }
}

/// The stem of a lab's snapshot with `--wire` (packets included): `07-sticky-packet.wire`,
/// `07-sticky-packet.wire.zh`.
pub fn wire_stem(lab_id: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{lab_id}.wire"),
        Lang::Zh => format!("{lab_id}.wire.zh"),
    }
}

/// The body of a published snapshot (what `netlab run` prints), without insta's header.
pub fn published(lab_id: &str, lang: Lang) -> Option<String> {
    published_stem(&stem(lab_id, lang))
}

/// The body of the published snapshot with this stem, without insta's header.
pub fn published_stem(wanted: &str) -> Option<String> {
    embedded::SNAPSHOTS
        .iter()
        .find(|(stem, _)| *stem == wanted)
        .map(|(_, contents)| body(contents))
}

/// insta's file is `---` header lines `---` then the body; the body ends with one newline.
pub fn body(contents: &str) -> String {
    let mut parts = contents.splitn(3, "---\n");
    let (_, _, rest) = (parts.next(), parts.next(), parts.next());
    let text = rest.unwrap_or(contents).trim_end_matches('\n');
    format!("{text}\n")
}

/// The first line where two traces differ: (line number, expected, actual).
pub fn first_difference(expected: &str, actual: &str) -> Option<(usize, String, String)> {
    let mut exp = expected.lines();
    let mut act = actual.lines();
    for line in 1.. {
        match (exp.next(), act.next()) {
            (None, None) => return None,
            (e, a) if e == a => continue,
            (e, a) => {
                let show = |s: Option<&str>| {
                    s.map(str::to_string)
                        .unwrap_or_else(|| "<end of trace>".into())
                };
                return Some((line, show(e), show(a)));
            }
        }
    }
    None
}
