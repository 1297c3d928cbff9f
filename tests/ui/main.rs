//! The web UI end to end: the real server on simulated data, driven in Debian's headless
//! Chromium through chromedriver (W3C WebDriver). Each test signs in through the page and
//! asserts that the figures shown equal the API's, and saves screenshots under
//! `target/ui-screenshots/`.
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` (`apt-get install chromium
//! chromium-driver`) the browser tests say they are skipped and pass, unless
//! `TREATFIRST_REQUIRE_BROWSER=1` (CI), where they fail.

mod support;
mod webdriver;

mod access;
mod assets;
mod dashboard;
mod hospital;
mod layout;
mod patient;
mod reconciliation;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use support::Server;
use webdriver::Browser;

/// Opens the UI, signs in with `token` through the form and waits for `view` to load.
pub fn sign_in(browser: &Browser, server: &Server, token: &str, view: &str) {
    browser.goto(&server.url("/ui/"));
    browser.wait_until(
        "the sign-in form",
        "return !document.getElementById('sign-in').hidden",
        json!([]),
    );
    browser.type_into("#token", token);
    browser.click("#sign-in-submit");
    wait_loaded(browser, view);
}

/// Waits until `view` (a section id) has loaded its figures.
pub fn wait_loaded(browser: &Browser, view: &str) {
    browser.wait_until(
        &format!("the {view} page to load"),
        "const section = document.getElementById(arguments[0]); \
         return !section.hidden && section.dataset.loaded === 'true';",
        json!([view]),
    );
}

fn strings(value: Value) -> Vec<Vec<String>> {
    serde_json::from_value(value).expect("rows of strings")
}

/// The body rows of table `name` (`data-table`), each cell's rendered text.
pub fn table_rows(browser: &Browser, name: &str) -> Vec<Vec<String>> {
    strings(browser.execute(
        "const table = document.querySelector(`table[data-table=\"${arguments[0]}\"]`); \
         if (!table) { return []; } \
         return Array.from(table.tBodies[0].rows).map((row) => \
           Array.from(row.cells).map((cell) => cell.innerText.trim()));",
        json!([name]),
    ))
}

/// The footer row of table `name`.
pub fn table_footer(browser: &Browser, name: &str) -> Vec<String> {
    strings(browser.execute(
        "const table = document.querySelector(`table[data-table=\"${arguments[0]}\"]`); \
         return table && table.tFoot \
           ? [Array.from(table.tFoot.rows[0].cells).map((cell) => cell.innerText.trim())] : [[]];",
        json!([name]),
    ))
    .remove(0)
}

/// The figures of the cards `name` (`data-cards`): field -> rendered text.
pub fn cards(browser: &Browser, name: &str) -> BTreeMap<String, String> {
    serde_json::from_value(browser.execute(
        "const figures = {}; \
         for (const value of document.querySelectorAll(`[data-cards=\"${arguments[0]}\"] dd`)) { \
           figures[value.dataset.field] = value.innerText.trim(); \
         } \
         return figures;",
        json!([name]),
    ))
    .expect("figures")
}

/// Asserts that the page logged no error (script errors, CSP violations, failed loads).
#[track_caller]
pub fn assert_no_console_errors(browser: &Browser) {
    let severe = browser.severe_console_messages();
    assert!(severe.is_empty(), "console errors: {severe:#?}");
}
