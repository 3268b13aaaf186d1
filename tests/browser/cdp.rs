//! A small client of the Chrome DevTools Protocol over `--remote-debugging-pipe`: Chromium
//! reads commands from its fd 3 and writes answers and events to its fd 4, each message JSON
//! ended by a NUL byte. A shell maps the child's stdin and stdout onto those fds, so no
//! crate and no unsafe code is needed. Every wait is bounded.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The longest any one answer or event is waited for.
const PATIENCE: Duration = Duration::from_secs(30);

/// The flags that work in a sandbox without a display, GPU, network or user namespaces.
pub const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-device-scale-factor=1",
];

/// A Chromium this test started, and what it said.
pub struct Browser {
    child: Child,
    input: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    /// Every event received so far (console messages, exceptions, requests, loads).
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch(program: &Path) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(program)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--remote-debugging-pipe")
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let input = child.stdin.take().ok_or("no pipe to chromium")?;
        let mut output = child.stdout.take().ok_or("no pipe from chromium")?;
        let (sender, messages) = mpsc::channel();
        std::thread::Builder::new()
            .name("cdp-reader".into())
            .spawn(move || {
                let mut pending = Vec::new();
                let mut chunk = [0u8; 1 << 16];
                while let Ok(n) = output.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    pending.extend_from_slice(&chunk[..n]);
                    while let Some(end) = pending.iter().position(|&b| b == 0) {
                        let message: Vec<u8> = pending.drain(..=end).collect();
                        if let Ok(value) = serde_json::from_slice(&message[..end]) {
                            if sender.send(value).is_err() {
                                return;
                            }
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(Browser {
            child,
            input,
            messages,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        })
    }

    fn receive(&mut self, deadline: Instant) -> Result<Value, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(message) => Ok(message),
            Err(RecvTimeoutError::Timeout) => Err("chromium did not answer in time".into()),
            Err(RecvTimeoutError::Disconnected) => Err("chromium went away".into()),
        }
    }

    /// Sends a command (to a page's session, or to the browser) and waits for its answer.
    pub fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).map_err(|e| e.to_string())?;
        bytes.push(0);
        self.input
            .write_all(&bytes)
            .and_then(|()| self.input.flush())
            .map_err(|e| format!("cannot talk to chromium: {e}"))?;
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self.receive(deadline)?;
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    return Err(format!("{method}: {error}"));
                }
                return Ok(message["result"].clone());
            }
            self.events.push(message);
        }
    }

    /// Waits for an event of a session (one that came already counts).
    pub fn wait_event(&mut self, session: &str, method: &str, since: usize) -> Result<(), String> {
        let seen = |event: &Value| event["method"] == method && event["sessionId"] == session;
        if self.events[since..].iter().any(seen) {
            return Ok(());
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let message = self
                .receive(deadline)
                .map_err(|e| format!("{method}: {e}"))?;
            let found = seen(&message);
            self.events.push(message);
            if found {
                return Ok(());
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call(None, "Browser.close", json!({}));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab.
pub struct Page<'a> {
    browser: &'a mut Browser,
    session: String,
    target: String,
    /// Where this tab's events start in the browser's list.
    first_event: usize,
}

impl<'a> Page<'a> {
    /// A new tab, `width` by `height`, that has loaded `url`.
    pub fn open(
        browser: &'a mut Browser,
        url: &str,
        width: u32,
        height: u32,
    ) -> Result<Page<'a>, String> {
        let first_event = browser.events.len();
        let target = browser.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let target = target["targetId"]
            .as_str()
            .ok_or("no target id")?
            .to_string();
        let attached = browser.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target, "flatten": true }),
        )?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or("no session id")?
            .to_string();
        let mut page = Page {
            browser,
            session,
            target,
            first_event,
        };
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            page.call(domain, json!({}))?;
        }
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        page.call(
            "Emulation.setFocusEmulationEnabled",
            json!({ "enabled": true }),
        )?;
        let since = page.browser.events.len();
        page.call("Page.navigate", json!({ "url": url }))?;
        page.browser
            .wait_event(&page.session, "Page.loadEventFired", since)?;
        Ok(page)
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let session = self.session.clone();
        self.browser.call(Some(&session), method, params)
    }

    pub fn reload(&mut self) -> Result<(), String> {
        let since = self.browser.events.len();
        self.call("Page.reload", json!({}))?;
        self.browser
            .wait_event(&self.session, "Page.loadEventFired", since)
    }

    /// The value of a JavaScript expression, which must not throw.
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        )?;
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(format!("the test's script threw: {exception}"));
        }
        Ok(result["result"]["value"].clone())
    }

    /// A key pressed and released, as the keyboard sends it.
    pub fn key(&mut self, key: &str) -> Result<(), String> {
        let (code, keycode, text) = match key {
            " " => ("Space", 32, Some(" ")),
            "ArrowRight" => ("ArrowRight", 39, None),
            "ArrowLeft" => ("ArrowLeft", 37, None),
            "Home" => ("Home", 36, None),
            "End" => ("End", 35, None),
            other => return Err(format!("no such key in this test: {other}")),
        };
        let mut down = json!({
            "type": "keyDown",
            "key": key,
            "code": code,
            "windowsVirtualKeyCode": keycode,
        });
        if let Some(text) = text {
            down["text"] = json!(text);
        }
        self.call("Input.dispatchKeyEvent", down)?;
        self.call(
            "Input.dispatchKeyEvent",
            json!({ "type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": keycode }),
        )?;
        Ok(())
    }

    pub fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }))?;
        let data = shot["data"].as_str().ok_or("no screenshot data")?;
        let png = base64(data)?;
        std::fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn own_events(&self) -> impl Iterator<Item = &Value> {
        self.browser.events[self.first_event..]
            .iter()
            .filter(|event| event["sessionId"] == self.session.as_str())
    }

    /// Errors the page reported: uncaught exceptions, console.error, errors in its log.
    pub fn errors(&self) -> Vec<String> {
        self.own_events()
            .filter_map(|event| {
                let params = &event["params"];
                match event["method"].as_str()? {
                    "Runtime.exceptionThrown" => Some(params["exceptionDetails"].to_string()),
                    "Runtime.consoleAPICalled"
                        if matches!(params["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(params["args"].to_string())
                    }
                    "Log.entryAdded" if params["entry"]["level"] == "error" => {
                        Some(params["entry"]["text"].to_string())
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// The URLs the page asked for.
    pub fn requests(&self) -> Vec<String> {
        self.own_events()
            .filter(|event| event["method"] == "Network.requestWillBeSent")
            .filter_map(|event| event["params"]["request"]["url"].as_str().map(String::from))
            .collect()
    }

    pub fn close(self) -> Result<(), String> {
        let target = self.target.clone();
        self.browser
            .call(None, "Target.closeTarget", json!({ "targetId": target }))
            .map(|_| ())
    }
}

/// Standard base64, as the protocol sends a screenshot.
fn base64(text: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| -> Result<u32, String> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {:?}", c as char)),
        } as u32)
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut word = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            word |= value(c)? << (18 - 6 * i);
        }
        let produced = chunk.len().saturating_sub(1);
        out.extend_from_slice(&word.to_be_bytes()[1..1 + produced]);
    }
    Ok(out)
}
