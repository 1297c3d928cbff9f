//! The hospital desk: its open visits with their authorizations, and a day's settlements
//! (today's by default), as the desk endpoints return them.

use serde_json::{json, Value};

use crate::support::{
    china_time, count_of, fixture, money_of, HOSPITAL, OPEN_TODAY, SETTLED_TODAY,
};
use crate::webdriver::{browser_or_skip, Browser, DESKTOP};
use crate::{assert_no_console_errors, cards, sign_in, table_footer, table_rows, wait_loaded};

fn settlement_rows(settlements: &Value) -> Vec<Vec<String>> {
    let status = |value: &Value| match value.as_str().unwrap() {
        "settled" => "Settled",
        "paid" => "Paid",
        "overdue" => "Overdue",
        "defaulted" => "Defaulted",
        "written_off" => "Written off",
        other => panic!("a settled visit is not {other}"),
    };
    settlements["settlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|settlement| {
            vec![
                settlement["visit_id"].as_str().unwrap().to_owned(),
                settlement["patient_id"].as_str().unwrap().to_owned(),
                china_time(&settlement["settled_at"]),
                money_of(&settlement["total"]),
                money_of(&settlement["fund_paid"]),
                money_of(&settlement["msa_paid"]),
                money_of(&settlement["financed"]),
                money_of(&settlement["collect_now"]),
                china_time(&settlement["due_at"]),
                status(&settlement["status"]).to_owned(),
            ]
        })
        .collect()
}

fn assert_settlements_shown(browser: &Browser, settlements: &Value) {
    let totals = &settlements["totals"];
    assert_eq!(
        table_rows(browser, "settlements"),
        settlement_rows(settlements)
    );
    let shown = cards(browser, "settlement-totals");
    for field in ["total", "fund_paid", "msa_paid", "financed", "collect_now"] {
        assert_eq!(shown[field], money_of(&totals[field]), "{field}");
    }
    let footer = table_footer(browser, "settlements");
    assert_eq!(footer[3], money_of(&totals["total"]));
    assert_eq!(footer[6], money_of(&totals["financed"]));
    assert_eq!(
        browser.text_of("[data-field=settlements-summary]"),
        format!(
            "Visits settled: {}. Bills {}, paid by the fund {}, medical accounts {}, credit lines \
             {}, at the counter {}.",
            count_of(&settlements["count"]),
            money_of(&totals["total"]),
            money_of(&totals["fund_paid"]),
            money_of(&totals["msa_paid"]),
            money_of(&totals["financed"]),
            money_of(&totals["collect_now"]),
        )
    );
}

#[test]
fn the_hospital_desk_shows_open_visits_and_todays_settlements() {
    let Some(browser) = browser_or_skip("hospital") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;
    let token = &fixture.hospital;
    sign_in(&browser, server, token, "hospital");

    let hospital = server.get(&format!("/v1/hospitals/{HOSPITAL}"), token);
    assert_eq!(
        browser.text_of("#hospital-body [data-hospital]"),
        format!(
            "{} · hospital {HOSPITAL} · level {}",
            hospital["name"].as_str().unwrap(),
            hospital["level"]
        )
    );

    // Open visits and their authorizations.
    let open = server.get(&format!("/v1/hospitals/{HOSPITAL}/open-visits"), token);
    let visits = open["visits"].as_array().unwrap();
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0]["visit_id"], OPEN_TODAY);
    let expected: Vec<Vec<String>> = visits
        .iter()
        .map(|visit| {
            vec![
                visit["visit_id"].as_str().unwrap().to_owned(),
                visit["patient_id"].as_str().unwrap().to_owned(),
                "Outpatient".to_owned(),
                china_time(&visit["opened_at"]),
                money_of(&visit["estimated_amount"]),
                money_of(&visit["authorized_amount"]),
                money_of(&visit["credit_held"]),
                money_of(&visit["total"]),
            ]
        })
        .collect();
    assert_eq!(table_rows(&browser, "open-visits"), expected);
    assert_eq!(
        browser.text_of("[data-field=open-summary]"),
        format!(
            "Open visits: {}. Authorized {}; held on patients' credit now {}.",
            count_of(&open["count"]),
            money_of(&open["authorized_total"]),
            money_of(&open["credit_held_total"])
        )
    );

    // Today's settlements (the page's day is today in UTC+8).
    let day = browser
        .execute(
            "return document.getElementById('settlement-date').value",
            json!([]),
        )
        .as_str()
        .unwrap()
        .to_owned();
    let today = server.get(
        &format!("/v1/hospitals/{HOSPITAL}/settlements?date={day}"),
        token,
    );
    let settled: Vec<&str> = today["settlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|settlement| settlement["visit_id"].as_str().unwrap())
        .collect();
    assert_eq!(settled, SETTLED_TODAY);
    assert_settlements_shown(&browser, &today);
    browser.screenshot("today", DESKTOP);

    // Another day: a simulated one with several settlements.
    let (date, that_day) = (1..=31)
        .map(|day| format!("2026-03-{day:02}"))
        .map(|date| {
            let path = format!("/v1/hospitals/{HOSPITAL}/settlements?date={date}");
            let settlements = server.get(&path, token);
            (date, settlements)
        })
        .find(|(_, settlements)| settlements["count"].as_u64().unwrap() >= 2)
        .expect("a day of March 2026 with settlements");
    browser.execute(
        "document.getElementById('settlement-date').value = arguments[0];",
        json!([date]),
    );
    browser.click("#hospital-day button[type=submit]");
    browser.wait_until(
        "the settlements of the other day",
        "const panel = document.querySelector('[data-panel=settlements]'); \
         return panel && panel.dataset.date === arguments[0];",
        json!([date]),
    );
    wait_loaded(&browser, "hospital");
    assert_settlements_shown(&browser, &that_day);
    assert_eq!(
        browser.text_of("#hospital-day-title"),
        format!("Settlements of {date}")
    );
    browser.screenshot("day", DESKTOP);
    assert_no_console_errors(&browser);
}
