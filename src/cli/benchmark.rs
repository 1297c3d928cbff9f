//! `treatfirst benchmark ...`: canonical workloads on a fresh temporary store, printing one
//! `name=value` figure per line.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Subcommand;
use treatfirst_ledger::{
    AccountId, AccountLimit, AccountSpec, Ledger, Leg, Money, TransferId, TransferRequest,
};

#[derive(Debug, Subcommand)]
pub enum Workload {
    /// Durable transfers between random accounts, in batches (like `tigerbeetle benchmark`).
    Ledger {
        /// How long the batched phase runs.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Transfers per batch.
        #[arg(long, default_value_t = 8_190)]
        batch: usize,
        /// Accounts the transfers move between.
        #[arg(long, default_value_t = 10_000)]
        accounts: usize,
        /// Concurrent batch submitters.
        #[arg(long, default_value_t = 4)]
        clients: usize,
    },
    /// Durable visits (open + charge + settle each) from concurrent clients.
    Settle {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Visits each client submits at once (1 = one visit per request).
        #[arg(long, default_value_t = 1)]
        visits_per_submission: usize,
    },
    /// The REST service end to end over loopback HTTP: settles and balance reads.
    Http(super::benchmark_http::HttpBenchmark),
}

pub fn run(workload: Workload) -> anyhow::Result<()> {
    match workload {
        Workload::Ledger {
            seconds,
            batch,
            accounts,
            clients,
        } => ledger(seconds, batch, accounts, clients),
        Workload::Settle {
            seconds,
            clients,
            visits_per_submission,
        } => settle(seconds, clients, visits_per_submission),
        Workload::Http(settings) => super::benchmark_http::run(settings),
    }
}

fn settle(seconds: u64, clients: usize, visits_per_submission: usize) -> anyhow::Result<()> {
    use treatfirst_ledger::scheme::bench::{run_settle_benchmark, SettleBenchmark};
    let directory = tempfile::tempdir()?;
    let settings = SettleBenchmark {
        seconds,
        clients,
        visits_per_submission,
        ..SettleBenchmark::default()
    };
    let report = run_settle_benchmark(directory.path(), settings)?;
    println!("visits={}", report.visits);
    println!("settles_per_second={}", report.settles_per_second);
    println!("commit_groups={}", report.commit_groups);
    println!("rss_mib={}", resident_mib());
    Ok(())
}

/// A small deterministic generator (xorshift): the workload is the same on every run.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn ledger(seconds: u64, batch: usize, accounts: usize, clients: usize) -> anyhow::Result<()> {
    anyhow::ensure!(accounts >= 2, "--accounts must be at least 2");
    anyhow::ensure!(
        (1..=treatfirst_ledger::engine::GROUP_COMMANDS_MAX).contains(&batch),
        "--batch must be 1..={}",
        treatfirst_ledger::engine::GROUP_COMMANDS_MAX
    );
    let directory = tempfile::tempdir()?;
    let ledger = Arc::new(Ledger::open(directory.path())?);
    let ids: Arc<Vec<AccountId>> = Arc::new(
        (0..accounts)
            .map(|index| AccountId::new(&format!("bench:{index}")).expect("valid id"))
            .collect(),
    );
    let opened = ledger.engine().submit_many(
        ids.iter()
            .map(|id| {
                treatfirst_ledger::LedgerCommand::OpenAccount(AccountSpec {
                    id: id.clone(),
                    limit: AccountLimit::Unbounded,
                })
            })
            .collect(),
    )?;
    anyhow::ensure!(opened.len() == accounts, "accounts opened");

    let counter = Arc::new(AtomicU64::new(0));
    let transfers_done = Arc::new(AtomicU64::new(0));
    let batch_latencies = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients.max(1))
        .map(|client| {
            let (ledger, ids, counter, done, latencies) = (
                Arc::clone(&ledger),
                Arc::clone(&ids),
                Arc::clone(&counter),
                Arc::clone(&transfers_done),
                Arc::clone(&batch_latencies),
            );
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut random = Sequence(0x9E37_79B9_7F4A_7C15 ^ (client as u64 + 1));
                while Instant::now() < deadline {
                    let requests = random_transfers(&mut random, &ids, &counter, batch);
                    let submitted = Instant::now();
                    let results = ledger.transfer_batch(requests)?;
                    let took = submitted.elapsed();
                    latencies.lock().expect("latencies").push(took);
                    anyhow::ensure!(
                        results.iter().all(Result::is_ok),
                        "a benchmark transfer was rejected"
                    );
                    done.fetch_add(results.len() as u64, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("benchmark client")?;
    }
    let elapsed = started.elapsed();
    let transfers = transfers_done.load(Ordering::Relaxed);
    let mut batch_latencies = batch_latencies.lock().expect("latencies");
    let batch_p50 = percentile(&mut batch_latencies, 0.50);
    let batch_p99 = percentile(&mut batch_latencies, 0.99);
    let batch_max = percentile(&mut batch_latencies, 1.0);
    drop(batch_latencies);

    let single_p99 = single_transfer_latency(&ledger, &ids, &counter)?;
    println!("transfers={transfers}");
    println!(
        "transfers_per_second={}",
        (transfers as f64 / elapsed.as_secs_f64()).round()
    );
    println!(
        "batch_latency_p50_ms={:.2}",
        batch_p50.as_secs_f64() * 1000.0
    );
    println!(
        "batch_latency_p99_ms={:.2}",
        batch_p99.as_secs_f64() * 1000.0
    );
    println!(
        "batch_latency_max_ms={:.2}",
        batch_max.as_secs_f64() * 1000.0
    );
    println!(
        "single_transfer_latency_p99_ms={:.2}",
        single_p99.as_secs_f64() * 1000.0
    );
    println!("rss_mib={}", resident_mib());
    Ok(())
}

fn random_transfers(
    random: &mut Sequence,
    ids: &[AccountId],
    counter: &AtomicU64,
    count: usize,
) -> Vec<TransferRequest> {
    (0..count)
        .map(|_| {
            let number = counter.fetch_add(1, Ordering::Relaxed);
            let debit = (random.next() % ids.len() as u64) as usize;
            let mut credit = (random.next() % ids.len() as u64) as usize;
            if credit == debit {
                credit = (credit + 1) % ids.len();
            }
            let amount = Money::from_fen(1 + random.next() % 100_000).expect("small amount");
            let id = TransferId::new(&format!("t{number}")).expect("valid id");
            TransferRequest::post(id, vec![Leg::new(&ids[debit], &ids[credit], amount)])
        })
        .collect()
}

/// Latency of one transfer per request, with 16 clients submitting concurrently for 2 s.
fn single_transfer_latency(
    ledger: &Arc<Ledger>,
    ids: &Arc<Vec<AccountId>>,
    counter: &Arc<AtomicU64>,
) -> anyhow::Result<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..16u64)
        .map(|client| {
            let (ledger, ids, counter, stop, latencies) = (
                Arc::clone(ledger),
                Arc::clone(ids),
                Arc::clone(counter),
                Arc::clone(&stop),
                Arc::clone(&latencies),
            );
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut random = Sequence(0xD1B5_4A32_D192_ED03 ^ (client + 1));
                let mut own = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let request = random_transfers(&mut random, &ids, &counter, 1)
                        .pop()
                        .expect("one");
                    let submitted = Instant::now();
                    let result = ledger.transfer(request)?;
                    own.push(submitted.elapsed());
                    anyhow::ensure!(result.is_ok(), "a benchmark transfer was rejected");
                }
                latencies.lock().expect("latencies").extend(own);
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("latency client")?;
    }
    let mut latencies = latencies.lock().expect("latencies");
    Ok(percentile(&mut latencies, 0.99))
}

pub(super) fn percentile(samples: &mut [Duration], quantile: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((samples.len() as f64 * quantile).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// Peak resident memory of this process, in MiB (Linux).
fn resident_mib() -> u64 {
    resident_mib_of("/proc/self/status")
}

/// Peak resident memory of the process whose `/proc/PID/status` is `status_path`, in MiB.
pub(super) fn resident_mib_of(status_path: &str) -> u64 {
    let status = std::fs::read_to_string(status_path).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib / 1024)
}
