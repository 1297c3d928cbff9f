//! The settle workload (open + charge + settle per visit, durable) runs end to end. The
//! figure comes from `treatfirst benchmark settle`.

use treatfirst_ledger::scheme::bench::{run_settle_benchmark, SettleBenchmark};

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
