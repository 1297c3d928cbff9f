//! The pages on a phone-sized screen, in Chinese, and their accessible names.

use serde_json::{json, Value};

use crate::support::{fixture, money_of, PATIENT};
use crate::webdriver::{browser_or_skip, Browser, DESKTOP, PHONE};
use crate::{assert_no_console_errors, cards, sign_in, wait_loaded};

/// Nothing wider than the screen: the page never scrolls sideways (wide tables scroll
/// inside their own box).
fn assert_fits_the_screen(browser: &Browser, page: &str) {
    let widths = browser.execute(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth];",
        json!([]),
    );
    let [scroll, client, inner] = [0, 1, 2].map(|index| widths[index].as_u64().unwrap());
    assert!(inner <= PHONE.0, "{page}: the window is {inner} wide");
    assert!(
        scroll <= client,
        "{page}: the page is {scroll} wide on a {client} screen"
    );
}

/// What assistive technology needs: every control labelled, every table captioned, every
/// chart titled and described, every button named, the language declared.
fn assert_accessible(browser: &Browser, page: &str) {
    let problems = browser.execute(
        "const problems = []; \
         const visible = (element) => element.getClientRects().length > 0; \
         for (const control of document.querySelectorAll('input, select, textarea')) { \
           if (visible(control) && control.labels.length === 0 && !control.getAttribute('aria-label')) { \
             problems.push('unlabelled ' + control.outerHTML); \
           } \
         } \
         for (const table of document.querySelectorAll('table')) { \
           if (visible(table) && !(table.caption && table.caption.textContent.trim())) { \
             problems.push('table without caption ' + table.dataset.table); \
           } \
         } \
         for (const chart of document.querySelectorAll('svg.chart')) { \
           const ids = (chart.getAttribute('aria-labelledby') || '').split(' '); \
           const named = ids.map((id) => document.getElementById(id)) \
             .filter((element) => element && element.textContent.trim()); \
           if (chart.getAttribute('role') !== 'img' || named.length !== 2 \
               || chart.querySelector('title') !== chart.firstElementChild) { \
             problems.push('chart without title and description ' + chart.dataset.chart); \
           } \
         } \
         for (const button of document.querySelectorAll('button')) { \
           if (visible(button) && !(button.textContent.trim() || button.getAttribute('aria-label'))) { \
             problems.push('unnamed button ' + button.outerHTML); \
           } \
         } \
         for (const image of document.querySelectorAll('img')) { \
           if (!image.hasAttribute('alt')) { problems.push('image without alt ' + image.src); } \
         } \
         if (!document.documentElement.lang) { problems.push('no lang'); } \
         if (document.querySelectorAll('h1:not([hidden])').length === 0) { problems.push('no h1'); } \
         return problems;",
        json!([]),
    );
    assert_eq!(problems, json!([]), "{page}");
}

#[test]
fn every_page_fits_a_phone_screen_and_names_its_controls() {
    let Some(browser) = browser_or_skip("phone") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;
    browser.resize(PHONE);
    browser.goto(&server.url("/ui/"));
    browser.find("#token");
    assert_fits_the_screen(&browser, "sign-in");
    assert_accessible(&browser, "sign-in");
    browser.screenshot("sign-in", PHONE);
    for (token, view) in [
        (&fixture.patient, "patient"),
        (&fixture.finance, "finance"),
        (&fixture.hospital, "hospital"),
    ] {
        sign_in(&browser, server, token, view);
        assert_fits_the_screen(&browser, view);
        assert_accessible(&browser, view);
        browser.screenshot(view, PHONE);
        browser.click("#sign-out");
    }
    // The same pages on a desktop are accessible too (other layout, same content).
    browser.resize(DESKTOP);
    sign_in(&browser, server, &fixture.finance, "finance");
    assert_accessible(&browser, "finance on a desktop");
    assert_no_console_errors(&browser);
}

fn shown_texts(browser: &Browser) -> Value {
    browser.execute(
        "return {lang: document.documentElement.lang, \
                 title: document.getElementById('patient-title').innerText, \
                 who: document.getElementById('who').innerText, \
                 language: document.getElementById('language').innerText, \
                 labels: Array.from(document.querySelectorAll('[data-cards=patient] dt')).map((dt) => dt.innerText), \
                 breakdown: Array.from(document.querySelectorAll('[data-field=breakdown]')).map((p) => p.innerText), \
                 footer: document.querySelector('footer').innerText};",
        json!([]),
    )
}

#[test]
fn the_language_switch_shows_chinese_text_with_the_same_figures() {
    let Some(browser) = browser_or_skip("chinese") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;
    sign_in(&browser, server, &fixture.patient, "patient");
    let english = shown_texts(&browser);
    assert_eq!(english["lang"], "en");
    assert_eq!(english["title"], "My balance");
    assert_eq!(english["language"], "中文");
    let figures = cards(&browser, "patient");

    browser.click("#language");
    browser.wait_until(
        "Chinese",
        "return document.documentElement.lang === 'zh-CN'",
        json!([]),
    );
    let chinese = shown_texts(&browser);
    assert_eq!(chinese["title"], "我的账单");
    assert_eq!(chinese["who"], format!("患者 {PATIENT}"));
    assert_eq!(chinese["language"], "English");
    assert_eq!(
        chinese["labels"],
        json!([
            "我的欠款",
            "已逾期",
            "我的信用额度",
            "剩余额度",
            "就诊中冻结额度",
            "我的个人医保账户"
        ])
    );
    assert_eq!(
        chinese["footer"],
        "金额单位：人民币元。时间为北京时间（UTC+8）。"
    );
    // The figures do not change with the language.
    assert_eq!(cards(&browser, "patient"), figures);
    let visit = server.get("/v1/hospitals/H0000/visits/UI-V3", &fixture.hospital);
    let settlement = &visit["settlement"];
    let expected = format!(
        "本次费用 {}：医保统筹基金支付 {}，个人医保账户支付 {}；{} 计入您的信用额度（先看病后付费），{} 已在窗口收取。",
        money_of(&settlement["total"]),
        money_of(&settlement["fund_paid"]),
        money_of(&settlement["msa_paid"]),
        money_of(&settlement["financed"]),
        money_of(&settlement["collect_now"]),
    );
    let breakdowns = chinese["breakdown"].as_array().unwrap();
    assert!(
        breakdowns
            .iter()
            .any(|text| text.as_str().unwrap().starts_with(&expected)),
        "{expected} in {breakdowns:?}"
    );
    // Every message has both languages.
    let missing = browser.execute_async(
        "const done = arguments[arguments.length - 1]; \
         import('/ui/js/i18n.js').then((module) => done(module.missingKeys()));",
        json!([]),
    );
    assert_eq!(missing, json!([]));
    browser.screenshot("patient", DESKTOP);

    // The choice holds for the tab; the dashboard is in Chinese too.
    browser.click("#sign-out");
    sign_in(&browser, server, &fixture.finance, "finance");
    assert_eq!(
        browser.execute("return document.documentElement.lang", json!([])),
        "zh-CN"
    );
    assert_eq!(browser.text_of("#finance-title"), "财务仪表板");
    assert_eq!(
        browser.text_of("[data-panel=aging] caption"),
        "按逾期天数的患者欠款"
    );
    browser.screenshot("dashboard", DESKTOP);

    // And back.
    browser.click("#language");
    wait_loaded(&browser, "finance");
    assert_eq!(browser.text_of("#finance-title"), "Finance dashboard");
    assert_eq!(
        browser.execute("return document.documentElement.lang", json!([])),
        "en"
    );
    assert_no_console_errors(&browser);
}
