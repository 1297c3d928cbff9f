//! The server the browser tests drive: `treatfirst simulate` writes a small city (a
//! deterministic seed, simulated up to about now) once; each test copies it into its own
//! temporary data directory and runs `treatfirst serve` on it on port 0; a few visits of
//! today are added over the API.
//! Also: a plain HTTP client for the API (to read the figures the pages must show) and the
//! formatting rules of the pages (amounts grouped by thousands, times in UTC+8).

#[path = "../common/listening.rs"]
mod listening;
#[path = "../common/request.rs"]
mod request;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Value};

pub const ADMIN_TOKEN: &str = "ui-test-admin-token";
/// The simulated city: small enough to simulate in a few seconds on 2 cores.
const PATIENTS: u32 = 600;
const HOSPITALS: u32 = 5;
const SEED: u64 = 1;
/// The first simulated day (`simulate`'s start: 2026-01-05T00:30:00Z).
const SIMULATION_START_SECONDS: i64 = 1_767_573_000;
/// Simulated days: up to yesterday evening, at least a month, at most about a year (a
/// longer run only makes the test slower).
const SIMULATED_DAYS_MIN: i64 = 30;
const SIMULATED_DAYS_MAX: i64 = 400;

/// The hospital and patient the tests add visits for (today).
pub const HOSPITAL: &str = "H0000";
pub const PATIENT: &str = "UI-P1";

/// A running server over simulated data.
pub struct Server {
    pub base_url: String,
    child: Child,
    agent: ureq::Agent,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many days to simulate so that the simulation ends before now (its last delinquency
/// run is at 12:30 UTC of its last day) and the aging as of now has every bucket.
fn simulated_days() -> i64 {
    let elapsed = Utc::now().timestamp() - SIMULATION_START_SECONDS - 13 * 3600;
    (elapsed / 86_400).clamp(SIMULATED_DAYS_MIN, SIMULATED_DAYS_MAX)
}

fn simulate(data_dir: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_treatfirst"))
        .args(["simulate", "--quiet"])
        .args(["--patients", &PATIENTS.to_string()])
        .args(["--hospitals", &HOSPITALS.to_string()])
        .args(["--days", &simulated_days().to_string()])
        .args(["--seed", &SEED.to_string()])
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("treatfirst simulate runs");
    assert!(
        output.status.success(),
        "simulate failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The simulated city, simulated once per day's length and build of the binary and kept in
/// `CARGO_TARGET_TMPDIR` (tests copy it: simulating takes seconds, copying milliseconds).
fn simulated_city() -> PathBuf {
    static CITY: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut city = CITY.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(path) = city.as_ref() {
        return path.clone();
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_treatfirst"));
    let built = binary
        .metadata()
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| modified.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_secs());
    let key = format!(
        "ui-city-{PATIENTS}p-{HOSPITALS}h-seed{SEED}-{}d-{built}",
        simulated_days()
    );
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = root.join(&key);
    if !path.join(COMPLETE).exists() {
        // Older cities (another day, another build) go.
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("ui-city-") && name != key {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let staging = tempfile::Builder::new()
            .prefix("ui-staging-")
            .tempdir_in(root)
            .expect("a staging directory");
        simulate(&staging.path().join("data"));
        std::fs::write(staging.path().join(COMPLETE), b"").expect("the marker");
        // Another test binary may have finished first: then its city is used.
        if std::fs::rename(staging.path(), &path).is_err() {
            assert!(
                path.join(COMPLETE).exists(),
                "{} is incomplete",
                path.display()
            );
        }
    }
    *city = Some(path.clone());
    path
}

/// Written last into a simulated city's directory.
const COMPLETE: &str = "complete";

fn copy_directory(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("a directory to copy") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_directory(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copy");
        }
    }
}

/// Starts the server on a copy of the simulated city.
pub fn simulated_server() -> Server {
    let data = tempfile::tempdir().expect("a temporary directory");
    let data_dir = data.path().join("data");
    copy_directory(&simulated_city().join("data"), &data_dir);
    start(data, data_dir)
}

/// Starts the server on an empty data directory.
pub fn empty_server() -> Server {
    let data = tempfile::tempdir().expect("a temporary directory");
    let data_dir = data.path().join("data");
    start(data, data_dir)
}

fn start(data: tempfile::TempDir, data_dir: PathBuf) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_treatfirst"));
    command
        .arg("serve")
        .env("TREATFIRST_BIND", "127.0.0.1:0")
        .env("TREATFIRST_DATA_DIR", &data_dir)
        .env("TREATFIRST_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("TREATFIRST_LOG", "warn")
        .env("TREATFIRST_WORKERS", "2")
        .env_remove("TREATFIRST_DATABASE_URL")
        .stderr(Stdio::inherit());
    let (child, base_url) = listening::spawn_listening(command);
    Server {
        base_url,
        child,
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build(),
        _data: data,
    }
}

/// A response: status and body (JSON when it parses, else a string).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: Option<&[u8]>,
    ) -> Reply {
        let response = request::send(
            &self.agent,
            method,
            &self.url(path),
            Some(token),
            content_type,
            body,
        );
        Reply {
            status: response.status(),
            body: request::body_of(response),
        }
    }

    /// GET `path` that must answer 200.
    pub fn get(&self, path: &str, token: &str) -> Value {
        let reply = self.send("GET", path, token, "", None);
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.body
    }

    /// POST JSON that must answer `status`.
    pub fn post(&self, path: &str, token: &str, body: &Value, status: u16) -> Value {
        let bytes = body.to_string();
        let reply = self.send(
            "POST",
            path,
            token,
            "application/json",
            Some(bytes.as_bytes()),
        );
        assert_eq!(reply.status, status, "POST {path}: {}", reply.body);
        reply.body
    }

    /// A new token for a grant (`{"role": ...}`).
    pub fn token(&self, grant: Value) -> String {
        self.post("/v1/tokens", ADMIN_TOKEN, &grant, 201)["token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }
}

/// The server with today's visits at [`HOSPITAL`] for [`PATIENT`], and a token per role.
pub struct Fixture {
    pub server: Server,
    pub finance: String,
    pub hospital: String,
    pub patient: String,
    pub channel: String,
}

fn charge() -> Value {
    json!({"charge_id": "C1", "items": [
        {"code": "CONSULT", "description": "consultation", "category": "A", "quantity": "1",
         "unit_price": "50.00"},
        {"code": "DRUG", "description": "medicine", "category": "B", "quantity": "2",
         "unit_price": "120.00", "self_pay_ratio": "0.10"},
        {"code": "OTHER", "description": "outside the catalogue", "category": "C",
         "quantity": "1", "unit_price": "40.00"}
    ]})
}

/// Visits of today: UI-V1 and UI-V3 settled, UI-V2 open (with a charge).
pub const SETTLED_TODAY: [&str; 2] = ["UI-V1", "UI-V3"];
pub const OPEN_TODAY: &str = "UI-V2";

/// Simulates, serves, and adds a patient with today's visits.
pub fn fixture() -> Fixture {
    let server = simulated_server();
    let enrolled = json!({"patient_id": PATIENT, "plan_id": "city", "member_type": "employee",
        "birth_date": "1985-03-01", "msa_balance": "80.00", "credit_limit": "3000.00"});
    server.post("/v1/patients", ADMIN_TOKEN, &enrolled, 201);
    let hospital = server.token(json!({"role": "hospital", "hospital_id": HOSPITAL}));
    for visit in ["UI-V1", "UI-V2", "UI-V3"] {
        let opened = json!({"visit_id": visit, "patient_id": PATIENT, "kind": "outpatient",
            "estimated_amount": "300.00"});
        server.post(
            &format!("/v1/hospitals/{HOSPITAL}/visits"),
            &hospital,
            &opened,
            201,
        );
        server.post(
            &format!("/v1/hospitals/{HOSPITAL}/visits/{visit}/charges"),
            &hospital,
            &charge(),
            201,
        );
    }
    for visit in SETTLED_TODAY {
        server.post(
            &format!("/v1/hospitals/{HOSPITAL}/visits/{visit}/settle"),
            &hospital,
            &json!({}),
            200,
        );
    }
    Fixture {
        finance: server.token(json!({"role": "finance"})),
        patient: server.token(json!({"role": "patient", "patient_id": PATIENT})),
        channel: server.token(json!({"role": "channel"})),
        hospital,
        server,
    }
}

impl Fixture {
    /// A simulated patient with something overdue and the most visits (a page with paid,
    /// overdue or defaulted visits at several hospitals).
    pub fn patient_with_overdue_visits(&self) -> String {
        (0..PATIENTS)
            .map(|index| format!("P{index:07}"))
            .filter_map(|patient_id| {
                let view = self
                    .server
                    .get(&format!("/v1/patients/{patient_id}"), ADMIN_TOKEN);
                (view["overdue"] != "0.00").then_some(patient_id)
            })
            .max_by_key(|patient_id| {
                self.server
                    .get(&format!("/v1/patients/{patient_id}/visits"), ADMIN_TOKEN)["visits"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .expect("the simulated city has a patient with something overdue")
    }
}

/// An amount as the pages show it: `"1234567.50"` -> `"¥1,234,567.50"`.
pub fn money(amount: &str) -> String {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, "00"));
    assert!(
        whole.bytes().all(|byte| byte.is_ascii_digit()) && fraction.len() == 2,
        "not an amount: {amount}"
    );
    format!("¥{}.{fraction}", group(whole))
}

/// Digits grouped by thousands: `"1234567"` -> `"1,234,567"`.
pub fn group(digits: &str) -> String {
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A JSON amount member as the pages show it.
pub fn money_of(value: &Value) -> String {
    money(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a string: {value}")),
    )
}

/// A count member as the pages show it.
pub fn count_of(value: &Value) -> String {
    group(
        &value
            .as_u64()
            .unwrap_or_else(|| panic!("not a count: {value}"))
            .to_string(),
    )
}

/// An RFC 3339 instant as the pages show it: `YYYY-MM-DD HH:MM` in UTC+8.
pub fn china_time(instant: &Value) -> String {
    china(instant).format("%Y-%m-%d %H:%M").to_string()
}

/// An RFC 3339 instant's date in UTC+8.
pub fn china_day(instant: &Value) -> String {
    china(instant).format("%Y-%m-%d").to_string()
}

fn china(instant: &Value) -> DateTime<FixedOffset> {
    let text = instant.as_str().expect("an instant");
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("{text}: {error}"))
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
}

/// The exact sum of amounts (decimal strings with two places), as a decimal string.
pub fn sum(amounts: &[&Value]) -> String {
    let fen: u64 = amounts
        .iter()
        .map(|amount| {
            let text = amount.as_str().expect("an amount");
            let (whole, fraction) = text.split_once('.').expect("two decimals");
            whole.parse::<u64>().expect("digits") * 100 + fraction.parse::<u64>().expect("digits")
        })
        .sum();
    format!("{}.{:02}", fen / 100, fen % 100)
}

#[test]
fn amounts_are_grouped_by_thousands_on_strings() {
    assert_eq!(money("0.00"), "¥0.00");
    assert_eq!(money("999.99"), "¥999.99");
    assert_eq!(money("1000.00"), "¥1,000.00");
    assert_eq!(money("1234567.50"), "¥1,234,567.50");
    assert_eq!(group("100000"), "100,000");
    assert_eq!(
        sum(&[&json!("0.10"), &json!("1999.95"), &json!("0.05")]),
        "2000.10"
    );
    assert_eq!(
        china_time(&json!("2026-01-05T16:30:00.123Z")),
        "2026-01-06 00:30"
    );
}
