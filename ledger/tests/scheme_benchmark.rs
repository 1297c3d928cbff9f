//! The settle workload (open + charge + settle per visit, durable). Ignored by default: run
//! `cargo test --release -p treatfirst-ledger --test scheme_benchmark -- --ignored --nocapture`.

use treatfirst_ledger::scheme::bench::{run_settle_benchmark, SettleBenchmark};

fn seconds() -> u64 {
    std::env::var("SETTLE_BENCH_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(5)
}

#[test]
fn a_short_settle_run_settles_visits() {
    let directory = tempfile::tempdir().unwrap();
    let settings = SettleBenchmark {
        seconds: 1,
        clients: 4,
        visits_per_submission: 2,
        patients: 100,
    };
    let report = run_settle_benchmark(directory.path(), settings).unwrap();
    assert!(report.visits > 0);
    assert!(report.commit_groups > 0);
}

#[test]
#[ignore = "a benchmark: run it in release mode"]
fn settles_per_second() {
    for (clients, visits_per_submission) in [(64, 1), (256, 1), (64, 16)] {
        let directory = tempfile::tempdir().unwrap();
        let settings = SettleBenchmark {
            seconds: seconds(),
            clients,
            visits_per_submission,
            ..SettleBenchmark::default()
        };
        let report = run_settle_benchmark(directory.path(), settings).unwrap();
        println!(
            "clients={clients} visits_per_submission={visits_per_submission} settles_per_second={} visits={} commit_groups={}",
            report.settles_per_second, report.visits, report.commit_groups
        );
    }
}
