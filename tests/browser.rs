//! The web page (`--format html`) in a real browser: headless Chromium from the
//! distribution's package, driven over the DevTools protocol (see browser/cdp.rs).
//!
//! For every lab's page: every event of the lab's trace (from `--format json`, a separate
//! run) is drawn, visible and titled with its call; Home hides them all and each press of
//! → or space reveals exactly the next one, its number in the URL's fragment; a reload
//! stays there; ← and End work; the page asked the network for nothing and reported no
//! error. The page of `run --all` has every lab and a table of contents, the page of
//! `run 17 --wire` its packets. A page with one event taken out must fail these checks.
//! Screenshots of labs 01 and 17 are written to target/screenshots/ for a person to look at.
//!
//! Its own `main` (harness = false): without Chromium every test is reported as skipped,
//! unless NETLAB_BROWSER_TEST=required (as .ci/run sets it, after installing Chromium).

#[path = "browser/cdp.rs"]
mod cdp;

mod harness;
use harness::TestResult;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};

use cdp::{Browser, Page};
use serde_json::Value;

const NETLAB: &str = env!("CARGO_BIN_EXE_netlab");

/// One event of a lab's trace, as the JSON lines have it.
#[derive(Debug, Clone)]
struct Expected {
    seq: u64,
    /// The call in Python, for a program's line.
    call: Option<String>,
}

fn netlab(args: &[&str]) -> Output {
    Command::new(NETLAB)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the netlab binary runs")
}

/// `--wire` where the kernel refuses namespaces: netlab's sentence.
fn refused(output: &Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.code() == Some(2) && stderr.starts_with("netlab: --wire needs"))
        .then(|| stderr.trim().to_string())
}

/// The events of a run, from its JSON lines.
fn expected(args: &[&str]) -> Result<Vec<Expected>, String> {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    let output = netlab(&args);
    if !output.status.success() {
        return Err(format!("netlab {args:?}: {}", output.status));
    }
    let mut events = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let record: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        if record["record"] == "event" {
            events.push(Expected {
                seq: record["seq"].as_u64().ok_or("an event without seq")?,
                call: record["call"].as_str().map(String::from),
            });
        }
    }
    Ok(events)
}

/// The page a run makes, written where the browser can read it.
fn page_file(name: &str, args: &[&str]) -> Result<PathBuf, String> {
    let mut args = args.to_vec();
    args.extend(["--format", "html"]);
    let output = netlab(&args);
    if !output.status.success() {
        return Err(format!("netlab {args:?}: {}", output.status));
    }
    write_page(name, &output.stdout)
}

fn write_page(name: &str, html: &[u8]) -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(format!("{name}.html"));
    std::fs::write(&path, html).map_err(|e| e.to_string())?;
    Ok(path)
}

fn url(path: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", path.display())
}

/// What the page's source must not hold: a reference to anything outside it. Its own
/// links are fragments, and its policy forbids every fetch.
fn self_contained(html: &str) -> Result<(), String> {
    if !html.contains(r#"content="default-src 'none';"#) {
        return Err("the page has no policy that forbids fetching".into());
    }
    for attribute in ["src=\"", "href=\"", "url(", "@import", "xlink:href"] {
        for (at, _) in html.match_indices(attribute) {
            let value = &html[at + attribute.len()..];
            if !value.starts_with('#') {
                let shown: String = html[at..].chars().take(60).collect();
                return Err(format!("the page refers to something outside it: {shown}"));
            }
        }
    }
    if html.contains("http://") || html.contains("https://") {
        return Err("the page holds an http(s) address".into());
    }
    Ok(())
}

/// Every event of the lab drawn in the page's visible language, and nothing else: its
/// group in the SVG, shown, with a size, a mark or arrow where its lane is, its text, and
/// a tooltip with its call.
fn check_drawn(page: &mut Page, lab: &str, events: &[Expected]) -> Result<(), String> {
    let drawn = page.eval(&format!(
        r#"(() => {{
            const lab = document.getElementById({lab:?});
            const lang = document.documentElement.getAttribute("data-lang");
            const block = lab.querySelector('.in-lang[data-lang="' + lang + '"]');
            if (!block || block.getClientRects().length === 0) return null;
            return Array.from(block.querySelectorAll("svg g.ev")).map((g) => {{
                const box = g.getBBox();
                const style = getComputedStyle(g);
                return {{
                    seq: Number(g.getAttribute("data-seq")),
                    shown: style.visibility === "visible" && style.display !== "none",
                    width: box.width,
                    height: box.height,
                    title: (g.querySelector("title") || {{}}).textContent || "",
                    text: Array.from(g.querySelectorAll("text.t")).map((t) => t.textContent).join(" "),
                    mark: g.querySelector(".m, .state, line.pkt") !== null,
                    onLane: g.querySelector(".m, .state") !== null || g.classList.contains("kind-wire"),
                }};
            }});
        }})()"#
    ))?;
    let drawn = drawn.as_array().ok_or("the lab's drawing is not shown")?;
    let seqs: Vec<u64> = drawn.iter().filter_map(|d| d["seq"].as_u64()).collect();
    for event in events {
        let Some(found) = drawn.iter().find(|d| d["seq"] == event.seq) else {
            return Err(format!("{lab}: event {} is not drawn", event.seq));
        };
        let shown = found["shown"] == true
            && found["width"].as_f64().unwrap_or(0.0) > 0.0
            && found["height"].as_f64().unwrap_or(0.0) > 0.0
            && !found["text"].as_str().unwrap_or("").trim().is_empty();
        if !shown {
            return Err(format!("{lab}: event {} is not shown: {found}", event.seq));
        }
        if let Some(call) = &event.call {
            if !found["title"]
                .as_str()
                .unwrap_or("")
                .contains(call.as_str())
            {
                return Err(format!(
                    "{lab}: event {} is not its call {call:?}: {found}",
                    event.seq
                ));
            }
        }
    }
    let expected: BTreeSet<u64> = events.iter().map(|e| e.seq).collect();
    let extra: Vec<&u64> = seqs.iter().filter(|s| !expected.contains(s)).collect();
    if !extra.is_empty() || seqs.len() != expected.len() {
        return Err(format!(
            "{lab}: events drawn that the trace does not have: {extra:?}"
        ));
    }
    Ok(())
}

/// Which events of the lab are shown, and the URL's fragment.
fn state(page: &mut Page, lab: &str) -> Result<(Vec<u64>, String), String> {
    let state = page.eval(&format!(
        r#"(() => {{
            const lab = document.getElementById({lab:?});
            const lang = document.documentElement.getAttribute("data-lang");
            const block = lab.querySelector('.in-lang[data-lang="' + lang + '"]');
            const shown = Array.from(block.querySelectorAll("svg g.ev"))
                .filter((g) => getComputedStyle(g).visibility === "visible")
                .map((g) => Number(g.getAttribute("data-seq")));
            return {{ shown: shown, hash: location.hash }};
        }})()"#
    ))?;
    let shown = state["shown"]
        .as_array()
        .ok_or("no state")?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    Ok((shown, state["hash"].as_str().unwrap_or("").to_string()))
}

/// Shown events 1..=k and the fragment `#lab/k`.
fn expect_step(page: &mut Page, lab: &str, k: u64, after: &str) -> Result<(), String> {
    let (shown, hash) = state(page, lab)?;
    let wanted: Vec<u64> = (1..=k).collect();
    if shown != wanted {
        return Err(format!(
            "{lab}: after {after}, events {wanted:?} should be shown, not {shown:?}"
        ));
    }
    if hash != format!("#{lab}/{k}") {
        return Err(format!("{lab}: after {after}, the fragment is {hash:?}"));
    }
    Ok(())
}

/// Home, then → or space once per event, each revealing the next event; ← back one;
/// a reload stays; End shows everything.
fn check_stepping(page: &mut Page, lab: &str, total: u64) -> Result<(), String> {
    page.key("Home")?;
    expect_step(page, lab, 0, "Home")?;
    for k in 1..=total {
        let key = if k % 2 == 0 { " " } else { "ArrowRight" };
        page.key(key)?;
        expect_step(page, lab, k, &format!("{k} steps"))?;
    }
    page.key("ArrowLeft")?;
    expect_step(page, lab, total - 1, "←")?;
    page.key("Home")?;
    for _ in 0..3.min(total) {
        page.key("ArrowRight")?;
    }
    page.reload()?;
    expect_step(page, lab, 3.min(total), "a reload at 3")?;
    page.key("End")?;
    expect_step(page, lab, total, "End")
}

fn check_clean(page: &Page, path: &Path) -> Result<(), String> {
    let errors = page.errors();
    if !errors.is_empty() {
        return Err(format!("console errors: {}", errors.join("; ")));
    }
    let own = url(path, "");
    let elsewhere: Vec<String> = page
        .requests()
        .into_iter()
        .filter(|request| !request.starts_with(&own))
        .collect();
    if !elsewhere.is_empty() {
        return Err(format!("the page asked for {elsewhere:?}"));
    }
    Ok(())
}

/// The whole check of one lab's page: drawn, stepped, clean.
fn check_lab_page(
    browser: &mut Browser,
    path: &Path,
    lab: &str,
    events: &[Expected],
    screenshot: Option<(&str, &str)>,
) -> Result<(), String> {
    let html = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    self_contained(&html)?;
    if let Some((name, fragment)) = screenshot {
        let mut page = Page::open(browser, &url(path, fragment), 1600, 1000)?;
        let shot = page.screenshot(&screenshots().join(format!("{name}.png")));
        let clean = check_clean(&page, path);
        page.close()?;
        shot.and(clean)?;
    }
    let mut page = Page::open(browser, &url(path, ""), 1600, 1000)?;
    let outcome = (|| {
        check_drawn(&mut page, lab, events)?;
        check_stepping(&mut page, lab, events.len() as u64)?;
        check_clean(&page, path)
    })();
    page.close()?;
    outcome
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn lab_ids() -> Vec<String> {
    netlab::lab::all()
        .iter()
        .map(|lab| lab.id.to_string())
        .collect()
}

fn lab_page(browser: &mut Browser, id: &str) -> TestResult {
    let path = page_file(id, &["run", id])?;
    let events = expected(&["run", id])?;
    let screenshot = match id {
        "01-phone-call" => Some(("ladder-01-phone-call", "#01-phone-call/15")),
        "17-handshake-and-close" => Some(("ladder-17-handshake-and-close", "")),
        _ => None,
    };
    check_lab_page(browser, &path, id, &events, screenshot)?;
    Ok(None)
}

/// `run 17 --wire --format html`: the packets are events of the page, each an arrow.
fn wire_page(browser: &mut Browser) -> TestResult {
    let output = netlab(&["run", "17", "--wire", "--format", "html"]);
    if let Some(reason) = refused(&output) {
        return Ok(Some(reason));
    }
    if !output.status.success() {
        return Err(format!(
            "netlab run 17 --wire --format html: {}",
            output.status
        ));
    }
    let path = write_page("17-wire", &output.stdout)?;
    let events = expected(&["run", "17", "--wire"])?;
    let lab = "17-handshake-and-close";
    check_lab_page(
        browser,
        &path,
        lab,
        &events,
        Some((
            "ladder-17-handshake-and-close-wire",
            "#17-handshake-and-close/20",
        )),
    )?;
    let mut page = Page::open(browser, &url(&path, ""), 1600, 1000)?;
    let arrows = page.eval(
        r#"document.querySelectorAll('.in-lang[data-lang="en"] g.kind-wire line.pkt').length"#,
    );
    page.close()?;
    match arrows?.as_u64() {
        Some(n) if n >= 20 => Ok(None),
        n => Err(format!("only {n:?} packet arrows")),
    }
}

/// `run --all --format html`: one page, every lab in it with all its events, and a table
/// of contents that links to each.
fn all_page(browser: &mut Browser) -> TestResult {
    let path = page_file("all", &["run", "--all"])?;
    let html = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    self_contained(&html)?;
    let mut page = Page::open(browser, &url(&path, ""), 1600, 1000)?;
    let outcome = (|| {
        for id in lab_ids() {
            let events = expected(&["run", &id])?;
            check_drawn(&mut page, &id, &events)?;
            let linked = page.eval(&format!(
                r##"document.querySelector('nav.toc a[href="#{id}"]') !== null"##
            ))?;
            if linked != true {
                return Err(format!("no link to {id} in the table of contents"));
            }
        }
        check_clean(&page, &path)
    })();
    page.close()?;
    outcome?;
    // Stepping goes on from the end of one lab to the start of the next.
    let first = &lab_ids()[0];
    let second = &lab_ids()[1];
    let total = expected(&["run", first])?.len();
    let mut page = Page::open(
        browser,
        &url(&path, &format!("#{first}/{total}")),
        1600,
        1000,
    )?;
    let outcome = (|| {
        page.key("ArrowRight")?;
        expect_step(&mut page, second, 0, "→ at the end of the first lab")?;
        check_clean(&page, &path)
    })();
    page.close()?;
    outcome.map(|()| None)
}

/// The checks notice a missing event: lab 07's page with its recv of b'helloworld' taken
/// out (in both languages) must fail them, naming that event.
fn a_missing_event_fails(browser: &mut Browser) -> TestResult {
    let lab = "07-sticky-packet";
    let events = expected(&["run", lab])?;
    let html = String::from_utf8(netlab(&["run", lab, "--format", "html"]).stdout)
        .map_err(|e| e.to_string())?;
    let removed = 10;
    let cut = without_event(&html, removed);
    if cut == html {
        return Err("event 10 was not found in the page to take out".into());
    }
    let path = write_page("07-missing-event", cut.as_bytes())?;
    match check_lab_page(browser, &path, lab, &events, None) {
        Err(why) if why.contains(&format!("event {removed} is not drawn")) => Ok(None),
        Err(why) => Err(format!(
            "the checks failed, but not for the missing event: {why}"
        )),
        Ok(()) => Err("a page without event 10 passed the checks".into()),
    }
}

/// The checks notice a page whose script throws, and keys that do nothing.
fn a_broken_page_fails(browser: &mut Browser) -> TestResult {
    let lab = "01-phone-call";
    let events = expected(&["run", lab])?;
    let html = String::from_utf8(netlab(&["run", lab, "--format", "html"]).stdout)
        .map_err(|e| e.to_string())?;
    let throwing = html.replacen(
        "</body>",
        "<script>window.nothing.here();</script></body>",
        1,
    );
    let deaf = html.replacen(
        r#"document.addEventListener("keydown""#,
        r#"document.addEventListener("keydown-never""#,
        1,
    );
    if throwing == html || deaf == html {
        return Err("the page could not be broken for this test".into());
    }
    for (name, page, symptom) in [
        ("01-throwing", throwing, "console errors"),
        ("01-deaf", deaf, "after Home"),
    ] {
        let path = write_page(name, page.as_bytes())?;
        match check_lab_page(browser, &path, lab, &events, None) {
            Err(why) if why.contains(symptom) => {}
            Err(why) => return Err(format!("{name}: failed, but not with {symptom:?}: {why}")),
            Ok(()) => return Err(format!("{name}: a broken page passed the checks")),
        }
    }
    Ok(None)
}

/// The page without the drawing of one event (every `g.ev` of that number, with what it
/// holds).
fn without_event(html: &str, seq: u64) -> String {
    let mut out = String::new();
    let mut rest = html;
    let start_tag = format!(r#"" data-seq="{seq}" data-section="#);
    while let Some(at) = rest.find(&start_tag) {
        let Some(open) = rest[..at].rfind("<g class=\"ev ") else {
            break;
        };
        let mut depth = 0;
        let mut end = open;
        let mut i = open;
        while i < rest.len() {
            if rest[i..].starts_with("<g") {
                depth += 1;
            } else if rest[i..].starts_with("</g>") {
                depth -= 1;
                if depth == 0 {
                    end = i + "</g>".len();
                    break;
                }
            }
            i += 1;
        }
        out.push_str(&rest[..open]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NETLAB_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn main() -> ExitCode {
    let filters = harness::filters();
    let mut names: Vec<String> = lab_ids().iter().map(|id| format!("page_{id}")).collect();
    names.extend(
        [
            "page_17_wire",
            "page_all",
            "a_missing_event_fails",
            "a_broken_page_fails",
        ]
        .map(String::from),
    );
    names.retain(|name| harness::selected(&filters, name));
    let required = std::env::var("NETLAB_BROWSER_TEST").is_ok_and(|v| v == "required");
    let Some(chromium) = find_chromium() else {
        let reason =
            "chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)";
        let outcome = || {
            if required {
                Err(reason.to_string())
            } else {
                Ok(Some(reason.to_string()))
            }
        };
        return harness::report(names.into_iter().map(|name| (name, outcome())));
    };
    let mut browser = match Browser::launch(&chromium) {
        Ok(browser) => browser,
        Err(why) => return harness::report([("browser".to_string(), Err(why))]),
    };
    let results: Vec<(String, TestResult)> = names
        .into_iter()
        .map(|name| {
            let result = match name.as_str() {
                "page_17_wire" => wire_page(&mut browser),
                "page_all" => all_page(&mut browser),
                "a_missing_event_fails" => a_missing_event_fails(&mut browser),
                "a_broken_page_fails" => a_broken_page_fails(&mut browser),
                page => lab_page(&mut browser, page.trim_start_matches("page_")),
            };
            (name, result)
        })
        .collect();
    let code = harness::report(results);
    println!("screenshots: {}", screenshots().display());
    code
}
