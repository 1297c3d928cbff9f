//! The finance dashboard shows exactly the figures of the report endpoints: headline, aging
//! (chart and tables), default rates by hospital, vintage curves, the write-off register.

use serde_json::{json, Value};

use crate::support::{china_day, count_of, fixture, money_of, sum};
use crate::webdriver::{browser_or_skip, Browser, DESKTOP};
use crate::{assert_no_console_errors, cards, sign_in, table_footer, table_rows};

const BUCKETS: [(&str, &str); 6] = [
    ("current", "Not yet due"),
    ("1-7", "1–7 days"),
    ("8-30", "8–30 days"),
    ("31-60", "31–60 days"),
    ("61-90", "61–90 days"),
    ("91+", "91+ days"),
];
/// The write-off register rows the page lists.
const WRITE_OFFS_LISTED_MAX: usize = 200;

fn query_value(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

/// The rows of a bar chart: (label, value shown, bar width).
fn chart_rows(browser: &Browser, name: &str) -> Vec<(String, String, f64)> {
    serde_json::from_value(browser.execute(
        "return Array.from(document.querySelectorAll(`svg[data-chart=\"${arguments[0]}\"] g.row`)) \
           .map((row) => [row.dataset.label, row.dataset.value, \
                          Number(row.querySelector('rect').getAttribute('width'))]);",
        json!([name]),
    ))
    .expect("chart rows")
}

#[test]
fn the_dashboard_shows_the_figures_of_the_reports() {
    let Some(browser) = browser_or_skip("dashboard") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;
    let token = &fixture.finance;
    sign_in(&browser, server, token, "finance");

    // The same calls the page made: the aging's instant and the range it shows.
    let as_of = text(&browser.execute(
        "return document.getElementById('finance-as-of').dataset.asOf",
        json!([]),
    ));
    let from = text(&browser.execute(
        "return document.getElementById('range-from').value",
        json!([]),
    ));
    let to = text(&browser.execute(
        "return document.getElementById('range-to').value",
        json!([]),
    ));
    let headline = server.get("/v1/reports/headline", token);
    let aging = server.get(
        &format!("/v1/reports/aging?as_of={}", query_value(&as_of)),
        token,
    );
    let defaults = server.get(
        &format!(
            "/v1/reports/defaults?from={from}&to={to}&as_of={}",
            query_value(&as_of)
        ),
        token,
    );
    let register = server.get("/v1/reports/write-offs", token);
    // The simulated city has defaults, recoveries and write-offs to show.
    for figure in ["defaulted", "recovered", "written_off"] {
        assert_ne!(headline[figure], "0.00", "{figure}: {headline}");
    }

    // Headline.
    let shown = cards(&browser, "headline");
    for field in [
        "credit_extended",
        "repaid",
        "defaulted",
        "recovered",
        "outstanding",
        "written_off",
    ] {
        assert_eq!(shown[field], money_of(&headline[field]), "{field}");
    }
    for field in ["default_rate_per_100_000", "net_default_rate_per_100_000"] {
        assert_eq!(shown[field], text(&headline[field]), "{field}");
    }
    for field in ["patients_enrolled", "hospitals", "visits_settled"] {
        assert_eq!(shown[field], count_of(&headline[field]), "{field}");
    }

    // Aging: the table, the chart, by hospital.
    let buckets = aging["buckets"].as_array().expect("buckets");
    let expected: Vec<Vec<String>> = buckets
        .iter()
        .zip(BUCKETS)
        .map(|(bucket, (name, label))| {
            assert_eq!(bucket["bucket"], name);
            vec![
                label.to_owned(),
                money_of(&bucket["amount"]),
                count_of(&bucket["count"]),
            ]
        })
        .collect();
    assert_eq!(table_rows(&browser, "aging"), expected);
    assert_eq!(
        table_footer(&browser, "aging"),
        vec![
            "Total".to_owned(),
            money_of(&aging["total"]),
            count_of(&aging["count"])
        ]
    );
    let owing_buckets = buckets
        .iter()
        .filter(|bucket| bucket["amount"] != "0.00")
        .count();
    assert!(
        owing_buckets >= 3,
        "the aging has figures to chart: {aging}"
    );
    let bars = chart_rows(&browser, "aging");
    assert_eq!(bars.len(), 6);
    for ((label, value, width), bucket) in bars.iter().zip(buckets) {
        assert_eq!(*value, money_of(&bucket["amount"]), "{label}");
        assert_eq!(
            *width == 0.0,
            bucket["amount"] == "0.00",
            "{label}: {width}"
        );
    }
    // The longest bar is the largest amount.
    let fen = |amount: &Value| -> u64 { text(amount).replace('.', "").parse().expect("fen") };
    let largest = buckets
        .iter()
        .map(|bucket| fen(&bucket["amount"]))
        .max()
        .unwrap();
    let widest = bars.iter().map(|bar| bar.2).fold(0.0, f64::max);
    for (bar, bucket) in bars.iter().zip(buckets) {
        assert_eq!(
            bar.2 == widest,
            fen(&bucket["amount"]) == largest,
            "{bar:?}"
        );
    }
    let by_hospital: Vec<Vec<String>> = aging["by_hospital"]
        .as_array()
        .expect("by hospital")
        .iter()
        .map(|hospital| {
            let mut row = vec![text(&hospital["hospital_id"])];
            row.extend(
                hospital["buckets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|bucket| money_of(&bucket["amount"])),
            );
            row.push(money_of(&hospital["total"]));
            row
        })
        .collect();
    assert!(!by_hospital.is_empty());
    assert_eq!(table_rows(&browser, "aging-hospitals"), by_hospital);

    // Default rates: the range's figures, by hospital (chart and table).
    let shown = cards(&browser, "defaults");
    for field in [
        "credit_extended",
        "defaulted_amount",
        "recovered_amount",
        "net_defaulted_amount",
    ] {
        assert_eq!(shown[field], money_of(&defaults[field]), "{field}");
    }
    for field in [
        "default_rate_by_amount",
        "net_default_rate_by_amount",
        "default_rate_by_count",
        "default_rate_by_patient",
    ] {
        assert_eq!(shown[field], text(&defaults[field]), "{field}");
    }
    let hospitals = defaults["by_hospital"].as_array().expect("by hospital");
    assert!(hospitals
        .iter()
        .any(|hospital| hospital["default_rate_by_amount"] != "0.000000"));
    let expected: Vec<Vec<String>> = hospitals
        .iter()
        .map(|hospital| {
            vec![
                text(&hospital["hospital_id"]),
                money_of(&hospital["credit_extended"]),
                money_of(&hospital["defaulted_amount"]),
                money_of(&hospital["recovered_amount"]),
                text(&hospital["default_rate_by_amount"]),
                text(&hospital["default_rate_by_count"]),
            ]
        })
        .collect();
    assert_eq!(table_rows(&browser, "defaults-hospitals"), expected);
    let bars = chart_rows(&browser, "defaults-hospitals");
    let shown: Vec<(String, String)> = bars
        .iter()
        .map(|(label, value, _)| (label.clone(), value.clone()))
        .collect();
    let expected: Vec<(String, String)> = hospitals
        .iter()
        .map(|hospital| {
            (
                text(&hospital["hospital_id"]),
                text(&hospital["default_rate_by_amount"]),
            )
        })
        .collect();
    assert_eq!(shown, expected);

    // Vintage curves: one line per cohort, one point per month; the table holds the rates.
    let curves = defaults["vintages"].as_array().expect("vintages");
    assert!(curves.len() >= 2, "{curves:?}");
    let months = curves
        .iter()
        .flat_map(|curve| curve["points"].as_array().unwrap())
        .map(|point| point["months_since_settlement"].as_u64().unwrap())
        .max()
        .unwrap();
    let expected: Vec<Vec<String>> = curves
        .iter()
        .map(|curve| {
            let mut row = vec![text(&curve["cohort"]), money_of(&curve["credit_extended"])];
            for month in 0..=months {
                let point = curve["points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|point| point["months_since_settlement"] == month);
                row.push(
                    point.map_or_else(String::new, |point| text(&point["default_rate_by_amount"])),
                );
            }
            row
        })
        .collect();
    assert_eq!(table_rows(&browser, "vintages"), expected);
    let drawn = browser.execute(
        "return Array.from(document.querySelectorAll('svg[data-chart=vintages] g.series')) \
           .map((series) => [series.dataset.series, series.querySelectorAll('circle').length]);",
        json!([]),
    );
    let expected: Vec<Value> = curves
        .iter()
        .map(|curve| json!([curve["cohort"], curve["points"].as_array().unwrap().len()]))
        .collect();
    assert_eq!(drawn, json!(expected));

    // The write-off register.
    let entries = register["entries"].as_array().expect("entries");
    assert!(!entries.is_empty());
    assert_eq!(
        browser.text_of("[data-field=write-offs-summary]"),
        format!(
            "Visits written off: {}. Written off {}; recovered since {}.",
            count_of(&register["count"]),
            money_of(&register["total_written_off"]),
            money_of(&register["total_recovered"])
        )
    );
    let expected: Vec<Vec<String>> = entries
        .iter()
        .take(WRITE_OFFS_LISTED_MAX)
        .map(|entry| {
            vec![
                text(&entry["visit_id"]),
                text(&entry["hospital_id"]),
                text(&entry["patient_id"]),
                china_day(&entry["written_off_at"]),
                money_of(&entry["amount"]),
                money_of(&entry["recovered"]),
                money_of(&entry["outstanding"]),
            ]
        })
        .collect();
    assert_eq!(table_rows(&browser, "write-offs"), expected);
    let outstanding: Vec<&Value> = entries.iter().map(|entry| &entry["outstanding"]).collect();
    assert_eq!(
        table_footer(&browser, "write-offs"),
        vec![
            "Total".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            money_of(&register["total_written_off"]),
            money_of(&register["total_recovered"]),
            crate::support::money(&sum(&outstanding)),
        ]
    );

    browser.screenshot("desktop", DESKTOP);
    assert_no_console_errors(&browser);
}

#[test]
fn another_range_shows_that_range_s_default_rates() {
    let Some(browser) = browser_or_skip("dashboard-range") else {
        return;
    };
    let fixture = fixture();
    let server = &fixture.server;
    sign_in(&browser, server, &fixture.finance, "finance");
    let as_of = text(&browser.execute(
        "return document.getElementById('finance-as-of').dataset.asOf",
        json!([]),
    ));
    // The first two simulated months only.
    browser.execute(
        "document.getElementById('range-from').value = '2026-01-01'; \
         document.getElementById('range-to').value = '2026-02-28';",
        json!([]),
    );
    browser.click("#finance-range button[type=submit]");
    browser.wait_until(
        "the new range",
        "const range = document.querySelector('[data-panel=defaults] [data-from]'); \
         return range && range.dataset.to === '2026-02-28' \
           && document.getElementById('finance').dataset.loaded === 'true';",
        json!([]),
    );
    let as_of_now = text(&browser.execute(
        "return document.getElementById('finance-as-of').dataset.asOf",
        json!([]),
    ));
    let instant = |text: &str| chrono::DateTime::parse_from_rfc3339(text).expect("an instant");
    assert!(
        instant(&as_of_now) >= instant(&as_of),
        "{as_of_now} before {as_of}"
    );
    let defaults = server.get(
        &format!(
            "/v1/reports/defaults?from=2026-01-01&to=2026-02-28&as_of={}",
            query_value(&as_of_now)
        ),
        &fixture.finance,
    );
    let cohorts: Vec<String> = defaults["vintages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|curve| text(&curve["cohort"]))
        .collect();
    assert_eq!(cohorts, ["2026-01", "2026-02"]);
    let shown = cards(&browser, "defaults");
    assert_eq!(
        shown["credit_extended"],
        money_of(&defaults["credit_extended"])
    );
    assert_eq!(
        shown["default_rate_by_amount"],
        text(&defaults["default_rate_by_amount"])
    );
    let rows: Vec<String> = table_rows(&browser, "vintages")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(rows, cohorts);
    assert_no_console_errors(&browser);
}
