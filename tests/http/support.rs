//! `spawn_app()`: the real `treatfirst serve` binary on port 0 over a temporary data
//! directory, and a small client that returns every status (4xx and 5xx included).
//!
//! The backend is the embedded store unless `TREATFIRST_TEST_BACKEND=postgres`: then every
//! server gets a database of its own on the server `TREATFIRST_TEST_DATABASE_URL` names, and
//! the same suite runs against the shared store.

#[path = "../common/listening.rs"]
mod listening;
#[path = "../common/request.rs"]
mod request;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use treatfirst_ledger::journal::ScratchDatabase;

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running server. Dropping it kills the process (the data directory goes with it
/// unless it was handed over).
pub struct App {
    pub base_url: String,
    /// Where the ledger is (pass it to [`start_on`] to restart on the same ledger).
    pub ledger: LedgerPlace,
    child: Option<Child>,
    _temporary: Option<tempfile::TempDir>,
    agent: ureq::Agent,
}

/// A response: status, body (JSON when it parses, else a string) and headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
    pub replayed: bool,
}

impl Reply {
    /// The body's string member `name` (amounts, ids).
    pub fn text(&self, name: &str) -> &str {
        self.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no string {name} in {}", self.body))
    }

    /// The problem code of an error response.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// Starts the server on a fresh temporary data directory.
pub fn spawn_app() -> App {
    let temporary = tempfile::tempdir().expect("a temporary directory");
    let data_dir = temporary.path().join("data");
    let mut app = start(&data_dir, &[]);
    app._temporary = Some(temporary);
    app
}

/// Where a server keeps its ledger: a data directory, and on the PostgreSQL backend a
/// database of its own (dropped when the last clone goes).
#[derive(Clone)]
pub struct LedgerPlace {
    pub data_dir: PathBuf,
    pub database: Option<Arc<ScratchDatabase>>,
}

impl LedgerPlace {
    /// A new ledger in `data_dir`, or in a new database when the suite runs on PostgreSQL.
    pub fn new(data_dir: &Path) -> LedgerPlace {
        let database = match std::env::var("TREATFIRST_TEST_BACKEND").as_deref() {
            Ok("postgres") => Some(Arc::new(scratch_database(&database_server().expect(
                "TREATFIRST_TEST_BACKEND=postgres needs TREATFIRST_TEST_DATABASE_URL",
            )))),
            Ok("sled") | Err(_) => None,
            Ok(other) => panic!("TREATFIRST_TEST_BACKEND is sled or postgres, not {other}"),
        };
        LedgerPlace {
            data_dir: data_dir.to_owned(),
            database,
        }
    }

    /// The `treatfirst` arguments that name this ledger (`--data-dir` or `--database-url`).
    pub fn arguments(&self) -> Vec<String> {
        match &self.database {
            Some(database) => vec!["--database-url".to_owned(), database.url().to_owned()],
            None => vec!["--data-dir".to_owned(), self.data_dir.display().to_string()],
        }
    }
}

/// The PostgreSQL server for tests (`TREATFIRST_TEST_DATABASE_URL`), if one is configured.
pub fn database_server() -> Option<String> {
    std::env::var("TREATFIRST_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A new, empty database on the test server.
pub fn scratch_database(server: &str) -> ScratchDatabase {
    ScratchDatabase::create(server).expect("a scratch database on the test server")
}

/// Starts the server on `data_dir` (a new ledger) with extra environment variables.
pub fn start(data_dir: &Path, environment: &[(&str, &str)]) -> App {
    start_on(&LedgerPlace::new(data_dir), environment)
}

/// Starts the server on an existing ledger with extra environment variables.
pub fn start_on(ledger: &LedgerPlace, environment: &[(&str, &str)]) -> App {
    let data_dir = ledger.data_dir.as_path();
    let mut command = Command::new(env!("CARGO_BIN_EXE_treatfirst"));
    command
        .arg("serve")
        .env("TREATFIRST_BIND", "127.0.0.1:0")
        .env("TREATFIRST_DATA_DIR", data_dir)
        .env("TREATFIRST_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("TREATFIRST_LOG", "warn")
        .env("TREATFIRST_WORKERS", "2")
        .stderr(Stdio::inherit());
    match &ledger.database {
        Some(database) => command.env("TREATFIRST_DATABASE_URL", database.url()),
        None => command.env_remove("TREATFIRST_DATABASE_URL"),
    };
    for (name, value) in environment {
        command.env(name, value);
    }
    let (child, base_url) = listening::spawn_listening(command);
    App {
        base_url,
        ledger: ledger.clone(),
        child: Some(child),
        _temporary: None,
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build(),
    }
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request with an optional bearer token and a raw body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Option<&[u8]>,
    ) -> Reply {
        let response = request::send(
            &self.agent,
            method,
            &self.url(path),
            token,
            content_type,
            body,
        );
        Reply {
            status: response.status(),
            content_type: response.content_type().to_owned(),
            replayed: response.header("idempotent-replayed") == Some("true"),
            body: request::body_of(response),
        }
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), "", None)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        let bytes = body.to_string();
        self.send(
            "POST",
            path,
            Some(token),
            "application/json",
            Some(bytes.as_bytes()),
        )
    }

    pub fn put(&self, path: &str, token: &str, body: &Value) -> Reply {
        let bytes = body.to_string();
        self.send(
            "PUT",
            path,
            Some(token),
            "application/json",
            Some(bytes.as_bytes()),
        )
    }

    /// Issues a token for a grant (`{"role": ...}`) with the admin token.
    pub fn token(&self, grant: Value) -> String {
        let reply = self.post("/v1/tokens", ADMIN_TOKEN, &grant);
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.text("token").to_owned()
    }

    /// Kills the process with SIGKILL (no shutdown at all) and keeps the data directory.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Hands the temporary data directory over (so it outlives this server).
    pub fn take_data_dir(&mut self) -> Option<tempfile::TempDir> {
        self._temporary.take()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// The plan of DESIGN.md's worked example: level-2 outpatient, deductible 100.00 a year,
/// one band at 80 %, no cap; plus a level-3 inpatient rule with two bands and a cap.
pub fn city_plan() -> Value {
    json!({
        "currency": "CNY",
        "payment_window_hours": {"outpatient": 48, "inpatient": 48},
        "default_self_pay_ratio": "0.10",
        "msa_scope": "all",
        "rules": [
            {"member_type": "employee", "visit_kind": "outpatient", "hospital_level": 2,
             "deductible": "100.00", "deductible_period": "year",
             "bands": [{"up_to": null, "fund_ratio": "0.80"}], "annual_cap": null},
            {"member_type": "employee", "visit_kind": "inpatient", "hospital_level": 3,
             "deductible": "600.00", "deductible_period": "visit",
             "bands": [{"up_to": "30000.00", "fund_ratio": "0.85"},
                       {"up_to": null, "fund_ratio": "0.90"}],
             "annual_cap": "400000.00"}
        ]
    })
}

/// The worked example's charge: A 3 × 30.00; B 1 × 250.00 at 15 %; C 1 × 40.00.
pub fn worked_example_charge(charge_id: &str) -> Value {
    json!({"charge_id": charge_id, "items": [
        {"code": "A1", "description": "consultation", "category": "A", "quantity": "3",
         "unit_price": "30.00"},
        {"code": "B1", "description": "medicine", "category": "B", "quantity": "1",
         "unit_price": "250.00", "self_pay_ratio": "0.15"},
        {"code": "C1", "description": "outside the catalogue", "category": "C",
         "quantity": "1", "unit_price": "40.00"}
    ]})
}

/// Tokens of a scheme set up by [`setup`].
pub struct Scheme {
    pub hospital_1: String,
    pub hospital_2: String,
    pub patient_1: String,
    pub patient_2: String,
    pub finance: String,
    pub channel: String,
}

/// Plan `city`; hospitals H1 (level 2) and H2 (level 3); patients P1 (MSA 50.00, limit
/// 5000.00) and P2 (MSA 0, limit 1000.00); a token for each role.
pub fn setup(app: &App) -> Scheme {
    assert_eq!(
        app.put("/v1/plans/city", ADMIN_TOKEN, &city_plan()).status,
        200
    );
    for (hospital, level) in [("H1", 2), ("H2", 3)] {
        let reply = app.put(
            &format!("/v1/hospitals/{hospital}"),
            ADMIN_TOKEN,
            &json!({"name": format!("Hospital {hospital}"), "level": level}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    for (patient, msa, limit) in [("P1", "50.00", "5000.00"), ("P2", "0.00", "1000.00")] {
        let reply = app.post(
            "/v1/patients",
            ADMIN_TOKEN,
            &json!({"patient_id": patient, "plan_id": "city", "member_type": "employee",
                    "birth_date": "1980-05-01", "msa_balance": msa, "credit_limit": limit,
                    "external_score": 700}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    Scheme {
        hospital_1: app.token(json!({"role": "hospital", "hospital_id": "H1"})),
        hospital_2: app.token(json!({"role": "hospital", "hospital_id": "H2"})),
        patient_1: app.token(json!({"role": "patient", "patient_id": "P1"})),
        patient_2: app.token(json!({"role": "patient", "patient_id": "P2"})),
        finance: app.token(json!({"role": "finance"})),
        channel: app.token(json!({"role": "channel"})),
    }
}

/// Opens, charges (the worked example) and settles visit `visit` of P1 at H1.
pub fn settled_visit(app: &App, scheme: &Scheme, visit: &str) -> Reply {
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        &scheme.hospital_1,
        &json!({"visit_id": visit, "patient_id": "P1", "kind": "outpatient",
                "estimated_amount": "300.00"}),
    );
    assert_eq!(opened.status, 201, "{}", opened.body);
    let charged = app.post(
        &format!("/v1/hospitals/H1/visits/{visit}/charges"),
        &scheme.hospital_1,
        &worked_example_charge(&format!("{visit}-C1")),
    );
    assert_eq!(charged.status, 201, "{}", charged.body);
    let settled = app.post(
        &format!("/v1/hospitals/H1/visits/{visit}/settle"),
        &scheme.hospital_1,
        &json!({}),
    );
    assert_eq!(settled.status, 200, "{}", settled.body);
    settled
}

/// P1 pays `amount` through alipay as payment `payment_id` (posted by the channel); the
/// payment is accepted.
pub fn paid_by_alipay(app: &App, scheme: &Scheme, payment_id: &str, amount: &str) -> Reply {
    let paid = app.post(
        "/v1/payments",
        &scheme.channel,
        &json!({"payment_id": payment_id, "patient_id": "P1", "amount": amount,
                "channel": "alipay"}),
    );
    assert_eq!(paid.status, 201, "{}", paid.body);
    paid
}

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Asserts an error response: the status, `application/problem+json`, the contract code and
/// the members of RFC 9457 (`type`, `title`, `status`, `detail`).
#[track_caller]
pub fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "status of {}", reply.body);
    assert_eq!(
        reply.content_type, PROBLEM_JSON,
        "content type of {}",
        reply.body
    );
    assert_eq!(reply.code(), code, "code of {}", reply.body);
    assert_eq!(
        reply.body["status"], status,
        "status member of {}",
        reply.body
    );
    for member in ["type", "title", "detail"] {
        assert!(
            reply.body[member]
                .as_str()
                .is_some_and(|text| !text.is_empty()),
            "{member} of {}",
            reply.body
        );
    }
}

impl App {
    /// Like [`App::send`], but a transport failure (connection refused or reset) is an
    /// `Err` instead of a panic: for a server that may be killed mid-request.
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let mut request = self.agent.request(method, &self.url(path));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => return Err(error.to_string()),
        };
        let status = response.status();
        let content_type = response.content_type().to_owned();
        let replayed = response.header("idempotent-replayed") == Some("true");
        let text = response.into_string().map_err(|error| error.to_string())?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply {
            status,
            body,
            content_type,
            replayed,
        })
    }

    /// `POST` of raw bytes as `application/json`.
    pub fn post_raw(&self, path: &str, token: &str, bytes: &[u8]) -> Reply {
        self.send("POST", path, Some(token), "application/json", Some(bytes))
    }

    /// The patient view as the admin reads it.
    pub fn patient(&self, patient_id: &str) -> Value {
        let reply = self.get(&format!("/v1/patients/{patient_id}"), ADMIN_TOKEN);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// A visit as the admin reads it.
    pub fn visit(&self, hospital_id: &str, visit_id: &str) -> Value {
        let reply = self.get(
            &format!("/v1/hospitals/{hospital_id}/visits/{visit_id}"),
            ADMIN_TOKEN,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// The value of an unlabelled metric in `/metrics` (a ledger gauge).
    pub fn gauge(&self, name: &str) -> i64 {
        let reply = self.send("GET", "/metrics", None, "", None);
        assert_eq!(reply.status, 200);
        let text = reply.body.as_str().expect("metrics are text");
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in /metrics"))
            .trim()
            .parse()
            .expect("a number")
    }

    /// What the scheme holds, as far as the API shows it: both patients of [`setup`] with
    /// their visits, the plan, both hospitals and the number of journal records. Equal
    /// snapshots before and after a request mean it changed nothing.
    pub fn snapshot(&self) -> Value {
        let mut parts = serde_json::Map::new();
        for path in [
            "/v1/patients/P1",
            "/v1/patients/P2",
            "/v1/patients/P1/visits",
            "/v1/patients/P2/visits",
            "/v1/patients/P1/statement",
            "/v1/patients/P2/statement",
            "/v1/plans/city",
            "/v1/hospitals/H1",
            "/v1/hospitals/H2",
        ] {
            let reply = self.get(path, ADMIN_TOKEN);
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
            parts.insert(path.to_owned(), reply.body);
        }
        parts.insert(
            "journal_records".to_owned(),
            self.gauge("treatfirst_ledger_records").into(),
        );
        Value::Object(parts)
    }

    /// The process id of the server.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

/// Enrolls `patient` in plan `city` as an employee born 1980-05-01.
pub fn enroll(app: &App, patient: &str, msa: &str, limit: &str) -> Reply {
    let reply = app.post(
        "/v1/patients",
        ADMIN_TOKEN,
        &json!({"patient_id": patient, "plan_id": "city", "member_type": "employee",
                "birth_date": "1980-05-01", "msa_balance": msa, "credit_limit": limit}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply
}

/// The body of an outpatient check-in.
pub fn visit_body(visit: &str, patient: &str, estimate: &str) -> Value {
    json!({"visit_id": visit, "patient_id": patient, "kind": "outpatient",
           "estimated_amount": estimate})
}

/// A charge of one line: `category` 1 × `price`.
pub fn one_line_charge(charge_id: &str, category: &str, price: &str) -> Value {
    json!({"charge_id": charge_id, "items": [
        {"code": "X1", "description": "one line", "category": category, "quantity": "1",
         "unit_price": price}
    ]})
}

/// Opens visit `visit` of `patient` at H1, posts `charges` and settles it.
pub fn settle_at_h1(
    app: &App,
    hospital_token: &str,
    visit: &str,
    patient: &str,
    charges: &[Value],
) -> Reply {
    let opened = app.post(
        "/v1/hospitals/H1/visits",
        hospital_token,
        &visit_body(visit, patient, "100.00"),
    );
    assert_eq!(opened.status, 201, "{}", opened.body);
    for charge in charges {
        let charged = app.post(
            &format!("/v1/hospitals/H1/visits/{visit}/charges"),
            hospital_token,
            charge,
        );
        assert_eq!(charged.status, 201, "{}", charged.body);
    }
    let settled = app.post(
        &format!("/v1/hospitals/H1/visits/{visit}/settle"),
        hospital_token,
        &json!({}),
    );
    assert_eq!(settled.status, 200, "{}", settled.body);
    settled
}

/// Runs `treatfirst verify --data-dir DIR` and returns whether it passed, with its output.
pub fn verify(ledger: &LedgerPlace) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_treatfirst"))
        .arg("verify")
        .args(ledger.arguments())
        .env_remove("TREATFIRST_DATA_DIR")
        .env_remove("TREATFIRST_DATABASE_URL")
        .output()
        .expect("treatfirst verify runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Asserts that `actual` has every member of `expected` with the same value (the contract
/// may be extended with new members, never changed).
#[track_caller]
pub fn assert_fields(actual: &Value, expected: &Value) {
    let members = expected.as_object().expect("expected members");
    for (name, value) in members {
        assert_eq!(&actual[name], value, "{name} in {actual}");
    }
}
