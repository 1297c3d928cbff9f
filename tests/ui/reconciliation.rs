//! Reconciliation from the dashboard: a CSV file chosen in the page is posted to the
//! reconciliation endpoint and its result shown (matched, posted, mismatched, unknown,
//! missing); a malformed file shows its rows with line numbers and applies nothing.

use std::path::Path;

use serde_json::{json, Value};

use crate::support::{count_of, fixture, money_of, Server, HOSPITAL, PATIENT};
use crate::webdriver::{browser_or_skip, Browser, DESKTOP};
use crate::{assert_no_console_errors, cards, sign_in, table_rows};

const FUND_HEADER: &str = "reference,hospital_id,visit_id,amount";

fn upload(browser: &Browser, kind: &str, file: &Path) {
    browser.execute(
        "document.getElementById('reconciliation-kind').value = arguments[0]; \
         document.getElementById('reconciliation-result').dataset.state = '';",
        json!([kind]),
    );
    browser.type_into("#reconciliation-file", &file.display().to_string());
    browser.click("#reconciliation-form button[type=submit]");
    browser.wait_until(
        "the reconciliation result",
        "return document.getElementById('reconciliation-result').dataset.state === 'done';",
        json!([]),
    );
}

fn post_csv(server: &Server, token: &str, kind: &str, csv: &str) -> (u16, Value) {
    let reply = server.send(
        "POST",
        &format!("/v1/reconciliations/{kind}"),
        token,
        "text/csv",
        Some(csv.as_bytes()),
    );
    (reply.status, reply.body)
}

fn assert_result_shown(browser: &Browser, kind: &str, result: &Value) {
    let shown = cards(browser, "reconciliation");
    assert_eq!(shown["matched"], count_of(&result["matched"]));
    assert_eq!(shown["matched_amount"], money_of(&result["matched_amount"]));
    assert_eq!(
        shown["mismatched"],
        count_of(&json!(result["mismatched"].as_array().unwrap().len()))
    );
    assert_eq!(
        shown["unknown"],
        count_of(&json!(result["unknown"].as_array().unwrap().len()))
    );
    assert_eq!(shown["missing_count"], count_of(&result["missing_count"]));
    if kind == "fund" {
        assert_eq!(shown["missing_amount"], money_of(&result["missing_amount"]));
    }
}

fn settle_another_visit(server: &Server, hospital_token: &str, visit: &str) {
    let opened = json!({"visit_id": visit, "patient_id": PATIENT, "kind": "outpatient",
        "estimated_amount": "100.00"});
    server.post(
        &format!("/v1/hospitals/{HOSPITAL}/visits"),
        hospital_token,
        &opened,
        201,
    );
    let charge = json!({"charge_id": "C1", "items": [{"code": "CONSULT", "description": "consultation",
        "category": "A", "quantity": "1", "unit_price": "80.00"}]});
    server.post(
        &format!("/v1/hospitals/{HOSPITAL}/visits/{visit}/charges"),
        hospital_token,
        &charge,
        201,
    );
    server.post(
        &format!("/v1/hospitals/{HOSPITAL}/visits/{visit}/settle"),
        hospital_token,
        &json!({}),
        200,
    );
}

#[test]
fn a_fund_file_chosen_in_the_page_is_reconciled_and_its_result_shown() {
    let Some(browser) = browser_or_skip("reconciliation") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;
    let token = &fixture.finance;
    let files = tempfile::tempdir().expect("a directory for the files");

    // What the ledger expects: the fund shares of today's visit UI-V3 and of one more
    // visit settled now (UI-V4), neither remitted yet.
    let fund_share = |visit: &str| -> String {
        let view = server.get(&format!("/v1/hospitals/{HOSPITAL}/visits/{visit}"), token);
        view["settlement"]["fund_paid"].as_str().unwrap().to_owned()
    };
    settle_another_visit(server, &fixture.hospital, "UI-V4");
    let fund_share_v4 = fund_share("UI-V4");
    let fund_share = fund_share("UI-V3");
    assert_ne!(fund_share, "0.00");
    assert_ne!(fund_share_v4, "0.00");
    let other = json!({"hospital_id": HOSPITAL, "visit_id": "UI-V4"});

    let csv = format!(
        "{FUND_HEADER}\nUI-FUND-1,{HOSPITAL},UI-V3,{fund_share}\nUI-FUND-2,{},{},{}\nUI-FUND-3,{HOSPITAL},NO-SUCH-VISIT,10.00\n",
        other["hospital_id"].as_str().unwrap(),
        other["visit_id"].as_str().unwrap(),
        "1.00",
    );
    let file = files.path().join("remittance.csv");
    std::fs::write(&file, &csv).unwrap();
    sign_in(&browser, server, token, "finance");
    upload(&browser, "fund", &file);

    // The same file again through the API: the remittance was posted by the page (nothing
    // more to post), everything else reconciles the same.
    let (status, replay) = post_csv(server, token, "fund", &csv);
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["matched"], 1);
    assert_eq!(
        replay["posted"], 0,
        "the page's upload posted the remittance"
    );
    assert_result_shown(&browser, "fund", &replay);
    assert_eq!(cards(&browser, "reconciliation")["posted"], "1");
    assert_eq!(
        cards(&browser, "reconciliation")["matched_amount"],
        crate::support::money(&fund_share)
    );
    let line = |line: &Value| -> Vec<String> {
        vec![
            line["line"].to_string(),
            line["reference"].as_str().unwrap().to_owned(),
            format!(
                "{} / {}",
                line["hospital_id"].as_str().unwrap(),
                line["visit_id"].as_str().unwrap()
            ),
            money_of(&line["amount"]),
            if line["expected"].is_null() {
                "—".to_owned()
            } else {
                money_of(&line["expected"])
            },
            line["reason"].as_str().unwrap().to_owned(),
        ]
    };
    let mismatched: Vec<Vec<String>> = replay["mismatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(line)
        .collect();
    assert_eq!(mismatched.len(), 1);
    assert_eq!(mismatched[0][0], "3");
    assert_eq!(
        table_rows(&browser, "reconciliation-mismatched"),
        mismatched
    );
    let unknown: Vec<Vec<String>> = replay["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .map(line)
        .collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0][0], "4");
    assert_eq!(table_rows(&browser, "reconciliation-unknown"), unknown);
    browser.screenshot("fund", DESKTOP);

    // A malformed file: its rows with their line numbers; nothing applied.
    let malformed = format!("{FUND_HEADER}\nBAD-1,{HOSPITAL},UI-V1,12.345\nBAD-2,{HOSPITAL}\n");
    let file = files.path().join("malformed.csv");
    std::fs::write(&file, &malformed).unwrap();
    upload(&browser, "fund", &file);
    let (status, problem) = post_csv(server, token, "fund", &malformed);
    assert_eq!(status, 422, "{problem}");
    let errors: Vec<Vec<String>> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| {
            vec![
                error["line"].to_string(),
                error["message"].as_str().unwrap().to_owned(),
            ]
        })
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(table_rows(&browser, "reconciliation-errors"), errors);
    assert_eq!(
        browser.text_of("[data-field=malformed]"),
        "Nothing was applied: 2 malformed row(s)."
    );
    browser.screenshot("malformed", DESKTOP);

    // A channel statement: nothing posted, unknown payments and missing ones listed.
    let statement = "payment_id,amount,channel\nNO-SUCH-PAYMENT,10.00,alipay\n";
    let file = files.path().join("statement.csv");
    std::fs::write(&file, statement).unwrap();
    upload(&browser, "channel", &file);
    let (status, result) = post_csv(server, token, "channel", statement);
    assert_eq!(status, 200, "{result}");
    assert!(result["missing_count"].as_u64().unwrap() > 0);
    assert_result_shown(&browser, "channel", &result);
    // 401s and 422s are answers the page shows, not errors of the page; the browser still
    // logs the 422 of the malformed file.
    let logged = browser.severe_console_messages();
    assert!(
        logged
            .iter()
            .all(|message| message.contains("/v1/reconciliations/fund") && message.contains("422")),
        "{logged:?}"
    );
    assert_no_console_errors(&browser);
}
