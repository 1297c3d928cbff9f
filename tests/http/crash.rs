//! Durability: payments posted concurrently, the server killed with SIGKILL mid-stream,
//! restarted on the same directory. Every acknowledged payment is there (its replay is a
//! replay and changes nothing), the balances match exactly the payments the ledger holds,
//! issued tokens still work, and `treatfirst verify` passes on the directory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::support::*;

const PATIENTS: usize = 24;
const THREADS: usize = 4;
const OWED_FEN: i64 = 50_000;

fn patient(index: usize) -> String {
    format!("Q{index}")
}

fn fen(value: &Value) -> i64 {
    value.as_str().unwrap().replace('.', "").parse().unwrap()
}

#[test]
fn acknowledged_payments_survive_a_kill_and_the_journal_verifies() {
    let mut app = spawn_app();
    let scheme = setup(&app);
    for index in 0..PATIENTS {
        enroll(&app, &patient(index), "0.00", "5000.00");
        let settled = settle_at_h1(
            &app,
            &scheme.hospital_1,
            &format!("V{index}"),
            &patient(index),
            &[one_line_charge("C1", "C", "500.00")],
        );
        assert_eq!(settled.text("financed"), "500.00");
    }

    // Threads pay 1.00 at a time, each for its own patients, until the server dies.
    let attempted: Mutex<Vec<(String, String, Value)>> = Mutex::new(Vec::new());
    let acknowledged: Mutex<Vec<(Value, Reply)>> = Mutex::new(Vec::new());
    let count = AtomicUsize::new(0);
    let kill_after = 120;
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (app, scheme) = (&app, &scheme);
            let (attempted, acknowledged, count) = (&attempted, &acknowledged, &count);
            scope.spawn(move || {
                for round in 0..2_000 {
                    let who = patient(thread + THREADS * (round % (PATIENTS / THREADS)));
                    let id = format!("T{thread}-{round}");
                    let body = json!({"payment_id": id, "patient_id": who, "amount": "1.00",
                                      "channel": "citizen_card"});
                    attempted.lock().unwrap().push((id, who, body.clone()));
                    match app.try_send("POST", "/v1/payments", Some(&scheme.channel), Some(&body)) {
                        Ok(reply) => {
                            assert_eq!(reply.status, 201, "{}", reply.body);
                            acknowledged.lock().unwrap().push((body, reply));
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => return,
                    }
                }
            });
        }
        while count.load(Ordering::SeqCst) < kill_after {
            std::thread::yield_now();
        }
        // SIGKILL while the threads keep posting (they stop at the first refused connection).
        let pid = app.pid().expect("running").to_string();
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
    });
    app.kill_hard(); // reaps the process
    let directory = app.take_data_dir().expect("the temporary directory");
    let ledger = app.ledger.clone();
    drop(app);
    let attempted = attempted.into_inner().unwrap();
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(acknowledged.len() >= kill_after);

    // The directory as the crash left it verifies.
    let (passed, output) = verify(&ledger);
    assert!(passed, "verify after the crash: {output}");

    let mut app = start_on(&ledger, &[]);
    // What the ledger holds: every attempted payment is there or not, none half.
    let mut paid_fen: HashMap<String, i64> = HashMap::new();
    let mut present = 0;
    for (id, who, _) in &attempted {
        let record = app.get(&format!("/v1/payments/{id}"), &scheme.channel);
        match record.status {
            200 => {
                present += 1;
                assert_eq!(record.body["request"]["patient_id"], who.as_str());
                *paid_fen.entry(who.clone()).or_default() += fen(&record.body["request"]["amount"]);
            }
            404 => {}
            other => panic!("GET payment {id}: {other} {}", record.body),
        }
    }
    assert!(present >= acknowledged.len());
    let balances = |app: &App| -> Vec<Value> {
        (0..PATIENTS)
            .map(|index| app.patient(&patient(index)))
            .collect()
    };
    let before_replays = balances(&app);
    for (index, view) in before_replays.iter().enumerate() {
        let paid = paid_fen.get(&patient(index)).copied().unwrap_or(0);
        assert_eq!(fen(&view["outstanding"]), OWED_FEN - paid, "{view}");
        assert_eq!(
            fen(&view["available_credit"]),
            500_000 - OWED_FEN + paid,
            "{view}"
        );
    }
    // Every acknowledged payment replays: same status and body, nothing applied again.
    for (body, reply) in &acknowledged {
        let again = app.post("/v1/payments", &scheme.channel, body);
        assert_eq!(again.status, 201, "{}", again.body);
        assert!(
            again.replayed,
            "{body} was acknowledged but is not in the ledger"
        );
        assert_eq!(again.body, reply.body);
    }
    assert_eq!(balances(&app), before_replays);
    // The server takes writes again.
    let paid = app.post(
        "/v1/payments",
        &scheme.channel,
        &json!({"payment_id": "AFTER", "patient_id": "Q0", "amount": "1.00",
                "channel": "citizen_card"}),
    );
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert!(!paid.replayed);

    assert!(app.terminate(), "a clean shutdown");
    let (passed, output) = verify(&ledger);
    assert!(passed, "verify after the restart: {output}");
    drop(directory);
}
