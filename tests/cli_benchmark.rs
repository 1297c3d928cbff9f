//! `treatfirst benchmark ledger` as a user runs it: the canonical workload on a fresh
//! temporary store, one `name=value` figure per line (the figures themselves are measured in
//! the note of each change, never asserted here).

use std::collections::HashMap;
use std::process::{Command, Output};

fn treatfirst(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_treatfirst"))
        .args(arguments)
        .output()
        .expect("run treatfirst")
}

fn figures(output: &Output) -> HashMap<String, f64> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .map(|line| {
            let (name, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not a name=value line: {line:?}"));
            let value = value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("not a number: {line:?}"));
            (name.to_owned(), value)
        })
        .collect()
}

#[test]
fn benchmark_ledger_prints_every_figure_one_per_line() {
    let output = treatfirst(&[
        "benchmark",
        "ledger",
        "--seconds",
        "1",
        "--batch",
        "200",
        "--accounts",
        "50",
        "--clients",
        "2",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figures = figures(&output);
    for name in [
        "transfers",
        "transfers_per_second",
        "batch_latency_p50_ms",
        "batch_latency_p99_ms",
        "batch_latency_max_ms",
        "single_transfer_latency_p99_ms",
        "rss_mib",
    ] {
        assert!(figures.contains_key(name), "{name} missing: {figures:?}");
    }
    // Transfers were made durable in whole batches, and the figures are consistent.
    let transfers = figures["transfers"];
    assert!(
        transfers >= 200.0 && transfers % 200.0 == 0.0,
        "{figures:?}"
    );
    assert!(figures["transfers_per_second"] > 0.0);
    assert!(figures["batch_latency_p50_ms"] <= figures["batch_latency_p99_ms"]);
    assert!(figures["batch_latency_p99_ms"] <= figures["batch_latency_max_ms"]);
    assert!(figures["single_transfer_latency_p99_ms"] > 0.0);
    assert!(figures["rss_mib"] > 0.0);
}

#[test]
fn benchmark_ledger_refuses_impossible_settings_clearly() {
    for (flag, value, message) in [
        ("--accounts", "1", "--accounts must be at least 2"),
        ("--batch", "0", "--batch must be 1..="),
        ("--batch", "1000000", "--batch must be 1..="),
    ] {
        let output = treatfirst(&["benchmark", "ledger", "--seconds", "1", flag, value]);
        assert!(!output.status.success(), "{flag} {value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{flag} {value}: {stderr}");
        assert!(output.stdout.is_empty(), "nothing measured: {flag} {value}");
    }
}
