//! A small W3C WebDriver client for Debian's chromedriver and headless Chromium.
//!
//! Why not `fantoccini` (or `thirtyfour`): they are async clients on hyper and tokio with a
//! TLS stack and the `webdriver` crate's types, dozens of crates to build on a 2-core
//! machine for the dozen commands these tests use. WebDriver is JSON over local HTTP, and
//! the workspace already has a blocking HTTP client (`ureq`) and `serde_json`: a session,
//! navigation, finding elements, clicking, typing, running a script, window size and
//! screenshots fit in this file.
//!
//! Each [`Browser`] is its own chromedriver process with its own Chromium, on a fresh
//! profile directory, with every host but 127.0.0.1 unresolvable (the pages must need
//! nothing from the internet). Dropping it ends the session (which closes Chromium) and
//! stops chromedriver.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Where Debian installs them (`apt-get install chromium chromium-driver`); overridable.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Set to 1 (as CI does) to fail instead of skipping when the browser is not installed.
pub const REQUIRE_BROWSER: &str = "TREATFIRST_REQUIRE_BROWSER";
/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for the page polls before failing.
pub const WAIT_MAX: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(50);
/// The tallest full-page screenshot.
const SCREENSHOT_HEIGHT_MAX: u64 = 8_000;
/// The desktop window.
pub const DESKTOP: (u64, u64) = (1280, 900);
/// A phone (an iPhone SE / 12 mini class screen, CSS pixels).
pub const PHONE: (u64, u64) = (375, 812);

fn program(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A reference to an element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// A headless Chromium driven through chromedriver.
pub struct Browser {
    base: String,
    session: String,
    agent: ureq::Agent,
    driver: Child,
    browser_pid: Option<u64>,
    test: String,
    _profile: tempfile::TempDir,
}

/// The browser for test `test`, or `None` (after saying so) when chromium or chromedriver is
/// not installed and [`REQUIRE_BROWSER`] is not `1`.
pub fn browser_or_skip(test: &str) -> Option<Browser> {
    let driver = program("TREATFIRST_CHROMEDRIVER", CHROMEDRIVER);
    let chromium = program("TREATFIRST_CHROMIUM", CHROMIUM);
    let missing: Vec<String> = [&driver, &chromium]
        .into_iter()
        .filter(|path| !path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !missing.is_empty() {
        let message = format!(
            "{} not found: install chromium chromium-driver",
            missing.join(" and ")
        );
        assert!(
            std::env::var(REQUIRE_BROWSER).as_deref() != Ok("1"),
            "{REQUIRE_BROWSER}=1 and {message}"
        );
        eprintln!("skipped {test}: {message}");
        let _ = std::io::stderr().flush();
        return None;
    }
    Some(Browser::start(test, &driver, &chromium))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free local port")
        .port()
}

impl Browser {
    fn start(test: &str, driver: &Path, chromium: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile directory");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let mut browser = Browser {
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
            driver,
            browser_pid: None,
            test: test.to_owned(),
            _profile: profile,
        };
        browser.wait_for_driver();
        let arguments = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", browser._profile.path().display()),
            // Nothing but this machine resolves: a page that needed the internet would break.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".to_owned(),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": arguments,
                "prefs": {"intl.accept_languages": "en-US"},
            },
        }}});
        let created = browser
            .request("POST", "/session", Some(capabilities))
            .unwrap_or_else(|error| panic!("a Chromium session: {error}"));
        browser.session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        browser.browser_pid = created["capabilities"]["goog:processID"].as_u64();
        browser
    }

    fn wait_for_driver(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(status) = self.request("GET", "/status", None) {
                if status["ready"] == true {
                    return;
                }
            }
            if let Ok(Some(exit)) = self.driver.try_wait() {
                panic!("chromedriver exited: {exit}");
            }
            assert!(started.elapsed() < WAIT_MAX, "chromedriver never got ready");
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// One WebDriver command; its `value`, or the driver's error.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let request = self.agent.request(method, &format!("{}{path}", self.base));
        let result = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => return Err(error.to_string()),
        };
        let status = response.status();
        let value: Value = response
            .into_json()
            .map_err(|error| format!("{method} {path}: {error}"))?;
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        if status == 200 {
            Ok(value)
        } else {
            Err(format!(
                "{method} {path}: {status} {} {}",
                value["error"], value["message"]
            ))
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.request(method, &format!("/session/{}{path}", self.session), body)
            .unwrap_or_else(|error| panic!("{}: {error}", self.test))
    }

    /// Navigates to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    pub fn refresh(&self) {
        self.command("POST", "/refresh", Some(json!({})));
    }

    pub fn current_url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Runs an async `script` whose last argument is the callback to call with the result.
    pub fn execute_async(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    fn elements(&self, css: &str) -> Vec<Element> {
        let found = self.command(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item[ELEMENT_KEY].as_str())
                    .map(|id| Element(id.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching `css`, waiting for it to appear.
    pub fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(element) = self.elements(css).into_iter().next() {
                return element;
            }
            assert!(
                started.elapsed() < WAIT_MAX,
                "{}: no element {css} on {}",
                self.test,
                self.current_url()
            );
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// Waits until `script` (a function body) returns true.
    pub fn wait_until(&self, what: &str, script: &str, args: Value) {
        let started = Instant::now();
        loop {
            if self.execute(script, args.clone()) == true {
                return;
            }
            assert!(
                started.elapsed() < WAIT_MAX,
                "{}: waited {WAIT_MAX:?} for {what}; the page says {:?}",
                self.test,
                self.execute(
                    "return document.getElementById('status') && \
                     document.getElementById('status').textContent",
                    json!([])
                )
            );
            std::thread::sleep(POLL_EVERY);
        }
    }

    /// The rendered text of an element (what a reader sees).
    pub fn text(&self, element: &Element) -> String {
        self.command("GET", &format!("/element/{}/text", element.0), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The rendered text of the first element matching `css`.
    pub fn text_of(&self, css: &str) -> String {
        self.text(&self.find(css))
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        );
    }

    /// Types `text` into the element (for a file input: the path of the file to choose).
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(json!({"text": text})),
        );
    }

    pub fn clear(&self, css: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{}/clear", element.0),
            Some(json!({})),
        );
    }

    /// Resizes the window (CSS pixels).
    pub fn resize(&self, (width, height): (u64, u64)) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// The browser's console messages of level SEVERE since the last call (script errors,
    /// Content-Security-Policy violations, failed loads).
    pub fn severe_console_messages(&self) -> Vec<String> {
        let entries = self
            .request(
                "POST",
                &format!("/session/{}/se/log", self.session),
                Some(json!({"type": "browser"})),
            )
            .unwrap_or(Value::Null);
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|entry| entry["level"] == "SEVERE")
                    .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves a screenshot of the whole page as `target/ui-screenshots/<test>-<step>.png`
    /// (the window grows to the page's height for it, then returns to `window`).
    pub fn screenshot(&self, step: &str, window: (u64, u64)) -> PathBuf {
        // The window is taller than the page's viewport by the browser's own frame.
        let sizes = self.execute(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]",
            json!([]),
        );
        let [page, frame] = [0, 1].map(|index| sizes[index].as_u64().unwrap_or(0));
        let height = (page + frame).clamp(window.1, SCREENSHOT_HEIGHT_MAX);
        self.resize((window.0, height));
        self.execute("window.scrollTo(0, 0)", json!([]));
        let encoded = self.command("GET", "/screenshot", None);
        self.resize(window);
        let png = decode_base64(encoded.as_str().expect("a base64 screenshot"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
        let directory = screenshot_directory();
        std::fs::create_dir_all(&directory).expect("the screenshot directory");
        let path = directory.join(format!("{}-{step}.png", self.test));
        std::fs::write(&path, png).expect("the screenshot is written");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; chromedriver would leave it running if killed.
        if !self.session.is_empty()
            && self
                .request("DELETE", &format!("/session/{}", self.session), None)
                .is_err()
        {
            if let Some(pid) = self.browser_pid {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `target/ui-screenshots` (under `CARGO_TARGET_DIR` when set).
pub fn screenshot_directory() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    target.join("ui-screenshots")
}

/// Standard base64 (RFC 4648, with padding), as WebDriver returns screenshots.
fn decode_base64(text: &str) -> Vec<u8> {
    fn sextet(byte: u8) -> u32 {
        match byte {
            b'A'..=b'Z' => u32::from(byte - b'A'),
            b'a'..=b'z' => u32::from(byte - b'a') + 26,
            b'0'..=b'9' => u32::from(byte - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {byte}"),
        }
    }
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    let mut decoded = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let data: Vec<u8> = chunk.iter().copied().filter(|byte| *byte != b'=').collect();
        let mut word = 0_u32;
        for (index, byte) in data.iter().enumerate() {
            word |= sextet(*byte) << (18 - 6 * index);
        }
        let word = word.to_be_bytes();
        decoded.extend_from_slice(&word[1..data.len()]);
    }
    decoded
}

#[test]
fn base64_decodes_the_rfc_4648_vectors() {
    for (encoded, decoded) in [
        ("", ""),
        ("Zg==", "f"),
        ("Zm8=", "fo"),
        ("Zm9v", "foo"),
        ("Zm9vYg==", "foob"),
        ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"),
    ] {
        assert_eq!(decode_base64(encoded), decoded.as_bytes(), "{encoded}");
    }
}
