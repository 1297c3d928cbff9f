//! The patient's page shows exactly what the API says about the patient: balances, each
//! visit with its due date and what is left to pay, the sums per hospital, and how each
//! visit was paid, in words.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::support::{china_time, fixture, money_of, sum, Fixture, PATIENT};
use crate::webdriver::{browser_or_skip, Browser, DESKTOP};
use crate::{assert_no_console_errors, cards, sign_in, table_footer, table_rows};

const PAST_DUE: [&str; 3] = ["overdue", "defaulted", "written_off"];

/// What one visit card shows.
fn visit_card(browser: &Browser, hospital: &str, visit: &str) -> BTreeMap<String, String> {
    serde_json::from_value(browser.execute(
        "const card = Array.from(document.querySelectorAll('[data-list=visits] > li')) \
           .find((item) => item.dataset.hospital === arguments[0] && item.dataset.visit === arguments[1]); \
         if (!card) { return {}; } \
         const shown = {heading: card.querySelector('h3').innerText, status: card.dataset.status}; \
         for (const field of card.querySelectorAll('[data-field]')) { \
           shown[field.dataset.field] = field.innerText.trim(); \
         } \
         return shown;",
        json!([hospital, visit]),
    ))
    .expect("a card")
}

fn is_owing(visit: &Value) -> bool {
    visit["outstanding"] != "0.00"
}

fn is_past_due(visit: &Value) -> bool {
    PAST_DUE.contains(&visit["status"].as_str().unwrap_or_default())
}

/// The first sentence of a settled visit's breakdown.
fn settled_words(settlement: &Value) -> String {
    format!(
        "Of the bill of {}, the insurance fund paid {} and your personal medical account paid \
         {}; {} was put on your credit line and {} was collected at the counter.",
        money_of(&settlement["total"]),
        money_of(&settlement["fund_paid"]),
        money_of(&settlement["msa_paid"]),
        money_of(&settlement["financed"]),
        money_of(&settlement["collect_now"]),
    )
}

/// Asserts the page of `patient_id` (signed in with `token`) against the API.
fn assert_page_equals_the_api(fixture: &Fixture, browser: &Browser, token: &str, patient_id: &str) {
    let server = &fixture.server;
    let patient = server.get(&format!("/v1/patients/{patient_id}"), token);
    let visits = server.get(&format!("/v1/patients/{patient_id}/visits"), token)["visits"]
        .as_array()
        .expect("visits")
        .clone();
    assert!(!visits.is_empty());

    // The balances.
    let shown = cards(browser, "patient");
    let mut fields = vec![
        "outstanding",
        "overdue",
        "credit_limit",
        "available_credit",
        "credit_held",
        "msa_balance",
    ];
    if patient["refund_owed"] != "0.00" {
        fields.push("refund_owed");
    }
    for field in &fields {
        assert_eq!(shown[*field], money_of(&patient[*field]), "{field}");
    }
    assert_eq!(shown.len(), fields.len(), "{shown:?}");
    let status = browser.execute(
        "return document.querySelector('[data-field=status][data-value]').dataset.value",
        json!([]),
    );
    assert_eq!(status, patient["status"]);
    let summary = browser.text_of("[data-field=summary]");
    if patient["outstanding"] != "0.00" {
        assert!(
            summary.starts_with(&format!(
                "You owe {} in total.",
                money_of(&patient["outstanding"])
            )),
            "{summary}"
        );
    }
    if patient["overdue"] != "0.00" {
        assert!(
            summary.contains(&format!(
                "{} of it is overdue",
                money_of(&patient["overdue"])
            )),
            "{summary}"
        );
    }

    // Every visit, newest first, with its figures and words.
    let order = browser.execute(
        "return Array.from(document.querySelectorAll('[data-list=visits] > li')) \
           .map((item) => item.dataset.hospital + '/' + item.dataset.visit)",
        json!([]),
    );
    let expected: Vec<String> = visits
        .iter()
        .rev()
        .map(|visit| {
            format!(
                "{}/{}",
                visit["hospital_id"].as_str().unwrap(),
                visit["visit_id"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(order, json!(expected));
    for visit in &visits {
        let hospital = visit["hospital_id"].as_str().unwrap();
        let visit_id = visit["visit_id"].as_str().unwrap();
        let card = visit_card(browser, hospital, visit_id);
        assert_eq!(
            card["heading"],
            format!("{hospital} · visit {visit_id}"),
            "{card:?}"
        );
        assert_eq!(card["status"], visit["status"].as_str().unwrap());
        assert_eq!(card["total"], money_of(&visit["total"]), "{visit_id}");
        let words = &card["breakdown"];
        match &visit["settlement"] {
            Value::Null => assert!(!card.contains_key("due_at")),
            settlement => {
                if settlement["financed"] == "0.00" {
                    assert!(!card.contains_key("due_at"), "nothing due: {card:?}");
                } else {
                    assert_eq!(card["due_at"], china_time(&visit["due_at"]), "{visit_id}");
                }
                assert_eq!(card["settled_at"], china_time(&settlement["settled_at"]));
                assert_eq!(card["outstanding"], money_of(&visit["outstanding"]));
                assert!(words.starts_with(&settled_words(settlement)), "{words}");
                if is_owing(visit) && is_past_due(visit) {
                    assert!(
                        words.contains(&format!(
                            "It was due by {} and is overdue: {} is still to pay.",
                            china_time(&visit["due_at"]),
                            money_of(&visit["outstanding"])
                        )),
                        "{words}"
                    );
                } else if is_owing(visit) {
                    assert!(
                        words.contains(&format!(
                            "You have repaid {}; {} is still to pay, due by {}.",
                            money_of(&visit["paid"]),
                            money_of(&visit["outstanding"]),
                            china_time(&visit["due_at"])
                        )),
                        "{words}"
                    );
                }
            }
        }
        if visit["status"] == "open" {
            assert_eq!(
                *words,
                format!(
                    "This visit is still in progress: {} charged so far; {} of your credit is \
                     held for it.",
                    money_of(&visit["total"]),
                    money_of(&visit["credit_held"])
                )
            );
        }
    }

    // What is owed per hospital: the exact sums of the visits'.
    let mut by_hospital: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for visit in visits.iter().filter(|visit| is_owing(visit)) {
        by_hospital
            .entry(visit["hospital_id"].as_str().unwrap())
            .or_default()
            .push(visit);
    }
    let rows = table_rows(browser, "patient-hospitals");
    assert_eq!(rows.len(), by_hospital.len(), "{rows:?}");
    for (row, (hospital, owing)) in rows.iter().zip(&by_hospital) {
        let outstanding: Vec<&Value> = owing.iter().map(|visit| &visit["outstanding"]).collect();
        let overdue: Vec<&Value> = owing
            .iter()
            .filter(|visit| is_past_due(visit))
            .map(|visit| &visit["outstanding"])
            .collect();
        let next_due = owing
            .iter()
            .filter_map(|visit| visit["due_at"].as_str())
            .min()
            .map(|due| china_time(&json!(due)))
            .unwrap_or_else(|| "—".to_owned());
        assert_eq!(
            row,
            &vec![
                (*hospital).to_owned(),
                owing.len().to_string(),
                crate::support::money(&sum(&outstanding)),
                crate::support::money(&sum(&overdue)),
                next_due,
            ]
        );
    }
    if !by_hospital.is_empty() {
        let footer = table_footer(browser, "patient-hospitals");
        assert_eq!(footer[2], money_of(&patient["outstanding"]));
        assert_eq!(footer[3], money_of(&patient["overdue"]));
    }
}

#[test]
fn the_patient_page_shows_the_api_figures_of_a_patient_with_overdue_visits() {
    let Some(browser) = browser_or_skip("patient-overdue") else {
        return;
    };
    let fixture = fixture();
    let patient_id = fixture.patient_with_overdue_visits();
    let token = fixture
        .server
        .token(json!({"role": "patient", "patient_id": patient_id}));
    sign_in(&browser, &fixture.server, &token, "patient");
    assert_page_equals_the_api(&fixture, &browser, &token, &patient_id);
    // The overdue amount stands out.
    assert_eq!(
        browser.execute(
            "return document.querySelector('[data-field=overdue]').closest('.card').classList.contains('alert')",
            json!([])
        ),
        true
    );
    browser.screenshot("desktop", DESKTOP);
    assert_no_console_errors(&browser);
}

#[test]
fn the_patient_page_shows_todays_visits_their_due_dates_and_the_credit_held() {
    let Some(browser) = browser_or_skip("patient-today") else {
        return;
    };
    let fixture = fixture();
    sign_in(&browser, &fixture.server, &fixture.patient, "patient");
    assert_page_equals_the_api(&fixture, &browser, &fixture.patient, PATIENT);
    let patient = fixture
        .server
        .get(&format!("/v1/patients/{PATIENT}"), &fixture.patient);
    // Two settled visits owe, one open visit holds credit: the figures are not all zero.
    assert_ne!(patient["outstanding"], "0.00");
    assert_ne!(patient["credit_held"], "0.00");
    assert_eq!(patient["overdue"], "0.00");
    assert_eq!(
        browser.text_of("[data-field=summary]"),
        format!(
            "You owe {} in total. Nothing is overdue. Of your credit limit of {}, {} is left \
             for new visits.",
            money_of(&patient["outstanding"]),
            money_of(&patient["credit_limit"]),
            money_of(&patient["available_credit"])
        )
    );
    browser.screenshot("desktop", DESKTOP);
    assert_no_console_errors(&browser);
}
