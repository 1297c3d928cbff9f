//! Sign-in: the token is checked by the API, kept in the tab's sessionStorage only, and
//! decides the page; signing out forgets it and what was shown.

use serde_json::json;

use crate::support::fixture;
use crate::webdriver::{browser_or_skip, Browser, DESKTOP};
use crate::{assert_no_console_errors, wait_loaded};

fn sign_in_form_shown(browser: &Browser) {
    browser.wait_until(
        "the sign-in form",
        "return !document.getElementById('sign-in').hidden \
            && document.getElementById('patient').hidden \
            && document.getElementById('finance').hidden",
        json!([]),
    );
}

fn submit_token(browser: &Browser, token: &str) {
    browser.clear("#token");
    if !token.is_empty() {
        browser.type_into("#token", token);
    }
    browser.click("#sign-in-submit");
}

fn sign_out(browser: &Browser) {
    browser.click("#sign-out");
    sign_in_form_shown(browser);
}

fn stored(browser: &Browser) -> serde_json::Value {
    browser.execute(
        "return {token: sessionStorage.getItem('treatfirst.token'), \
                 local: localStorage.length, cookies: document.cookie};",
        json!([]),
    )
}

#[test]
fn signing_in_keeps_the_token_in_the_tab_and_shows_the_page_of_its_role() {
    let Some(browser) = browser_or_skip("sign-in") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;

    browser.goto(&server.url("/ui"));
    assert_eq!(browser.current_url(), server.url("/ui/"), "/ui redirects");
    sign_in_form_shown(&browser);
    let label = browser.execute(
        "return Array.from(document.getElementById('token').labels).map((l) => l.innerText)",
        json!([]),
    );
    assert_eq!(label, json!(["Access token"]));
    assert_eq!(
        browser.execute("return document.getElementById('token').type", json!([])),
        "password"
    );

    // No token, then a token the API does not know.
    submit_token(&browser, "");
    assert_eq!(browser.text_of("#sign-in-error"), "Enter a token.");
    submit_token(&browser, "tf_0123456789abcdef");
    browser.wait_until(
        "the refusal",
        "return document.getElementById('sign-in-error').textContent \
           === 'This token was not accepted.'",
        json!([]),
    );
    assert!(!browser
        .execute(
            "return document.getElementById('sign-in').hidden",
            json!([])
        )
        .as_bool()
        .unwrap());
    assert_eq!(stored(&browser)["token"], json!(null));
    browser.screenshot("refused", DESKTOP);
    // The refused whoami is the one error the console may show.
    let logged = browser.severe_console_messages();
    assert!(
        logged
            .iter()
            .all(|message| message.contains("/v1/whoami") && message.contains("401")),
        "{logged:?}"
    );

    // Finance: the dashboard; the token only in this tab's sessionStorage.
    submit_token(&browser, &fixture.finance);
    wait_loaded(&browser, "finance");
    assert_eq!(browser.text_of("#who"), "Finance");
    assert_eq!(
        stored(&browser),
        json!({"token": fixture.finance, "local": 0, "cookies": ""})
    );
    assert_eq!(
        browser.execute("return document.getElementById('token').value", json!([])),
        "",
        "the form forgets the token"
    );
    // A reload keeps the session (same tab).
    browser.refresh();
    wait_loaded(&browser, "finance");
    sign_out(&browser);
    assert_eq!(stored(&browser)["token"], json!(null));
    assert_eq!(
        browser.execute(
            "return document.getElementById('finance-body').childElementCount",
            json!([])
        ),
        0,
        "signing out removes the figures from the page"
    );
    assert_eq!(browser.text_of("#status"), "You are signed out.");

    // Every role lands on its own page.
    for (token, view, who) in [
        (&fixture.patient, "patient", "Patient UI-P1"),
        (&fixture.hospital, "hospital", "Hospital H0000"),
    ] {
        submit_token(&browser, token);
        wait_loaded(&browser, view);
        assert_eq!(browser.text_of("#who"), who);
        sign_out(&browser);
    }
    submit_token(&browser, &fixture.channel);
    browser.wait_until(
        "the page for a role without pages",
        "return !document.getElementById('no-page').hidden",
        json!([]),
    );
    assert!(browser
        .text_of("#no-page-text")
        .contains("no page for this token's role (channel)"));

    // Everything the page loaded came from this server.
    let foreign = browser.execute(
        "return performance.getEntriesByType('resource').map((entry) => entry.name) \
           .filter((name) => !name.startsWith(location.origin + '/'));",
        json!([]),
    );
    assert_eq!(foreign, json!([]));
    assert_no_console_errors(&browser);
}

#[test]
fn a_token_that_stops_working_returns_to_the_sign_in() {
    let Some(browser) = browser_or_skip("expired") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;
    browser.goto(&server.url("/ui/"));
    sign_in_form_shown(&browser);
    // A session whose token the server does not (or no longer) accept.
    browser.execute(
        "sessionStorage.setItem('treatfirst.token', 'tf_revoked'); \
         sessionStorage.setItem('treatfirst.grant', JSON.stringify({role: 'finance'}));",
        json!([]),
    );
    browser.refresh();
    sign_in_form_shown(&browser);
    assert_eq!(
        browser.text_of("#sign-in-error"),
        "Your token is no longer accepted. Please sign in again."
    );
    assert_eq!(stored(&browser)["token"], json!(null));
    let _ = browser.severe_console_messages(); // the refused report requests
    submit_token(&browser, &fixture.finance);
    wait_loaded(&browser, "finance");
    assert_no_console_errors(&browser);
}
