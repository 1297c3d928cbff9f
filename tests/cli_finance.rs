//! `treatfirst simulate` and `treatfirst report` through the binary: a small city is the same
//! for the same seed, its data directory verifies, and every report reads it.

use std::path::Path;
use std::process::Command;

fn treatfirst(arguments: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_treatfirst"))
        .args(arguments)
        .output()
        .expect("treatfirst runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn simulate(data_dir: &Path, seed: &str) -> String {
    simulate_days(data_dir, seed, "75")
}

fn simulate_days(data_dir: &Path, seed: &str, days: &str) -> String {
    let data_dir = data_dir.to_str().unwrap();
    let (ok, stdout, stderr) = treatfirst(&[
        "simulate",
        "--patients",
        "300",
        "--hospitals",
        "4",
        "--days",
        days,
        "--seed",
        seed,
        "--data-dir",
        data_dir,
        "--quiet",
    ]);
    assert!(ok, "{stdout}{stderr}");
    // The figures, without the line that reports the time taken and the directory.
    stdout
        .lines()
        .filter(|line| !line.starts_with("simulated ") && !line.starts_with("data directory"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn json_report(data_dir: &Path, arguments: &[&str]) -> serde_json::Value {
    let mut all = vec!["report"];
    all.extend_from_slice(arguments);
    all.extend_from_slice(&["--data-dir", data_dir.to_str().unwrap(), "--format", "json"]);
    let (ok, stdout, stderr) = treatfirst(&all);
    assert!(ok, "{all:?}: {stdout}{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

fn fen(value: &serde_json::Value) -> u64 {
    let text = value.as_str().expect("an amount");
    let (yuan, fen) = text.split_once('.').expect("two decimals");
    yuan.parse::<u64>().unwrap() * 100 + fen.parse::<u64>().unwrap()
}

#[test]
fn simulation_is_deterministic_and_its_reports_agree() {
    let directory = tempfile::tempdir().unwrap();
    let first = directory.path().join("first");
    let second = directory.path().join("second");
    let figures = simulate(&first, "42");
    assert_eq!(figures, simulate(&second, "42"), "same seed, same city");
    assert!(figures.contains("patients enrolled"), "{figures}");
    assert!(
        figures.contains("default rate by amount per 100,000"),
        "{figures}"
    );
    let other_seed = simulate(&directory.path().join("third"), "43");
    assert_ne!(figures, other_seed, "another seed, another city");

    let (ok, stdout, stderr) = treatfirst(&["verify", "--data-dir", first.to_str().unwrap()]);
    assert!(ok, "verify: {stdout}{stderr}");

    let headline = json_report(&first, &["headline"]);
    assert_eq!(headline["patients_enrolled"], 300);
    assert!(fen(&headline["credit_extended"]) > 0);
    let aging = json_report(&first, &["aging"]);
    let buckets: u64 = aging["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| fen(&row["amount"]))
        .sum();
    assert_eq!(buckets, fen(&aging["total"]));
    // Everything still owed is either in the aging or written off.
    let register = json_report(&first, &["write-offs"]);
    let written_off_owed: u64 = register["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| fen(&entry["outstanding"]))
        .sum();
    assert_eq!(
        fen(&aging["total"]) + written_off_owed,
        fen(&headline["outstanding"])
    );
    let defaults = json_report(&first, &["defaults"]);
    assert_eq!(defaults["credit_extended"], headline["credit_extended"]);
    assert_eq!(defaults["defaulted_amount"], headline["defaulted"]);
    assert!(defaults["vintages"].as_array().unwrap().len() >= 2);
    let allowance = json_report(&first, &["allowance"]);
    let opening = fen(&allowance["opening"]) + fen(&allowance["charge"]);
    let closing = fen(&allowance["closing"])
        + fen(&allowance["write_offs"])
        + fen(&allowance["released_on_recovery"])
        + fen(&allowance["released_on_refund"]);
    assert_eq!(opening, closing);
    let provision = json_report(
        &first,
        &[
            "provision",
            "--loss-rates",
            r#"{"current": "0.01", "1-7": "0.05", "8-30": "0.2", "31-60": "0.6", "61-90": "0.8", "91+": "1"}"#,
        ],
    );
    assert_eq!(provision["total_balance"], aging["total"]);
    let derived = json_report(&first, &["provision"]);
    assert_eq!(derived["source"], "derived");
}

#[test]
fn reports_print_tables_csv_and_charts() {
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");
    simulate(&data_dir, "5");
    let data = data_dir.to_str().unwrap();
    let aging_svg = directory.path().join("aging.svg");
    let (ok, stdout, stderr) = treatfirst(&[
        "report",
        "aging",
        "--data-dir",
        data,
        "--chart",
        aging_svg.to_str().unwrap(),
    ]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.starts_with("hospital"), "{stdout}");
    for bucket in ["current", "1-7", "8-30", "31-60", "61-90", "91+"] {
        assert!(stdout.lines().next().unwrap().contains(bucket), "{stdout}");
    }
    let svg = std::fs::read_to_string(&aging_svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{svg}");
    let vintage_svg = directory.path().join("vintages.svg");
    let (ok, stdout, stderr) = treatfirst(&[
        "report",
        "defaults",
        "--data-dir",
        data,
        "--chart",
        vintage_svg.to_str().unwrap(),
    ]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("definition: A visit defaults"), "{stdout}");
    let svg = std::fs::read_to_string(&vintage_svg).unwrap();
    assert!(svg.contains("<polyline") || svg.contains("<path"), "{svg}");
    let (ok, stdout, _) =
        treatfirst(&["report", "provision", "--data-dir", data, "--format", "csv"]);
    assert!(ok);
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("bucket,balance,visits,loss_rate,allowance")
    );
    assert_eq!(lines.count(), 7, "{stdout}");
    let (ok, _, stderr) =
        treatfirst(&["report", "headline", "--data-dir", data, "--chart", "x.svg"]);
    assert!(!ok);
    assert!(stderr.contains("--chart"), "{stderr}");
    let empty = directory.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (ok, _, stderr) = treatfirst(&["report", "aging", "--data-dir", empty.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("not a treatfirst data directory"),
        "{stderr}"
    );
}

#[test]
fn reconcile_fund_and_channel_files_from_the_cli() {
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");
    // The simulation remits on days 4, 11, ..., 67: the fund shares of days 68 to 72 are
    // missing from an empty remittance file.
    simulate_days(&data_dir, "9", "73");
    let data = data_dir.to_str().unwrap();
    let empty = directory.path().join("empty.csv");
    std::fs::write(&empty, "reference,hospital_id,visit_id,amount\n").unwrap();
    let (ok, stdout, stderr) = treatfirst(&[
        "reconcile",
        "fund",
        "--data-dir",
        data,
        "--file",
        empty.to_str().unwrap(),
    ]);
    assert!(ok, "{stdout}{stderr}");
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["matched"], 0);
    let missing = result["missing"].as_array().unwrap();
    assert!(!missing.is_empty(), "{stdout}");
    // A file remitting the first missing visit: posted once, then matched without posting.
    let first = &missing[0];
    let file = directory.path().join("fund.csv");
    std::fs::write(
        &file,
        format!(
            "reference,hospital_id,visit_id,amount\nR1,{},{},{}\n",
            first["hospital_id"].as_str().unwrap(),
            first["visit_id"].as_str().unwrap(),
            first["fund_share"].as_str().unwrap()
        ),
    )
    .unwrap();
    for posted in [1, 0] {
        let (ok, stdout, stderr) = treatfirst(&[
            "reconcile",
            "fund",
            "--data-dir",
            data,
            "--file",
            file.to_str().unwrap(),
        ]);
        assert!(ok, "{stdout}{stderr}");
        let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(result["matched"], 1);
        assert_eq!(result["posted"], posted);
    }
    let bad = directory.path().join("bad.csv");
    std::fs::write(&bad, "payment_id,amount,channel\nPAY-X,12.345,alipay\n").unwrap();
    let (ok, _, stderr) = treatfirst(&[
        "reconcile",
        "channel",
        "--data-dir",
        data,
        "--file",
        bad.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("line 2"), "{stderr}");
    let (ok, stdout, stderr) = treatfirst(&["verify", "--data-dir", data]);
    assert!(ok, "{stdout}{stderr}");
}
