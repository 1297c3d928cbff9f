//! `treatfirst benchmark http`: the service end to end. Starts `treatfirst serve` (this
//! binary) on a temporary store and port 0, and drives it over loopback HTTP with its own
//! load generator: one thread and one keep-alive connection per client.
//!
//! Phases: set-up (plan, hospitals, patients), preparation (open + charge the visits the
//! settle phase will settle), then the two timed phases:
//! - settle: `POST .../settle` requests from `clients` concurrent clients;
//! - balance reads: `GET /v1/patients/{id}` from `clients` concurrent clients.
//!
//! Load generator and server share the machine's cores, so the figures are a lower bound of
//! what the server alone sustains.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use treatfirst_ledger::journal::ScratchDatabase;

use super::benchmark::percentile;

#[derive(Debug, Clone, clap::Args)]
pub struct HttpBenchmark {
    /// How long each timed phase runs (at most).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients (one connection each).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Patients the visits and reads are spread over.
    #[arg(long, default_value_t = 5_000)]
    patients: usize,
    /// Visits prepared (opened and charged) for the settle phase.
    #[arg(long, default_value_t = 60_000)]
    visits: usize,
    /// HTTP worker threads of the server (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Run the server on the shared store: a fresh database is created on this PostgreSQL
    /// server for the run (and dropped after), instead of a temporary data directory.
    #[arg(long)]
    database_url: Option<String>,
}

const HOSPITALS: usize = 8;

pub fn run(settings: HttpBenchmark) -> anyhow::Result<()> {
    let directory = tempfile::tempdir()?;
    let database = settings
        .database_url
        .as_deref()
        .map(ScratchDatabase::create)
        .transpose()
        .context("creating the benchmark's database")?;
    let admin = format!("bench-{}", std::process::id());
    let mut server = Server::start(
        &directory.path().join("data"),
        database.as_ref().map(ScratchDatabase::url),
        &admin,
        settings.workers,
    )?;
    let base = server.base_url.clone();
    let outcome = drive(&base, &admin, &settings);
    let rss = server.resident_mib();
    server.stop();
    let figures = outcome?;
    for (name, value) in figures {
        println!("{name}={value}");
    }
    println!("server_rss_mib={rss}");
    Ok(())
}

fn drive(
    base: &str,
    admin: &str,
    settings: &HttpBenchmark,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let client = Client::new(base, admin);
    let hospital_tokens = set_up(&client, settings)?;
    let clients = settings.clients.max(1);

    // Preparation: every client opens and charges its share of the visits.
    let visits_per_client = settings.visits.div_ceil(clients);
    let prepared = run_clients(clients, |index| {
        let hospital = index % HOSPITALS;
        let client = Client::new(base, &hospital_tokens[hospital]);
        let mut visits = Vec::with_capacity(visits_per_client);
        for number in 0..visits_per_client {
            let visit = format!("V{index}-{number}");
            let patient = format!(
                "P{}",
                (index * visits_per_client + number) % settings.patients
            );
            let path = format!("/v1/hospitals/H{hospital}/visits");
            client.expect(
                "POST",
                &path,
                &json!({"visit_id": visit, "patient_id": patient, "kind": "outpatient",
                        "estimated_amount": "200.00"}),
                201,
            )?;
            client.expect(
                "POST",
                &format!("{path}/{visit}/charges"),
                &json!({"charge_id": "C1", "items": [
                    {"code": "A1", "description": "consultation", "category": "A",
                     "quantity": "1", "unit_price": "60.00"},
                    {"code": "B1", "description": "medicine", "category": "B",
                     "quantity": "2", "unit_price": "45.50", "self_pay_ratio": "0.10"}]}),
                201,
            )?;
            visits.push(format!("{path}/{visit}/settle"));
        }
        Ok(visits)
    })?;

    // Settle phase.
    let deadline = Duration::from_secs(settings.seconds);
    let started = Instant::now();
    let settle_latencies = run_clients(clients, |index| {
        let client = Client::new(base, &hospital_tokens[index % HOSPITALS]);
        let mut latencies = Vec::new();
        for path in &prepared[index] {
            if started.elapsed() >= deadline {
                break;
            }
            let sent = Instant::now();
            client.expect("POST", path, &json!({}), 200)?;
            latencies.push(sent.elapsed());
        }
        Ok(latencies)
    })?;
    let settle_elapsed = started.elapsed();
    let mut settle_latencies: Vec<Duration> = settle_latencies.into_iter().flatten().collect();
    let settles = settle_latencies.len();
    if settles == prepared.iter().map(Vec::len).sum::<usize>() {
        eprintln!("note: every prepared visit was settled before the deadline; raise --visits");
    }

    // Balance reads.
    let next_patient = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let read_latencies = std::thread::scope(|scope| -> anyhow::Result<Vec<Vec<Duration>>> {
        let workers: Vec<_> = (0..clients)
            .map(|index| {
                let (next_patient, stop) = (&next_patient, &stop);
                let token = &hospital_tokens[index % HOSPITALS];
                scope.spawn(move || -> anyhow::Result<Vec<Duration>> {
                    let client = Client::new(base, token);
                    let mut latencies = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let patient =
                            next_patient.fetch_add(1, Ordering::Relaxed) % settings.patients;
                        let sent = Instant::now();
                        client.expect_get(&format!("/v1/patients/P{patient}"))?;
                        latencies.push(sent.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        std::thread::sleep(deadline);
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .map_err(|_| anyhow::anyhow!("a reader panicked"))?
            })
            .collect()
    })?;
    let read_elapsed = started.elapsed();
    let mut read_latencies: Vec<Duration> = read_latencies.into_iter().flatten().collect();

    let per_second = |count: usize, elapsed: Duration| {
        format!("{}", (count as f64 / elapsed.as_secs_f64()).round() as u64)
    };
    let milliseconds = |latency: Duration| format!("{:.2}", latency.as_secs_f64() * 1000.0);
    Ok(vec![
        ("settles", settles.to_string()),
        ("settles_per_second", per_second(settles, settle_elapsed)),
        (
            "settle_p50_ms",
            milliseconds(percentile(&mut settle_latencies, 0.50)),
        ),
        (
            "settle_p99_ms",
            milliseconds(percentile(&mut settle_latencies, 0.99)),
        ),
        (
            "balance_reads_per_second",
            per_second(read_latencies.len(), read_elapsed),
        ),
        (
            "balance_read_p99_ms",
            milliseconds(percentile(&mut read_latencies, 0.99)),
        ),
        ("clients", clients.to_string()),
    ])
}

/// Plan, hospitals H0.. (level 2), patients P0.. and a token per hospital.
fn set_up(client: &Client, settings: &HttpBenchmark) -> anyhow::Result<Vec<String>> {
    let plan = json!({
        "currency": "CNY", "payment_window_hours": {"outpatient": 48, "inpatient": 48},
        "default_self_pay_ratio": "0.10", "msa_scope": "all",
        "rules": [{"member_type": "employee", "visit_kind": "outpatient", "hospital_level": 2,
                   "deductible": "100.00", "deductible_period": "year",
                   "bands": [{"up_to": "30000.00", "fund_ratio": "0.85"},
                             {"up_to": null, "fund_ratio": "0.90"}],
                   "annual_cap": "400000.00"}]});
    client.expect("PUT", "/v1/plans/city", &plan, 200)?;
    let mut tokens = Vec::with_capacity(HOSPITALS);
    for hospital in 0..HOSPITALS {
        client.expect(
            "PUT",
            &format!("/v1/hospitals/H{hospital}"),
            &json!({"name": format!("Hospital {hospital}"), "level": 2}),
            200,
        )?;
        let issued = client.expect(
            "POST",
            "/v1/tokens",
            &json!({"role": "hospital", "hospital_id": format!("H{hospital}")}),
            201,
        )?;
        tokens.push(issued["token"].as_str().context("a token")?.to_owned());
    }
    let patients = settings.patients.max(1);
    let clients = settings.clients.clamp(1, 16);
    run_clients(clients, |index| {
        for patient in (index..patients).step_by(clients) {
            client.expect(
                "POST",
                "/v1/patients",
                &json!({"patient_id": format!("P{patient}"), "plan_id": "city",
                        "member_type": "employee", "birth_date": "1985-03-01",
                        "msa_balance": "100.00", "credit_limit": "1000000.00"}),
                201,
            )?;
        }
        Ok(())
    })?;
    Ok(tokens)
}

/// Runs `work(index)` on `clients` threads and collects the results in order.
fn run_clients<T: Send>(
    clients: usize,
    work: impl Fn(usize) -> anyhow::Result<T> + Sync,
) -> anyhow::Result<Vec<T>> {
    std::thread::scope(|scope| {
        let work = &work;
        let threads: Vec<_> = (0..clients)
            .map(|index| scope.spawn(move || work(index)))
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("a client panicked"))?
            })
            .collect()
    })
}

/// One keep-alive connection with a bearer token.
struct Client {
    agent: ureq::Agent,
    base: String,
    authorization: String,
}

impl Client {
    fn new(base: &str, token: &str) -> Client {
        Client {
            agent: ureq::AgentBuilder::new()
                .max_idle_connections_per_host(1)
                .timeout(Duration::from_secs(60))
                .build(),
            base: base.to_owned(),
            authorization: format!("Bearer {token}"),
        }
    }

    fn expect(&self, method: &str, path: &str, body: &Value, status: u16) -> anyhow::Result<Value> {
        let response = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &self.authorization)
            .send_json(body);
        Self::check(method, path, response, status)
    }

    fn expect_get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Authorization", &self.authorization)
            .call();
        Self::check("GET", path, response, 200)
    }

    fn check(
        method: &str,
        path: &str,
        response: Result<ureq::Response, ureq::Error>,
        status: u16,
    ) -> anyhow::Result<Value> {
        let response = match response {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => bail!("{method} {path}: {error}"),
        };
        let got = response.status();
        let body: Value = response.into_json().unwrap_or(Value::Null);
        if got != status {
            bail!("{method} {path}: expected {status}, got {got}: {body}");
        }
        Ok(body)
    }
}

/// The server under test: this binary's `serve`, as a child process.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(
        data_dir: &std::path::Path,
        database_url: Option<&str>,
        admin: &str,
        workers: Option<usize>,
    ) -> anyhow::Result<Server> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("serve")
            .env("TREATFIRST_BIND", "127.0.0.1:0")
            .env("TREATFIRST_DATA_DIR", data_dir)
            .env("TREATFIRST_ADMIN_TOKEN", admin)
            // Per-request logs at info would measure the terminal, not the service.
            .env("TREATFIRST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(workers) = workers {
            command.env("TREATFIRST_WORKERS", workers.to_string());
        }
        match database_url {
            Some(url) => command.env("TREATFIRST_DATABASE_URL", url),
            None => command.env_remove("TREATFIRST_DATABASE_URL"),
        };
        let mut child = command.spawn().context("starting treatfirst serve")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base_url = loop {
            match lines.next() {
                Some(line) => {
                    if let Some(url) = line?.strip_prefix("listening on ") {
                        break url.trim().to_owned();
                    }
                }
                None => bail!("the server exited before listening"),
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Ok(Server { child, base_url })
    }

    /// Peak resident memory of the server process, in MiB.
    fn resident_mib(&self) -> u64 {
        super::benchmark::resident_mib_of(&format!("/proc/{}/status", self.child.id()))
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
